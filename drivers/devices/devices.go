// Package devices opens the hall's devices by their role: the serial
// ports from a device configuration file (found by path or USB id,
// reopened after an unplug) or from the command line's paths, with the
// drivers over them (ID-card reader, receipt printer, evaluation pad),
// and the document scanner to use. Every port and driver it opens is
// closed by Ports.Close.
package devices

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"yici/drivers/codescan"
	"yici/drivers/docscan"
	"yici/drivers/evalpad"
	"yici/drivers/idcard"
	"yici/drivers/printer"
	"yici/drivers/serialport"
)

// Ports opens the serial ports of the hall's devices: from a device
// configuration file when there is one (ports found by path or USB id,
// reopened after an unplug without a restart), else from the given paths.
// The zero Ports opens by path.
type Ports struct {
	Config  *serialport.DeviceConfig // nil: the paths given to Open
	Printer printer.Options          // the receipt printer's options

	closers []func() error
}

// Close closes every port and driver opened, the last opened first.
func (p *Ports) Close() error {
	var errs []error
	for i := len(p.closers) - 1; i >= 0; i-- {
		errs = append(errs, p.closers[i]())
	}
	p.closers = nil
	return errors.Join(errs...)
}

// Open opens the port of role; path is used without a configuration
// file. A nil port and no error mean the device is not fitted: not in the
// configuration file, or an empty path.
func (p *Ports) Open(role serialport.Role, path string) (serialport.Port, error) {
	if p.Config != nil {
		d, err := p.Config.Device(role)
		if err != nil {
			return nil, nil // not configured: not fitted
		}
		port, err := d.Open(serialport.ReconnectOptions{Notify: func(e serialport.Event) {
			if e.Up {
				log.Printf("devices: %s on %s", e.Port, e.Path)
			} else {
				log.Printf("devices: %s gone: %v; waiting for it to come back", e.Port, e.Err)
			}
		}})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", role, err)
		}
		p.closers = append(p.closers, port.Close)
		return port, nil
	}
	if path == "" {
		return nil, nil
	}
	port, err := serialport.Open(path, serialport.Config{Baud: 115200})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	p.closers = append(p.closers, port.Close)
	return port, nil
}

// Kiosk opens the kiosk's devices. The reader and printer are required;
// the pad is optional (nil: rating by QR code only).
func (p *Ports) Kiosk(cardPath, prnPath, padPath string) (*idcard.Reader, *printer.Printer, *evalpad.Pad, error) {
	cp, err := p.Open(serialport.RoleIDCard, cardPath)
	if err == nil && cp == nil {
		err = errors.New("idcard: no ID-card reader configured")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	pp, err := p.Open(serialport.RolePrinter, prnPath)
	if err == nil && pp == nil {
		err = errors.New("printer: no receipt printer configured")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	pad, err := p.Pad(padPath)
	if err != nil {
		return nil, nil, nil, err
	}
	return idcard.New(cp, nil), printer.New(pp, p.Printer), pad, nil
}

// Pad opens the evaluation pad, if one is configured (nil otherwise: the
// receipt's QR code remains).
func (p *Ports) Pad(path string) (*evalpad.Pad, error) {
	port, err := p.Open(serialport.RoleEvalPad, path)
	if err != nil || port == nil {
		return nil, err
	}
	d := evalpad.New(port, nil)
	p.closers = append(p.closers, d.Close)
	return d, nil
}

// CodeScanner opens the code scanner (QR/barcode), if one is configured
// (nil otherwise: no app codes).
func (p *Ports) CodeScanner(path string) (*codescan.Scanner, error) {
	port, err := p.Open(serialport.RoleCodeScan, path)
	if err != nil || port == nil {
		return nil, err
	}
	return codescan.New(port, nil), nil
}

// Reader opens an ID-card reader, if one is configured (nil otherwise).
func (p *Ports) Reader(path string) (*idcard.Reader, error) {
	port, err := p.Open(serialport.RoleIDCard, path)
	if err != nil || port == nil {
		return nil, err
	}
	return idcard.New(port, nil), nil
}

// Scanner picks the document scanner: the configured SANE device, or
// name's: "sim" or "" for the simulated one, "folder:DIR" for a scanner
// that drops its pages into DIR, otherwise a name for scanimage -d.
func Scanner(cfg *serialport.DeviceConfig, name string) docscan.Scanner {
	if cfg != nil {
		if d, err := cfg.Device(serialport.RoleDocScan); err == nil {
			return docscan.SANE{Device: d.SANE}
		}
	}
	if dir, ok := strings.CutPrefix(name, "folder:"); ok {
		return docscan.Folder{Dir: dir}
	}
	if name == "sim" || name == "" {
		return docscan.Simulated{}
	}
	return docscan.SANE{Device: name}
}
