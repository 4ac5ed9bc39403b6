package serialport_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"yici/drivers/serialport"
)

// The sample file, which is also the format's documentation, loads whole.
func TestLoadConfig(t *testing.T) {
	c, err := serialport.LoadConfig("testdata/devices.json")
	if err != nil {
		t.Fatal(err)
	}
	want := map[serialport.Role]serialport.Device{
		serialport.RoleIDCard: {Role: "idcard", Port: "/dev/ttyS0", Where: "testdata/devices.json:2"},
		serialport.RolePrinter: {Role: "printer", USB: &serialport.USBMatch{VID: "1a86", PID: "7523"},
			Serial: serialport.Config{Baud: 115200, ReadTimeout: time.Second}, Where: "testdata/devices.json:3"},
		serialport.RoleCodeScan: {Role: "codescan", USB: &serialport.USBMatch{VID: "0c2e", PID: "0b61", Serial: "21034B4F13"},
			Serial: serialport.Config{Baud: 9600, DataBits: 8}, Where: "testdata/devices.json:4"},
		serialport.RoleEvalPad: {Role: "evalpad", Port: "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0",
			Serial: serialport.Config{DataBits: 7 + 1, Parity: serialport.ParityEven}, Where: "testdata/devices.json:5"},
		serialport.RoleDocScan: {Role: "docscan", SANE: "fujitsu:fi-7160:1234", Where: "testdata/devices.json:6"},
	}
	if !reflect.DeepEqual(c.Devices, want) {
		t.Fatalf("devices:\n got %+v\nwant %+v", c.Devices, want)
	}
	if _, err := serialport.LoadConfig("testdata/missing.json"); err == nil || !strings.Contains(err.Error(), "testdata/missing.json") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, in string
		err      string // the whole message after "serialport: "
	}{
		{"empty", ``, `f.json:1:1: JSON syntax: unexpected end of JSON input`},
		{"not an object", `[1]`, `f.json:1:1: want an object {…}, found [1]`},
		{"syntax", "{\n  \"idcard\": {\"port\": \"/dev/ttyS0\",}\n}", `f.json:2:35: JSON syntax: invalid character '}' looking for beginning of object key string`},
		{"trailing", `{} {}`, `f.json:1:4: JSON syntax: invalid character '{' after top-level value`},
		{"unknown role", "{\n\"printr\": {}}", `f.json:2:9: unknown device "printr": want one of idcard, printer, codescan, evalpad, docscan`},
		{"role twice", `{"idcard": {"port": "/dev/a"}, "idcard": {"port": "/dev/b"}}`, `f.json:1:40: "idcard" is configured twice`},
		{"device not object", `{"idcard": "/dev/ttyS0"}`, `f.json:1:12: idcard: want an object {…}, found "/dev/ttyS0"`},
		{"unknown setting", "{\"printer\": {\"port\": \"/dev/a\",\n \"baudrate\": 9600}}", `f.json:2:12: printer: unknown setting "baudrate": want one of port, usb, serial, baud, framing, read_timeout, sane`},
		{"setting twice", `{"printer": {"port": "/dev/a", "port": "/dev/b"}}`, `f.json:1:38: printer: "port" is set twice`},
		{"long value", `{"printer": {"port": "` + strings.Repeat("x", 50) + `"}}`, `f.json:1:22: printer: port "` + strings.Repeat("x", 39) + `…: want a device path such as /dev/ttyUSB0`},
		{"port not string", `{"printer": {"port": 1}}`, `f.json:1:22: printer: port 1: want a string`},
		{"relative port", `{"printer": {"port": "ttyUSB0"}}`, `f.json:1:22: printer: port "ttyUSB0": want a device path such as /dev/ttyUSB0`},
		{"usb form", `{"printer": {"usb": "1a86-7523"}}`, `f.json:1:21: printer: usb "1a86-7523": want vendor:product as lsusb shows them, such as 1a86:7523`},
		{"usb hex", `{"printer": {"usb": "1a86:75zz"}}`, `f.json:1:21: printer: usb "1a86:75zz": want vendor:product as lsusb shows them, such as 1a86:7523`},
		{"empty serial", `{"printer": {"usb": "1a86:7523", "serial": ""}}`, `f.json:1:44: printer: serial "": want the adapter's serial number (from yici probe), or leave it out`},
		{"serial without usb", `{"printer": {"port": "/dev/a", "serial": "X"}}`, `f.json:1:11: printer: serial needs usb: the serial number picks among adapters with the same vendor:product`},
		{"baud text", `{"printer": {"port": "/dev/a", "baud": "9600"}}`, `f.json:1:40: printer: baud "9600": want a whole number of bits per second, such as 9600 or 115200`},
		{"baud fraction", `{"printer": {"port": "/dev/a", "baud": 9600.5}}`, `f.json:1:40: printer: baud 9600.5: want a whole number of bits per second, such as 9600 or 115200`},
		{"baud zero", `{"printer": {"port": "/dev/a", "baud": 0}}`, `f.json:1:40: printer: baud 0: want a whole number of bits per second, such as 9600 or 115200`},
		{"framing", `{"printer": {"port": "/dev/a", "framing": "8N"}}`, `f.json:1:43: printer: framing "8N": want data bits, parity and stop bits, such as 8N1 or 7E1`},
		{"timeout", `{"printer": {"port": "/dev/a", "read_timeout": "5"}}`, `f.json:1:48: printer: read_timeout "5": want a positive duration such as 500ms or 2s`},
		{"negative timeout", `{"printer": {"port": "/dev/a", "read_timeout": "-1s"}}`, `f.json:1:48: printer: read_timeout "-1s": want a positive duration such as 500ms or 2s`},
		{"neither", `{"printer": {"baud": 9600}}`, `f.json:1:11: printer: give either "port" (a path) or "usb" (vendor:product), not both or neither`},
		{"both", `{"printer": {"port": "/dev/a", "usb": "1a86:7523"}}`, `f.json:1:11: printer: give either "port" (a path) or "usb" (vendor:product), not both or neither`},
		{"sane elsewhere", `{"printer": {"sane": "test"}}`, `f.json:1:22: printer: sane "test": only the document scanner (docscan) is driven through SANE`},
		{"docscan port", `{"docscan": {"port": "/dev/a"}}`, `f.json:1:11: docscan is driven through SANE: give only "sane" (its scanimage -L name)`},
		{"shared port", "{\"idcard\": {\"port\": \"/dev/a\"},\n \"printer\": {\"port\": \"/dev/a\"}}", `f.json:2: printer and idcard (f.json:1) are both on port /dev/a: give each device its own port, or the adapters' serial numbers`},
		{"shared adapter", "{\"idcard\": {\"usb\": \"1a86:7523\"},\n \"printer\": {\"usb\": \"1A86:7523\"}}", `f.json:2: printer and idcard (f.json:1) are both on USB 1a86:7523: give each device its own port, or the adapters' serial numbers`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := serialport.ParseConfig("f.json", []byte(tt.in))
			if err == nil {
				t.Fatalf("ParseConfig succeeded: %+v", c.Devices)
			}
			if got := strings.TrimPrefix(err.Error(), "serialport: "); got != tt.err {
				t.Fatalf("error\n got %s\nwant %s", got, tt.err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	c, err := serialport.ParseConfig("f.json", []byte(`{
		"idcard": {"port": "/dev/ttyS0"},
		"printer": {"usb": "1a86:7523"},
		"docscan": {"sane": "test"}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	ports := []serialport.PortInfo{{Name: "/dev/ttyS0"}, {Name: "/dev/ttyUSB3", IsUSB: true, VID: "1a86", PID: "7523"}}
	tests := []struct {
		role serialport.Role
		want string
		err  string
	}{
		{role: serialport.RoleIDCard, want: "/dev/ttyS0"},
		{role: serialport.RolePrinter, want: "/dev/ttyUSB3"},
		{role: serialport.RoleDocScan, err: "f.json:4: docscan has no serial port (it is driven through SANE)"},
		{role: serialport.RoleEvalPad, err: `f.json configures no "evalpad" device`},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			got, err := func() (string, error) {
				d, err := c.Device(tt.role)
				if err != nil {
					return "", err
				}
				return d.ResolveIn(ports)
			}()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %q, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	// Resolve with a path needs no listing; with nothing plugged in the USB
	// match says so.
	if p, err := c.Resolve(serialport.RoleIDCard); err != nil || p != "/dev/ttyS0" {
		t.Fatalf("Resolve(idcard) = %q, %v", p, err)
	}
	if _, err := c.Resolve(serialport.RolePrinter); err == nil || !strings.Contains(err.Error(), "f.json:3: printer: serialport: no USB serial port matches 1a86:7523") {
		t.Fatalf("Resolve(printer) with no adapter: %v", err)
	}
	if _, err := c.Devices[serialport.RoleDocScan].Open(serialport.ReconnectOptions{}); err == nil {
		t.Fatal("opened a serial port for the SANE scanner")
	}
}

// FuzzParseConfig feeds arbitrary files to the parser: it must not panic,
// and what it accepts must be usable: each serial device has exactly one
// of a path and a USB match, and framing that Open accepts.
func FuzzParseConfig(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := serialport.ParseConfig("f.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "serialport: f.json:") {
				t.Fatalf("error without a location: %v", err)
			}
			return
		}
		for role, d := range c.Devices {
			if role == serialport.RoleDocScan {
				if d.Port != "" || d.USB != nil {
					t.Fatalf("docscan with a serial port: %+v", d)
				}
				continue
			}
			if (d.Port == "") == (d.USB == nil) {
				t.Fatalf("%s: want exactly one of port and usb: %+v", role, d)
			}
			if d.USB != nil && (len(d.USB.VID) != 4 || len(d.USB.PID) != 4) {
				t.Fatalf("%s: bad USB match %+v", role, *d.USB)
			}
			if f := d.Serial.Framing(); strings.Contains(f, "?") {
				t.Fatalf("%s: framing %q", role, f)
			}
			if d.Serial.Baud < 0 || d.Serial.ReadTimeout < 0 {
				t.Fatalf("%s: settings %+v", role, d.Serial)
			}
		}
	})
}
