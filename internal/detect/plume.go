package detect

import (
	"fmt"
	"math"
	"sort"
)

// WaterPlumeParams configures DetectWaterPlumes. Zero values take the defaults given.
type WaterPlumeParams struct {
	// WaterThreshold: a pixel is water where MNDWI (NDWI = (green−nir)/(green+nir) without
	// swir1) exceeds it; default 0.1.
	WaterThreshold float64 `yaml:"water_threshold"`
	// MinWaterPixels is the least size of a water body with its own background; default 50.
	MinWaterPixels int `yaml:"min_water_pixels"`
	// ZThreshold: a water pixel is anomalous where its NDTI lies this many robust standard
	// deviations (1.4826 × MAD) above the median of its water body; default 3.5.
	ZThreshold float64 `yaml:"z_threshold"`
	// MinDelta is the least NDTI rise above the median of the water body; default 0.05.
	MinDelta float64 `yaml:"min_delta"`
	// MinPixels is the least size of a plume; default 4.
	MinPixels int `yaml:"min_pixels"`
	// Smooth is the radius of the mean filter over water pixels applied to NDTI before
	// testing, which beats down sensor noise on dark water; 0 keeps the default 1.
	Smooth int `yaml:"smooth"`
	// Tile is the side in pixels of the tiles into which a water body's background is
	// split, so that a river's gradual turbidity change along its course does not hide a
	// plume; a tile with fewer than MinWaterPixels water pixels uses the whole body's
	// background. Default 64.
	Tile int `yaml:"tile"`
}

func (p WaterPlumeParams) withDefaults() WaterPlumeParams {
	if p.WaterThreshold == 0 {
		p.WaterThreshold = 0.1
	}
	if p.MinWaterPixels == 0 {
		p.MinWaterPixels = 50
	}
	if p.ZThreshold == 0 {
		p.ZThreshold = 3.5
	}
	if p.MinDelta == 0 {
		p.MinDelta = 0.05
	}
	if p.MinPixels == 0 {
		p.MinPixels = 4
	}
	if p.Tile == 0 {
		p.Tile = 64
	}
	if p.Smooth == 0 {
		p.Smooth = 1
	}
	return p
}

// Validate checks the parameters after defaults are applied.
func (p WaterPlumeParams) Validate() error {
	p = p.withDefaults()
	if !(p.WaterThreshold > -1 && p.WaterThreshold < 1) {
		return &ParamError{"water_threshold", "must be in (-1,1)"}
	}
	return firstErr(
		atLeast("min_water_pixels", p.MinWaterPixels, 1),
		positive("z_threshold", p.ZThreshold),
		nonNegative("min_delta", p.MinDelta),
		atLeast("min_pixels", p.MinPixels, 1),
		atLeast("tile", p.Tile, 8),
		atLeast("smooth", p.Smooth, 1),
	)
}

func (p WaterPlumeParams) record() map[string]float64 {
	return map[string]float64{
		"water_threshold": p.WaterThreshold, "min_water_pixels": float64(p.MinWaterPixels),
		"z_threshold": p.ZThreshold, "min_delta": p.MinDelta, "min_pixels": float64(p.MinPixels),
		"tile": float64(p.Tile), "smooth": float64(p.Smooth),
	}
}

// DetectWaterPlumes finds turbid plumes. Water is where MNDWI (or NDWI without swir1)
// exceeds WaterThreshold on clear pixels; shore pixels (a neighbour not water) mix land
// into the signal and are neither tested nor used as background. The turbidity index
// NDTI = (red − green)/(red + green), averaged over the inner water pixels within Smooth
// pixels, gets a robust background (median and MAD) per connected water body of at least
// MinWaterPixels and per Tile-sized tile of it, so a river's gradual change along its
// course is not a plume. A plume is a connected region of water whose NDTI exceeds its
// background by ZThreshold robust standard deviations and by MinDelta. With parcels in
// attr only plumes within attr.Buffer of a parcel are kept: the water next to the parcel,
// where its outfall would be. A scene without water yields no findings.
func DetectWaterPlumes(g *Grid, p WaterPlumeParams, attr Attribution) ([]Finding, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	b, err := g.bands(BandGreen, BandRed)
	if err != nil {
		return nil, err
	}
	green, red := b[0], b[1]
	wet := g.Band(BandSWIR1)
	wetName := "mndwi"
	if wet == nil {
		wet = g.Band(BandNIR)
		wetName = "ndwi"
	}
	if wet == nil {
		return nil, fmt.Errorf("detect: water plumes need a %q or %q band", BandSWIR1, BandNIR)
	}
	sky := newClearSky(g)
	w, h := g.Width, g.Height
	wbits := make([]uint64, (w*h+63)/64)
	for i := 0; i < w*h; i++ {
		if sky.clear(i) && float64(nd(green[i], wet[i])) > p.WaterThreshold {
			wbits[i>>6] |= 1 << (uint(i) & 63)
		}
	}
	water := func(i int) bool { return wbits[i>>6]&(1<<(uint(i)&63)) != 0 }
	// Shore pixels mix land and water (more so with misregistration between bands); only
	// pixels whose eight neighbours are water are tested and feed the background.
	ibits := make([]uint64, len(wbits))
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			if water(i) && water(i-1) && water(i+1) &&
				water(i-w-1) && water(i-w) && water(i-w+1) &&
				water(i+w-1) && water(i+w) && water(i+w+1) {
				ibits[i>>6] |= 1 << (uint(i) & 63)
			}
		}
	}
	inner := func(i int) bool { return ibits[i>>6]&(1<<(uint(i)&63)) != 0 }
	// NDTI averaged over the inner water pixels within Smooth pixels.
	ndti := func(i int) float64 {
		x0, y0 := i%w, i/w
		var s float64
		n := 0
		for y := max(0, y0-p.Smooth); y <= min(h-1, y0+p.Smooth); y++ {
			for x := max(0, x0-p.Smooth); x <= min(w-1, x0+p.Smooth); x++ {
				if j := y*w + x; j == i || inner(j) {
					s += float64(nd(red[j], green[j]))
					n++
				}
			}
		}
		return s / float64(n)
	}
	lab := newLabeler()
	row := make([]bool, w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			row[x] = water(y*w + x)
		}
		lab.addRow(y, row)
	}
	bodies := lab.components(p.MinWaterPixels)
	if len(bodies) == 0 {
		return nil, nil
	}
	// Background per body and per tile of each body, then the anomalous runs of every
	// body in row order.
	tilesX := (w + p.Tile - 1) / p.Tile
	type stat struct{ med, scale, cut float64 }
	robust := func(vals []float64) stat {
		med, mad := medianMAD(vals)
		scale := madScale * mad
		return stat{med, scale, med + math.Max(p.ZThreshold*scale, p.MinDelta)}
	}
	bodyStats := make([]stat, len(bodies))
	tileStats := make([]map[int]stat, len(bodies))
	type bodyRun struct {
		r    run
		body int
	}
	var runs []bodyRun
	for k, c := range bodies {
		s := newSampler(c.pixels, 1<<16)
		tiles := map[int][]float64{}
		c.each(func(x, y int) {
			if !inner(y*w + x) {
				return
			}
			v := ndti(y*w + x)
			s.add(v)
			t := (y/p.Tile)*tilesX + x/p.Tile
			tiles[t] = append(tiles[t], v)
		})
		if len(s.vals) == 0 {
			continue // a body all shore: too narrow to judge
		}
		bodyStats[k] = robust(s.vals)
		tileStats[k] = map[int]stat{}
		for t, vals := range tiles {
			if len(vals) >= p.MinWaterPixels {
				tileStats[k][t] = robust(vals)
			}
		}
		for _, r := range c.runs {
			runs = append(runs, bodyRun{r, k})
		}
	}
	background := func(body, x, y int) stat {
		if st, ok := tileStats[body][(y/p.Tile)*tilesX+x/p.Tile]; ok {
			return st
		}
		return bodyStats[body]
	}
	sort.Slice(runs, func(i, j int) bool {
		if runs[i].r.y != runs[j].r.y {
			return runs[i].r.y < runs[j].r.y
		}
		return runs[i].r.x0 < runs[j].r.x0
	})
	anom := newLabeler()
	for i := 0; i < len(runs); {
		y := runs[i].r.y
		clear(row)
		for ; i < len(runs) && runs[i].r.y == y; i++ {
			br := runs[i]
			for x := br.r.x0; x < br.r.x1; x++ {
				i := int(y)*w + int(x)
				row[x] = inner(i) && ndti(i) > background(br.body, int(x), int(y)).cut
			}
		}
		anom.addRow(int(y), row)
	}
	params := p.record()
	var out []Finding
	for _, c := range anom.components(p.MinPixels) {
		// The body this plume lies in.
		x0, y0 := int(c.runs[0].x0), int(c.runs[0].y)
		k := 0
		for j, body := range bodies {
			if body.contains(x0, y0) {
				k = j
				break
			}
		}
		var sum, bg, bgScale float64
		c.each(func(x, y int) {
			sum += ndti(y*w + x)
			st := background(k, x, y)
			bg += st.med
			bgScale += st.scale
		})
		n := float64(c.pixels)
		mean := sum / n
		st := stat{med: bg / n, scale: bgScale / n}
		z := (mean - st.med) / math.Max(st.scale, 1e-9)
		f := Finding{Detector: "water_plume", Kind: KindPlume, Class: ClassWaterPlume, Params: params,
			Measures: map[string]float64{
				"ndti_mean": mean, "ndti_background": st.med, "ndti_background_scale": st.scale,
				"z_mean": z, "water_body_pixels": float64(bodies[k].pixels),
			}}
		f.Measures["water_index_is_"+wetName] = 1
		// Score rises from 0 at ZThreshold through 0.5 at twice it towards 1.
		if z > 2*p.ZThreshold {
			f.Score = clamp01(0.5 + 0.5*(1-2*p.ZThreshold/z))
		} else {
			f.Score = 0.5 * clamp01((z-p.ZThreshold)/p.ZThreshold)
		}
		if finish(g, c, attr, &f) {
			out = append(out, f)
		}
	}
	return out, nil
}
