package uploader

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"yici/sync/platform"
	"yici/sync/store"
	"yici/sync/wire"
)

const (
	benchBlobs     = 200
	benchBlobBytes = 300 << 10
)

// replayOutbox lets one set of captured cases be uploaded again and again:
// Ack only hides a case from this benchmark instead of purging it.
type replayOutbox struct {
	*store.Store
	acked map[string]bool
}

func (o *replayOutbox) PendingCases() ([]wire.Manifest, error) {
	all, err := o.Store.PendingCases()
	var out []wire.Manifest
	for _, m := range all {
		if !o.acked[m.ID] {
			out = append(out, m)
		}
	}
	return out, err
}

func (o *replayOutbox) Ack(id string) error { o.acked[id] = true; return nil }

// serveTLS serves h over TLS with the platform's own certificate helper on
// a loopback port, and returns its URL.
func serveTLS(b *testing.B, h http.Handler, cfg *tls.Config) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { platform.Serve(ctx, ln, h, cfg); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return "https://" + ln.Addr().String()
}

// bareDurable is the fair baseline for a platform that must not lose what
// it acknowledged: a handler that writes each PUT body to its own file and
// fsyncs it before answering, and does nothing else (no hash check, no
// staging, no manifest).
type bareDurable struct {
	dir string
	n   atomic.Int64
}

func (d *bareDurable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, err := os.Create(filepath.Join(d.dir, strconv.FormatInt(d.n.Add(1), 10)))
	if err == nil {
		_, err = io.Copy(f, r.Body)
	}
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// plainPUTs sends blobs one after another, as a naive client would.
func plainPUTs(b *testing.B, hc *http.Client, url string, blobs [][]byte) {
	for i, blob := range blobs {
		req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/%d", url, i), bytes.NewReader(blob))
		if err != nil {
			b.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("baseline PUT: %s", resp.Status)
		}
	}
}

// BenchmarkUpload sends 200 pages of 300 KB in 10 cases through the whole
// protocol over TLS with a pinned certificate (missing, blob PUTs verified
// by hash and made durable at each case's commit, manifests) to an empty
// platform, and in the same run the same bytes as plain sequential PUTs
// over the same transport to two bare handlers: one that discards them
// and one that writes and fsyncs each (the fair floor for a durable
// platform). It reports pages/s of each and the ratios, and the CPU time
// per page of the discard baseline and of the protocol (both ends, this
// process): with GOMAXPROCS cores, pages/s can never pass cores ÷ CPU per
// page, which bounds the ratio whatever the protocol's round trips.
func BenchmarkUpload(b *testing.B) {
	dir := b.TempDir()
	s := openStore(b, dir)
	var blobs [][]byte
	for c := range benchBlobs / 20 {
		sizes := map[string]int{}
		for i := range 20 {
			seed := fmt.Sprintf("b%d-%d", c, i)
			sizes[seed] = benchBlobBytes
			blobs = append(blobs, content(seed, benchBlobBytes))
		}
		addCase(b, s, fmt.Sprintf("case-%d", c), sizes)
	}
	cfg, info, err := platform.LoadTLS(platform.TLSOptions{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	transport := func() *http.Client {
		t, err := PinnedTransport(info.CertFile)
		if err != nil {
			b.Fatal(err)
		}
		return &http.Client{Transport: t}
	}
	discardURL := serveTLS(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}), cfg)
	durable := &bareDurable{dir: filepath.Join(dir, "bare")}
	os.Mkdir(durable.dir, 0o700)
	durableURL := serveTLS(b, durable, cfg)

	var tDiscard, tDurable, tProtocol, cpuDiscard, cpuProtocol time.Duration
	round := 0
	b.SetBytes(benchBlobs * benchBlobBytes)
	for b.Loop() {
		round++
		p := newPlatform(b, filepath.Join(dir, fmt.Sprint("platform", round)))
		url := serveTLS(b, p, cfg)
		out := &replayOutbox{Store: s, acked: map[string]bool{}}
		c := &Client{BaseURL: url, Token: p.token, HTTP: transport()}

		t0, c0 := time.Now(), cpuTime(b)
		plainPUTs(b, transport(), discardURL, blobs)
		t1, c1 := time.Now(), cpuTime(b)
		plainPUTs(b, transport(), durableURL, blobs)
		t2, c2 := time.Now(), cpuTime(b)
		if err := New(out, c, Options{}).Drain(context.Background()); err != nil {
			b.Fatal(err)
		}
		t3, c3 := time.Now(), cpuTime(b)
		tDiscard, tDurable, tProtocol = tDiscard+t1.Sub(t0), tDurable+t2.Sub(t1), tProtocol+t3.Sub(t2)
		cpuDiscard, cpuProtocol = cpuDiscard+c1-c0, cpuProtocol+c3-c2
		if got := p.blobBytes.Load(); got != benchBlobs*benchBlobBytes {
			b.Fatalf("sent %d blob bytes", got)
		}
	}
	pages := float64(benchBlobs * round)
	b.ReportMetric(pages/tProtocol.Seconds(), "pages/s")
	b.ReportMetric(pages/tDurable.Seconds(), "durable-put-pages/s")
	b.ReportMetric(pages/tDiscard.Seconds(), "discard-put-pages/s")
	b.ReportMetric(tDurable.Seconds()/tProtocol.Seconds(), "ratio-vs-durable-put")
	b.ReportMetric(tDiscard.Seconds()/tProtocol.Seconds(), "ratio-vs-discard-put")
	b.ReportMetric(float64(cpuDiscard.Microseconds())/pages/1000, "discard-put-cpu-ms/page")
	b.ReportMetric(float64(cpuProtocol.Microseconds())/pages/1000, "cpu-ms/page")
}

// cpuTime is the user and system CPU time this process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkUploadHeld sends a case of 20 pages the platform already holds:
// the protocol must send no blob bytes at all (D4).
func BenchmarkUploadHeld(b *testing.B) {
	dir := b.TempDir()
	s := openStore(b, dir)
	sizes := map[string]int{}
	for i := range 20 {
		sizes[fmt.Sprint("held-", i)] = benchBlobBytes
	}
	addCase(b, s, "held", sizes)
	p := newPlatform(b, filepath.Join(dir, "platform"))
	for seed, size := range sizes {
		if err := p.st.PutBlob(context.Background(), "desk-07", sum(content(seed, size)), bytes.NewReader(content(seed, size))); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		out := &replayOutbox{Store: s, acked: map[string]bool{}}
		if err := New(out, p.client(http.DefaultTransport), Options{}).Drain(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(p.blobBytes.Load()), "blob-bytes-sent")
}
