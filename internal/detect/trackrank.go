package detect

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// Pasquill-Gifford stability classes and the Briggs (1973) open-country coefficient a of
// the crosswind plume spread σ_y(x) = a·x·(1 + 0.0001·x)^-½ (x in metres downwind).
var briggsSigmaY = map[string]float64{"A": 0.22, "B": 0.16, "C": 0.11, "D": 0.08, "E": 0.06, "F": 0.04}

// plumeSigma is the crosswind spread, in metres, of where a plume from a source x metres
// upwind may cross the observation: the plume's own spread σ_y(x), the uncertainty of the
// mean wind direction (x·tan σθ) and of positions, in quadrature.
func plumeSigma(x float64, p TrackParams) float64 {
	x = math.Max(x, 0)
	sy := briggsSigmaY[p.PlumeStability] * x / math.Sqrt(1+0.0001*x)
	sd := x * math.Tan(p.WindDirSD*math.Pi/180)
	return math.Sqrt(sy*sy + sd*sd + p.PositionSD*p.PositionSD)
}

// plumeLikelihood is the density (per metre across the wind) that the plume of a source
// along metres upwind of an observation and cross metres beside the wind line through it
// passes over the observation: a Gaussian of the crosswind offset with the spread
// plumeSigma(along). A source downwind of the observation explains nothing.
func plumeLikelihood(along, cross float64, p TrackParams) float64 {
	if along < 0 {
		return 0
	}
	s := plumeSigma(along, p)
	return math.Exp(-cross*cross/(2*s*s)) / (math.Sqrt(2*math.Pi) * s)
}

// calmLikelihood is the density (per square metre) that a source at distance d explains
// an observation without a usable wind: an isotropic Gaussian of σ = CalmDistance/2.
func calmLikelihood(d float64, p TrackParams) float64 {
	s := p.CalmDistance / 2
	return math.Exp(-d*d/(2*s*s)) / (2 * math.Pi * s * s)
}

// crosswindWidth estimates the crosswind spread σ (metres) of the plume an event crossed:
// the crosswind extent of the readings within the event's time span widened by its
// duration on each side whose excess over the background is at least half the largest
// (the full width at half maximum, over 2.355). It returns 0, no estimate, when those
// readings lie more along the wind than across it (the track did not cross the plume) or
// are fewer than three.
func crosswindWidth(pts []orb.Point, excess []float64, o orb.Point, w windFrame) float64 {
	top := 0.0
	for _, e := range excess {
		top = math.Max(top, e)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	alo, ahi := math.Inf(1), math.Inf(-1)
	n := 0
	for i, q := range pts {
		if top <= 0 || excess[i] < top/2 {
			continue
		}
		a, c := w.of(o, q)
		lo, hi = math.Min(lo, c), math.Max(hi, c)
		alo, ahi = math.Min(alo, a), math.Max(ahi, a)
		n++
	}
	if n < 3 || hi-lo < ahi-alo {
		return 0
	}
	return (hi - lo) / 2.355
}

// plumeWidth is the crosswind spread, in metres, that a plume from a source x metres
// upwind shows when crossed: σ_y(x) and the uncertainty of positions, in quadrature.
func plumeWidth(x float64, p TrackParams) float64 {
	x = math.Max(x, 0)
	sy := briggsSigmaY[p.PlumeStability] * x / math.Sqrt(1+0.0001*x)
	return math.Hypot(sy, p.PositionSD)
}

// widthLikelihood weighs a source x metres upwind by how well the plume width it implies
// matches the observed crosswind spread (sigma, metres; 0 when the event gives none): a
// log-normal of their ratio with WidthLogSD. A plume widens as it travels, so its width
// tells a near source on the wind line from a far one.
func widthLikelihood(x, sigma float64, p TrackParams) float64 {
	if sigma <= 0 {
		return 1
	}
	r := math.Log(sigma / plumeWidth(x, p))
	return math.Exp(-r * r / (2 * p.WidthLogSD * p.WidthLogSD))
}

// windFrame gives positions along and across a wind (or flow) coming from a direction.
type windFrame struct{ ux, uy, nx, ny float64 }

func newWindFrame(from float64) windFrame {
	a := from * math.Pi / 180
	// u points upwind (towards where the wind comes from), n to its right.
	return windFrame{ux: math.Sin(a), uy: math.Cos(a), nx: math.Cos(a), ny: -math.Sin(a)}
}

// of returns how far q lies upwind of o (negative: downwind) and beside the wind line
// through o.
func (w windFrame) of(o, q orb.Point) (along, cross float64) {
	dx, dy := q[0]-o[0], q[1]-o[1]
	return dx*w.ux + dy*w.uy, dx*w.nx + dy*w.ny
}

// maxParcelSamples bounds the points at which a parcel is tried as the source, along each
// axis of its bounding box and along each edge.
const maxParcelSamples = 40

// bestPlumePoint returns the point of parcel g (local metres) that best explains an event
// observed at o whose plume showed the crosswind spread width (0: unknown), as its
// along-wind and crosswind distances and likelihood (plumeLikelihood times
// widthLikelihood). The parcel is an area source: its plume starts as wide as the parcel
// is across the wind (a uniform source of width W spreads W/√12). Points on a grid over the
// parcel and along its boundary are tried; o itself when o lies inside.
func bestPlumePoint(o orb.Point, g orb.Geometry, width float64, w windFrame, p TrackParams) (along, cross, like float64) {
	b := g.Bound()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, poly := range polygons(g) {
		for _, q := range poly[0] {
			_, c := w.of(o, q)
			lo, hi = math.Min(lo, c), math.Max(hi, c)
		}
	}
	q := p
	q.PositionSD = math.Hypot(p.PositionSD, (hi-lo)/math.Sqrt(12))
	like = -1
	try := func(pt orb.Point) {
		a, c := w.of(o, pt)
		if l := plumeLikelihood(a, c, p) * widthLikelihood(a, width, q); l > like {
			along, cross, like = a, c, l
		}
	}
	if pointGeometryDistance(o, g) == 0 {
		try(o)
	}
	step := math.Max(10, math.Max(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1])/maxParcelSamples)
	for x := b.Min[0] + step/2; x < b.Max[0]; x += step {
		for y := b.Min[1] + step/2; y < b.Max[1]; y += step {
			if pt := (orb.Point{x, y}); pointGeometryDistance(pt, g) == 0 {
				try(pt)
			}
		}
	}
	for _, poly := range polygons(g) {
		for _, ring := range poly {
			for i := 0; i+1 < len(ring); i++ {
				a, c := ring[i], ring[i+1]
				n := max(1, int(math.Min(math.Ceil(dist(a, c)/step), maxParcelSamples)))
				for k := 0; k < n; k++ {
					t := float64(k) / float64(n)
					try(orb.Point{a[0] + t*(c[0]-a[0]), a[1] + t*(c[1]-a[1])})
				}
			}
		}
	}
	return along, cross, math.Max(like, 0)
}

// candidate is a parcel that may explain a track event, with its likelihood.
type candidate struct {
	ParcelMatch
	like float64
}

// rankCandidates ranks the parcels that may explain an event observed at o (local metres).
// With a wind (or flow) from direction from, a parcel is a candidate when it lies within
// MaxDistance upwind and within three plume spreads of the wind line, weighted by
// plumeLikelihood; without one, when it lies within CalmDistance, weighted by
// calmLikelihood. A source among none of the parcels competes with a uniform density: over
// MaxDistance across the wind, or over a disc of radius MaxDistance. Each candidate's Share
// is its weight over the sum of all and that of the other source, which is returned as
// other; candidates below MinShare are left out. what describes the wind for the reasons.
func rankCandidates(o orb.Point, width float64, parcels []Parcel, directional bool, from float64, what string, p TrackParams) (out []ParcelMatch, other float64) {
	var cands []candidate
	w := newWindFrame(from)
	for _, pc := range parcels {
		if pc.Geometry == nil {
			continue
		}
		d := pointGeometryDistance(o, pc.Geometry)
		if directional {
			if d > p.MaxDistance {
				continue
			}
			along, cross, like := bestPlumePoint(o, pc.Geometry, width, w, p)
			if like <= 0 || math.Abs(cross) > 3*plumeSigma(along, p) {
				continue
			}
			m := ParcelMatch{ParcelID: pc.ID, Distance: d, Along: along, Cross: cross, Directional: true}
			cands = append(cands, candidate{m, like})
			continue
		}
		if d > p.CalmDistance {
			continue
		}
		cands = append(cands, candidate{ParcelMatch{ParcelID: pc.ID, Distance: d}, calmLikelihood(d, p)})
	}
	otherLike := 1 / p.MaxDistance
	if !directional {
		otherLike = 1 / (math.Pi * p.MaxDistance * p.MaxDistance)
	}
	total := otherLike
	for _, c := range cands {
		total += c.like
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].like != cands[j].like {
			return cands[i].like > cands[j].like
		}
		return cands[i].ParcelID < cands[j].ParcelID
	})
	for _, c := range cands {
		m := c.ParcelMatch
		m.Share = c.like / total
		if m.Share < p.MinShare {
			continue
		}
		m.Rank = len(out) + 1
		m.Reason = candidateReason(m, what, p)
		out = append(out, m)
	}
	return out, otherLike / total
}

// candidateReason says why a candidate explains an event.
func candidateReason(m ParcelMatch, what string, p TrackParams) string {
	share := fmt.Sprintf("rank %d, %.0f%% of the explanation", m.Rank, 100*m.Share)
	if !m.Directional {
		return fmt.Sprintf("%s: the parcel lies %.0f m from the event, within %.0f m; %s", what, m.Distance, p.CalmDistance, share)
	}
	side := "upwind"
	if p.Medium == MediumWater {
		side = "upstream"
	}
	if m.Along == 0 && m.Cross == 0 {
		return fmt.Sprintf("the event lies inside the parcel; %s; %s", what, share)
	}
	return fmt.Sprintf("%s: %s; the parcel lies %.0f m %s of the event and %.0f m across the %s line (plume spread σ %.0f m there); %s",
		side, what, m.Along, side, math.Abs(m.Cross), map[bool]string{true: "flow", false: "wind"}[p.Medium == MediumWater], plumeSigma(m.Along, p), share)
}
