// Command yici-catalog runs the catalogue commands on their own, until
// cmd/yici wires `yici catalog …` to the same function:
//
//	go run ./sync/catalog/cli/yici-catalog check assets/catalog
//	go run ./sync/catalog/cli/yici-catalog search jhdj
package main

import (
	"os"

	catalogcli "yici/sync/catalog/cli"
)

func main() { os.Exit(catalogcli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
