package geo

import (
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/paulmach/orb"
)

func TestIntersects(t *testing.T) {
	square := orb.Polygon{sq(0, 0, 10)}
	donut := orb.Polygon{sq(0, 0, 10), sq(3, 3, 4)}
	tests := []struct {
		name string
		a, b orb.Geometry
		want bool
	}{
		{"disjoint bounds", square, orb.Polygon{sq(20, 20, 1)}, false},
		{"overlapping", square, orb.Polygon{sq(5, 5, 10)}, true},
		{"contained", square, orb.Polygon{sq(2, 2, 1)}, true},
		{"containing", orb.Polygon{sq(2, 2, 1)}, square, true},
		{"touching edge", square, orb.Polygon{sq(10, 0, 5)}, true},
		{"touching corner", square, orb.Polygon{sq(10, 10, 5)}, true},
		{"inside the hole", donut, orb.Polygon{sq(4, 4, 1)}, false},
		{"across the hole edge", donut, orb.Polygon{sq(6, 6, 2)}, true},
		{"bounds overlap but shapes do not", orb.Polygon{{{0, 0}, {10, 0}, {0, 10}, {0, 0}}}, orb.Polygon{sq(8, 8, 2)}, false},
		{"crossing without vertices inside", orb.Polygon{{{0, 4}, {10, 4}, {10, 6}, {0, 6}, {0, 4}}}, orb.Polygon{{{4, 0}, {6, 0}, {6, 10}, {4, 10}, {4, 0}}}, true},
		{"point inside", square, orb.Point{5, 5}, true},
		{"point in hole", donut, orb.Point{5, 5}, false},
		{"point on boundary", square, orb.Point{10, 5}, true},
		{"line crossing", square, orb.LineString{{-5, 5}, {15, 5}}, true},
		{"line outside", square, orb.LineString{{-5, -5}, {-1, 20}}, false},
		{"bound footprint", orb.MultiPolygon{{sq(20, 20, 1)}, {sq(0, 0, 1)}}, orb.Bound{Min: orb.Point{0.5, 0.5}, Max: orb.Point{3, 3}}, true},
		{"nil", square, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Intersects(tc.a, tc.b); got != tc.want {
				t.Errorf("Intersects = %v, want %v", got, tc.want)
			}
			if tc.b != nil {
				if got := Intersects(tc.b, tc.a); got != tc.want {
					t.Errorf("Intersects (swapped) = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestIndexSearchMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 15, 16, 17, 300, 5000} {
		geoms := make([]orb.Geometry, n)
		for i := range geoms {
			x, y := rng.Float64()*1, rng.Float64()*1
			geoms[i] = orb.Polygon{sq(116+x, 39+y, rng.Float64()*0.01)}
		}
		if n > 3 {
			geoms[3] = nil // absent geometries are never found
		}
		ix := NewIndex(geoms)
		for q := 0; q < 50; q++ {
			x, y, d := 116+rng.Float64(), 39+rng.Float64(), rng.Float64()*0.2
			b := orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + d, y + d}}
			var want []int
			for i, g := range geoms {
				if g != nil && g.Bound().Intersects(b) {
					want = append(want, i)
				}
			}
			if diff := cmp.Diff(want, ix.Search(b), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("n=%d query %v: Search mismatch (-want +got):\n%s", n, b, diff)
			}
			tri := orb.Polygon{{{x, y}, {x + d, y}, {x, y + d}, {x, y}}}
			var wantI []int
			for i, g := range geoms {
				if g != nil && Intersects(g, tri) {
					wantI = append(wantI, i)
				}
			}
			if diff := cmp.Diff(wantI, ix.Intersecting(tri), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("n=%d: Intersecting mismatch (-want +got):\n%s", n, diff)
			}
		}
	}
}

func TestIndexIntersecting(t *testing.T) {
	fs := []Feature{
		{ParcelID: "a", Geometry: orb.Polygon{sq(0, 0, 1)}},
		{ParcelID: "b", Geometry: orb.Polygon{{{2, 0}, {3, 0}, {2, 1}, {2, 0}}}},
		{ParcelID: "c", Geometry: orb.MultiPolygon{{sq(5, 5, 1)}, {sq(0, 5, 1)}}},
	}
	ix := IndexFeatures(fs)
	tests := []struct {
		name      string
		footprint orb.Geometry
		search    []int
		want      []int
	}{
		{"covers a only", orb.Polygon{sq(0.5, 0.5, 0.2)}, []int{0}, []int{0}},
		{"bbox of b but not b", orb.Polygon{sq(2.8, 0.8, 0.1)}, []int{1}, nil},
		{"everything", orb.Bound{Min: orb.Point{-1, -1}, Max: orb.Point{7, 7}}, []int{0, 1, 2}, []int{0, 1, 2}},
		{"between the parts of c", orb.Polygon{sq(2, 5, 1)}, []int{2}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.search, ix.Search(tc.footprint.Bound()), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Search mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, ix.Intersecting(tc.footprint), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Intersecting mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkIndexSearch(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	geoms := make([]orb.Geometry, 100000)
	for i := range geoms {
		geoms[i] = orb.Polygon{sq(73+rng.Float64()*60, 18+rng.Float64()*35, 0.002)}
	}
	ix := NewIndex(geoms)
	q := orb.Bound{Min: orb.Point{116, 39}, Max: orb.Point{117, 40}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Search(q)
	}
}
