package platform

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// liveServer serves a Server with opt the way the platform does (the
// http.Server of NewHTTPServer, on a real listener), with the header
// timeout shortened to header when not zero; conns counts its open
// connections.
type liveServer struct {
	*fixture
	addr  string
	conns atomic.Int64
}

func newLiveServer(t *testing.T, opt Options, header time.Duration) *liveServer {
	t.Helper()
	f := newFixture(t, opt)
	ls := &liveServer{fixture: f}
	hs := NewHTTPServer(f.srv, nil)
	if header > 0 {
		hs.ReadHeaderTimeout = header
	}
	hs.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			ls.conns.Add(1)
		case http.StateClosed, http.StateHijacked:
			ls.conns.Add(-1)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { hs.Serve(ln); close(done) }()
	t.Cleanup(func() {
		hs.Close()
		<-done
	})
	ls.addr = ln.Addr().String()
	ls.url = "http://" + ls.addr
	return ls
}

// rawRequest opens a connection and writes head (a request line and
// headers, without the blank line) and the blank line.
func (ls *liveServer) rawRequest(t *testing.T, head string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", ls.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, strings.ReplaceAll(head, "\n", "\r\n")+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls cond until it holds or limit passes, and says how long it
// took.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// countFiles counts the files under dir whose names begin with one of
// prefixes: the temporary files of blobs being received, wherever the
// storage keeps them.
func countFiles(dir string, prefixes []string) int {
	n := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		for _, p := range prefixes {
			if strings.HasPrefix(d.Name(), p) {
				n++
				break
			}
		}
		return nil
	})
	return n
}

// Clients that trickle a chunked blob PUT are all cut: by TransferTimeout
// when they send a byte every second, by UploadIdleTimeout when they go
// quiet; their connections and temporary files are gone soon after.
func TestSlowUploadsCut(t *testing.T) {
	const clients = 60
	for _, c := range []struct {
		name     string
		opt      Options
		interval time.Duration // between bytes; 0: one byte, then silence
		limit    time.Duration // the deadline that should cut them
	}{
		{"trickle 1 byte/s", Options{TransferTimeout: 2 * time.Second, UploadIdleTimeout: 10 * time.Second}, time.Second, 2 * time.Second},
		{"silent", Options{TransferTimeout: time.Minute, UploadIdleTimeout: 500 * time.Millisecond}, 0, 500 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			ls := newLiveServer(t, c.opt, 0)
			var shas []string
			var answered atomic.Int64
			var wg sync.WaitGroup
			var conns []net.Conn
			stop := make(chan struct{})
			defer func() { // bounded even when the server cuts nothing
				close(stop)
				for _, c := range conns {
					c.Close()
				}
				wg.Wait()
			}()
			start := time.Now()
			for i := range clients {
				sha := sum([]byte(fmt.Sprintf("slow %d", i)))
				shas = append(shas, sha+".")
				conn := ls.rawRequest(t, "PUT /v1/blobs/"+sha+" HTTP/1.1\nHost: platform\nAuthorization: Bearer "+ls.token+
					"\nContent-Type: application/octet-stream\nTransfer-Encoding: chunked")
				conns = append(conns, conn)
				wg.Add(2)
				go func() { // the trickle
					defer wg.Done()
					for {
						if _, err := io.WriteString(conn, "1\r\nx\r\n"); err != nil || c.interval == 0 {
							return
						}
						select {
						case <-stop:
							return
						case <-time.After(c.interval):
						}
					}
				}()
				go func() { // the answer, or the end of the connection
					defer wg.Done()
					conn.SetReadDeadline(time.Now().Add(time.Minute))
					io.Copy(io.Discard, conn)
					answered.Add(1)
				}()
			}
			waitFor(t, 10*time.Second, "the slow uploads' temporary files appear", func() bool {
				return countFiles(ls.dir, shas) == clients
			})
			if n := ls.conns.Load(); n != clients {
				t.Errorf("%d connections open, want %d", n, clients)
			}
			slack := 3 * time.Second
			waitFor(t, c.limit+slack-time.Since(start), "all slow uploads cut, their files removed and connections closed", func() bool {
				return answered.Load() == clients && countFiles(ls.dir, shas) == 0 && ls.conns.Load() == 0
			})
			t.Logf("%d slow uploads cut %s after they began (deadline %s)", clients, time.Since(start).Round(time.Millisecond), c.limit)
			if time.Since(start) < c.limit {
				t.Errorf("cut after %s, before the deadline %s", time.Since(start), c.limit)
			}
		})
	}
}

// A JSON body announced larger than MaxManifestBytes is refused at once,
// before a byte of it is read, and the connection is closed.
func TestJSONTooLargeRefusedAtOnce(t *testing.T) {
	ls := newLiveServer(t, Options{}, 0)
	for _, path := range []string{"/v1/cases/kiosk-01-c-1", "/v1/events/kiosk-01-e-1", "/v1/blobs/missing"} {
		method := "PUT"
		if path == "/v1/blobs/missing" {
			method = "POST"
		}
		conn := ls.rawRequest(t, method+" "+path+" HTTP/1.1\nHost: platform\nAuthorization: Bearer "+ls.token+
			"\nContent-Type: application/json\nContent-Length: 2000000000")
		io.WriteString(conn, `{"id":"c"}`)
		start := time.Now()
		conn.SetReadDeadline(start.Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		took := time.Since(start)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"too_large"`) || !resp.Close {
			t.Errorf("%s %s: %d close=%v %s", method, path, resp.StatusCode, resp.Close, body)
		}
		if took > time.Second {
			t.Errorf("%s %s: answered after %s", method, path, took)
		}
	}
}

// A JSON body that stops arriving is cut by ReadTimeout and answered 400.
func TestJSONBodyStalledCut(t *testing.T) {
	ls := newLiveServer(t, Options{ReadTimeout: 500 * time.Millisecond}, 0)
	conn := ls.rawRequest(t, "POST /v1/blobs/missing HTTP/1.1\nHost: platform\nAuthorization: Bearer "+ls.token+
		"\nContent-Type: application/json\nContent-Length: 100")
	io.WriteString(conn, `{"sha256":[`)
	start := time.Now()
	conn.SetReadDeadline(start.Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "within 500ms") {
		t.Errorf("stalled JSON body: %d %s", resp.StatusCode, body)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("stalled JSON body answered after %s", took)
	}
	waitFor(t, 2*time.Second, "the connection closed", func() bool { return ls.conns.Load() == 0 })
}

// A client that trickles its header is cut by the server's header timeout.
func TestHeaderTrickleCut(t *testing.T) {
	if hs := NewHTTPServer(http.NotFoundHandler(), nil); hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 10*time.Second ||
		hs.IdleTimeout <= 0 || hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 64<<10 {
		t.Fatalf("NewHTTPServer: header timeout %s, idle %s, max header %d", hs.ReadHeaderTimeout, hs.IdleTimeout, hs.MaxHeaderBytes)
	}
	ls := newLiveServer(t, Options{}, 500*time.Millisecond)
	c, err := net.DialTimeout("tcp", ls.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /v1/cases HTTP/1.1\r\nHost: platform\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			if _, err := io.WriteString(c, "X"); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	c.SetReadDeadline(start.Add(5 * time.Second))
	io.Copy(io.Discard, c) // until the server closes
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("header trickle cut after %s", took)
	}
	waitFor(t, 2*time.Second, "the connection closed", func() bool { return ls.conns.Load() == 0 })
}

// slowStorage answers HasBlob late, to stand for a slow disk.
type slowStorage struct {
	*BoltStorage
	delay time.Duration
}

func (s slowStorage) HasBlob(ctx context.Context, sha string) (bool, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return s.BoltStorage.HasBlob(ctx, sha)
}

// ReadTimeout bounds the arrival of the body, not the work after it: a
// handler slower than ReadTimeout still answers, with its context alive.
func TestSlowHandlerOutlivesReadTimeout(t *testing.T) {
	f := newFixture(t, Options{})
	srv := New(slowStorage{f.st, 700 * time.Millisecond}, Options{ReadTimeout: 200 * time.Millisecond})
	token, err := srv.Enrol(RoleKiosk, "hall", "kiosk-slow")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(srv, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/blobs/missing",
		strings.NewReader(`{"sha256":["`+sum([]byte("x"))+`"]}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), sum([]byte("x"))) {
		t.Errorf("slow handler: %d %s", resp.StatusCode, body)
	}
	// A bodiless request, likewise.
	req, _ = http.NewRequest("HEAD", "http://"+ln.Addr().String()+"/v1/blobs/"+sum([]byte("x")), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Errorf("slow HEAD: %v %v", resp, err)
	}
}
