package raster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/offsite/offsite/internal/testenv"
)

const cogValidator = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_cloud_optimized_geotiff.py"

// TestClipCOGsAreValid runs GDAL's COG validator on clips of every
// generated scene type (written directly or through the COG driver) and
// checks colour interpretation survives.
func TestClipCOGsAreValid(t *testing.T) {
	if _, err := os.Stat(cogValidator); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("COG validator not found (python3-gdal)")
		}
		t.Skip("COG validator not found (python3-gdal)")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 9))
	scenes := append([]testScene{}, gdalwarpScenes...)
	scenes = append(scenes, testScene{name: "big-clip", epsg: 32650, gt: [6]float64{400000, 10, 0, 3500000, 0, -10}, w: 1400, h: 1400, bands: 2, dt: godal.UInt16, nodata: ptr(0), block: 256})
	for _, sc := range scenes {
		t.Run(sc.name, func(t *testing.T) {
			path := MustWriteScene(t, dir, sc)
			var parcels []Parcel
			for i := 0; i < 3; i++ {
				r := 5 + rng.Float64()*20
				if sc.name == "big-clip" {
					r = 400 // larger than one fast tile
				}
				g := randomParcel(t, rng, sc, i, float64(sc.w)/2, float64(sc.h)/2, r)
				parcels = append(parcels, Parcel{ID: fmt.Sprintf("%s-%d", sc.name, i), Geometry: g})
			}
			_, err := Clip(context.Background(), Env{AllowLocalFiles: true}, FileSource(path), parcels, ClipOptions{ParcelEPSG: sc.parcelEPSG, SkipQuickLook: true},
				func(o ClipOutput) error {
					p := filepath.Join(dir, o.ParcelID+".tif")
					if err := os.WriteFile(p, o.COG, 0o644); err != nil {
						return err
					}
					out, err := exec.Command("/usr/bin/python3", cogValidator, p).CombinedOutput()
					if err != nil || !strings.Contains(string(out), "is a valid cloud optimized GeoTIFF") {
						t.Errorf("%s (%dx%d): %v: %s", o.ParcelID, o.Width, o.Height, err, out)
					}
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestClipKeepsColourInterpretation clips the RGBA drone mosaic and checks
// the bands stay red, green, blue, alpha.
func TestClipKeepsColourInterpretation(t *testing.T) {
	path := testenv.SharedData(t, "drone/pix4d_bali_ortho_rgba_nodata.tif")
	info, err := Inspect(context.Background(), Env{AllowLocalFiles: true}, FileSource(path))
	if err != nil {
		t.Fatal(err)
	}
	sc := testScene{name: "drone", epsg: info.EPSG, gt: info.GeoTransform, w: info.Width, h: info.Height}
	rng := rand.New(rand.NewPCG(1, 2))
	g := randomParcel(t, rng, sc, 0, 300, 300, 60)
	dir := t.TempDir()
	_, err = Clip(context.Background(), Env{AllowLocalFiles: true}, FileSource(path), []Parcel{{ID: "d", Geometry: g}}, ClipOptions{},
		func(o ClipOutput) error {
			p := filepath.Join(dir, "d.tif")
			if err := os.WriteFile(p, o.COG, 0o644); err != nil {
				return err
			}
			ds, err := godal.Open(p)
			if err != nil {
				return err
			}
			defer ds.Close()
			want := []godal.ColorInterp{godal.CIRed, godal.CIGreen, godal.CIBlue, godal.CIAlpha}
			for i, b := range ds.Bands() {
				if b.ColorInterp() != want[i] {
					t.Errorf("band %d: %s, want %s", i+1, b.ColorInterp().Name(), want[i].Name())
				}
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
}
