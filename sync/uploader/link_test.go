package uploader

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// linkChunk is the most the link proxy forwards at once, and linkBurst the
// credit an idle direction may save up: both small, so that the shaping is
// felt by every request and not absorbed by a buffer.
const (
	linkChunk = 8 << 10
	linkBurst = 16 << 10
	// linkSockBuf is the kernel buffer the proxy asks for on its sockets,
	// so that the terminal cannot push megabytes ahead into the proxy.
	linkSockBuf = 32 << 10
)

// pacer is one direction of a link of bps bits per second, shared by every
// connection across it: a token bucket kept as the time the link is next
// free. Bytes pass in the order they were reserved.
type pacer struct {
	bps   float64
	burst time.Duration // linkBurst at bps

	mu   sync.Mutex
	free time.Time
}

func newPacer(bps float64) *pacer {
	return &pacer{bps: bps, burst: time.Duration(float64(linkBurst*8) / bps * 1e9)}
}

// reserve books n bytes on the link and returns when their last bit has
// crossed it. A link idle for a while lends at most the burst.
func (p *pacer) reserve(n int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if earliest := now.Add(-p.burst); p.free.Before(earliest) {
		p.free = earliest
	}
	p.free = p.free.Add(time.Duration(float64(n*8) / p.bps * 1e9))
	return p.free
}

// linkProxy is a TCP proxy that is a hall's link to the platform: each
// direction carries at most bps bits per second (TCP payload: the IP and
// TCP headers are not counted or paced), shared by all connections, and
// delivers each byte delay after it has crossed (half the round trip).
// It counts the bytes each way and the connections. It ends TCP on each
// side, so the TCP handshake costs the terminal no round trip and slow
// start is not felt: the delay is paid by the data only.
type linkProxy struct {
	target   string
	addr     string
	up, down *pacer
	delay    time.Duration

	upBytes, downBytes, conns atomic.Int64

	ln   net.Listener
	mu   sync.Mutex
	open map[net.Conn]bool
	wg   sync.WaitGroup
}

func newLinkProxy(tb testing.TB, target string, bps float64, delay time.Duration) *linkProxy {
	ln, err := (&net.ListenConfig{Control: ethernetMSS}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &linkProxy{target: target, addr: ln.Addr().String(), up: newPacer(bps), down: newPacer(bps), delay: delay,
		ln: ln, open: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *linkProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *linkProxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.open[c] = true
	} else {
		delete(p.open, c)
	}
}

func (p *linkProxy) serve(c net.Conn) {
	defer p.wg.Done()
	p.track(c, true)
	defer p.track(c, false)
	defer c.Close()
	up, err := (&net.Dialer{Control: ethernetMSS}).Dial("tcp", p.target)
	if err != nil {
		return
	}
	p.track(up, true)
	defer p.track(up, false)
	defer up.Close()
	for _, s := range []net.Conn{c, up} {
		s.(*net.TCPConn).SetReadBuffer(linkSockBuf)
		s.(*net.TCPConn).SetWriteBuffer(linkSockBuf)
	}
	done := make(chan struct{}, 2)
	go func() { p.pipe(up, c, p.up, &p.upBytes); done <- struct{}{} }()
	go func() { p.pipe(c, up, p.down, &p.downBytes); done <- struct{}{} }()
	<-done
	<-done
}

// ethernetMSS gives a socket the segments of an Ethernet link (1448
// bytes of payload) instead of loopback's 64 KiB: with those, a receive
// buffer smaller than two segments has the kernel withhold window updates
// (silly-window avoidance) and the sender stalls on its 200 ms persist
// timer, which no hall's link does.
func ethernetMSS(network, address string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 1448)
	})
	if err != nil {
		return err
	}
	return serr
}

// pipe forwards from src to dst across the link direction l: it reads a
// chunk, waits until the link has carried it, and hands it to a writer
// that delivers it delay later. It reads no faster than the link carries,
// so the sender meets back-pressure as on a real link.
func (p *linkProxy) pipe(dst, src net.Conn, l *pacer, n *atomic.Int64) {
	type chunk struct {
		b   []byte
		due time.Time
	}
	// The chunks in flight: a link of 100 Mbit/s with 50 ms one way holds
	// 625 KB, 77 chunks.
	flight := make(chan chunk, 128)
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for ch := range flight {
			if d := time.Until(ch.due); d > 0 {
				time.Sleep(d) // the link's own timing, not synchronisation
			}
			if _, err := dst.Write(ch.b); err != nil {
				src.Close()
				for range flight {
				}
				return
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	for {
		b := make([]byte, linkChunk)
		k, err := src.Read(b)
		if k > 0 {
			n.Add(int64(k))
			crossed := l.reserve(k)
			if d := time.Until(crossed); d > 0 {
				time.Sleep(d)
			}
			flight <- chunk{b[:k], crossed.Add(p.delay)}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			break
		}
	}
	close(flight)
	<-wrote
}
