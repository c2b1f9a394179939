// Package evalscore scores predictions against truth on a pixel grid: pixel counts (F1,
// IoU), object matching of predicted regions with truth objects, connected components,
// rasterization of polygons in pixel coordinates, and reliability (calibration) tables.
package evalscore

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// Counts are pixel or object counts of a comparison.
type Counts struct{ TP, FP, FN int }

// Add sums counts.
func (c Counts) Add(o Counts) Counts { return Counts{c.TP + o.TP, c.FP + o.FP, c.FN + o.FN} }

// Precision is TP/(TP+FP), 0 without predictions.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), 0 without truth.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall; 1 when there is neither truth nor
// prediction.
func (c Counts) F1() float64 {
	if c.TP+c.FP+c.FN == 0 {
		return 1
	}
	return ratio(2*c.TP, 2*c.TP+c.FP+c.FN)
}

// IoU is TP/(TP+FP+FN); 1 when there is neither truth nor prediction.
func (c Counts) IoU() float64 {
	if c.TP+c.FP+c.FN == 0 {
		return 1
	}
	return ratio(c.TP, c.TP+c.FP+c.FN)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Pixels compares a predicted mask with a truth mask, skipping ignored pixels (ignore may
// be nil).
func Pixels(pred, truth, ignore []bool) Counts {
	var c Counts
	for i := range truth {
		if ignore != nil && ignore[i] {
			continue
		}
		switch {
		case pred[i] && truth[i]:
			c.TP++
		case pred[i]:
			c.FP++
		case truth[i]:
			c.FN++
		}
	}
	return c
}

// Components returns the 8-connected regions of mask (w × h, row-major) of at least
// minPixels pixels, each as its pixel indices in scan order.
func Components(mask []bool, w, h, minPixels int) [][]int {
	seen := make([]bool, len(mask))
	var out [][]int
	var stack []int
	for start := range mask {
		if !mask[start] || seen[start] {
			continue
		}
		var region []int
		stack = append(stack[:0], start)
		seen[start] = true
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			region = append(region, i)
			r, c := i/w, i%w
			for dr := -1; dr <= 1; dr++ {
				for dc := -1; dc <= 1; dc++ {
					rr, cc := r+dr, c+dc
					if rr < 0 || rr >= h || cc < 0 || cc >= w {
						continue
					}
					j := rr*w + cc
					if mask[j] && !seen[j] {
						seen[j] = true
						stack = append(stack, j)
					}
				}
			}
		}
		if len(region) >= minPixels {
			sort.Ints(region)
			out = append(out, region)
		}
	}
	return out
}

// Grid maps coordinates of a CRS to pixels.
type Grid struct {
	Width, Height int
	GeoTransform  [6]float64 // north-up
}

// Rasterize returns the pixels of g whose centres lie inside it (points: the pixel that
// holds them), in scan order; g is in the grid's CRS.
func (gr Grid) Rasterize(g orb.Geometry) []int {
	var polys []orb.Polygon
	var pts []orb.Point
	switch v := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{v}
	case orb.MultiPolygon:
		polys = v
	case orb.Bound:
		polys = []orb.Polygon{v.ToPolygon()}
	case orb.Point:
		pts = []orb.Point{v}
	case orb.MultiPoint:
		pts = v
	}
	set := map[int]bool{}
	gt := gr.GeoTransform
	for _, p := range pts {
		c := int(math.Floor((p[0] - gt[0]) / gt[1]))
		r := int(math.Floor((p[1] - gt[3]) / gt[5]))
		if c >= 0 && c < gr.Width && r >= 0 && r < gr.Height {
			set[r*gr.Width+c] = true
		}
	}
	for _, poly := range polys {
		// Rings in pixel coordinates; scanline at each row's centre, even-odd rule.
		var rings [][][2]float64
		minR, maxR := math.Inf(1), math.Inf(-1)
		for _, ring := range poly {
			pr := make([][2]float64, len(ring))
			for i, p := range ring {
				pr[i] = [2]float64{(p[0] - gt[0]) / gt[1], (p[1] - gt[3]) / gt[5]}
				minR, maxR = math.Min(minR, pr[i][1]), math.Max(maxR, pr[i][1])
			}
			rings = append(rings, pr)
		}
		r0, r1 := max(0, int(math.Floor(minR))), min(gr.Height-1, int(math.Ceil(maxR)))
		for r := r0; r <= r1; r++ {
			y := float64(r) + 0.5
			var xs []float64
			for _, ring := range rings {
				for i := 0; i+1 < len(ring); i++ {
					a, b := ring[i], ring[i+1]
					if (a[1] <= y) != (b[1] <= y) {
						xs = append(xs, a[0]+(y-a[1])/(b[1]-a[1])*(b[0]-a[0]))
					}
				}
			}
			sort.Float64s(xs)
			for k := 0; k+1 < len(xs); k += 2 {
				c0 := max(0, int(math.Ceil(xs[k]-0.5)))
				c1 := min(gr.Width-1, int(math.Ceil(xs[k+1]-0.5))-1)
				for c := c0; c <= c1; c++ {
					set[r*gr.Width+c] = true
				}
			}
		}
	}
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// Region is one predicted object: its pixels, and for calibration its detector and score.
type Region struct {
	Detector string
	Class    string
	Score    float64
	Pixels   []int
}

// Match is the outcome of matching predicted regions with truth objects.
type Match struct {
	// Real, per region: 1 when it is real, 0 when false, -1 when it lies in ignored pixels
	// (neither).
	Real []int
	// Found lists the truth object IDs some region found; Missed the others.
	Found, Missed []int32
	Objects       Counts // TP: real regions, FP: false regions, FN: missed objects
}

// MatchRule says when a region is real and an object found.
type MatchRule struct {
	// MinShare is the share of a region's pixels (outside ignored ones) that must lie on
	// wanted truth for the region to be real, and the share of an object's pixels regions
	// must cover for it to be found (default 0.3).
	MinShare float64
	// Near, when > 0, makes small targets (hotspots) count by distance instead: a region is
	// real when it comes within Near pixels of a wanted object, and an object is found when
	// a region comes within Near pixels of it.
	Near int
}

// Objects matches regions with the truth objects labels holds (pixel → object ID, 0 for
// none) for which want is true; ignore (may be nil) marks pixels neither side is judged on.
// Labels of unwanted objects count as background.
func Objects(regions []Region, gr Grid, labels []int32, ignore []bool, want func(int32) bool, rule MatchRule) Match {
	if rule.MinShare == 0 {
		rule.MinShare = 0.3
	}
	w := gr.Width
	size := map[int32]int{}
	for _, l := range labels {
		if l != 0 && want(l) {
			size[l]++
		}
	}
	covered := map[int32]map[int]bool{}
	var m Match
	m.Real = make([]int, len(regions))
	for k, rg := range regions {
		on, ign, off := 0, 0, 0
		hit := map[int32]bool{}
		for _, i := range rg.Pixels {
			if rule.Near > 0 {
				r, c := i/w, i%w
				for dr := -rule.Near; dr <= rule.Near; dr++ {
					for dc := -rule.Near; dc <= rule.Near; dc++ {
						rr, cc := r+dr, c+dc
						if rr >= 0 && rr < gr.Height && cc >= 0 && cc < w {
							if l := labels[rr*w+cc]; l != 0 && want(l) {
								hit[l] = true
							}
						}
					}
				}
			}
			switch l := labels[i]; {
			case l != 0 && want(l):
				on++
				if covered[l] == nil {
					covered[l] = map[int]bool{}
				}
				covered[l][i] = true
			case ignore != nil && ignore[i]:
				ign++
			default:
				off++
			}
		}
		switch {
		case rule.Near > 0 && len(hit) > 0:
			m.Real[k] = 1
			for l := range hit {
				if covered[l] == nil {
					covered[l] = map[int]bool{}
				}
				covered[l][-1] = true // found by nearness
			}
		case rule.Near == 0 && on > 0 && float64(on) >= rule.MinShare*float64(on+off):
			m.Real[k] = 1
		case on == 0 && ign > 0 && off <= ign:
			m.Real[k] = -1
		}
		if m.Real[k] == 1 {
			m.Objects.TP++
		} else if m.Real[k] == 0 {
			m.Objects.FP++
		}
	}
	ids := make([]int32, 0, len(size))
	for l := range size {
		ids = append(ids, l)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, l := range ids {
		cov := covered[l]
		if (rule.Near > 0 && cov[-1]) || float64(len(cov)) >= rule.MinShare*float64(size[l]) && len(cov) > 0 {
			m.Found = append(m.Found, l)
		} else {
			m.Missed = append(m.Missed, l)
			m.Objects.FN++
		}
	}
	return m
}

// Recall is the share of truth objects found (1 when there are none).
func (m Match) Recall() float64 {
	n := len(m.Found) + len(m.Missed)
	if n == 0 {
		return 1
	}
	return float64(len(m.Found)) / float64(n)
}

// Reliability counts, per detector and score band, how many findings there were and how
// many were real.
type Reliability struct {
	Edges []float64 // band edges, ascending; the last band includes its upper edge
	cells map[string][]cell
}

type cell struct {
	n, real int
	sum     float64 // of the scores
}

// NewReliability returns an empty table with bands of width 0.2 over [0, 1].
func NewReliability() *Reliability {
	return &Reliability{Edges: []float64{0, 0.2, 0.4, 0.6, 0.8, 1.0}, cells: map[string][]cell{}}
}

// Add records one judged finding (real 1 or 0; -1, neither, is not recorded).
func (r *Reliability) Add(detector string, score float64, real int) {
	if real < 0 {
		return
	}
	if r.cells[detector] == nil {
		r.cells[detector] = make([]cell, len(r.Edges)-1)
	}
	b := sort.SearchFloat64s(r.Edges[1:], score)
	if b >= len(r.Edges)-1 {
		b = len(r.Edges) - 2
	}
	if score >= r.Edges[b+1] && b+1 < len(r.Edges)-1 {
		b++
	}
	r.cells[detector][b].n++
	r.cells[detector][b].sum += score
	if real == 1 {
		r.cells[detector][b].real++
	}
}

// Detectors lists the detectors recorded, sorted.
func (r *Reliability) Detectors() []string {
	var out []string
	for d := range r.cells {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Band returns the number of findings of detector in band b and how many were real.
func (r *Reliability) Band(detector string, b int) (n, real int) {
	c := r.cells[detector]
	if c == nil {
		return 0, 0
	}
	return c[b].n, c[b].real
}

// Label names band b, e.g. "0.2–0.4".
func (r *Reliability) Label(b int) string {
	return fmt.Sprintf("%.1f–%.1f", r.Edges[b], r.Edges[b+1])
}

// Error is the calibration error of a detector's scores: the mean, over its findings, of
// the gap between the mean score of the finding's band and the share of the band's
// findings that were real (the expected calibration error over the table's bands); 0
// without findings.
func (r *Reliability) Error(detector string) float64 {
	var gap float64
	n := 0
	for _, c := range r.cells[detector] {
		if c.n == 0 {
			continue
		}
		gap += math.Abs(c.sum - float64(c.real)) // n × |mean score − share real|
		n += c.n
	}
	if n == 0 {
		return 0
	}
	return gap / float64(n)
}

// Count returns how many findings of detector were recorded and how many were real.
func (r *Reliability) Count(detector string) (n, real int) {
	for _, c := range r.cells[detector] {
		n += c.n
		real += c.real
	}
	return n, real
}
