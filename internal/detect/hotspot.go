package detect

import (
	"fmt"
	"math"
)

// HotspotParams configures DetectHotspots and DetectHotspotPair. Zero values take the
// defaults given (Sentinel-2 MSI).
type HotspotParams struct {
	// SolarIrradiance holds the exo-atmospheric solar irradiance of the nir_narrow (or nir),
	// swir1 and swir2 bands in W/m²/µm. Reflectance times irradiance is proportional to
	// at-sensor radiance, in which the normalized hotspot indices are defined. Default
	// Sentinel-2A B8A, B11, B12: 955.19, 245.59, 85.25 (Landsat 8/9 B5, B6, B7: about 952,
	// 244, 84).
	SolarIrradiance []float64 `yaml:"solar_irradiance"`
	// Saturation is the reflectance at or above which a band is saturated; default 5.0
	// (Sentinel-2 L2A digital numbers saturate at 65535, reflectance about 5.5 after the
	// processing-baseline-04 offset).
	Saturation float64 `yaml:"saturation"`
	// MinSWIR2 is the least swir2 reflectance of a hot pixel (bright-roof guard); default 0.15.
	MinSWIR2 float64 `yaml:"min_swir2"`
	// Ratio: a pixel is also hot where swir2 reflectance exceeds both swir1 and nir
	// reflectance by this factor (Murphy et al. 2016). Sources of 800–1200 K filling a
	// small part of a pixel raise swir2 far more than swir1 without making either
	// radiance-based index positive, while no natural surface is that much brighter at
	// 2.2 µm than at 1.6 µm. Default 1.4.
	Ratio float64 `yaml:"ratio"`
	// MinContrast is how far the hottest swir2 reflectance of a hotspot must exceed the
	// median of its surroundings (bright-roof guard); default 0.1.
	MinContrast float64 `yaml:"min_contrast"`
	// BackgroundRadius is the width in pixels of the ring around a hotspot whose median is
	// its background; default 7.
	BackgroundRadius int `yaml:"background_radius"`
	// MinPixels is the least size of a hotspot whose pixels are hot only by NHI_SWNIR
	// (misregistration guard: a lone pixel needs NHI_SWIR > 0); default 2.
	MinPixels int `yaml:"min_pixels"`
	// MatchDistance is how many pixels apart hotspots on two dates may be and still be the
	// same source (misregistration between dates); default 3.
	MatchDistance float64 `yaml:"match_distance"`
}

func (p HotspotParams) withDefaults() HotspotParams {
	if len(p.SolarIrradiance) == 0 {
		p.SolarIrradiance = []float64{955.19, 245.59, 85.25}
	}
	if p.Saturation == 0 {
		p.Saturation = 5
	}
	if p.MinSWIR2 == 0 {
		p.MinSWIR2 = 0.15
	}
	if p.Ratio == 0 {
		p.Ratio = 1.4
	}
	if p.MinContrast == 0 {
		p.MinContrast = 0.1
	}
	if p.BackgroundRadius == 0 {
		p.BackgroundRadius = 7
	}
	if p.MinPixels == 0 {
		p.MinPixels = 2
	}
	if p.MatchDistance == 0 {
		p.MatchDistance = 3
	}
	return p
}

// Validate checks the parameters after defaults are applied.
func (p HotspotParams) Validate() error {
	p = p.withDefaults()
	if len(p.SolarIrradiance) != 3 {
		return &ParamError{"solar_irradiance", "must list 3 values (nir, swir1, swir2)"}
	}
	for i, e := range p.SolarIrradiance {
		if err := positive(fmt.Sprintf("solar_irradiance[%d]", i), e); err != nil {
			return err
		}
	}
	return firstErr(
		positive("saturation", p.Saturation),
		positive("min_swir2", p.MinSWIR2),
		greater("ratio", p.Ratio, 1),
		nonNegative("min_contrast", p.MinContrast),
		atLeast("background_radius", p.BackgroundRadius, 1),
		atLeast("min_pixels", p.MinPixels, 1),
		nonNegative("match_distance", p.MatchDistance),
	)
}

func (p HotspotParams) record() map[string]float64 {
	return map[string]float64{
		"saturation": p.Saturation, "min_swir2": p.MinSWIR2, "ratio": p.Ratio, "min_contrast": p.MinContrast,
		"background_radius": float64(p.BackgroundRadius), "min_pixels": float64(p.MinPixels),
		"match_distance":       p.MatchDistance,
		"solar_irradiance_nir": p.SolarIrradiance[0], "solar_irradiance_swir1": p.SolarIrradiance[1],
		"solar_irradiance_swir2": p.SolarIrradiance[2],
	}
}

// hotScene evaluates the hotspot indices of one grid.
type hotScene struct {
	g                 *Grid
	nir, swir1, swir2 []float32
	sky               *clearSky
	p                 HotspotParams
	// prior is the other date's scene when the after date of a pair is searched: a pixel
	// is hot by its change too (risen).
	prior *hotScene
	// gain maps the prior date's nir, swir1 and swir2 onto this date's radiometry (the
	// median ratio of the dates over pixels observed on both).
	gain [3]float64
}

// setPrior makes q the prior date of h and estimates the gain between them per band.
func (h *hotScene) setPrior(q *hotScene) {
	h.prior = q
	n := h.g.Width * h.g.Height
	for k, bands := range [3][2][]float32{{h.nir, q.nir}, {h.swir1, q.swir1}, {h.swir2, q.swir2}} {
		s := newSampler(n, 1<<14)
		for i := 0; i < n; i++ {
			if a, b := float64(bands[0][i]), float64(bands[1][i]); a > 0.02 && b > 0.02 && h.observed(i) && q.observed(i) {
				s.add(a / b)
			}
		}
		h.gain[k] = 1
		if len(s.vals) >= 100 {
			h.gain[k] = median(s.vals)
		}
	}
}

func newHotScene(g *Grid, p HotspotParams) (*hotScene, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	nir := g.Band(BandNIRNarrow)
	if nir == nil {
		nir = g.Band(BandNIR)
	}
	if nir == nil {
		return nil, fmt.Errorf("detect: hotspots need a %q or %q band", BandNIRNarrow, BandNIR)
	}
	b, err := g.bands(BandSWIR1, BandSWIR2)
	if err != nil {
		return nil, err
	}
	return &hotScene{g: g, nir: nir, swir1: b[0], swir2: b[1], sky: newClearSky(g), p: p}, nil
}

// indices returns NHI_SWIR = (L12 − L11)/(L12 + L11) and NHI_SWNIR = (L11 − L8A)/(L11 + L8A)
// with L = reflectance × solar irradiance.
func (h *hotScene) indices(i int) (swir, swnir float64) {
	e := h.p.SolarIrradiance
	l8 := float64(h.nir[i]) * e[0]
	l11 := float64(h.swir1[i]) * e[1]
	l12 := float64(h.swir2[i]) * e[2]
	ndf := func(a, b float64) float64 {
		if a+b <= 0 {
			return -1
		}
		return (a - b) / (a + b)
	}
	return ndf(l12, l11), ndf(l11, l8)
}

// observed reports whether pixel i shows the ground for hotspot purposes: it has data and,
// with an SCL band, is not cloud, shadow or cirrus. SCL's "saturated" class is not excluded:
// the hottest pixels are often flagged so.
func (h *hotScene) observed(i int) bool {
	if !h.sky.hasData(i) {
		return false
	}
	if h.sky.scl != nil {
		switch h.sky.scl[i] {
		case 0, 3, 8, 9, 10:
			return false
		}
		return true
	}
	return !h.sky.cloud(i)
}

func (h *hotScene) saturated(i int) bool {
	s := float32(h.p.Saturation)
	return h.swir1[i] >= s || h.swir2[i] >= s
}

// hot reports whether pixel i is a hotspot candidate: swir1 or swir2 saturated, or swir2
// at least MinSWIR2 with either index positive or the reflectance ratios above Ratio.
func (h *hotScene) hot(i int) bool {
	if !h.observed(i) {
		return false
	}
	if h.saturated(i) {
		return true
	}
	if float64(h.swir2[i]) < h.p.MinSWIR2 {
		return false
	}
	a, b := h.indices(i)
	return a > 0 || b > 0 || h.ratioHot(i) || h.risen(i)
}

// risen reports whether, against the prior date (observed there, brought to this date's
// radiometry by the scene's gain per band), swir2 rose by at least MinContrast and by Ratio
// times more than swir1 and nir rose, swir1 rose too, nir did not fall (by more than
// riseNoise) and swir2 now matches swir1 at least. Emitted radiance adds to all three bands, in that order, whatever the surface
// under it, so a source on a white roof (swir1 above swir2, which the single-date ratio
// never flags) shows in what it added. A new surface replacing another does not: a roof on
// vegetation darkens nir, one on soil raises swir1 as much, char darkens nir.
func (h *hotScene) risen(i int) bool {
	q := h.prior
	if q == nil || !q.observed(i) {
		return false
	}
	dn := float64(h.nir[i]) - h.gain[0]*float64(q.nir[i])
	d1 := float64(h.swir1[i]) - h.gain[1]*float64(q.swir1[i])
	d2 := float64(h.swir2[i]) - h.gain[2]*float64(q.swir2[i])
	return d2 >= h.p.MinContrast && d1 > 0 && d2 >= h.p.Ratio*d1 && d2 >= h.p.Ratio*math.Max(0, dn) && dn > -riseNoise &&
		h.swir2[i] >= h.swir1[i]
}

// riseNoise is the fall of nir reflectance that sensor noise and an imperfect gain between
// the dates may show where nothing fell.
const riseNoise = 0.02

// ratioHot reports whether swir2 exceeds swir1 and nir by the factor Ratio.
func (h *hotScene) ratioHot(i int) bool {
	s2 := float64(h.swir2[i])
	return s2 >= h.p.Ratio*float64(h.swir1[i]) && s2 >= h.p.Ratio*float64(h.nir[i])
}

// hotspot is one accepted hot region of a date.
type hotspot struct {
	c                  *component
	maxSWIR, maxSWNIR  float64
	saturated, ratio   int // pixels saturated, pixels hot by the reflectance ratios
	swir2Max, swir2Bkg float64
}

// find labels candidate pixels and applies the guards.
func (h *hotScene) find() []hotspot {
	w, ht := h.g.Width, h.g.Height
	lab := newLabeler()
	row := make([]bool, w)
	for y := 0; y < ht; y++ {
		for x := 0; x < w; x++ {
			row[x] = h.hot(y*w + x)
		}
		lab.addRow(y, row)
	}
	var out []hotspot
	for _, c := range lab.components(1) {
		hs := hotspot{c: c, maxSWIR: -1, maxSWNIR: -1}
		c.each(func(x, y int) {
			i := y*w + x
			if h.saturated(i) {
				hs.saturated++
			}
			if h.ratioHot(i) || h.risen(i) {
				hs.ratio++
			}
			a, b := h.indices(i)
			hs.maxSWIR = math.Max(hs.maxSWIR, a)
			hs.maxSWNIR = math.Max(hs.maxSWNIR, b)
			hs.swir2Max = math.Max(hs.swir2Max, float64(h.swir2[i]))
		})
		// Misregistration: a small region hot only by NHI_SWNIR (nir against swir1, bands
		// that can be shifted against each other) needs MinPixels pixels; NHI_SWIR > 0 or
		// saturation is direct evidence even in one pixel. A lone saturated pixel with no
		// positive index is a glint.
		// The swir2/swir1 ratio compares bands of the same resolution group and counts as
		// direct evidence too.
		direct := hs.maxSWIR > 0 || hs.saturated > 0 || hs.ratio > 0
		if !direct && c.pixels < h.p.MinPixels {
			continue
		}
		if hs.saturated == c.pixels && c.pixels < 2 && hs.maxSWIR <= 0 {
			continue
		}
		// Bright roofs and bare soil: the hotspot must stand out from its surroundings.
		hs.swir2Bkg = h.background(c)
		if hs.saturated == 0 && hs.swir2Max-hs.swir2Bkg < h.p.MinContrast {
			continue
		}
		out = append(out, hs)
	}
	return out
}

// background is the median swir2 reflectance of observed, non-candidate pixels in a ring
// BackgroundRadius wide around the component's bounding box.
func (h *hotScene) background(c *component) float64 {
	w, ht, r := h.g.Width, h.g.Height, h.p.BackgroundRadius
	var vals []float64
	for y := max(0, c.minY-r); y <= min(ht-1, c.maxY+r); y++ {
		for x := max(0, c.minX-r); x <= min(w-1, c.maxX+r); x++ {
			if x >= c.minX && x <= c.maxX && y >= c.minY && y <= c.maxY {
				continue
			}
			i := y*w + x
			if h.observed(i) && !h.hot(i) {
				vals = append(vals, float64(h.swir2[i]))
			}
		}
	}
	if len(vals) == 0 {
		return 0
	}
	return median(vals)
}

func (h *hotScene) finding(hs hotspot, status string, attr Attribution) (Finding, bool) {
	f := Finding{Detector: "hotspot", Kind: KindHotspot, Class: ClassThermal, Status: status,
		Params: h.p.record(),
		Measures: map[string]float64{
			"nhi_swir_max": hs.maxSWIR, "nhi_swnir_max": hs.maxSWNIR,
			"saturated_pixels": float64(hs.saturated), "ratio_pixels": float64(hs.ratio),
			"swir2_max": hs.swir2Max, "swir2_background": hs.swir2Bkg,
		}}
	// Score: strength of the strongest index, saturation counting as full strength and
	// the reflectance ratios as half.
	strength := math.Max(hs.maxSWIR, hs.maxSWNIR)
	if hs.ratio > 0 {
		strength = math.Max(strength, 0.25)
	}
	if hs.saturated > 0 {
		strength = 1
	}
	f.Score = clamp01(0.5 + strength)
	ok := finish(h.g, hs.c, attr, &f)
	return f, ok
}

// DetectHotspots finds thermal anomalies on one date (status active): regions where
// NHI_SWIR or NHI_SWNIR is positive, computed in radiance units, or where swir2 reflectance
// exceeds swir1 and nir reflectance by Ratio, with guards against
// saturation (counted as hot; a lone saturated pixel without a positive index is dropped),
// bright roofs and bare soil (minimum swir2 reflectance and contrast against the
// surrounding median), misregistration (a region hot only by NHI_SWNIR needs MinPixels
// pixels) and cloud (SCL cloud, shadow and cirrus, or the spectral cloud test).
func DetectHotspots(g *Grid, p HotspotParams, attr Attribution) ([]Finding, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	h, err := newHotScene(g, p)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, hs := range h.find() {
		if f, ok := h.finding(hs, StatusActive, attr); ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// DetectHotspotPair compares hotspots on two dates of the same grid: a hotspot after with
// one within MatchDistance pixels before is persistent, without one new (when the place was
// observed before; else active); a hotspot before with none after is stopped when the place
// was observed after (else it is not reported).
func DetectHotspotPair(before, after *Grid, p HotspotParams, attr Attribution) ([]Finding, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	if err := sameGrid(before, after); err != nil {
		return nil, err
	}
	hb, err := newHotScene(before, p)
	if err != nil {
		return nil, err
	}
	ha, err := newHotScene(after, p)
	if err != nil {
		return nil, err
	}
	ha.setPrior(hb)
	sb, sa := hb.find(), ha.find()
	matchedB := make([]bool, len(sb))
	var out []Finding
	for _, a := range sa {
		status := StatusNew
		for j, b := range sb {
			if bboxGap(a.c, b.c) <= p.MatchDistance {
				status = StatusPersistent
				matchedB[j] = true
			}
		}
		if status == StatusNew && !observedAll(hb, a.c) {
			status = StatusActive
		}
		if f, ok := ha.finding(a, status, attr); ok {
			out = append(out, f)
		}
	}
	for j, b := range sb {
		if matchedB[j] || !observedAll(ha, b.c) {
			continue
		}
		if f, ok := hb.finding(b, StatusStopped, attr); ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// bboxGap is the gap in pixels between the bounding boxes of two components (0 when they
// overlap or touch).
func bboxGap(a, b *component) float64 {
	dx := math.Max(0, float64(max(a.minX-b.maxX, b.minX-a.maxX)-1))
	dy := math.Max(0, float64(max(a.minY-b.maxY, b.minY-a.maxY)-1))
	return math.Hypot(dx, dy)
}

// observedAll reports whether every pixel of c was observed on h's date.
func observedAll(h *hotScene, c *component) bool {
	ok := true
	c.each(func(x, y int) {
		if !h.observed(y*h.g.Width + x) {
			ok = false
		}
	})
	return ok
}
