package evalreal

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/pipelines"
)

func TestDerive(t *testing.T) {
	pipes, err := pipelines.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Derive(pipes["sentinel2"], "calfire-sentinel2", CalFireBands, 1e-4, 0, pipelines.TypeHotspot, pipelines.TypeWaterPlume)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]pipelines.BandMap{}
	for role, b := range p.Bands {
		got[role] = b
	}
	want := map[string]pipelines.BandMap{}
	for role, band := range CalFireBands {
		want[role] = pipelines.BandMap{Band: band, Scale: 1e-4}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bands (-want +got):\n%s", diff)
	}
	var types []string
	for _, d := range p.Detectors {
		types = append(types, d.Type)
	}
	if diff := cmp.Diff([]string{pipelines.TypeChange}, types); diff != "" {
		t.Errorf("detectors (-want +got):\n%s", diff)
	}
	if p.Name != "calfire-sentinel2" || p.Hash() == pipes["sentinel2"].Hash() {
		t.Errorf("name %q, hash %s: want its own name and content", p.Name, p.Hash())
	}
}

// TestLevir converts a 3×2 pair with its label and reads the GeoTIFFs back.
func TestLevir(t *testing.T) {
	dir := t.TempDir()
	write := func(sub string, px func(x, y int) color.Color) {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		img := image.NewRGBA(image.Rect(0, 0, 3, 2))
		for y := 0; y < 2; y++ {
			for x := 0; x < 3; x++ {
				img.Set(x, y, px(x, y))
			}
		}
		f, err := os.Create(filepath.Join(dir, sub, "p.png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
	}
	write("A", func(x, y int) color.Color { return color.RGBA{uint8(10 * x), uint8(20 * y), 7, 255} })
	write("B", func(x, y int) color.Color { return color.RGBA{200, 100, 50, 255} })
	write("label", func(x, y int) color.Color {
		if x == 2 {
			return color.Gray{255}
		}
		return color.Gray{0}
	})
	out := t.TempDir()
	pairs, err := Levir(dir, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 1 {
		t.Fatalf("%d pairs, want 1", len(pairs))
	}
	p := pairs[0]
	if diff := cmp.Diff([]bool{false, false, true, false, false, true}, p.Label); diff != "" {
		t.Errorf("label (-want +got):\n%s", diff)
	}
	b, err := raster.ReadBands(context.Background(), raster.Env{AllowLocalFiles: true}, []raster.Source{raster.FileSource(p.Before)}, raster.BandsOptions{Bands: []string{"1", "2", "3"}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{0, 10, 20, 0, 10, 20}, {0, 0, 0, 20, 20, 20}, {7, 7, 7, 7, 7, 7}}
	if diff := cmp.Diff(want, b.Data); diff != "" {
		t.Errorf("before bands (-want +got):\n%s", diff)
	}
	if b.GeoTransform[1] != LevirPixel || b.GeoTransform[5] != -LevirPixel || b.EPSG != 32650 {
		t.Errorf("grid %v EPSG %d, want %g m on EPSG:32650", b.GeoTransform, b.EPSG, LevirPixel)
	}
	if _, err := Levir(t.TempDir(), out); err == nil {
		t.Error("Levir of an empty folder: no error")
	}
}

// TestCalFire lists the shared CAL FIRE set (../shared/data from the repository root) and
// checks each mask lies on its fire's grid and holds burned pixels.
func TestCalFire(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data", "real", "calfire"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and the shared data is missing: %v", err)
		}
		t.Skipf("shared data not here: %v", err)
	}
	fires, err := CalFire(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fires) != 10 {
		t.Errorf("%d fires, want 10", len(fires))
	}
	ctx := context.Background()
	for _, f := range fires {
		mb, mask, err := Mask(ctx, f.Mask)
		if err != nil {
			t.Fatal(err)
		}
		pre, err := raster.ReadBands(ctx, raster.Env{AllowLocalFiles: true}, []raster.Source{raster.FileSource(f.Pre)}, raster.BandsOptions{Bands: []string{CalFireBands["swir2"]}})
		if err != nil {
			t.Fatal(err)
		}
		if pre.Width != mb.Width || pre.Height != mb.Height || pre.GeoTransform != mb.GeoTransform {
			t.Errorf("%s: mask grid %d×%d %v, image %d×%d %v", f.Name, mb.Width, mb.Height, mb.GeoTransform, pre.Width, pre.Height, pre.GeoTransform)
		}
		n := 0
		for _, m := range mask {
			if m {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: no burned pixel", f.Name)
		}
	}
	if _, err := CalFire(t.TempDir()); err == nil {
		t.Error("CalFire of an empty folder: no error")
	}
}
