package platform

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"golang.org/x/text/encoding/simplifiedchinese"

	"yici/sync/wire"
)

// Nothing the platform keeps on its disk names or shows the applicant in
// the clear: not the bbolt file, not a blob synced, staged or half
// uploaded, not a vault entry or an event (S19). An invented person.
func TestNothingPersonalAtRest(t *testing.T) {
	f := newFixture(t, Options{})
	if _, err := f.srv.LoadLicences("testdata/licences.json"); err != nil {
		t.Fatal(err)
	}
	page := []byte("CONFIDENTIAL household register of 张三 21020219880504123X")
	staged := []byte("CONFIDENTIAL staged page of 张三, never committed")
	large := bytes.Repeat([]byte("CONFIDENTIAL scanned contract of 张三 "), 40000) // over a MiB: uploaded resumably
	half := bytes.Repeat([]byte("CONFIDENTIAL half uploaded bank statement of 张三 "), 30000)
	for _, b := range [][]byte{page, staged} {
		if code, body := f.do("PUT", "/v1/blobs/"+sum(b), f.token, bytes.NewReader(b)); code != 201 {
			t.Fatalf("put blob: %d %s", code, body)
		}
	}
	upload := func(b []byte, upTo int) {
		path := wire.UploadPath(sum(b))
		if code, _, e := f.doUpload("POST", path, f.token, map[string]string{wire.HeaderUploadLength: strconv.Itoa(len(b))}, nil); code != 201 {
			t.Fatalf("start upload: %d %+v", code, e)
		}
		for off := 0; off < upTo; off += 500000 {
			end := min(off+500000, upTo)
			if code, _, e := f.doUpload("PATCH", path, f.token, map[string]string{wire.HeaderUploadOffset: strconv.Itoa(off)}, bytes.NewReader(b[off:end])); code != 204 {
				t.Fatalf("append at %d: %d %+v", off, code, e)
			}
		}
	}
	upload(large, len(large))
	upload(half, len(half)/2)
	m := manifest("kiosk-01-case-1", page, large)
	m.Materials[0].Code = "M-PHOTO"
	if code, body := f.do("PUT", "/v1/cases/kiosk-01-case-1", f.token, strings.NewReader(mustJSON(m))); code != 201 {
		t.Fatalf("put case: %d %s", code, body)
	}
	confirm := wire.ConfirmRequest{Clerk: "窗口3 王丽", Materials: []wire.ConfirmMaterial{{Code: "M-PHOTO", ValidUntil: time.Now().AddDate(1, 0, 0)}}}
	if code, body := f.asClerk("POST", "/v1/cases/kiosk-01-case-1/confirm", strings.NewReader(mustJSON(confirm))); code != 200 {
		t.Fatalf("confirm: %d %s", code, body)
	}
	rejection := wire.Event{ID: "desk-00-ev-1", Kind: wire.EventRejection, At: time.Now(), Case: "kiosk-01-case-1", Material: "M-PHOTO",
		Criterion: "M-PHOTO-2", Reason: "照片不是张三本人"}
	if code, body := f.asClerk("PUT", "/v1/events/desk-00-ev-1", strings.NewReader(mustJSON(rejection))); code != 201 {
		t.Fatalf("put event: %d %s", code, body)
	}
	f.st.Close()

	gb, err := simplifiedchinese.GB18030.NewEncoder().String("张三")
	if err != nil {
		t.Fatal(err)
	}
	var u16 []byte
	for _, r := range utf16.Encode([]rune("张三")) {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	needles := map[string][]byte{
		"name UTF-8": []byte("张三"), "name UTF-16LE": u16, "name GB18030": []byte(gb),
		"ID number": []byte("21020219880504123X"), "page text": []byte("CONFIDENTIAL"),
		"licence number": []byte("2102021988HK0001"),
	}
	files := 0
	err = filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for name, n := range needles {
			if bytes.Contains(raw, n) {
				t.Errorf("%s holds the %s", strings.TrimPrefix(p, f.dir), name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Errorf("only %d files under the platform's directory", files)
	}
}
