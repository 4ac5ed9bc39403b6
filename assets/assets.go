// Package assets holds the files embedded in every Yici binary: the CJK
// font with its licence and the sample service-item catalogue.
package assets

import _ "embed"

// FontTTF is WenQuanYi Micro Hei (Apache-2.0, see fonts/LICENSE-wqy-microhei.txt),
// one TrueType face with Latin, digits and CJK glyphs. Fyne's own font has
// no CJK glyphs, and both Fyne and gopdf need a single .ttf, not a .ttc.
//
//go:embed fonts/wqy-microhei.ttf
var FontTTF []byte

// FontName is the file name of FontTTF, for Fyne resources and PDF writers.
const FontName = "wqy-microhei.ttf"

// SampleCatalog is the demo hall's service-item catalogue (JSON, see
// docs/catalogue.md).
//
//go:embed catalog/sample.json
var SampleCatalog []byte
