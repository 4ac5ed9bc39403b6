package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"yici/sync/store"
)

// storeMain is "yici store", the kiosk's local store for hall IT:
//
//	yici store status   what waits to be sent and since when, sizes, free space
//	yici store log      the store's log of what happened to cases (ids only)
//	yici store compact  shrink the store file; stop the kiosk first
func storeMain(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: yici store status|log|compact [--data DIR]")
	}
	fset := flag.NewFlagSet("store "+args[0], flag.ExitOnError)
	data := fset.String("data", "/var/lib/yici", "the kiosk's data directory (yici terminal --data)")
	n := fset.Int("n", 50, "log: how many of the latest entries")
	fset.Parse(args[1:])
	dbPath, keyPath := filepath.Join(*data, "kiosk.db"), filepath.Join(*data, "kiosk.key")
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no store in %s (is --data the kiosk's data directory?)", *data)
	}
	switch args[0] {
	case "compact":
		key, err := os.ReadFile(keyPath)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		before, after, err := store.CompactFile(dbPath, key)
		if err != nil {
			return fmt.Errorf("%w (if the kiosk is running, stop it first)", err)
		}
		fmt.Fprintf(out, "%s: %s → %s\n", dbPath, size(before), size(after))
		return nil
	case "status", "log":
	default:
		return fmt.Errorf("unknown store command %q: want status, log or compact", args[0])
	}
	st, err := store.OpenWithKeyFile(dbPath, keyPath)
	if err != nil {
		return fmt.Errorf("%w (if the kiosk is running, stop it first)", err)
	}
	defer st.Close()
	if args[0] == "log" {
		return printLog(out, st, *n)
	}
	s, err := st.Stats()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "cases: %d waiting to be sent, %d drafts, %d sent (kept for retention), %d refused by the platform\n",
		s.Cases[store.StatePending], s.Cases[store.StateDraft], s.Cases[store.StateSent], s.Cases[store.StateFailed])
	if !s.Oldest.IsZero() {
		fmt.Fprintf(out, "oldest waiting since %s (%s ago)\n", s.Oldest.Format("2006-01-02 15:04"), time.Since(s.Oldest).Round(time.Minute))
	}
	fmt.Fprintf(out, "events waiting: %d\n", s.Events)
	fmt.Fprintf(out, "pages held: %d, %s in %d pack files\n", s.Blobs, size(s.BlobBytes), s.Packs)
	fmt.Fprintf(out, "store file: %s; free on disk: %s\n", size(s.FileBytes), size(int64(s.FreeBytes)))
	return nil
}

func printLog(out io.Writer, st *store.Store, n int) error {
	var all []store.Event
	for after := uint64(0); ; {
		evs, err := st.Events(after, 1000)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		all = append(all, evs...)
		after = evs[len(evs)-1].Seq
	}
	for _, e := range all[max(0, len(all)-n):] {
		fmt.Fprintf(out, "%s  %-9s %s  %s\n", e.Time.Format("2006-01-02 15:04:05"), e.Kind, e.Case, e.Detail)
	}
	return nil
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
