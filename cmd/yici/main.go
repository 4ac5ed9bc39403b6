// Command yici is the hall appliance:
//
//	yici terminal   the self-service kiosk, on real or simulated devices
//	yici desk       the comprehensive window's clerk
//	yici display    the hall's call display (叫号屏)
//	yici demo       a whole hall on one machine: platform, simulated devices,
//	                kiosk, desk and a device panel
//	yici catalog    check, search and resolve a service-item catalogue
//	yici probe      find and test the hall's devices (for hall IT staff)
//	yici store      the kiosk's local store: status, log, compact (hall IT)
//
// Run "yici CMD -h" for each command's flags.
package main

import (
	"fmt"
	"os"

	catalogcli "yici/sync/catalog/cli"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "terminal":
		err = terminalMain(os.Args[2:])
	case "desk":
		err = deskMain(os.Args[2:])
	case "display":
		err = displayMain(os.Args[2:])
	case "demo":
		err = demoMain(os.Args[2:])
	case "probe":
		os.Exit(probeMain(os.Args[2:]))
	case "store":
		err = storeMain(os.Args[2:], os.Stdout)
	case "catalog":
		os.Exit(catalogcli.Main(os.Args[2:], os.Stdout, os.Stderr))
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "yici %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: yici terminal|desk|display|demo|catalog|probe|store [flags]   (yici CMD -h for flags)")
	os.Exit(2)
}
