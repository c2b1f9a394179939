package raster

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// MustVectorFile writes geojson to a temporary file and, when driver is not
// "GeoJSON", converts it with ogr2ogr (extra args appended). It returns the
// path of the file to read.
func MustVectorFile(tb testing.TB, geojson, name, driver string, extra ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	src := filepath.Join(dir, "src.geojson")
	if err := os.WriteFile(src, []byte(geojson), 0o644); err != nil {
		tb.Fatal(err)
	}
	if driver == "GeoJSON" {
		return src
	}
	bin, err := exec.LookPath("ogr2ogr")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("ogr2ogr not found")
		}
		tb.Skip("ogr2ogr not found")
	}
	dst := filepath.Join(dir, name)
	args := append([]string{"-f", driver}, extra...)
	args = append(args, dst, src)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		tb.Fatalf("ogr2ogr %v: %v\n%s", args, err, out)
	}
	return dst
}

const vectorTestGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"parcel_id":"p1","name":"某某化工有限公司","n":7,"x":1.5},"geometry":{"type":"Polygon","coordinates":[[[116.39,39.9],[116.4,39.9],[116.4,39.91],[116.39,39.9]]]}},
{"type":"Feature","properties":{"parcel_id":"p2","name":null,"n":8,"x":2.5},"geometry":null}]}`

func TestReadVectorFile(t *testing.T) {
	tri := orb.Polygon{{{116.39, 39.9}, {116.4, 39.9}, {116.4, 39.91}, {116.39, 39.9}}}
	tests := []struct {
		name, file, driver string
		extra              []string
		opts               VectorOptions
		wantDriver         string
		wantEPSG           int
	}{
		{"geojson", "", "GeoJSON", nil, VectorOptions{}, "GeoJSON", 4326},
		{"gbk shapefile", "p.shp", "ESRI Shapefile", []string{"-lco", "ENCODING=GBK"}, VectorOptions{}, "ESRI Shapefile", 4326},
		{"geopackage", "p.gpkg", "GPKG", []string{"-nln", "parcels"}, VectorOptions{Layer: "parcels"}, "GPKG", 4326},
		{"cgcs2000 geopackage", "p.gpkg", "GPKG", []string{"-a_srs", "EPSG:4490"}, VectorOptions{}, "GPKG", 4490},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := MustVectorFile(t, vectorTestGeoJSON, tc.file, tc.driver, tc.extra...)
			l, err := ReadVectorFile(context.Background(), path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if l.Driver != tc.wantDriver || l.EPSG != tc.wantEPSG || l.CRS == "" {
				t.Errorf("driver %q, EPSG %d, CRS %.40q; want %q, %d", l.Driver, l.EPSG, l.CRS, tc.wantDriver, tc.wantEPSG)
			}
			if len(l.Features) != 2 {
				t.Fatalf("%d features, want 2", len(l.Features))
			}
			f0, f1 := l.Features[0], l.Features[1]
			if diff := cmp.Diff(tri, f0.Geometry); diff != "" && tc.driver != "ESRI Shapefile" {
				t.Errorf("geometry (-want +got):\n%s", diff)
			}
			if math.Abs(vecArea(f0.Geometry)-vecArea(tri)) > 1e-15 {
				t.Errorf("geometry %v, want %v (up to ring orientation)", f0.Geometry, tri)
			}
			if f1.Geometry != nil && tc.driver != "ESRI Shapefile" {
				t.Errorf("null geometry read as %v", f1.Geometry)
			}
			if f0.Fields["parcel_id"] != "p1" || f0.Fields["name"] != "某某化工有限公司" || f0.Fields["n"] != int64(7) || f0.Fields["x"] != 1.5 {
				t.Errorf("fields %v", f0.Fields)
			}
			// godal v0.0.18 cannot tell null from set: a null string reads "".
			if v := f1.Fields["name"]; v != nil && v != "" {
				t.Errorf("null field read as %#v", v)
			}
		})
	}
}

// vecArea is the planar shoelace area of a polygon's exterior ring.
func vecArea(g orb.Geometry) float64 {
	p, ok := g.(orb.Polygon)
	if !ok || len(p) == 0 {
		return 0
	}
	var s float64
	r := p[0]
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return math.Abs(s / 2)
}

func TestReadVectorFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gpkg")
	if err := os.WriteFile(bad, []byte("not a geopackage"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := MustVectorFile(t, vectorTestGeoJSON, "p.gpkg", "GPKG")
	tests := []struct {
		name, path string
		opts       VectorOptions
		want       error
		msg        string
	}{
		{"corrupt file", bad, VectorOptions{}, ErrUnusableVector, "open"},
		{"unknown layer", good, VectorOptions{Layer: "nope"}, ErrUnusableVector, `no layer "nope"`},
		{"csv not allowed", filepath.Join(dir, "x.csv"), VectorOptions{}, ErrUnusableVector, "unsupported extension"},
		{"vsi path", "/vsicurl/http://example.com/x.gpkg", VectorOptions{}, ErrInvalidSource, "/vsi"},
		{"dot-dot", dir + "/../x.gpkg", VectorOptions{}, ErrInvalidSource, `".."`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadVectorFile(context.Background(), tc.path, tc.opts)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v containing %q", err, tc.want, tc.msg)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadVectorFile(ctx, good, VectorOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestVectorTransformPoints(t *testing.T) {
	tests := []struct {
		name     string
		src, dst string
		in, want [2]float64
		tol      float64
	}{
		// Web Mercator of Beijing: x = R·λ, y = R·ln tan(π/4 + φ/2).
		{"wgs84 to web mercator keeps lon/lat order", "EPSG:4326", "EPSG:3857", [2]float64{116.4, 39.9},
			[2]float64{6378137 * 116.4 * math.Pi / 180, 6378137 * math.Log(math.Tan(math.Pi/4+39.9*math.Pi/360))}, 1e-6},
		{"cgcs2000 to wgs84 is the identity at the mm level", "EPSG:4490", "EPSG:4326", [2]float64{116.4, 39.9}, [2]float64{116.4, 39.9}, 1e-8},
		// UTM 50N: central meridian 117°E, false easting 500 km.
		{"utm 50N central meridian", "EPSG:4326", "EPSG:32650", [2]float64{117, 0}, [2]float64{500000, 0}, 1e-6},
		{"proj string", "+proj=longlat +datum=WGS84", "EPSG:4326", [2]float64{1, 2}, [2]float64{1, 2}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TransformPoints(tc.src, tc.dst, [][2]float64{tc.in})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got[0][0]-tc.want[0]) > tc.tol || math.Abs(got[0][1]-tc.want[1]) > tc.tol {
				t.Errorf("got %v, want %v", got[0], tc.want)
			}
		})
	}
	if _, err := TransformPoints("EPSG:999999", "EPSG:4326", [][2]float64{{0, 0}}); err == nil {
		t.Error("unknown CRS accepted")
	}
	if _, err := TransformPoints("EPSG:4326", "EPSG:32650", [][2]float64{{0, 95}}); err == nil {
		t.Error("latitude 95 transformed")
	}
}

func TestVectorMakeValid(t *testing.T) {
	bowtie := orb.Polygon{{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}}
	g, err := MakeValid(bowtie)
	if err != nil {
		t.Fatal(err)
	}
	mp, ok := g.(orb.MultiPolygon)
	if !ok || len(mp) != 2 {
		t.Fatalf("MakeValid(bowtie) = %v, want two triangles", g)
	}
	if a := vecArea(mp[0]) + vecArea(mp[1]); math.Abs(a-2) > 1e-12 {
		t.Errorf("area %v, want 2", a)
	}
	valid := orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}
	if g, err := MakeValid(valid); err != nil || math.Abs(vecArea(g)-0.5) > 1e-12 {
		t.Errorf("MakeValid(valid) = %v, %v", g, err)
	}
}

func TestVectorUnion(t *testing.T) {
	a := orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}}
	b := orb.Polygon{{{1, 1}, {3, 1}, {3, 3}, {1, 3}, {1, 1}}}
	g, err := Union(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := vecArea(g); math.Abs(got-7) > 1e-12 {
		t.Errorf("union area %v, want 7 (%v)", got, g)
	}
}

func TestVectorBuffer(t *testing.T) {
	sq := orb.Polygon{{{0, 0}, {100, 0}, {100, 100}, {0, 100}, {0, 0}}}
	g, err := Buffer(sq, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	want := 120*120 - (4-math.Pi)*100
	if a := vecArea(g); math.Abs(a-want) > 1 {
		t.Errorf("area %v, want about %v", a, want)
	}
}

func TestVectorDecodeWKB(t *testing.T) {
	le := binary.LittleEndian
	// ISO POLYGON Z with one ring of 4 points.
	iso := []byte{1}
	iso = le.AppendUint32(iso, 1003)
	iso = le.AppendUint32(iso, 1)
	iso = le.AppendUint32(iso, 4)
	for _, p := range [][3]float64{{0, 0, 9}, {1, 0, 9}, {1, 1, 9}, {0, 0, 9}} {
		for _, v := range p {
			iso = le.AppendUint64(iso, math.Float64bits(v))
		}
	}
	tri := orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}
	got, err := decodeWKB(iso)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tri, got); diff != "" {
		t.Errorf("ISO Z polygon (-want +got):\n%s", diff)
	}
	// 2D multipolygon and collection round trip through orb's encoder.
	for _, g := range []orb.Geometry{orb.MultiPolygon{tri, tri}, orb.Collection{tri, orb.LineString{{0, 0}, {1, 1}}, orb.Point{3, 4}}} {
		b, err := wkb.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeWKB(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(g, back); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {2, 0, 0, 0, 0}, iso[:len(iso)-3], {1, 0xff, 0xff, 0xff, 0x0f}} {
		if _, err := decodeWKB(bad); err == nil {
			t.Errorf("decodeWKB(%x) succeeded", bad)
		}
	}
}
