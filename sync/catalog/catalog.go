// Package catalog is the service-item catalogue (事项清单): items with their
// standard elements and materials, each material with its review criteria
// (审核准则). docs/catalogue.md describes the file format.
//
// Nothing outside the catalogue can be applied for (S1), so every case names
// catalogue item codes and records the revision it was made under (S3).
package catalog

import (
	"encoding/json"
	"fmt"
	"io"
)

// Catalog is one revision of the whole city's catalogue.
type Catalog struct {
	Revision int    `json:"revision"`
	Issuer   string `json:"issuer"`
	Items    []Item `json:"items"`

	byCode map[string]*Item
}

// Item is a service item (政务服务事项) with its standard elements.
type Item struct {
	Code         string     `json:"code"`
	Name         string     `json:"name"`
	Type         string     `json:"type"` // 行政许可, 行政确认, 公共服务, …
	Body         string     `json:"body"` // implementing body (实施主体)
	LegalDays    int        `json:"legal_days"`
	PromisedDays int        `json:"promised_days"`
	Conditions   []string   `json:"conditions"`
	Fees         string     `json:"fees"`
	Place        string     `json:"place"`
	Contact      string     `json:"contact"`
	Lists        []string   `json:"lists,omitempty"` // 全程网办, 即来即办, 秒批秒办, 跨省通办
	Synonyms     []string   `json:"synonyms,omitempty"`
	Materials    []Material `json:"materials"`
}

// Material is one thing the applicant hands in, or that is on file.
type Material struct {
	Code       string      `json:"code"`
	Name       string      `json:"name"`
	Source     string      `json:"source"`   // applicant, licence:<type>, body:<issuer>
	Form       string      `json:"form"`     // paper, electronic
	Copies     int         `json:"copies"`   // paper copies
	Original   bool        `json:"original"` // original (原件) rather than copy (复印件)
	Required   bool        `json:"required"`
	Deferrable bool        `json:"deferrable,omitempty"` // 容缺: may be supplied later (S6)
	Criteria   []Criterion `json:"criteria"`
}

// Criterion is one plain-language review criterion. A clerk fails a material
// only by citing one of these (S4); ID is "<material code>-<n>".
type Criterion struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Decode reads a catalogue and checks it, so a terminal never runs on a
// catalogue with dangling or duplicate codes.
func Decode(r io.Reader) (*Catalog, error) {
	var c Catalog
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("catalog: decode: %w", err)
	}
	if err := c.index(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Catalog) index() error {
	if c.Revision <= 0 {
		return fmt.Errorf("catalog: revision %d, want a positive number", c.Revision)
	}
	c.byCode = make(map[string]*Item, len(c.Items))
	for i := range c.Items {
		it := &c.Items[i]
		if it.Code == "" || it.Name == "" {
			return fmt.Errorf("catalog: item %d: code and name are required", i)
		}
		if _, dup := c.byCode[it.Code]; dup {
			return fmt.Errorf("catalog: item %s: duplicate code", it.Code)
		}
		c.byCode[it.Code] = it
		seen := map[string]bool{}
		for j, m := range it.Materials {
			if m.Code == "" || m.Name == "" {
				return fmt.Errorf("catalog: item %s material %d: code and name are required", it.Code, j)
			}
			if seen[m.Code] {
				return fmt.Errorf("catalog: item %s material %s: duplicate code", it.Code, m.Code)
			}
			seen[m.Code] = true
			if len(m.Criteria) == 0 {
				return fmt.Errorf("catalog: item %s material %s: no review criteria (审核准则)", it.Code, m.Code)
			}
		}
	}
	return nil
}

// Item returns the item with this code.
func (c *Catalog) Item(code string) (*Item, bool) {
	it, ok := c.byCode[code]
	return it, ok
}
