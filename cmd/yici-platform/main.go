// Command yici-platform is the central platform that every kiosk, desk and
// call display syncs to: blobs by SHA-256, case manifests, events, the
// vault, enrolled terminals, clerks and the audit log.
//
//	yici-platform serve     --data DIR [--addr :8443] [--licences FILE] [--tls-cert C --tls-key K | --insecure-http] [--tls13-only]
//	yici-platform enrol     --data DIR --role kiosk|desk|display --hall H --name N   (prints the token)
//	yici-platform revoke    --data DIR --name N
//	yici-platform role      --data DIR --name N --role R    (a terminal enrolled before roles)
//	yici-platform rotate    --data DIR --name N             (prints a new token; the old one works 10 more minutes)
//	yici-platform terminals --data DIR
//	yici-platform clerk add|disable|pin --data DIR --id STAFFNO [--hall H --name NAME]   (the PIN is read from stdin)
//	yici-platform audit list|verify --data DIR [--since T --until T --terminal N --clerk ID --object O]
//	yici-platform catalog publish --data DIR FILE           (a catalogue revision; "publish" alone too)
//	yici-platform appcode issue --data DIR --name NAME --id IDNUMBER [--ttl 5m]   (prints an app code, for tests and the demo)
//
// The administration commands work while the platform serves: they reach it
// through DIR/admin.sock and the change holds from the next request. When no
// platform serves DIR they open its storage themselves.
//
// TLS is on by default: without --tls-cert the platform makes a self-signed
// certificate in DIR/tls on its first start (or at the first enrol);
// terminals pin that file.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"yici/sync/appcode"
	"yici/sync/catalog"
	"yici/sync/platform"
	"yici/sync/platform/audit"
)

var commands = map[string]bool{"serve": true, "enrol": true, "revoke": true, "role": true, "rotate": true,
	"terminals": true, "clerk": true, "audit": true, "publish": true, "appcode": true}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	sub := ""
	switch cmd {
	case "-h", "-help", "--help", "help":
		fmt.Println(usageText)
		return
	case "catalog": // docs/sync-protocol.md §9: yici-platform catalog publish FILE
		if len(args) == 0 || args[0] != "publish" {
			usage()
		}
		cmd, args = "publish", args[1:]
	case "clerk", "audit", "appcode":
		if len(args) == 0 {
			usage()
		}
		sub, args = args[0], args[1:]
		if cmd == "clerk" && sub != "add" && sub != "disable" && sub != "pin" || cmd == "audit" && sub != "list" && sub != "verify" ||
			cmd == "appcode" && sub != "issue" {
			usage()
		}
	}
	if !commands[cmd] {
		usage() // before anything is opened: a wrong call makes no data directory
	}
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	data := fs.String("data", "yici-platform-data", "directory of the platform's database, blobs, key and audit log")
	addr := fs.String("addr", "127.0.0.1:8443", "address to listen on (serve)")
	role := fs.String("role", "", "kiosk, desk or display (enrol, role)")
	hall := fs.String("hall", "", "hall of the terminal or clerk (enrol, clerk add)")
	name := fs.String("name", "", "terminal name, unique across the city (enrol, revoke, role, rotate); the clerk's name (clerk add); the person's name (appcode issue)")
	id := fs.String("id", "", "the clerk's staff number (clerk); the person's resident ID number (appcode issue)")
	ttl := fs.Duration("ttl", 0, "how long the app code is valid (appcode issue); default 5m, at most 10m")
	licences := fs.String("licences", "", "JSON file of electronic licences to load into the vault (serve)")
	cert := fs.String("tls-cert", "", "PEM certificate; default: a self-signed one made in DIR/tls")
	key := fs.String("tls-key", "", "PEM key of --tls-cert")
	tls13 := fs.Bool("tls13-only", false, "refuse TLS 1.2 (serve)")
	insecure := fs.Bool("insecure-http", false, "serve plain HTTP (only behind a TLS proxy)")
	since := fs.String("since", "", "audit list: records at or after this time (RFC 3339 or YYYY-MM-DD)")
	until := fs.String("until", "", "audit list: records before this time")
	term := fs.String("terminal", "", "audit list: records of this terminal")
	clerk := fs.String("clerk", "", "audit list: records of this clerk")
	object := fs.String("object", "", "audit list: records of this object (a case id, …)")
	fs.Parse(args)

	var err error
	switch cmd {
	case "serve":
		err = serveMain(*data, *addr, *licences, platform.TLSOptions{Dir: *data, CertFile: *cert, KeyFile: *key, TLS13Only: *tls13}, *insecure)
	case "publish":
		if fs.NArg() != 1 {
			log.Fatal("yici-platform catalog publish: name one catalogue file: yici-platform catalog publish --data DIR FILE")
		}
		err = publish(*data, fs.Arg(0))
	case "audit":
		f := audit.Filter{Terminal: *term, Clerk: *clerk, Object: *object}
		if f.Since, err = parseTime(*since); err == nil {
			f.Until, err = parseTime(*until)
		}
		if err == nil {
			err = auditMain(*data, sub, f)
		}
	default:
		err = adminMain(*data, cmd, sub, *role, *hall, *name, *id, *ttl)
	}
	if err != nil {
		log.Fatalf("yici-platform %s: %v", strings.TrimSpace(cmd+" "+sub), err)
	}
}

// adminMain runs an administration command through the serving platform's
// socket, or on the storage itself when none serves dir.
func adminMain(dir, cmd, sub, role, hall, name, id string, ttl time.Duration) error {
	switch {
	case cmd == "enrol" && (role == "" || hall == "" || name == ""):
		return errors.New("--role, --hall and --name are required")
	case (cmd == "revoke" || cmd == "rotate") && name == "", cmd == "role" && (name == "" || role == ""):
		return errors.New("--name (and for role, --role) is required")
	case cmd == "clerk" && id == "", cmd == "clerk" && sub == "add" && (hall == "" || name == ""):
		return errors.New("--id (and for add, --hall and --name) is required")
	case cmd == "appcode" && (name == "" || id == ""):
		return errors.New("--name and --id (the person's resident ID number) are required")
	}
	var pin string
	if cmd == "clerk" && sub != "disable" {
		var err error
		if pin, err = readPIN(id); err != nil {
			return err
		}
	}
	var info platform.TLSInfo
	if cmd == "enrol" {
		// The certificate serve would make on its first start is made now
		// if need be, so the file named below exists to be handed over.
		var err error
		if _, info, err = platform.LoadTLS(platform.TLSOptions{Dir: dir}); err != nil {
			return err
		}
	}
	a, done, err := admin(dir, cmd == "enrol")
	if err != nil {
		return err
	}
	defer done()
	switch cmd {
	case "enrol":
		tok, err := a.Enrol(platform.Role(role), hall, name)
		if err != nil {
			return err
		}
		fmt.Println(tok)
		fmt.Fprintf(os.Stderr, "%s %s of hall %s enrolled; give it the token above (shown once) and %s to pin (SHA-256 %s),\n"+
			"unless the platform serves a CA-issued certificate (serve --tls-cert): then the terminal needs no pin\n",
			role, name, hall, info.CertFile, info.Fingerprint)
	case "revoke":
		if err := a.Revoke(name); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "terminal %s revoked: its requests are refused from the next one on, and what it had staged is dropped\n", name)
	case "role":
		if err := a.SetRole(name, platform.Role(role)); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "terminal %s is a %s; its token expires in 90 days unless it renews it\n", name, role)
	case "rotate":
		tok, exp, err := a.RotateToken(name)
		if err != nil {
			return err
		}
		fmt.Println(tok)
		fmt.Fprintf(os.Stderr, "new token of %s above (shown once), valid until %s; the old one is refused in 10 minutes\n", name, exp.Format(time.RFC3339))
	case "terminals":
		ts, err := a.Terminals()
		if err != nil {
			return err
		}
		for _, t := range ts {
			state := "expires " + t.ExpiresAt.Format("2006-01-02")
			if t.Revoked {
				state = "revoked"
			} else if t.Role == "" {
				state = "no role: refused until given one (yici-platform role)"
			}
			fmt.Printf("%-16s %-8s %-24s %s\n", t.Name, t.Role, t.Hall, state)
		}
	case "clerk":
		switch sub {
		case "add":
			err = a.AddClerk(hall, id, name, pin)
		case "disable":
			err = a.DisableClerk(id)
		case "pin":
			err = a.SetClerkPIN(id, pin)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "clerk %s: %s done\n", id, sub)
	case "appcode":
		code, err := a.IssueAppCode(name, id, ttl)
		if err != nil {
			return err
		}
		fmt.Println(code)
		if ttl == 0 {
			ttl = appcode.DefaultTTL
		}
		fmt.Fprintf(os.Stderr, "app code above, valid for %v, once per kiosk; show it as a QR code or scan it with the simulator\n", ttl)
	}
	return nil
}

// admin returns the serving platform's administration, or the storage's
// own when none serves dir. create: the data directory may be new.
func admin(dir string, create bool) (platform.Admin, func(), error) {
	if c, err := platform.DialAdmin(dir); err == nil {
		return c, func() {}, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "platform.db")); err != nil && !create {
		return nil, nil, fmt.Errorf("no platform data in %s (--data): %w", dir, err)
	}
	st, err := platform.OpenBolt(dir)
	if err != nil {
		return nil, nil, err
	}
	return platform.New(st, platform.Options{}), func() { st.Close() }, nil
}

// readPIN reads a clerk's PIN from the first line of stdin, so it is never
// on a command line (where ps shows it).
func readPIN(id string) (string, error) {
	fmt.Fprintf(os.Stderr, "PIN of clerk %s (6 to 12 digits), then Enter: ", id)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read PIN: %w", err)
	}
	fmt.Fprintln(os.Stderr)
	return strings.TrimSpace(line), nil
}

func serveMain(dir, addr, licences string, to platform.TLSOptions, insecure bool) error {
	st, err := platform.OpenBolt(dir)
	if err != nil {
		return err
	}
	defer st.Close()
	sealer, err := platform.AuditSealer(dir)
	if err != nil {
		return err
	}
	alog, err := audit.Open(filepath.Join(dir, "audit.log"), sealer)
	if err != nil {
		return err
	}
	defer alog.Close()
	if n := alog.TornBytes(); n > 0 {
		log.Printf("yici-platform: the audit log's last record was cut off by a crash (%d bytes removed)", n)
	}
	srv := platform.New(st, platform.Options{Audit: alog})
	if licences != "" {
		n, err := srv.LoadLicences(licences)
		if err != nil {
			return err
		}
		log.Printf("yici-platform: %d licences loaded into the vault", n)
	}
	var cfg *tls.Config
	if !insecure {
		var info platform.TLSInfo
		if cfg, info, err = platform.LoadTLS(to); err != nil {
			return err
		}
		log.Printf("yici-platform: TLS certificate %s (SHA-256 %s, generated now: %v); terminals pin this file", info.CertFile, info.Fingerprint, info.Generated)
		if info.Note != "" {
			log.Printf("yici-platform: warning: %s", info.Note)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	adminErr := make(chan error, 1)
	go func() { adminErr <- platform.ServeAdmin(ctx, dir, srv, log.Printf) }()
	scheme := "https"
	if cfg == nil {
		scheme = "http"
	}
	log.Printf("yici-platform: listening on %s://%s; administration on %s", scheme, ln.Addr(), filepath.Join(dir, platform.AdminSocket))
	errc := make(chan error, 1)
	go func() { errc <- platform.Serve(ctx, ln, srv, cfg) }()
	select {
	case err = <-adminErr:
		if err != nil {
			stop()
			<-errc
			return err
		}
		return <-errc
	case err = <-errc:
		stop()
		<-adminErr
		return err
	}
}

func publish(dir, file string) error {
	doc, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	// Terminals refuse a catalogue with problems, so the platform must
	// never serve one.
	if _, err := catalog.Parse(doc); err != nil {
		return err
	}
	st, err := platform.OpenBolt(dir)
	if err != nil {
		return err
	}
	defer st.Close()
	rev, stored, err := platform.New(st, platform.Options{}).PublishCatalog(doc)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "catalogue revision %d published (new: %v)\n", rev, stored)
	return nil
}

// auditMain lists or verifies the audit log. It reads the file alone (with
// the key derived from platform.key), so it works while the platform
// serves.
func auditMain(dir, sub string, f audit.Filter) error {
	sealer, err := platform.AuditSealer(dir)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "audit.log")
	if sub == "verify" {
		n, err := audit.Verify(path, sealer)
		if err != nil {
			return fmt.Errorf("%d records verified, then: %w", n, err)
		}
		fmt.Printf("%s: %d records verified, chain and head intact\n", path, n)
		return nil
	}
	enc := json.NewEncoder(os.Stdout)
	return audit.List(path, sealer, f, func(r audit.Record) error { return enc.Encode(r) })
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, time.Local)
	if err != nil {
		return t, fmt.Errorf("time %q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return t, nil
}

const usageText = `usage: yici-platform serve|enrol|revoke|role|rotate|terminals|clerk add|disable|pin|audit list|verify|catalog publish|appcode issue --data DIR [flags]
(yici-platform CMD -h for flags)`

func usage() {
	fmt.Fprintln(os.Stderr, usageText)
	os.Exit(2)
}
