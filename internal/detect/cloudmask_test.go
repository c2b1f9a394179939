package detect

import (
	"context"
	"testing"

	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/testenv"
)

// TestSpectralMaskAgreesWithSCL compares the spectral cloud and shadow mask (object
// decisions, single date) with the L2A scene classification of the shared Sentinel-2 tile
// (bright desert, 4% cloud, mostly thin cirrus; red, nir, swir1, swir2 only), at the
// tile's 100 m: the desert must stay clear and the dense cloud must be masked.
func TestSpectralMaskAgreesWithSCL(t *testing.T) {
	dir := testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated")
	var srcs []raster.Source
	for _, b := range []string{"B04", "B08", "B11", "B12", "SCL"} {
		srcs = append(srcs, raster.FileSource(dir+"/"+b+".tif"))
	}
	b, err := raster.ReadBands(context.Background(), raster.Env{AllowLocalFiles: true}, srcs,
		raster.BandsOptions{Bands: []string{"B04", "B08", "B11", "B12", "SCL"}, Nearest: []string{"SCL"}})
	if err != nil {
		t.Fatal(err)
	}
	g := &Grid{Width: b.Width, Height: b.Height, GeoTransform: b.GeoTransform, Valid: b.Valid,
		Names: []string{BandRed, BandNIR, BandSWIR1, BandSWIR2}}
	for _, d := range b.Data[:4] {
		for i := range d {
			d[i] *= 1e-4 // processing baseline 02.14: no offset
		}
		g.Bands = append(g.Bands, d)
	}
	scl := b.Data[4]
	got := cloudObjects(g, nil, 100000, 2000)
	pixel := newClearSky(g)
	// counts[class][0]: pixels, [1]: masked by the object mask, [2]: by the pixel test.
	counts := map[int]*[3]int{}
	for i, v := range scl {
		if !b.Valid[i] {
			continue
		}
		c := counts[int(v)]
		if c == nil {
			c = &[3]int{}
			counts[int(v)] = c
		}
		c[0]++
		if got[i] {
			c[1]++
		}
		if pixel.cloud(i) || pixel.shadow(i) {
			c[2]++
		}
	}
	var sums [11][4]float64
	var ns [11]int
	for i, v := range scl {
		if b.Valid[i] && v <= 10 {
			for k := 0; k < 4; k++ {
				sums[int(v)][k] += float64(g.Bands[k][i])
			}
			ns[int(v)]++
		}
	}
	for c := range sums {
		if ns[c] > 0 {
			t.Logf("class %d: red %.3f nir %.3f swir1 %.3f swir2 %.3f", c, sums[c][0]/float64(ns[c]), sums[c][1]/float64(ns[c]), sums[c][2]/float64(ns[c]), sums[c][3]/float64(ns[c]))
		}
	}
	share := func(c *[3]int, k int) float64 {
		if c == nil || c[0] == 0 {
			return 0
		}
		return float64(c[k]) / float64(c[0])
	}
	for _, class := range []int{3, 4, 5, 6, 7, 8, 9, 10} {
		if c := counts[class]; c != nil {
			t.Logf("SCL %2d: %7d pixels, %5.1f%% masked (pixel test alone %5.1f%%)", class, c[0], 100*share(c, 1), 100*share(c, 2))
		}
	}
	clearShare := share(counts[5], 1)
	if clearShare > 0.01 {
		t.Errorf("%.1f%% of SCL bare-soil pixels masked, want at most 1%%", 100*clearShare)
	}
	if dense := share(counts[9], 1); dense < 0.5 {
		t.Errorf("%.1f%% of SCL high-probability cloud masked, want at least 50%%", 100*dense)
	}
}
