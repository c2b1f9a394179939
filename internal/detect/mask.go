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
	all                          [][]float32
}

func newClearSky(g *Grid) *clearSky {
	return &clearSky{mode: MaskAuto,
		valid: g.Valid, scl: g.Band(BandSCL),
		blue: g.Band(BandBlue), green: g.Band(BandGreen), red: g.Band(BandRed),
		nir: g.Band(BandNIR), swir1: g.Band(BandSWIR1),
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

func (c *clearSky) cloud(i int) bool {
	if c.green == nil || c.red == nil {
		return false
	}
	g, r := c.green[i], c.red[i]
	if c.blue != nil {
		b := c.blue[i]
		return b-0.5*r-0.08 > 0 && (b+g+r)/3 > 0.25
	}
	mx, mn := max(g, r), min(g, r)
	return mn > 0.4 && (mx-mn)/mx < 0.1
}

func (c *clearSky) snow(i int) bool {
	if c.swir1 == nil || c.green == nil || c.nir == nil {
		return false
	}
	return nd(c.green[i], c.swir1[i]) > 0.4 && c.nir[i] > 0.11 && c.green[i] > 0.1
}

func (c *clearSky) shadow(i int) bool {
	if c.nir == nil || c.green == nil || c.red == nil {
		return false
	}
	vis := (c.green[i] + c.red[i]) / 2
	if c.blue != nil {
		vis = (c.blue[i] + c.green[i] + c.red[i]) / 3
	}
	mndwi := float32(0)
	if c.swir1 != nil {
		mndwi = nd(c.green[i], c.swir1[i])
	}
	return c.nir[i] < 0.05 && vis < 0.04 && mndwi < 0.2
}
