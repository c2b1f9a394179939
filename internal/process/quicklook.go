package process

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"

	"github.com/paulmach/orb"
)

// outlineColour marks findings on quick-looks; the parcel outline raster.Clip draws is
// another colour.
var outlineColour = color.NRGBA{R: 255, G: 0, B: 255, A: 255}

// outlineFindings draws the outlines of geoms (in the clip's CRS) on a quick-look PNG of a
// clip whose geotransform is gt and width clipW pixels; the PNG may be scaled down.
func outlineFindings(pngData []byte, gt [6]float64, clipW int, geoms []orb.Geometry) ([]byte, error) {
	if len(pngData) == 0 || len(geoms) == 0 || clipW <= 0 {
		return pngData, nil
	}
	src, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("decode png: %w", err)
	}
	img := image.NewNRGBA(src.Bounds())
	draw.Draw(img, img.Bounds(), src, src.Bounds().Min, draw.Src)
	scale := float64(img.Bounds().Dx()) / float64(clipW)
	toImg := func(p orb.Point) (float64, float64) {
		return (p[0] - gt[0]) / gt[1] * scale, (p[1] - gt[3]) / gt[5] * scale
	}
	for _, g := range geoms {
		for _, poly := range outlinePolygons(g) {
			for _, ring := range poly {
				for k := 1; k < len(ring); k++ {
					x0, y0 := toImg(ring[k-1])
					x1, y1 := toImg(ring[k])
					drawSegment(img, x0, y0, x1, y1)
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

func outlinePolygons(g orb.Geometry) []orb.Polygon {
	switch g := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

// drawSegment plots a line of opaque pixels from (x0, y0) to (x1, y1), clipped to img.
func drawSegment(img *image.NRGBA, x0, y0, x1, y1 float64) {
	n := int(math.Ceil(math.Max(math.Abs(x1-x0), math.Abs(y1-y0)))) + 1
	if n > 1<<16 {
		n = 1 << 16
	}
	b := img.Bounds()
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		x := int(math.Floor(x0 + (x1-x0)*t))
		y := int(math.Floor(y0 + (y1-y0)*t))
		if x == b.Max.X {
			x--
		}
		if y == b.Max.Y {
			y--
		}
		if image.Pt(x, y).In(b) {
			img.SetNRGBA(x, y, outlineColour)
		}
	}
}
