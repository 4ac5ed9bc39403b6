package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"yici/sync/store"
	"yici/sync/wire"
)

// Hall IT's view of a kiosk store: what waits, the log, and a compaction
// that shrinks the file and keeps every waiting page.
func TestStoreCommand(t *testing.T) {
	dir := t.TempDir()
	st, err := store.OpenWithKeyFile(filepath.Join(dir, "kiosk.db"), filepath.Join(dir, "kiosk.key"))
	if err != nil {
		t.Fatal(err)
	}
	// A large catalogue revision replaced by a small one leaves the file
	// grown, as years of revisions do.
	for i, pad := range []int{4 << 20, 10} {
		doc := fmt.Sprintf(`{"revision": %d, "pad": %q}`, i+1, strings.Repeat("x", pad))
		if _, err := st.PutCatalog([]byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	page := bytes.Repeat([]byte("scanned page "), 2000)
	for i := range 6 {
		id := fmt.Sprintf("case-%02d", i)
		m := wire.Manifest{ID: id, Items: []string{"370100-001"}, Applicant: wire.Applicant{Name: "张三", IDNumber: "21020219880504123X"}}
		if err := st.SaveCase(m); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Capture(id, wire.MaterialRef{Code: "M1"}, append(page, byte(i))); err != nil {
			t.Fatal(err)
		}
		if err := st.Submit(id); err != nil {
			t.Fatal(err)
		}
		if i >= 2 { // all but two are sent
			if err := st.Ack(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := st.Purge(time.Now().Add(30 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	st.Close()

	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := storeMain(append(args, "--data", dir), &out); err != nil {
			t.Fatalf("yici store %s: %v", strings.Join(args, " "), err)
		}
		return out.String()
	}
	status := run("status")
	for _, want := range []string{"cases: 2 waiting to be sent, 0 drafts, 0 sent", "oldest waiting since", "pages held: 2,"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	if log := run("log", "-n", "3"); strings.Count(log, "\n") != 3 || !strings.Contains(log, "purged") {
		t.Errorf("log -n 3:\n%s", log)
	}
	out := run("compact")
	m := regexp.MustCompile(`: ([\d.]+ \w+) → ([\d.]+ \w+)`).FindStringSubmatch(out)
	if m == nil || m[1] == m[2] {
		t.Errorf("compact said %q, want the size before and a smaller one after", out)
	}
	if after := run("status"); !strings.Contains(after, "pages held: 2,") {
		t.Errorf("status after compaction:\n%s", after)
	}
	st, err = store.OpenWithKeyFile(filepath.Join(dir, "kiosk.db"), filepath.Join(dir, "kiosk.key"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 2 {
		h := sha256.Sum256(append(page, byte(i)))
		if b, err := st.Blob(hex.EncodeToString(h[:])); err != nil || !bytes.Equal(b, append(page, byte(i))) {
			t.Errorf("page %d after compaction: %v", i, err)
		}
	}
}
