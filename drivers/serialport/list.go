package serialport

import (
	"fmt"
	"slices"
	"strings"

	"go.bug.st/serial/enumerator"
)

// PortInfo describes a serial port the system knows. Pseudo-terminals (the
// simulators') are never listed: the system does not enumerate them.
type PortInfo struct {
	Name    string // device path, such as /dev/ttyUSB0
	IsUSB   bool
	VID     string // USB vendor ID, four lowercase hex digits as lsusb prints them
	PID     string // USB product ID, likewise
	Serial  string // USB serial number, if the adapter has one
	Product string // USB product string, if the system reports it
}

// USB gives "vid:pid", or "" for a port that is not on USB.
func (p PortInfo) USB() string {
	if !p.IsUSB {
		return ""
	}
	return p.VID + ":" + p.PID
}

// List lists the serial ports present now, sorted by name. It does not
// open them.
func List() ([]PortInfo, error) {
	// Without filters the enumerator reads only what the kernel already
	// publishes, and never talks to the devices.
	ds, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("serialport: list ports: %w", err)
	}
	ports := make([]PortInfo, 0, len(ds))
	for _, d := range ds {
		ports = append(ports, PortInfo{
			Name:    d.Name,
			IsUSB:   d.IsUSB,
			VID:     strings.ToLower(d.VID),
			PID:     strings.ToLower(d.PID),
			Serial:  d.SerialNumber,
			Product: d.Product,
		})
	}
	slices.SortFunc(ports, func(a, b PortInfo) int { return strings.Compare(a.Name, b.Name) })
	return ports, nil
}

// USBMatch picks a USB serial adapter by its IDs, and by its serial number
// when two identical adapters are plugged in.
type USBMatch struct {
	VID, PID string // four hex digits each
	Serial   string // empty matches any
}

func (m USBMatch) String() string {
	s := m.VID + ":" + m.PID
	if m.Serial != "" {
		s += " serial " + m.Serial
	}
	return s
}

// Matches reports whether p is the adapter m describes.
func (m USBMatch) Matches(p PortInfo) bool {
	return p.IsUSB && strings.EqualFold(p.VID, m.VID) && strings.EqualFold(p.PID, m.PID) &&
		(m.Serial == "" || p.Serial == m.Serial)
}

// Find picks the one port among ports that m matches. It fails when none
// does, naming what is plugged in instead, and when several do, since
// guessing could send printer bytes to the ID-card reader.
func (m USBMatch) Find(ports []PortInfo) (string, error) {
	var found []string
	for _, p := range ports {
		if m.Matches(p) {
			found = append(found, p.Name)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		var seen []string
		for _, p := range ports {
			if p.IsUSB {
				seen = append(seen, fmt.Sprintf("%s (%s serial %q)", p.Name, p.USB(), p.Serial))
			}
		}
		if len(seen) == 0 {
			return "", fmt.Errorf("serialport: no USB serial port matches %v: no USB serial adapter is plugged in", m)
		}
		return "", fmt.Errorf("serialport: no USB serial port matches %v; plugged in: %s", m, strings.Join(seen, ", "))
	}
	return "", fmt.Errorf("serialport: %d ports match %v (%s): set the adapter's serial number in the configuration to pick one", len(found), m, strings.Join(found, ", "))
}
