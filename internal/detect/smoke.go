package detect

import (
	"math"

	"github.com/offsite/offsite/internal/quantile"
)

// SmokeParams configures DetectSmoke. Zero values take the defaults given.
type SmokeParams struct {
	// MinDarkChannel is the least per-pixel dark channel, min(red, green, blue): haze and
	// smoke add scattered light to every channel (dark channel prior, He et al. 2009), so
	// smoke dense enough to hide the ground has a high one; default 0.5.
	MinDarkChannel float64 `yaml:"min_dark_channel"`
	// MaxSaturation is the largest (max − min)/max over red, green, blue: smoke is grey or
	// white (a camera's white balance may tint it); default 0.2.
	MaxSaturation float64 `yaml:"max_saturation"`
	// MaxLocalContrast is the largest mean absolute brightness difference between
	// horizontally and vertically adjacent pixels inside a region: smoke veils the texture
	// of the ground; default 0.05.
	MaxLocalContrast float64 `yaml:"max_local_contrast"`
	// MinSoftness is the least share of a region's contrast against its surroundings (a
	// ring 3 to 6 pixels outside it) that is lost between its core (pixels at least 4
	// pixels inside) and its rim (pixels within 2 of its edge): smoke thins out towards its
	// edge, roofs and tanks keep their brightness up to a sharp edge; default 0.2.
	MinSoftness float64 `yaml:"min_softness"`
	// MaxSharpEdges is the largest share of the pairs of neighbouring pixels inside a
	// region whose brightness differs by more than 0.1: smoke fades over metres, while a
	// roof, a kerb, a car or the seam between a roof and a concrete yard ends at an edge.
	// Bright concrete, roofs and bare ground in aerial images (LEVIR-CD, 0.5 m) had
	// 1–10% such pairs; default 0.005.
	MaxSharpEdges float64 `yaml:"max_sharp_edges"`
	// MinPixels is the least size of a plume; default 30.
	MinPixels int `yaml:"min_pixels"`
}

func (p SmokeParams) withDefaults() SmokeParams {
	if p.MinDarkChannel == 0 {
		p.MinDarkChannel = 0.5
	}
	if p.MaxSaturation == 0 {
		p.MaxSaturation = 0.2
	}
	if p.MaxLocalContrast == 0 {
		p.MaxLocalContrast = 0.05
	}
	if p.MinSoftness == 0 {
		p.MinSoftness = 0.2
	}
	if p.MinPixels == 0 {
		p.MinPixels = 30
	}
	if p.MaxSharpEdges == 0 {
		p.MaxSharpEdges = 0.005
	}
	return p
}

// Validate checks the parameters after defaults are applied.
func (p SmokeParams) Validate() error {
	p = p.withDefaults()
	return firstErr(
		open01("min_dark_channel", p.MinDarkChannel),
		open01("max_saturation", p.MaxSaturation),
		positive("max_local_contrast", p.MaxLocalContrast),
		open01("min_softness", p.MinSoftness),
		open01("max_sharp_edges", p.MaxSharpEdges),
		atLeast("min_pixels", p.MinPixels, 1),
	)
}

func (p SmokeParams) record() map[string]float64 {
	return map[string]float64{
		"min_dark_channel": p.MinDarkChannel, "max_saturation": p.MaxSaturation,
		"max_local_contrast": p.MaxLocalContrast, "min_softness": p.MinSoftness,
		"min_pixels": float64(p.MinPixels), "max_sharp_edges": p.MaxSharpEdges,
	}
}

// DetectSmoke finds smoke plumes in drone RGB or multispectral captures with a haze test:
// a pixel is hazy where its dark channel is at least MinDarkChannel and its saturation at
// most MaxSaturation, after a white-patch balance (bands scaled so their 99th percentiles
// agree); a connected hazy region of at least MinPixels is smoke when its
// brightness is smooth inside (MaxLocalContrast), has next to no sharp steps inside
// (MaxSharpEdges) and fades towards its edge (MinSoftness), which tells smoke from white
// roofs, tanks, concrete yards and bare ground. With parcels in attr only regions that
// start at a parcel (intersect it or lie within attr.Buffer) are kept.
func DetectSmoke(g *Grid, p SmokeParams, attr Attribution) ([]Finding, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	b, err := g.bands(BandRed, BandGreen, BandBlue)
	if err != nil {
		return nil, err
	}
	red, green, blue := b[0], b[1], b[2]
	w, h := g.Width, g.Height
	hasData := newClearSky(g).hasData
	// White patch: scale the bands so their 99th percentiles agree, which removes the
	// camera's colour cast (white balance) before asking whether a pixel is grey.
	var wb [3]float32
	{
		n := w * h
		var top [3]float64
		for k, band := range [3][]float32{red, green, blue} {
			s := newSampler(n, 1<<16)
			for i := 0; i < n; i++ {
				if hasData(i) {
					s.add(float64(band[i]))
				}
			}
			if len(s.vals) == 0 {
				return nil, nil
			}
			q := int(0.99 * float64(len(s.vals)-1))
			top[k] = quantile.Select(s.vals, q)
		}
		ref := max(top[0], top[1], top[2])
		for k := range wb {
			wb[k] = 1
			if top[k] > 0 {
				wb[k] = float32(ref / top[k])
			}
		}
	}
	bright := func(i int) float64 { return float64(red[i]+green[i]+blue[i]) / 3 }
	hazy := func(i int) bool {
		if !hasData(i) {
			return false
		}
		r, g, b := red[i]*wb[0], green[i]*wb[1], blue[i]*wb[2]
		mn := min(r, g, b)
		mx := max(r, g, b)
		if mx <= 0 {
			return false
		}
		return float64(mn) >= p.MinDarkChannel && float64((mx-mn)/mx) <= p.MaxSaturation
	}
	lab := newLabeler()
	row := make([]bool, w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			row[x] = hazy(y*w + x)
		}
		lab.addRow(y, row)
	}
	params := p.record()
	var out []Finding
	for _, c := range lab.components(p.MinPixels) {
		var s, diff float64
		var pairs, steps int
		step := func(d float64) {
			diff += d
			pairs++
			if d > 0.1 {
				steps++
			}
		}
		c.each(func(x, y int) {
			v := bright(y*w + x)
			s += v
			if c.contains(x+1, y) {
				step(math.Abs(v - bright(y*w+x+1)))
			}
			if c.contains(x, y+1) {
				step(math.Abs(v - bright((y+1)*w+x)))
			}
		})
		mean := s / float64(c.pixels)
		sd := 0.0
		if pairs > 0 {
			sd = diff / float64(pairs)
		}
		sharp := float64(steps) / float64(max(1, pairs))
		if sd > p.MaxLocalContrast || sharp > p.MaxSharpEdges {
			continue
		}
		// Softness: core (depth ≥ 4) against rim (depth < 2), both against the surroundings.
		depth, lw, ox, oy := depthMap(c, 4)
		var core, rim float64
		var nc, nr int
		for ly := 0; ly < len(depth)/lw; ly++ {
			for lx := 0; lx < lw; lx++ {
				d := depth[ly*lw+lx]
				if d < 0 {
					continue
				}
				v := bright((ly+oy)*w + lx + ox)
				switch {
				case d >= 4:
					core += v
					nc++
				case d < 2:
					rim += v
					nr++
				}
			}
		}
		var ring float64
		var rn int
		for y := max(0, c.minY-6); y <= min(h-1, c.maxY+6); y++ {
			for x := max(0, c.minX-6); x <= min(w-1, c.maxX+6); x++ {
				if x >= c.minX-2 && x <= c.maxX+2 && y >= c.minY-2 && y <= c.maxY+2 {
					continue
				}
				if i := y*w + x; hasData(i) && !hazy(i) {
					ring += bright(i)
					rn++
				}
			}
		}
		if nc == 0 || nr == 0 || rn == 0 {
			continue // too thin to tell smoke from a roof
		}
		core, rim, ring = core/float64(nc), rim/float64(nr), ring/float64(rn)
		if core <= ring {
			continue
		}
		softness := (core - rim) / (core - ring)
		if softness < p.MinSoftness {
			continue
		}
		f := Finding{Detector: "smoke_plume", Kind: KindPlume, Class: ClassSmokePlume, Params: params,
			Measures: map[string]float64{"sharp_edges": sharp, "brightness_mean": mean, "local_contrast": sd, "softness": softness,
				"brightness_core": core, "brightness_rim": rim, "brightness_surroundings": ring}}
		f.Score = clamp01(0.5*math.Min(1, softness/(2*p.MinSoftness)) + 0.5*(1-sd/p.MaxLocalContrast))
		if finish(g, c, attr, &f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// depthMap returns, for the component's bounding box plus a one-pixel margin, each pixel's
// depth inside the component (0 on its edge, 1 one pixel in, ..., capped at limit) or −1
// outside, by repeated 4-neighbour erosion; with the box's width and origin.
func depthMap(c *component, limit int) (depth []int, w, ox, oy int) {
	mask, w, h, ox, oy := c.localMask()
	depth = make([]int, len(mask))
	for i, m := range mask {
		if !m {
			depth[i] = -1
		}
	}
	for d := 0; d < limit; d++ {
		var edge []int
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := y*w + x
				if depth[i] != d {
					continue
				}
				if depth[i-1] < d || depth[i+1] < d || depth[i-w] < d || depth[i+w] < d {
					edge = append(edge, i)
				}
			}
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if i := y*w + x; depth[i] == d {
					depth[i] = d + 1
				}
			}
		}
		for _, i := range edge {
			depth[i] = d
		}
	}
	return depth, w, ox, oy
}
