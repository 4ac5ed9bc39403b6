// Command yici-platform is the central platform that every kiosk and desk
// syncs to: blobs by SHA-256, case manifests, enrolled terminals.
//
//	yici-platform serve   --data DIR [--addr :8443] [--licences FILE] [--tls-cert C --tls-key K | --insecure-http]
//	yici-platform enrol   --data DIR --hall H --name N   (prints the token)
//	yici-platform revoke  --data DIR --name N
//	yici-platform catalog publish --data DIR FILE        (a catalogue revision; "publish" alone too)
//
// TLS is on by default: without --tls-cert the platform makes a self-signed
// certificate in DIR/tls on its first start; terminals pin that file.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"yici/sync/catalog"
	"yici/sync/platform"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	switch cmd {
	case "-h", "-help", "--help", "help":
		fmt.Println(usageLine)
		return
	case "catalog": // docs/sync-protocol.md §9: yici-platform catalog publish FILE
		if len(args) == 0 || args[0] != "publish" {
			usage()
		}
		cmd, args = "publish", args[1:]
	case "serve", "enrol", "revoke", "publish":
	default:
		usage() // before anything is opened: a wrong call makes no data directory
	}
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	data := fs.String("data", "yici-platform-data", "directory of the platform's database and blobs")
	addr := fs.String("addr", "127.0.0.1:8443", "address to listen on (serve)")
	hall := fs.String("hall", "", "hall code of the terminal (enrol)")
	name := fs.String("name", "", "terminal name, unique across the city (enrol, revoke)")
	licences := fs.String("licences", "", "JSON file of electronic licences to load into the vault (serve)")
	cert := fs.String("tls-cert", "", "PEM certificate; default: a self-signed one made in DIR/tls")
	key := fs.String("tls-key", "", "PEM key of --tls-cert")
	insecure := fs.Bool("insecure-http", false, "serve plain HTTP (only behind a TLS proxy)")
	fs.Parse(args)
	if cmd == "publish" && fs.NArg() != 1 {
		log.Fatal("yici-platform catalog publish: name one catalogue file: yici-platform catalog publish --data DIR FILE")
	}
	if cmd == "enrol" && (*hall == "" || *name == "") {
		log.Fatal("yici-platform enrol: --hall and --name are required")
	}

	st, err := platform.OpenBolt(*data)
	if err != nil {
		log.Fatalf("yici-platform: %v", err)
	}
	defer st.Close()
	srv := platform.New(st, platform.Options{})

	switch cmd {
	case "serve":
		if *licences != "" {
			var n int
			if n, err = srv.LoadLicences(*licences); err != nil {
				break
			}
			log.Printf("yici-platform: %d licences loaded into the vault", n)
		}
		var cfg *tls.Config
		if !*insecure {
			var info platform.TLSInfo
			if cfg, info, err = platform.LoadTLS(platform.TLSOptions{Dir: *data, CertFile: *cert, KeyFile: *key}); err != nil {
				break
			}
			log.Printf("yici-platform: TLS certificate %s (SHA-256 %s, generated now: %v); terminals pin this file", info.CertFile, info.Fingerprint, info.Generated)
			if info.Note != "" {
				log.Printf("yici-platform: warning: %s", info.Note)
			}
		}
		err = serve(srv, *addr, cfg)
	case "publish":
		var doc []byte
		if doc, err = os.ReadFile(fs.Arg(0)); err != nil {
			break
		}
		// Terminals refuse a catalogue with problems, so the platform must
		// never serve one.
		if _, err = catalog.Parse(doc); err != nil {
			break
		}
		var rev int
		var stored bool
		if rev, stored, err = srv.PublishCatalog(doc); err == nil {
			fmt.Fprintf(os.Stderr, "catalogue revision %d published (new: %v)\n", rev, stored)
		}
	case "enrol":
		// The certificate serve would make on its first start is made now
		// if need be, so the file named below exists to be handed over.
		var info platform.TLSInfo
		if _, info, err = platform.LoadTLS(platform.TLSOptions{Dir: *data}); err != nil {
			break
		}
		var tok string
		if tok, err = srv.Enrol(*hall, *name); err == nil {
			fmt.Println(tok)
			fmt.Fprintf(os.Stderr, "terminal %s of hall %s enrolled; give it the token above (shown once) and %s to pin (SHA-256 %s),\n"+
				"unless the platform serves a CA-issued certificate (serve --tls-cert): then the terminal needs no pin\n",
				*name, *hall, info.CertFile, info.Fingerprint)
		}
	case "revoke":
		if err = srv.Revoke(*name); err == nil {
			fmt.Fprintf(os.Stderr, "terminal %s revoked: its requests are refused from now on\n", *name)
		}
	default:
		usage()
	}
	if err != nil {
		log.Fatalf("yici-platform %s: %v", cmd, err)
	}
}

func serve(h http.Handler, addr string, cfg *tls.Config) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	scheme := "https"
	if cfg == nil {
		scheme = "http"
	}
	log.Printf("yici-platform: listening on %s://%s", scheme, ln.Addr())
	return platform.Serve(ctx, ln, h, cfg)
}

const usageLine = "usage: yici-platform serve|enrol|revoke|catalog publish --data DIR [flags]   (yici-platform CMD -h for flags)"

func usage() {
	fmt.Fprintln(os.Stderr, usageLine)
	os.Exit(2)
}
