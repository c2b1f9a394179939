// Package evalset generates a labelled evaluation set for the detectors, deterministic from
// a seed, and scores the detectors on it: precision, recall and F1 at object level and
// false alarms per 100 km², per detector and class.
//
// Raster scenes are Sentinel-2-like pairs on a 10 m grid: textured land cover (vegetation,
// cropland, bare soil, urban) with a river; between the dates a global gain and offset per
// band and a seasonal shift (vegetation greening: nir rises with nir − red, a linear
// spectral transformation), independent noise, clouds with their shadows marked in an SCL
// band; injected changes inside parcels (the truth) and distractor changes outside every
// parcel's buffer (not evidence for anyone), kilns that run on one or both dates, bright
// roofs that must not count as hot, turbid plumes at riverside parcels' outfalls and one far
// from any parcel, and a natural turbidity gradient along the river. A control pair differs
// only by the radiometric and seasonal shift and noise. Tracks are survey-vehicle routes
// with crosswind transects through plumes of known source parcels, and unmanned-boat runs
// along a river past outfalls; they are written as CSV in the pipelines' column layout and
// read back through detect.ParseTrackCSV.
package evalset

import (
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/detect"
)

// Spectra (surface reflectance) of blue, green, red, nir, swir1, swir2.
type spectrum [6]float64

var (
	specVeg      = spectrum{0.03, 0.06, 0.04, 0.35, 0.18, 0.09}
	specCrop     = spectrum{0.05, 0.08, 0.07, 0.28, 0.22, 0.13}
	specSoil     = spectrum{0.08, 0.11, 0.14, 0.20, 0.26, 0.22}
	specUrban    = spectrum{0.12, 0.13, 0.14, 0.17, 0.20, 0.18}
	specFresh    = spectrum{0.10, 0.14, 0.22, 0.27, 0.38, 0.32}
	specBlueRoof = spectrum{0.20, 0.17, 0.12, 0.22, 0.16, 0.12}
	specWhite    = spectrum{0.40, 0.42, 0.42, 0.45, 0.40, 0.35}
	specMetal    = spectrum{0.35, 0.37, 0.38, 0.40, 0.60, 0.55}
	specGypsum   = spectrum{0.55, 0.58, 0.60, 0.62, 0.70, 0.62}
	specWater    = spectrum{0.06, 0.07, 0.04, 0.02, 0.01, 0.005}
	specTurbid   = spectrum{0.07, 0.10, 0.11, 0.05, 0.02, 0.01}
	specCloud    = spectrum{0.55, 0.55, 0.56, 0.60, 0.45, 0.30}
)

// Radiometric and seasonal differences of the after date.
var (
	afterGain   = spectrum{1.08, 1.05, 0.95, 1.12, 0.92, 1.03}
	afterOffset = spectrum{0.010, 0.005, -0.004, 0.015, -0.010, 0.002}
)

// Truth is one injected object.
type Truth struct {
	Detector string // "change", "hotspot", "water_plume"
	Class    string
	Status   string // hotspots
	Bound    orb.Bound
	// ParcelID is the parcel the object belongs to; "" for distractors outside every
	// parcel's buffer, which a pipeline must not report but a scene-wide run should find.
	ParcelID string
}

// Scene is a before/after pair with parcels and truth.
type Scene struct {
	Name          string
	Before, After *detect.Grid
	Parcels       []detect.Parcel
	Truth         []Truth
	// Control scenes differ only radiometrically: every change finding is a false alarm.
	Control bool
	// Pipeline is the built-in pipeline whose detectors run on the scene.
	Pipeline string
}

// AreaKm2 is the scene's area.
func (s *Scene) AreaKm2() float64 {
	return float64(s.Before.Width*s.Before.Height) * s.Before.PixelArea() / 1e6
}

// noise is smooth value noise on a lattice of the given cell size, in [0,1].
type noise struct {
	cell, lw int
	vals     []float64
}

func newNoise(r *rand.Rand, w, h, cell int) *noise {
	lw, lh := w/cell+2, h/cell+2
	n := &noise{cell: cell, lw: lw, vals: make([]float64, lw*lh)}
	for i := range n.vals {
		n.vals[i] = r.Float64()
	}
	return n
}

func (n *noise) at(x, y int) float64 {
	fx, fy := float64(x)/float64(n.cell), float64(y)/float64(n.cell)
	ix, iy := int(fx), int(fy)
	tx, ty := fx-float64(ix), fy-float64(iy)
	tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
	v00, v10 := n.vals[iy*n.lw+ix], n.vals[iy*n.lw+ix+1]
	v01, v11 := n.vals[(iy+1)*n.lw+ix], n.vals[(iy+1)*n.lw+ix+1]
	return (v00*(1-tx)+v10*tx)*(1-ty) + (v01*(1-tx)+v11*tx)*ty
}

// rect is a pixel rectangle [x0,x1)×[y0,y1).
type rect struct{ x0, y0, x1, y1 int }

func (r rect) grow(d int) rect { return rect{r.x0 - d, r.y0 - d, r.x1 + d, r.y1 + d} }
func (r rect) overlaps(o rect) bool {
	return r.x0 < o.x1 && o.x0 < r.x1 && r.y0 < o.y1 && o.y0 < r.y1
}

// sceneBuilder holds the ground of both dates as spectra per pixel.
type sceneBuilder struct {
	r          *rand.Rand
	n          int
	gt         [6]float64
	before     []spectrum
	after      []spectrum
	crop       []bool // cropland pixels, for the land-cover-specific seasonal shift
	sclBefore  []float32
	sclAfter   []float32
	water      []bool
	parcels    []rect
	parcelIDs  []string
	riverside  []bool
	occupied   []rect // objects placed so far (parcels' insides)
	truth      []Truth
	cloudCover []bool
	// plumeStrength scales the turbidity of the plume being painted.
	plumeStrength float64
}

const pixel = 10.0

func (b *sceneBuilder) bound(r rect) orb.Bound {
	return orb.Bound{
		Min: orb.Point{b.gt[0] + float64(r.x0)*pixel, b.gt[3] - float64(r.y1)*pixel},
		Max: orb.Point{b.gt[0] + float64(r.x1)*pixel, b.gt[3] - float64(r.y0)*pixel},
	}
}

// riverY is the river's centre row at column x; riverHalf its half width.
func (b *sceneBuilder) riverY(x int) float64 {
	return float64(b.n)*0.62 + float64(b.n)*0.06*math.Sin(2*math.Pi*float64(x)/float64(b.n)*1.3)
}

const riverHalf = 9

// newGround lays out land cover, texture and the river.
func newGround(r *rand.Rand, n int, originX, originY float64) *sceneBuilder {
	b := &sceneBuilder{r: r, n: n, gt: [6]float64{originX, pixel, 0, originY, 0, -pixel},
		before: make([]spectrum, n*n), water: make([]bool, n*n), crop: make([]bool, n*n),
		sclBefore: make([]float32, n*n), cloudCover: make([]bool, n*n)}
	coarse, fine := newNoise(r, n, n, 96), newNoise(r, n, n, 24)
	tex1, tex2 := newNoise(r, n, n, 6), newNoise(r, n, n, 2)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			i := y*n + x
			v := 0.7*coarse.at(x, y) + 0.3*fine.at(x, y)
			s, scl := specUrban, float32(5)
			switch {
			case v < 0.38:
				s, scl = specVeg, 4
			case v < 0.52:
				s, scl = specCrop, 4
				b.crop[i] = true
			case v < 0.64:
				s = specSoil
			}
			t := 1 + 0.25*(tex1.at(x, y)-0.5) + 0.1*(tex2.at(x, y)-0.5)
			if math.Abs(float64(y)-b.riverY(x)) <= riverHalf {
				b.water[i] = true
				s, scl, t = specWater, 6, 1+0.04*(tex1.at(x, y)-0.5)
			}
			for k := range s {
				s[k] *= t
			}
			b.before[i], b.sclBefore[i] = s, scl
		}
	}
	return b
}

// free reports whether r lies on land, inside the scene, clear of placed objects by gap.
func (b *sceneBuilder) free(r rect, gap int, allowWater bool) bool {
	if r.x0 < 4 || r.y0 < 4 || r.x1 > b.n-4 || r.y1 > b.n-4 {
		return false
	}
	g := r.grow(gap)
	for _, o := range b.occupied {
		if g.overlaps(o) {
			return false
		}
	}
	if !allowWater {
		for y := r.y0 - 2; y < r.y1+2; y++ {
			for x := r.x0 - 2; x < r.x1+2; x++ {
				if x >= 0 && y >= 0 && x < b.n && y < b.n && b.water[y*b.n+x] {
					return false
				}
			}
		}
	}
	return true
}

// placeParcels puts count parcels, riverside of them on the river bank.
func (b *sceneBuilder) placeParcels(count, riverside int, prefix string) {
	for k := 0; k < count; k++ {
		for attempt := 0; attempt < 2000; attempt++ {
			w, h := 36+b.r.IntN(28), 36+b.r.IntN(28)
			var r rect
			if k < riverside {
				// On the bank: the parcel's river side one or two pixels from the water
				// at its middle column, where the outfall is.
				x := 10 + b.r.IntN(b.n-w-20)
				cy := b.riverY(x + w/2)
				if b.r.IntN(2) == 0 {
					y1 := int(math.Ceil(cy-riverHalf)) - 1
					r = rect{x, y1 - h, x + w, y1}
				} else {
					y0 := int(math.Floor(cy+riverHalf)) + 2
					r = rect{x, y0, x + w, y0 + h}
				}
				if !b.free(r, 14, true) || b.wet(r) {
					continue
				}
				b.parcels = append(b.parcels, r)
				b.parcelIDs = append(b.parcelIDs, prefix+"-p"+itoa(len(b.parcels)))
				b.riverside = append(b.riverside, true)
				b.occupied = append(b.occupied, r)
				break
			} else {
				x, y := 6+b.r.IntN(b.n-w-12), 6+b.r.IntN(b.n-h-12)
				r = rect{x, y, x + w, y + h}
			}
			if !b.free(r, 14, false) {
				continue
			}
			b.parcels = append(b.parcels, r)
			b.parcelIDs = append(b.parcelIDs, prefix+"-p"+itoa(len(b.parcels)))
			b.riverside = append(b.riverside, k < riverside)
			b.occupied = append(b.occupied, r)
			break
		}
	}
}

// wet reports whether any pixel of r is water.
func (b *sceneBuilder) wet(r rect) bool {
	for y := max(0, r.y0); y < min(b.n, r.y1); y++ {
		for x := max(0, r.x0); x < min(b.n, r.x1); x++ {
			if b.water[y*b.n+x] {
				return true
			}
		}
	}
	return false
}

// spot finds a w×h rectangle inside parcel p clear of other objects in it.
func (b *sceneBuilder) spot(p rect, w, h int, taken []rect) (rect, bool) {
	for attempt := 0; attempt < 200; attempt++ {
		x := p.x0 + 2 + b.r.IntN(max(1, p.x1-p.x0-w-4))
		y := p.y0 + 2 + b.r.IntN(max(1, p.y1-p.y0-h-4))
		r := rect{x, y, x + w, y + h}
		ok := true
		for _, t := range taken {
			if r.grow(4).overlaps(t) {
				ok = false
			}
		}
		if ok {
			return r, true
		}
	}
	return rect{}, false
}

// freeSpot finds a w×h land rectangle at least gap pixels from every placed object.
func (b *sceneBuilder) freeSpot(w, h, gap int) (rect, bool) {
	for attempt := 0; attempt < 2000; attempt++ {
		x, y := 6+b.r.IntN(b.n-w-12), 6+b.r.IntN(b.n-h-12)
		r := rect{x, y, x + w, y + h}
		if b.free(r, gap, false) {
			return r, true
		}
	}
	return rect{}, false
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var s []byte
	for ; n > 0; n /= 10 {
		s = append([]byte{byte('0' + n%10)}, s...)
	}
	return string(s)
}
