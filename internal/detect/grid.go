package detect

import (
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Band roles. A Grid names its bands by role, not by the sensor's band names; the pipeline's
// band mapping says which sensor band plays which role.
const (
	BandBlue      = "blue"
	BandGreen     = "green"
	BandRed       = "red"
	BandNIR       = "nir"        // broad NIR (Sentinel-2 B08, Landsat B5)
	BandNIRNarrow = "nir_narrow" // narrow NIR (Sentinel-2 B8A); hotspots prefer it over nir
	BandSWIR1     = "swir1"      // ~1.6 µm (Sentinel-2 B11, Landsat B6)
	BandSWIR2     = "swir2"      // ~2.2 µm (Sentinel-2 B12, Landsat B7)
	BandSCL       = "scl"        // Sentinel-2 L2A scene classification
)

// Grid is a multiband raster held in memory: one float32 slice per band, row-major, all of
// Width*Height values, on the grid described by GeoTransform (GDAL convention: x = gt[0] +
// col*gt[1] + row*gt[2], y = gt[3] + col*gt[4] + row*gt[5]).
type Grid struct {
	Width, Height int
	GeoTransform  [6]float64
	// Names gives each band's role (BandRed, BandSCL, ...), parallel to Bands.
	Names []string
	Bands [][]float32
	// Valid marks pixels with data; nil means every pixel whose values are not NaN.
	Valid []bool
	// MetresPerUnit converts CRS units to metres (about 111320·cos(latitude) for degrees);
	// 0 means 1, a projected CRS in metres. Detectors size their filters and minimum
	// mapping units in metres through it, and report Finding.Area in square metres.
	MetresPerUnit float64
}

// Validate checks that the grid's shape is consistent.
func (g *Grid) Validate() error {
	if g == nil {
		return errors.New("detect: nil grid")
	}
	if g.Width <= 0 || g.Height <= 0 {
		return fmt.Errorf("detect: grid size %dx%d", g.Width, g.Height)
	}
	if len(g.Names) != len(g.Bands) {
		return fmt.Errorf("detect: %d band names for %d bands", len(g.Names), len(g.Bands))
	}
	n := g.Width * g.Height
	seen := map[string]bool{}
	for i, b := range g.Bands {
		if len(b) != n {
			return fmt.Errorf("detect: band %q has %d values, want %d", g.Names[i], len(b), n)
		}
		if seen[g.Names[i]] {
			return fmt.Errorf("detect: band %q twice", g.Names[i])
		}
		seen[g.Names[i]] = true
	}
	if g.Valid != nil && len(g.Valid) != n {
		return fmt.Errorf("detect: valid mask has %d values, want %d", len(g.Valid), n)
	}
	if g.MetresPerUnit < 0 || math.IsNaN(g.MetresPerUnit) {
		return fmt.Errorf("detect: metres per CRS unit %v", g.MetresPerUnit)
	}
	if g.GeoTransform[1] == 0 && g.GeoTransform[2] == 0 {
		return errors.New("detect: degenerate geotransform")
	}
	return nil
}

// Band returns the band with the given role, or nil.
func (g *Grid) Band(role string) []float32 {
	for i, n := range g.Names {
		if n == role {
			return g.Bands[i]
		}
	}
	return nil
}

// PixelArea is the area of one pixel in squared CRS units.
func (g *Grid) PixelArea() float64 {
	gt := g.GeoTransform
	return math.Abs(gt[1]*gt[5] - gt[2]*gt[4])
}

// PixelSize is the side of a square pixel of the same area, in CRS units.
func (g *Grid) PixelSize() float64 { return math.Sqrt(g.PixelArea()) }

// metres returns MetresPerUnit, 1 when unset.
func (g *Grid) metres() float64 {
	if g.MetresPerUnit > 0 {
		return g.MetresPerUnit
	}
	return 1
}

// PixelMetres is the side of a square pixel of the same area, in metres.
func (g *Grid) PixelMetres() float64 { return g.PixelSize() * g.metres() }

// World converts a pixel-corner position (col, row) to CRS coordinates.
func (g *Grid) World(col, row float64) orb.Point {
	gt := g.GeoTransform
	return orb.Point{gt[0] + col*gt[1] + row*gt[2], gt[3] + col*gt[4] + row*gt[5]}
}

// Pixel converts CRS coordinates to a fractional (col, row) position.
func (g *Grid) Pixel(p orb.Point) (col, row float64) {
	gt := g.GeoTransform
	det := gt[1]*gt[5] - gt[2]*gt[4]
	dx, dy := p[0]-gt[0], p[1]-gt[3]
	col = (gt[5]*dx - gt[2]*dy) / det
	row = (-gt[4]*dx + gt[1]*dy) / det
	return col, row
}

// sameGrid reports whether a and b share size and geotransform.
func sameGrid(a, b *Grid) error {
	if a.Width != b.Width || a.Height != b.Height {
		return fmt.Errorf("detect: grids differ in size: %dx%d and %dx%d (warp the later onto the earlier first)", a.Width, a.Height, b.Width, b.Height)
	}
	for i := range a.GeoTransform {
		if math.Abs(a.GeoTransform[i]-b.GeoTransform[i]) > 1e-6*math.Max(1, math.Abs(a.GeoTransform[i])) {
			return errors.New("detect: grids differ in geotransform (warp the later onto the earlier first)")
		}
	}
	return nil
}

// bands looks up roles and fails naming the first missing one.
func (g *Grid) bands(roles ...string) ([][]float32, error) {
	out := make([][]float32, len(roles))
	for i, r := range roles {
		out[i] = g.Band(r)
		if out[i] == nil {
			return nil, fmt.Errorf("detect: grid has no %q band", r)
		}
	}
	return out, nil
}

// nd is a normalized difference (a-b)/(a+b), 0 when both are 0.
func nd(a, b float32) float32 {
	s := a + b
	if s == 0 {
		return 0
	}
	return (a - b) / s
}
