package raster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"slices"

	"github.com/airbusgeo/godal"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/quantile"
)

// gmfPerDataset is GDAL's GMF_PER_DATASET mask flag.
const gmfPerDataset = 0x02

// cogOptions returns the COG driver creation options for a w×h clip:
// DEFLATE with the predictor suited to the type, 128-pixel tiles for small
// clips (less padding to compress) and 256-pixel tiles otherwise.
func cogOptions(w, h int) []string {
	block := "BLOCKSIZE=256"
	if max(w, h) <= 128 {
		block = "BLOCKSIZE=128"
	}
	return []string{"COMPRESS=DEFLATE", "PREDICTOR=YES", block, "NUM_THREADS=1"}
}

// encodeCOG writes the masked window pixels as a COG in memory, with tags
// and parcel_id=id as dataset metadata; a large window's translation stops
// when ctx is done.
func encodeCOG(ctx context.Context, m *meta, id string, win window, pix, mask []byte, tags map[string]string) (cog []byte, err error) {
	if m.canFastCOG(win.W, win.H) {
		tpl, err := m.templateFor()
		if err != nil {
			return nil, err
		}
		all := map[string]string{}
		for k, v := range tags {
			all[k] = v
		}
		all["parcel_id"] = id
		return writeFastCOG(m, tpl, win.W, win.H, m.geoTransform(win), pix, all)
	}
	ds, err := godal.Create(godal.Memory, "", m.bands, m.pt.dt, win.W, win.H, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: clip dataset: %w", err)
	}
	defer func() {
		if cerr := ds.Close(errLogger); cerr != nil && err == nil {
			err = fmt.Errorf("raster: close clip dataset: %w", cerr)
		}
	}()
	if err := ds.SetGeoTransform(m.geoTransform(win), errLogger); err != nil {
		return nil, fmt.Errorf("raster: clip geotransform: %w", err)
	}
	if err := ds.SetProjection(m.wkt, errLogger); err != nil {
		return nil, fmt.Errorf("raster: clip projection: %w", err)
	}
	if err := ds.Write(0, 0, m.pt.view(pix), win.W, win.H, godal.BandInterleaved(), errLogger); err != nil {
		return nil, fmt.Errorf("raster: write clip: %w", err)
	}
	for i, b := range ds.Bands() {
		if m.nodata != nil {
			if err := b.SetNoData(*m.nodata, errLogger); err != nil {
				return nil, fmt.Errorf("raster: clip nodata: %w", err)
			}
		}
		if m.descs[i] != "" {
			if err := b.SetDescription(m.descs[i], errLogger); err != nil {
				return nil, fmt.Errorf("raster: clip band description: %w", err)
			}
		}
		if m.colours[i] != godal.CIUndefined {
			if err := b.SetColorInterp(m.colours[i], errLogger); err != nil {
				return nil, fmt.Errorf("raster: clip colour interpretation: %w", err)
			}
		}
	}
	if m.nodata == nil && m.alpha < 0 {
		mb, err := ds.CreateMaskBand(gmfPerDataset, errLogger)
		if err != nil {
			return nil, fmt.Errorf("raster: clip mask: %w", err)
		}
		mv := make([]byte, len(mask))
		for i, v := range mask {
			if v != 0 {
				mv[i] = 255
			}
		}
		if err := mb.Write(0, 0, mv, win.W, win.H, errLogger); err != nil {
			return nil, fmt.Errorf("raster: write clip mask: %w", err)
		}
	}
	all := map[string]string{"parcel_id": id}
	for k, v := range tags {
		all[k] = v
	}
	all["parcel_id"] = id
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := ds.SetMetadata(k, all[k], errLogger); err != nil {
			return nil, fmt.Errorf("raster: clip tag %q: %w", k, err)
		}
	}
	return translateToBytes(ctx, ds, "COG", cogOptions(win.W, win.H))
}

// translateToBytes copies ds with the named driver into /vsimem/ and returns
// the file's bytes. The translation stops when ctx is done.
func translateToBytes(ctx context.Context, ds *godal.Dataset, driver string, creation []string) (data []byte, err error) {
	name, err := memName(".tif")
	if err != nil {
		return nil, err
	}
	sw := []string{"-of", driver}
	for _, c := range creation {
		sw = append(sw, "-co", c)
	}
	out, err := translate(ctx, ds, name, sw, nil, gdalErrors)
	if err != nil {
		return nil, fmt.Errorf("raster: write %s: %w", driver, err)
	}
	defer func() {
		if uerr := godal.VSIUnlink(name, errLogger); uerr != nil && err == nil {
			err = fmt.Errorf("raster: remove %s: %w", name, uerr)
		}
	}()
	if err := out.Close(errLogger); err != nil {
		return nil, fmt.Errorf("raster: close %s output: %w", driver, err)
	}
	return readVSI(name)
}

// readVSI reads a whole GDAL virtual file.
func readVSI(name string) (data []byte, err error) {
	f, err := godal.VSIOpen(name, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: open %s: %w", name, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("raster: close %s: %w", name, cerr)
		}
	}()
	data, err = io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("raster: read %s: %w", name, err)
	}
	return data, nil
}

// memName returns a fresh /vsimem/ file name.
func memName(ext string) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("raster: random name: %w", err)
	}
	return "/vsimem/offsite-" + hex.EncodeToString(b[:]) + ext, nil
}

// quickLookBands returns the bands to show (1-based).
func quickLookBands(req []int, n int) []int {
	switch {
	case len(req) > 0:
		return req
	case n >= 3:
		return []int{3, 2, 1}
	default:
		return []int{1}
	}
}

// quickLookSize is the longest side small quick-looks are enlarged to.
const quickLookSize = 160

// quickLook renders the clip as an RGBA PNG: each chosen band stretched
// between its 2nd and 98th percentile over valid pixels, transparent outside
// the parcel, parcel outline in yellow, marks (in the scene's CRS) over it in
// MarkColour. Small clips are enlarged by an integer factor (nearest neighbour)
// so the outlines stay readable.
func quickLook(m *meta, j job, pix, mask []byte, req []int, marks []orb.Geometry) ([]byte, error) {
	bands := quickLookBands(req, m.bands)
	w, h := j.win.W, j.win.H
	n := w * h
	es := m.pt.size
	scale := max(1, quickLookSize/max(w, h))
	lo := make([]float64, len(bands))
	hi := make([]float64, len(bands))
	vals := make([]float64, 0, n)
	for k, b := range bands {
		vals = vals[:0]
		for i := 0; i < n; i++ {
			if mask[i] != 0 {
				v := m.pt.decode(pix[((b-1)*n+i)*es:])
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					vals = append(vals, v)
				}
			}
		}
		lo[k], hi[k] = percentiles(vals, 0.02, 0.98)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w*scale, h*scale))
	row := make([]byte, w*scale*4)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			var c [4]uint8
			if mask[i] != 0 {
				for k, b := range bands {
					c[k] = stretch(m.pt.decode(pix[((b-1)*n+i)*es:]), lo[k], hi[k])
				}
				if len(bands) == 1 {
					c[1], c[2] = c[0], c[0]
				}
				c[3] = 255
			}
			for dx := 0; dx < scale; dx++ {
				copy(row[(x*scale+dx)*4:], c[:])
			}
		}
		for dy := 0; dy < scale; dy++ {
			copy(img.Pix[(y*scale+dy)*img.Stride:], row)
		}
	}
	drawOutline(img, j.pix, j.win, float64(scale), parcelColour)
	for _, g := range marks {
		if polys, err := polygons(g); err == nil {
			drawOutline(img, m.toPixels(polys), j.win, float64(scale), MarkColour)
		}
	}
	b, err := encodePNG(img)
	if err != nil {
		return nil, fmt.Errorf("raster: encode quick-look: %w", err)
	}
	return b, nil
}

// percentiles returns the p and q quantiles (p < q) of vals, which it
// reorders: two quickselects instead of a sort.
func percentiles(vals []float64, p, q float64) (float64, float64) {
	if len(vals) == 0 {
		return 0, 1
	}
	i := int(math.Round(p * float64(len(vals)-1)))
	j := int(math.Round(q * float64(len(vals)-1)))
	lo := quantile.Select(vals, i)
	hi := quantile.Select(vals[i:], j-i)
	return lo, hi
}

// stretch maps v linearly from [lo, hi] to [0, 255].
func stretch(v, lo, hi float64) uint8 {
	if hi <= lo {
		if v > lo {
			return 255
		}
		return 128
	}
	t := (v - lo) / (hi - lo) * 255
	return uint8(math.Round(math.Max(0, math.Min(255, t))))
}

// parcelColour outlines the parcel on quick-looks.
var parcelColour = color.NRGBA{255, 221, 0, 255}

// MarkColour outlines ClipOptions.Marks on quick-looks.
var MarkColour = color.NRGBA{255, 0, 255, 255}

// drawOutline draws every ring of pix (pixel/line coordinates of the scene) on
// the quick-look of win, enlarged scale times, in c.
func drawOutline(img *image.NRGBA, pix pixelPolygons, win window, scale float64, c color.NRGBA) {
	for _, poly := range pix {
		for _, ring := range poly {
			for k := 1; k < len(ring); k++ {
				x0 := (ring[k-1][0] - float64(win.X)) * scale
				y0 := (ring[k-1][1] - float64(win.Y)) * scale
				x1 := (ring[k][0] - float64(win.X)) * scale
				y1 := (ring[k][1] - float64(win.Y)) * scale
				steps := int(math.Ceil(math.Max(math.Abs(x1-x0), math.Abs(y1-y0)))) + 1
				for s := 0; s <= steps; s++ {
					t := float64(s) / float64(steps)
					px := int(math.Floor(x0 + (x1-x0)*t))
					py := int(math.Floor(y0 + (y1-y0)*t))
					if image.Pt(px, py).In(img.Rect) {
						img.SetNRGBA(px, py, c)
					}
				}
			}
		}
	}
}
