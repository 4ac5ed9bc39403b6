package printer

import (
	"fmt"
	"strings"
)

// Status is the printer's state as read with DLE EOT 1, 2 and 4.
type Status struct {
	Offline         bool // n=1 bit 3; also set by a cover open or paper out
	WaitingRecovery bool // n=1 bit 5: waiting to come back online
	CoverOpen       bool // n=2 bit 2
	PaperOut        bool // n=2 bit 5 (stopped at paper end) or n=4 bits 5-6
	PaperNearEnd    bool // n=4 bits 2-3: printing still works
	Error           bool // n=2 bit 6: cutter jam, head overheat and the like

	// Raw holds the three reply bytes (n=1, 2, 4), for the log.
	Raw [3]byte
}

// fixedMask selects the bits that every DLE EOT reply has fixed: bits 1 and
// 4 set, 0 and 7 clear. A byte that breaks them is line noise or an answer
// to something else, not a status.
const (
	fixedMask = 0x93
	fixedBits = 0x12
)

// ParseStatus decodes the replies to DLE EOT 1 (printer), 2 (offline
// cause) and 4 (paper sensor).
func ParseStatus(printer, offline, paper byte) (Status, error) {
	for i, b := range [3]byte{printer, offline, paper} {
		if b&fixedMask != fixedBits {
			return Status{}, fmt.Errorf("printer: DLE EOT %d reply %#02x is not a status byte (bits 1,4 must be set and 0,7 clear)", [3]int{1, 2, 4}[i], b)
		}
	}
	return Status{
		Offline:         printer&0x08 != 0,
		WaitingRecovery: printer&0x20 != 0,
		CoverOpen:       offline&0x04 != 0,
		PaperOut:        offline&0x20 != 0 || paper&0x60 != 0,
		PaperNearEnd:    paper&0x0C != 0,
		Error:           offline&0x40 != 0,
		Raw:             [3]byte{printer, offline, paper},
	}, nil
}

// Ready reports whether the printer can print now. Paper near end is only
// a warning: the roll still has some metres.
func (s Status) Ready() bool {
	return !s.Offline && !s.CoverOpen && !s.PaperOut && !s.Error
}

// String says, in Chinese and English, what a clerk should do. Causes come
// before their effect: a cover open or paper out also makes the printer
// offline, and telling the clerk to check the cable then would mislead.
func (s Status) String() string {
	var m []string
	if s.CoverOpen {
		m = append(m, "上盖打开：请合上打印机上盖 / cover open: close the printer cover")
	}
	if s.PaperOut {
		m = append(m, "缺纸：请装入打印纸 / paper out: load paper")
	}
	if s.Error {
		m = append(m, "打印机故障：请关机再开机，仍不行请报修 / printer error: switch it off and on, call maintenance if it persists")
	}
	if s.Offline && len(m) == 0 {
		m = append(m, "打印机脱机：请检查电源和联机状态 / printer offline: check its power and that it is online")
	}
	if s.PaperNearEnd && !s.PaperOut {
		m = append(m, "纸将用完：请准备新纸卷 / paper near end: have a new roll ready")
	}
	if len(m) == 0 {
		return "正常 / ready"
	}
	return strings.Join(m, "; ")
}
