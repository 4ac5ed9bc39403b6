package uploader

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"yici/sync/wire"
)

// Faults the proxy injects, per TCP connection.
const (
	pxRefused = "refused"        // the listener is closed for a while: dials are refused
	pxReset   = "reset mid-body" // RST after some bytes of the request
	pxStall   = "stall"          // stop forwarding, past the client's timeout
	px500     = "500"            // answer 500 in the platform's stead
	pxLostAck = "lost ack"       // forward the request, drop the answer, RST
)

// faultProxy is a real TCP proxy in front of the platform that breaks
// connections as a hall's network does, below HTTP, so the uploader meets
// the errors its transport really returns.
type faultProxy struct {
	target string
	addr   string
	refuse float64 // the share of connections answered by refusing the next ones
	within int     // a connection breaks within this many bytes from the terminal
	stall  time.Duration
	kinds  []string // the faults other than refusal to choose from

	mu     sync.Mutex
	ln     net.Listener
	rng    *rand.Rand
	seen   map[string]int
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// newFaultProxy breaks connections with the faults kinds, all but refusal
// when none are given.
func newFaultProxy(t *testing.T, target string, refuse float64, within int, stall time.Duration, kinds ...string) *faultProxy {
	if len(kinds) == 0 {
		kinds = []string{pxReset, pxStall, px500, pxLostAck}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{target: target, addr: ln.Addr().String(), refuse: refuse, within: within, stall: stall, kinds: kinds, ln: ln,
		rng: rand.New(rand.NewPCG(5, 11)), seen: map[string]int{}, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept(ln)
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			return
		}
		// Every connection breaks in the end, after a random number of
		// bytes sent; kept-alive connections carry several requests first.
		fault := pxRefused
		if p.rng.Float64() >= p.refuse {
			fault = p.kinds[p.rng.IntN(len(p.kinds))]
		}
		p.seen[fault]++
		at := int64(1 + p.rng.IntN(p.within))
		p.conns[c] = true
		p.wg.Add(1)
		p.mu.Unlock()
		if fault == pxRefused {
			reset(c)
			p.wg.Done()
			p.refuseFor(ln, time.Duration(20+p.rng.IntN(80))*time.Millisecond)
			return // refuseFor started a new accept loop
		}
		go p.serve(c, fault, at)
	}
}

// refuseFor closes the listener for d, so that dials get ECONNREFUSED,
// then listens on the same address again.
func (p *faultProxy) refuseFor(ln net.Listener, d time.Duration) {
	ln.Close()
	time.Sleep(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	nl, err := net.Listen("tcp", p.addr)
	if err != nil {
		panic("fault proxy: listen again on " + p.addr + ": " + err.Error())
	}
	p.ln = nl
	p.wg.Add(1)
	go p.accept(nl)
}

func (p *faultProxy) serve(c net.Conn, fault string, at int64) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		reset(c)
		return
	}
	p.mu.Lock()
	p.conns[up] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, up)
		p.mu.Unlock()
	}()

	var once sync.Once
	kill := func() { once.Do(func() { reset(c); reset(up) }) }
	done := make(chan struct{}, 2)
	var struck atomic.Bool // the terminal has sent at bytes
	go func() {            // platform → terminal
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 && fault == pxLostAck && struck.Load() {
				kill() // the platform did the work; its answer is lost
				return
			}
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					kill()
					return
				}
			}
			if err != nil {
				kill()
				return
			}
		}
	}()
	go func() { // terminal → platform
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		var sent int64
		for {
			n, err := c.Read(buf)
			if n > 0 && sent+int64(n) >= at {
				struck.Store(true)
				switch fault {
				case pxReset:
					up.Write(buf[:at-sent])
					kill()
					return
				case pxStall:
					time.Sleep(p.stall)
					kill()
					return
				case px500:
					body := `{"error":{"code":"internal","message":"injected by the fault proxy"}}`
					fmt.Fprintf(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
					kill()
					return
				}
			}
			sent += int64(n)
			if n > 0 {
				if _, werr := up.Write(buf[:n]); werr != nil {
					kill()
					return
				}
			}
			if err != nil {
				kill()
				return
			}
		}
	}()
	<-done
	kill()
	<-done
}

// reset closes c with a TCP RST rather than a FIN, as a dropped link or a
// crashed peer looks to the other side.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

func (p *faultProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.ln.Close()
	for c := range p.conns {
		reset(c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *faultProxy) faults() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.seen {
		out[k] = v
	}
	return out
}

// TestFaultProxy sends cases and events through a TCP proxy that refuses,
// resets, stalls, answers 500 and loses answers; every case and event must
// reach the platform exactly once, byte-identical, and the outbox empty.
func TestFaultProxy(t *testing.T) { faultProxyRun(t, 0) }

// TestFaultProxyResumable is TestFaultProxy with the 150 KiB blobs sent by
// the resumable upload, so that its offsets meet every fault too: a PATCH
// whose answer is lost, one that stalls while the retry asks the offset.
func TestFaultProxyResumable(t *testing.T) { faultProxyRun(t, 100<<10) }

// faultProxyRun is TestFaultProxy with blobs above resumableAbove sent
// resumably (0: the default).
func faultProxyRun(t *testing.T, resumableAbove int64) {
	dir := t.TempDir()
	p := newPlatform(t, filepath.Join(dir, "platform"))
	s := openStore(t, dir)
	var ids []string
	for i := range 16 {
		id := fmt.Sprintf("desk-07-c%02d", i)
		ids = append(ids, id)
		sizes := map[string]int{id + "-a": 20<<10 + i, id + "-b": 150 << 10}
		if i%4 == 0 {
			sizes["shared-stamp"] = 3000
		}
		addCase(t, s, id, sizes)
		e := wire.Event{ID: id + "-ev", Kind: wire.EventHandlingStarted, At: time.Now(), Case: id, Clerk: "王丽"}
		if err := s.QueueEvent(e, nil); err != nil {
			t.Fatal(err)
		}
	}
	target, _ := url.Parse(p.url)
	opt := fast
	opt.RequestTimeout = 400 * time.Millisecond
	opt.ResumableAbove = resumableAbove
	px := newFaultProxy(t, target.Host, 0.15, 400<<10, 2*opt.RequestTimeout)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var refusedDials atomic.Int64 // dials that met the closed listener
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if errors.Is(err, syscall.ECONNREFUSED) {
			refusedDials.Add(1)
		}
		return c, err
	}
	c := p.client(tr)
	c.BaseURL = "http://" + px.addr
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if err := New(s, c, opt).Drain(ctx); err != nil {
		t.Fatalf("drain through the fault proxy: %v (faults so far %v)", err, px.faults())
	}
	checkDelivered(t, s, p, ids)
	if left, _ := s.PendingEvents(); len(left) != 0 {
		t.Errorf("%d events left in the outbox", len(left))
	}
	for _, id := range ids {
		if evs, err := p.st.CaseEvents(context.Background(), id); err != nil || len(evs) != 1 {
			t.Errorf("case %s has %d events on the platform (%v)", id, len(evs), err)
		}
	}
	seen := px.faults()
	for _, f := range []string{pxRefused, pxReset, pxStall, px500, pxLostAck} {
		if seen[f] == 0 {
			t.Errorf("fault %q was never injected", f)
		}
	}
	if refusedDials.Load() == 0 {
		t.Error("no dial was refused")
	}
	t.Logf("faults injected: %v; dials refused: %d", seen, refusedDials.Load())
}

// TestResumeThroughProxy sends the same large blobs twice through a proxy
// that resets every connection within 1.5 MiB: once resumably, once by
// plain PUTs that start again. Resumed, every byte the platform reads is
// kept, so it reads each blob once; restarted, it reads the broken tries
// too. Either way every blob arrives byte-identical and is held once.
func TestResumeThroughProxy(t *testing.T) {
	const blobs, size = 4, 512 << 10
	run := func(t *testing.T, resumableAbove int64) (received, resets int64, percents map[string][]int) {
		dir := t.TempDir()
		p := newPlatform(t, filepath.Join(dir, "platform"))
		s := openStore(t, dir)
		var ids []string
		for i := range blobs {
			id := fmt.Sprintf("desk-07-c%d", i)
			ids = append(ids, id)
			addCase(t, s, id, map[string]int{id + "-scan": size})
		}
		target, _ := url.Parse(p.url)
		opt := fast
		opt.ResumableAbove = resumableAbove
		percents = map[string][]int{}
		opt.OnEvent = func(e Event) {
			if e.Kind == Sending {
				percents[e.Case] = append(percents[e.Case], e.Percent)
			}
		}
		px := newFaultProxy(t, target.Host, 0, 1536<<10, 0, pxReset)
		c := p.client(http.DefaultTransport.(*http.Transport).Clone())
		c.BaseURL = "http://" + px.addr
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := New(s, c, opt).Drain(ctx); err != nil {
			t.Fatalf("drain through the proxy: %v (faults %v)", err, px.faults())
		}
		checkDelivered(t, s, p, ids)
		return p.blobBytes.Load(), int64(px.faults()[pxReset]), percents
	}
	resumed, resumedResets, percents := run(t, 64<<10)
	restarted, restartedResets, _ := run(t, size)
	t.Logf("blob bytes read by the platform for %d bytes of blobs: resumed %d (%d resets), restarted %d (%d resets)",
		blobs*size, resumed, resumedResets, restarted, restartedResets)
	if resumed != blobs*size {
		t.Errorf("resumed: the platform read %d blob bytes, want %d, each byte once", resumed, blobs*size)
	}
	if restarted <= resumed {
		t.Errorf("restarting sent %d bytes, no more than resuming's %d: the proxy broke no body", restarted, resumed)
	}
	for id, ps := range percents {
		if ps[len(ps)-1] != 100 || !slices.ContainsFunc(ps, func(p int) bool { return p > 0 && p < 100 }) {
			t.Errorf("case %s: sending %v, want steps within the blob and 100 last", id, ps)
		}
	}
}
