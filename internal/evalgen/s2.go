package evalgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
)

// Sentinel-2 bands generated, in this order.
var s2Names = [nS2]string{"B02", "B03", "B04", "B08", "B8A", "B11", "B12"}

const nS2 = 7

// Band indexes into a spectrum.
const (
	iBlue = iota
	iGreen
	iRed
	iNIR
	iNIRNarrow
	iSWIR1
	iSWIR2
)

type spectrum [nS2]float64

// Surface materials.
const (
	matWater = iota
	matForest
	matCrop
	matGrass
	matBare
	matConcrete
	matAsphalt
	matRoofWhite
	matRoofGrey
	matRoofBlue
	matRoofRed
	matChar
	matSoil
	nMat
)

var matNames = [nMat]string{"water", "forest", "cropland", "grass", "bare soil", "concrete", "asphalt",
	"white roof", "grey steel roof", "blue steel roof", "red tile roof", "char", "fresh spoil"}

// s2Spectra are surface reflectances of the materials in the bands of s2Names: typical
// library values (vegetation red edge, soil SWIR rise, char with SWIR2 above NIR, painted
// steel with a blue peak and low NIR).
var s2Spectra = [nMat]spectrum{
	matWater:     {0.055, 0.050, 0.030, 0.015, 0.012, 0.008, 0.005},
	matForest:    {0.025, 0.045, 0.025, 0.300, 0.310, 0.150, 0.070},
	matCrop:      {0.035, 0.070, 0.045, 0.380, 0.400, 0.210, 0.105},
	matGrass:     {0.050, 0.080, 0.085, 0.260, 0.275, 0.280, 0.170},
	matBare:      {0.090, 0.125, 0.170, 0.240, 0.260, 0.320, 0.270},
	matConcrete:  {0.150, 0.170, 0.185, 0.220, 0.225, 0.250, 0.220},
	matAsphalt:   {0.070, 0.075, 0.080, 0.095, 0.100, 0.120, 0.110},
	matRoofWhite: {0.520, 0.550, 0.560, 0.570, 0.570, 0.500, 0.420},
	matRoofGrey:  {0.180, 0.195, 0.205, 0.230, 0.232, 0.240, 0.220},
	matRoofBlue:  {0.200, 0.170, 0.090, 0.120, 0.125, 0.110, 0.095},
	matRoofRed:   {0.070, 0.085, 0.200, 0.270, 0.280, 0.310, 0.270},
	matChar:      {0.035, 0.040, 0.045, 0.085, 0.095, 0.170, 0.190},
	matSoil:      {0.130, 0.175, 0.230, 0.300, 0.315, 0.400, 0.350},
}

// phenology multiplies a material's reflectance from the before to the after date, full
// strength: crops green up, grass dries, forest flushes a little; built-up land, soil and
// water do not change with the season.
var phenology = [nMat]spectrum{
	matForest: {1.00, 1.03, 0.95, 1.08, 1.08, 0.97, 0.95},
	matCrop:   {0.85, 0.95, 0.70, 1.30, 1.30, 0.90, 0.82},
	matGrass:  {1.08, 1.05, 1.18, 0.86, 0.86, 1.08, 1.14},
}

// Cloud top reflectance and the share of direct light a cloud shadow removes.
var (
	cloudSpectrum = spectrum{0.46, 0.46, 0.47, 0.51, 0.51, 0.37, 0.25}
	hazeSpectrum  = spectrum{0.035, 0.025, 0.015, 0.006, 0.005, 0.001, 0.0005}
	plumeSpectrum = spectrum{0.012, 0.030, 0.045, 0.018, 0.014, 0.002, 0.001}
	// Sensor noise: a floor (dark targets such as water) and 1% of the signal.
	noiseFloor = spectrum{0.002, 0.0015, 0.0015, 0.002, 0.002, 0.002, 0.002}
)

const shadowDepth = 0.65

// Encodings of Sentinel-2-like files.
const (
	encL2AOffset = iota // UInt16, DN = (ρ+0.1)·10⁴ (baseline 04.00), scale/offset metadata, 7 bands + SCL
	encSixBand          // UInt16, DN = ρ·10⁴, B02 B03 B04 B08 B11 B12 only, no metadata
	encFloat            // Float32 ρ, 7 bands, no SCL
	encPre0400          // UInt16, DN = ρ·10⁴ with scale metadata, no B8A, SCL
)

type s2Spec struct {
	name         string
	seed         uint64
	size         int
	enc          int
	control      string
	clouds, haze bool // on the after date
	cloudsBefore bool
	shift        [2]float64 // misregistration of the after date, pixels
	gain, offset float64    // after = gain·ρ + offset (reflectance)
}

// s2World is the ground of one scene, in metres from the upper-left corner (y down).
type s2World struct {
	seed    uint64
	side    float64
	fields  []field
	zone    rect
	roads   []rect
	roofs   []roofAt
	riverY  func(x float64) float64
	riverW  float64
	changes []change
	hots    []hotSource
	plumes  []plume
	clouds  []cloud
	shadow  [2]float64 // cloud-to-shadow displacement
}

type field struct {
	box    rect
	mat    int
	bright float64
	phase  float64 // how far its phenology has gone by the after date
}

type roofAt struct {
	box rect
	mat int
}

type change struct {
	id     int32
	shape  shape
	after  int // material after; before is what lies beneath
	before int // -1: the ground beneath
	class  string
}

type hotSource struct {
	id         int32
	box        rect
	k          float64 // SWIR2 reflectance equivalent added at full cover
	r11, r8a   float64 // radiance ratios to SWIR2 at the source's temperature, per solar irradiance
	persistent bool
}

type plume struct {
	id       int32
	x0, len  float64
	strength float64
}

type cloud struct {
	cx, cy, r float64
	seed      uint64
}

func (s s2Spec) make(dir string) (*Case, error) {
	r := rand.New(rand.NewPCG(s.seed, 0xE5A1))
	const px = 10.0
	w := newS2World(r, s.seed, float64(s.size)*px, s.control == "")
	if s.clouds || s.cloudsBefore {
		w.addClouds(r, 3)
	}
	c := &Case{
		Name: s.name, Sensor: SensorSentinel2, Control: s.control,
		CRS: "EPSG:32650", Width: s.size, Height: s.size, AreaKm2: math.Pow(float64(s.size)*px/1000, 2),
	}
	x0, y0 := 500000+math.Floor(uniform(r, 0, 50))*1000, 3300000+math.Floor(uniform(r, 0, 50))*1000
	c.GeoTransform = [6]float64{x0, px, 0, y0, 0, -px}
	c.Labels, c.Ignore = w.truth(s.size, px)
	for _, ch := range w.changes {
		c.Objects = append(c.Objects, Object{ID: ch.id, Kind: KindChange, Class: ch.class, Note: fmt.Sprintf("%s %.0f×%.0f m", matNames[ch.after], ch.shape.Box.X1-ch.shape.Box.X0, ch.shape.Box.Y1-ch.shape.Box.Y0)})
	}
	for _, h := range w.hots {
		st := "new"
		if h.persistent {
			st = "persistent"
		}
		c.Objects = append(c.Objects, Object{ID: h.id, Kind: KindHotspot, Class: st, Note: fmt.Sprintf("%.0f m², SWIR2 +%.2f", (h.box.X1-h.box.X0)*(h.box.Y1-h.box.Y0), h.k)})
	}
	for _, p := range w.plumes {
		c.Objects = append(c.Objects, Object{ID: p.id, Kind: KindWaterPlume, Class: "water_plume", Note: fmt.Sprintf("%.0f m long", p.len)})
	}
	before := w.render(r, s.size, px, [2]float64{}, false, dateLook{clouds: s.cloudsBefore})
	after := w.render(r, s.size, px, s.shift, true, dateLook{
		clouds: s.clouds, haze: s.haze, gain: s.gain, offset: s.offset,
		phenology: s.control != ControlGainOffset,
	})
	desc := map[int]string{
		encL2AOffset: "UInt16 ×10⁴ + 04.00 offset 1000 (scale/offset in metadata), 7 bands + SCL",
		encSixBand:   "UInt16 ×10⁴ without offset or metadata, 6 bands (no B8A, no SCL)",
		encFloat:     "Float32 reflectance, 7 bands, no SCL",
		encPre0400:   "UInt16 ×10⁴ without offset (scale in metadata), no B8A, with SCL",
	}[s.enc]
	var cond []string
	switch s.control {
	case "":
		cond = append(cond, "phenology")
	case ControlSeasonal:
		cond = append(cond, "phenology only")
	}
	if s.clouds {
		cond = append(cond, "clouds+shadows after")
	}
	if s.cloudsBefore {
		cond = append(cond, "clouds+shadows before")
	}
	if s.haze {
		cond = append(cond, "haze after")
	}
	if s.shift != [2]float64{} {
		cond = append(cond, fmt.Sprintf("shift %.2f px", math.Hypot(s.shift[0], s.shift[1])))
	}
	if s.gain != 1 || s.offset != 0 {
		cond = append(cond, fmt.Sprintf("gain %.2f offset %+.3f", s.gain, s.offset))
	}
	c.Describe = desc + "; " + joinComma(cond)
	var err error
	if c.Before, err = s.write(dir, c, "before", before); err != nil {
		return nil, err
	}
	if c.After, err = s.write(dir, c, "after", after); err != nil {
		return nil, err
	}
	return c, nil
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}

// rendered is one date: reflectance per band and the scene classification.
type rendered struct {
	refl [nS2][]float32
	scl  []float32
}

// write encodes one date as the spec's files and returns their names (relative to dir).
func (s s2Spec) write(dir string, c *Case, date string, d rendered) ([]string, error) {
	c.Bands = map[string]string{"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir1": "B11", "swir2": "B12"}
	img := Image{CRS: c.CRS, GeoTransform: c.GeoTransform, Width: c.Width, Height: c.Height, Type: UInt16}
	zero := 0.0
	var scale, offset float64
	withB8A, withSCL := true, true
	switch s.enc {
	case encL2AOffset:
		scale, offset = 1e-4, -0.1
		img.NoData = &zero
	case encSixBand:
		scale, offset = 1e-4, 0
		withB8A, withSCL = false, false
		img.NoData = &zero
	case encFloat:
		scale, offset = 1, 0
		img.Type = Float32
		withSCL = false
	case encPre0400:
		scale, offset = 1e-4, 0
		withB8A = false
		img.NoData = &zero
	}
	c.Scale, c.Offset = scale, offset
	for b, name := range s2Names {
		if b == iNIRNarrow && !withB8A {
			continue
		}
		data := make([]float32, len(d.refl[b]))
		for i, v := range d.refl[b] {
			dn := (float64(v) - offset) / scale
			if img.Type == UInt16 && dn < 1 {
				dn = 1 // 0 is nodata
			}
			data[i] = float32(dn)
		}
		band := Band{Name: name, Data: data}
		if s.enc == encL2AOffset || s.enc == encPre0400 {
			band.Scale, band.Offset = scale, offset
		}
		img.Bands = append(img.Bands, band)
	}
	if withB8A {
		c.Bands["nir_narrow"] = "B8A"
	}
	if withSCL {
		img.Bands = append(img.Bands, Band{Name: "SCL", Data: d.scl})
		c.Bands["scl"] = "SCL"
	}
	name := s.name + "-" + date + ".tif"
	if err := WriteGeoTIFF(filepath.Join(dir, name), img); err != nil {
		return nil, err
	}
	return []string{name}, nil
}

func newS2World(r *rand.Rand, seed uint64, side float64, withEvents bool) *s2World {
	w := &s2World{seed: seed, side: side}
	// Fields: the scene split recursively into rectangles of 150 to 450 m.
	var split func(b rect)
	split = func(b rect) {
		wd, ht := b.X1-b.X0, b.Y1-b.Y0
		if wd <= 450 && ht <= 450 && (wd < 300 || r.Float64() < 0.5) {
			mats := []int{matCrop, matCrop, matCrop, matForest, matForest, matGrass, matGrass, matBare}
			w.fields = append(w.fields, field{box: b, mat: mats[r.IntN(len(mats))], bright: uniform(r, 0.88, 1.12), phase: uniform(r, 0.5, 1.2)})
			return
		}
		if wd >= ht {
			x := b.X0 + wd*uniform(r, 0.35, 0.65)
			split(rect{b.X0, b.Y0, x, b.Y1})
			split(rect{x, b.Y0, b.X1, b.Y1})
		} else {
			y := b.Y0 + ht*uniform(r, 0.35, 0.65)
			split(rect{b.X0, b.Y0, b.X1, y})
			split(rect{b.X0, y, b.X1, b.Y1})
		}
	}
	split(rect{0, 0, side, side})
	// An industrial zone in the upper half: concrete yards, asphalt roads, roofs of every
	// colour.
	zs := side * uniform(r, 0.3, 0.4)
	zx := uniform(r, 0.05*side, side-zs-0.05*side)
	w.zone = rect{zx, 0.06 * side, zx + zs, 0.06*side + zs}
	for x := w.zone.X0 + 140; x < w.zone.X1; x += 150 {
		w.roads = append(w.roads, rect{x, w.zone.Y0, x + 12, w.zone.Y1})
	}
	for y := w.zone.Y0 + 140; y < w.zone.Y1; y += 150 {
		w.roads = append(w.roads, rect{w.zone.X0, y, w.zone.X1, y + 12})
	}
	roofMats := []int{matRoofWhite, matRoofGrey, matRoofBlue, matRoofRed, matRoofBlue, matRoofGrey}
	for x := w.zone.X0 + 10; x+40 < w.zone.X1; x += 75 {
		for y := w.zone.Y0 + 10; y+40 < w.zone.Y1; y += 75 {
			if r.Float64() < 0.45 {
				continue // an empty lot
			}
			b := rect{x, y, x + uniform(r, 30, 60), y + uniform(r, 25, 60)}
			if w.onRoad(b) {
				continue
			}
			w.roofs = append(w.roofs, roofAt{box: b, mat: roofMats[r.IntN(len(roofMats))]})
		}
	}
	// A river across the lower part.
	yc, amp, lam, ph := side*uniform(r, 0.68, 0.78), side*uniform(r, 0.02, 0.05), side*uniform(r, 0.6, 1.2), uniform(r, 0, 2*math.Pi)
	w.riverY = func(x float64) float64 { return yc + amp*math.Sin(2*math.Pi*x/lam+ph) }
	w.riverW = uniform(r, 90, 130)
	if withEvents {
		w.addEvents(r)
	}
	return w
}

func (w *s2World) onRoad(b rect) bool {
	for _, rd := range w.roads {
		if rd.grow(4).overlaps(b) {
			return true
		}
	}
	return false
}

// nearRiver reports whether b comes within m metres of the river.
func (w *s2World) nearRiver(b rect, m float64) bool {
	for x := b.X0; x <= b.X1; x += 10 {
		y := w.riverY(x)
		if y+w.riverW/2+m > b.Y0 && y-w.riverW/2-m < b.Y1 {
			return true
		}
	}
	return false
}

// free reports whether b (grown by margin) stays clear of the river, the other events and,
// unless onRoof, the existing roofs.
func (w *s2World) free(b rect, margin float64, roofsOK bool) bool {
	if b.X0 < 20 || b.Y0 < 20 || b.X1 > w.side-20 || b.Y1 > w.side-20 || w.nearRiver(b, margin) {
		return false
	}
	g := b.grow(margin)
	for _, c := range w.changes {
		if c.shape.Box.overlaps(g) {
			return false
		}
	}
	for _, h := range w.hots {
		if h.box.grow(40).overlaps(g) {
			return false
		}
	}
	if !roofsOK {
		for _, rf := range w.roofs {
			if rf.box.overlaps(b.grow(8)) {
				return false
			}
		}
	}
	return true
}

// addEvents places the changes, hot sources and plumes of the after date.
func (w *s2World) addEvents(r *rand.Rand) {
	id := int32(0)
	next := func() int32 { id++; return id }
	place := func(wd, ht float64, inZone bool, ok func(rect) bool) (rect, bool) {
		for try := 0; try < 400; try++ {
			var x, y float64
			if inZone {
				x, y = uniform(r, w.zone.X0, w.zone.X1-wd), uniform(r, w.zone.Y0, w.zone.Y1-ht)
			} else {
				x, y = uniform(r, 0, w.side-wd), uniform(r, 0, w.side-ht)
			}
			b := rect{x, y, x + wd, y + ht}
			if w.free(b, 30, false) && !w.onRoad(b) && (ok == nil || ok(b)) {
				return b, true
			}
		}
		return rect{}, false
	}
	outsideZone := func(b rect) bool { return !b.grow(30).overlaps(w.zone) }
	fieldIs := func(mats ...int) func(rect) bool {
		return func(b rect) bool {
			if !outsideZone(b) {
				return false
			}
			for _, pt := range [][2]float64{{b.X0, b.Y0}, {b.X1, b.Y0}, {b.X0, b.Y1}, {b.X1, b.Y1}, {(b.X0 + b.X1) / 2, (b.Y0 + b.Y1) / 2}} {
				m := w.fieldAt(pt[0], pt[1]).mat
				found := false
				for _, want := range mats {
					found = found || m == want
				}
				if !found {
					return false
				}
			}
			return true
		}
	}
	// New roofs: two in the zone's empty lots, two on fields next to it; every colour.
	for i, mat := range []int{matRoofBlue, matRoofWhite, matRoofGrey, matRoofRed, matRoofBlue} {
		b, ok := place(uniform(r, 30, 70), uniform(r, 25, 55), i < 2, nil)
		if ok {
			w.changes = append(w.changes, change{id: next(), shape: shape{Box: b}, after: mat, before: -1, class: "new_structure"})
		}
	}
	// A demolished building: an existing roof becomes concrete.
	if len(w.roofs) > 0 {
		k := r.IntN(len(w.roofs))
		rf := w.roofs[k]
		w.roofs = append(w.roofs[:k], w.roofs[k+1:]...)
		w.changes = append(w.changes, change{id: next(), shape: shape{Box: rf.box}, after: matConcrete, before: rf.mat, class: "demolition"})
	}
	blob := func(minS, maxS float64, after int, class string, ok func(rect) bool) {
		s := uniform(r, minS, maxS)
		if b, found := place(s, s*uniform(r, 0.6, 1.0), false, ok); found {
			w.changes = append(w.changes, change{id: next(), shape: shape{Box: b, Round: true, Seed: r.Uint64()}, after: after, before: -1, class: class})
		}
	}
	blob(120, 240, matBare, "vegetation_loss", fieldIs(matForest))
	blob(180, 380, matChar, "burn", fieldIs(matForest, matGrass, matCrop))
	blob(70, 150, matSoil, "earthwork", fieldIs(matGrass, matCrop, matBare))
	if b, ok := place(uniform(r, 50, 100), uniform(r, 40, 80), false, fieldIs(matBare, matGrass, matCrop)); ok {
		w.changes = append(w.changes, change{id: next(), shape: shape{Box: b}, after: matWater, before: -1, class: "water_change"})
	}
	// Hot sources on the zone's roofs and yards: 20 m footprints (one Sentinel-2 SWIR
	// pixel) on the 20 m grid, at 1000 to 1600 K.
	for i := 0; i < 4; i++ {
		for try := 0; try < 200; try++ {
			x := math.Floor(uniform(r, w.zone.X0, w.zone.X1-20)/20) * 20
			y := math.Floor(uniform(r, w.zone.Y0, w.zone.Y1-20)/20) * 20
			b := rect{x, y, x + 20, y + 20}
			if !w.free(b, 40, true) {
				continue
			}
			t := uniform(r, 1000, 1600)
			h := hotSource{id: next(), box: b, k: uniform(r, 0.15, 1.0), persistent: i%2 == 0}
			l22, l16, l086 := planck(2.19, t), planck(1.61, t), planck(0.865, t)
			// Apparent reflectance rises as radiance over solar irradiance (W/m²/µm):
			// 85 in B12, 246 in B11, 955 in B8A.
			h.r11 = (l16 / 246) / (l22 / 85)
			h.r8a = (l086 / 955) / (l22 / 85)
			w.hots = append(w.hots, h)
			break
		}
	}
	// Turbid plumes downstream of two outfalls.
	for i := 0; i < 2; i++ {
		p := plume{id: next(), x0: w.side * (0.2 + 0.45*float64(i) + uniform(r, 0, 0.1)), len: uniform(r, 180, 320), strength: uniform(r, 0.6, 1.0)}
		w.plumes = append(w.plumes, p)
	}
}

// planck is spectral radiance at wavelength µm and temperature K, up to a constant.
func planck(um, t float64) float64 {
	return math.Pow(um, -5) / (math.Exp(14388/(um*t)) - 1)
}

// addClouds places cumulus clouds whose shadows fall clear of every event.
func (w *s2World) addClouds(r *rand.Rand, n int) {
	w.shadow = [2]float64{uniform(r, 150, 260), uniform(r, 100, 200)}
	for i := 0; i < n; i++ {
		for try := 0; try < 300; try++ {
			c := cloud{cx: uniform(r, 0, w.side), cy: uniform(r, 0, w.side), r: uniform(r, 120, 260), seed: r.Uint64()}
			cb := rect{c.cx - c.r, c.cy - c.r, c.cx + c.r, c.cy + c.r}
			sb := rect{cb.X0 + w.shadow[0], cb.Y0 + w.shadow[1], cb.X1 + w.shadow[0], cb.Y1 + w.shadow[1]}
			clear := true
			for _, ch := range w.changes {
				clear = clear && !ch.shape.Box.grow(40).overlaps(cb) && !ch.shape.Box.grow(40).overlaps(sb)
			}
			for _, h := range w.hots {
				clear = clear && !h.box.grow(60).overlaps(cb) && !h.box.grow(60).overlaps(sb)
			}
			for _, p := range w.plumes {
				pb := rect{p.x0 - 60, 0, p.x0 + p.len + 60, w.side}
				clear = clear && !pb.overlaps(cb) && !pb.overlaps(sb)
			}
			if clear {
				w.clouds = append(w.clouds, c)
				break
			}
		}
	}
}

// cloudAlpha is the opacity of the clouds at (x, y).
func (w *s2World) cloudAlpha(x, y float64) float64 {
	a := 0.0
	for _, c := range w.clouds {
		d := math.Hypot(x-c.cx, y-c.cy) / c.r
		if d > 1.4 {
			continue
		}
		v := 1.7*(1-d) + 0.9*fbm(c.seed, x, y, 120, 3)
		a = math.Max(a, math.Min(1, math.Max(0, v)))
	}
	return a
}

func (w *s2World) fieldAt(x, y float64) *field {
	for i := range w.fields {
		if w.fields[i].box.contains(x, y) {
			return &w.fields[i]
		}
	}
	return &w.fields[len(w.fields)-1]
}

// ground returns the material at (x, y) on a date, the field it lies in (for phenology) and
// whether that material is the field's own.
func (w *s2World) ground(x, y float64, after bool) (int, *field) {
	if math.Abs(y-w.riverY(x)) < w.riverW/2 {
		return matWater, nil
	}
	for _, c := range w.changes {
		if c.shape.contains(x, y) {
			if after {
				return c.after, nil
			}
			if c.before >= 0 {
				return c.before, nil
			}
			break
		}
	}
	for _, rf := range w.roofs {
		if rf.box.contains(x, y) {
			return rf.mat, nil
		}
	}
	if w.zone.contains(x, y) {
		for _, rd := range w.roads {
			if rd.contains(x, y) {
				return matAsphalt, nil
			}
		}
		return matConcrete, nil
	}
	f := w.fieldAt(x, y)
	return f.mat, f
}

// dateLook is how one date looks beyond the ground itself.
type dateLook struct {
	clouds, haze bool
	gain, offset float64
	phenology    bool
}

// render makes one date: 3×3 ground samples per pixel (shifted by shift pixels), the
// date's phenology, hot sources, plumes, clouds and shadows, haze, gain/offset and noise.
func (w *s2World) render(r *rand.Rand, n int, px float64, shift [2]float64, after bool, look dateLook) rendered {
	var out rendered
	for b := range out.refl {
		out.refl[b] = make([]float32, n*n)
	}
	out.scl = make([]float32, n*n)
	gain, offset := look.gain, look.offset
	if gain == 0 {
		gain = 1
	}
	var bandGain, bandOff spectrum
	for b := range bandGain {
		bandGain[b], bandOff[b] = gain, offset
		if after && (gain != 1 || offset != 0) {
			bandGain[b] *= 1 + uniform(r, -0.02, 0.02)
			bandOff[b] += uniform(r, -0.003, 0.003)
		}
	}
	for row := 0; row < n; row++ {
		for col := 0; col < n; col++ {
			var acc spectrum
			var cloudA, shadowA float64
			var centreMat int
			for sy := 0; sy < 3; sy++ {
				for sx := 0; sx < 3; sx++ {
					x := (float64(col) + (float64(sx)+0.5)/3 + shift[0]) * px
					y := (float64(row) + (float64(sy)+0.5)/3 + shift[1]) * px
					s, mat := w.sample(x, y, after, look)
					if sx == 1 && sy == 1 {
						centreMat = mat
					}
					if look.clouds {
						ca := w.cloudAlpha(x, y)
						sa := w.cloudAlpha(x-w.shadow[0], y-w.shadow[1])
						for b := range s {
							s[b] *= 1 - shadowDepth*sa*(1-ca) // a shadow shows where no cloud hides it
							s[b] = (1-ca)*s[b] + ca*cloudSpectrum[b]
						}
						cloudA += ca / 9
						shadowA += sa / 9
					}
					for b := range acc {
						acc[b] += s[b] / 9
					}
				}
			}
			i := row*n + col
			h := 0.0
			if look.haze {
				h = 0.6 + 0.8*fbm(w.seed+99, float64(col)*px, float64(row)*px, 1500, 3)
			}
			for b := range acc {
				v := acc[b] + h*hazeSpectrum[b]
				v = bandGain[b]*v + bandOff[b] + r.NormFloat64()*math.Hypot(noiseFloor[b], 0.01*v)
				out.refl[b][i] = float32(math.Max(v, 0.0005))
			}
			out.scl[i] = float32(sclClass(centreMat, cloudA, shadowA))
		}
	}
	return out
}

// sample is the reflectance of the ground at (x, y) on a date, with texture, phenology, hot
// sources and plumes, and its material.
func (w *s2World) sample(x, y float64, after bool, look dateLook) (spectrum, int) {
	mat, f := w.ground(x, y, after)
	s := s2Spectra[mat]
	tex := 1 + 0.08*fbm(w.seed+uint64(mat), x, y, 60, 3)
	bright := 1.0
	if f != nil {
		bright = f.bright
	}
	for b := range s {
		s[b] *= tex * bright
	}
	if after && look.phenology && f != nil && phenology[mat] != (spectrum{}) {
		for b := range s {
			s[b] *= math.Pow(phenology[mat][b], f.phase)
		}
	}
	for _, h := range w.hots {
		if (after || h.persistent) && h.box.contains(x, y) {
			s[iSWIR2] += h.k
			s[iSWIR1] += h.k * h.r11
			s[iNIRNarrow] += h.k * h.r8a
			s[iNIR] += h.k * h.r8a
		}
	}
	if after && mat == matWater {
		for _, p := range w.plumes {
			if t := w.plumeTaper(p, x, y); t > 0 {
				for b := range s {
					s[b] += p.strength * t * plumeSpectrum[b]
				}
			}
		}
	}
	return s, mat
}

// plumeTaper is a plume's relative concentration at (x, y): highest at the outfall on the
// near bank, spreading across and fading downstream.
func (w *s2World) plumeTaper(p plume, x, y float64) float64 {
	s := x - p.x0
	if s < -20 || s > 1.6*p.len {
		return 0
	}
	across := (y - w.riverY(x)) / (w.riverW / 2) // -1 (north bank) .. 1
	width := 0.35 + 0.65*math.Min(1, math.Max(0, s)/p.len)
	d := (across + 1) / (2 * width) // 0 at the outfall's bank
	if d > 1 {
		return 0
	}
	return math.Exp(-math.Pow(math.Max(0, s)/p.len, 2)*1.5) * (1 - d*d)
}

// sclClass is the Sen2Cor scene class of a pixel.
func sclClass(mat int, cloudA, shadowA float64) int {
	switch {
	case cloudA > 0.5:
		return 9
	case cloudA > 0.15:
		return 8
	case shadowA > 0.3:
		return 3
	case mat == matWater:
		return 6
	case mat == matForest || mat == matCrop || mat == matGrass:
		return 4
	}
	return 5
}

// truth labels each pixel with the object covering at least 5 of its 9 samples, and
// ignores pixels an object covers only partly.
func (w *s2World) truth(n int, px float64) ([]int32, []bool) {
	labels := make([]int32, n*n)
	ignore := make([]bool, n*n)
	for row := 0; row < n; row++ {
		for col := 0; col < n; col++ {
			count := map[int32]int{}
			for sy := 0; sy < 3; sy++ {
				for sx := 0; sx < 3; sx++ {
					x := (float64(col) + (float64(sx)+0.5)/3) * px
					y := (float64(row) + (float64(sy)+0.5)/3) * px
					if id := w.objectAt(x, y); id != 0 {
						count[id]++
					}
				}
			}
			for id, k := range count {
				if k >= 5 {
					labels[row*n+col] = id
				} else if labels[row*n+col] == 0 {
					ignore[row*n+col] = true
				}
			}
		}
	}
	return labels, ignore
}

// objectAt is the truth object at (x, y), 0 for none. Plumes count where their taper
// exceeds 0.3 (a turbidity rise of about 0.01 in red at full strength).
func (w *s2World) objectAt(x, y float64) int32 {
	for _, c := range w.changes {
		if c.shape.contains(x, y) {
			return c.id
		}
	}
	for _, h := range w.hots {
		if h.box.contains(x, y) {
			return h.id
		}
	}
	if math.Abs(y-w.riverY(x)) < w.riverW/2 {
		for _, p := range w.plumes {
			if p.strength*w.plumeTaper(p, x, y) > 0.3 {
				return p.id
			}
		}
	}
	return 0
}
