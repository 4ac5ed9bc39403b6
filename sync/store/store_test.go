package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"go.etcd.io/bbolt"
	"golang.org/x/text/encoding/simplifiedchinese"

	"yici/sync/wire"
)

// Invented applicant: no such person.
const (
	testName = "张三"
	testID   = "21020219880504123X"
)

func openTemp(t testing.TB) (*Store, string, []byte) {
	t.Helper()
	dir := t.TempDir()
	key, err := LoadOrCreateKey(filepath.Join(dir, "store.key"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "store.db")
	s, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path, key
}

func draft(id string) wire.Manifest {
	return wire.Manifest{
		ID: id, CatalogRevision: 7, Items: []string{"370100-001"},
		Applicant: wire.Applicant{Name: testName, IDNumber: testID},
		Materials: []wire.MaterialRef{{Code: "M9", Name: "户口本", Exempt: true}},
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestCaptureSubmitAck(t *testing.T) {
	s, _, _ := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	page := []byte("page one of the business licence")
	h, err := s.Capture("c1", wire.MaterialRef{Code: "M1", Name: "营业执照", ContentType: "image/png"}, page)
	if err != nil {
		t.Fatal(err)
	}
	if h != sum(page) {
		t.Fatalf("Capture returned %s, want %s", h, sum(page))
	}
	steps := []struct {
		name    string
		do      func() error
		state   State
		pending int
		blob    bool
	}{
		{"captured", func() error { return nil }, StateDraft, 0, true},
		{"submitted", func() error { return s.Submit("c1") }, StatePending, 1, true},
		{"submitted twice", func() error { return s.Submit("c1") }, StatePending, 1, true},
		{"acked", func() error { return s.Ack("c1") }, StateSent, 0, false},
		{"acked twice", func() error { return s.Ack("c1") }, StateSent, 0, false},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got, err := s.CaseState("c1"); err != nil || got != st.state {
			t.Errorf("%s: state %q, %v; want %q", st.name, got, err, st.state)
		}
		if n, _, err := s.Pending(); err != nil || n != st.pending {
			t.Errorf("%s: Pending %d, %v; want %d", st.name, n, err, st.pending)
		}
		if _, err := s.Blob(h); (err == nil) != st.blob {
			t.Errorf("%s: Blob err %v; want held=%v", st.name, err, st.blob)
		}
	}
	m, err := s.Case("c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Materials) != 2 || !m.Materials[0].Exempt || m.Materials[1].SHA256 != h || m.Materials[1].Size != int64(len(page)) {
		t.Errorf("materials = %+v", m.Materials)
	}
	// Retention: kept for 7 days after sending, then purged.
	for _, c := range []struct {
		after time.Duration
		want  int
	}{{6 * 24 * time.Hour, 0}, {7*24*time.Hour + time.Second, 1}} {
		if n, err := s.Purge(time.Now().Add(c.after)); err != nil || n != c.want {
			t.Errorf("Purge(+%v) = %d, %v; want %d", c.after, n, err, c.want)
		}
	}
	if _, err := s.CaseState("c1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after purge: %v, want ErrNotFound", err)
	}
	evs, err := s.Events(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, ","); got != "submitted,sent,purged" {
		t.Errorf("events %s", got)
	}
	// The log itself is kept for LogRetention.
	if _, err := s.Purge(time.Now().Add(LogRetention - time.Hour)); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.Events(0, 10); len(evs) != 3 {
		t.Errorf("log before its retention ran out: %d entries, want 3", len(evs))
	}
	if _, err := s.Purge(time.Now().Add(LogRetention + time.Hour)); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.Events(0, 10); len(evs) != 0 {
		t.Errorf("log after its retention ran out: %+v", evs)
	}
}

func TestCaptureRefusals(t *testing.T) {
	s, _, _ := openTemp(t)
	for _, id := range []string{"draft", "pending"} {
		if err := s.SaveCase(draft(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Submit("pending"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, id string
		m        wire.MaterialRef
		want     string
	}{
		{"no such case", "nope", wire.MaterialRef{Code: "M1"}, "not found"},
		{"pending case", "pending", wire.MaterialRef{Code: "M1"}, "only into a draft"},
		{"no code", "draft", wire.MaterialRef{}, "needs a code"},
		{"exempt", "draft", wire.MaterialRef{Code: "M1", Exempt: true}, "must not be exempt"},
	} {
		_, err := s.Capture(c.id, c.m, []byte("x"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if err := s.SaveCase(draft("pending")); err == nil {
		t.Error("SaveCase on a pending case succeeded")
	}
	bad := draft("draft")
	bad.Materials = append(bad.Materials, wire.MaterialRef{Code: "M1", SHA256: sum([]byte("never captured"))})
	if err := s.SaveCase(bad); err == nil || !strings.Contains(err.Error(), "not captured") {
		t.Errorf("SaveCase with an uncaptured blob: %v", err)
	}
}

// A rescan replaces the material, and the old page goes unless another
// case holds the same bytes; a discarded draft leaves nothing behind.
func TestRecaptureAndDiscard(t *testing.T) {
	s, _, _ := openTemp(t)
	for _, id := range []string{"a", "b"} {
		if err := s.SaveCase(draft(id)); err != nil {
			t.Fatal(err)
		}
	}
	old, shared, fresh := []byte("blurred scan"), []byte("same bytes in two cases"), []byte("sharp scan")
	mustCapture(t, s, "a", "M1", old)
	mustCapture(t, s, "a", "M2", shared)
	mustCapture(t, s, "b", "M2", shared)
	mustCapture(t, s, "a", "M1", fresh)
	if _, err := s.Blob(sum(old)); !errors.Is(err, ErrNotFound) {
		t.Errorf("replaced blob still held: %v", err)
	}
	m, _ := s.Case("a")
	if len(m.Materials) != 3 || m.Materials[1].SHA256 != sum(fresh) {
		t.Errorf("after rescan materials = %+v", m.Materials)
	}
	if err := s.DiscardCase("a"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		data []byte
		held bool
	}{{fresh, false}, {shared, true}} {
		if _, err := s.Blob(sum(c.data)); (err == nil) != c.held {
			t.Errorf("after discard, blob %q: %v, want held=%v", c.data, err, c.held)
		}
	}
}

func mustCapture(t *testing.T, s *Store, id, code string, data []byte) {
	t.Helper()
	if _, err := s.Capture(id, wire.MaterialRef{Code: code}, data); err != nil {
		t.Fatal(err)
	}
}

func TestDiskFull(t *testing.T) {
	s, _, _ := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	mustCapture(t, s, "c1", "M1", []byte("first page"))
	if err := s.SetDiskMargin(1 << 62); err != nil {
		t.Fatal(err)
	}
	_, err := s.Capture("c1", wire.MaterialRef{Code: "M2"}, []byte("second page"))
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "bytes free") {
		t.Fatalf("Capture on a full disk: %v, want ErrDiskFull naming free bytes", err)
	}
	m, _ := s.Case("c1")
	if len(m.Materials) != 2 { // M1 and the exempt M9: nothing lost, nothing added
		t.Errorf("materials after refusal: %+v", m.Materials)
	}
	if b, err := s.Blob(sum([]byte("first page"))); err != nil || string(b) != "first page" {
		t.Errorf("earlier material: %q, %v", b, err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	s, path, key := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	mustCapture(t, s, "c1", "M1", []byte("page"))
	if err := s.Submit("c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRetention(time.Hour); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, err := s.PendingCases()
	if err != nil || len(ms) != 1 || ms[0].Applicant.Name != testName || ms[0].Materials[1].SHA256 != sum([]byte("page")) {
		t.Fatalf("PendingCases after reopen = %+v, %v", ms, err)
	}
	if b, err := s.Blob(sum([]byte("page"))); err != nil || string(b) != "page" {
		t.Errorf("Blob after reopen = %q, %v", b, err)
	}
	if d, err := s.Retention(); err != nil || d != time.Hour {
		t.Errorf("Retention after reopen = %v, %v", d, err)
	}
}

func TestKeyErrors(t *testing.T) {
	dir := t.TempDir()
	dbPath, keyPath := filepath.Join(dir, "store.db"), filepath.Join(dir, "store.key")
	s, err := OpenWithKeyFile(dbPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	mustCapture(t, s, "c1", "M1", []byte("page"))
	s.Close()
	before, _ := os.ReadFile(dbPath)

	otherKey := bytes.Repeat([]byte{7}, KeySize)
	for _, c := range []struct {
		name string
		open func() (*Store, error)
		want []string
	}{
		{"wrong key", func() (*Store, error) { return Open(dbPath, otherKey) },
			[]string{"does not open this store", "1 stored materials"}},
		{"short key", func() (*Store, error) { return Open(dbPath, otherKey[:16]) },
			[]string{"16 bytes, want 32"}},
		{"key file missing", func() (*Store, error) {
			if err := os.Rename(keyPath, keyPath+".away"); err != nil {
				t.Fatal(err)
			}
			return OpenWithKeyFile(dbPath, keyPath)
		}, []string{"key file " + keyPath + " missing", "the 1 stored materials", "restore the key"}},
	} {
		s, err := c.open()
		if err == nil {
			s.Close()
			t.Errorf("%s: opened", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v; want it to say %q", c.name, err, w)
			}
		}
	}
	if _, err := os.Stat(keyPath); err == nil {
		t.Error("a key file was made afresh beside a store with data")
	}
	if after, _ := os.ReadFile(dbPath); !bytes.Equal(before, after) {
		t.Error("a failed open changed the store file")
	}
	if err := os.Rename(keyPath+".away", keyPath); err != nil {
		t.Fatal(err)
	}
	s, err = OpenWithKeyFile(dbPath, keyPath)
	if err != nil {
		t.Fatalf("open with the restored key: %v", err)
	}
	s.Close()
}

func TestSchemaNewerThanProgram(t *testing.T) {
	_, path, key := openTemp(t)
	dir := filepath.Dir(path)
	other := filepath.Join(dir, "future.db")
	s, err := Open(other, key)
	if err != nil {
		t.Fatal(err)
	}
	s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaSchema, []byte{0, 0, 0, 0, 0, 0, 0, 99})
	})
	s.Close()
	if _, err := Open(other, key); err == nil || !strings.Contains(err.Error(), "version 99 is newer") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

// The raw file must not contain the applicant's name in any encoding a
// Chinese system might use, the ID number, or a blob's plaintext (S19).
func TestEncryptedAtRest(t *testing.T) {
	s, path, key := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	secret := []byte("CONFIDENTIAL bank statement of " + testName + " " + testID)
	mustCapture(t, s, "c1", "M1", secret)
	if err := s.Submit("c1"); err != nil {
		t.Fatal(err)
	}
	// The vault cache and a queued event hold personal data too.
	vault := wire.VaultAnswer{Applicant: "k", Entries: []wire.VaultEntry{{Ref: "licence:L1", Code: "M-HUKOU", Name: "户口簿 " + testName}}}
	if err := s.PutVault(testID, vault); err != nil {
		t.Fatal(err)
	}
	rejection := wire.Event{ID: "ev1", Kind: wire.EventRejection, At: time.Now(), Case: "c1", Material: "M1", Criterion: "M1-1",
		Reason: "照片不是" + testName + "本人"}
	if err := s.QueueEvent(rejection, nil); err != nil {
		t.Fatal(err)
	}
	// The compacted copy is what hall IT carries around: check it too.
	compacted := path + ".compact"
	if err := s.Compact(compacted); err != nil {
		t.Fatal(err)
	}
	s.Close()

	gb, err := simplifiedchinese.GB18030.NewEncoder().String(testName)
	if err != nil {
		t.Fatal(err)
	}
	var u16 []byte
	for _, r := range utf16.Encode([]rune(testName)) {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	needles := []struct {
		name string
		b    []byte
	}{
		{"name UTF-8", []byte(testName)},
		{"name UTF-16LE", u16},
		{"name GB18030", []byte(gb)},
		{"ID number", []byte(testID)},
		{"ID number body", []byte(testID[:17])},
		{"blob plaintext", []byte("CONFIDENTIAL")},
	}
	files := []string{path, compacted}
	for _, db := range files {
		packs, _ := filepath.Glob(filepath.Join(packDir(db), "*.pack"))
		if len(packs) == 0 {
			t.Fatalf("no packs beside %s", db)
		}
		files = append(files, packs...)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(raw, n.b) {
				t.Errorf("%s contains the %s (% x)", filepath.Base(file), n.name, n.b)
			}
		}
	}
	// And the compacted copy opens with the same key and holds the case.
	c, err := Open(compacted, key)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if b, err := c.Blob(sum(secret)); err != nil || !bytes.Equal(b, secret) {
		t.Errorf("compacted Blob = %q, %v", b, err)
	}
}

// Capture is one transaction: a capture that fails leaves neither blob,
// nor material, nor outbox entry.
func TestCaptureAtomic(t *testing.T) {
	s, _, _ := openTemp(t)
	if err := s.SaveCase(draft("c1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Submit("c1"); err != nil {
		t.Fatal(err)
	}
	data := []byte("too late")
	if _, err := s.Capture("c1", wire.MaterialRef{Code: "M1"}, data); err == nil {
		t.Fatal("captured into a pending case")
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketBlobs).Get([]byte(sum(data))) != nil {
			t.Error("blob stored by a failed capture")
		}
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if k[0] == outboxBlob {
				t.Errorf("outbox blob entry %q left by a failed capture", k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
