package geo

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Probes of what a hostile or careless parcel file can do to reading and validation.

// TestValidateHugeCombIsFast: a 150k-vertex comb took 45 s (its diagonal twin 295 s) with the
// quadratic edge-pair check; the sweep takes well under a second.
func TestValidateHugeCombIsFast(t *testing.T) {
	// Not a wall-clock limit, which a loaded machine (or the race detector) breaks: the time
	// for 4× the vertices, each the fastest of three runs. The plane sweep, O(n log n), takes
	// 4–5× as long (measured 4.6–6.7× at load 22); the quadratic check it replaced took 16×.
	fastest := func(n int, angle float64) time.Duration {
		best := time.Duration(math.MaxInt64)
		for range 3 {
			g := comb(n, angle)
			start := time.Now()
			rep, err := Validate([]Feature{{ParcelID: "comb", Geometry: g}})
			d := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems) != 0 {
				t.Fatalf("the comb is valid, got %v", rep.Problems[0])
			}
			best = min(best, d)
		}
		return best
	}
	for _, angle := range []float64{0, math.Pi / 4} {
		small, big := fastest(37_500, angle), fastest(150_000, angle)
		ratio := float64(big) / float64(small)
		t.Logf("angle %.2f: 37,500 vertices %s, 150,000 %s: %.1f×", angle, small, big, ratio)
		if ratio > 11 {
			t.Errorf("angle %.2f: 4× the vertices took %.1f× the time: validation is not O(n log n)", angle, ratio)
		}
	}
}

func TestCheckLimits(t *testing.T) {
	ring := func(n int) orb.Ring { return comb(n, 0)[0] }
	manyParts := make(orb.MultiPolygon, MaxParts+1)
	for i := range manyParts {
		manyParts[i] = orb.Polygon{sq(float64(i), 0, 0.5)}
	}
	tests := []struct {
		name     string
		features []Feature
		index    int    // of the FeatureError; -1 for the whole collection
		field    string // FeatureError.Field
		msg      string
	}{
		{"under every limit", []Feature{{ParcelID: "a", Geometry: orb.Polygon{ring(MaxVertices - 10)}}}, 0, "", ""},
		{"too many vertices", []Feature{{ParcelID: "a", Geometry: orb.Polygon{sq(0, 0, 1)}}, {Index: 1, ParcelID: "big", Geometry: orb.Polygon{ring(MaxVertices + 10)}}}, 1, "geometry", `feature 1 (parcel "big"): the geometry has 200`},
		{"too many parts", []Feature{{ParcelID: "m", Geometry: manyParts}}, 0, "geometry", "1001 polygons"},
		{"too many rings", []Feature{{ParcelID: "h", Geometry: holed(32)}}, 0, "geometry", "polygon 0 has 1025 rings"},
		{"too many vertices in all", []Feature{
			{Index: 0, ParcelID: "a", Geometry: orb.Polygon{ring(MaxVertices - 10)}}, {Index: 1, ParcelID: "b", Geometry: orb.Polygon{ring(MaxVertices - 10)}},
			{Index: 2, ParcelID: "c", Geometry: orb.Polygon{ring(MaxVertices - 10)}}, {Index: 3, ParcelID: "d", Geometry: orb.Polygon{ring(MaxVertices - 10)}},
			{Index: 4, ParcelID: "e", Geometry: orb.Polygon{ring(MaxVertices - 10)}}, {Index: 5, ParcelID: "f", Geometry: orb.Polygon{ring(MaxVertices - 10)}},
		}, -1, "features", "in one collection"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckLimits(tc.features)
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *FeatureError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("CheckLimits = %v, want a *FeatureError wrapping ErrInvalid", err)
			}
			if fe.Index != tc.index || fe.Field != tc.field || !strings.Contains(fe.Msg, tc.msg) {
				t.Errorf("got index %d field %q msg %q, want %d %q containing %q", fe.Index, fe.Field, fe.Msg, tc.index, tc.field, tc.msg)
			}
		})
	}
}

// TestReadGeoJSONRefusesNonText: ids that PostgreSQL cannot store, or that a decoder made out
// of bytes it could not read, are refused naming the feature and property.
func TestReadGeoJSONRefusesNonText(t *testing.T) {
	for _, tc := range []struct{ name, props, field string }{
		{"NUL in the id", `{"parcel_id":"a\u0000b"}`, "properties.parcel_id"},
		{"NUL in the name", `{"parcel_id":"a","name":"x\u0000"}`, "properties.name"},
		{"NUL in the uscc", `{"parcel_id":"a","uscc":"\u0000"}`, "properties.uscc"},
		{"replacement character in the id", `{"parcel_id":"\ufffd\ufffd"}`, "properties.parcel_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"ok"},"geometry":null},
				{"type":"Feature","properties":` + tc.props + `,"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}`
			c, err := ReadGeoJSON(strings.NewReader(src))
			var fe *FeatureError
			if !errors.As(err, &fe) || fe.Index != 1 || fe.Field != tc.field {
				t.Fatalf("ReadGeoJSON = %v, %v; want a FeatureError for feature 1 %s", c, err, tc.field)
			}
		})
	}
}

// TestReadFileGBKIDs writes a Shapefile whose parcel ids are GBK-encoded. Without a code page
// GDAL passes the bytes through; they used to become U+FFFD downstream, so that the second
// parcel overwrote the first. Now the code page is read from the .cpg (also as Windows tools
// write it), and without one the import is refused whole, naming every feature.
func TestReadFileGBKIDs(t *testing.T) {
	dir := t.TempDir()
	src := MustWriteFile(t, dir, "src.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"parcel_id":"地块甲","name":"甲厂"},"geometry":{"type":"Polygon","coordinates":[[[116.0,39.0],[116.1,39.0],[116.1,39.1],[116.0,39.0]]]}},
{"type":"Feature","properties":{"parcel_id":"地块乙","name":"乙厂"},"geometry":{"type":"Polygon","coordinates":[[[116.2,39.0],[116.3,39.0],[116.3,39.1],[116.2,39.0]]]}}]}`)
	shp := filepath.Join(dir, "gbk.shp")
	MustOgr2ogr(t, "-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", shp, src)
	dbf, err := os.ReadFile(filepath.Join(dir, "gbk.dbf"))
	if err != nil {
		t.Fatal(err)
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("地块乙")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dbf, []byte(gbk)) || dbf[29] != 0 {
		t.Fatalf("the .dbf must hold GBK ids and name no code page in its header (LDID %#x)", dbf[29])
	}
	cpgPath := filepath.Join(dir, "gbk.cpg")
	wantIDs := []string{"地块甲", "地块乙"}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cpg  string // "" removes the .cpg
		opts []Option
		err  string // "" when the ids must come back decoded
	}{
		{name: "cpg GBK", cpg: "GBK"},
		{name: "cpg cp936", cpg: "cp936"},
		{name: "cpg ANSI 936 as ArcGIS writes it", cpg: "ANSI 936\r\n"},
		{name: "no cpg, encoding given", opts: []Option{WithEncoding("GBK")}},
		{name: "no cpg", err: "has no .cpg"},
		{name: "cpg naming the wrong code page", cpg: "UTF-8", err: `its .cpg says "UTF-8"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cpg == "" {
				if err := os.Remove(cpgPath); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(cpgPath, []byte(tc.cpg), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := ReadFile(ctx, shp, tc.opts...)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(wantIDs, []string{c.Features[0].ParcelID, c.Features[1].ParcelID}); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
				return
			}
			if c != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("ReadFile = %v, %v; want nothing and an ErrInvalid", c, err)
			}
			for _, want := range []string{tc.err, "feature 0: properties.parcel_id", "feature 1: properties.parcel_id", "not valid UTF-8"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
	// Ids that are equal once decoded are refused together, naming both features.
	MustWriteFile(t, dir, "same.geojson", strings.ReplaceAll(string(must(os.ReadFile(src))), "地块乙", "地块甲"))
	same := filepath.Join(dir, "same.shp")
	MustOgr2ogr(t, "-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", same, filepath.Join(dir, "same.geojson"))
	c, err := ReadFile(ctx, same)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Validate(c.Features)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), `feature 1 (parcel "地块甲")`) || !strings.Contains(err.Error(), "also used by feature 0") {
		t.Errorf("colliding ids: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
