package probe

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"yici/drivers/serialport"
)

// repeated collects a flag given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }

// found is what probing one port gave.
type found struct {
	info   serialport.PortInfo
	role   string // the role the configuration file gives the port, if any
	device string // what answered, or why nothing did
	ok     bool
}

// list lists the ports and identifies the device on each.
func (c *cli) list(args []string) int {
	fs := c.flags("")
	var ports repeated
	fs.Var(&ports, "port", "probe only this `path` (repeatable; needed for pseudo-terminals, which are never listed)")
	config := fs.String("config", "", "device configuration `file`: also probe its ports and show each one's role")
	baudList := fs.String("baud", "115200,9600", "baud `rates` to try, in order")
	timeout := fs.Duration("timeout", 300*time.Millisecond, "how long to wait for each reply")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		return c.fail("", errUsage(fmt.Sprintf("unexpected argument %q", fs.Arg(0))))
	}
	bs, err := bauds(*baudList)
	if err != nil {
		return c.fail("", err)
	}

	listed, err := serialport.List()
	if err != nil {
		return c.fail("", err)
	}
	var infos []serialport.PortInfo
	if len(ports) == 0 {
		infos = listed
	}
	for _, p := range ports {
		infos = addPort(infos, listed, p)
	}
	roles := map[string]string{}
	if *config != "" {
		dc, err := serialport.LoadConfig(*config)
		if err != nil {
			return c.fail("", err)
		}
		for _, role := range serialport.Roles {
			d, ok := dc.Devices[role]
			if !ok || (d.Port == "" && d.USB == nil) {
				continue
			}
			path, err := d.ResolveIn(listed)
			if err != nil {
				fmt.Fprintf(c.err, "yici probe: %v\n", err)
				continue
			}
			roles[path] = string(role)
			infos = addPort(infos, listed, path)
		}
	}
	if len(infos) == 0 {
		fmt.Fprintln(c.err, "yici probe: no serial ports found. USB adapters appear as /dev/ttyUSB* or /dev/ttyACM*: check the cable and `dmesg`. A simulator's pseudo-terminal must be given with --port.")
		return 1
	}

	// Ports are probed at once: each waits mostly on silence.
	ids := append([]Identifier{escpos{}, ga467{}}, c.hooks.Identify...)
	results := make([]found, len(infos))
	var wg sync.WaitGroup
	for i, info := range infos {
		wg.Go(func() {
			results[i] = found{info: info, role: roles[info.Name]}
			results[i].device, results[i].ok = identify(info.Name, bs, ids, *timeout)
		})
	}
	wg.Wait()

	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	head := "PORT\tUSB\tSERIAL\tPRODUCT\t"
	if *config != "" {
		head += "CONFIGURED AS\t"
	}
	fmt.Fprintln(tw, head+"DEVICE")
	any := false
	for _, r := range results {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t", r.info.Name, dash(r.info.USB()), dash(r.info.Serial), dash(r.info.Product))
		if *config != "" {
			line += dash(r.role) + "\t"
		}
		fmt.Fprintln(tw, line+r.device)
		any = any || r.ok
	}
	tw.Flush()
	if !any {
		return 1
	}
	return 0
}

// addPort adds path to infos, with what the system lists about it.
func addPort(infos, listed []serialport.PortInfo, path string) []serialport.PortInfo {
	if slices.ContainsFunc(infos, func(i serialport.PortInfo) bool { return i.Name == path }) {
		return infos
	}
	for _, l := range listed {
		if l.Name == path {
			return append(infos, l)
		}
	}
	return append(infos, serialport.PortInfo{Name: path})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// identify tries each identifier at each baud rate, and says what
// answered first, or why nothing did.
func identify(path string, bauds []int, ids []Identifier, timeout time.Duration) (string, bool) {
	var tried []string
	var garbled error // the first reply that came but made no sense
	for _, b := range bauds {
		cfg := serialport.Config{Baud: b}
		p, err := serialport.Open(path, cfg)
		if err != nil {
			return openHelp(err).Error(), false
		}
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), 4*timeout)
			detail, err := id.Identify(ctx, p, timeout)
			cancel()
			if err == nil {
				p.Close()
				return fmt.Sprintf("%s at %d %s: %s", id.Kind(), b, cfg.Framing(), detail), true
			}
			if garbled == nil && !silence(err) {
				garbled = fmt.Errorf("at %d baud, to the %s query: %w", b, id.Kind(), err)
			}
		}
		p.Close()
		tried = append(tried, strconv.Itoa(b))
	}
	kinds := make([]string, len(ids))
	for i, id := range ids {
		kinds[i] = id.Kind()
	}
	if garbled != nil {
		return fmt.Sprintf("something answered on %s but no known device: check the baud rate and framing (%v)", path, garbled), false
	}
	return nothing(path, strings.Join(kinds, ", ")+" at "+strings.Join(tried, ", ")+" baud").Error(), false
}
