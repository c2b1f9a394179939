package geo

import (
	"fmt"
	"sort"

	"github.com/paulmach/orb"
)

// Planar predicates on lon/lat coordinates. At parcel scale (metres to a few
// kilometres) straight lines in degrees and on the ground differ by far less
// than the data's precision.

// orient is twice the signed area of triangle abc: > 0 when c is left of
// a→b, < 0 right, 0 collinear.
func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// within reports whether p, collinear with a and b, lies on segment ab.
func within(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) &&
		min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// crossing classifies how segments pq and rs meet.
type crossing int

const (
	crossNone    crossing = iota // disjoint
	crossTouch                   // meet at a single point that is an endpoint of one of them
	crossProper                  // cross at a single interior point of both
	crossOverlap                 // collinear, sharing a stretch of positive length
)

// segmentCrossing classifies the intersection of segments pq and rs.
func segmentCrossing(p, q, r, s orb.Point) crossing {
	d1, d2 := orient(r, s, p), orient(r, s, q)
	d3, d4 := orient(p, q, r), orient(p, q, s)
	if (d1 > 0 && d2 < 0 || d1 < 0 && d2 > 0) && (d3 > 0 && d4 < 0 || d3 < 0 && d4 > 0) {
		return crossProper
	}
	if d1 == 0 && d2 == 0 && d3 == 0 && d4 == 0 {
		// Collinear: project on the dominant axis and compare intervals.
		ax := 0
		if max(p[0], q[0], r[0], s[0])-min(p[0], q[0], r[0], s[0]) < max(p[1], q[1], r[1], s[1])-min(p[1], q[1], r[1], s[1]) {
			ax = 1
		}
		lo := max(min(p[ax], q[ax]), min(r[ax], s[ax]))
		hi := min(max(p[ax], q[ax]), max(r[ax], s[ax]))
		switch {
		case lo < hi:
			return crossOverlap
		case lo == hi:
			return crossTouch
		default:
			return crossNone
		}
	}
	if d1 == 0 && within(r, s, p) || d2 == 0 && within(r, s, q) ||
		d3 == 0 && within(p, q, r) || d4 == 0 && within(p, q, s) {
		return crossTouch
	}
	return crossNone
}

// ringLocation reports where pt lies relative to ring r (closed or not):
// 1 inside, 0 on the boundary, -1 outside. Even-odd rule.
func ringLocation(r orb.Ring, pt orb.Point) int {
	n := len(r)
	if n == 0 {
		return -1
	}
	in := false
	for i := 0; i < n; i++ {
		a, b := r[i], r[(i+1)%n]
		if orient(a, b, pt) == 0 && within(a, b, pt) {
			return 0
		}
		if (a[1] > pt[1]) != (b[1] > pt[1]) {
			x := a[0] + (pt[1]-a[1])*(b[0]-a[0])/(b[1]-a[1])
			if pt[0] < x {
				in = !in
			}
		}
	}
	if in {
		return 1
	}
	return -1
}

// polygonLocation is ringLocation for a polygon with holes.
func polygonLocation(p orb.Polygon, pt orb.Point) int {
	if len(p) == 0 {
		return -1
	}
	loc := ringLocation(p[0], pt)
	if loc <= 0 {
		return loc
	}
	for _, h := range p[1:] {
		switch ringLocation(h, pt) {
		case 1:
			return -1
		case 0:
			return 0
		}
	}
	return 1
}

// edge is one segment of a geometry, with where it came from.
type edge struct {
	a, b       orb.Point
	part, ring int // polygon index and ring index (or line index)
	idx        int // index of the segment's first point in the original ring
	minX, maxX float64
}

func newEdge(a, b orb.Point, part, ring, idx int) edge {
	return edge{a: a, b: b, part: part, ring: ring, idx: idx, minX: min(a[0], b[0]), maxX: max(a[0], b[0])}
}

// sweepPairs calls fn for every pair of edges whose bounding boxes overlap,
// sweeping along x (O(n log n) plus the pairs). fn returns false to stop.
func sweepPairs(edges []edge, fn func(e, f *edge) bool) {
	sort.Slice(edges, func(i, j int) bool { return edges[i].minX < edges[j].minX })
	for i := range edges {
		e := &edges[i]
		eMinY, eMaxY := min(e.a[1], e.b[1]), max(e.a[1], e.b[1])
		for j := i + 1; j < len(edges) && edges[j].minX <= e.maxX; j++ {
			f := &edges[j]
			if max(f.a[1], f.b[1]) < eMinY || min(f.a[1], f.b[1]) > eMaxY {
				continue
			}
			if !fn(e, f) {
				return
			}
		}
	}
}

// geometryEdges returns the edges of polygons (rings implicitly closed) and
// line strings in g, and sample points (one vertex per ring, line or point)
// used for containment tests.
func geometryEdges(g orb.Geometry) (edges []edge, samples []orb.Point, areas []orb.Polygon, err error) {
	addRing := func(r []orb.Point, part, ring int, closed bool) {
		n := len(r)
		if n == 0 {
			return
		}
		samples = append(samples, r[0])
		last := n - 1
		if closed && r[0] != r[n-1] {
			last = n
		}
		for i := 0; i < last; i++ {
			edges = append(edges, newEdge(r[i], r[(i+1)%n], part, ring, i))
		}
	}
	var walk func(g orb.Geometry, part int) error
	walk = func(g orb.Geometry, part int) error {
		switch g := g.(type) {
		case nil:
		case orb.Point:
			samples = append(samples, g)
		case orb.MultiPoint:
			samples = append(samples, g...)
		case orb.LineString:
			addRing(g, part, 0, false)
		case orb.MultiLineString:
			for i, l := range g {
				addRing(l, part, i, false)
			}
		case orb.Ring:
			addRing(g, part, 0, true)
			areas = append(areas, orb.Polygon{g})
		case orb.Bound:
			return walk(g.ToPolygon(), part)
		case orb.Polygon:
			for i, r := range g {
				addRing(r, part, i, true)
			}
			areas = append(areas, g)
		case orb.MultiPolygon:
			for i, p := range g {
				if err := walk(p, i); err != nil {
					return err
				}
			}
		case orb.Collection:
			for _, sub := range g {
				if err := walk(sub, part); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("geo: unsupported geometry %T", g)
		}
		return nil
	}
	err = walk(g, 0)
	return edges, samples, areas, err
}
