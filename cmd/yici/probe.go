package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"yici/drivers/codescan"
	"yici/drivers/evalpad"
	"yici/drivers/probe"
	"yici/drivers/serialport"
)

// probeMain is "yici probe": the drivers of the pad and the code scanner
// are plugged into the probe here, so drivers/probe needs neither.
func probeMain(args []string) int { return probe.MainWith(probeHooks(), args, os.Stdout, os.Stderr) }

func probeHooks() probe.Hooks {
	return probe.Hooks{
		Identify: []probe.Identifier{padIdentifier{}},
		CodeScan: func(ctx context.Context, p serialport.Port, out io.Writer) error {
			fmt.Fprintln(out, "waiting for a scan…")
			code, err := codescan.New(p, nil).Next(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, code)
			return nil
		},
		EvalPad: func(ctx context.Context, p serialport.Port, out io.Writer) error {
			d := evalpad.New(p, nil)
			defer d.Close()
			st, err := d.Heartbeat(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "pad answered the heartbeat: %+v\n", st)
			if err := d.Prompt(ctx, evalpad.Prompt{CaseNo: "TEST-0001", ClerkName: "设备检测", ClerkID: "probe", Window: "检测"}); err != nil {
				return err
			}
			fmt.Fprintln(out, "press a rating on the pad within 30 s…")
			r, err := d.AskRating(ctx, 30*time.Second)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "rating received: %s %v\n", r.Level, r.Reasons)
			return nil
		},
	}
}

// padIdentifier asks a port for an evaluation pad's heartbeat, which
// changes nothing on the pad.
type padIdentifier struct{}

func (padIdentifier) Kind() string { return "evaluation pad (评价器)" }

func (padIdentifier) Identify(ctx context.Context, p serialport.Port, timeout time.Duration) (string, error) {
	d := evalpad.New(p, &evalpad.Options{ReplyTimeout: timeout, Attempts: 1})
	defer d.Close()
	st, err := d.Heartbeat(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%+v", st), nil
}
