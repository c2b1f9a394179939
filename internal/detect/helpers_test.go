package detect

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// spectra of test land covers: blue, green, red, nir, swir1, swir2.
var (
	specVeg      = [6]float32{0.03, 0.06, 0.04, 0.35, 0.18, 0.09}
	specSoil     = [6]float32{0.08, 0.11, 0.14, 0.20, 0.26, 0.22}
	specFresh    = [6]float32{0.10, 0.14, 0.22, 0.27, 0.38, 0.32}
	specRoof     = [6]float32{0.40, 0.42, 0.42, 0.45, 0.40, 0.35}
	specBlueRoof = [6]float32{0.20, 0.17, 0.12, 0.22, 0.16, 0.12}
	specWater    = [6]float32{0.06, 0.07, 0.04, 0.02, 0.01, 0.005}
	specUrban    = [6]float32{0.12, 0.13, 0.14, 0.17, 0.20, 0.18}
	specChar     = [6]float32{0.04, 0.05, 0.06, 0.10, 0.15, 0.18}
)

var sixRoles = []string{BandBlue, BandGreen, BandRed, BandNIR, BandSWIR1, BandSWIR2}

// MustGrid builds a w×h grid with 10 m pixels, origin (500000, 4000000), from a function
// giving the six reflectances at each pixel.
func MustGrid(tb testing.TB, w, h int, f func(x, y int) [6]float32) *Grid {
	tb.Helper()
	g := &Grid{Width: w, Height: h, GeoTransform: [6]float64{500000, 10, 0, 4000000, 0, -10}, Names: append([]string(nil), sixRoles...)}
	g.Bands = make([][]float32, 6)
	for k := range g.Bands {
		g.Bands[k] = make([]float32, w*h)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := f(x, y)
			for k := range v {
				g.Bands[k][y*w+x] = v[k]
			}
		}
	}
	if err := g.Validate(); err != nil {
		tb.Fatal(err)
	}
	return g
}

// landscape is a textured two-cover scene: vegetation left, soil right, urban stripe,
// with per-pixel noise from seed.
func landscape(seed uint64) func(x, y int) [6]float32 {
	return func(x, y int) [6]float32 {
		r := rand.New(rand.NewPCG(seed, uint64(y*100003+x)))
		s := specVeg
		switch {
		case (x/8+y/8)%3 == 0:
			s = specSoil
		case (x/8+y/8)%3 == 1:
			s = specUrban
		}
		tex := float32(1 + 0.1*float64(((x*7+y*13)%11))/11)
		var out [6]float32
		for k := range s {
			out[k] = s[k]*tex + float32(r.NormFloat64()*0.004)
		}
		return out
	}
}

// affine applies per-band gain and offset.
func affine(f func(x, y int) [6]float32, gain, offset [6]float32) func(x, y int) [6]float32 {
	return func(x, y int) [6]float32 {
		v := f(x, y)
		for k := range v {
			v[k] = v[k]*gain[k] + offset[k]
		}
		return v
	}
}

// rectParcel is a parcel covering pixels [x0,x1)×[y0,y1) of a MustGrid grid.
func rectParcel(id string, x0, y0, x1, y1 int) Parcel {
	b := orb.Bound{Min: orb.Point{500000 + 10*float64(x0), 4000000 - 10*float64(y1)}, Max: orb.Point{500000 + 10*float64(x1), 4000000 - 10*float64(y0)}}
	return Parcel{ID: id, Geometry: b.ToPolygon()}
}

// withSCL appends an SCL band filled by f.
func withSCL(g *Grid, f func(x, y int) float32) *Grid {
	scl := make([]float32, g.Width*g.Height)
	for y := 0; y < g.Height; y++ {
		for x := 0; x < g.Width; x++ {
			scl[y*g.Width+x] = f(x, y)
		}
	}
	g.Names = append(g.Names, BandSCL)
	g.Bands = append(g.Bands, scl)
	return g
}

// labelMask labels a full w×h mask.
func labelMask(mask []bool, w, h, minPixels int) []*component {
	l := newLabeler()
	for y := 0; y < h; y++ {
		l.addRow(y, mask[y*w:(y+1)*w])
	}
	return l.components(minPixels)
}
