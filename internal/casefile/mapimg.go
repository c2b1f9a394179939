package casefile

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/paulmach/orb"
	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Map colours: the parcel as the quick-looks draw it (yellow), findings as outlines in red so
// that what they found stays visible.
var (
	parcelColour  = color.NRGBA{255, 221, 0, 255}
	findingColour = color.NRGBA{230, 20, 20, 255}
	paperColour   = color.NRGBA{240, 240, 236, 255}
	inkColour     = color.NRGBA{0, 0, 0, 255}
)

// earthRadius is the WGS84 semi-major axis, metres.
const earthRadius = 6378137.0

// MapOptions tune RenderMap.
type MapOptions struct {
	// Size is the longest side of the image in pixels; default 800.
	Size int
	// Background is a PNG placed over Parcel's bounding box (a quick-look of the parcel's
	// clip, which covers that box); nil draws plain paper.
	Background []byte
}

// RenderMap draws a parcel (yellow) and findings (red outlines) in WGS84, over a quick-look,
// with a scale bar and a north arrow, and returns a PNG. The drawing is in a local
// equirectangular projection about the centre of the view (metres), which over a parcel is
// within a fraction of a percent of a conformal one.
func RenderMap(parcel orb.Geometry, findings []orb.Geometry, opts MapOptions) ([]byte, error) {
	if parcel == nil {
		return nil, fmt.Errorf("casefile: map: no parcel geometry")
	}
	size := opts.Size
	if size <= 0 {
		size = 800
	}
	view := parcel.Bound()
	for _, g := range findings {
		if g != nil {
			view = view.Union(g.Bound())
		}
	}
	lat0 := (view.Min[1] + view.Max[1]) / 2
	kx := earthRadius * math.Pi / 180 * math.Cos(lat0*math.Pi/180) // metres per degree of longitude
	ky := earthRadius * math.Pi / 180
	wm := math.Max((view.Max[0]-view.Min[0])*kx, 1)
	hm := math.Max((view.Max[1]-view.Min[1])*ky, 1)
	// A margin of 8% around what is drawn, room for the scale bar below.
	pad := 0.08 * math.Max(wm, hm)
	wm, hm = wm+2*pad, hm+2*pad
	var w, h int
	if wm >= hm {
		w, h = size, max(int(float64(size)*hm/wm), size/3)
	} else {
		h, w = size, max(int(float64(size)*wm/hm), size/3)
	}
	mpp := math.Max(wm/float64(w), hm/float64(h)) // metres per pixel
	cx, cy := (view.Min[0]+view.Max[0])/2, lat0
	toPx := func(p orb.Point) (float64, float64) {
		return float64(w)/2 + (p[0]-cx)*kx/mpp, float64(h)/2 - (p[1]-cy)*ky/mpp
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{paperColour}, image.Point{}, draw.Src)
	if len(opts.Background) > 0 {
		bg, err := png.Decode(bytes.NewReader(opts.Background))
		if err != nil {
			return nil, fmt.Errorf("casefile: map: background: %w", err)
		}
		pb := parcel.Bound()
		x0, y0 := toPx(orb.Point{pb.Min[0], pb.Max[1]})
		x1, y1 := toPx(orb.Point{pb.Max[0], pb.Min[1]})
		dst := image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x1)), int(math.Round(y1)))
		draw.ApproxBiLinear.Scale(img, dst, bg, bg.Bounds(), draw.Over, nil)
	}
	for _, g := range findings {
		strokeGeometry(img, g, toPx, findingColour, 3)
	}
	strokeGeometry(img, parcel, toPx, parcelColour, 2)
	drawScaleBar(img, mpp)
	drawNorthArrow(img)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("casefile: map: %w", err)
	}
	return buf.Bytes(), nil
}

// strokeGeometry draws the rings (and lines) of g.
func strokeGeometry(img *image.NRGBA, g orb.Geometry, toPx func(orb.Point) (float64, float64), c color.NRGBA, width float64) {
	var rings []orb.LineString
	switch g := g.(type) {
	case orb.Polygon:
		for _, r := range g {
			rings = append(rings, orb.LineString(r))
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				rings = append(rings, orb.LineString(r))
			}
		}
	case orb.LineString:
		rings = append(rings, g)
	case orb.MultiLineString:
		rings = append(rings, g...)
	case orb.Point:
		x, y := toPx(g)
		disc(img, x, y, 3*width, c)
		return
	case orb.MultiPoint:
		for _, p := range g {
			x, y := toPx(p)
			disc(img, x, y, 3*width, c)
		}
		return
	case orb.Collection:
		for _, x := range g {
			strokeGeometry(img, x, toPx, c, width)
		}
		return
	}
	for _, r := range rings {
		for i := 1; i < len(r); i++ {
			x0, y0 := toPx(r[i-1])
			x1, y1 := toPx(r[i])
			line(img, x0, y0, x1, y1, width, c)
		}
	}
}

// line draws a segment of the given width by stamping discs along it.
func line(img *image.NRGBA, x0, y0, x1, y1, width float64, c color.NRGBA) {
	n := int(math.Ceil(math.Hypot(x1-x0, y1-y0)))
	for i := 0; i <= n; i++ {
		t := 0.0
		if n > 0 {
			t = float64(i) / float64(n)
		}
		disc(img, x0+t*(x1-x0), y0+t*(y1-y0), width/2, c)
	}
}

func disc(img *image.NRGBA, x, y, r float64, c color.NRGBA) {
	b := img.Bounds()
	for py := int(math.Floor(y - r)); py <= int(math.Ceil(y+r)); py++ {
		for px := int(math.Floor(x - r)); px <= int(math.Ceil(x+r)); px++ {
			if !(image.Point{px, py}).In(b) {
				continue
			}
			if (float64(px)+0.5-x)*(float64(px)+0.5-x)+(float64(py)+0.5-y)*(float64(py)+0.5-y) <= r*r+0.25 {
				img.SetNRGBA(px, py, c)
			}
		}
	}
}

func fillRect(img *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	draw.Draw(img, r.Intersect(img.Bounds()), &image.Uniform{c}, image.Point{}, draw.Over)
}

func text(img *image.NRGBA, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(inkColour), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// ScaleBarLength returns the round length (1, 2 or 5 × 10ⁿ metres) closest below a quarter of
// an image width of w pixels at mpp metres per pixel, and its label.
func ScaleBarLength(w int, mpp float64) (float64, string) {
	target := float64(w) / 4 * mpp
	m := math.Pow(10, math.Floor(math.Log10(target)))
	l := m
	for _, f := range []float64{2, 5, 10} {
		if f*m <= target {
			l = f * m
		}
	}
	if l >= 1000 {
		return l, fmt.Sprintf("%g km", l/1000)
	}
	return l, fmt.Sprintf("%g m", l)
}

// drawScaleBar draws a scale bar bottom left: alternating black and white halves with the
// length written above.
func drawScaleBar(img *image.NRGBA, mpp float64) {
	b := img.Bounds()
	length, label := ScaleBarLength(b.Dx(), mpp)
	px := int(math.Round(length / mpp))
	x0, y0 := 16, b.Dy()-16
	fillRect(img, image.Rect(x0-6, y0-30, x0+px+8, y0+6), color.NRGBA{255, 255, 255, 210})
	fillRect(img, image.Rect(x0, y0-6, x0+px, y0), inkColour)
	fillRect(img, image.Rect(x0+px/2, y0-5, x0+px-1, y0-1), color.NRGBA{255, 255, 255, 255})
	text(img, x0, y0-12, "0")
	text(img, x0+px-7*len(label)/2, y0-12, label)
}

// drawNorthArrow draws an arrow pointing up (north: the map is north-up) with an N, top
// right.
func drawNorthArrow(img *image.NRGBA) {
	b := img.Bounds()
	cx, top := float64(b.Dx()-30), 14.0
	fillRect(img, image.Rect(int(cx)-16, int(top)-4, int(cx)+16, int(top)+50), color.NRGBA{255, 255, 255, 210})
	for y := 0.0; y <= 24; y++ { // a filled triangle, apex at the top
		half := y * 8 / 24
		line(img, cx-half, top+y, cx+half, top+y, 1, inkColour)
	}
	line(img, cx, top+24, cx, top+34, 3, inkColour)
	text(img, int(cx)-3, int(top)+48, "N")
}
