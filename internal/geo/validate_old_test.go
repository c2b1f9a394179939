package geo

// The quadratic validation this package used before the sweep of sweep.go,
// kept only as the reference the cross-check in validate_bounds_test.go
// compares against (verbatim but for the names).

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// oldGeometryProblems checks one feature's geometry.
func oldGeometryProblems(f Feature) []Problem {
	var probs []Problem
	add := func(code Code, poly, ring, point int, format string, args ...any) {
		probs = append(probs, Problem{Feature: f.Index, ParcelID: f.ParcelID, Code: code,
			Polygon: poly, Ring: ring, Point: point, Detail: fmt.Sprintf(format, args...)})
	}
	polys, err := polygons(f.Geometry)
	if err != nil {
		add(EmptyGeometry, -1, -1, -1, "%v", err)
		return probs
	}
	nonEmpty := 0
	for _, p := range polys {
		if len(p) > 0 && len(p[0]) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty == 0 {
		add(EmptyGeometry, -1, -1, -1, "the feature has no polygon; draw the parcel outline")
		return probs
	}
	for pi, p := range polys {
		if len(p) == 0 || len(p[0]) == 0 {
			if len(polys) > 1 {
				add(EmptyGeometry, pi, -1, -1, "this polygon of the multipolygon is empty; remove it")
			}
			continue
		}
		coordsOK := true
		for ri, r := range p {
			for k, pt := range r {
				switch {
				case math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.IsInf(pt[0], 0) || math.IsInf(pt[1], 0):
					add(NonFinite, pi, ri, k, "coordinate (%g, %g) is not a finite number", pt[0], pt[1])
					coordsOK = false
				case pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90:
					add(OutOfRange, pi, ri, k, "coordinate (%g, %g) is outside longitude ±180, latitude ±90: is the file in a projected CRS without a .prj, or are longitude and latitude swapped?", pt[0], pt[1])
					coordsOK = false
				}
			}
		}
		if !coordsOK {
			continue
		}
		ringsOK := true
		for ri, r := range p {
			n := len(r)
			if n > 0 && r[0] != r[n-1] {
				add(UnclosedRing, pi, ri, n-1, "the ring ends at (%g, %g) instead of its first position (%g, %g); repeat the first position at the end", r[n-1][0], r[n-1][1], r[0][0], r[0][1])
			}
			if n < 4 {
				add(ShortRing, pi, ri, -1, "the ring has %d positions; a closed ring needs at least 4 (3 corners and the first repeated)", n)
				ringsOK = false
				continue
			}
			if zeroArea(r) {
				add(ZeroArea, pi, ri, -1, "the ring encloses no area (all its positions lie on one line or coincide)")
				ringsOK = false
			}
		}
		if ringsOK {
			probs = append(probs, oldCrossingProblems(f, pi, p)...)
		}
	}
	if len(probs) == 0 {
		for j := 1; j < len(polys); j++ {
			for i := 0; i < j; i++ {
				if oldPartsOverlap(polys[i], polys[j]) {
					add(PartsOverlap, j, -1, -1, "polygons %d and %d of the multipolygon overlap; merge them into one polygon or remove one", i, j)
				}
			}
		}
	}
	return probs
}

// oldPartsOverlap reports whether the interiors of two valid polygons overlap
// or their boundaries share a stretch (both invalid in a MultiPolygon).
// Touching at points is allowed.
func oldPartsOverlap(a, b orb.Polygon) bool {
	if len(a) == 0 || len(b) == 0 || !a.Bound().Intersects(b.Bound()) {
		return false
	}
	ea, _, _, _ := geometryEdges(a)
	eb, _, _, _ := geometryEdges(b)
	all := make([]edge, 0, len(ea)+len(eb))
	for _, e := range ea {
		e.part = 0
		all = append(all, e)
	}
	for _, e := range eb {
		e.part = 1
		all = append(all, e)
	}
	found := false
	sweepPairs(all, func(e, f *edge) bool {
		if e.part != f.part {
			if c := segmentCrossing(e.a, e.b, f.a, f.b); c == crossProper || c == crossOverlap {
				found = true
				return false
			}
		}
		return true
	})
	if found {
		return true
	}
	for _, r := range a {
		for _, pt := range r {
			if polygonLocation(b, pt) == 1 {
				return true
			}
		}
	}
	for _, r := range b {
		for _, pt := range r {
			if polygonLocation(a, pt) == 1 {
				return true
			}
		}
	}
	return false
}

// oldCrossingProblems finds self-intersections, crossing rings and holes
// outside the shell in polygon p (index pi of feature f).
func oldCrossingProblems(f Feature, pi int, p orb.Polygon) []Problem {
	var probs []Problem
	var edges []edge
	ringLen := make([]int, len(p)) // number of edges per ring after dropping repeats
	for ri, r := range p {
		start := len(edges)
		n := len(r)
		if r[0] == r[n-1] {
			n--
		}
		for i := 0; i < n; i++ {
			a, b := r[i], r[(i+1)%len(r)]
			if i == n-1 {
				b = r[0]
			}
			if a == b {
				continue // a repeated position is valid and not an edge
			}
			edges = append(edges, newEdge(a, b, len(edges)-start, ri, i))
		}
		ringLen[ri] = len(edges) - start
	}
	type pair struct{ r1, r2 int }
	reported := map[pair]bool{}
	sweepPairs(edges, func(e, g *edge) bool {
		c := segmentCrossing(e.a, e.b, g.a, g.b)
		if c == crossNone {
			return true
		}
		if e.ring == g.ring {
			n := ringLen[e.ring]
			d := e.part - g.part
			if d < 0 {
				d = -d
			}
			adjacent := d == 1 || d == n-1
			if adjacent {
				// Consecutive edges share a vertex; they are wrong only if
				// they fold back over each other (a spike).
				if c != crossOverlap {
					return true
				}
			}
			key := pair{e.ring, e.ring}
			if reported[key] {
				return true
			}
			reported[key] = true
			i, j := min(e.idx, g.idx), max(e.idx, g.idx)
			at := meetPoint(e, g)
			probs = append(probs, Problem{Feature: f.Index, ParcelID: f.ParcelID, Code: SelfIntersection,
				Polygon: pi, Ring: e.ring, Point: i,
				Detail: fmt.Sprintf("the edge from position %d and the edge from position %d meet near (%.7f, %.7f); redraw the outline so that it does not cross itself, or import with repair", i, j, at[0], at[1])})
			return true
		}
		if c == crossTouch {
			return true // rings may touch at a point
		}
		r1, r2 := min(e.ring, g.ring), max(e.ring, g.ring)
		if reported[pair{r1, r2}] {
			return true
		}
		reported[pair{r1, r2}] = true
		at := meetPoint(e, g)
		probs = append(probs, Problem{Feature: f.Index, ParcelID: f.ParcelID, Code: RingsCross,
			Polygon: pi, Ring: r2, Point: -1,
			Detail: fmt.Sprintf("ring %d and ring %d cross near (%.7f, %.7f); a hole must lie inside the exterior ring and holes must not overlap", r1, r2, at[0], at[1])})
		return true
	})
	// Each hole must lie inside the shell and outside every other hole. No
	// crossings were found between the rings checked here, so one vertex
	// off the other ring's boundary tells where the whole ring lies.
	side := func(of, in int) int {
		for _, pt := range p[of] {
			if loc := ringLocation(p[in], pt); loc != 0 {
				return loc
			}
		}
		return 0
	}
	for ri := 1; ri < len(p); ri++ {
		if !reported[pair{0, ri}] && side(ri, 0) < 0 {
			probs = append(probs, Problem{Feature: f.Index, ParcelID: f.ParcelID, Code: HoleOutside,
				Polygon: pi, Ring: ri, Point: -1,
				Detail: "this hole lies outside the exterior ring; holes must be inside it (is it a separate polygon of a multipolygon?)"})
			continue
		}
		for rj := 1; rj < len(p); rj++ {
			if rj == ri || reported[pair{min(ri, rj), max(ri, rj)}] {
				continue
			}
			if side(ri, rj) > 0 {
				probs = append(probs, Problem{Feature: f.Index, ParcelID: f.ParcelID, Code: NestedHole,
					Polygon: pi, Ring: ri, Point: -1,
					Detail: fmt.Sprintf("this hole lies inside hole %d; an island inside a hole must be a separate polygon of a multipolygon", rj)})
				break
			}
		}
	}
	return probs
}
