package serialport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Role is what a device does in the hall; the configuration file is keyed
// by it.
type Role string

// The hall's devices.
const (
	RoleIDCard   Role = "idcard"   // GA 467 ID-card reader
	RolePrinter  Role = "printer"  // ESC/POS receipt printer
	RoleCodeScan Role = "codescan" // QR/barcode scanner
	RoleEvalPad  Role = "evalpad"  // service-rating pad
	RoleDocScan  Role = "docscan"  // document scanner, through SANE
)

// Roles lists every role in the order the configuration file documents them.
var Roles = []Role{RoleIDCard, RolePrinter, RoleCodeScan, RoleEvalPad, RoleDocScan}

// Device is one entry of the configuration file: where a device is and
// how its port is set up. Exactly one of Port and USB is set, except for
// the document scanner, which SANE drives and which has neither.
type Device struct {
	Role   Role
	Port   string    // a fixed path, such as /dev/ttyS0 or a /dev/serial/by-id link
	USB    *USBMatch // or the USB adapter to look for, wherever it is plugged in
	SANE   string    // docscan only: the scanimage device name; empty is SANE's default
	Serial Config    // baud, framing and read timeout
	Where  string    // file:line of the entry, for messages that send staff to it
}

// Label names the device's port in errors and events: its path, or the
// USB IDs it is matched by.
func (d Device) Label() string {
	if d.USB != nil {
		return "USB " + d.USB.String()
	}
	return d.Port
}

// Resolver finds the device's path, now and at each reconnection.
func (d Device) Resolver() Resolver {
	if d.USB != nil {
		return USBResolver(*d.USB)
	}
	return PathResolver(d.Port)
}

// ResolveIn finds the device's path among ports (as List gives them).
func (d Device) ResolveIn(ports []PortInfo) (string, error) {
	if d.USB != nil {
		p, err := d.USB.Find(ports)
		if err != nil {
			return "", fmt.Errorf("%s: %s: %w", d.Where, d.Role, err)
		}
		return p, nil
	}
	if d.Port == "" {
		return "", fmt.Errorf("%s: %s has no serial port (it is driven through SANE)", d.Where, d.Role)
	}
	return d.Port, nil
}

// Open opens the device's port as a Reconnecting port. It fails only for a
// device without a serial port; a device that is absent comes up later.
func (d Device) Open(opts ReconnectOptions) (*Reconnecting, error) {
	if d.Port == "" && d.USB == nil {
		return nil, fmt.Errorf("serialport: %s: %s has no serial port (it is driven through SANE)", d.Where, d.Role)
	}
	return OpenReconnecting(d.Label(), d.Resolver(), d.Serial, opts), nil
}

// DeviceConfig is the hall's device configuration file, read by LoadConfig.
type DeviceConfig struct {
	Path    string
	Devices map[Role]Device
}

// Device gives the entry for role, or an error naming the file when the
// file does not configure it.
func (c *DeviceConfig) Device(role Role) (Device, error) {
	d, ok := c.Devices[role]
	if !ok {
		return Device{}, fmt.Errorf("serialport: %s configures no %q device", c.Path, role)
	}
	return d, nil
}

// Resolve finds the path of role's device now: the configured path, or
// the port of the matching USB adapter among those plugged in.
func (c *DeviceConfig) Resolve(role Role) (string, error) {
	d, err := c.Device(role)
	if err != nil {
		return "", err
	}
	if d.USB == nil {
		return d.ResolveIn(nil)
	}
	ports, err := List()
	if err != nil {
		return "", err
	}
	return d.ResolveIn(ports)
}

// LoadConfig reads the device configuration file at path. It is a JSON
// object keyed by role:
//
//	{
//	  "idcard":   {"port": "/dev/ttyS0"},
//	  "printer":  {"usb": "1a86:7523", "baud": 115200, "read_timeout": "1s"},
//	  "codescan": {"usb": "0c2e:0b61", "serial": "21034B4F13", "baud": 9600, "framing": "8N1"},
//	  "evalpad":  {"port": "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0", "framing": "8E1"},
//	  "docscan":  {"sane": "fujitsu:fi-7160:1234"}
//	}
//
// port is a path; usb is vendor:product as lsusb shows them, with serial
// to tell identical adapters apart; baud defaults to 115200, framing to
// 8N1; read_timeout is a Go duration. Errors give file:line:column.
func LoadConfig(path string) (*DeviceConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serialport: device configuration: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig reads a device configuration from data; name is used in
// errors. See LoadConfig for the format.
func ParseConfig(name string, data []byte) (*DeviceConfig, error) {
	at := func(off int64) string {
		line, col := position(data, off)
		return fmt.Sprintf("%s:%d:%d", name, line, col)
	}
	// Check the syntax of the whole file first: Unmarshal reports where
	// a syntax error is (a Decoder stepping through tokens can miscount).
	var whole json.RawMessage
	if err := json.Unmarshal(data, &whole); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read, the offending one included.
			return nil, fmt.Errorf("serialport: %s: JSON syntax: %w", at(se.Offset-1), err)
		}
		return nil, fmt.Errorf("serialport: %s: %w", at(0), err)
	}
	roles, err := fields(data, 0)
	if err != nil {
		return nil, locate(at, err)
	}
	c := &DeviceConfig{Path: name, Devices: map[Role]Device{}}
	for _, f := range roles {
		role := Role(f.key)
		if !slices.Contains(Roles, role) {
			return nil, fmt.Errorf("serialport: %s: unknown device %q: want one of %s", at(f.keyOff), f.key, joinRoles())
		}
		if _, dup := c.Devices[role]; dup {
			return nil, fmt.Errorf("serialport: %s: %q is configured twice", at(f.keyOff), f.key)
		}
		line, _ := position(data, f.keyOff)
		d, err := parseDevice(role, f, at)
		if err != nil {
			return nil, err
		}
		d.Where = name + ":" + strconv.Itoa(line)
		c.Devices[role] = d
	}
	if err := c.checkShared(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkShared refuses two devices on one port: the second to open it
// would fail, or worse, both drivers would read each other's replies.
func (c *DeviceConfig) checkShared() error {
	seen := map[string]Device{}
	for _, role := range Roles {
		d, ok := c.Devices[role]
		if !ok {
			continue
		}
		var key string
		switch {
		case d.Port != "":
			key = "port " + d.Port
		case d.USB != nil:
			// Without serial numbers two identical adapters cannot be told
			// apart; with them, each must be distinct.
			key = "USB " + strings.ToLower(d.USB.VID+":"+d.USB.PID)
			if d.USB.Serial != "" {
				key += " serial " + d.USB.Serial
			}
		default:
			continue
		}
		if prev, ok := seen[key]; ok {
			return fmt.Errorf("serialport: %s: %s and %s (%s) are both on %s: give each device its own port, or the adapters' serial numbers", d.Where, d.Role, prev.Role, prev.Where, key)
		}
		seen[key] = d
	}
	return nil
}

func joinRoles() string {
	s := make([]string, len(Roles))
	for i, r := range Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// deviceKeys are the settings a device entry may have.
var deviceKeys = []string{"port", "usb", "serial", "baud", "framing", "read_timeout", "sane"}

func parseDevice(role Role, obj field, at func(int64) string) (Device, error) {
	d := Device{Role: role}
	fs, err := fields(obj.val, obj.valOff)
	if err != nil {
		return d, locate(at, fmt.Errorf("%s: %w", role, err))
	}
	set := map[string]bool{}
	for _, f := range fs {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("serialport: %s: %s: %s %s: %s", at(f.valOff), role, f.key, snippet(f.val), fmt.Sprintf(format, args...))
		}
		if set[f.key] {
			return d, fmt.Errorf("serialport: %s: %s: %q is set twice", at(f.keyOff), role, f.key)
		}
		set[f.key] = true
		var s string
		if f.key != "baud" {
			if err := json.Unmarshal(f.val, &s); err != nil {
				if slices.Contains(deviceKeys, f.key) {
					return d, bad("want a string")
				}
			}
		}
		switch f.key {
		case "port":
			if !strings.HasPrefix(s, "/") && !strings.HasPrefix(strings.ToUpper(s), "COM") {
				return d, bad("want a device path such as /dev/ttyUSB0")
			}
			d.Port = s
		case "usb":
			vid, pid, ok := strings.Cut(strings.ToLower(s), ":")
			if !ok || !isHex4(vid) || !isHex4(pid) {
				return d, bad("want vendor:product as lsusb shows them, such as 1a86:7523")
			}
			if d.USB == nil {
				d.USB = &USBMatch{}
			}
			d.USB.VID, d.USB.PID = vid, pid
		case "serial":
			if s == "" {
				return d, bad("want the adapter's serial number (from yici probe), or leave it out")
			}
			if d.USB == nil {
				d.USB = &USBMatch{}
			}
			d.USB.Serial = s
		case "baud":
			// Atoi on the raw text takes 9600 and refuses "9600", 9600.5
			// and 9.6e3 alike.
			b, err := strconv.Atoi(string(f.val))
			if err != nil || b < 50 || b > 4_000_000 {
				return d, bad("want a whole number of bits per second, such as 9600 or 115200")
			}
			d.Serial.Baud = b
		case "framing":
			if d.Serial.DataBits, d.Serial.Parity, d.Serial.StopBits, err = ParseFraming(s); err != nil {
				return d, bad("want data bits, parity and stop bits, such as 8N1 or 7E1")
			}
		case "read_timeout":
			t, err := time.ParseDuration(s)
			if err != nil || t <= 0 {
				return d, bad("want a positive duration such as 500ms or 2s")
			}
			d.Serial.ReadTimeout = t
		case "sane":
			if role != RoleDocScan {
				return d, bad("only the document scanner (docscan) is driven through SANE")
			}
			d.SANE = s
		default:
			return d, fmt.Errorf("serialport: %s: %s: unknown setting %q: want one of %s", at(f.keyOff), role, f.key, strings.Join(deviceKeys, ", "))
		}
	}
	where := at(obj.keyOff)
	switch {
	case set["serial"] && !set["usb"]:
		return d, fmt.Errorf("serialport: %s: %s: serial needs usb: the serial number picks among adapters with the same vendor:product", where, role)
	case role == RoleDocScan:
		if set["port"] || set["usb"] || set["baud"] || set["framing"] || set["read_timeout"] {
			return d, fmt.Errorf("serialport: %s: docscan is driven through SANE: give only \"sane\" (its scanimage -L name)", where)
		}
	case set["port"] == set["usb"]:
		return d, fmt.Errorf("serialport: %s: %s: give either \"port\" (a path) or \"usb\" (vendor:product), not both or neither", where, role)
	}
	return d, nil
}

func isHex4(s string) bool {
	if len(s) != 4 {
		return false
	}
	_, err := strconv.ParseUint(s, 16, 16)
	return err == nil
}

// field is one member of a JSON object, with the offsets of its key and
// value in the whole file.
type field struct {
	key            string
	keyOff, valOff int64
	val            json.RawMessage
}

// offsetError is a JSON error at a known offset in the file.
type offsetError struct {
	off int64
	err error
}

func (e *offsetError) Error() string { return e.err.Error() }

// fields splits the JSON object in data, which starts at offset base in
// the file, into its members in order. Going member by member, rather than
// unmarshalling into a struct, is what lets every error name its line.
// data must be valid JSON (ParseConfig checks the file first), so the
// decoder's only errors here are I/O ones that cannot happen on a slice.
func fields(data []byte, base int64) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, &offsetError{base, err}
	}
	if tok != json.Delim('{') {
		return nil, &offsetError{base, fmt.Errorf("want an object {…}, found %s", snippet(data))}
	}
	var fs []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &offsetError{base + dec.InputOffset(), err}
		}
		key, _ := tok.(string) // inside an object the decoder yields only string keys
		f := field{key: key, keyOff: base + dec.InputOffset()}
		if err := dec.Decode(&f.val); err != nil {
			return nil, &offsetError{base + dec.InputOffset(), err}
		}
		f.valOff = base + dec.InputOffset() - int64(len(f.val))
		fs = append(fs, f)
	}
	return fs, nil
}

// snippet quotes a JSON value in a message, cut short if it is long.
func snippet(v []byte) string {
	const most = 40
	if r := []rune(string(v)); len(r) > most {
		return string(r[:most]) + "…"
	}
	return string(v)
}

// locate prefixes an *offsetError with its file:line:column.
func locate(at func(int64) string, err error) error {
	var oe *offsetError
	if errors.As(err, &oe) {
		return fmt.Errorf("serialport: %s: %w", at(oe.off), err)
	}
	return fmt.Errorf("serialport: %w", err)
}

// position turns a byte offset into a 1-based line and column (in bytes).
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
