package raster

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/airbusgeo/godal"
)

// benchJob returns scene metadata and a 48×48 parcel job over it.
func benchJob(b testing.TB) (*meta, job, []byte, []byte) {
	b.Helper()
	path := MustWriteScene(b, b.TempDir(), gdalwarpScenes[1])
	a, err := Env{AllowLocalFiles: true}.connect(context.Background(), FileSource(path))
	if err != nil {
		b.Fatal(err)
	}
	defer a.close()
	s, err := a.openScene(FileSource(path))
	if err != nil {
		b.Fatal(err)
	}
	m, err := readMeta(s)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.close(); err != nil {
		b.Fatal(err)
	}
	win := window{10, 10, 48, 48}
	j := job{id: "x", win: win, pix: pixelPolygons{{{{10, 10}, {58, 12}, {50, 58}, {10, 10}}}}}
	pix := make([]byte, m.bands*win.W*win.H*m.pt.size)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	mask, err := rasterizeMask(j.pix, win, false)
	if err != nil {
		b.Fatal(err)
	}
	return m, j, pix, mask
}

func BenchmarkEncodeCOG(b *testing.B) {
	m, j, pix, mask := benchJob(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := encodeCOG(context.Background(), m, j.id, j.win, pix, mask, map[string]string{"parcel_id": "x"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQuickLook(b *testing.B) {
	m, j, pix, mask := benchJob(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := quickLook(m, j, pix, mask, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRasterizeMask(b *testing.B) {
	_, j, _, _ := benchJob(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := rasterizeMask(j.pix, j.win, false); err != nil {
			b.Fatal(err)
		}
	}
}

// TestQuickLookPNG decodes a quick-look with image/png and checks its size,
// transparency outside the parcel and the outline colour.
func TestQuickLookPNG(t *testing.T) {
	m, j, pix, mask := benchJob(t)
	b, err := quickLook(m, j, pix, mask, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	scale := quickLookSize / 48
	if got := img.Bounds().Size(); got != image.Pt(48*scale, 48*scale) {
		t.Fatalf("size %v", got)
	}
	if _, _, _, a := img.At(47*scale, 0).RGBA(); a != 0 {
		t.Errorf("top-right corner (outside the parcel) is not transparent")
	}
	yellow := 0
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			if r>>8 == 255 && g>>8 == 221 && bl == 0 && a>>8 == 255 {
				yellow++
			}
		}
	}
	if yellow < 100 {
		t.Errorf("outline has %d pixels", yellow)
	}
}

// BenchmarkClip clips 200 parcels from a generated 2048² 4-band UInt16
// scene (256-pixel tiles) on local disk, quick-looks included.
func BenchmarkClip(b *testing.B) {
	sc := testScene{name: "bench", epsg: 32650, gt: [6]float64{400000, 10, 0, 3500000, 0, -10}, w: 2048, h: 2048, bands: 4, dt: godal.UInt16, nodata: ptr(0), block: 256}
	path := MustWriteScene(b, b.TempDir(), sc)
	rng := rand.New(rand.NewPCG(1, 1))
	var parcels []Parcel
	for i := 0; i < 200; i++ {
		g := randomParcel(b, rng, sc, i, 30+rng.Float64()*1980, 30+rng.Float64()*1980, 5+rng.Float64()*20)
		parcels = append(parcels, Parcel{ID: itoa(i), Geometry: g})
	}
	env := Env{AllowLocalFiles: true}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := Clip(context.Background(), env, FileSource(path), parcels, ClipOptions{}, func(ClipOutput) error { return nil })
		if err != nil || st.Clipped != 200 {
			b.Fatal(st, err)
		}
	}
}

func TestPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for n := 1; n < 300; n += 7 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(rng.IntN(50))
		}
		s := append([]float64(nil), v...)
		slices.Sort(s)
		lo, hi := percentiles(v, 0.02, 0.98)
		wlo := s[int(math.Round(0.02*float64(n-1)))]
		whi := s[int(math.Round(0.98*float64(n-1)))]
		if lo != wlo || hi != whi {
			t.Fatalf("n=%d: got %v %v, want %v %v", n, lo, hi, wlo, whi)
		}
	}
}
