package detect

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Finding kinds (DESIGN.md section 3).
const (
	KindChange     = "change"
	KindHotspot    = "hotspot"
	KindPlume      = "plume"
	KindExceedance = "exceedance"
)

// Finding classes.
const (
	ClassNewStructure   = "new_structure"
	ClassEarthwork      = "earthwork"
	ClassVegetationLoss = "vegetation_loss"
	ClassBurn           = "burn"
	ClassWaterChange    = "water_change"
	ClassOtherChange    = "other_change"
	ClassThermal        = "thermal_anomaly"
	ClassWaterPlume     = "water_plume"
	ClassSmokePlume     = "smoke_plume"
	ClassAirExceedance  = "air_exceedance"
	ClassWaterExceed    = "water_exceedance"
	ClassAirHotspot     = "air_hotspot"
	ClassWaterHotspot   = "water_hotspot"
)

// Hotspot activity across a pair of dates (Finding.Status).
const (
	StatusActive     = "active"     // hot on a single date
	StatusNew        = "new"        // hot after, not before
	StatusStopped    = "stopped"    // hot before, clear and not hot after
	StatusPersistent = "persistent" // hot on both dates
)

// Finding is one piece of evidence produced by a detector.
type Finding struct {
	Detector string // detector that produced it: "change", "hotspot", ...
	Kind     string // KindChange, KindHotspot, KindPlume, KindExceedance
	Class    string // ClassNewStructure, ...
	Status   string // hotspots only: StatusActive, StatusNew, StatusStopped, StatusPersistent
	Score    float64
	// Geometry is an orb.Polygon in the grid's CRS for raster findings, an orb.Point or
	// orb.LineString in lon/lat for track findings.
	Geometry orb.Geometry
	Pixels   int     // raster findings: number of pixels
	Area     float64 // raster findings: Pixels × pixel area, in m² (Grid.MetresPerUnit)
	// Parcels lists the parcels the finding is attributed to, best first.
	Parcels []ParcelMatch
	// Params are the detector parameters used, by their pipeline names; the findings of
	// one call share the map, so copy it before changing it.
	Params map[string]float64
	// Measures are quantities that explain the finding (index means before and after,
	// peak reading, background, ...), by name.
	Measures map[string]float64
	// Tracks only.
	Pollutant  string
	Unit       string
	Start, End time.Time
}

// Parcel is a parcel's geometry (orb.Polygon or orb.MultiPolygon) in the CRS of the grid
// it is used with; for tracks, in lon/lat.
type Parcel struct {
	ID       string
	Geometry orb.Geometry
}

// ParcelMatch says why a finding belongs to a parcel.
type ParcelMatch struct {
	ParcelID string
	Distance float64 // 0 when they intersect; CRS units (metres for tracks)
	Reason   string
	// Track findings only: the parcel's rank among the event's candidates (1 = explains it
	// best) and its share of the explanation (the shares of the candidates and of a source
	// among none of them sum to 1). Directional when a wind (or flow) was used: then Along
	// is how far upwind (upstream) of the event the parcel's best-explaining point lies and
	// Cross how far beside the wind line through the event, in metres.
	Rank         int
	Share        float64
	Directional  bool
	Along, Cross float64
}

// Attribution selects parcels for raster findings.
type Attribution struct {
	Parcels []Parcel
	// Buffer is the distance in CRS units within which a finding still belongs to a parcel.
	Buffer float64
}

// enabled reports whether findings must be attributed (parcels given).
func (a Attribution) enabled() bool { return len(a.Parcels) > 0 }

// attribute returns the parcels within the buffer of geom, nearest first.
func (a Attribution) attribute(geom orb.Polygon) []ParcelMatch {
	b := geom.Bound()
	var out []ParcelMatch
	for _, p := range a.Parcels {
		if p.Geometry == nil {
			continue
		}
		pb := p.Geometry.Bound().Pad(a.Buffer)
		if !pb.Intersects(b) {
			continue
		}
		d := polygonDistance(geom, p.Geometry)
		if d > a.Buffer {
			continue
		}
		reason := "intersects the parcel"
		if d > 0 {
			reason = fmt.Sprintf("lies %.1f from the parcel, within the %.1f buffer", d, a.Buffer)
		}
		out = append(out, ParcelMatch{ParcelID: p.ID, Distance: d, Reason: reason})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Distance < out[j].Distance })
	return out
}

// polygons returns the polygons of a Polygon or MultiPolygon.
func polygons(g orb.Geometry) []orb.Polygon {
	switch g := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{g}
	case orb.MultiPolygon:
		return g
	case orb.Ring:
		return []orb.Polygon{{g}}
	case orb.Bound:
		return []orb.Polygon{g.ToPolygon()}
	}
	return nil
}

// polygonDistance is 0 when a and b intersect, else the least distance between their
// boundaries.
func polygonDistance(a orb.Polygon, bg orb.Geometry) float64 {
	best := math.Inf(1)
	for _, b := range polygons(bg) {
		if polygonsIntersect(a, b) {
			return 0
		}
		for _, ra := range a {
			for _, rb := range b {
				best = math.Min(best, ringDistance(ra, rb))
			}
		}
	}
	return best
}

func polygonsIntersect(a, b orb.Polygon) bool {
	if len(a) == 0 || len(b) == 0 || !a.Bound().Intersects(b.Bound()) {
		return false
	}
	for _, p := range a[0] {
		if planar.PolygonContains(b, p) {
			return true
		}
	}
	for _, p := range b[0] {
		if planar.PolygonContains(a, p) {
			return true
		}
	}
	for _, ra := range a {
		for _, rb := range b {
			if ringsCross(ra, rb) {
				return true
			}
		}
	}
	return false
}

func ringsCross(a, b orb.Ring) bool {
	for i := 0; i+1 < len(a); i++ {
		for j := 0; j+1 < len(b); j++ {
			if segmentsIntersect(a[i], a[i+1], b[j], b[j+1]) {
				return true
			}
		}
	}
	return false
}

func ringDistance(a, b orb.Ring) float64 {
	best := math.Inf(1)
	for i := 0; i+1 < len(a); i++ {
		for j := 0; j+1 < len(b); j++ {
			best = math.Min(best, segmentDistance(a[i], a[i+1], b[j], b[j+1]))
		}
	}
	return best
}

func cross(o, a, b orb.Point) float64 {
	return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
}

func segmentsIntersect(p1, p2, q1, q2 orb.Point) bool {
	d1, d2 := cross(q1, q2, p1), cross(q1, q2, p2)
	d3, d4 := cross(p1, p2, q1), cross(p1, p2, q2)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	on := func(p, q, r orb.Point, d float64) bool {
		return d == 0 && math.Min(p[0], q[0]) <= r[0] && r[0] <= math.Max(p[0], q[0]) &&
			math.Min(p[1], q[1]) <= r[1] && r[1] <= math.Max(p[1], q[1])
	}
	return on(q1, q2, p1, d1) || on(q1, q2, p2, d2) || on(p1, p2, q1, d3) || on(p1, p2, q2, d4)
}

func pointSegmentDistance(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-(a[0]+t*dx), p[1]-(a[1]+t*dy))
}

func segmentDistance(p1, p2, q1, q2 orb.Point) float64 {
	if segmentsIntersect(p1, p2, q1, q2) {
		return 0
	}
	return math.Min(math.Min(pointSegmentDistance(p1, q1, q2), pointSegmentDistance(p2, q1, q2)),
		math.Min(pointSegmentDistance(q1, p1, p2), pointSegmentDistance(q2, p1, p2)))
}

// pointGeometryDistance is 0 inside the geometry, else the distance to its boundary.
func pointGeometryDistance(p orb.Point, g orb.Geometry) float64 {
	best := math.Inf(1)
	for _, poly := range polygons(g) {
		if planar.PolygonContains(poly, p) {
			return 0
		}
		for _, r := range poly {
			for i := 0; i+1 < len(r); i++ {
				best = math.Min(best, pointSegmentDistance(p, r[i], r[i+1]))
			}
		}
	}
	return best
}

// finish builds a raster finding from a component, attributes it, and reports whether it
// should be kept (attributed to a parcel, or no parcels given).
func finish(g *Grid, c *component, attr Attribution, f *Finding) bool {
	poly := c.polygon(g)
	f.Geometry = poly
	f.Pixels = c.pixels
	f.Area = float64(c.pixels) * g.PixelArea() * g.metres() * g.metres()
	if attr.enabled() {
		f.Parcels = attr.attribute(poly)
		return len(f.Parcels) > 0
	}
	return true
}
