package stac

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/testenv"
)

func TestRasterBands(t *testing.T) {
	item := `{"type":"Feature","properties":{"datetime":"2023-07-01T10:00:00Z"},
		"assets":{
			"red":{"href":"https://example.org/S2B_1/B04.tif","raster:bands":[{"nodata":0,"scale":0.0001,"offset":-0.1}]},
			"scl":{"href":"./SCL.tif","raster:bands":[{"nodata":0,"data_type":"uint8"}]},
			"ms":{"href":"s3://caps/uav/ms.tif?x=1","raster:bands":[{"scale":0.5},{"offset":2}]},
			"thumbnail":{"href":"thumb.jpg"}}}`
	got, err := RasterBands([]byte(item))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]BandScale{
		"B04.tif": {{Scale: 0.0001, Offset: -0.1, Set: true}},
		"SCL.tif": {{Scale: 1}},
		"ms.tif":  {{Scale: 0.5, Set: true}, {Scale: 1, Offset: 2, Set: true}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("raster:bands (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ name, item, want string }{
		{"not json", `{`, "not a STAC Item"},
		{"collection", `{"type":"FeatureCollection"}`, "not a STAC Item"},
		{"zero scale", `{"type":"Feature","assets":{"b":{"href":"b.tif","raster:bands":[{"scale":0}]}}}`, "assets.b.raster:bands[0].scale 0: must be > 0"},
	} {
		if _, err := RasterBands([]byte(tc.item)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestRasterBandsReal reads the STAC item of the shared Sentinel-2 tile (processing baseline
// 02.14): every reflectance band has scale 0.0001 and offset 0.
func TestRasterBandsReal(t *testing.T) {
	data, err := os.ReadFile(testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated/S2A_29RKH_20200219_0_L2A.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := RasterBands(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"B04.tif", "B08.tif", "B11.tif", "B12.tif"} {
		if diff := cmp.Diff([]BandScale{{Scale: 0.0001, Offset: 0, Set: true}}, got[f]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", f, diff)
		}
	}
	if diff := cmp.Diff([]BandScale{{Scale: 1}}, got["SCL.tif"]); diff != "" {
		t.Errorf("SCL.tif (-want +got):\n%s", diff)
	}
}
