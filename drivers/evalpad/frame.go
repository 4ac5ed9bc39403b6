package evalpad

import (
	"encoding/binary"
	"fmt"
)

// Frame layout (docs/evalpad-protocol.md §2):
//
//	STX  LEN(2, big-endian)  TYPE  SEQ  PAYLOAD(LEN bytes)  CRC(2, big-endian)  ETX
//
// CRC covers LEN, TYPE, SEQ and PAYLOAD. The payload is a UTF-8 JSON object
// or empty; JSON never holds a raw byte below 0x20, so STX and ETX can only
// appear in the binary fields, and a receiver that loses sync finds the next
// frame by hunting for STX and checking ETX and CRC.
const (
	STX = 0x02
	ETX = 0x03
	// MaxPayload bounds LEN, so that a corrupt length cannot make a
	// receiver wait for 64 KiB. A full prompt is under 600 bytes.
	MaxPayload = 1024
	// Overhead is the number of bytes a frame adds to its payload.
	Overhead = 8
)

// Type is a frame's message type.
type Type byte

// Message types. Host commands are 0x1x, pad messages 0x2x; ACK and NAK
// take the ASCII codes, and ERROR may go either way.
const (
	TypeAck       Type = 0x06 // frame received and carried out
	TypeNak       Type = 0x15 // frame received damaged: send it again
	TypePrompt    Type = 0x10 // host: show case, clerk, window, item
	TypeAsk       Type = 0x11 // host: ask the citizen for a rating
	TypeCancel    Type = 0x12 // host: stop asking
	TypeHeartbeat Type = 0x13 // host: are you there? answered by STATUS
	TypeRating    Type = 0x20 // pad: the citizen's rating
	TypeStatus    Type = 0x21 // pad: answer to HEARTBEAT
	TypeError     Type = 0x2F // frame intact but cannot be carried out
)

var typeNames = map[Type]string{
	TypeAck: "ACK", TypeNak: "NAK", TypePrompt: "PROMPT", TypeAsk: "ASK", TypeCancel: "CANCEL",
	TypeHeartbeat: "HEARTBEAT", TypeRating: "RATING", TypeStatus: "STATUS", TypeError: "ERROR",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type 0x%02X", byte(t))
}

// Frame is one decoded frame. Payload aliases the buffer it was cut from.
type Frame struct {
	Type    Type
	Seq     byte
	Payload []byte
}

// crcTable is CRC-16/CCITT-FALSE (poly 0x1021, MSB first) by byte value.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC16 is CRC-16/CCITT-FALSE (also catalogued as CRC-16/IBM-3740): poly
// 0x1021, init 0xFFFF, no reflection, no final XOR; "123456789" gives 0x29B1.
func CRC16(b []byte) uint16 {
	c := uint16(0xFFFF)
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>8)^x]
	}
	return c
}

// AppendFrame appends f, framed, to dst. The payload must not be longer
// than MaxPayload; the callers in this package and the simulator build
// payloads far below it.
func AppendFrame(dst []byte, f Frame) []byte {
	dst = append(dst, STX)
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(f.Payload)))
	dst = append(dst, byte(f.Type), f.Seq)
	dst = append(dst, f.Payload...)
	dst = binary.BigEndian.AppendUint16(dst, CRC16(dst[start:]))
	return append(dst, ETX)
}

// FrameError is a frame that was rejected. Only a CRC error on a frame
// whose ETX is in place is evidence of a real, damaged frame; a receiver
// answers that one with NAK, echoing Seq as it read it.
type FrameError struct {
	Kind      string // "crc", "etx" or "length"
	Seq       byte   // as read, untrustworthy
	Got, Want int
}

func (e *FrameError) Error() string {
	switch e.Kind {
	case "crc":
		return fmt.Sprintf("evalpad: frame: crc 0x%04X, want 0x%04X", e.Got, e.Want)
	case "etx":
		return fmt.Sprintf("evalpad: frame: byte 0x%02X where ETX belongs", e.Got)
	}
	return fmt.Sprintf("evalpad: frame: length %d, over %d", e.Got, e.Want)
}

// Cut takes the first frame off buf. It skips bytes before an STX, and
// returns how many bytes it consumed, and:
//   - a frame (aliasing buf), or
//   - a *FrameError for a rejected candidate: a CRC error consumes the whole
//     frame, a bad length or misplaced ETX only its STX, so that a frame
//     hiding behind a false start is still found; or
//   - neither, when buf holds no STX or only the start of a frame.
func Cut(buf []byte) (f *Frame, n int, err error) {
	for n < len(buf) && buf[n] != STX {
		n++
	}
	b := buf[n:]
	if len(b) < 3 {
		return nil, n, nil
	}
	l := int(binary.BigEndian.Uint16(b[1:3]))
	if l > MaxPayload {
		return nil, n + 1, &FrameError{Kind: "length", Got: l, Want: MaxPayload}
	}
	size := Overhead + l
	if len(b) < size {
		return nil, n, nil
	}
	if b[size-1] != ETX {
		return nil, n + 1, &FrameError{Kind: "etx", Seq: b[4], Got: int(b[size-1])}
	}
	got, want := binary.BigEndian.Uint16(b[size-3:]), CRC16(b[1:size-3])
	if got != want {
		return nil, n + size, &FrameError{Kind: "crc", Seq: b[4], Got: int(got), Want: int(want)}
	}
	return &Frame{Type: Type(b[3]), Seq: b[4], Payload: b[5 : 5+l]}, n + size, nil
}
