// Package theme is the Fyne theme shared by the kiosk and the desk: the
// bundled CJK font for every text style, and larger type on the kiosk.
package theme

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"yici/assets"
)

var font = fyne.NewStaticResource(assets.FontName, assets.FontTTF)

// Theme wraps Fyne's default theme. Scale multiplies every size: the kiosk
// uses 1.5 (24 px body text for elderly citizens), elder mode 2, the desk 1.
type Theme struct {
	Scale float32
}

// Font is the bundled WenQuanYi face for all styles: Fyne's own font has no
// CJK glyphs and would draw boxes.
func (Theme) Font(fyne.TextStyle) fyne.Resource { return font }

// SizeNameDisplay is the size of the kiosk's largest type, the one thing
// to do on a screen (请将身份证放在读卡区): 48 px at the kiosk's 1.5.
const SizeNameDisplay fyne.ThemeSizeName = "yici-display"

// maxSpaceScale caps how far the space around things grows with Scale:
// elder mode wants larger letters, not larger gaps, on a screen that
// must still hold everything.
const maxSpaceScale = 1.5

func (t Theme) Size(n fyne.ThemeSizeName) float32 {
	s := t.Scale
	if s == 0 {
		s = 1
	}
	switch n {
	case SizeNameDisplay:
		return 32 * s
	case theme.SizeNamePadding, theme.SizeNameInnerPadding, theme.SizeNameLineSpacing,
		theme.SizeNameScrollBar, theme.SizeNameScrollBarSmall, theme.SizeNameSeparatorThickness,
		theme.SizeNameInputBorder, theme.SizeNameInputRadius, theme.SizeNameSelectionRadius:
		s = min(s, maxSpaceScale)
	}
	return theme.DefaultTheme().Size(n) * s
}

// Color keeps the light variant whatever the desktop prefers: a kiosk in a
// bright hall reads best dark-on-light.
func (Theme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

func (Theme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }
