package raster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/airbusgeo/godal"
	"github.com/paulmach/orb"
)

// ErrNoOverlap reports that the box ReadBands was asked to read misses the scene.
var ErrNoOverlap = errors.New("raster: box outside the scene")

// BandsOptions tune ReadBands.
type BandsOptions struct {
	// Bands are the bands to read, each by name or by 1-based number. A band's
	// names are its description (e.g. "B04") and, for a single-band file, the
	// file name without extension ("B04" for B04.tif) and the part of it after
	// the last "_" ("B5" for LT05_..._B5.TIF). Names compare case-insensitively.
	// Numbers count the bands of all sources in order.
	Bands []string
	// Optional lists bands of Bands the scene may lack: they are left out of
	// the result (Bands.Missing) instead of failing the read.
	Optional []string
	// Nearest lists bands resampled by nearest neighbour when they must be
	// warped: classification bands such as "SCL". Others are resampled
	// bilinearly.
	Nearest []string
	// BBox limits the read to a WGS84 lon/lat box (grown by BufferM metres);
	// the zero Bound reads the whole extent.
	BBox    orb.Bound
	BufferM float64
	// Onto is a grid to read onto (typically the earlier date of a pair): the
	// bands come onto its CRS, geotransform and size, warped when their own
	// grid differs. When nil the grid is that of the finest requested band,
	// cut to BBox.
	Onto *Bands
}

// Bands are bands of a scene read onto one grid as float32 rows.
type Bands struct {
	Width, Height int
	GeoTransform  [6]float64
	CRS           string // WKT
	EPSG          int    // 0 if unknown
	// Names are the requested band names, parallel to Data.
	Names []string
	Data  [][]float32
	// Valid is true where every band has data (not nodata, not outside its
	// scene). Invalid pixels hold 0.
	Valid []bool
	// Source and Band say where each band came from: the index of its source
	// in the sources given and its 1-based number there, parallel to Names.
	Source, Band []int
	// Warped lists the bands that were resampled onto the grid.
	Warped []string
	// Missing lists the optional bands the scene lacks, as requested.
	Missing []string
	// Calibration says, parallel to Names, how each band's values become
	// physical values according to the scene's own metadata.
	Calibration []Calibration
	// Warnings are the GDAL warnings raised while reading, each prefixed
	// with its source ("B04.tif: ..."): the read went on.
	Warnings []string
}

// Calibration is how a band's stored values become physical values (value ×
// Scale + Offset) according to the scene's metadata. Source is "" when the
// metadata says nothing (Scale 1, Offset 0).
type Calibration struct {
	Scale, Offset float64
	// Source names the metadata: CalibrationGDAL or CalibrationBOA.
	Source string
}

// Calibration sources.
const (
	// CalibrationGDAL is the band's GDAL scale and offset (GetScale/GetOffset).
	CalibrationGDAL = "gdal scale/offset"
	// CalibrationBOA is Sentinel-2 L2A metadata: reflectance = (DN +
	// BOA_ADD_OFFSET) / BOA_QUANTIFICATION_VALUE (10000 when not given), the
	// items on the band or the dataset (also as BOA_ADD_OFFSET_<band>), as
	// GDAL's SENTINEL2 driver and gdal_translate from it write them.
	CalibrationBOA = "BOA_ADD_OFFSET"
	// CalibrationInferred is scale 1 taken from the data: a floating-point
	// band without metadata whose values lie in reflectance's range.
	CalibrationInferred = "inferred from data (float values in reflectance range)"
)

// Get returns the data of the named band (as requested), or nil.
func (b *Bands) Get(name string) []float32 {
	for i, n := range b.Names {
		if strings.EqualFold(n, name) {
			return b.Data[i]
		}
	}
	return nil
}

// Geographic reports whether the grid's CRS is geographic (degrees).
func (b *Bands) Geographic() bool {
	sr, err := godal.NewSpatialRefFromWKT(b.CRS, errLogger)
	if err != nil {
		return false
	}
	defer sr.Close()
	return sr.Geographic()
}

// maxGridPixels bounds one band read (16384 × 16384): a wrong box cannot make
// ReadBands allocate tens of gigabytes.
const maxGridPixels = 1 << 28

// gridBandRef is one band of one source.
type gridBandRef struct {
	src   int // index into the sources
	band  int // 0-based in its source
	names []string
}

// gridSource is an open source of ReadBands.
type gridSource struct {
	src Source
	a   *access
	s   *scene
	m   *meta

	// pre holds bands read ahead in one dataset read (band index → pixels of preWin), so that
	// a pixel-interleaved file's blocks are fetched and decoded once, not once per band.
	pre    map[int][]float32
	preWin window
}

// prefetch reads bands (0-based) of g's window win in one dataset read; from
// object storage, the window's blocks are fetched ahead in a few large GETs.
func (g *gridSource) prefetch(bands []int, win window) error {
	in, ok := win.intersect(window{0, 0, g.m.width, g.m.height})
	if !ok || len(bands) < 2 {
		return nil
	}
	n := in.W * in.H
	buf := make([]float32, n*len(bands))
	g.a.preloadBlocks(g.s, g.src, g.m, in, bands)
	defer g.a.release()
	if err := g.s.ds.Read(in.X, in.Y, buf, in.W, in.H, godal.Bands(bands...), godal.BandInterleaved(), g.s.log); err != nil {
		return err
	}
	g.pre, g.preWin = map[int][]float32{}, in
	for i, b := range bands {
		g.pre[b] = buf[i*n : (i+1)*n : (i+1)*n]
	}
	return nil
}

// ReadBands reads the named bands of a scene — one multiband file or several
// files, one or more bands each, possibly at different resolutions — onto one
// grid: opts.Onto's, or the finest band's cut to opts.BBox. Bands already on
// that grid (same CRS, same pixel size, aligned origin) are read by window;
// the others are warped into memory (GDAL warp, bilinear or nearest) over the
// window only, so memory holds the window, not the scenes. A band that does
// not exist gives an error naming the source and listing the bands it has.
func ReadBands(ctx context.Context, env Env, srcs []Source, opts BandsOptions) (out *Bands, err error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("raster: read bands: no source")
	}
	if len(opts.Bands) == 0 {
		return nil, fmt.Errorf("raster: read bands: no band requested")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var open []*gridSource
	defer func() {
		for _, g := range open {
			if cerr := g.s.close(); cerr != nil && err == nil {
				err = cerr
			}
			g.a.close()
		}
	}()
	var refs []gridBandRef
	for i, src := range srcs {
		a, err := env.connect(ctx, src)
		if err != nil {
			return nil, err
		}
		s, err := a.openScene(src)
		if err != nil {
			a.close()
			return nil, err
		}
		g := &gridSource{src: src, a: a, s: s}
		open = append(open, g)
		if g.m, err = readMeta(s); err != nil {
			return nil, err
		}
		stem := strings.TrimSuffix(filepath.Base(src.String()), filepath.Ext(src.String()))
		for b := 0; b < g.m.bands; b++ {
			var names []string
			if d := strings.TrimSpace(g.m.descs[b]); d != "" {
				names = append(names, d)
			}
			if g.m.bands == 1 {
				names = append(names, stem)
				if k := strings.LastIndexByte(stem, '_'); k >= 0 && k+1 < len(stem) {
					names = append(names, stem[k+1:])
				}
			}
			refs = append(refs, gridBandRef{src: i, band: b, names: names})
		}
	}
	var want []gridBandRef
	var names, missing []string
	for _, name := range opts.Bands {
		r, ok := findGridBand(refs, name)
		switch {
		case !ok && slices.ContainsFunc(opts.Optional, func(o string) bool { return strings.EqualFold(o, name) }):
			missing = append(missing, name)
			continue
		case !ok:
			return nil, fmt.Errorf("raster: %s: %w: no band %q; bands: %s", sourceList(srcs), ErrUnusableScene, name, describeGridBands(refs))
		}
		want = append(want, r)
		names = append(names, name)
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("raster: %s: %w: none of the bands %s; bands: %s", sourceList(srcs), ErrUnusableScene, strings.Join(opts.Bands, ", "), describeGridBands(refs))
	}

	var tgt *Bands
	if opts.Onto != nil {
		tgt = &Bands{Width: opts.Onto.Width, Height: opts.Onto.Height, GeoTransform: opts.Onto.GeoTransform, CRS: opts.Onto.CRS, EPSG: opts.Onto.EPSG}
	} else {
		finest := want[0]
		for _, r := range want[1:] {
			if math.Abs(open[r.src].m.gt[1]) < math.Abs(open[finest.src].m.gt[1]) {
				finest = r
			}
		}
		if tgt, err = gridTarget(open[finest.src].m, opts.BBox, opts.BufferM); err != nil {
			return nil, fmt.Errorf("raster: %s: %w", open[finest.src].src, err)
		}
	}
	if int64(tgt.Width)*int64(tgt.Height) > maxGridPixels {
		return nil, fmt.Errorf("raster: read bands: %d × %d pixels exceeds the limit of %d", tgt.Width, tgt.Height, maxGridPixels)
	}
	n := tgt.Width * tgt.Height
	tgt.Missing = missing
	tgt.Valid = make([]bool, n)
	for i := range tgt.Valid {
		tgt.Valid[i] = true
	}
	// Bands of one source on the target grid are read together: each block once.
	aligned := map[int][]int{}
	for _, r := range want {
		g := open[r.src]
		if sameGridCRS(g.m.wkt, tgt.CRS, g.m.epsg, tgt.EPSG) {
			if _, _, ok := alignedOffset(g.m, tgt); ok && !slices.Contains(aligned[r.src], r.band) {
				aligned[r.src] = append(aligned[r.src], r.band)
			}
		}
	}
	for si, bands := range aligned {
		g := open[si]
		x, y, _ := alignedOffset(g.m, tgt)
		if err := g.prefetch(bands, window{x, y, tgt.Width, tgt.Height}); err != nil {
			return nil, a2err(ctx, g, fmt.Sprint(bands), err)
		}
	}
	for i, r := range want {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g := open[r.src]
		data := make([]float32, n)
		warped, err := readGridBand(ctx, g, r.band, tgt, data, nearestBand(opts.Nearest, names[i], r.names))
		if err != nil {
			return nil, a2err(ctx, g, names[i], err)
		}
		if warped {
			tgt.Warped = append(tgt.Warped, names[i])
		}
		tgt.Names = append(tgt.Names, names[i])
		tgt.Source = append(tgt.Source, r.src)
		tgt.Band = append(tgt.Band, r.band+1)
		tgt.Data = append(tgt.Data, data)
		tgt.Calibration = append(tgt.Calibration, g.calibration(r.band, data))
	}
	for _, g := range open {
		for _, w := range g.s.warn.list() {
			tgt.Warnings = append(tgt.Warnings, path.Base(filepath.ToSlash(g.src.String()))+": "+w)
		}
	}
	for _, data := range tgt.Data {
		for p, v := range data {
			if v != v {
				tgt.Valid[p] = false
			}
		}
	}
	for _, data := range tgt.Data {
		for p := range data {
			if !tgt.Valid[p] {
				data[p] = 0
			}
		}
	}
	return tgt, nil
}

// a2err wraps a band read failure with its source.
func a2err(ctx context.Context, g *gridSource, name string, err error) error {
	return g.a.readError(ctx, fmt.Sprintf("%s: band %s", g.src, name), err)
}

// findGridBand resolves a band name or 1-based number.
func findGridBand(refs []gridBandRef, name string) (gridBandRef, bool) {
	for _, r := range refs {
		for _, n := range r.names {
			if strings.EqualFold(n, name) {
				return r, true
			}
		}
	}
	if k, err := strconv.Atoi(name); err == nil && k >= 1 && k <= len(refs) {
		return refs[k-1], true
	}
	return gridBandRef{}, false
}

// describeGridBands lists the bands available, e.g. "1 B04, 2 B08".
func describeGridBands(refs []gridBandRef) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		name := "(unnamed)"
		if len(r.names) > 0 {
			name = r.names[0]
		}
		parts[i] = strconv.Itoa(i+1) + " " + name
	}
	return strings.Join(parts, ", ")
}

// sourceList names the sources for errors: one source by its name, several in one folder
// as folder/{a.tif,b.tif}.
func sourceList(srcs []Source) string {
	if len(srcs) == 1 {
		return srcs[0].String()
	}
	parts := make([]string, len(srcs))
	dir := ""
	for i, s := range srcs {
		d, f := path.Split(filepath.ToSlash(s.String()))
		if i > 0 && d != dir {
			dir = "\x00"
		} else if i == 0 {
			dir = d
		}
		parts[i] = f
	}
	if dir == "\x00" {
		for i, s := range srcs {
			parts[i] = s.String()
		}
		return strings.Join(parts, ",")
	}
	return dir + "{" + strings.Join(parts, ",") + "}"
}

func nearestBand(nearest []string, requested string, names []string) bool {
	for _, n := range nearest {
		if strings.EqualFold(n, requested) {
			return true
		}
		for _, m := range names {
			if strings.EqualFold(n, m) {
				return true
			}
		}
	}
	return false
}

// gridTarget is m's grid cut to bbox (WGS84) grown by bufferM metres, or
// m's whole grid when bbox is the zero Bound.
func gridTarget(m *meta, bbox orb.Bound, bufferM float64) (*Bands, error) {
	out := &Bands{CRS: m.wkt, EPSG: m.epsg}
	all := window{0, 0, m.width, m.height}
	win := all
	if bbox != (orb.Bound{}) {
		rp, err := newReprojector(m.wkt, 0)
		if err != nil {
			return nil, err
		}
		defer rp.close()
		ring := densifiedBoxRing(bbox, 8)
		proj, err := rp.project([]orb.Polygon{{ring}})
		if err != nil {
			return nil, fmt.Errorf("bbox: %w", err)
		}
		env := bound(proj)
		pad := bufferM
		if rp.trn == nil || rp.srs[1].Geographic() {
			pad = bufferM / 111320 / math.Max(0.01, math.Cos(bbox.Center()[1]*math.Pi/180))
		}
		env = env.Pad(pad)
		w, ok := m.cropWindow(env, true).intersect(all)
		if !ok {
			return nil, fmt.Errorf("%w: the box %v (+%g m) misses the scene", ErrNoOverlap, bbox, bufferM)
		}
		win = w
	}
	out.Width, out.Height = win.W, win.H
	out.GeoTransform = m.geoTransform(win)
	return out, nil
}

// densifiedBoxRing returns b's outline with n points per edge.
func densifiedBoxRing(b orb.Bound, n int) orb.Ring {
	corners := []orb.Point{{b.Min[0], b.Min[1]}, {b.Max[0], b.Min[1]}, {b.Max[0], b.Max[1]}, {b.Min[0], b.Max[1]}}
	var r orb.Ring
	for i := range corners {
		p, q := corners[i], corners[(i+1)%4]
		for k := 0; k < n; k++ {
			t := float64(k) / float64(n)
			r = append(r, orb.Point{p[0] + (q[0]-p[0])*t, p[1] + (q[1]-p[1])*t})
		}
	}
	return append(r, r[0])
}

// sameGridCRS reports whether two CRSs are the same.
func sameGridCRS(a, b string, ea, eb int) bool {
	if a == b || (ea != 0 && ea == eb) {
		return true
	}
	sa, err := godal.NewSpatialRefFromWKT(a, errLogger)
	if err != nil {
		return false
	}
	defer sa.Close()
	sb, err := godal.NewSpatialRefFromWKT(b, errLogger)
	if err != nil {
		return false
	}
	defer sb.Close()
	return sa.IsSame(sb)
}

// alignedOffset returns the pixel offset of tgt's origin on m's grid when
// both share pixel size and the offset is whole.
func alignedOffset(m *meta, tgt *Bands) (int, int, bool) {
	const tol = 1e-6
	gt := tgt.GeoTransform
	if math.Abs(gt[1]-m.gt[1]) > tol*math.Abs(m.gt[1]) || math.Abs(gt[5]-m.gt[5]) > tol*math.Abs(m.gt[5]) || gt[2] != 0 || gt[4] != 0 {
		return 0, 0, false
	}
	fx := (gt[0] - m.gt[0]) / m.gt[1]
	fy := (gt[3] - m.gt[3]) / m.gt[5]
	x, y := math.Round(fx), math.Round(fy)
	if math.Abs(fx-x) > 1e-3 || math.Abs(fy-y) > 1e-3 {
		return 0, 0, false
	}
	return int(x), int(y), true
}

// readGridBand fills data (tgt's size) with band b of g, NaN where there is
// no data, and reports whether it had to warp. A warp stops when ctx is done.
func readGridBand(ctx context.Context, g *gridSource, b int, tgt *Bands, data []float32, nearest bool) (bool, error) {
	for i := range data {
		data[i] = float32(math.NaN())
	}
	m := g.m
	if sameGridCRS(m.wkt, tgt.CRS, m.epsg, tgt.EPSG) {
		if x, y, ok := alignedOffset(m, tgt); ok {
			return false, readGridWindow(g, b, window{x, y, tgt.Width, tgt.Height}, tgt.Width, data)
		}
	}
	return true, warpGridBand(ctx, g, b, tgt, data, nearest)
}

// readGridWindow reads win of band b (win may extend beyond the scene) into
// data, a row-major buffer of width stride.
func readGridWindow(g *gridSource, b int, win window, stride int, data []float32) error {
	m := g.m
	in, ok := win.intersect(window{0, 0, m.width, m.height})
	if !ok {
		return nil
	}
	buf, ok := g.pre[b]
	if ok && in == g.preWin {
		delete(g.pre, b) // each band is used once; let its pixels go
	} else {
		buf = make([]float32, in.W*in.H)
		if err := g.s.ds.Bands()[b].Read(in.X, in.Y, buf, in.W, in.H, g.s.log); err != nil {
			return err
		}
	}
	var alpha []float32
	if m.alpha >= 0 {
		alpha = make([]float32, in.W*in.H)
		if err := g.s.ds.Bands()[m.alpha].Read(in.X, in.Y, alpha, in.W, in.H, g.s.log); err != nil {
			return err
		}
	}
	nd := m.nodata
	for r := 0; r < in.H; r++ {
		row := (in.Y-win.Y+r)*stride + (in.X - win.X)
		for c := 0; c < in.W; c++ {
			v := buf[r*in.W+c]
			if nd != nil && (float64(v) == *nd || v != v) || alpha != nil && alpha[r*in.W+c] == 0 {
				continue
			}
			data[row+c] = v
		}
	}
	return nil
}

// warpGridBand warps g's scene onto tgt's grid in memory and copies band b;
// the warp stops when ctx is done.
func warpGridBand(ctx context.Context, g *gridSource, b int, tgt *Bands, data []float32, nearest bool) (err error) {
	gt := tgt.GeoTransform
	x0, y1 := gt[0], gt[3]
	x1 := gt[0] + float64(tgt.Width)*gt[1]
	y0 := gt[3] + float64(tgt.Height)*gt[5]
	resampling := "bilinear"
	if nearest {
		resampling = "near"
	}
	sw := []string{
		"-of", "MEM", "-ot", "Float32",
		"-t_srs", tgt.CRS,
		"-te", ftoaGrid(math.Min(x0, x1)), ftoaGrid(math.Min(y0, y1)), ftoaGrid(math.Max(x0, x1)), ftoaGrid(math.Max(y0, y1)),
		"-ts", strconv.Itoa(tgt.Width), strconv.Itoa(tgt.Height),
		"-r", resampling,
		"-dstnodata", "nan",
	}
	if g.m.nodata != nil {
		sw = append(sw, "-srcnodata", ftoaGrid(*g.m.nodata))
	}
	ds, err := warp(ctx, g.s.ds, "", sw, g.s.cfg, g.s.warn.handle)
	if err != nil {
		return fmt.Errorf("warp: %w", err)
	}
	defer func() {
		if cerr := ds.Close(g.s.log); cerr != nil && err == nil {
			err = fmt.Errorf("close warped: %w", cerr)
		}
	}()
	if err := ds.Bands()[b].Read(0, 0, data, tgt.Width, tgt.Height, g.s.log); err != nil {
		return fmt.Errorf("read warped: %w", err)
	}
	if g.m.alpha >= 0 {
		alpha := make([]float32, len(data))
		if err := ds.Bands()[g.m.alpha].Read(0, 0, alpha, tgt.Width, tgt.Height, g.s.log); err != nil {
			return fmt.Errorf("read warped alpha: %w", err)
		}
		for i, a := range alpha {
			if a == 0 || a != a {
				data[i] = float32(math.NaN())
			}
		}
	}
	return nil
}

func ftoaGrid(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
