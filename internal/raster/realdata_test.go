package raster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite/internal/testenv"
)

// TestClipRealOlinda clips the Landsat-7 Olinda image (SIRGAS 2000 / UTM
// 25S, Byte, 6 bands, no nodata) with every 8th of the 470 real census-tract
// polygons (geographic SIRGAS 2000) and compares with gdalwarp.
func TestClipRealOlinda(t *testing.T) {
	requireGDALWarp(t)
	scene := testenv.SharedData(t, "landsat/olinda_L7_ETM/L7_ETMs.tif")
	shp := testenv.SharedData(t, "parcels/olinda1.shp")
	dir := t.TempDir()
	gj := filepath.Join(dir, "olinda1.geojson")
	if out, err := exec.Command("ogr2ogr", "-f", "GeoJSON", gj, shp).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v: %s", err, out)
	}
	data, err := os.ReadFile(gj)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 470 {
		t.Fatalf("%d features, want 470", len(fc.Features))
	}
	var parcels []Parcel
	for i := 0; i < len(fc.Features); i += 8 {
		parcels = append(parcels, Parcel{ID: fmt.Sprintf("olinda-%03d", i), Geometry: fc.Features[i].Geometry})
	}
	// The shapefile's CRS is geographic GRS 1980 without a named datum, which
	// PROJ maps onto SIRGAS 2000 (EPSG:4674) without shift; the cutlines
	// handed to gdalwarp say EPSG:4674 explicitly.
	sc := testScene{name: "olinda", parcelEPSG: 4674}
	for _, allTouched := range []bool{false, true} {
		t.Run(fmt.Sprintf("allTouched=%v", allTouched), func(t *testing.T) {
			compareWithGDALWarp(t, dir, sc, scene, parcels, allTouched)
		})
	}
}

// TestClipRealSentinel2 clips two bands of a real Sentinel-2 L2A tile
// (UInt16 COGs, nodata 0, UTM 29N, 100 m and 200 m) with random WGS84
// parcels and compares with gdalwarp.
func TestClipRealSentinel2(t *testing.T) {
	requireGDALWarp(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, band := range []string{"B04", "B11"} {
		t.Run(band, func(t *testing.T) {
			path := testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated/"+band+".tif")
			info, err := Inspect(context.Background(), Env{AllowLocalFiles: true}, FileSource(path))
			if err != nil {
				t.Fatal(err)
			}
			if info.EPSG != 32629 || info.NoData == nil || *info.NoData != 0 || info.DataType != "UInt16" {
				t.Fatalf("info = %+v", info)
			}
			sc := testScene{name: "s2-" + band, epsg: info.EPSG, gt: info.GeoTransform, w: info.Width, h: info.Height, nodata: info.NoData}
			var parcels []Parcel
			for i := 0; i < 15; i++ {
				cx, cy := rng.Float64()*float64(sc.w), rng.Float64()*float64(sc.h)
				g := randomParcel(t, rng, sc, i, cx, cy, 2+rng.Float64()*25)
				parcels = append(parcels, Parcel{ID: fmt.Sprintf("%s-%02d", sc.name, i), Geometry: g})
			}
			for _, allTouched := range []bool{false, true} {
				t.Run(fmt.Sprintf("allTouched=%v", allTouched), func(t *testing.T) {
					compareWithGDALWarp(t, dir, sc, path, parcels, allTouched)
				})
			}
		})
	}
}

// TestClipRealDrone clips a real RGBA drone orthomosaic whose alpha band is
// its validity mask (and whose nodata, -10000, does not fit its Byte type)
// and compares with gdalwarp.
func TestClipRealDrone(t *testing.T) {
	requireGDALWarp(t)
	path := testenv.SharedData(t, "drone/pix4d_bali_ortho_rgba_nodata.tif")
	info, err := Inspect(context.Background(), Env{AllowLocalFiles: true}, FileSource(path))
	if err != nil {
		t.Fatal(err)
	}
	if info.NoData != nil || info.Bands != 4 {
		t.Fatalf("nodata %v, %d bands: want no usable nodata and 4 bands", info.NoData, info.Bands)
	}
	sc := testScene{name: "drone", epsg: info.EPSG, gt: info.GeoTransform, w: info.Width, h: info.Height}
	rng := rand.New(rand.NewPCG(7, 8))
	var parcels []Parcel
	for i := 0; i < 8; i++ {
		g := randomParcel(t, rng, sc, i, rng.Float64()*float64(sc.w), rng.Float64()*float64(sc.h), 20+rng.Float64()*80)
		parcels = append(parcels, Parcel{ID: fmt.Sprintf("drone-%02d", i), Geometry: g})
	}
	dir := t.TempDir()
	for _, allTouched := range []bool{false, true} {
		t.Run(fmt.Sprintf("allTouched=%v", allTouched), func(t *testing.T) {
			compareWithGDALWarp(t, dir, sc, path, parcels, allTouched)
		})
	}
}
