package geo

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"

	"github.com/offsite/offsite/internal/testenv"
)

// randomRing returns a closed ring of n positions: on a small integer
// lattice (so that vertices coincide, edges overlap and touch) or, with
// lattice false, a jittered star around c of radius r.
func randomRing(rnd *rand.Rand, n int, lattice bool, c orb.Point, r float64) orb.Ring {
	ring := make(orb.Ring, 0, n+1)
	for i := 0; i < n; i++ {
		if lattice {
			ring = append(ring, orb.Point{c[0] + float64(rnd.IntN(7)), c[1] + float64(rnd.IntN(7))})
			continue
		}
		a := 2*math.Pi*float64(i)/float64(n) + rnd.Float64()*0.5/float64(n)
		d := r * (0.3 + 0.7*rnd.Float64())
		ring = append(ring, orb.Point{c[0] + d*math.Cos(a), c[1] + d*math.Sin(a)})
	}
	return append(ring, ring[0])
}

// randomGeometry returns a Polygon or MultiPolygon of up to three parts
// with up to two holes each, valid or not.
func randomGeometry(rnd *rand.Rand) orb.Geometry {
	lattice := rnd.IntN(2) == 0
	var mp orb.MultiPolygon
	for range 1 + rnd.IntN(3) {
		c := orb.Point{float64(rnd.IntN(4)), float64(rnd.IntN(4))}
		p := orb.Polygon{randomRing(rnd, 3+rnd.IntN(6), lattice, c, 3)}
		for range rnd.IntN(3) {
			hc := orb.Point{c[0] + rnd.Float64()*2 - 1, c[1] + rnd.Float64()*2 - 1}
			if lattice {
				hc = orb.Point{c[0] + float64(rnd.IntN(3)), c[1] + float64(rnd.IntN(3))}
			}
			p = append(p, randomRing(rnd, 3+rnd.IntN(4), lattice, hc, 1))
		}
		mp = append(mp, p)
	}
	if len(mp) == 1 {
		return mp[0]
	}
	return mp
}

// verdictKeys are what the cross-check compares: which problems at which
// polygon and ring. The position of a self-intersection is whichever
// crossing the enumeration meets first, so it is left out.
func verdictKeys(ps []Problem) []problemKey {
	out := keys(ps)
	for i := range out {
		if out[i].Code == SelfIntersection {
			out[i].Point = -1
		}
	}
	return out
}

// TestValidateMatchesQuadratic cross-checks the sweep-based validation
// against the quadratic algorithm it replaced (validate_old_test.go) on
// random polygons, half of them on a lattice where vertices coincide and
// edges overlap.
func TestValidateMatchesQuadratic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 4))
	counts := map[Code]int{}
	valid := 0
	for i := range 20000 {
		f := Feature{Index: i, ParcelID: "p", Geometry: randomGeometry(rnd)}
		want, got := verdictKeys(oldGeometryProblems(f)), verdictKeys(geometryProblems(f))
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("case %d %v: verdicts differ (-quadratic +sweep):\n%s", i, f.Geometry, diff)
		}
		if len(got) == 0 {
			valid++
		}
		for _, k := range got {
			counts[k.Code]++
		}
	}
	t.Logf("valid: %d; problems: %v", valid, counts)
	// The generator must reach the verdicts the sweep decides.
	for _, c := range []Code{SelfIntersection, RingsCross, HoleOutside, NestedHole, PartsOverlap, ZeroArea} {
		if counts[c] == 0 {
			t.Errorf("no random case gave %s; the cross-check does not cover it", c)
		}
	}
	if valid == 0 {
		t.Error("no random case was valid")
	}
}

// TestFirstForbiddenContactMatchesAllPairs checks the sweep's decision
// against every pair of edges, under the rules validation uses, on random
// lattice rings (coinciding vertices, overlaps, touches, crossings).
func TestFirstForbiddenContactMatchesAllPairs(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	found, tried := map[string]int{}, map[string]int{}
	for i := range 30000 {
		var edges []edge
		var ringLen []int
		for r := range 1 + rnd.IntN(3) {
			ring := randomRing(rnd, 3+rnd.IntN(5), true, orb.Point{float64(rnd.IntN(3)), float64(rnd.IntN(3))}, 0)
			n := 0
			for k := 0; k+1 < len(ring); k++ {
				if ring[k] != ring[k+1] {
					edges = append(edges, newEdge(ring[k], ring[k+1], n, r, k))
					n++
				}
			}
			ringLen = append(ringLen, n)
		}
		rules := map[string]contactRule{
			"rings of a polygon": ringsContact(ringLen),
			"parts":              func(e, g *edge, c crossing) bool { return e.ring != g.ring && (c == crossProper || c == crossOverlap) },
		}
		for name, rule := range rules {
			want, allowedCrossing := false, false
			for a := range edges {
				for b := a + 1; b < len(edges); b++ {
					c := segmentCrossing(edges[a].a, edges[a].b, edges[b].a, edges[b].b)
					switch {
					case c == crossNone:
					case rule(&edges[a], &edges[b], c):
						want = true
					case c != crossTouch:
						allowedCrossing = true
					}
				}
			}
			if allowedCrossing {
				continue // outside the sweep's contract: the rule may allow touches only
			}
			tried[name]++
			e, g := firstForbiddenContact(edges, rule)
			if got := e != nil; got != want {
				t.Fatalf("case %d, rule %s: sweep found a forbidden contact: %v, all pairs: %v; edges %v", i, name, got, want, edges)
			}
			if e != nil {
				if c := segmentCrossing(e.a, e.b, g.a, g.b); c == crossNone || !rule(e, g, c) {
					t.Fatalf("case %d, rule %s: sweep returned the allowed pair %v %v", i, name, *e, *g)
				}
				found[name]++
			}
		}
	}
	t.Logf("cases per rule: %v; forbidden contacts found: %v", tried, found)
	for name := range tried {
		if found[name] == 0 || found[name] == tried[name] {
			t.Errorf("rule %s: %d of %d cases forbidden; the test needs both outcomes", name, found[name], tried[name])
		}
	}
}

// comb returns a valid polygon of about n vertices: n/4 teeth, each as long
// as the comb is wide, so that every tooth's box overlaps every other's
// along x; turned by angle (radians) about its base, a diagonal comb's
// boxes overlap in both axes.
func comb(n int, angle float64) orb.Polygon {
	teeth := max(n/4, 1)
	const length, pitch = 0.01, 1e-7
	var r orb.Ring
	for i := range teeth {
		y := float64(i) * pitch
		r = append(r, orb.Point{0, y}, orb.Point{length, y}, orb.Point{length, y + pitch/2}, orb.Point{0, y + pitch/2})
	}
	top := float64(teeth) * pitch
	r = append(r, orb.Point{-pitch, top}, orb.Point{-pitch, 0}, r[0])
	sin, cos := math.Sincos(angle)
	for i, p := range r {
		r[i] = orb.Point{116 + p[0]*cos - p[1]*sin, 39 + p[0]*sin + p[1]*cos}
	}
	r[len(r)-1] = r[0]
	return orb.Polygon{r}
}

// holed returns a square with a grid of k×k square holes.
func holed(k int) orb.Polygon {
	p := orb.Polygon{sq(116, 39, 0.01)}
	step := 0.01 / float64(k+1)
	for i := range k {
		for j := range k {
			p = append(p, sq(116+step*(float64(i)+0.75), 39+step*(float64(j)+0.75), step/2))
		}
	}
	return p
}

func vertices(g orb.Geometry) int {
	n := 0
	for _, p := range mustPolygons(g) {
		for _, r := range p {
			n += len(r)
		}
	}
	return n
}

func mustPolygons(g orb.Geometry) []orb.Polygon {
	ps, err := polygons(g)
	if err != nil {
		panic(err)
	}
	return ps
}

// BenchmarkValidate measures validation of large valid geometries, by the
// sweep and (…/quadratic) by the algorithm it replaced. Run with
// -bench Validate -benchtime 1x; the quadratic 1M-vertex cases take minutes.
func BenchmarkValidate(b *testing.B) {
	shapes := []struct {
		name string
		g    orb.Geometry
	}{
		{"comb-150k", comb(150_000, 0)},
		{"diagonal-comb-150k", comb(150_000, math.Pi/4)},
		{"comb-1M", comb(1_000_000, 0)},
		{"diagonal-comb-1M", comb(1_000_000, math.Pi/4)},
		{"holes-1000", holed(31)},
	}
	for _, s := range shapes {
		f := Feature{ParcelID: "big", Geometry: s.g}
		for _, alg := range []struct {
			name string
			fn   func(Feature) []Problem
		}{{"sweep", geometryProblems}, {"quadratic", oldGeometryProblems}} {
			b.Run(s.name+"/"+alg.name, func(b *testing.B) {
				b.ReportMetric(float64(vertices(s.g)), "vertices")
				for b.Loop() {
					if probs := alg.fn(f); len(probs) > 0 {
						b.Fatalf("the benchmark shape is invalid: %v", probs[0])
					}
				}
			})
		}
	}
}

// TestValidateSweepDegenerate lists, for each reason the sweep decides, the shapes where a
// sweep goes wrong if any: horizontal and vertical edges, contacts at vertices and in the
// middle of edges, collinear stretches. Each verdict is also checked against the quadratic
// algorithm.
func TestValidateSweepDegenerate(t *testing.T) {
	shell := sq(0, 0, 4)
	tests := []struct {
		name string
		geom orb.Geometry
		want []problemKey
	}{
		{"horizontal and vertical edges only", orb.Polygon{{{0, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 2}, {0, 2}, {0, 0}}}, nil},
		{"vertex on its own horizontal edge", orb.Polygon{{{0, 0}, {4, 0}, {4, 2}, {2, 0}, {0, 2}, {0, 0}}}, []problemKey{{0, SelfIntersection, 0, 0, -1, false}}},
		{"vertex on its own vertical edge", orb.Polygon{{{0, 0}, {2, 0}, {2, 4}, {0, 4}, {0, 3}, {2, 2}, {0, 1}, {0, 0}}}, []problemKey{{0, SelfIntersection, 0, 0, -1, false}}},
		{"collinear edges overlapping", orb.Polygon{{{0, 0}, {3, 0}, {3, 1}, {2, 1}, {2, 0}, {1, 0}, {1, 2}, {0, 2}, {0, 0}}}, []problemKey{{0, SelfIntersection, 0, 0, -1, false}}},
		{"horizontal spike", orb.Polygon{{{0, 0}, {2, 0}, {2, 1}, {3, 1}, {2, 1}, {2, 2}, {0, 2}, {0, 0}}}, []problemKey{{0, SelfIntersection, 0, 0, -1, false}}},
		{"crossing exactly at a horizontal edge's middle", orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {1, 2}, {1, -1}, {0, -1}, {0, 0}}}, []problemKey{{0, SelfIntersection, 0, 0, -1, false}}},
		{"hole touching the shell's horizontal edge", orb.Polygon{shell, {{1, 0}, {2, 1}, {3, 1}, {1, 0}}}, nil},
		{"hole touching the shell at a corner", orb.Polygon{shell, {{0, 0}, {1, 2}, {2, 1}, {0, 0}}}, nil},
		{"hole sharing a stretch of the shell", orb.Polygon{shell, {{1, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 0}}}, []problemKey{{0, RingsCross, 0, 1, -1, false}}},
		{"hole equal to the shell", orb.Polygon{shell, shell}, []problemKey{{0, RingsCross, 0, 1, -1, false}}},
		{"hole crossing the shell at an edge's middle", orb.Polygon{shell, {{1, 1}, {5, 2}, {1, 3}, {1, 1}}}, []problemKey{{0, RingsCross, 0, 1, -1, false}}},
		{"holes touching each other at a vertex", orb.Polygon{shell, sq(1, 1, 1), sq(2, 2, 1)}, nil},
		{"holes crossing", orb.Polygon{shell, sq(1, 1, 1.5), sq(2, 2, 1)}, []problemKey{{0, RingsCross, 0, 2, -1, false}}},
		{"hole outside through the shell's vertex", orb.Polygon{shell, {{4, 4}, {5, 5}, {5, 4}, {4, 4}}}, []problemKey{{0, HoleOutside, 0, 1, -1, false}}},
		{"parts sharing a horizontal stretch", orb.MultiPolygon{{sq(0, 0, 2)}, {{{1, 2}, {3, 2}, {3, 3}, {1, 3}, {1, 2}}}}, []problemKey{{0, PartsOverlap, 1, -1, -1, false}}},
		{"parts touching at a vertex on an edge", orb.MultiPolygon{{sq(0, 0, 2)}, {{{1, 2}, {2, 3}, {0, 3}, {1, 2}}}}, nil},
		{"parts crossing", orb.MultiPolygon{{sq(0, 0, 2)}, {{{1, 1}, {3, 1}, {3, 3}, {1, 1}}}}, []problemKey{{0, PartsOverlap, 1, -1, -1, false}}},
		{"part inside a part through a shared vertex", orb.MultiPolygon{{sq(0, 0, 4)}, {{{0, 0}, {2, 1}, {1, 2}, {0, 0}}}}, []problemKey{{0, PartsOverlap, 1, -1, -1, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Feature{ParcelID: "d", Geometry: tc.geom}
			got, old := verdictKeys(geometryProblems(f)), verdictKeys(oldGeometryProblems(f))
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(old, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("differs from the quadratic algorithm (-quadratic +sweep):\n%s", diff)
			}
		})
	}
}

// TestValidateMatchesPostGIS compares validity with PostGIS's ST_IsValid on random geometries
// with real-valued coordinates (star-shaped shells and holes, several parts): valid and
// invalid verdicts must agree. (On a lattice the two differ by design: PostGIS refuses a
// hole touching the shell at two points, this package does not.)
func TestValidateMatchesPostGIS(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rnd := rand.New(rand.NewPCG(21, 3))
	var geoms []orb.Geometry
	var texts []string
	for len(geoms) < 4000 {
		g := randomGeometry(rnd)
		if p, ok := g.(orb.Polygon); ok && latticePoint(p[0][0]) {
			continue // lattice cases: see above
		}
		if mp, ok := g.(orb.MultiPolygon); ok && latticePoint(mp[0][0][0]) {
			continue
		}
		geoms = append(geoms, g)
		texts = append(texts, wkt.MarshalString(g))
	}
	rows, err := conn.Query(ctx, `SELECT ST_IsValid(ST_GeomFromText(w)), ST_IsValidReason(ST_GeomFromText(w)) FROM unnest($1::text[]) WITH ORDINALITY AS u(w, n) ORDER BY n`, texts)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	valid := 0
	for i := 0; rows.Next(); i++ {
		var ok bool
		var reason string
		if err := rows.Scan(&ok, &reason); err != nil {
			t.Fatal(err)
		}
		probs := geometryProblems(Feature{ParcelID: "p", Geometry: geoms[i]})
		if ok != (len(probs) == 0) {
			t.Errorf("case %d %s: PostGIS says %q, Validate %v", i, texts[i], reason, probs)
		}
		if ok {
			valid++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d valid", valid, len(geoms))
	if valid == 0 || valid == len(geoms) {
		t.Error("the random geometries need both verdicts")
	}
}

func latticePoint(p orb.Point) bool { return p[0] == math.Trunc(p[0]) && p[1] == math.Trunc(p[1]) }
