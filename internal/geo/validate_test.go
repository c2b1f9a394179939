package geo

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/paulmach/orb"
)

// sq returns the closed square ring [x, x+d] × [y, y+d], counter-clockwise.
func sq(x, y, d float64) orb.Ring {
	return orb.Ring{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}
}

// problemKey is what the tests compare: location and code, not wording.
type problemKey struct {
	Feature              int
	Code                 Code
	Polygon, Ring, Point int
	Repaired             bool
}

func keys(ps []Problem) []problemKey {
	out := make([]problemKey, len(ps))
	for i, p := range ps {
		out[i] = problemKey{p.Feature, p.Code, p.Polygon, p.Ring, p.Point, p.Repaired}
	}
	return out
}

func TestValidate(t *testing.T) {
	base := sq(116.39, 39.90, 0.01)
	tests := []struct {
		name     string
		features []Feature
		want     []problemKey
		detail   string // a phrase the first problem's detail must contain
	}{
		{
			name:     "valid polygon with hole and multipolygon",
			features: []Feature{{ParcelID: "a", Geometry: orb.Polygon{base, {{116.392, 39.902}, {116.392, 39.904}, {116.394, 39.904}, {116.392, 39.902}}}}, {Index: 1, ParcelID: "b", Geometry: orb.MultiPolygon{{sq(0, 0, 1)}, {sq(2, 2, 1)}}}},
		},
		{
			name:     "repeated vertex is valid",
			features: []Feature{{ParcelID: "a", Geometry: orb.Polygon{{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}},
		},
		{
			name:     "missing id",
			features: []Feature{{Index: 3, Geometry: orb.Polygon{base}}},
			want:     []problemKey{{3, MissingID, -1, -1, -1, false}},
			detail:   "parcel_id",
		},
		{
			name:     "duplicate id",
			features: []Feature{{Index: 0, ParcelID: "x", Geometry: orb.Polygon{base}}, {Index: 1, ParcelID: "x", Geometry: orb.Polygon{sq(0, 0, 1)}}},
			want:     []problemKey{{1, DuplicateID, -1, -1, -1, false}},
			detail:   "also used by feature 0",
		},
		{
			name:     "nil geometry",
			features: []Feature{{ParcelID: "e"}},
			want:     []problemKey{{0, EmptyGeometry, -1, -1, -1, false}},
			detail:   "no polygon",
		},
		{
			name:     "empty polygon",
			features: []Feature{{ParcelID: "e", Geometry: orb.Polygon{}}},
			want:     []problemKey{{0, EmptyGeometry, -1, -1, -1, false}},
		},
		{
			name:     "empty part of a multipolygon",
			features: []Feature{{ParcelID: "e", Geometry: orb.MultiPolygon{{base}, {}}}},
			want:     []problemKey{{0, EmptyGeometry, 1, -1, -1, false}},
		},
		{
			name:     "wrong geometry type",
			features: []Feature{{ParcelID: "e", Geometry: orb.LineString{{0, 0}, {1, 1}}}},
			want:     []problemKey{{0, EmptyGeometry, -1, -1, -1, false}},
			detail:   "LineString",
		},
		{
			name:     "NaN coordinate",
			features: []Feature{{ParcelID: "n", Geometry: orb.Polygon{{{0, 0}, {1, 0}, {math.NaN(), 1}, {0, 0}}}}},
			want:     []problemKey{{0, NonFinite, 0, 0, 2, false}},
			detail:   "not a finite number",
		},
		{
			name:     "infinite coordinate",
			features: []Feature{{ParcelID: "n", Geometry: orb.Polygon{{{0, 0}, {math.Inf(1), 0}, {1, 1}, {0, 0}}}}},
			want:     []problemKey{{0, NonFinite, 0, 0, 1, false}},
		},
		{
			name:     "longitude out of range",
			features: []Feature{{ParcelID: "o", Geometry: orb.Polygon{{{179, 0}, {181, 0}, {180, 1}, {179, 0}}}}},
			want:     []problemKey{{0, OutOfRange, 0, 0, 1, false}},
			detail:   "outside longitude ±180",
		},
		{
			name:     "projected coordinates without crs",
			features: []Feature{{ParcelID: "o", Geometry: orb.Polygon{sq(448000, 4418000, 100)}}},
			want: []problemKey{{0, OutOfRange, 0, 0, 0, false}, {0, OutOfRange, 0, 0, 1, false}, {0, OutOfRange, 0, 0, 2, false},
				{0, OutOfRange, 0, 0, 3, false}, {0, OutOfRange, 0, 0, 4, false}},
			detail: "projected CRS",
		},
		{
			name:     "latitude out of range",
			features: []Feature{{ParcelID: "o", Geometry: orb.MultiPolygon{{base}, {{{0, 89}, {1, 91}, {1, 89}, {0, 89}}}}}},
			want:     []problemKey{{0, OutOfRange, 1, 0, 1, false}},
		},
		{
			name:     "unclosed ring",
			features: []Feature{{ParcelID: "u", Geometry: orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}}},
			want:     []problemKey{{0, UnclosedRing, 0, 0, 3, false}},
			detail:   "repeat the first position",
		},
		{
			name:     "ring with three positions",
			features: []Feature{{ParcelID: "s", Geometry: orb.Polygon{{{0, 0}, {1, 0}, {0, 0}}}}},
			want:     []problemKey{{0, ShortRing, 0, 0, -1, false}},
			detail:   "at least 4",
		},
		{
			name:     "short hole",
			features: []Feature{{ParcelID: "s", Geometry: orb.Polygon{sq(0, 0, 1), {{0.2, 0.2}, {0.3, 0.3}}}}},
			want:     []problemKey{{0, UnclosedRing, 0, 1, 1, false}, {0, ShortRing, 0, 1, -1, false}},
		},
		{
			name:     "bow tie",
			features: []Feature{{ParcelID: "b", Geometry: orb.Polygon{{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}}}},
			want:     []problemKey{{0, SelfIntersection, 0, 0, 0, false}},
			detail:   "meet near (1.0000000, 1.0000000)",
		},
		{
			name:     "ring touching itself at a vertex",
			features: []Feature{{ParcelID: "t", Geometry: orb.Polygon{{{0, 0}, {2, 0}, {1, 1}, {2, 2}, {0, 2}, {1, 1}, {0, 0}}}}},
			want:     []problemKey{{0, SelfIntersection, 0, 0, 1, false}},
		},
		{
			name:     "spike folding back",
			features: []Feature{{ParcelID: "k", Geometry: orb.Polygon{{{0, 0}, {2, 0}, {3, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}}}},
			want:     []problemKey{{0, SelfIntersection, 0, 0, 0, false}},
		},
		{
			name:     "hole crossing the shell",
			features: []Feature{{ParcelID: "h", Geometry: orb.Polygon{sq(0, 0, 1), sq(0.5, 0.5, 1)}}},
			want:     []problemKey{{0, RingsCross, 0, 1, -1, false}},
			detail:   "ring 0 and ring 1 cross",
		},
		{
			name:     "hole touching the shell at a point is valid",
			features: []Feature{{ParcelID: "h", Geometry: orb.Polygon{sq(0, 0, 1), {{0, 0}, {0.5, 0.2}, {0.2, 0.5}, {0, 0}}}}},
		},
		{
			name:     "hole outside the shell",
			features: []Feature{{ParcelID: "h", Geometry: orb.Polygon{sq(0, 0, 1), sq(2, 2, 1)}}},
			want:     []problemKey{{0, HoleOutside, 0, 1, -1, false}},
			detail:   "outside the exterior ring",
		},
		{
			name:     "hole inside a hole",
			features: []Feature{{ParcelID: "h", Geometry: orb.Polygon{sq(0, 0, 10), sq(2, 2, 6), sq(4, 4, 1)}}},
			want:     []problemKey{{0, NestedHole, 0, 2, -1, false}},
			detail:   "inside hole 1",
		},
		{
			name:     "two separate holes are valid",
			features: []Feature{{ParcelID: "h", Geometry: orb.Polygon{sq(0, 0, 10), sq(1, 1, 2), sq(5, 5, 2)}}},
		},
		{
			name:     "overlapping parts of a multipolygon",
			features: []Feature{{ParcelID: "m", Geometry: orb.MultiPolygon{{sq(0, 0, 2)}, {sq(1, 1, 2)}}}},
			want:     []problemKey{{0, PartsOverlap, 1, -1, -1, false}},
			detail:   "polygons 0 and 1 of the multipolygon overlap",
		},
		{
			name:     "parts sharing an edge",
			features: []Feature{{ParcelID: "m", Geometry: orb.MultiPolygon{{sq(0, 0, 1)}, {sq(1, 0, 1)}}}},
			want:     []problemKey{{0, PartsOverlap, 1, -1, -1, false}},
		},
		{
			name:     "part inside another part",
			features: []Feature{{ParcelID: "m", Geometry: orb.MultiPolygon{{sq(0, 0, 10)}, {sq(3, 3, 1)}}}},
			want:     []problemKey{{0, PartsOverlap, 1, -1, -1, false}},
		},
		{
			name:     "parts touching at a corner are valid",
			features: []Feature{{ParcelID: "m", Geometry: orb.MultiPolygon{{sq(0, 0, 1)}, {sq(1, 1, 1)}}}},
		},
		{
			name:     "part inside another part's hole is valid",
			features: []Feature{{ParcelID: "m", Geometry: orb.MultiPolygon{{sq(0, 0, 10), sq(2, 2, 4)}, {sq(3, 3, 1)}}}},
		},
		{
			name:     "zero area",
			features: []Feature{{ParcelID: "z", Geometry: orb.Polygon{{{0, 0}, {1, 1}, {2, 2}, {0, 0}}}}},
			want:     []problemKey{{0, ZeroArea, 0, 0, -1, false}},
			detail:   "no area",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Validate(tc.features)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, keys(rep.Problems), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s\n%v", diff, rep.Problems)
			}
			if tc.detail != "" && len(rep.Problems) > 0 && !strings.Contains(rep.Problems[0].Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", rep.Problems[0].Detail, tc.detail)
			}
			if err := rep.Err(); (err != nil) != (len(tc.want) > 0) {
				t.Errorf("Err() = %v with %d problems", err, len(tc.want))
			}
			// fmt, not cmp: orb's Equal methods treat NaN as unequal to itself.
			if want, got := fmt.Sprint(tc.features), fmt.Sprint(rep.Features); want != got {
				t.Errorf("Validate without repair changed features:\nwant %s\ngot  %s", want, got)
			}
		})
	}
}

func TestValidationError(t *testing.T) {
	rep, err := Validate([]Feature{{Index: 4, ParcelID: "P-4", Geometry: orb.Polygon{{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}}}})
	if err != nil {
		t.Fatal(err)
	}
	verr := rep.Err()
	if !errors.Is(verr, ErrInvalid) {
		t.Errorf("%v does not wrap ErrInvalid", verr)
	}
	var ve *ValidationError
	if !errors.As(verr, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("want a *ValidationError with 1 problem, got %v", verr)
	}
	want := `feature 4 (parcel "P-4"): polygon 0 ring 0 point 0: self_intersection:`
	if !strings.Contains(verr.Error(), want) || !strings.HasPrefix(verr.Error(), "geo: ") {
		t.Errorf("error %q, want it to contain %q", verr, want)
	}
}

func TestValidateRepair(t *testing.T) {
	tests := []struct {
		name     string
		geom     orb.Geometry
		want     []problemKey
		wantArea float64 // m², of the repaired geometry; 0 = not repaired
	}{
		{
			name: "bow tie becomes two triangles",
			geom: orb.Polygon{{{0, 0}, {0.002, 0.002}, {0.002, 0}, {0, 0.002}, {0, 0}}},
			want: []problemKey{{0, SelfIntersection, 0, 0, 0, true}},
			// two triangles of a quarter of the 0.002° square each
			wantArea: Area(orb.Polygon{sq(0, 0, 0.002)}) / 2,
		},
		{
			name:     "unclosed ring is closed",
			geom:     orb.Polygon{{{0, 0}, {0.001, 0}, {0.001, 0.001}, {0, 0.001}}},
			want:     []problemKey{{0, UnclosedRing, 0, 0, 3, true}},
			wantArea: Area(orb.Polygon{sq(0, 0, 0.001)}),
		},
		{
			name:     "degenerate hole dropped",
			geom:     orb.Polygon{sq(0, 0, 0.001), {{0.0002, 0.0002}, {0.0003, 0.0003}, {0.0002, 0.0002}}},
			want:     []problemKey{{0, ShortRing, 0, 1, -1, true}},
			wantArea: Area(orb.Polygon{sq(0, 0, 0.001)}),
		},
		{
			// GEOS MakeValid keeps every area the rings enclose: the shell
			// minus the overlap, and the part of the "hole" outside it.
			name:     "hole crossing the shell",
			geom:     orb.Polygon{sq(0, 0, 0.001), sq(0.0005, 0.0005, 0.001)},
			want:     []problemKey{{0, RingsCross, 0, 1, -1, true}},
			wantArea: Area(orb.Polygon{sq(0, 0, 0.001)})*3/4 + Area(orb.Polygon{sq(0.0005, 0.0005, 0.001)})*3/4,
		},
		{
			name:     "hole inside a hole becomes an island",
			geom:     orb.Polygon{sq(0, 0, 0.01), sq(0.002, 0.002, 0.006), sq(0.004, 0.004, 0.001)},
			want:     []problemKey{{0, NestedHole, 0, 2, -1, true}},
			wantArea: Area(orb.Polygon{sq(0, 0, 0.01), sq(0.002, 0.002, 0.006)}) + Area(orb.Polygon{sq(0.004, 0.004, 0.001)}),
		},
		{
			name:     "overlapping parts are merged",
			geom:     orb.MultiPolygon{{sq(0, 0, 0.002)}, {sq(0.001, 0.001, 0.002)}},
			want:     []problemKey{{0, PartsOverlap, 1, -1, -1, true}},
			wantArea: 2*Area(orb.Polygon{sq(0, 0, 0.002)}) - Area(orb.Polygon{sq(0.001, 0.001, 0.001)}),
		},
		{
			name: "zero area polygon cannot be repaired",
			geom: orb.Polygon{{{0, 0}, {1, 1}, {2, 2}, {0, 0}}},
			want: []problemKey{{0, ZeroArea, 0, 0, -1, false}},
		},
		{
			name: "out of range is never repaired",
			geom: orb.Polygon{{{179, 0}, {181, 0}, {180, 1}, {179, 1}}},
			want: []problemKey{{0, OutOfRange, 0, 0, 1, false}, {0, UnclosedRing, 0, 0, 3, false}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []Feature{{ParcelID: "r", Geometry: tc.geom}}
			rep, err := Validate(in, WithRepair())
			if err != nil {
				t.Fatal(err)
			}
			got := keys(rep.Problems)
			// Out of range stops further ring checks; compare only codes present.
			if tc.name == "out of range is never repaired" {
				got = got[:1]
				tc.want = tc.want[:1]
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s\n%v", diff, rep.Problems)
			}
			repaired := tc.wantArea > 0
			if gotRep := len(rep.Repaired()) == 1; gotRep != repaired {
				t.Fatalf("Repaired() = %v, want repaired %v", rep.Repaired(), repaired)
			}
			if !repaired {
				if diff := cmp.Diff(in, rep.Features); diff != "" {
					t.Errorf("unrepaired feature changed:\n%s", diff)
				}
				if rep.Err() == nil {
					t.Error("Err() = nil for an unrepaired problem")
				}
				return
			}
			if err := rep.Err(); err != nil {
				t.Errorf("Err() = %v after repair", err)
			}
			g := rep.Features[0].Geometry
			if again, _ := Validate(rep.Features); len(again.Problems) != 0 {
				t.Errorf("repaired geometry still has problems: %v", again.Problems)
			}
			if a := Area(g); math.Abs(a-tc.wantArea) > 1e-6*tc.wantArea+0.01 {
				t.Errorf("repaired area %.3f m², want %.3f", a, tc.wantArea)
			}
			if !strings.HasSuffix(rep.Problems[0].String(), "(repaired)") {
				t.Errorf("String() = %q, want it to say repaired", rep.Problems[0])
			}
		})
	}
}

// TestValidationErrorGroupsByKind: many problems of one kind are one line, counted, with the
// first located exactly; each other kind has its own line.
func TestValidationErrorGroupsByKind(t *testing.T) {
	var ps []Problem
	for i := range 1000 {
		ps = append(ps, Problem{Feature: i / 100, Code: OutOfRange, Polygon: 0, Ring: 0, Point: i % 100, Detail: "outside"})
	}
	ps = append(ps, Problem{Feature: 3, ParcelID: "p3", Code: DuplicateID, Polygon: -1, Ring: -1, Point: -1, Detail: "again"})
	msg := (&ValidationError{Problems: ps}).Error()
	lines := strings.Split(msg, "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want a header and one per kind:\n%s", len(lines), msg)
	}
	for i, want := range []string{"geo: 1001 parcel problem(s)", "feature 0: polygon 0 ring 0 point 0: out_of_range: outside [and 999 more out_of_range in 10 feature(s)]", `feature 3 (parcel "p3"): duplicate_id: again`} {
		if strings.TrimSpace(lines[i]) != want {
			t.Errorf("line %d = %q, want %q", i, lines[i], want)
		}
	}
}

// TestJSONErrorPosition: syntax errors name line and column; a cut-off file says truncated.
func TestJSONErrorPosition(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"{\n  \"type\": \"FeatureCollection\",\n  \"features\": [", "the file ends at line 3 column 16 inside an unfinished value: it is truncated"},
		{"{\n  \"type\": \"FeatureCollection\"\n  \"features\": []}", "line 3 column 3: invalid character"},
		{"{\"type\": 7}", "line 1 column 11: json: cannot unmarshal number"},
	} {
		_, err := ReadGeoJSON(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}
