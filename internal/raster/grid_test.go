package raster

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/testenv"
)

// TestReadBandsSentinel2Mixed reads the decimated Sentinel-2 tile (B04/B08 at
// 100 m, B11/B12/SCL at 200 m) onto the 100 m grid that gdalinfo reports for
// B04.tif: 1098 × 1098, origin (199980, 2800020), 100 m pixels.
func TestReadBandsSentinel2Mixed(t *testing.T) {
	dir := filepath.Dir(testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated/B04.tif"))
	var srcs []Source
	for _, b := range []string{"B04", "B08", "B11", "B12", "SCL"} {
		srcs = append(srcs, FileSource(filepath.Join(dir, b+".tif")))
	}
	env := Env{AllowLocalFiles: true}
	ctx := context.Background()
	full, err := ReadBands(ctx, env, srcs, BandsOptions{Bands: []string{"B04", "B08", "B11", "B12", "SCL"}, Nearest: []string{"SCL"}})
	if err != nil {
		t.Fatal(err)
	}
	if full.Width != 1098 || full.Height != 1098 {
		t.Errorf("size %d × %d, want 1098 × 1098", full.Width, full.Height)
	}
	if want := [6]float64{199980, 100, 0, 2800020, 0, -100}; full.GeoTransform != want {
		t.Errorf("geotransform %v, want %v", full.GeoTransform, want)
	}
	if got, want := fmt.Sprint(full.Source, full.Band), "[0 1 2 3 4] [1 1 1 1 1]"; got != want {
		t.Errorf("sources, bands %s, want %s", got, want)
	}
	if full.EPSG != 32629 {
		t.Errorf("EPSG %d, want 32629", full.EPSG)
	}
	if got := strings.Join(full.Warped, ","); got != "B11,B12,SCL" {
		t.Errorf("warped %q, want B11,B12,SCL", got)
	}
	valid := 0
	for _, v := range full.Valid {
		if v {
			valid++
		}
	}
	if valid < len(full.Valid)/4 {
		t.Errorf("only %d of %d pixels valid", valid, len(full.Valid))
	}
	// SCL resampled by nearest neighbour keeps whole class values.
	for i, v := range full.Get("SCL") {
		if full.Valid[i] && (v != float32(math.Trunc(float64(v))) || v < 0 || v > 11) {
			t.Fatalf("SCL pixel %d = %v, not a class", i, v)
		}
	}

	// A box around the tile centre, with a buffer: a window of the same grid.
	cx, cy := 199980+549*100.0, 2800020-549*100.0
	ll, err := TransformPoints("EPSG:32629", "+proj=longlat +datum=WGS84 +no_defs", [][2]float64{{cx - 2000, cy - 2000}, {cx + 2000, cy + 2000}})
	if err != nil {
		t.Fatal(err)
	}
	box := orb.Bound{Min: orb.Point{ll[0][0], ll[0][1]}, Max: orb.Point{ll[1][0], ll[1][1]}}
	win, err := ReadBands(ctx, env, srcs, BandsOptions{Bands: []string{"B04", "B11"}, BBox: box, BufferM: 500})
	if err != nil {
		t.Fatal(err)
	}
	if win.Width < 50 || win.Width > 52 || win.Height < 50 || win.Height > 52 {
		t.Errorf("window %d × %d, want about 50 × 50 (4 km + 2 × 500 m at 100 m)", win.Width, win.Height)
	}
	x0 := int(math.Round((win.GeoTransform[0] - 199980) / 100))
	y0 := int(math.Round((2800020 - win.GeoTransform[3]) / 100))
	for _, name := range []string{"B04", "B11"} {
		a, b := win.Get(name), full.Get(name)
		for r := 0; r < win.Height; r++ {
			for c := 0; c < win.Width; c++ {
				// Bilinear interpolation at the window edge may differ; compare the inside.
				if r == 0 || c == 0 || r == win.Height-1 || c == win.Width-1 {
					continue
				}
				if got, want := a[r*win.Width+c], b[(y0+r)*full.Width+x0+c]; math.Abs(float64(got-want)) > 1e-3 {
					t.Fatalf("%s window pixel (%d,%d) = %v, full read has %v", name, r, c, got, want)
				}
			}
		}
	}

	// Onto another grid: the 200 m band read onto the 100 m window.
	onto, err := ReadBands(ctx, env, srcs[2:3], BandsOptions{Bands: []string{"1"}, Onto: win})
	if err != nil {
		t.Fatal(err)
	}
	if onto.Width != win.Width || onto.GeoTransform != win.GeoTransform {
		t.Errorf("onto grid %d %v, want %d %v", onto.Width, onto.GeoTransform, win.Width, win.GeoTransform)
	}
}

func TestReadBandsErrors(t *testing.T) {
	path := testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated/B04.tif")
	env := Env{AllowLocalFiles: true}
	_, err := ReadBands(context.Background(), env, []Source{FileSource(path)}, BandsOptions{Bands: []string{"B11"}})
	if err == nil || !strings.Contains(err.Error(), `no band "B11"`) || !strings.Contains(err.Error(), "1 B04") || !strings.Contains(err.Error(), "B04.tif") {
		t.Errorf("missing band: got %v, want it to name the file, B11 and the bands there are", err)
	}
	_, err = ReadBands(context.Background(), env, []Source{FileSource(path)}, BandsOptions{Bands: []string{"1"}, BBox: orb.Bound{Min: orb.Point{100, 10}, Max: orb.Point{100.1, 10.1}}})
	if err == nil || !strings.Contains(err.Error(), "misses the scene") {
		t.Errorf("box outside: got %v", err)
	}
	_, err = ReadBands(context.Background(), Env{}, []Source{FileSource(path)}, BandsOptions{Bands: []string{"1"}})
	if err == nil {
		t.Error("local file without AllowLocalFiles: no error")
	}
}

// TestReadBandsOtherCRS reads a lon/lat copy of B04 (made with gdalwarp) onto a window of
// the UTM original: same grid, values within the bilinear error of the original's.
func TestReadBandsOtherCRS(t *testing.T) {
	src := testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated/B04.tif")
	if _, err := exec.LookPath("gdalwarp"); err != nil {
		t.Skip("gdalwarp not found")
	}
	ll := filepath.Join(t.TempDir(), "B04_wgs84.tif")
	if out, err := exec.Command("gdalwarp", "-q", "-t_srs", "EPSG:4326", "-r", "bilinear", "-tr", "0.0005", "0.0005", src, ll).CombinedOutput(); err != nil {
		t.Fatalf("gdalwarp: %v: %s", err, out)
	}
	env := Env{AllowLocalFiles: true}
	ctx := context.Background()
	cx, cy := 199980+549*100.0, 2800020-549*100.0
	pts, err := TransformPoints("EPSG:32629", "+proj=longlat +datum=WGS84 +no_defs", [][2]float64{{cx - 3000, cy - 3000}, {cx + 3000, cy + 3000}})
	if err != nil {
		t.Fatal(err)
	}
	box := orb.Bound{Min: orb.Point{pts[0][0], pts[0][1]}, Max: orb.Point{pts[1][0], pts[1][1]}}
	utm, err := ReadBands(ctx, env, []Source{FileSource(src)}, BandsOptions{Bands: []string{"B04"}, BBox: box})
	if err != nil {
		t.Fatal(err)
	}
	onto, err := ReadBands(ctx, env, []Source{FileSource(ll)}, BandsOptions{Bands: []string{"1"}, Onto: utm})
	if err != nil {
		t.Fatal(err)
	}
	if onto.Width != utm.Width || onto.Height != utm.Height || onto.GeoTransform != utm.GeoTransform || len(onto.Warped) != 1 {
		t.Fatalf("onto grid %d × %d %v warped %v, want %d × %d %v warped", onto.Width, onto.Height, onto.GeoTransform, onto.Warped, utm.Width, utm.Height, utm.GeoTransform)
	}
	var sum, n float64
	for i, v := range utm.Get("B04") {
		if utm.Valid[i] && onto.Valid[i] {
			sum += math.Abs(float64(onto.Data[0][i] - v))
			n++
		}
	}
	if n < float64(len(utm.Valid))/2 {
		t.Fatalf("only %v pixels valid on both", n)
	}
	mean := 0.0
	for i, v := range utm.Get("B04") {
		if utm.Valid[i] {
			mean += float64(v)
		}
	}
	mean /= n
	if mad := sum / n; mad > 0.1*mean {
		t.Errorf("mean absolute difference %.1f after two warps, mean value %.1f", mad, mean)
	}
}
