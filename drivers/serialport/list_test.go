package serialport_test

import (
	"strings"
	"testing"

	"yici/drivers/serialport"
)

func TestUSBMatchFind(t *testing.T) {
	ch340a := serialport.PortInfo{Name: "/dev/ttyUSB0", IsUSB: true, VID: "1a86", PID: "7523", Serial: "A1"}
	ch340b := serialport.PortInfo{Name: "/dev/ttyUSB1", IsUSB: true, VID: "1a86", PID: "7523", Serial: "B2"}
	ftdi := serialport.PortInfo{Name: "/dev/ttyUSB2", IsUSB: true, VID: "0403", PID: "6001"}
	board := serialport.PortInfo{Name: "/dev/ttyS0"}
	tests := []struct {
		name  string
		match serialport.USBMatch
		ports []serialport.PortInfo
		want  string
		err   []string // substrings of the error
	}{
		{name: "one match", match: serialport.USBMatch{VID: "0403", PID: "6001"}, ports: []serialport.PortInfo{board, ch340a, ftdi}, want: "/dev/ttyUSB2"},
		{name: "case of hex digits", match: serialport.USBMatch{VID: "1A86", PID: "7523"}, ports: []serialport.PortInfo{ch340a, ftdi}, want: "/dev/ttyUSB0"},
		{name: "serial picks", match: serialport.USBMatch{VID: "1a86", PID: "7523", Serial: "B2"}, ports: []serialport.PortInfo{ch340a, ch340b}, want: "/dev/ttyUSB1"},
		{name: "two alike", match: serialport.USBMatch{VID: "1a86", PID: "7523"}, ports: []serialport.PortInfo{ch340a, ch340b},
			err: []string{"2 ports match 1a86:7523", "/dev/ttyUSB0, /dev/ttyUSB1", "serial number"}},
		{name: "absent", match: serialport.USBMatch{VID: "067b", PID: "2303"}, ports: []serialport.PortInfo{board, ftdi},
			err: []string{"no USB serial port matches 067b:2303", "plugged in: /dev/ttyUSB2 (0403:6001"}},
		{name: "wrong serial", match: serialport.USBMatch{VID: "1a86", PID: "7523", Serial: "C3"}, ports: []serialport.PortInfo{ch340a},
			err: []string{"1a86:7523 serial C3", `/dev/ttyUSB0 (1a86:7523 serial "A1")`}},
		{name: "no USB at all", match: serialport.USBMatch{VID: "1a86", PID: "7523"}, ports: []serialport.PortInfo{board},
			err: []string{"no USB serial adapter is plugged in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.match.Find(tt.ports)
			if tt.err != nil {
				if err == nil {
					t.Fatalf("Find = %q, want an error", got)
				}
				for _, s := range tt.err {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Find = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// List works where there are no USB adapters; on a machine with some, it
// gives them with their IDs in lsusb's form.
func TestList(t *testing.T) {
	ports, err := serialport.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if p.IsUSB && (len(p.VID) != 4 || p.VID != strings.ToLower(p.VID)) {
			t.Errorf("%s: VID %q, want four lowercase hex digits", p.Name, p.VID)
		}
	}
}
