package uploader

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The desk reads a page of a case its hall holds, and nothing else.
func TestBlob(t *testing.T) {
	dir := t.TempDir()
	p := newPlatform(t, filepath.Join(dir, "platform"))
	s := openStore(t, dir)
	page := content("c1-form", 5000)
	addCase(t, s, "desk-07-c1", map[string]int{"c1-form": len(page)})
	if err := New(s, p.client(http.DefaultTransport), fast).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A page the platform holds that no case names.
	stray := content("stray", 3000)
	if err := p.st.PutBlob(context.Background(), "desk-07", sum(stray), bytes.NewReader(stray)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		caseID     string
		sha        string
		max        int64
		want       []byte // nil: an error
		wantStatus int    // of the *StatusError; 0 for an error of the client
		wantIn     string // in the error's text
	}{
		{name: "page of the case", caseID: "desk-07-c1", sha: sum(page), max: 1 << 20, want: page},
		{name: "exactly max", caseID: "desk-07-c1", sha: sum(page), max: int64(len(page)), want: page},
		{name: "larger than max", caseID: "desk-07-c1", sha: sum(page), max: int64(len(page)) - 1, wantIn: "larger than the 4999"},
		{name: "page the case does not name", caseID: "desk-07-c1", sha: sum(stray), max: 1 << 20, wantStatus: http.StatusForbidden},
		{name: "case not held", caseID: "desk-07-c9", sha: sum(page), max: 1 << 20, wantStatus: http.StatusNotFound},
		{name: "case id to escape", caseID: "desk-07-c1&case=desk-07-c1", sha: sum(page), max: 1 << 20, wantStatus: http.StatusBadRequest},
		{name: "not a hash", caseID: "desk-07-c1", sha: "../cases", max: 1 << 20, wantIn: "not a lowercase hex SHA-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.client(http.DefaultTransport).Blob(context.Background(), tt.caseID, tt.sha, tt.max)
			if tt.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tt.want) {
					t.Errorf("got %d bytes, not the page's %d", len(got), len(tt.want))
				}
				return
			}
			if err == nil {
				t.Fatalf("got %d bytes, want an error", len(got))
			}
			var se *StatusError
			if errors.As(err, &se) != (tt.wantStatus != 0) || se != nil && se.Status != tt.wantStatus {
				t.Errorf("error %v, want status %d", err, tt.wantStatus)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %q lacks %q", err, tt.wantIn)
			}
		})
	}

	// Without a clerk the platform does not answer.
	c := p.client(http.DefaultTransport)
	c.Session = ""
	var se *StatusError
	if _, err := c.Blob(context.Background(), "desk-07-c1", sum(page), 1<<20); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Errorf("without a clerk: %v, want 401", err)
	}
}

// An answer that is not the blob is an error that names both hashes.
func TestBlobDamaged(t *testing.T) {
	page := content("page", 5000)
	other := content("other", 5000)
	tests := []struct {
		name  string
		serve func(w http.ResponseWriter)
		want  []string // in the error's text
	}{
		{
			name:  "wrong bytes",
			serve: func(w http.ResponseWriter) { w.Write(other) },
			want:  []string{"5000 bytes arrived with SHA-256 " + sum(other), "want " + sum(page)},
		},
		{
			name: "broken off",
			serve: func(w http.ResponseWriter) {
				w.Header().Set("Content-Length", strconv.Itoa(len(page)))
				w.Write(page[:1000])
			},
			want: []string{"broke off after 1000 bytes", "SHA-256 " + sum(page[:1000]), "want " + sum(page)},
		},
		{
			name:  "empty",
			serve: func(w http.ResponseWriter) {},
			want:  []string{"0 bytes arrived with SHA-256 " + sum(nil), "want " + sum(page)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := make(chan string, 1)
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked <- r.URL.Path + " case=" + r.URL.Query().Get("case")
				tt.serve(w)
			}))
			defer hs.Close()
			c := &Client{BaseURL: hs.URL, Token: "t", Session: "s"}
			got, err := c.Blob(context.Background(), "desk-07-c1 &x", sum(page), 1<<20)
			if !errors.Is(err, ErrDamagedBlob) {
				t.Fatalf("got %d bytes, error %v; want %v", len(got), err, ErrDamagedBlob)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if want := "/v1/blobs/" + sum(page) + " case=desk-07-c1 &x"; len(asked) != 1 {
				t.Errorf("the server was not asked")
			} else if got := <-asked; got != want {
				t.Errorf("asked %q, want %q", got, want)
			}
		})
	}
}

// A blob sent without its length is cut off after max bytes.
func TestBlobStreamedPastMax(t *testing.T) {
	page := content("page", 5000)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(page[:2000])
		w.(http.Flusher).Flush() // chunked: no Content-Length
		w.Write(page[2000:])
	}))
	defer hs.Close()
	c := &Client{BaseURL: hs.URL, Token: "t", Session: "s"}
	got, err := c.Blob(context.Background(), "desk-07-c1", sum(page), 4096)
	if err == nil || !strings.Contains(err.Error(), "larger than the 4096 bytes accepted") {
		t.Fatalf("got %d bytes, error %v; want larger than the 4096 bytes accepted", len(got), err)
	}
	if got, err := c.Blob(context.Background(), "desk-07-c1", sum(page), 5000); err != nil || !bytes.Equal(got, page) {
		t.Errorf("with max 5000: %d bytes, %v; want the page", len(got), err)
	}
}
