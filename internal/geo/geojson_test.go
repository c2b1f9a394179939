package geo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
)

func TestReadGeoJSON(t *testing.T) {
	sq := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}
	hole := orb.Ring{{0.2, 0.2}, {0.2, 0.4}, {0.4, 0.4}, {0.2, 0.2}}
	tests := []struct {
		name string
		in   string
		opts []Option
		want *Collection
	}{
		{
			name: "feature collection with uscc, name and other properties",
			in: `{"type":"FeatureCollection","features":[
				{"type":"Feature","properties":{"parcel_id":"p1","uscc":"91110000MA0000000X","name":"某某化工有限公司","area":3},
				 "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}`,
			want: &Collection{SourceCRS: "", Features: []Feature{{Index: 0, ParcelID: "p1", USCC: "91110000MA0000000X", Name: "某某化工有限公司",
				Properties: map[string]any{"area": 3.0}, Geometry: orb.Polygon{sq}}}},
		},
		{
			name: "single feature, polygon with hole, altitude dropped",
			in: `{"type":"Feature","properties":{"parcel_id":"p2"},
				 "geometry":{"type":"Polygon","coordinates":[[[0,0,9],[1,0,9],[1,1,9],[0,1,9],[0,0,9]],[[0.2,0.2],[0.2,0.4],[0.4,0.4],[0.2,0.2]]]}}`,
			want: &Collection{Features: []Feature{{ParcelID: "p2", Properties: map[string]any{}, Geometry: orb.Polygon{sq, hole}}}},
		},
		{
			name: "multipolygon and null geometry",
			in: `{"type":"FeatureCollection","features":[
				{"type":"Feature","properties":{"parcel_id":"m"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[0.2,0.2],[0.2,0.4],[0.4,0.4],[0.2,0.2]]]]}},
				{"type":"Feature","properties":{"parcel_id":"n"},"geometry":null}]}`,
			want: &Collection{Features: []Feature{
				{Index: 0, ParcelID: "m", Properties: map[string]any{}, Geometry: orb.MultiPolygon{{sq}, {hole}}},
				{Index: 1, ParcelID: "n", Properties: map[string]any{}},
			}},
		},
		{
			name: "bare geometry",
			in:   `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`,
			want: &Collection{Features: []Feature{{Geometry: orb.Polygon{sq}}}},
		},
		{
			name: "id property option",
			in:   `{"type":"Feature","properties":{"osm_way_id":"1435","parcel_id":7},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}`,
			opts: []Option{WithIDProperty("osm_way_id")},
			want: &Collection{Features: []Feature{{ParcelID: "1435", Properties: map[string]any{"parcel_id": 7.0}, Geometry: orb.Polygon{sq}}}},
		},
		{
			name: "legacy crs CGCS2000 recorded",
			in: `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}},"features":[
				{"type":"Feature","properties":{"parcel_id":"c"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}`,
			want: &Collection{SourceCRS: CRSCGCS2000, Features: []Feature{{ParcelID: "c", Properties: map[string]any{}, Geometry: orb.Polygon{sq}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadGeoJSON(strings.NewReader(tc.in), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadGeoJSONProjectedCRS(t *testing.T) {
	// A square of 100 m in UTM zone 50N (EPSG:32650) near Beijing.
	in := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32650"}},"features":[
		{"type":"Feature","properties":{"parcel_id":"u"},"geometry":{"type":"Polygon","coordinates":[[[448000,4418000],[448100,4418000],[448100,4418100],[448000,4418100],[448000,4418000]]]}}]}`
	c, err := ReadGeoJSON(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if c.SourceCRS != "urn:ogc:def:crs:EPSG::32650" {
		t.Errorf("SourceCRS = %q", c.SourceCRS)
	}
	p := c.Features[0].Geometry.(orb.Polygon)
	// lon/lat order kept: longitude ~116.4, latitude ~39.9.
	if lon, lat := p[0][0][0], p[0][0][1]; lon < 116 || lon > 117 || lat < 39.5 || lat > 40.5 {
		t.Errorf("first point (%v, %v), want about (116.4, 39.9)", lon, lat)
	}
	if a := Area(p); a < 9990 || a > 10010 {
		t.Errorf("area %.1f m², want about 10000", a)
	}
}

func TestReadGeoJSONErrors(t *testing.T) {
	poly := `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`
	tests := []struct {
		name, in, want string
	}{
		{"not json", `{`, "geo: invalid parcels: geojson"},
		{"no type", `{}`, `no "type" member`},
		{"point", `{"type":"Point","coordinates":[1,2]}`, `type "Point"`},
		{"missing parcel_id", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":` + poly + `},{"type":"Feature","properties":{},"geometry":` + poly + `}]}`, "feature 1: properties.parcel_id is missing"},
		{"null properties", `{"type":"Feature","properties":null,"geometry":` + poly + `}`, "feature 0: properties.parcel_id is missing"},
		{"numeric parcel_id", `{"type":"Feature","properties":{"parcel_id":12},"geometry":` + poly + `}`, "feature 0: properties.parcel_id is a number, want a string"},
		{"null parcel_id", `{"type":"Feature","properties":{"parcel_id":null},"geometry":` + poly + `}`, "properties.parcel_id is null"},
		{"blank parcel_id", `{"type":"Feature","properties":{"parcel_id":"  "},"geometry":` + poly + `}`, "properties.parcel_id is empty"},
		{"line geometry", `{"type":"Feature","properties":{"parcel_id":"l"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}`, `feature 0 (parcel "l"): geometry: type "LineString"`},
		{"short position", `{"type":"Feature","properties":{"parcel_id":"s"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1],[1,1],[0,0]]]}}`, "ring 0 position 1 has 1 numbers"},
		{"no coordinates", `{"type":"Feature","properties":{"parcel_id":"s"},"geometry":{"type":"Polygon"}}`, `no "coordinates"`},
		{"feature of wrong type", `{"type":"FeatureCollection","features":[{"type":"Polygon"}]}`, `feature 0: type "Polygon", want Feature`},
		{"bad crs member", `{"type":"FeatureCollection","crs":{"type":"link"},"features":[]}`, `unsupported "crs" member`},
		{"unknown crs", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:999999"}},"features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":` + poly + `}]}`, "reproject to wgs84"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadGeoJSON(strings.NewReader(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, offsite.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid and offsite.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParcels(t *testing.T) {
	g := orb.Polygon{sq(0, 0, 1)}
	got := Parcels([]Feature{{ParcelID: "a", USCC: "91110000MA0000000X", Name: "某某化工有限公司", Geometry: g}})
	want := []*offsite.Parcel{{ID: "a", EnterpriseUSCC: "91110000MA0000000X", Name: "某某化工有限公司", Geometry: g}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parcels mismatch (-want +got):\n%s", diff)
	}
}

// FuzzReadGeoJSON checks that ReadGeoJSON never panics, that it returns
// either features or an error, and that Validate copes with whatever it
// accepts. Seeds: testdata/fuzz/geojson/*.geojson.
func FuzzReadGeoJSON(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "geojson", "*.geojson"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// A legacy "crs" member sends coordinates to GDAL; keep the fuzzer
		// on the Go parser.
		if bytes.Contains(b, []byte(`"crs"`)) {
			return
		}
		c, err := ReadGeoJSON(bytes.NewReader(b))
		if err != nil {
			if c != nil {
				t.Error("ReadGeoJSON returned a collection and an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		for _, ft := range c.Features {
			switch ft.Geometry.(type) {
			case nil, orb.Polygon, orb.MultiPolygon:
			default:
				t.Fatalf("feature geometry is %T", ft.Geometry)
			}
		}
		if _, err := Validate(c.Features); err != nil {
			t.Fatal(err)
		}
	})
}
