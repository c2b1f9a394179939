package geo

import (
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/raster"
)

// Code names a kind of validation problem.
type Code string

// Validation problem codes.
const (
	MissingID        Code = "missing_id"         // the feature has no parcel id
	DuplicateID      Code = "duplicate_id"       // another feature has the same parcel id
	EmptyGeometry    Code = "empty_geometry"     // no geometry, or no polygon with a ring
	NonFinite        Code = "non_finite"         // a coordinate is NaN or infinite
	OutOfRange       Code = "out_of_range"       // longitude outside ±180 or latitude outside ±90
	UnclosedRing     Code = "unclosed_ring"      // first and last positions differ
	ShortRing        Code = "short_ring"         // fewer than 4 positions
	SelfIntersection Code = "self_intersection"  // a ring crosses or touches itself
	RingsCross       Code = "rings_cross"        // two rings of one polygon cross or overlap
	HoleOutside      Code = "hole_outside_shell" // a hole lies outside its shell
	ZeroArea         Code = "zero_area"          // a ring encloses no area
	PartsOverlap     Code = "parts_overlap"      // two polygons of a multipolygon overlap
	NestedHole       Code = "nested_hole"        // a hole lies inside another hole
)

// repairable lists the codes WithRepair can fix.
var repairable = map[Code]bool{
	UnclosedRing: true, ShortRing: true, SelfIntersection: true, RingsCross: true,
	HoleOutside: true, ZeroArea: true, PartsOverlap: true, NestedHole: true,
}

// Problem is one validation finding, located as precisely as possible.
type Problem struct {
	Feature  int    // Feature.Index
	ParcelID string // "" when the feature has none
	Code     Code
	Polygon  int    // polygon index within a MultiPolygon (0 for a Polygon); -1 when not about geometry
	Ring     int    // ring index (0 = exterior, 1.. = holes); -1 when not about one ring
	Point    int    // position index within the ring; -1 when not about one position
	Detail   string // what is wrong and what to do, for a person
	Repaired bool   // WithRepair fixed it; the feature's geometry was replaced
}

// String formats the problem as one line naming feature, parcel and place.
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "feature %d", p.Feature)
	if p.ParcelID != "" {
		fmt.Fprintf(&b, " (parcel %q)", p.ParcelID)
	}
	if p.Polygon >= 0 {
		fmt.Fprintf(&b, ": polygon %d", p.Polygon)
	}
	if p.Ring >= 0 {
		fmt.Fprintf(&b, " ring %d", p.Ring)
	}
	if p.Point >= 0 {
		fmt.Fprintf(&b, " point %d", p.Point)
	}
	fmt.Fprintf(&b, ": %s: %s", p.Code, p.Detail)
	if p.Repaired {
		b.WriteString(" (repaired)")
	}
	return b.String()
}

// ValidationError lists the problems that make parcels unusable.
type ValidationError struct {
	Problems []Problem
}

// Error gives one line per kind of problem: how many, in how many features, and the first
// of them located exactly; a file with a million out-of-range positions says so in one line,
// not a million.
func (e *ValidationError) Error() string {
	type group struct {
		first    Problem
		n        int
		features map[int]bool
	}
	var order []Code
	groups := map[Code]*group{}
	for _, p := range e.Problems {
		g := groups[p.Code]
		if g == nil {
			g = &group{first: p, features: map[int]bool{}}
			groups[p.Code] = g
			order = append(order, p.Code)
		}
		g.n++
		g.features[p.Feature] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "geo: %d parcel problem(s)", len(e.Problems))
	for _, c := range order {
		g := groups[c]
		b.WriteString("\n  ")
		b.WriteString(g.first.String())
		if g.n > 1 {
			fmt.Fprintf(&b, " [and %d more %s in %d feature(s)]", g.n-1, c, len(g.features))
		}
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Report is the outcome of Validate.
type Report struct {
	// Features are the input features, with geometries replaced where
	// WithRepair repaired them (the input slice is not modified).
	Features []Feature
	// Problems lists every problem found, repaired ones included.
	Problems []Problem
}

// Err returns a *ValidationError listing the problems not repaired, or nil.
func (r Report) Err() error {
	var left []Problem
	for _, p := range r.Problems {
		if !p.Repaired {
			left = append(left, p)
		}
	}
	if len(left) == 0 {
		return nil
	}
	return &ValidationError{Problems: left}
}

// Repaired returns the indices (into Features) of repaired features.
func (r Report) Repaired() []int {
	fixed := map[int]bool{}
	for _, p := range r.Problems {
		if p.Repaired {
			fixed[p.Feature] = true
		}
	}
	var out []int
	for i, f := range r.Features {
		if fixed[f.Index] {
			out = append(out, i)
		}
	}
	return out
}

// Validate checks parcels for problems a person must fix before they can be
// used: missing or duplicate parcel ids, empty geometry, NaN/Inf or
// out-of-range coordinates, unclosed rings, rings with fewer than 4
// positions, self-intersecting rings, crossing rings, holes outside their
// shell, and rings with zero area.
//
// With WithRepair, features whose only geometry problems are repairable
// (ring closure, short or zero-area rings, self-intersections, crossing
// rings, holes outside) are repaired: rings are closed, degenerate rings
// dropped, and the result made valid with GDAL's MakeValid (GEOS). If the
// repaired geometry validates, its problems are reported with Repaired set
// and Report.Features carries the new geometry. Nothing is ever repaired
// silently. The error is non-nil only if GDAL fails.
func Validate(features []Feature, opts ...Option) (Report, error) {
	o := newOptions(opts)
	rep := Report{Features: make([]Feature, len(features))}
	copy(rep.Features, features)
	seen := map[string]int{}
	for i, f := range features {
		if f.ParcelID == "" {
			rep.Problems = append(rep.Problems, Problem{Feature: f.Index, Code: MissingID, Polygon: -1, Ring: -1, Point: -1,
				Detail: "the feature has no parcel id; set properties.parcel_id"})
		} else if first, dup := seen[f.ParcelID]; dup {
			rep.Problems = append(rep.Problems, Problem{Feature: f.Index, ParcelID: f.ParcelID, Code: DuplicateID, Polygon: -1, Ring: -1, Point: -1,
				Detail: fmt.Sprintf("parcel id is also used by feature %d; parcel ids must be unique", first)})
		} else {
			seen[f.ParcelID] = f.Index
		}
		probs := geometryProblems(f)
		if o.repair && len(probs) > 0 && allRepairable(probs) {
			g, err := repair(f.Geometry)
			if err != nil {
				return Report{}, fmt.Errorf("geo: repair feature %d (parcel %q): %w", f.Index, f.ParcelID, err)
			}
			if g != nil {
				fixed := f
				fixed.Geometry = g
				if len(geometryProblems(fixed)) == 0 {
					rep.Features[i] = fixed
					for k := range probs {
						probs[k].Repaired = true
					}
				}
			}
		}
		rep.Problems = append(rep.Problems, probs...)
	}
	return rep, nil
}

func allRepairable(probs []Problem) bool {
	for _, p := range probs {
		if !repairable[p.Code] {
			return false
		}
	}
	return true
}

// geometryProblems checks one feature's geometry.
func geometryProblems(f Feature) []Problem {
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
			probs = append(probs, crossingProblems(f, pi, p)...)
		}
	}
	if len(probs) == 0 {
		probs = partsOverlapProblems(f, polys)
	}
	return probs
}

// partsOverlapProblems finds pairs of polygons of a multipolygon that
// overlap (index j > i, reported at j). Parts may touch at points. One
// sweep over every part's edges decides whether any two parts cross or
// share a stretch; only then are the pairs looked for one by one.
// Containment is decided by one vertex off the other part's boundary.
func partsOverlapProblems(f Feature, polys []orb.Polygon) []Problem {
	if len(polys) < 2 {
		return nil
	}
	crossed := map[[2]int]bool{}
	if e, g := firstForbiddenContact(partEdges(polys...), partsContact); e != nil {
		crossed[[2]int{min(e.part, g.part), max(e.part, g.part)}] = true
		budget := enumerationBudget
		for j := 1; j < len(polys) && budget > 0; j++ {
			for i := 0; i < j && budget > 0; i++ {
				if crossed[[2]int{i, j}] || !polys[i].Bound().Intersects(polys[j].Bound()) {
					continue
				}
				pair := partEdges(polys[i], polys[j])
				budget -= len(pair)
				if e, _ := firstForbiddenContact(pair, partsContact); e != nil {
					crossed[[2]int{i, j}] = true
				}
			}
		}
	}
	bounds := make([]orb.Bound, len(polys))
	for i, p := range polys {
		bounds[i] = p.Bound()
	}
	var probs []Problem
	for j := 1; j < len(polys); j++ {
		for i := 0; i < j; i++ {
			if crossed[[2]int{i, j}] || bounds[i].Intersects(bounds[j]) &&
				(insidePart(polys[i], polys[j], bounds[j]) || insidePart(polys[j], polys[i], bounds[i])) {
				probs = append(probs, Problem{Feature: f.Index, ParcelID: f.ParcelID, Code: PartsOverlap,
					Polygon: j, Ring: -1, Point: -1,
					Detail: fmt.Sprintf("polygons %d and %d of the multipolygon overlap; merge them into one polygon or remove one", i, j)})
			}
		}
	}
	return probs
}

// partEdges returns the edges of polys, each with part set to its polygon's
// index in polys.
func partEdges(polys ...orb.Polygon) []edge {
	var all []edge
	for i, p := range polys {
		es, _, _, _ := geometryEdges(p)
		for _, e := range es {
			e.part = i
			all = append(all, e)
		}
	}
	return all
}

// enumerationBudget bounds the edges (or edge pairs) looked at to list the
// problems of a geometry already known to be invalid: past it, the
// problems found so far are reported.
const enumerationBudget = 4 << 20

// partsContact is the rule between polygons of a multipolygon: they may
// touch, not cross or share a stretch.
func partsContact(e, f *edge, c crossing) bool {
	return e.part != f.part && (c == crossProper || c == crossOverlap)
}

// maxBoundaryTries bounds how many vertices on another ring's boundary are
// skipped looking for one that tells inside from outside.
const maxBoundaryTries = 64

// insidePart reports whether a vertex of polygon a, the first one off b's
// boundary, lies inside b (whose bound is bb). With no crossing between
// them, one such vertex tells where the whole of a lies.
func insidePart(a, b orb.Polygon, bb orb.Bound) bool {
	for k, pt := range a[0] {
		if k == maxBoundaryTries {
			break
		}
		if !bb.Contains(pt) {
			return false
		}
		if loc := polygonLocation(b, pt); loc != 0 {
			return loc > 0
		}
	}
	return false
}

// zeroArea reports whether r encloses no area: all its positions coincide
// or lie on one line (within 1e-9 of the ring's extent, for rounding).
func zeroArea(r orb.Ring) bool {
	if len(r) == 0 {
		return true
	}
	// The position farthest from the first defines the line.
	a, b, far := r[0], r[0], 0.0
	for _, p := range r {
		if d := (p[0]-a[0])*(p[0]-a[0]) + (p[1]-a[1])*(p[1]-a[1]); d > far {
			b, far = p, d
		}
	}
	if far == 0 {
		return true
	}
	for _, p := range r {
		// |orient| is |ab| times the distance of p from line ab.
		if o := orient(a, b, p); o*o > 1e-18*far*far {
			return false
		}
	}
	return true
}

// crossingProblems finds self-intersections, crossing rings and holes
// outside the shell in polygon p (index pi of feature f).
func crossingProblems(f Feature, pi int, p orb.Polygon) []Problem {
	var probs []Problem
	n := 0
	for _, r := range p {
		n += len(r)
	}
	edges := make([]edge, 0, n)
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
	rule := ringsContact(ringLen)
	// One O(n log n) sweep decides whether anything is wrong; only then
	// are the problems listed pair by pair, within a budget.
	first, second := firstForbiddenContact(edges, rule)
	budget := enumerationBudget
	report := func(e, g *edge) bool {
		budget--
		c := segmentCrossing(e.a, e.b, g.a, g.b)
		if c == crossNone || !rule(e, g, c) {
			return budget > 0
		}
		if e.ring == g.ring {
			key := pair{e.ring, e.ring}
			if reported[key] {
				return budget > 0
			}
			reported[key] = true
			i, j := min(e.idx, g.idx), max(e.idx, g.idx)
			at := meetPoint(e, g)
			probs = append(probs, Problem{Feature: f.Index, ParcelID: f.ParcelID, Code: SelfIntersection,
				Polygon: pi, Ring: e.ring, Point: i,
				Detail: fmt.Sprintf("the edge from position %d and the edge from position %d meet near (%.7f, %.7f); redraw the outline so that it does not cross itself, or import with repair", i, j, at[0], at[1])})
			return budget > 0
		}
		r1, r2 := min(e.ring, g.ring), max(e.ring, g.ring)
		if reported[pair{r1, r2}] {
			return budget > 0
		}
		reported[pair{r1, r2}] = true
		at := meetPoint(e, g)
		probs = append(probs, Problem{Feature: f.Index, ParcelID: f.ParcelID, Code: RingsCross,
			Polygon: pi, Ring: r2, Point: -1,
			Detail: fmt.Sprintf("ring %d and ring %d cross near (%.7f, %.7f); a hole must lie inside the exterior ring and holes must not overlap", r1, r2, at[0], at[1])})
		return budget > 0
	}
	if first != nil {
		e, g := *first, *second // sweepPairs reorders edges
		sweepPairs(edges, report)
		if len(probs) == 0 {
			report(&e, &g) // the budget ran out before the sweep's pair
		}
	}
	// Each hole must lie inside the shell and outside every other hole. No
	// crossings were found between the rings checked here, so one vertex
	// off the other ring's boundary tells where the whole ring lies.
	bounds := make([]orb.Bound, len(p))
	for ri, r := range p {
		bounds[ri] = r.Bound()
	}
	side := func(of, in int) int {
		for k, pt := range p[of] {
			if k == maxBoundaryTries {
				break
			}
			if !bounds[in].Contains(pt) {
				return -1
			}
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
			if rj == ri || reported[pair{min(ri, rj), max(ri, rj)}] || !bounds[rj].Intersects(bounds[ri]) {
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

// ringsContact is the rule between edges of one polygon, numbered within
// their ring in edge.part (ringLen[r] edges in ring r): within a ring any
// contact is wrong but that of consecutive edges at their shared vertex
// (unless they fold back over each other, a spike); between rings a
// crossing or a shared stretch (rings may touch at points).
func ringsContact(ringLen []int) contactRule {
	return func(e, g *edge, c crossing) bool {
		if e.ring != g.ring {
			return c == crossProper || c == crossOverlap
		}
		n := ringLen[e.ring]
		d := e.part - g.part
		if d < 0 {
			d = -d
		}
		return c == crossOverlap || d != 1 && d != n-1
	}
}

// meetPoint is a point where two intersecting edges meet (for messages).
func meetPoint(e, g *edge) orb.Point {
	d := (e.b[0]-e.a[0])*(g.b[1]-g.a[1]) - (e.b[1]-e.a[1])*(g.b[0]-g.a[0])
	if d == 0 {
		for _, p := range []orb.Point{g.a, g.b, e.a} {
			if orient(e.a, e.b, p) == 0 && within(e.a, e.b, p) {
				return p
			}
		}
		return e.a
	}
	t := ((g.a[0]-e.a[0])*(g.b[1]-g.a[1]) - (g.a[1]-e.a[1])*(g.b[0]-g.a[0])) / d
	return orb.Point{e.a[0] + t*(e.b[0]-e.a[0]), e.a[1] + t*(e.b[1]-e.a[1])}
}

// repair closes rings, drops rings that cannot hold area, and runs GDAL
// MakeValid. It returns nil when nothing with area remains.
func repair(g orb.Geometry) (orb.Geometry, error) {
	polys, err := polygons(g)
	if err != nil {
		return nil, nil
	}
	var clean orb.MultiPolygon
	for _, p := range polys {
		var np orb.Polygon
		for ri, r := range p {
			nr := append(orb.Ring(nil), r...)
			if len(nr) > 0 && nr[0] != nr[len(nr)-1] {
				nr = append(nr, nr[0])
			}
			if len(nr) < 4 || zeroArea(nr) {
				if ri == 0 {
					break // no shell: the whole polygon goes
				}
				continue
			}
			np = append(np, nr)
		}
		if len(np) > 0 {
			clean = append(clean, np)
		}
	}
	if len(clean) == 0 {
		return nil, nil
	}
	// MakeValid each polygon on its own (GEOS's linework method would
	// drop the area where two parts overlap), then union the parts.
	var mp orb.MultiPolygon
	var collect func(g orb.Geometry)
	collect = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Polygon:
			mp = append(mp, g)
		case orb.MultiPolygon:
			mp = append(mp, g...)
		case orb.Collection:
			for _, s := range g {
				collect(s)
			}
		}
	}
	for _, p := range clean {
		out, err := raster.MakeValid(p)
		if err != nil {
			return nil, err
		}
		collect(out)
	}
	if len(mp) > 1 {
		var acc orb.Geometry = mp[0]
		for _, p := range mp[1:] {
			u, err := raster.Union(acc, p)
			if err != nil {
				return nil, err
			}
			acc = u
		}
		mp = mp[:0]
		collect(acc)
	}
	switch len(mp) {
	case 0:
		return nil, nil
	case 1:
		return mp[0], nil
	}
	return mp, nil
}
