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
	"strings"
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
// a loopback port until the end of tb, and returns its URL.
func serveTLS(tb testing.TB, h http.Handler, cfg *tls.Config) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { platform.Serve(ctx, ln, h, cfg); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
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

// BenchmarkUpload is the CPU figure, run by hand (make bench runs
// BenchmarkUploadLink, the time a hall lives with, through its link). It
// sends 200 pages of 300 KB in 10 cases through the whole protocol over
// TLS with a pinned certificate (missing, blob PUTs verified
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

// linkPagesPerCase is the pages of a case in BenchmarkUploadLink.
const linkPagesPerCase = 6

// BenchmarkUploadLink sends cases of 6 pages, each a fresh store's one
// case of pages the platform does not hold, through a proxy that is a
// hall's link (linkProxy: each direction paced at the rate, shared by all
// connections) to a platform over TLS with a pinned certificate, with a
// fresh transport per case as a desk has when a case comes minutes after
// the last (past the transport's idle timeout): TCP and TLS handshakes
// included (the pinned transport speaks HTTP/2: one connection carries
// the case). Pages are incompressible: 150 KB, the target after
// re-encoding, and 500 KB, the demo's PNG pages; a third variant adds
// 20 ms of round trip to the link (the proxy ends TCP on each side, so
// neither the TCP handshake's round trip nor slow start is in it).
//
// It reports the time per case, the link time of the bytes that crossed
// (the busier direction's TCP payload bytes ×8 ÷ rate: the link is full
// duplex, and the request bytes dominate) and their ratio (target ≤ 1.1),
// the bytes on the wire per page and the protocol's overhead per page
// (wire bytes both ways less the page bytes), the connections per case,
// and, in the same run, the time per case straight to the platform.
func BenchmarkUploadLink(b *testing.B) {
	for _, rate := range []struct {
		name string
		bps  float64
	}{{"20Mbit", 20e6}, {"100Mbit", 100e6}} {
		b.Run(rate.name, func(b *testing.B) {
			for _, pg := range []struct {
				name string
				size int
			}{{"pages150KB", 150 << 10}, {"pages500KB", 500 << 10}} {
				b.Run(pg.name, func(b *testing.B) { uploadLink(b, rate.bps, 0, pg.size) })
			}
			// The same with 20 ms of round trip: each request that waits
			// for an answer (handshakes, the missing query, the blobs'
			// answers, the manifest) costs it once at least.
			b.Run("pages150KB-rtt20ms", func(b *testing.B) { uploadLink(b, rate.bps, 10*time.Millisecond, 150<<10) })
		})
	}
}

func uploadLink(b *testing.B, bps float64, delay time.Duration, pageBytes int) {
	dir := b.TempDir()
	cfg, info, err := platform.LoadTLS(platform.TLSOptions{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	p := newPlatform(b, filepath.Join(dir, "platform"))
	direct := serveTLS(b, p, cfg)
	px := newLinkProxy(b, strings.TrimPrefix(direct, "https://"), bps, delay)
	// fill makes a fresh store holding one case of fresh pages.
	fill := func(name string) *store.Store {
		if err := os.Mkdir(filepath.Join(dir, name), 0o700); err != nil {
			b.Fatal(err)
		}
		s := openStore(b, filepath.Join(dir, name))
		sizes := map[string]int{}
		for i := range linkPagesPerCase {
			sizes[fmt.Sprintf("%s-page%d", name, i)] = pageBytes
		}
		addCase(b, s, name, sizes)
		return s
	}
	// send drains s through a fresh transport to base and returns the
	// time the drain took.
	send := func(s *store.Store, base string) time.Duration {
		t, err := PinnedTransport(info.CertFile)
		if err != nil {
			b.Fatal(err)
		}
		defer t.CloseIdleConnections()
		c := &Client{BaseURL: base, Token: p.token, Session: p.session, HTTP: &http.Client{Transport: t}}
		start := time.Now()
		if err := New(s, c, Options{}).Drain(context.Background()); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var tLink, tDirect time.Duration
	var up, down, conns int64
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		tDirect += send(fill(fmt.Sprint("direct-", i)), direct)
		s := fill(fmt.Sprint("link-", i))
		up0, down0, conns0 := px.upBytes.Load(), px.downBytes.Load(), px.conns.Load()
		b.StartTimer()
		tLink += send(s, "https://"+px.addr)
		b.StopTimer()
		up += px.upBytes.Load() - up0
		down += px.downBytes.Load() - down0
		conns += px.conns.Load() - conns0
	}
	if got, want := p.blobBytes.Load(), int64(2*b.N*linkPagesPerCase*pageBytes); got != want {
		b.Fatalf("the platform read %d blob bytes, want %d", got, want)
	}
	// The proxy's own fidelity, in the same run: the same bytes as one raw
	// TCP stream across the same link, against their link time.
	raw := rawAcross(b, bps, delay, b.N*linkPagesPerCase*pageBytes)
	cases, pages := float64(b.N), float64(b.N*linkPagesPerCase)
	linkTime := float64(max(up, down)) * 8 / bps // seconds, all cases
	b.ReportMetric(tLink.Seconds()*1000/cases, "ms/case")
	b.ReportMetric(linkTime*1000/cases, "link-ms/case")
	b.ReportMetric(tLink.Seconds()/linkTime, "ratio-to-link")
	b.ReportMetric(tDirect.Seconds()*1000/cases, "direct-ms/case")
	b.ReportMetric(float64(up+down)/pages, "wire-bytes/page")
	b.ReportMetric(float64(up+down)/pages-float64(pageBytes), "overhead-bytes/page")
	b.ReportMetric(float64(conns)/cases, "conns/case")
	b.ReportMetric(raw, "raw-stream-ratio-to-link")
}

// rawAcross sends n bytes as one TCP stream across a fresh link of bps and
// delay to a sink that answers one byte at the end, and returns the time
// taken as a ratio to the link time of n bytes: the best any protocol
// can do over this proxy (a little under 1 for the burst, plus the round
// trip of the answer).
func rawAcross(b *testing.B, bps float64, delay time.Duration, n int) float64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(io.Discard, c)
		c.Write([]byte{1})
	}()
	px := newLinkProxy(b, ln.Addr().String(), bps, delay)
	c, err := net.Dial("tcp", px.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write(make([]byte, n)); err != nil {
		b.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		b.Fatal(err)
	}
	return time.Since(start).Seconds() / (float64(n) * 8 / bps)
}
