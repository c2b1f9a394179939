package detect

import (
	"math"
)

// SmokeParams configures DetectSmoke. Zero values take the defaults given.
type SmokeParams struct {
	// MinDarkChannel is the least per-pixel dark channel, min(red, green, blue): haze and
	// smoke add scattered light to every channel (dark channel prior, He et al. 2009);
	// default 0.3.
	MinDarkChannel float64 `yaml:"min_dark_channel"`
	// MaxSaturation is the largest (max − min)/max over red, green, blue: smoke is grey or
	// white; default 0.15.
	MaxSaturation float64 `yaml:"max_saturation"`
	// MaxLocalContrast is the largest mean absolute brightness difference between
	// horizontally and vertically adjacent pixels inside a region: smoke veils the texture
	// of the ground; default 0.05.
	MaxLocalContrast float64 `yaml:"max_local_contrast"`
	// MaxEdgeRatio is the largest ratio of the mean brightness step across a region's
	// boundary to the brightness difference between the region and a ring 3 to 6 pixels
	// outside it: smoke fades out, roofs and tanks end at a sharp edge; default 0.6.
	MaxEdgeRatio float64 `yaml:"max_edge_ratio"`
	// MinPixels is the least size of a plume; default 30.
	MinPixels int `yaml:"min_pixels"`
}

func (p SmokeParams) withDefaults() SmokeParams {
	if p.MinDarkChannel == 0 {
		p.MinDarkChannel = 0.3
	}
	if p.MaxSaturation == 0 {
		p.MaxSaturation = 0.15
	}
	if p.MaxLocalContrast == 0 {
		p.MaxLocalContrast = 0.05
	}
	if p.MaxEdgeRatio == 0 {
		p.MaxEdgeRatio = 0.6
	}
	if p.MinPixels == 0 {
		p.MinPixels = 30
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
		positive("max_edge_ratio", p.MaxEdgeRatio),
		atLeast("min_pixels", p.MinPixels, 1),
	)
}

func (p SmokeParams) record() map[string]float64 {
	return map[string]float64{
		"min_dark_channel": p.MinDarkChannel, "max_saturation": p.MaxSaturation,
		"max_local_contrast": p.MaxLocalContrast, "max_edge_ratio": p.MaxEdgeRatio,
		"min_pixels": float64(p.MinPixels),
	}
}

// DetectSmoke finds smoke plumes in drone RGB or multispectral captures with a haze test:
// a pixel is hazy where its dark channel is at least MinDarkChannel and its saturation at
// most MaxSaturation; a connected hazy region of at least MinPixels is smoke when its
// brightness is smooth inside (MaxLocalContrast) and fades at its boundary (MaxEdgeRatio),
// which tells smoke from white roofs and tanks. With parcels in attr only regions that
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
	bright := func(i int) float64 { return float64(red[i]+green[i]+blue[i]) / 3 }
	hazy := func(i int) bool {
		if !hasData(i) {
			return false
		}
		mn := min(red[i], green[i], blue[i])
		mx := max(red[i], green[i], blue[i])
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
		var pairs int
		c.each(func(x, y int) {
			v := bright(y*w + x)
			s += v
			if c.contains(x+1, y) {
				diff += math.Abs(v - bright(y*w+x+1))
				pairs++
			}
			if c.contains(x, y+1) {
				diff += math.Abs(v - bright((y+1)*w+x))
				pairs++
			}
		})
		mean := s / float64(c.pixels)
		sd := 0.0
		if pairs > 0 {
			sd = diff / float64(pairs)
		}
		if sd > p.MaxLocalContrast {
			continue
		}
		// Boundary step: inside boundary pixels against their outside 4-neighbours.
		var step float64
		var steps int
		c.each(func(x, y int) {
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				nx, ny := x+d[0], y+d[1]
				if nx < 0 || ny < 0 || nx >= w || ny >= h || c.contains(nx, ny) {
					continue
				}
				step += bright(y*w+x) - bright(ny*w+nx)
				steps++
			}
		})
		// Surroundings: a ring 3 to 6 pixels outside the bounding box.
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
		edge := 0.0
		if steps > 0 && rn > 0 {
			contrast := mean - ring/float64(rn)
			if contrast <= 0 {
				continue
			}
			edge = (step / float64(steps)) / contrast
			if edge > p.MaxEdgeRatio {
				continue
			}
		}
		f := Finding{Detector: "smoke_plume", Kind: KindPlume, Class: ClassSmokePlume, Params: params,
			Measures: map[string]float64{"brightness_mean": mean, "local_contrast": sd, "edge_ratio": edge}}
		f.Score = clamp01(1 - edge/p.MaxEdgeRatio*0.5 - sd/p.MaxLocalContrast*0.25)
		if finish(g, c, attr, &f) {
			out = append(out, f)
		}
	}
	return out, nil
}
