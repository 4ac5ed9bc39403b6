// Command yici-devsim runs the hall's device simulators on pseudo-terminals
// and prints their port paths, so a real "yici terminal" can be pointed at
// them. It takes commands on standard input, one per line:
//
//	place [JSON]          place an ID card (default: the invented 张三)
//	lift                  lift the card
//	reader ok|silent|badsum|truncate
//	paper out|low|ok      printer paper sensor
//	cover open|closed     printer cover
//	quit
//
// Receipts the printer cuts are saved as PNG files in --receipts.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"yici/drivers/idcard"
	"yici/drivers/sim"
)

var zhang = idcard.Card{
	Type: idcard.Resident, Name: "张三", Gender: "男", Nation: "汉", Birth: "19880504",
	Address: "辽宁省大连市中山区示例街道幸福路12号", IDNumber: "21020219880504123X",
	Authority: "大连市公安局中山分局", ValidFrom: "20180504", ValidTo: "20380504",
}

func main() {
	receipts := flag.String("receipts", "receipts", "directory for the PNGs of printed receipts")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	card, err := sim.NewIDCard()
	if err != nil {
		log.Fatal(err)
	}
	defer card.Close()
	prn, err := sim.NewPrinter()
	if err != nil {
		log.Fatal(err)
	}
	defer prn.Close()
	fmt.Printf("idcard  %s\nprinter %s\n", card.Path(), prn.Path())
	go saveReceipts(ctx, prn, *receipts)

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var cf sim.Faults
	var pf sim.PrinterFaults
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return
		case line, ok = <-lines:
			if !ok {
				<-ctx.Done() // stdin closed: keep serving until a signal
				return
			}
		}
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch cmd + " " + arg {
		case "lift ":
			card.Lift()
		case "reader ok", "reader silent", "reader badsum", "reader truncate":
			cf = sim.Faults{Silent: arg == "silent", BadChecksum: arg == "badsum", Truncate: arg == "truncate"}
			card.SetFaults(cf)
		case "paper out", "paper low", "paper ok":
			pf.PaperOut, pf.NearEnd = arg == "out", arg == "low"
			prn.SetFaults(pf)
		case "cover open", "cover closed":
			pf.CoverOpen = arg == "open"
			prn.SetFaults(pf)
		case "quit ":
			return
		default:
			if cmd != "place" {
				fmt.Println("? commands: place [JSON], lift, reader ok|silent|badsum|truncate, paper out|low|ok, cover open|closed, quit")
				continue
			}
			c := zhang
			if arg != "" {
				c = idcard.Card{Type: idcard.Resident}
				if err := json.Unmarshal([]byte(arg), &c); err != nil {
					fmt.Println("? place: card JSON:", err)
					continue
				}
			}
			card.Place(c)
		}
		fmt.Println("ok")
	}
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
			err = os.WriteFile(path, png, 0o644)
			fmt.Println("printed", path)
		}
		if err != nil {
			log.Printf("receipt: %v", err)
		}
	}
}
