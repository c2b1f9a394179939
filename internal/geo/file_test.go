package geo

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/offsite/offsite/internal/testenv"
)

// chineseParcels is a UTF-8 GeoJSON source for the generated files: a
// polygon with a hole and a multipolygon, with Chinese enterprise names.
const chineseParcels = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"parcel_id":"p1","uscc":"91110000MA0000000X","name":"某某化工有限公司"},"geometry":{"type":"Polygon","coordinates":[[[116.39,39.9],[116.4,39.9],[116.4,39.91],[116.39,39.91],[116.39,39.9]],[[116.392,39.902],[116.392,39.904],[116.394,39.904],[116.392,39.902]]]}},
{"type":"Feature","properties":{"parcel_id":"p2","name":"北京市朝阳区某某钢铁厂"},"geometry":{"type":"MultiPolygon","coordinates":[[[[116.5,39.9],[116.51,39.9],[116.51,39.91],[116.5,39.9]]],[[[116.52,39.9],[116.53,39.9],[116.53,39.91],[116.52,39.9]]]]}}]}`

// wantChinese is what every format must give back for chineseParcels.
func wantChinese(t *testing.T) []Feature {
	t.Helper()
	c, err := ReadGeoJSON(strings.NewReader(chineseParcels))
	if err != nil {
		t.Fatal(err)
	}
	return c.Features
}

// sameParcels compares id, uscc, name and geometry (rings may start at
// another vertex or run the other way in some formats: compare areas and
// bounds within tol degrees).
func sameParcels(t *testing.T, want, got []Feature, tol float64) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d features, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.ParcelID != g.ParcelID || w.USCC != g.USCC || w.Name != g.Name {
			t.Errorf("feature %d: (%q, %q, %q), want (%q, %q, %q)", i, g.ParcelID, g.USCC, g.Name, w.ParcelID, w.USCC, w.Name)
		}
		wb, gb := w.Geometry.Bound(), g.Geometry.Bound()
		for k := 0; k < 2; k++ {
			if math.Abs(wb.Min[k]-gb.Min[k]) > tol || math.Abs(wb.Max[k]-gb.Max[k]) > tol {
				t.Errorf("feature %d: bounds %v, want %v", i, gb, wb)
			}
		}
		if wa, ga := Area(w.Geometry), Area(g.Geometry); math.Abs(wa-ga) > 1e-4*wa {
			t.Errorf("feature %d: area %.1f m², want %.1f", i, ga, wa)
		}
		wp, _ := polygons(w.Geometry)
		gp, _ := polygons(g.Geometry)
		if len(wp) != len(gp) || len(wp[0]) != len(gp[0]) {
			t.Errorf("feature %d: %d polygons / %d rings, want %d / %d", i, len(gp), len(gp[0]), len(wp), len(wp[0]))
		}
	}
}

func TestReadFileGenerated(t *testing.T) {
	dir := t.TempDir()
	src := MustWriteFile(t, dir, "src.geojson", chineseParcels)
	want := wantChinese(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		file    string
		ogrArgs []string
		opts    []Option
		crs     string // want SourceCRS; "*" means any non-WGS84 WKT
		tol     float64
	}{
		{"geojson", "src.geojson", nil, nil, "", 0},
		{"gbk shapefile", "gbk.shp", []string{"-f", "ESRI Shapefile", "-lco", "ENCODING=GBK"}, nil, CRSWGS84, 1e-12},
		{"geopackage", "p.gpkg", []string{"-f", "GPKG"}, nil, CRSWGS84, 1e-12},
		{"kml", "p.kml", []string{"-f", "LIBKML"}, nil, CRSWGS84, 1e-9},
		{"cgcs2000 shapefile", "cgcs.shp", []string{"-f", "ESRI Shapefile", "-a_srs", "EPSG:4490", "-lco", "ENCODING=UTF-8"}, nil, CRSCGCS2000, 1e-12},
		{"utm geopackage reprojected", "utm.gpkg", []string{"-f", "GPKG", "-t_srs", "EPSG:32650"}, nil, "*", 1e-8},
		{"cgcs2000 gauss-kruger shapefile reprojected", "gk.shp", []string{"-f", "ESRI Shapefile", "-t_srs", "EPSG:4547", "-lco", "ENCODING=GBK"}, nil, "*", 1e-8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if tc.ogrArgs != nil {
				MustOgr2ogr(t, append(append([]string{}, tc.ogrArgs...), path, src)...)
			}
			c, err := ReadFile(ctx, path, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.crs == "*":
				if c.SourceCRS == "" || c.SourceCRS == CRSWGS84 || c.SourceCRS == CRSCGCS2000 {
					t.Errorf("SourceCRS = %q, want the projected CRS", c.SourceCRS)
				}
			case c.SourceCRS != tc.crs:
				t.Errorf("SourceCRS = %q, want %q", c.SourceCRS, tc.crs)
			}
			sameParcels(t, want, c.Features, tc.tol)
			if rep, err := Validate(c.Features); err != nil || rep.Err() != nil {
				t.Errorf("Validate: %v %v", err, rep.Err())
			}
		})
	}
}

// TestReadFileGBK checks the code page handling of Shapefiles: the .cpg is
// honoured; without one GBK names are refused unless WithEncoding says GBK.
func TestReadFileGBK(t *testing.T) {
	dir := t.TempDir()
	src := MustWriteFile(t, dir, "src.geojson", chineseParcels)
	shp := filepath.Join(dir, "gbk.shp")
	MustOgr2ogr(t, "-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", shp, src)
	dbf, err := os.ReadFile(filepath.Join(dir, "gbk.dbf"))
	if err != nil {
		t.Fatal(err)
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("某某化工有限公司")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dbf, []byte(gbk)) {
		t.Fatal("the generated .dbf does not hold GBK-encoded names")
	}
	ctx := context.Background()
	c, err := ReadFile(ctx, shp)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Features[0].Name; got != "某某化工有限公司" {
		t.Errorf("name via .cpg = %q", got)
	}
	// ArcGIS writes the Windows code page number instead of a name.
	if err := os.WriteFile(filepath.Join(dir, "gbk.cpg"), []byte("936"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = ReadFile(ctx, shp)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Features[1].Name; got != "北京市朝阳区某某钢铁厂" {
		t.Errorf("name via .cpg 936 = %q", got)
	}
	if err := os.Remove(filepath.Join(dir, "gbk.cpg")); err != nil {
		t.Fatal(err)
	}
	// Without a code page GDAL passes the GBK bytes through: refused, not garbled.
	if c, err = ReadFile(ctx, shp); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no .cpg") {
		t.Errorf("without .cpg: %v, %v; want the GBK names refused; the test does not test WithEncoding", c, err)
	}
	c, err = ReadFile(ctx, shp, WithEncoding("GBK"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"某某化工有限公司", "北京市朝阳区某某钢铁厂"}, []string{c.Features[0].Name, c.Features[1].Name}); diff != "" {
		t.Errorf("names with WithEncoding(GBK) (-want +got):\n%s", diff)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	src := MustWriteFile(t, dir, "noid.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}`)
	MustOgr2ogr(t, "-f", "GPKG", filepath.Join(dir, "noid.gpkg"), src)
	line := MustWriteFile(t, dir, "line.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"l"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}`)
	MustOgr2ogr(t, "-f", "ESRI Shapefile", filepath.Join(dir, "line.shp"), line)
	MustWriteFile(t, dir, "broken.shp", "not a shapefile")
	tests := []struct {
		name, path, want string
	}{
		{"missing id in a geopackage", filepath.Join(dir, "noid.gpkg"), "feature 0: properties.parcel_id is missing"},
		{"line shapefile", filepath.Join(dir, "line.shp"), `feature 0 (parcel "l"): geometry is a LineString`},
		{"broken shapefile", filepath.Join(dir, "broken.shp"), "unusable vector file"},
		{"unsupported extension", filepath.Join(dir, "x.csv"), `unsupported file type ".csv"`},
		{"missing file", filepath.Join(dir, "none.gpkg"), "no such file"},
		{"dot-dot path", dir + "/../x.gpkg", "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFile(ctx, tc.path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "geo: ") {
				t.Errorf("error %q, want a geo: error containing %q", err, tc.want)
			}
		})
	}
}

// TestReadFileOlinda reads the 470 real census-tract polygons of Olinda
// (SIRGAS 2000 geographic, an ESRI .prj GDAL cannot name by EPSG code).
func TestReadFileOlinda(t *testing.T) {
	path := testenv.SharedData(t, "parcels/olinda1.shp")
	c, err := ReadFile(context.Background(), path, WithIDProperty("CD_GEOCODI"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Features) != 470 {
		t.Fatalf("%d features, want 470", len(c.Features))
	}
	if !strings.Contains(c.SourceCRS, "GRS 1980") {
		t.Errorf("SourceCRS = %q, want the layer's GRS80 WKT", c.SourceCRS)
	}
	var b orb.Bound
	var total float64
	for i, f := range c.Features {
		if i == 0 {
			b = f.Geometry.Bound()
		} else {
			b = b.Union(f.Geometry.Bound())
		}
		total += Area(f.Geometry)
		if f.ParcelID == "" || f.Properties["NM_BAIR"] == nil {
			t.Fatalf("feature %d lacks its attributes: %+v", i, f)
		}
	}
	// ogrinfo: Extent: (-34.916923, -8.044467) - (-34.827789, -7.954672);
	// SIRGAS 2000 and WGS84 coincide at this precision.
	want := orb.Bound{Min: orb.Point{-34.916923, -8.044467}, Max: orb.Point{-34.827789, -7.954672}}
	for k := 0; k < 2; k++ {
		if math.Abs(b.Min[k]-want.Min[k]) > 2e-6 || math.Abs(b.Max[k]-want.Max[k]) > 2e-6 {
			t.Errorf("bounds %v, want %v", b, want)
		}
	}
	// The tracts cover the municipality of Olinda (about 41.7 km²) and
	// some surroundings.
	if total < 30e6 || total > 100e6 {
		t.Errorf("total area %.1f km²", total/1e6)
	}
	rep, err := Validate(c.Features)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("olinda: %d features, %.2f km², %d validation problems", len(c.Features), total/1e6, len(rep.Problems))
	for _, p := range rep.Problems {
		if p.Code == DuplicateID || p.Code == OutOfRange || p.Code == NonFinite {
			t.Errorf("unexpected problem: %v", p)
		}
	}
	// Every tract intersects the bounds of the Olinda image.
	inside := 0
	for _, f := range c.Features {
		if f.Geometry.Bound().Intersects(want) {
			inside++
		}
	}
	if inside != 470 {
		t.Errorf("%d tracts intersect the extent", inside)
	}
}

// TestReadFileLiechtenstein reads the OpenStreetMap industrial zones and
// checks that each building footprint of the companion file falls in one.
func TestReadFileLiechtenstein(t *testing.T) {
	zonesPath := testenv.SharedData(t, "parcels/liechtenstein_industrial_landuse_osm2013.geojson")
	buildingsPath := testenv.SharedData(t, "parcels/liechtenstein_buildings_in_industrial_osm2013.geojson")
	ctx := context.Background()
	zones, err := ReadFile(ctx, zonesPath, WithIDProperty("osm_way_id"))
	if err != nil {
		t.Fatal(err)
	}
	if len(zones.Features) != 22 {
		t.Fatalf("%d zones, want 22", len(zones.Features))
	}
	rep, err := Validate(zones.Features)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("zones do not validate: %v", err)
	}
	// The buildings have no id property common to all: the error names
	// the one feature without osm_way_id.
	_, err = ReadFile(ctx, buildingsPath, WithIDProperty("osm_way_id"))
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "properties.osm_way_id is null") {
		t.Fatalf("reading buildings by osm_way_id: %v", err)
	}
	raw, err := os.ReadFile(buildingsPath)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		t.Fatal(err)
	}
	outside := 0
	for _, b := range fc.Features {
		if !slices.ContainsFunc(zones.Features, func(z Feature) bool { return Intersects(z.Geometry, b.Geometry) }) {
			outside++
		}
	}
	if len(fc.Features) != 183 || outside > 0 {
		t.Errorf("%d of %d buildings intersect no industrial zone", outside, len(fc.Features))
	}
	// Buffering every zone by 100 m keeps them valid and adds area.
	for _, z := range zones.Features {
		g, err := Buffer(z.Geometry, 100)
		if err != nil {
			t.Fatalf("zone %s: %v", z.ParcelID, err)
		}
		if Area(g) <= Area(z.Geometry) {
			t.Errorf("zone %s: buffer did not grow", z.ParcelID)
		}
	}
}
