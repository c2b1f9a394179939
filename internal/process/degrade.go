package process

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/offsite/offsite/internal/detect"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/pipelines"
)

// calibrate decides how each band the pipeline maps becomes reflectance on one date: the
// capture's sidecar (File.Calibration) first, then the file's own metadata
// (Bands.Calibration), else the pipeline's mapping. It returns the roles whose scale and
// offset the capture gives, for NewGridCalibrated, and what was used for every role.
func (r *run) calibrate(date string, c *Capture, x *raster.Bands, missing map[string]bool) (map[string]pipelines.BandMap, []BandUse) {
	cal := map[string]pipelines.BandMap{}
	var uses []BandUse
	roles := make([]string, 0, len(r.p.Bands))
	for role := range r.p.Bands {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	for _, role := range roles {
		m := r.p.Bands[role]
		i := -1
		for k, n := range x.Names {
			if n == m.Band {
				i = k
			}
		}
		use := BandUse{Date: date, Role: role, Band: m.Band}
		switch {
		case i < 0 || missing[m.Band]:
			use.Missing = true
		case role == detect.BandSCL:
			use.Scale, use.Source = 1, "classes, as stored"
		default:
			use.Scale, use.Offset, use.Source = m.Scale, m.Offset, "pipeline"
			if use.Scale == 0 {
				use.Scale = 1
			}
			var got raster.Calibration
			if f := c.Files[x.Source[i]]; x.Band[i]-1 < len(f.Calibration) {
				got = f.Calibration[x.Band[i]-1]
			}
			if got.Source == "" {
				got = x.Calibration[i]
			}
			if got.Source != "" {
				use.Scale, use.Offset, use.Source = got.Scale, got.Offset, got.Source
				cal[role] = pipelines.BandMap{Band: m.Band, Scale: got.Scale, Offset: got.Offset}
			}
		}
		uses = append(uses, use)
	}
	return cal, uses
}

// Reflectance range check: a band whose valid pixels fall below minReflectance or above
// maxReflectance in more than maxOutOfRange of the cases was converted with the wrong scale
// or offset. Dark water may dip a little below 0 and snow or specular roofs a little above
// 1; a wrong offset moves most dark land below 0, a missing scale puts everything above.
const (
	minReflectance = -0.02
	maxReflectance = 1.6
	maxOutOfRange  = 0.05
)

// checkReflectance returns the warnings of the range check on a grid's reflective bands,
// each naming the band, the share out of range and the scale and offset used.
func checkReflectance(g *detect.Grid, uses []BandUse) []string {
	var out []string
	for bi, role := range g.Names {
		if role == detect.BandSCL {
			continue
		}
		var n, below, above int
		for i, v := range g.Bands[bi] {
			if g.Valid != nil && !g.Valid[i] || math.IsNaN(float64(v)) {
				continue
			}
			n++
			if v < minReflectance {
				below++
			} else if v > maxReflectance {
				above++
			}
		}
		if n == 0 {
			continue
		}
		var use BandUse
		for _, u := range uses {
			if u.Role == role {
				use = u
			}
		}
		how := fmt.Sprintf("band %s (%s): %%.0f%%%% of valid pixels %%s after × %g %+g (%s)", use.Band, role, use.Scale, use.Offset, use.Source)
		if share := float64(below) / float64(n); share > maxOutOfRange {
			out = append(out, fmt.Sprintf(how, 100*share, fmt.Sprintf("below %g", minReflectance))+
				": the offset looks wrong (a scene without the 04.00 offset read with offset -0.1?); give the capture its scale and offset (STAC raster:bands, BOA_ADD_OFFSET) or the pipeline the right offset")
		}
		if share := float64(above) / float64(n); share > maxOutOfRange {
			out = append(out, fmt.Sprintf(how, 100*share, fmt.Sprintf("above %g", maxReflectance))+
				": the scale looks wrong (digital numbers taken for reflectance?)")
		}
	}
	return out
}

// maskedShares records, for each parcel, the pixels whose centre lies in it and how many of
// them the change detector's mask (or, without a change detector, the default mask) leaves
// out on these grids.
func (r *run) maskedShares(before, after *detect.Grid, parcels []detect.Parcel) {
	var cp detect.ChangeParams
	if d := r.p.Detector(pipelines.TypeChange); d != nil {
		cp = *d.Change
	}
	masked := detect.Masked(before, after, cp)
	for _, pc := range parcels {
		res := &ParcelResult{ParcelID: pc.ID}
		for _, i := range parcelPixels(after, pc.Geometry) {
			res.Pixels++
			if masked[i] {
				res.MaskedPixels++
			}
		}
		if res.Pixels > 0 {
			share := round(float64(res.MaskedPixels)/float64(res.Pixels), 4)
			res.MaskedShare = &share
		}
		r.parcelResults[pc.ID] = res
	}
}

// parcelPixels returns the indices of the pixels of g whose centre lies in geom (a polygon or
// multipolygon in g's CRS).
func parcelPixels(g *detect.Grid, geom orb.Geometry) []int {
	b := geom.Bound()
	cmin, rmin := math.Inf(1), math.Inf(1)
	cmax, rmax := math.Inf(-1), math.Inf(-1)
	for _, p := range []orb.Point{b.Min, b.Max, {b.Min[0], b.Max[1]}, {b.Max[0], b.Min[1]}} {
		c, r := g.Pixel(p)
		cmin, cmax, rmin, rmax = math.Min(cmin, c), math.Max(cmax, c), math.Min(rmin, r), math.Max(rmax, r)
	}
	x0, x1 := max(0, int(math.Floor(cmin))), min(g.Width-1, int(math.Ceil(cmax)))
	y0, y1 := max(0, int(math.Floor(rmin))), min(g.Height-1, int(math.Ceil(rmax)))
	var out []int
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			p := g.World(float64(x)+0.5, float64(y)+0.5)
			var in bool
			switch geom := geom.(type) {
			case orb.Polygon:
				in = planar.PolygonContains(geom, p)
			case orb.MultiPolygon:
				in = planar.MultiPolygonContains(geom, p)
			}
			if in {
				out = append(out, y*g.Width+x)
			}
		}
	}
	return out
}
