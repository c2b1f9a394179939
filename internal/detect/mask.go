package detect

import "math"

// Sentinel-2 L2A scene classification (SCL) classes that hide the ground: 0 no data,
// 1 saturated or defective, 3 cloud shadow, 8 cloud medium probability, 9 cloud high
// probability, 10 thin cirrus, 11 snow or ice.
var sclObscured = [256]bool{0: true, 1: true, 3: true, 8: true, 9: true, 10: true, 11: true}

// clearSky decides per pixel whether a grid shows the ground: it has data and is not cloud,
// cloud shadow or snow.
//
// With an SCL band the L2A classes decide (sclObscured). Without one a spectral test
// documented here decides, in reflectance:
//   - cloud: haze-optimized transform HOT = blue − 0.5·red − 0.08 > 0 (Zhang et al. 2002)
//     and mean visible reflectance > 0.25, or, for captures without blue, all visible
//     bands > 0.4 with (max−min)/max < 0.1 (bright and white);
//   - snow: NDSI = (green − swir1)/(green + swir1) > 0.4, nir > 0.11 and green > 0.1
//     (Hall et al. 1995), only when swir1 is present;
//   - shadow: nir < 0.05 and mean visible < 0.04 while MNDWI < 0.2 (dark in every band but
//     not open water), only when nir is present.
//
// Mask modes (ChangeParams.Mask).
const (
	MaskAuto     = "auto"     // SCL when the grid has it, else the spectral test
	MaskSCL      = "scl"      // SCL only (no SCL band: data mask only)
	MaskSpectral = "spectral" // the spectral test even when SCL is present
	MaskNone     = "none"     // data mask only: captures flown below the clouds
)

type clearSky struct {
	mode                         string
	valid                        []bool
	scl                          []float32
	blue, green, red, nir, swir1 []float32
	swir2                        []float32
	all                          [][]float32
}

func newClearSky(g *Grid) *clearSky {
	return &clearSky{mode: MaskAuto,
		valid: g.Valid, scl: g.Band(BandSCL),
		blue: g.Band(BandBlue), green: g.Band(BandGreen), red: g.Band(BandRed),
		nir: g.Band(BandNIR), swir1: g.Band(BandSWIR1), swir2: g.Band(BandSWIR2),
		all: g.Bands,
	}
}

// hasData reports whether pixel i has data (valid mask and no NaN).
func (c *clearSky) hasData(i int) bool {
	if c.valid != nil && !c.valid[i] {
		return false
	}
	for _, b := range c.all {
		if math.IsNaN(float64(b[i])) {
			return false
		}
	}
	return true
}

// clear reports whether pixel i has data and shows the ground.
func (c *clearSky) clear(i int) bool {
	if !c.hasData(i) {
		return false
	}
	switch {
	case c.mode == MaskNone:
		return true
	case c.scl != nil && (c.mode == MaskAuto || c.mode == MaskSCL):
		v := c.scl[i]
		return v >= 0 && v < 256 && !sclObscured[int(v)]
	case c.mode == MaskSCL:
		return true
	}
	return !c.cloud(i) && !c.snow(i) && !c.shadow(i)
}

// cloud reports whether pixel i looks like cloud on its own, in reflectance:
//   - bright and white in the visible bands: HOT = blue − 0.5·red − 0.08 > 0 (Zhang et al.
//     2002) and mean visible > 0.25; without blue, green and red > 0.4 within 10% of each
//     other; with red alone, red > 0.4 and |NDVI| < 0.15;
//   - and not brighter in the short-wave infrared than in the near infrared: NDBI =
//     (swir1 − nir)/(swir1 + nir) ≤ 0.05, or without swir1 (swir2 − nir)/(swir2 + nir) ≤ 0.
//     Water droplets and ice absorb there; sand, bright soil and concrete reflect more.
//
// Bright roofs pass this test too: cloudObjects tells them apart by size, shadow, edge and
// the other date.
// spectral reports whether the mode leaves the decision to the spectral tests.
func (c *clearSky) spectral() bool {
	switch c.mode {
	case MaskNone, MaskSCL:
		return false
	case MaskAuto:
		return c.scl == nil
	}
	return true
}

func (c *clearSky) cloud(i int) bool {
	if c.red == nil {
		return false
	}
	r := c.red[i]
	switch {
	case c.blue != nil && c.green != nil:
		b, g := c.blue[i], c.green[i]
		if !(b-0.5*r-0.08 > 0 && (b+g+r)/3 > 0.25) {
			return false
		}
	case c.green != nil:
		g := c.green[i]
		mx, mn := max(g, r), min(g, r)
		if !(mn > 0.4 && (mx-mn)/mx < 0.1) {
			return false
		}
	case c.nir != nil:
		if !(r > 0.4 && abs32(nd(c.nir[i], r)) < 0.15) {
			return false
		}
	default:
		return false
	}
	if c.nir != nil {
		if c.swir1 != nil && nd(c.swir1[i], c.nir[i]) > 0.05 {
			return false
		}
		if c.swir1 == nil && c.swir2 != nil && nd(c.swir2[i], c.nir[i]) > 0 {
			return false
		}
	}
	return true
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func (c *clearSky) snow(i int) bool {
	if c.swir1 == nil || c.green == nil || c.nir == nil {
		return false
	}
	return nd(c.green[i], c.swir1[i]) > 0.4 && c.nir[i] > 0.11 && c.green[i] > 0.1
}

// shadow reports whether pixel i looks like cloud shadow on its own: dark in nir and the
// visible bands, not open water (MNDWI < 0.2, or NDWI = (green − nir)/(green + nir) < 0
// without swir1) and, with swir2, not fresh char (swir2 not above nir: burnt ground
// reflects more at 2.2 µm than at 0.8 µm, shaded ground less).
func (c *clearSky) shadow(i int) bool {
	if c.nir == nil || c.red == nil {
		return false
	}
	vis := c.red[i]
	switch {
	case c.blue != nil && c.green != nil:
		vis = (c.blue[i] + c.green[i] + c.red[i]) / 3
	case c.green != nil:
		vis = (c.green[i] + c.red[i]) / 2
	}
	if !(c.nir[i] < 0.05 && vis < 0.04) {
		return false
	}
	switch {
	case c.swir1 != nil && c.green != nil:
		if nd(c.green[i], c.swir1[i]) >= 0.2 {
			return false
		}
	case c.green != nil:
		if nd(c.green[i], c.nir[i]) >= 0 {
			return false
		}
	}
	return c.swir2 == nil || c.swir2[i] <= c.nir[i]
}
