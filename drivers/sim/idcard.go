package sim

import (
	"bytes"
	"encoding/binary"
	"sync"
	"time"

	"yici/drivers/idcard"
)

// Faults make the simulated ID-card reader misbehave. Set them at any time
// with SetFaults; each command is answered under the faults set when it
// arrived.
type Faults struct {
	BadChecksum bool // replies carry a wrong CHK
	Truncate    bool // only the first half of each reply is sent
	Silent      bool // commands are swallowed unanswered, as if unplugged
	// Pace makes the simulator keep to the wire rate (10 bits a byte),
	// which a pty does not: a command is taken only after it could have
	// arrived, and a reply is written no faster than it could be sent.
	Pace bool
	Baud int // rate to pace at; 0 means the reader's current rate
}

// simSAMID is the management-number data the simulated SAM reports; the
// driver formats it as "05.01-20260101-000000001-123456789".
var simSAMID = []byte{5, 0, 1, 0, 0x05, 0x25, 0x35, 0x01, 1, 0, 0, 0, 0x15, 0xCD, 0x5B, 0x07}

// maxCommandLen bounds a host frame's length field. Host frames are a few
// bytes; a bigger length is answered with a length error.
const maxCommandLen = 64

// IDCard simulates a GA 467 SAM ID-card reader on a pseudo-terminal. Like a
// real one, it will not find a card again after reading it until the card
// is lifted and placed again.
type IDCard struct {
	pty  *PTY
	done chan struct{}

	mu     sync.Mutex
	faults Faults
	baud   int
	card   bool   // a card is in the field
	text   []byte // its text block; nil if it could not be encoded
	photo  []byte
	finger []byte
	found  bool // find succeeded; select may follow
	chosen bool // select succeeded; read may follow
	spent  bool // read succeeded; find fails until Lift and Place
}

// NewIDCard opens a pty and starts answering on it. Point the driver at
// Path; Close when done.
func NewIDCard() (*IDCard, error) {
	p, err := OpenPTY()
	if err != nil {
		return nil, err
	}
	s := &IDCard{pty: p, done: make(chan struct{}), baud: 115200}
	go s.serve()
	return s, nil
}

// Path is the serial device the driver opens.
func (s *IDCard) Path() string { return s.pty.Path }

// Close stops the simulator and closes the pty.
func (s *IDCard) Close() error {
	err := s.pty.Close()
	<-s.done
	return err
}

// SetFaults replaces the fault knobs.
func (s *IDCard) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Place puts a card on the reader. The photo is sent as 1024 bytes, padded
// with zeros or cut. A card whose text cannot be encoded (unknown gender or
// nation, a field too long) is in the field but fails to read with SW3 0x41.
func (s *IDCard) Place(c idcard.Card) {
	text, _ := idcard.EncodeText(&c)
	photo := make([]byte, 1024)
	copy(photo, c.Photo)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.card, s.text, s.photo, s.finger = true, text, photo, c.Fingerprint
	s.found, s.chosen, s.spent = false, false, false
}

// Lift takes the card away.
func (s *IDCard) Lift() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.card, s.text, s.photo, s.finger = false, nil, nil, nil
	s.found, s.chosen, s.spent = false, false, false
}

// serve reads host frames and answers them until the master is closed.
func (s *IDCard) serve() {
	defer close(s.done)
	var in []byte
	buf := make([]byte, 512)
	for {
		n, err := s.pty.Master.Read(buf)
		if err != nil {
			return
		}
		in = append(in, buf[:n]...)
		for {
			var frame []byte
			var bad idcard.Status
			if in, frame, bad = nextCommand(in); frame == nil {
				break
			}
			s.mu.Lock()
			f, baud := s.faults, s.baud
			s.mu.Unlock()
			if f.Baud != 0 {
				baud = f.Baud
			}
			if f.Pace {
				time.Sleep(wireTime(len(frame), baud))
			}
			if f.Silent {
				continue
			}
			st, data := bad, []byte(nil)
			if bad == 0 {
				st, data = s.answer(frame[7], frame[8])
			}
			if err := s.send(reply(st, data), f, baud); err != nil {
				return
			}
			if bad == 0 && frame[7] == 0x60 && st == idcard.StatusOK {
				s.mu.Lock()
				s.baud = []int{115200, 57600, 38400, 19200, 9600}[frame[8]]
				s.mu.Unlock()
			}
		}
	}
}

// nextCommand takes the first host frame off in, skipping garbage before
// it. bad is nonzero if the SAM would reject the frame: a length out of
// range (the preamble alone is consumed) or a wrong checksum. frame is nil
// while more bytes are needed.
func nextCommand(in []byte) (rest, frame []byte, bad idcard.Status) {
	i := bytes.Index(in, idcard.Preamble[:])
	if i < 0 {
		return in[max(0, len(in)-len(idcard.Preamble)+1):], nil, 0
	}
	in = in[i:]
	if len(in) < 7 {
		return in, nil, 0
	}
	n := int(binary.BigEndian.Uint16(in[5:7]))
	if n < 3 || n > maxCommandLen {
		return in[len(idcard.Preamble):], in[:7], idcard.StatusBadLength
	}
	if len(in) < 7+n {
		return in, nil, 0
	}
	frame = in[:7+n]
	if idcard.Checksum(frame[5:len(frame)-1]) != frame[len(frame)-1] {
		return in[7+n:], frame, idcard.StatusBadChecksum
	}
	return in[7+n:], frame, 0
}

// answer carries out a command, as the card state allows, and gives the
// reply's SW3 and data.
func (s *IDCard) answer(cmd, para byte) (idcard.Status, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case cmd == 0x10 && para == 0xFF: // reset
		// The reset drops the RF field, and the card with it: a card still
		// on the reader answers a find afterwards as if placed anew. This
		// is how the kiosk tells a read card is still there (an assumption
		// about real SAM readers, to be checked on each model).
		s.found, s.chosen, s.spent = false, false, false
		return idcard.StatusOK, nil
	case cmd == 0x11 && para == 0xFF: // SAM status
		return idcard.StatusOK, nil
	case cmd == 0x12 && para == 0xFF: // SAM ID
		return idcard.StatusOK, simSAMID
	case cmd == 0x20 && para == 0x01: // find
		s.chosen = false
		s.found = s.card && !s.spent
		if !s.found {
			return idcard.StatusFindFailed, nil
		}
		return idcard.StatusFound, make([]byte, 4)
	case cmd == 0x20 && para == 0x02: // select
		s.chosen = s.found
		if !s.chosen {
			return idcard.StatusSelectFailed, nil
		}
		return idcard.StatusOK, make([]byte, 8)
	case cmd == 0x30 && (para == 0x01 || para == 0x10): // read
		if !s.chosen || s.text == nil {
			return idcard.StatusReadFailed, nil
		}
		s.found, s.chosen, s.spent = false, false, true
		d := binary.BigEndian.AppendUint16(nil, uint16(len(s.text)))
		d = binary.BigEndian.AppendUint16(d, uint16(len(s.photo)))
		if para == 0x10 {
			d = binary.BigEndian.AppendUint16(d, uint16(len(s.finger)))
		}
		d = append(append(d, s.text...), s.photo...)
		if para == 0x10 {
			d = append(d, s.finger...)
		}
		return idcard.StatusOK, d
	case cmd == 0x60 && para <= 4: // set baud, applied after the reply
		return idcard.StatusOK, nil
	}
	return idcard.StatusBadCommand, nil
}

// reply encodes a reader frame: preamble, length, SW1 SW2 (00 00, as the
// card's APDU status passes through), SW3, data, CHK.
func reply(st idcard.Status, data []byte) []byte {
	f := append([]byte(nil), idcard.Preamble[:]...)
	f = binary.BigEndian.AppendUint16(f, uint16(3+len(data)+1))
	f = append(f, 0, 0, byte(st))
	f = append(f, data...)
	return append(f, idcard.Checksum(f[len(idcard.Preamble):]))
}

// send writes a reply under the given faults.
func (s *IDCard) send(frame []byte, f Faults, baud int) error {
	if f.BadChecksum {
		frame[len(frame)-1] ^= 0xFF
	}
	if f.Truncate {
		frame = frame[:len(frame)/2]
	}
	if !f.Pace {
		_, err := s.pty.Master.Write(frame)
		return err
	}
	// Write in small chunks, each when its last byte would have arrived.
	const chunk = 32
	start := time.Now()
	for off := 0; off < len(frame); {
		end := min(off+chunk, len(frame))
		time.Sleep(time.Until(start.Add(wireTime(end, baud))))
		if _, err := s.pty.Master.Write(frame[off:end]); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// wireTime is how long n bytes take on a UART at baud: 10 bits a byte
// (start, 8 data, stop).
func wireTime(n, baud int) time.Duration {
	return time.Duration(n*10) * time.Second / time.Duration(baud)
}

// SampleCard is the invented resident the demo, yici-devsim and tests place
// on the simulated reader: 张三, whose ID number has a valid GB 11643 check
// digit but belongs to nobody.
var SampleCard = idcard.Card{
	Type: idcard.Resident, Name: "张三", Gender: "男", Nation: "汉", Birth: "19880504",
	Address: "辽宁省大连市中山区示例街道幸福路12号", IDNumber: "21020219880504123X",
	Authority: "大连市公安局中山分局", ValidFrom: "20180504", ValidTo: "20380504",
}
