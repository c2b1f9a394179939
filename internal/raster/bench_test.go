package raster

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

// benchJob returns scene metadata and a 48×48 parcel job over it.
func benchJob(b testing.TB) (*meta, job, []byte, []byte) {
	b.Helper()
	path := MustWriteScene(b, b.TempDir(), gdalwarpScenes[1])
	a, err := Env{AllowLocalFiles: true}.connect(FileSource(path))
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
		if _, err := encodeCOG(m, j.win, pix, mask, map[string]string{"parcel_id": "x"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQuickLook(b *testing.B) {
	m, j, pix, mask := benchJob(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := quickLook(m, j, pix, mask, nil); err != nil {
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
	b, err := quickLook(m, j, pix, mask, nil)
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
