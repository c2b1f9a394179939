package evalset

import (
	"math"
	"math/rand/v2"

	"github.com/offsite/offsite/internal/detect"
)

// Config sizes the evaluation set. Zero values take the defaults given.
type Config struct {
	Seed   uint64 // default 1
	Size   int    // side of each raster scene in 10 m pixels; default 768
	Scenes int    // scene pairs with injected objects (plus one control pair); default 4
	Tracks int    // vehicle tracks and boat runs, each; default 4
	// Noise is the sensor noise (standard deviation, reflectance) of the satellite scenes;
	// default 0.004.
	Noise float64
	// Phenology is a land-cover-specific seasonal shift: cropland's nir rises by this much
	// reflectance and its red falls by a fifth of it on the after date, which no linear
	// transformation of the whole scene reproduces; default 0.
	Phenology float64
	// Shift is the misregistration of the satellite after dates in pixels; default 0.3
	// (negative: none).
	Shift float64
}

func (c Config) withDefaults() Config {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Size == 0 {
		c.Size = 768
	}
	if c.Scenes == 0 {
		c.Scenes = 4
	}
	if c.Tracks == 0 {
		c.Tracks = 4
	}
	if c.Noise == 0 {
		c.Noise = 0.004
	}
	if c.Shift == 0 {
		c.Shift = 0.3
	}
	return c
}

// Set is a generated evaluation set.
type Set struct {
	Config Config
	Scenes []*Scene
	Tracks []*TrackCase
}

// Generate builds the evaluation set for cfg; the same cfg always yields the same set.
func Generate(cfg Config) *Set {
	cfg = cfg.withDefaults()
	r := rand.New(rand.NewPCG(cfg.Seed, 0x0ff5173))
	s := &Set{Config: cfg}
	for k := 0; k < cfg.Scenes; k++ {
		s.Scenes = append(s.Scenes, genScene(r, cfg, k, false))
	}
	s.Scenes = append(s.Scenes, genScene(r, cfg, cfg.Scenes, true))
	for k := 0; k < max(1, cfg.Scenes/2); k++ {
		s.Scenes = append(s.Scenes, genDroneScene(r, cfg.Size, k))
	}
	for k := 0; k < cfg.Tracks; k++ {
		s.Tracks = append(s.Tracks, genVehicleTrack(r, k), genBoatTrack(r, k))
	}
	return s
}

var changeClasses = []string{detect.ClassNewStructure, detect.ClassVegetationLoss, detect.ClassEarthwork, detect.ClassWaterChange}

// paintRect sets the spectrum of a rectangle in dst (one date), keeping the
// ground's texture.
func (b *sceneBuilder) paintRect(dst []spectrum, r rect, s spectrum, tex []float64) {
	for y := r.y0; y < r.y1; y++ {
		for x := r.x0; x < r.x1; x++ {
			i := y*b.n + x
			v := s
			for k := range v {
				v[k] *= tex[i]
			}
			dst[i] = v
		}
	}
}

// kiln is a hot source: its pixels, the dates it burns, its temperature (K) and the
// fraction of a 20 m pixel it fills.
type kiln struct {
	r             rect
	before, after bool
	temp, frac    float64
}

// newKiln draws an operating kiln or furnace: 900–1400 K over 0.5–3% of a 20 m pixel.
func newKiln(r *rand.Rand, at rect, before, after bool) kiln {
	return kiln{r: at, before: before, after: after, temp: 900 + 500*r.Float64(), frac: 0.005 + 0.025*r.Float64()}
}

// planck is blackbody spectral radiance in W/m²/sr/µm at wavelength lambda (µm).
func planck(lambda, temp float64) float64 {
	const c1, c2 = 1.191042e8, 14387.77 // W µm⁴/m²/sr, µm K
	return c1 / math.Pow(lambda, 5) / (math.Exp(c2/(lambda*temp)) - 1)
}

func genScene(r *rand.Rand, cfg Config, index int, control bool) *Scene {
	n := cfg.Size
	name := "scene" + itoa(index+1)
	if control {
		name = "control"
	}
	b := newGround(r, n, 400000+float64(index)*20000, 3500000)
	tex := make([]float64, n*n)
	texN := newNoise(r, n, n, 5)
	for i := range tex {
		tex[i] = 1 + 0.2*(texN.at(i%n, i/n)-0.5)
	}
	b.after = append([]spectrum(nil), b.before...)
	var kilns []kiln
	if !control {
		b.placeParcels(20, 6, name)
		for p, pr := range b.parcels {
			id := b.parcelIDs[p]
			var taken []rect
			if b.riverside[p] {
				if p < 4 {
					b.plume(pr, id)
				} else if kr, ok := b.spot(pr, 2, 2, taken); ok {
					kilns = append(kilns, newKiln(r, kr, true, true))
				}
				continue
			}
			cls := changeClasses[p%len(changeClasses)]
			w, h := 3+r.IntN(11), 3+r.IntN(11)
			cr, ok := b.spot(pr, w, h, taken)
			if ok {
				taken = append(taken, cr)
				b.change(cr, cls, tex, p)
				b.truth = append(b.truth, Truth{Detector: "change", Class: cls, Bound: b.bound(cr), ParcelID: id})
			}
			if p%2 == 0 {
				kw, kh := 2, 2
				if p%4 == 0 {
					kw = 4
				}
				if kr, ok := b.spot(pr, kw, kh, taken); ok {
					taken = append(taken, kr)
					switch (p / 2) % 3 {
					case 0:
						kilns = append(kilns, newKiln(r, kr, true, true))
					case 1:
						kilns = append(kilns, newKiln(r, kr, false, true))
					default:
						kilns = append(kilns, newKiln(r, kr, true, false))
					}
				}
			}
			if p%3 == 1 {
				// Bright surfaces on both dates, not a change and not hot: a white roof, a
				// metal roof bright in SWIR, a gypsum pile.
				bright := []spectrum{specWhite, specMetal, specGypsum}[(p/3)%3]
				if rr, ok := b.spot(pr, 8, 8, taken); ok {
					b.paintRect(b.before, rr, bright, tex)
					b.paintRect(b.after, rr, bright, tex)
				}
			}
		}
		// Distractor changes outside every parcel's buffer.
		for k := 0; k < 10; k++ {
			w, h := 7+r.IntN(7), 7+r.IntN(7)
			if dr, ok := b.freeSpot(w, h, 8); ok {
				b.occupied = append(b.occupied, dr)
				cls := changeClasses[k%len(changeClasses)]
				b.change(dr, cls, tex, k)
				b.truth = append(b.truth, Truth{Detector: "change", Class: cls, Bound: b.bound(dr)})
			}
		}
		// A distractor plume away from every parcel.
		for attempt := 0; attempt < 500; attempt++ {
			x := 20 + r.IntN(n-40)
			pr := rect{x - 20, int(b.riverY(x)) - riverHalf - 30, x + 20, int(b.riverY(x)) + riverHalf + 30}
			clear := true
			for _, o := range b.parcels {
				if pr.overlaps(o) {
					clear = false
				}
			}
			if clear {
				b.plumeStrength = 1
				box := b.plumeAt(x, int(math.Ceil(b.riverY(x)-riverHalf)), 1, 10, 5)
				b.truth = append(b.truth, Truth{Detector: "water_plume", Class: detect.ClassWaterPlume, Bound: b.bound(box)})
				break
			}
		}
		for _, k := range kilns {
			status := detect.StatusPersistent
			switch {
			case !k.before:
				status = detect.StatusNew
			case !k.after:
				status = detect.StatusStopped
			}
			b.truth = append(b.truth, Truth{Detector: "hotspot", Class: detect.ClassThermal, Status: status, Bound: b.bound(k.r), ParcelID: b.parcelOf(k.r)})
		}
	}
	// Natural turbidity gradient along the river, both dates.
	for i := range b.before {
		if b.water[i] {
			g := 0.025 * float64(i%n) / float64(n)
			b.before[i][2] += g
			b.after[i][2] += g
		}
	}
	// The after date is misregistered by a fraction of a pixel, as Sentinel-2 dates are.
	if cfg.Phenology > 0 {
		for i := range b.after {
			if b.crop[i] && b.after[i] == b.before[i] {
				b.after[i][3] += cfg.Phenology
				b.after[i][2] -= cfg.Phenology / 5
			}
		}
	}
	if cfg.Shift > 0 {
		b.after = shift(b.after, n, cfg.Shift, -0.8*cfg.Shift)
	}
	b.sclAfter = append([]float32(nil), b.sclBefore...)
	if !control {
		b.clouds(2)
		b.dropClouded()
	}
	sc := &Scene{Name: name, Control: control, Truth: b.truth, Pipeline: "sentinel2"}
	sc.Before = b.render(b.before, b.sclBefore, false, cfg.Noise, r)
	sc.After = b.render(b.after, b.sclAfter, true, cfg.Noise, r)
	b.burn(sc.Before, sc.After, kilns)
	for p, pr := range b.parcels {
		sc.Parcels = append(sc.Parcels, detect.Parcel{ID: b.parcelIDs[p], Geometry: b.bound(pr).ToPolygon()})
	}
	return sc
}

// change paints one change of class cls at cr on the after date (and sets the before
// cover it needs).
func (b *sceneBuilder) change(cr rect, cls string, tex []float64, k int) {
	switch cls {
	case detect.ClassNewStructure:
		// Blue steel roofs (on bare ground or, subtler, on concrete) and white roofs.
		switch k % 3 {
		case 0:
			b.paintRect(b.after, cr, specBlueRoof, tex)
		case 1:
			b.paintRect(b.after, cr, specWhite, tex)
		default:
			b.paintRect(b.before, cr, specUrban, tex)
			b.paintRect(b.after, cr, specBlueRoof, tex)
		}
	case detect.ClassVegetationLoss:
		// Woodland or cropland cleared to fresh soil.
		cover := specVeg
		if k%2 == 1 {
			cover = specCrop
		}
		b.paintRect(b.before, cr, cover, tex)
		b.paintRect(b.after, cr, specFresh, tex)
	case detect.ClassEarthwork:
		b.paintRect(b.before, cr, specSoil, tex)
		b.paintRect(b.after, cr, specFresh, tex)
	case detect.ClassWaterChange:
		b.paintRect(b.before, cr, specSoil, tex)
		b.paintRect(b.after, cr, specWater, tex)
	}
}

// plume paints a turbid plume in the river next to parcel pr and returns its truth box.
func (b *sceneBuilder) plume(pr rect, id string) rect {
	x := (pr.x0 + pr.x1) / 2
	cy := b.riverY(x)
	a, c := 8+b.r.IntN(7), 4+b.r.IntN(4)
	var edge, dir int
	if float64(pr.y1) <= cy {
		edge, dir = int(math.Ceil(cy-riverHalf)), 1
	} else {
		edge, dir = int(math.Floor(cy+riverHalf)), -1
	}
	b.plumeStrength = 0.2 + 0.8*b.r.Float64()
	box := b.plumeAt(x, edge, dir, a, c)
	b.truth = append(b.truth, Truth{Detector: "water_plume", Class: detect.ClassWaterPlume, Bound: b.bound(box), ParcelID: id})
	return box
}

// plumeAt paints a half-ellipse of turbid water from the bank row edge into the river
// (dir +1 downwards, −1 upwards), a along the river and c across; it returns the painted
// pixels' bounding box.
func (b *sceneBuilder) plumeAt(x, edge, dir, a, c int) rect {
	box := rect{b.n, b.n, -1, -1}
	for dy := 0; dy <= c; dy++ {
		for dx := -a; dx <= a; dx++ {
			d := float64(dx*dx)/float64(a*a) + float64(dy*dy)/float64(c*c)
			px, py := x+dx, edge+dir*dy
			if d > 1 || px < 0 || py < 0 || px >= b.n || py >= b.n || !b.water[py*b.n+px] {
				continue
			}
			i := py*b.n + px
			f := b.plumeStrength * (0.6 + 0.4*(1-d))
			for k := range b.after[i] {
				b.after[i][k] = specWater[k] + (specTurbid[k]-specWater[k])*f
			}
			box.x0, box.y0 = min(box.x0, px), min(box.y0, py)
			box.x1, box.y1 = max(box.x1, px+1), max(box.y1, py+1)
		}
	}
	return box
}

func (b *sceneBuilder) parcelOf(r rect) string {
	for p, pr := range b.parcels {
		if pr.overlaps(r) {
			return b.parcelIDs[p]
		}
	}
	return ""
}

// shift resamples spectra by (dx, dy) pixels with bilinear interpolation.
func shift(src []spectrum, n int, dx, dy float64) []spectrum {
	out := make([]spectrum, len(src))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			fx := math.Min(math.Max(float64(x)+dx, 0), float64(n-1))
			fy := math.Min(math.Max(float64(y)+dy, 0), float64(n-1))
			x0, y0 := int(fx), int(fy)
			x1, y1 := min(x0+1, n-1), min(y0+1, n-1)
			tx, ty := fx-float64(x0), fy-float64(y0)
			for k := range out[y*n+x] {
				out[y*n+x][k] = (src[y0*n+x0][k]*(1-tx)+src[y0*n+x1][k]*tx)*(1-ty) +
					(src[y1*n+x0][k]*(1-tx)+src[y1*n+x1][k]*tx)*ty
			}
		}
	}
	return out
}

// clouds puts count opaque clouds with shadows on the after date and marks them in SCL.
func (b *sceneBuilder) clouds(count int) {
	for k := 0; k < count; k++ {
		rad := 18 + b.r.IntN(18)
		cx, cy := rad+b.r.IntN(b.n-2*rad), rad+b.r.IntN(b.n-2*rad)
		sx, sy := cx+20, cy+12
		for y := 0; y < b.n; y++ {
			for x := 0; x < b.n; x++ {
				i := y*b.n + x
				dc := math.Hypot(float64(x-cx), float64(y-cy))
				ds := math.Hypot(float64(x-sx), float64(y-sy))
				switch {
				case dc <= float64(rad):
					b.after[i] = specCloud
					b.sclAfter[i] = 9
					b.cloudCover[i] = true
				case dc <= float64(rad+3):
					b.sclAfter[i] = 8
					b.cloudCover[i] = true
				case ds <= float64(rad):
					for c := range b.after[i] {
						b.after[i][c] *= 0.35
					}
					b.sclAfter[i] = 3
					b.cloudCover[i] = true
				case ds <= float64(rad+3):
					b.sclAfter[i] = 3
					b.cloudCover[i] = true
				case dc <= float64(rad+9):
					// Thin haze beyond the SCL mask, as at real cloud edges.
					a := 0.12 * (1 - (dc-float64(rad+3))/6)
					for c := range b.after[i] {
						b.after[i][c] = b.after[i][c]*(1-a) + specCloud[c]*a
					}
				}
			}
		}
	}
}

// dropClouded removes truth objects mostly hidden by clouds or shadows.
func (b *sceneBuilder) dropClouded() {
	kept := b.truth[:0]
	for _, t := range b.truth {
		x0 := int((t.Bound.Min[0] - b.gt[0]) / pixel)
		x1 := int((t.Bound.Max[0] - b.gt[0]) / pixel)
		y0 := int((b.gt[3] - t.Bound.Max[1]) / pixel)
		y1 := int((b.gt[3] - t.Bound.Min[1]) / pixel)
		covered, total := 0, 0
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				total++
				if b.cloudCover[y*b.n+x] {
					covered++
				}
			}
		}
		if covered == 0 || (covered*10 < total*3 && t.Detector == "change") {
			kept = append(kept, t)
		}
	}
	b.truth = kept
}

// render turns spectra into a Sentinel-2-like grid: six bands plus nir_narrow and SCL;
// the after date gets the gain/offset and seasonal shift. Noise is added per date.
func (b *sceneBuilder) render(spec []spectrum, scl []float32, after bool, noise float64, r *rand.Rand) *detect.Grid {
	n := b.n
	roles := []string{detect.BandBlue, detect.BandGreen, detect.BandRed, detect.BandNIR, detect.BandSWIR1, detect.BandSWIR2, detect.BandNIRNarrow, detect.BandSCL}
	g := &detect.Grid{Width: n, Height: n, GeoTransform: b.gt, Names: roles, Bands: make([][]float32, len(roles))}
	for k := range g.Bands {
		g.Bands[k] = make([]float32, n*n)
	}
	for i, s := range spec {
		v := s
		if after {
			// Seasonal greening (a linear spectral transformation) then gain and offset.
			v[3] += 0.25 * (v[3] - v[2])
			v[1] *= 1.04
			for k := range v {
				v[k] = v[k]*afterGain[k] + afterOffset[k]
			}
		}
		for k := 0; k < 6; k++ {
			g.Bands[k][i] = float32(v[k] + noise*r.NormFloat64())
		}
		g.Bands[6][i] = float32(v[3]*0.98 + noise*r.NormFloat64())
		g.Bands[7][i] = scl[i]
	}
	return g
}

// burn adds the kilns' emitted radiance, as apparent reflectance (π·f·B(λ,T) over the
// solar irradiance at a 37° sun), to the rendered grids: it does not follow the
// surface's radiometric shift. Values clip at 5.5, where Sentinel-2 saturates.
func (b *sceneBuilder) burn(before, after *detect.Grid, kilns []kiln) {
	for _, k := range kilns {
		for _, d := range []struct {
			g  *detect.Grid
			on bool
		}{{before, k.before}, {after, k.after}} {
			if !d.on {
				continue
			}
			for y := k.r.y0; y < k.r.y1; y++ {
				for x := k.r.x0; x < k.r.x1; x++ {
					i := y*b.n + x
					if d.g.Bands[7][i] == 9 || d.g.Bands[7][i] == 8 || d.g.Bands[7][i] == 3 {
						continue
					}
					add := func(band int, lambda, e0 float64) {
						v := float64(d.g.Bands[band][i]) + math.Pi*k.frac*planck(lambda, k.temp)/(e0*0.8)
						d.g.Bands[band][i] = float32(math.Min(v, 5.5))
					}
					add(4, 1.61, 245.59) // swir1
					add(5, 2.19, 85.25)  // swir2
					add(6, 0.865, 955.19)
					add(3, 0.833, 1041.0)
				}
			}
		}
	}
}
