// Command yici-devsim runs the hall's device simulators on pseudo-terminals
// and prints their port paths, so a real "yici terminal" can be pointed at
// them. It takes commands one per line on standard input and, with
// --socket, on a local Unix socket (socat - UNIX-CONNECT:PATH):
//
//	place [JSON]            place an ID card (default: the invented 张三)
//	lift                    lift the card
//	reader ok|silent|badsum|truncate
//	paper out|low|ok        printer paper sensor
//	cover open|closed       printer cover
//	scan CODE               the code scanner reads CODE
//	rate LEVEL [REASON…]    press the pad: LEVEL 1 (非常满意) … 5 (非常不满意);
//	                        reasons 1 态度差 2 效率低 3 多次跑 4 指南不清
//	                        5 要求额外材料 6 业务不熟 99 其他
//	shown                   what the pad shows
//	quit
//
// Receipts the printer cuts are saved as PNG files in --receipts.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"yici/drivers/evalpad"
	"yici/drivers/idcard"
	"yici/drivers/sim"
)

func main() {
	receipts := flag.String("receipts", "receipts", "directory for the PNGs of printed receipts")
	socket := flag.String("socket", "", "also take commands on this Unix socket")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	h, err := start()
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	fmt.Printf("idcard   %s\nprinter  %s\nevalpad  %s\ncodescan %s\n", h.card.Path(), h.prn.Path(), h.pad.Path(), h.code.Path())
	go saveReceipts(ctx, h.prn, *receipts)

	quit := make(chan struct{})
	var once sync.Once
	done := func() { once.Do(func() { close(quit) }) }
	if *socket != "" {
		os.Remove(*socket)
		ln, err := net.Listen("unix", *socket)
		if err != nil {
			log.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { defer c.Close(); h.serve(c, c, done) }()
			}
		}()
	}
	go func() {
		h.serve(os.Stdin, os.Stdout, done)
	}()
	select {
	case <-ctx.Done():
	case <-quit:
	}
}

// hall is the set of simulated devices and the commands that drive them.
type hall struct {
	card *sim.IDCard
	prn  *sim.Printer
	pad  *sim.Pad
	code *sim.CodeScanner

	mu sync.Mutex // serialises commands from stdin and the socket
	cf sim.Faults
	pf sim.PrinterFaults
}

func start() (*hall, error) {
	h := &hall{}
	var err error
	if h.card, err = sim.NewIDCard(); err != nil {
		return nil, err
	}
	if h.prn, err = sim.NewPrinter(); err == nil {
		if h.pad, err = sim.NewPad(); err == nil {
			h.code, err = sim.NewCodeScanner()
		}
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

func (h *hall) Close() {
	if h.card != nil {
		h.card.Close()
	}
	if h.prn != nil {
		h.prn.Close()
	}
	if h.pad != nil {
		h.pad.Close()
	}
	if h.code != nil {
		h.code.Close()
	}
}

// serve answers each command line read from r on w until r ends or quit.
func (h *hall) serve(r io.Reader, w io.Writer, quit func()) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		reply, err := h.do(sc.Text())
		if errors.Is(err, errQuit) {
			quit()
			return
		}
		if err != nil {
			fmt.Fprintln(w, "? "+err.Error())
		} else {
			fmt.Fprintln(w, reply)
		}
	}
}

var errQuit = errors.New("quit")

const help = "commands: place [JSON], lift, reader ok|silent|badsum|truncate, paper out|low|ok, cover open|closed, scan CODE, rate LEVEL [REASON...], shown, quit"

// do runs one command and says what happened.
func (h *hall) do(line string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch cmd {
	case "place":
		c := sim.SampleCard
		if arg != "" {
			c = idcard.Card{Type: idcard.Resident}
			if err := json.Unmarshal([]byte(arg), &c); err != nil {
				return "", fmt.Errorf("place: card JSON: %w", err)
			}
			if _, err := idcard.EncodeText(&c); err != nil {
				return "", fmt.Errorf("place: %w", err)
			}
		}
		h.card.Place(c)
		return "ok: card placed", nil
	case "lift":
		h.card.Lift()
		return "ok: card lifted", nil
	case "reader":
		switch arg {
		case "ok", "silent", "badsum", "truncate":
			h.cf = sim.Faults{Silent: arg == "silent", BadChecksum: arg == "badsum", Truncate: arg == "truncate"}
			h.card.SetFaults(h.cf)
			return "ok: reader " + arg, nil
		}
	case "paper":
		switch arg {
		case "out", "low", "ok":
			h.pf.PaperOut, h.pf.NearEnd = arg == "out", arg == "low"
			h.prn.SetFaults(h.pf)
			return "ok: paper " + arg, nil
		}
	case "cover":
		switch arg {
		case "open", "closed":
			h.pf.CoverOpen = arg == "open"
			h.prn.SetFaults(h.pf)
			return "ok: cover " + arg, nil
		}
	case "scan":
		if arg == "" {
			break
		}
		if err := h.code.Scan(arg); err != nil {
			return "", err
		}
		return "ok: scanned", nil
	case "rate":
		f := strings.Fields(arg)
		if len(f) == 0 {
			break
		}
		var nums []int
		for _, s := range f {
			n, err := strconv.Atoi(s)
			if err != nil {
				return "", fmt.Errorf("rate: %q is not a number", s)
			}
			nums = append(nums, n)
		}
		var reasons []evalpad.Reason
		for _, n := range nums[1:] {
			reasons = append(reasons, evalpad.Reason(n))
		}
		l := evalpad.Level(nums[0])
		if err := h.pad.Press(l, reasons...); err != nil {
			return "", err
		}
		return "ok: rated " + l.String(), nil
	case "shown":
		p, ok := h.pad.Shown()
		if !ok {
			return "pad: nothing shown", nil
		}
		return fmt.Sprintf("pad: case %s, %s, %s, %s (%s)", p.CaseNo, p.Item, p.Window, p.ClerkName, h.pad.State()), nil
	case "quit":
		return "", errQuit
	}
	return "", errors.New(help)
}

func saveReceipts(ctx context.Context, prn *sim.Printer, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Printf("receipts: %v", err)
		return
	}
	for n := 1; ; n++ {
		r, err := prn.Next(ctx)
		if err != nil {
			return
		}
		png, err := r.PNG()
		if err == nil {
			path := filepath.Join(dir, fmt.Sprintf("receipt-%03d.png", n))
			if err = os.WriteFile(path, png, 0o644); err == nil {
				fmt.Println("printed", path)
			}
		}
		if err != nil {
			log.Printf("receipt: %v", err)
		}
	}
}
