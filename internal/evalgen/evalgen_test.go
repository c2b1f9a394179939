package evalgen

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/raster"
)

// TestWriteGeoTIFF writes each sample type and reads it back through internal/raster (as
// the pipelines do) and gdalinfo (for the scale and offset metadata).
func TestWriteGeoTIFF(t *testing.T) {
	zero := 0.0
	gt := [6]float64{500000, 10, 0, 3300000, 0, -10}
	for _, tc := range []struct {
		name string
		img  Image
		want [][]float32 // per band, as read
	}{
		{"uint16 with scale, offset and nodata", Image{CRS: "EPSG:32650", GeoTransform: gt, Width: 3, Height: 2, Type: UInt16, NoData: &zero, Bands: []Band{
			{Name: "B02", Data: []float32{1000, 2000.4, 3000.6, 0, 70000, -5}, Scale: 1e-4, Offset: -0.1},
			{Name: "SCL", Data: []float32{4, 5, 6, 8, 9, 3}},
		}}, [][]float32{{1000, 2000, 3001, 0, 65535, 0}, {4, 5, 6, 0, 9, 0}}}, // nodata in one band: 0 in all
		{"float32", Image{CRS: "EPSG:32650", GeoTransform: gt, Width: 2, Height: 1, Type: Float32, Bands: []Band{
			{Name: "B12", Data: []float32{0.125, 0.5}},
		}}, [][]float32{{0.125, 0.5}}},
		{"byte clamps", Image{CRS: "EPSG:32650", GeoTransform: gt, Width: 2, Height: 1, Type: Byte, Bands: []Band{
			{Name: "red", Data: []float32{-3, 300}},
		}}, [][]float32{{0, 255}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.tif")
			if err := WriteGeoTIFF(path, tc.img); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, b := range tc.img.Bands {
				names = append(names, b.Name)
			}
			got, err := raster.ReadBands(context.Background(), raster.Env{AllowLocalFiles: true}, []raster.Source{raster.FileSource(path)}, raster.BandsOptions{Bands: names})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Data); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			if got.GeoTransform != gt || got.EPSG != 32650 {
				t.Errorf("geotransform %v EPSG %d, want %v 32650", got.GeoTransform, got.EPSG, gt)
			}
			out, err := exec.Command("gdalinfo", "-json", path).Output()
			if err != nil {
				t.Fatal(err)
			}
			var info struct {
				Bands []struct {
					Scale, Offset *float64
				}
			}
			if err := json.Unmarshal(out, &info); err != nil {
				t.Fatal(err)
			}
			for i, b := range tc.img.Bands {
				if b.Scale == 0 {
					continue
				}
				s, o := info.Bands[i].Scale, info.Bands[i].Offset
				if s == nil || o == nil || *s != b.Scale || *o != b.Offset {
					t.Errorf("band %s: scale %v offset %v, want %g %g", b.Name, s, o, b.Scale, b.Offset)
				}
			}
		})
	}
}

// TestHotSource: a furnace at 1000–1600 K raises SWIR2 most, SWIR1 by a fifth to a half of
// that, and NIR hardly at all (Planck's law over solar irradiance).
func TestHotSource(t *testing.T) {
	for _, temp := range []float64{1000, 1200, 1600} {
		l22, l16, l086 := planck(2.19, temp), planck(1.61, temp), planck(0.865, temp)
		r11 := (l16 / 246) / (l22 / 85)
		r8a := (l086 / 955) / (l22 / 85)
		if r11 < 0.1 || r11 > 0.6 || r8a > 0.03 || r8a >= r11 {
			t.Errorf("%g K: SWIR1/SWIR2 %.3f, NIR/SWIR2 %.4f", temp, r11, r8a)
		}
	}
}

// TestScene renders a small scene's two dates and checks the physics the set promises:
// phenology per land cover (crops green up, roofs and yards stay), gain and offset, clouds
// over their shadows, hot sources in SWIR, and truth labels for every object.
func TestScene(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n, px = 160, 10.0
	w := newS2World(r, 7, n*px, true)
	w.addClouds(r, 2)
	labels, _ := w.truth(n, px)
	seen := map[int32]bool{}
	for _, l := range labels {
		seen[l] = true
	}
	for _, c := range w.changes {
		if !seen[c.id] {
			t.Errorf("change %d (%s) has no pixel in the truth", c.id, c.class)
		}
	}
	for _, h := range w.hots {
		if !seen[h.id] {
			t.Errorf("hot source %d has no pixel in the truth", h.id)
		}
	}
	before := w.render(r, n, px, [2]float64{}, false, dateLook{})
	after := w.render(r, n, px, [2]float64{}, true, dateLook{phenology: true, gain: 1, clouds: true})
	// Compare the dates by material at pixel centres, away from objects and clouds.
	type acc struct{ b, a [nS2]float64 }
	sums := map[int]*acc{}
	counts := map[int]int{}
	for row := 0; row < n; row++ {
		for col := 0; col < n; col++ {
			x, y := (float64(col)+0.5)*px, (float64(row)+0.5)*px
			if labels[row*n+col] != 0 || w.cloudAlpha(x, y) > 0 || w.cloudAlpha(x-w.shadow[0], y-w.shadow[1]) > 0 {
				continue
			}
			mat, _ := w.ground(x, y, false)
			same := true
			for _, d := range []float64{-6, 6} {
				m1, _ := w.ground(x+d, y+d, false)
				m2, _ := w.ground(x-d, y+d, false)
				same = same && m1 == mat && m2 == mat
			}
			if !same {
				continue
			}
			if sums[mat] == nil {
				sums[mat] = &acc{}
			}
			for b := 0; b < nS2; b++ {
				sums[mat].b[b] += float64(before.refl[b][row*n+col])
				sums[mat].a[b] += float64(after.refl[b][row*n+col])
			}
			counts[mat]++
		}
	}
	ratioNIR := func(mat int) float64 { return sums[mat].a[iNIR] / sums[mat].b[iNIR] }
	if sums[matCrop] == nil || sums[matConcrete] == nil {
		t.Fatalf("no clear cropland or concrete pixels: %v", counts)
	}
	if got := ratioNIR(matCrop); got < 1.1 {
		t.Errorf("cropland NIR after/before %.3f, want a green-up above 1.1", got)
	}
	if got := ratioNIR(matConcrete); math.Abs(got-1) > 0.01 {
		t.Errorf("concrete NIR after/before %.3f, want 1", got)
	}
	// Clouds brighten the visible bands; hot sources raise SWIR2 above SWIR1.
	var cloudy, hot int
	for row := 0; row < n; row++ {
		for col := 0; col < n; col++ {
			x, y := (float64(col)+0.5)*px, (float64(row)+0.5)*px
			i := row*n + col
			if w.cloudAlpha(x, y) > 0.9 && after.refl[iBlue][i] > 0.4 && after.scl[i] == 9 {
				cloudy++
			}
			for _, h := range w.hots {
				if h.box.contains(x, y) && after.refl[iSWIR2][i] > after.refl[iSWIR1][i] && after.refl[iSWIR2][i]-before.refl[iSWIR2][i] > 0.1 {
					hot++
				}
			}
		}
	}
	// Plumes make the river's red rise well above the sensor noise.
	plumes := map[int32]bool{}
	for _, p := range w.plumes {
		plumes[p.id] = true
	}
	var rise float64
	var npl int
	for i, l := range labels {
		if plumes[l] {
			rise += float64(after.refl[iRed][i] - before.refl[iRed][i])
			npl++
		}
	}
	if npl == 0 || rise/float64(npl) < 0.01 {
		t.Errorf("%d plume pixels, mean red rise %.4f, want above 0.01", npl, rise/float64(max(npl, 1)))
	}
	if len(w.clouds) > 0 && cloudy == 0 {
		t.Error("no opaque cloud pixel is bright and classed 9 in SCL")
	}
	if want := 4 * len(w.hots); hot < want/2 {
		t.Errorf("%d hot pixels show SWIR2 > SWIR1 and a rise, want most of %d", hot, want)
	}
}
