package evalpad

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Level is a 好差评 rating level. On the wire 1 is the best and 5 the worst,
// in the order the five levels are always listed; a pad showing stars shows
// 6 − Level of them.
type Level uint8

// The five levels.
const (
	VerySatisfied    Level = 1 // 非常满意 ☆☆☆☆☆
	Satisfied        Level = 2 // 满意 ☆☆☆☆
	FairlySatisfied  Level = 3 // 基本满意 ☆☆☆
	Dissatisfied     Level = 4 // 不满意 ☆☆
	VeryDissatisfied Level = 5 // 非常不满意 ☆
)

// Limits that bound what a pad must display and a host must accept.
const (
	levelCount       = 5
	maxReasons       = 6
	maxTimeoutMillis = 10 * 60 * 1000
	maxFieldRunes    = 64
	maxItemRunes     = 128
)

var levelNames = [...]string{"", "非常满意", "满意", "基本满意", "不满意", "非常不满意"}

// String gives the level's name in Chinese, e.g. "基本满意".
func (l Level) String() string {
	if l.Valid() {
		return levelNames[l]
	}
	return fmt.Sprintf("等级(%d)", uint8(l))
}

// Stars is the level as the platform counts it (sync/wire rating levels):
// 5 for 非常满意 down to 1 for 非常不满意. The pad numbers its buttons the
// other way, in the order it shows them.
func (l Level) Stars() int { return 6 - int(l) }

// Valid reports whether l is one of the five levels.
func (l Level) Valid() bool { return l >= 1 && l <= levelCount }

// Poor reports whether l is a bad rating (差评): 不满意 or 非常不满意. A
// bad rating must carry reasons and goes to call-back and rectification.
func (l Level) Poor() bool { return l == Dissatisfied || l == VeryDissatisfied }

// Reason is why a citizen gave a bad rating. The kinds follow what GB/T
// 39734-2020 Annex A and the on-site indicators (attitude, efficiency,
// service level) name; the codes are this protocol's own. New codes go
// below 99, which stays 其他. (Not a uint8: encoding/json would send a
// []uint8 as base64 rather than as a list of numbers.)
type Reason int

// The reason codes.
const (
	ReasonAttitude       Reason = 1  // 态度差
	ReasonSlow           Reason = 2  // 效率低
	ReasonManyTrips      Reason = 3  // 多次跑
	ReasonUnclearGuide   Reason = 4  // 指南不清
	ReasonExtraMaterials Reason = 5  // 要求额外材料
	ReasonUnskilled      Reason = 6  // 业务不熟
	ReasonOther          Reason = 99 // 其他
)

var reasonNames = map[Reason]string{
	ReasonAttitude: "态度差", ReasonSlow: "效率低", ReasonManyTrips: "多次跑", ReasonUnclearGuide: "指南不清",
	ReasonExtraMaterials: "要求额外材料", ReasonUnskilled: "业务不熟", ReasonOther: "其他",
}

// String gives the reason in Chinese, e.g. "多次跑".
func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("原因(%d)", int(r))
}

// Valid reports whether r is in the reason table.
func (r Reason) Valid() bool { _, ok := reasonNames[r]; return ok }

// Prompt is what the pad shows while a citizen is served: the PROMPT body.
type Prompt struct {
	CaseNo    string `json:"case_no"`        // 办件编号
	ClerkName string `json:"clerk_name"`     // e.g. 王小明
	ClerkID   string `json:"clerk_id"`       // staff number
	Window    string `json:"window"`         // e.g. 3号窗口
	Item      string `json:"item,omitempty"` // 事项 name
}

// Validate checks that the case, clerk and window are set and every field
// fits the pad's display (64 characters, 128 for the item).
func (p Prompt) Validate() error {
	for _, f := range []struct {
		name, v  string
		required bool
		max      int
	}{
		{"case_no", p.CaseNo, true, maxFieldRunes},
		{"clerk_name", p.ClerkName, true, maxFieldRunes},
		{"clerk_id", p.ClerkID, true, maxFieldRunes},
		{"window", p.Window, true, maxFieldRunes},
		{"item", p.Item, false, maxItemRunes},
	} {
		if f.required && f.v == "" {
			return fmt.Errorf("prompt: %s is empty", f.name)
		}
		if n := utf8.RuneCountInString(f.v); n > f.max {
			return fmt.Errorf("prompt: %s has %d characters, over %d", f.name, n, f.max)
		}
	}
	return nil
}

// The JSON bodies of the other messages, for pad implementers and the
// simulator; docs/evalpad-protocol.md §4 defines each field.
type (
	// AskBody is the ASK body.
	AskBody struct {
		TimeoutMillis int `json:"timeout_ms"`
	}
	// RatingBody is the RATING body. Ask is the SEQ of the ASK being answered.
	RatingBody struct {
		Ask     byte     `json:"ask"`
		CaseNo  string   `json:"case_no"`
		Level   Level    `json:"level"`
		Reasons []Reason `json:"reasons,omitempty"`
	}
	// StatusBody is the STATUS body.
	StatusBody struct {
		State    string `json:"state"` // "idle", "prompt" or "asking"
		Model    string `json:"model"`
		Firmware string `json:"firmware"`
	}
	// ErrorBody is the ERROR body.
	ErrorBody struct {
		Code   string `json:"code"` // one of the Code… constants
		Detail string `json:"detail,omitempty"`
	}
	// NakBody is the NAK body.
	NakBody struct {
		Reason string `json:"reason"` // "crc"
	}
)

// ERROR codes.
const (
	CodeType    = "type"    // unknown or misdirected message type
	CodePayload = "payload" // body is not valid JSON or a field is wrong
	CodeState   = "state"   // not allowed in the receiver's state
	CodeDevice  = "device"  // the pad's screen or touch panel failed
)

// Pad states, as STATUS reports them.
const (
	StateIdle   = "idle"
	StatePrompt = "prompt"
	StateAsking = "asking"
)

// Validate checks a rating as the host must before acknowledging it:
// a known level, known and distinct reasons, reasons for a poor level and
// none for a good one.
func (r RatingBody) Validate() error {
	if !r.Level.Valid() {
		return fmt.Errorf("rating: level %d, want 1..%d", uint8(r.Level), levelCount)
	}
	if r.CaseNo == "" {
		return errors.New("rating: case_no is empty")
	}
	if len(r.Reasons) > maxReasons {
		return fmt.Errorf("rating: %d reasons, over %d", len(r.Reasons), maxReasons)
	}
	for i, x := range r.Reasons {
		if !x.Valid() {
			return fmt.Errorf("rating: unknown reason code %d", int(x))
		}
		if slices.Contains(r.Reasons[:i], x) {
			return fmt.Errorf("rating: reason %d (%v) given twice", int(x), x)
		}
	}
	if r.Level.Poor() && len(r.Reasons) == 0 {
		return fmt.Errorf("rating: level %d (%v) needs at least one reason", uint8(r.Level), r.Level)
	}
	if !r.Level.Poor() && len(r.Reasons) > 0 {
		return fmt.Errorf("rating: level %d (%v) takes no reasons, got %v", uint8(r.Level), r.Level, r.Reasons)
	}
	return nil
}

// Validate checks an ASK body: a timeout of 1 ms to 10 minutes.
func (a AskBody) Validate() error {
	if a.TimeoutMillis <= 0 || a.TimeoutMillis > maxTimeoutMillis {
		return fmt.Errorf("ask: timeout_ms %d, want 1..%d", a.TimeoutMillis, maxTimeoutMillis)
	}
	return nil
}

// Decode parses a JSON body into v and validates it when v has a Validate
// method. Unknown fields are ignored, so that later versions can add some.
func Decode(payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if c, ok := v.(interface{ Validate() error }); ok {
		return c.Validate()
	}
	return nil
}
