package raster

import (
	"context"
	"fmt"

	"github.com/airbusgeo/godal"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Parcel is an area to clip: a Polygon or MultiPolygon in WGS84 lon/lat
// (or the geographic CRS named by ClipOptions.ParcelEPSG).
type Parcel struct {
	ID       string
	Geometry orb.Geometry
}

// ClipOptions tune Clip.
type ClipOptions struct {
	// AllTouched selects every pixel the parcel touches instead of the
	// pixels whose centre is inside it (gdalwarp -wo CUTLINE_ALL_TOUCHED=TRUE).
	AllTouched bool
	// QuickLookBands are the 1-based bands of the quick-look PNG (1 or 3).
	// Default: 3,2,1 when the scene has at least 3 bands, else 1.
	QuickLookBands []int
	// Tags are written as GDAL metadata on each COG (e.g. capture). Each
	// COG also gets parcel_id set to its parcel's ID.
	Tags map[string]string
	// SkipQuickLook leaves ClipOutput.QuickLook empty.
	SkipQuickLook bool
	// Marks are more outlines, polygons in the scene's CRS, drawn in MarkColour on the
	// quick-look of the parcel whose ID keys them (the findings on it); other geometry
	// types are left out.
	Marks map[string][]orb.Geometry
	// ParcelEPSG is the geographic CRS of the parcels' lon/lat coordinates:
	// 0 or 4326 for WGS84, 4490 for CGCS2000.
	ParcelEPSG int
}

// ClipOutput is one clipped parcel.
type ClipOutput struct {
	ParcelID string
	// COG is a Cloud Optimized GeoTIFF with the scene's data type, band
	// descriptions, nodata and CRS, on the scene's grid. Pixels outside the
	// parcel are nodata; when the scene has no nodata value they are 0 and
	// masked by an internal mask band.
	COG []byte
	// QuickLook is a PNG of the chosen bands with a 2–98 percentile stretch,
	// transparent outside the parcel, with the parcel outline drawn and the parcel's
	// Marks.
	QuickLook     []byte
	Width, Height int
	GeoTransform  [6]float64
	// ValidPixels counts pixels inside the parcel whose value is not the
	// scene's nodata in at least one band.
	ValidPixels int64
}

// ClipStats summarises a Clip call.
type ClipStats struct {
	Parcels    int   // parcels given
	Clipped    int   // parcels emitted
	Missed     int   // parcels outside the scene
	BytesRead  int64 // bytes of pixel data decoded from the scene's blocks
	BlocksRead int   // scene blocks decoded (each at most once)
	// BlockBytes is the stored (compressed) size of the blocks read, for
	// tiled GeoTIFFs; 0 when unknown.
	BlockBytes int64
	// BytesFetched counts bytes fetched from object storage (headers and
	// tiles) with Env.Reader == ReaderGo; -1 when not counted.
	BytesFetched int64
}

// Clip cuts the scene to each parcel that intersects it and calls emit once
// per clipped parcel (in any order, never concurrently). Parcels that miss
// the scene, or whose crop window holds no pixel, are skipped and counted in
// ClipStats.Missed. Each output equals gdalwarp -cutline P -crop_to_cutline
// (with -wo CUTLINE_ALL_TOUCHED=TRUE when opts.AllTouched) on the scene grid.
//
// The scene is opened once per reader goroutine; only the blocks that
// parcels touch are read, each exactly once, in row-major order, and its
// pixels are scattered straight into the parcels that need them, so memory
// holds the blocks being decoded and the parcels being assembled, not the
// scene. Reading, masking and encoding run on all cores.
func Clip(ctx context.Context, env Env, src Source, parcels []Parcel, opts ClipOptions, emit func(ClipOutput) error) (stats ClipStats, err error) {
	stats.Parcels = len(parcels)
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	a, err := env.connect(ctx, src)
	if err != nil {
		return stats, err
	}
	defer a.close()
	s, err := a.openScene(src)
	if err != nil {
		return stats, err
	}
	defer func() {
		if s == nil {
			return
		}
		if cerr := s.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	m, err := readMeta(s)
	if err != nil {
		return stats, err
	}
	if err := checkQuickLookBands(opts.QuickLookBands, m.bands); err != nil {
		return stats, err
	}
	rp, err := newReprojector(m.wkt, opts.ParcelEPSG)
	if err != nil {
		return stats, err
	}
	jobs, err := planParcels(m, rp, parcels, opts.AllTouched)
	rp.close()
	if err != nil {
		return stats, err
	}
	stats.Missed = len(parcels) - len(jobs)
	if len(jobs) == 0 {
		return stats, nil
	}
	e := newEngine(m, jobs, opts)
	first := s
	s = nil // the engine owns and closes it now
	rs, err := e.run(ctx, a, src, first, emit)
	stats.Clipped = rs.Clipped
	stats.BlocksRead = rs.BlocksRead
	stats.BytesRead = rs.BytesRead
	stats.BlockBytes = rs.BlockBytes
	stats.BytesFetched = a.fetched()
	return stats, err
}

// checkQuickLookBands validates requested quick-look bands.
func checkQuickLookBands(b []int, n int) error {
	if len(b) != 0 && len(b) != 1 && len(b) != 3 {
		return fmt.Errorf("raster: quick-look needs 1 or 3 bands, got %d", len(b))
	}
	for _, i := range b {
		if i < 1 || i > n {
			return fmt.Errorf("raster: quick-look band %d out of range 1..%d", i, n)
		}
	}
	return nil
}

// job is one parcel to clip: its pixel-space geometry and crop window.
type job struct {
	id  string
	pix pixelPolygons
	win window
}

// maxParcelPixels bounds one parcel's window (a 8192 × 8192 clip), so that
// a wrong coordinate cannot make Clip allocate gigabytes.
const maxParcelPixels = 1 << 26

// planParcels reprojects every parcel and computes its crop window, dropping
// parcels whose window misses the scene or holds no pixel.
func planParcels(m *meta, rp *reprojector, parcels []Parcel, allTouched bool) ([]job, error) {
	scene := window{0, 0, m.width, m.height}
	var jobs []job
	for _, p := range parcels {
		polys, err := polygons(p.Geometry)
		if err != nil {
			return nil, fmt.Errorf("raster: parcel %q: %v", p.ID, err)
		}
		proj, err := rp.project(polys)
		if err != nil {
			return nil, fmt.Errorf("raster: parcel %q: %v", p.ID, err)
		}
		env := bound(proj)
		if env.Min[0] > env.Max[0] {
			return nil, fmt.Errorf("raster: parcel %q: empty geometry", p.ID)
		}
		win := m.cropWindow(env, allTouched)
		if win.empty() {
			continue
		}
		if int64(win.W)*int64(win.H) > maxParcelPixels {
			return nil, fmt.Errorf("raster: parcel %q: %d × %d pixels exceeds the limit of %d pixels per parcel", p.ID, win.W, win.H, maxParcelPixels)
		}
		if _, ok := win.intersect(scene); !ok {
			continue
		}
		pix, err := m.cutlineToPixels(rp, polys, proj)
		if err != nil {
			return nil, fmt.Errorf("raster: parcel %q: %v", p.ID, err)
		}
		jobs = append(jobs, job{id: p.ID, pix: pix, win: win})
	}
	return jobs, nil
}

// cutlineToPixels converts a parcel (polys, and proj: its vertices in scene
// CRS) to pixel/line coordinates the way gdalwarp prepares a cutline: when a
// reprojection is involved and a segment spans more than one pixel, the
// parcel is densified in its own CRS to about one pixel per segment before
// reprojecting, so that edges follow their curved image in the scene CRS.
func (m *meta) cutlineToPixels(rp *reprojector, polys, proj []orb.Polygon) (pixelPolygons, error) {
	pix := m.toPixels(proj)
	if rp.trn == nil {
		return pix, nil
	}
	maxPix := maxSegmentLength(pix)
	if maxPix <= 1 {
		return pix, nil
	}
	seg := maxSegmentLength(polys) / maxPix
	dense, err := rp.project(segmentize(polys, seg))
	if err != nil {
		return nil, err
	}
	return m.toPixels(dense), nil
}

// fillValue is the value written outside the parcel: the scene's nodata, or
// 0 as gdalwarp writes when there is none.
func fillValue(m *meta) float64 {
	if m.nodata != nil {
		return *m.nodata
	}
	return 0
}

// rasterizeMask burns the pixel-space polygons into a W×H mask of win with
// GDAL's rasterizer (the one gdalwarp's cutline masker uses): 1 inside.
func rasterizeMask(pix pixelPolygons, win window, allTouched bool) (mask []byte, err error) {
	ds, err := godal.Create(godal.Memory, "", 1, godal.Byte, win.W, win.H, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: mask dataset: %w", err)
	}
	defer func() {
		if cerr := ds.Close(errLogger); cerr != nil && err == nil {
			err = fmt.Errorf("raster: close mask dataset: %w", cerr)
		}
	}()
	if err := ds.SetGeoTransform([6]float64{float64(win.X), 1, 0, float64(win.Y), 0, 1}, errLogger); err != nil {
		return nil, fmt.Errorf("raster: mask geotransform: %w", err)
	}
	var mp orb.MultiPolygon = orb.MultiPolygon(pix)
	b, err := wkb.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("raster: mask geometry: %w", err)
	}
	g, err := godal.NewGeometryFromWKB(b, nil, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: mask geometry: %w", err)
	}
	defer g.Close()
	opts := []godal.RasterizeGeometryOption{godal.Values(1), errLogger}
	if allTouched {
		opts = append(opts, godal.AllTouched())
	}
	if err := ds.RasterizeGeometry(g, opts...); err != nil {
		return nil, fmt.Errorf("raster: rasterize parcel: %w", err)
	}
	mask = make([]byte, win.W*win.H)
	if err := ds.Read(0, 0, mask, win.W, win.H, errLogger); err != nil {
		return nil, fmt.Errorf("raster: read mask: %w", err)
	}
	return mask, nil
}

// finishParcel masks the window's pixels (band-sequential, native-endian,
// filled outside the scene) and encodes the outputs; encoding stops when ctx
// is done.
func finishParcel(ctx context.Context, m *meta, j job, pix []byte, opts ClipOptions) (ClipOutput, error) {
	mask, err := rasterizeMask(j.pix, j.win, opts.AllTouched)
	if err != nil {
		return ClipOutput{}, fmt.Errorf("%w (parcel %q)", err, j.id)
	}
	valid := applyMask(m, j.win, pix, mask)
	out := ClipOutput{
		ParcelID: j.id, Width: j.win.W, Height: j.win.H,
		GeoTransform: m.geoTransform(j.win), ValidPixels: valid,
	}
	if out.COG, err = encodeCOG(ctx, m, j.id, j.win, pix, mask, opts.Tags); err != nil {
		return ClipOutput{}, fmt.Errorf("%w (parcel %q)", err, j.id)
	}
	if !opts.SkipQuickLook {
		if out.QuickLook, err = quickLook(m, j, pix, mask, opts.QuickLookBands, opts.Marks[j.id]); err != nil {
			return ClipOutput{}, fmt.Errorf("%w (parcel %q)", err, j.id)
		}
	}
	return out, nil
}

// applyMask sets pixels outside the mask to the fill value, clears mask
// entries whose pixels are nodata in every band (or transparent, with an
// alpha band: those are filled too, as gdalwarp does), and counts the rest.
func applyMask(m *meta, win window, pix, mask []byte) int64 {
	es := m.pt.size
	fillv := m.pt.encode(fillValue(m))
	isND := m.pt.noDataTest(m.nodata)
	n := win.W * win.H
	var valid int64
	for i := 0; i < n; i++ {
		if mask[i] == 0 {
			for b := 0; b < m.bands; b++ {
				copy(pix[(b*n+i)*es:], fillv)
			}
			continue
		}
		x, y := win.X+i%win.W, win.Y+i/win.W
		if x < 0 || y < 0 || x >= m.width || y >= m.height {
			mask[i] = 0
			continue
		}
		if m.alpha >= 0 && m.pt.decode(pix[(m.alpha*n+i)*es:]) == 0 {
			for b := 0; b < m.bands; b++ {
				copy(pix[(b*n+i)*es:], fillv)
			}
			mask[i] = 0
			continue
		}
		if isND != nil {
			all := true
			for b := 0; b < m.bands && all; b++ {
				all = isND(pix[(b*n+i)*es : (b*n+i+1)*es])
			}
			if all {
				mask[i] = 0
				continue
			}
		}
		valid++
	}
	return valid
}
