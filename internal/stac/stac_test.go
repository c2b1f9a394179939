package stac

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	reserved := []string{"cog/", "selfcheck/"}
	s2 := `{"type":"Feature","stac_version":"1.0.0","id":"S2A_29RKH_20200219","collection":"sentinel-2-l2a",
		"properties":{"datetime":"2020-02-19T11:24:09Z","platform":"sentinel-2a","instruments":["msi"]},
		"assets":{"visual":{"href":"./TCI.tif","type":"image/tiff; application=geotiff","roles":["visual"]},
		          "scene":{"href":"scene.tif","type":"image/tiff; application=geotiff; profile=cloud-optimized","roles":["data"],
		                   "raster:bands":[{"scale":0.0001,"offset":0},{"scale":0.0001},{}]}}}`
	got, err := Parse([]byte(s2), "caps", "s2/2020/item.json", reserved)
	if err != nil {
		t.Fatal(err)
	}
	want := &Capture{Kind: "sentinel2", AcquiredAt: time.Date(2020, 2, 19, 11, 24, 9, 0, time.UTC), Sensor: "sentinel-2a msi", Key: "s2/2020/scene.tif",
		Bands: []BandScale{{Scale: 0.0001, Offset: 0, Set: true}, {Scale: 0.0001, Set: true}, {Scale: 1}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sentinel-2 item (-want +got):\n%s", diff)
	}

	drone := `{"type":"Feature","properties":{"datetime":"2026-05-01T02:30:00+08:00","offsite:kind":"drone-rgb"},
		"assets":{"ortho":{"href":"s3://caps/uav/2026/ortho.tif","type":"image/tiff"}}}`
	got, err = Parse([]byte(drone), "caps", "uav/2026/ortho.json", reserved)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != "drone-rgb" || got.Key != "uav/2026/ortho.tif" || !got.AcquiredAt.Equal(time.Date(2026, 4, 30, 18, 30, 0, 0, time.UTC)) {
		t.Errorf("drone item = %+v", got)
	}

	for _, tc := range []struct{ name, item, want string }{
		{"not json", `{`, "not a STAC Item"},
		{"collection", `{"type":"FeatureCollection"}`, `type "FeatureCollection"`},
		{"unknown kind", `{"type":"Feature","properties":{"offsite:kind":"balloon","datetime":"2020-01-01T00:00:00Z"},"assets":{}}`, `"balloon" is not one of`},
		{"unknown sensor", `{"type":"Feature","collection":"modis","properties":{"datetime":"2020-01-01T00:00:00Z"},"assets":{}}`, "name no known sensor"},
		{"no datetime", `{"type":"Feature","collection":"landsat-c2-l2","properties":{},"assets":{}}`, "properties.datetime"},
		{"no data asset", `{"type":"Feature","collection":"landsat-c2-l2","properties":{"datetime":"2020-01-01T00:00:00Z"},"assets":{"a":{"href":"a.tif","type":"image/tiff"},"b":{"href":"b.tif","type":"image/tiff"}}}`, "2 GeoTIFF assets"},
		{"other bucket", `{"type":"Feature","collection":"landsat","properties":{"datetime":"2020-01-01T00:00:00Z"},"assets":{"d":{"href":"s3://other/x.tif","roles":["data"]}}}`, `not the captures bucket`},
		{"http href", `{"type":"Feature","collection":"landsat","properties":{"datetime":"2020-01-01T00:00:00Z"},"assets":{"d":{"href":"https://example.com/x.tif","roles":["data"]}}}`, "must be relative"},
		{"escape", `{"type":"Feature","collection":"landsat","properties":{"datetime":"2020-01-01T00:00:00Z"},"assets":{"d":{"href":"../../x.tif","roles":["data"]}}}`, `".."`},
		{"reserved prefix by url", `{"type":"Feature","collection":"landsat","properties":{"datetime":"2020-01-01T00:00:00Z"},"assets":{"d":{"href":"s3://caps/selfcheck/91320000000000000X/1/track.tif","roles":["data"]}}}`, "under selfcheck/, which only the application writes"},
		{"reserved prefix of the cogs", `{"type":"Feature","collection":"landsat","properties":{"datetime":"2020-01-01T00:00:00Z"},"assets":{"d":{"href":"s3://caps/cog/ab.tif","roles":["data"]}}}`, "under cog/"},
		{"vsi", `{"type":"Feature","collection":"landsat","properties":{"datetime":"2020-01-01T00:00:00Z"},"assets":{"d":{"href":"a/vsicurl/x.tif","roles":["data"]}}}`, "virtual file system"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.item), "caps", "dir/item.json", reserved)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "dir/item.json") {
				t.Errorf("err = %v, want it to name the sidecar and contain %q", err, tc.want)
			}
		})
	}
}
