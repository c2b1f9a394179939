package geo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
)

func TestParseWKT(t *testing.T) {
	sq := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}
	hole := orb.Ring{{0.2, 0.2}, {0.2, 0.4}, {0.4, 0.4}, {0.2, 0.2}}
	tests := []struct {
		name string
		in   string
		want orb.Geometry
	}{
		{"polygon", "POLYGON((0 0,1 0,1 1,0 1,0 0))", orb.Polygon{sq}},
		{"lower case and spaces", "  polygon ( ( 0 0 , 1 0 , 1 1 , 0 1 , 0 0 ) ) ", orb.Polygon{sq}},
		{"hole", "POLYGON((0 0,1 0,1 1,0 1,0 0),(0.2 0.2,0.2 0.4,0.4 0.4,0.2 0.2))", orb.Polygon{sq, hole}},
		{"multipolygon", "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((0.2 0.2,0.2 0.4,0.4 0.4,0.2 0.2)))", orb.MultiPolygon{{sq}, {hole}}},
		{"z dropped", "POLYGON Z((0 0 5,1 0 5,1 1 5,0 1 5,0 0 5))", orb.Polygon{sq}},
		{"zm dropped", "POLYGON ZM((0 0 5 1,1 0 5 1,1 1 5 1,0 1 5 1,0 0 5 1))", orb.Polygon{sq}},
		{"implicit z", "POLYGON((0 0 5,1 0 5,1 1 5,0 1 5,0 0 5))", orb.Polygon{sq}},
		{"ewkt srid", "SRID=4490;POLYGON((0 0,1 0,1 1,0 1,0 0))", orb.Polygon{sq}},
		{"exponent", "POLYGON((0e0 0,1E0 0,1 1,0 1,0 0))", orb.Polygon{sq}},
		{"empty polygon", "POLYGON EMPTY", orb.Polygon{}},
		{"empty multipolygon", "MULTIPOLYGON EMPTY", orb.MultiPolygon{}},
		{"unclosed kept as is", "POLYGON((0 0,1 0,1 1))", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWKT(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseWKT(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestParseWKTErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "want POLYGON or MULTIPOLYGON"},
		{"point", "POINT(1 2)", "geometry type POINT"},
		{"missing paren", "POLYGON(0 0,1 0,1 1,0 0)", `found '0', want '('`},
		{"one number", "POLYGON((0,1 0,1 1,0 0))", "at least 2 numbers"},
		{"five numbers", "POLYGON((0 0 0 0 0,1 0,1 1,0 0))", "more than 4"},
		{"mixed dims", "POLYGON((0 0,1 0 1,1 1,0 0))", "has 3 ordinates, want 2"},
		{"trailing", "POLYGON((0 0,1 0,1 1,0 0)) x", "after the geometry"},
		{"unterminated", "POLYGON((0 0,1 0,1 1,0 0)", "unexpected end"},
		{"bad number", "POLYGON((0 0,1-2 0,1 1,0 0))", "bad number"},
		{"huge number", "POLYGON((0 0,1e999 0,1 1,0 0))", "bad number"},
		{"other srid", "SRID=3857;POLYGON((0 0,1 0,1 1,0 0))", "SRID \"3857\""},
		{"srid without semicolon", "SRID=4326 POLYGON((0 0,1 0,1 1,0 0))", `without ";"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWKT(tc.in)
			if err == nil {
				t.Fatalf("ParseWKT(%q) succeeded", tc.in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "geo: ") {
				t.Errorf("error %q, want it to start with geo: and contain %q", err, tc.want)
			}
		})
	}
}

// FuzzParseWKT checks that ParseWKT never panics and that what it accepts
// is a Polygon or MultiPolygon. Seeds: testdata/fuzz/wkt/*.wkt.
func FuzzParseWKT(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "wkt", "*.wkt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseWKT(s)
		if err != nil {
			if g != nil {
				t.Errorf("ParseWKT returned a geometry and an error")
			}
			return
		}
		switch g.(type) {
		case orb.Polygon, orb.MultiPolygon:
		default:
			t.Fatalf("ParseWKT(%q) returned %T", s, g)
		}
		// Validation must cope with anything the parser accepts.
		if _, err := Validate([]Feature{{ParcelID: "f", Geometry: g}}); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzValidateRepair feeds whatever ParseWKT accepts to Validate with
// repair, which hands geometries to GDAL/GEOS: it must not crash, and a
// feature reported repaired must validate cleanly. Seeds: the WKT corpus.
func FuzzValidateRepair(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "wkt", "*.wkt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseWKT(s)
		if err != nil {
			return
		}
		rep, err := Validate([]Feature{{ParcelID: "f", Geometry: g}}, WithRepair())
		if err != nil {
			return // GDAL refused the geometry: reported, not a crash
		}
		if len(rep.Repaired()) == 1 {
			again, err := Validate(rep.Features)
			if err != nil || len(again.Problems) != 0 {
				t.Fatalf("repaired %q into %v, which has problems %v", s, rep.Features[0].Geometry, again.Problems)
			}
		}
	})
}
