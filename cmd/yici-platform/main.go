// Command yici-platform is the central platform that every kiosk and desk
// syncs to: blobs by SHA-256, case manifests, enrolled terminals.
//
//	yici-platform serve  --data DIR [--addr :8443]
//	yici-platform enrol  --data DIR --hall H --name N   (prints the token)
//	yici-platform revoke --data DIR --name N
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"yici/sync/platform"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	data := fs.String("data", "yici-platform-data", "directory of the platform's database and blobs")
	addr := fs.String("addr", "127.0.0.1:8443", "address to listen on (serve)")
	hall := fs.String("hall", "", "hall code of the terminal (enrol)")
	name := fs.String("name", "", "terminal name, unique across the city (enrol, revoke)")
	fs.Parse(args)

	st, err := platform.OpenBolt(*data)
	if err != nil {
		log.Fatalf("yici-platform: %v", err)
	}
	defer st.Close()
	srv := platform.New(st, platform.Options{})

	switch cmd {
	case "serve":
		err = serve(srv, *addr)
	case "enrol":
		if *hall == "" || *name == "" {
			log.Fatal("yici-platform enrol: --hall and --name are required")
		}
		var tok string
		if tok, err = srv.Enrol(*hall, *name); err == nil {
			fmt.Println(tok)
			fmt.Fprintf(os.Stderr, "terminal %s of hall %s enrolled; give it the token above (shown once)\n", *name, *hall)
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

func serve(h http.Handler, addr string) error {
	hs := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	log.Printf("yici-platform: listening on %s", addr)
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: yici-platform serve|enrol|revoke --data DIR [--addr A] [--hall H --name N]")
	os.Exit(2)
}
