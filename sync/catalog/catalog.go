// Package catalog is the service-item catalogue (事项清单): items with their
// standard elements and materials, each material with its review criteria
// (审核准则); "one thing" bundles (一件事) with one merged form; life-cycle
// themes; and situational question trees that narrow an item or bundle to
// the applicant's case. docs/catalogue.md describes the file format.
//
// Nothing outside the catalogue can be applied for (S1), so every case names
// catalogue item codes and records the revision it was made under (S3).
package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Catalog is one revision of the whole city's catalogue.
type Catalog struct {
	Revision  int    `json:"revision"`
	Issuer    string `json:"issuer"`
	Published string `json:"published,omitempty"` // YYYY-MM-DD, when the platform published this revision

	// Fields is the form-field dictionary: items and question choices
	// name fields by code, so a bundle's merged form asks each field once.
	Fields []Field `json:"fields,omitempty"`
	// Materials is the shared material library. An item's material entry
	// with a code and no name takes its definition from here, so a material
	// used by twenty items is written, and reviewed, the same way everywhere.
	Materials []Material `json:"materials,omitempty"`
	Items     []Item     `json:"items"`
	Bundles   []Bundle   `json:"bundles,omitempty"`
	Themes    []Theme    `json:"themes,omitempty"`

	byCode   map[string]*Item
	bundles  map[string]*Bundle
	themes   map[string]*Theme
	fields   map[string]*Field
	library  map[string]*Material
	inThemes map[string][]string // item or bundle code → theme codes
}

// Item is a service item (政务服务事项) with its standard elements.
type Item struct {
	Code         string     `json:"code"`
	Name         string     `json:"name"`
	Type         string     `json:"type"` // one of ItemTypes
	Dept         string     `json:"dept,omitempty"`
	Body         string     `json:"body"`            // implementing body (实施主体)
	Basis        []string   `json:"basis,omitempty"` // legal basis (设定依据)
	LegalDays    int        `json:"legal_days"`
	PromisedDays int        `json:"promised_days"`
	Conditions   []string   `json:"conditions"`
	Steps        []Step     `json:"steps,omitempty"`
	Visits       int        `json:"visits,omitempty"` // times the applicant must come to the hall
	Fees         string     `json:"fees"`
	Place        string     `json:"place"`
	Hours        string     `json:"hours,omitempty"`
	Contact      string     `json:"contact"`
	Window       string     `json:"window,omitempty"` // the hall queue's window group (category) of its tickets, "A" when empty
	Lists        []string   `json:"lists,omitempty"`  // special lists, from SpecialLists
	Synonyms     []string   `json:"synonyms,omitempty"`
	Fields       []string   `json:"fields,omitempty"` // form field codes, from Catalog.Fields
	Materials    []Material `json:"materials"`
	Questions    *Tree      `json:"questions,omitempty"`
}

// WindowGroup is the queue category a ticket for the item takes: its
// Window, "A" when it has none.
func (it *Item) WindowGroup() string {
	if it.Window == "" {
		return "A"
	}
	return it.Window
}

// Step is one step of an item's procedure (办理流程).
type Step struct {
	Name string `json:"name"`
	Days int    `json:"days,omitempty"`
}

// Material is one thing the applicant hands in, or that is on file.
type Material struct {
	Code       string      `json:"code"`
	Name       string      `json:"name,omitempty"`
	Source     string      `json:"source,omitempty"`   // applicant, licence:<type>, body:<issuer>
	Form       string      `json:"form,omitempty"`     // paper, electronic
	Copies     int         `json:"copies,omitempty"`   // paper copies
	Original   bool        `json:"original,omitempty"` // original (原件) rather than copy (复印件)
	Required   bool        `json:"required,omitempty"`
	Deferrable bool        `json:"deferrable,omitempty"` // 容缺: may be supplied later (S6)
	Criteria   []Criterion `json:"criteria,omitempty"`
	// ValidDays is how long a copy confirmed at a window stays on file in
	// the vault (S13); 0 means DefaultValidDays. The platform takes it from
	// here, never from the desk that confirms.
	ValidDays int `json:"valid_days,omitempty"`
	// DeferDays is how many days after a 容缺 acceptance a deferrable
	// material must be supplied by (S6), the deadline of the commitment
	// letter; 0 means DefaultDeferDays. An item's entry may set its own;
	// otherwise it comes from the library.
	DeferDays int `json:"defer_days,omitempty"`
	// MaxPages is the most pages the applicant may scan for it at the
	// kiosk (a 户口簿 or a contract has many); 0 means DefaultMaxPages.
	MaxPages int `json:"max_pages,omitempty"`
}

// DefaultValidDays is how long a confirmed copy stays on file when its
// material does not say.
const DefaultValidDays = 365

// DefaultDeferDays is how long a deferred material may follow an acceptance
// when its material does not say: a month, time enough to fetch a document
// from another body, short enough that an open gap is noticed (S6).
const DefaultDeferDays = 30

// DefaultMaxPages is how many pages a material may have when it does not
// say.
const DefaultMaxPages = 10

// PageLimit returns the most pages the applicant may scan for m.
func (m *Material) PageLimit() int {
	if m.MaxPages <= 0 {
		return DefaultMaxPages
	}
	return m.MaxPages
}

// Deferral returns how many days a deferred copy of m may follow the
// acceptance.
func (m *Material) Deferral() int {
	if m.DeferDays <= 0 {
		return DefaultDeferDays
	}
	return m.DeferDays
}

// Validity returns how long a confirmed copy of m stays on file.
func (m *Material) Validity() time.Duration {
	d := m.ValidDays
	if d <= 0 {
		d = DefaultValidDays
	}
	return time.Duration(d) * 24 * time.Hour
}

// Criterion is one plain-language review criterion. A clerk fails a material
// only by citing one of these (S4); ID is "<material code>-<n>".
type Criterion struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Field is one field of the application form (申请表).
type Field struct {
	Code    string   `json:"code"`
	Label   string   `json:"label"`
	Kind    string   `json:"kind"` // one of FieldKinds
	Options []string `json:"options,omitempty"`
	Hint    string   `json:"hint,omitempty"`
}

// Bundle is a "one thing" (一件事): several items applied for together with
// one form and one set of materials (S5, S8, S11).
type Bundle struct {
	Code         string   `json:"code"`
	Name         string   `json:"name"`
	Summary      string   `json:"summary,omitempty"`
	Items        []string `json:"items"`
	PromisedDays int      `json:"promised_days,omitempty"` // 0: the longest of its items
	Place        string   `json:"place,omitempty"`
	Contact      string   `json:"contact,omitempty"`
	Lists        []string `json:"lists,omitempty"`
	Synonyms     []string `json:"synonyms,omitempty"`
	Fields       []string `json:"fields,omitempty"` // asked in addition to the items' fields
	Questions    *Tree    `json:"questions,omitempty"`
}

// Theme groups items and bundles by a stage of a person's or a company's
// life (生命周期主题, S10).
type Theme struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Audience string   `json:"audience"` // person or company
	Members  []string `json:"members"`  // item and bundle codes, in display order
}

// Tree is a situational question tree (情形引导): answering its questions
// from Start narrows an item or bundle to the applicant's case.
type Tree struct {
	Start     string     `json:"start"`
	Questions []Question `json:"questions"`
}

// Question is one question of a tree, answered by picking one choice.
type Question struct {
	ID      string   `json:"id"`
	Text    string   `json:"text"`
	Help    string   `json:"help,omitempty"`
	Choices []Choice `json:"choices"`
}

// Choice is one answer. Its effects apply when it is picked; then Next is
// asked, or the guide is complete when Next is empty. Switch abandons this
// item or bundle for another one (a lost ID card is 补领, not 换领).
type Choice struct {
	ID              string     `json:"id"`
	Label           string     `json:"label"`
	Next            string     `json:"next,omitempty"`
	Switch          string     `json:"switch,omitempty"`
	AddItems        []string   `json:"add_items,omitempty"`    // bundles only
	RemoveItems     []string   `json:"remove_items,omitempty"` // bundles only
	AddMaterials    []Material `json:"add_materials,omitempty"`
	RemoveMaterials []string   `json:"remove_materials,omitempty"`
	AddFields       []string   `json:"add_fields,omitempty"`
	RemoveFields    []string   `json:"remove_fields,omitempty"`
	Note            string     `json:"note,omitempty"` // shown on the guide, e.g. where to go first
}

// The closed vocabularies of the format.
var (
	// ItemTypes are the item types (事项类型) of the national item elements.
	ItemTypes = []string{"行政许可", "行政处罚", "行政强制", "行政征收", "行政给付", "行政检查",
		"行政确认", "行政奖励", "行政裁决", "行政备案", "其他行政权力", "公共服务"}
	// SpecialLists are the special lists an item or bundle can be on (S1).
	SpecialLists = []string{"全程网办", "即来即办", "秒批秒办", "跨省通办"}
	// FieldKinds tell the form how to ask for a field.
	FieldKinds = []string{"text", "id", "name", "phone", "date", "number", "address", "choice", "bool"}
	// Audiences are whose life a theme follows.
	Audiences = []string{"person", "company"}
)

// Decode reads a catalogue and checks it, so a terminal never runs on a
// catalogue with dangling or duplicate codes. A decoding error gives the
// line and column; a catalogue that decodes but fails the checks returns
// Problems, every one of them.
func Decode(r io.Reader) (*Catalog, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("catalog: read: %w", err)
	}
	return Parse(data)
}

// Parse is Decode on bytes already in memory.
func Parse(data []byte) (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		line, col := lineCol(data, errOffset(err, dec.InputOffset()))
		return nil, fmt.Errorf("catalog: decode at line %d column %d: %w", line, col, err)
	}
	if dec.More() {
		line, col := lineCol(data, dec.InputOffset())
		return nil, fmt.Errorf("catalog: decode at line %d column %d: more than one JSON value", line, col)
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// errOffset is where a JSON error happened: the decoder knows it exactly
// for syntax and type errors, and only roughly (its read position) for the rest.
func errOffset(err error, read int64) int64 {
	switch e := err.(type) {
	case *json.SyntaxError:
		return e.Offset
	case *json.UnmarshalTypeError:
		return e.Offset
	}
	return read
}

// lineCol turns a byte offset into a 1-based line and column (in runes).
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = len([]rune(string(before[bytes.LastIndexByte(before, '\n')+1:]))) + 1
	return line, col
}

// Item returns the item with this code.
func (c *Catalog) Item(code string) (*Item, bool) {
	it, ok := c.byCode[code]
	return it, ok
}

// Bundle returns the bundle with this code.
func (c *Catalog) Bundle(code string) (*Bundle, bool) {
	b, ok := c.bundles[code]
	return b, ok
}

// Theme returns the theme with this code.
func (c *Catalog) Theme(code string) (*Theme, bool) {
	t, ok := c.themes[code]
	return t, ok
}

// Field returns the form field with this code.
func (c *Catalog) Field(code string) (*Field, bool) {
	f, ok := c.fields[code]
	return f, ok
}

// ThemesOf lists the codes of the themes an item or bundle belongs to.
func (c *Catalog) ThemesOf(code string) []string { return c.inThemes[code] }

// OnList lists the items on a special list (全程网办, …), for the kiosk's
// filter (S1).
func (c *Catalog) OnList(list string) []*Item {
	var out []*Item
	for i := range c.Items {
		if contains(c.Items[i].Lists, list) {
			out = append(out, &c.Items[i])
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
