package raster

import (
	"context"
	"fmt"
	"strconv"

	"github.com/airbusgeo/godal"
)

// maxDecimateBlock bounds the bytes of one block of all bands that decimateBlocks holds
// (a 10980-wide strip of 256 rows of 10 UInt16 bands is 56 MB); a scene in larger blocks
// (in one block, say) is decimated by GDAL (decimateTranslate).
const maxDecimateBlock = 256 << 20

// decimate returns the scene decimated to w × h pixels by nearest neighbour, band after
// band, as float64 (w × h values per band). A scene with overviews is read through them
// (decimateTranslate: GDAL picks the level, and the read is small); any other is read at
// full resolution a block at a time, all bands in one read, so that each block is decoded
// once (decimateBlocks).
func decimate(ctx context.Context, a *access, src Source, s *scene, m *meta, w, h int) ([]float64, error) {
	if len(s.ds.Bands()[0].Overviews()) > 0 || m.bands*m.blockW*m.blockH*m.pt.size > maxDecimateBlock {
		return decimateTranslate(ctx, a, s, w, h, m.bands)
	}
	return decimateBlocks(ctx, a, src, s, m, w, h)
}

// decimateTranslate is decimate through gdal_translate -outsize w h -r nearest to memory,
// which stops when ctx is done. GDAL reads the scene band by band: on a tiled scene
// without overviews whose blocks hold all bands (INTERLEAVE=PIXEL), every band's pass
// decodes the tiles again once a row of them outgrows the block cache (GDAL_CACHEMAX): a
// 10980² scene of 10 UInt16 bands in 256-pixel tiles took over 150 s, 85% of it inflating
// tiles, against some 16 s to decode it once.
func decimateTranslate(ctx context.Context, a *access, s *scene, w, h, bands int) ([]float64, error) {
	small, err := translate(ctx, s.ds, "", []string{"-of", "MEM", "-outsize", strconv.Itoa(w), strconv.Itoa(h), "-r", "nearest"}, s.cfg, s.warn.handle)
	if err != nil {
		return nil, a.readError(ctx, "read "+s.name, err)
	}
	buf := make([]float64, bands*w*h)
	err = small.Read(0, 0, buf, w, h, godal.BandInterleaved(), s.log)
	if cerr := small.Close(s.log); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, a.readError(ctx, "read "+s.name, err)
	}
	return buf, nil
}

// decimateBlocks is decimate by reading the scene at full resolution: for each row of
// blocks holding picked rows, the block of each column holding picked columns, all bands
// in one dataset read in the native data type (GDAL decodes a block of a pixel-interleaved
// file once for all its bands), from which the picked pixels are kept. Pixels are picked
// as GDAL's nearest-neighbour RasterIO picks them (nearestPicks), so the result equals
// decimateTranslate's on a scene without overviews. Memory holds one block of all bands
// besides the result; from object storage (ReaderGo), each row of blocks is fetched ahead
// in a few large GETs. It stops between blocks when ctx is done.
func decimateBlocks(ctx context.Context, a *access, src Source, s *scene, m *meta, w, h int) ([]float64, error) {
	xs, ys := nearestPicks(m.width, w), nearestPicks(m.height, h)
	n, es := w*h, m.pt.size
	out := make([]float64, m.bands*n)
	blk := make([]byte, m.bands*m.blockW*m.blockH*es)
	all := make([]int, m.bands)
	for b := range all {
		all[b] = b
	}
	defer a.release()
	j := 0 // the next output row
	for y1 := m.blockH; j < h; y1 += m.blockH {
		j0 := j
		j = pastPicks(ys, j, y1)
		if j == j0 {
			continue
		}
		rows := window{0, ys[j0], m.width, ys[j-1] - ys[j0] + 1}
		a.release()
		a.preloadBlocks(s, src, m, rows, all)
		i := 0 // the next output column
		for x1 := m.blockW; i < w; x1 += m.blockW {
			i0 := i
			i = pastPicks(xs, i, x1)
			if i == i0 {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("raster: read %s: %w", s.name, err)
			}
			win := window{xs[i0], rows.Y, xs[i-1] - xs[i0] + 1, rows.H}
			k := m.bands * win.W * win.H * es
			if err := s.ds.Read(win.X, win.Y, m.pt.view(blk[:k]), win.W, win.H, godal.BandInterleaved(),
				godal.ConfigOption(s.cfg...), s.log); err != nil {
				return nil, a.readError(ctx, "read "+s.name, err)
			}
			for b := 0; b < m.bands; b++ {
				for r := j0; r < j; r++ {
					line := blk[(b*win.H+ys[r]-win.Y)*win.W*es:]
					o := out[b*n+r*w:]
					for c := i0; c < i; c++ {
						o[c] = m.pt.decode(line[(xs[c]-win.X)*es:])
					}
				}
			}
		}
	}
	return out, nil
}

// pastPicks returns the first index from i on whose pick lies at or past end (the next
// block's first pixel), or len(picks).
func pastPicks(picks []int, i, end int) int {
	for i < len(picks) && picks[i] < end {
		i++
	}
	return i
}

// nearestPicks returns the source pixels GDAL's nearest-neighbour RasterIO reads for n
// output pixels over size source pixels (gcore/rasterio.cpp): the one under the output
// pixel's centre, (i + 0.5) × size/n, nudged by 1e-10 against rounding.
func nearestPicks(size, n int) []int {
	inc := float64(size) / float64(n)
	p := make([]int, n)
	for i := range p {
		p[i] = min(size-1, max(0, int((float64(i)+0.5)*inc+1e-10)))
	}
	return p
}
