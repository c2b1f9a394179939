package raster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/airbusgeo/godal"
	"github.com/minio/minio-go/v7"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// IngestOptions tune Ingest.
type IngestOptions struct {
	// COGPath, when set, is a local file where a tiled COG with overviews is
	// written if the source is not tiled (strips: every window read would
	// decode whole rows).
	COGPath string
	// Dir, when set, is a directory of the caller's. An object source is then
	// copied into it in one streaming read, hashed on the way, and everything
	// else Ingest does reads that copy: the object is fetched once. The
	// result's Local names the file later reads of the scene can use instead
	// of the object.
	Dir string
	// FootprintSize is the longest side, in pixels, of the decimated read
	// the footprint and statistics come from. Default 1024.
	FootprintSize int
}

// BandStats are statistics of one band over its valid pixels, computed on
// the decimated read (Approximate) the footprint comes from.
type BandStats struct {
	Band                   int // 1-based
	Description            string
	Min, Max, Mean, StdDev float64
	ValidPixels, AllPixels int64 // in the decimated read
	Approximate            bool
}

// Conversions of a capture at ingest.
const (
	ConversionNone = ""    // used as it is: a COG, or any tiled GeoTIFF
	ConversionCOG  = "cog" // in strips: re-encoded as a tiled COG with overviews
)

// IngestStages are the times of Ingest's stages and the bytes they moved.
type IngestStages struct {
	// Fetch is the streaming copy of an object into IngestOptions.Dir, hashed on
	// the way (zero without Dir); FetchedBytes its size.
	Fetch        time.Duration
	FetchedBytes int64
	// Hash is the separate read that hashes the source when it was not copied.
	Hash time.Duration
	// Inspect is the header checks, footprint and band statistics.
	Inspect time.Duration
	// Convert is the conversion (IngestResult.Conversion); ConvertedBytes the
	// size of the file it made.
	Convert        time.Duration
	ConvertedBytes int64
}

// IngestResult describes an ingested capture.
type IngestResult struct {
	Info *SceneInfo
	// Footprint is where the scene has valid data, in WGS84 lon/lat,
	// simplified to the resolution of the decimated read.
	Footprint orb.MultiPolygon
	Stats     []BandStats
	SHA256    string // hex SHA-256 of the source bytes
	Size      int64  // source size in bytes
	// IsCOG reports whether the source already is a tiled COG.
	IsCOG bool
	// Conversion is what was done to the source so that window reads are
	// cheap: nothing (ConversionNone) or a COG written (ConversionCOG).
	Conversion string
	// COGWritten reports whether a file to store as the capture's readable copy
	// was made (Conversion is not ConversionNone); Stored names it.
	COGWritten bool
	Stored     string
	// Local, with IngestOptions.Dir, is a local file holding the scene as later
	// reads should see it: the copy of the source, or the converted file.
	Local string
	// Stages are the times of the stages and the bytes they moved.
	Stages IngestStages
	// Warnings are the GDAL warnings raised on the source: it was ingested anyway.
	Warnings []string
}

// Ingest checks that a capture is usable and describes it: CRS,
// geotransform, band layout and size (env.Limits, from the header) are
// checked (errors wrap ErrUnusableScene), the valid-data footprint and band statistics are
// computed from a decimated read, the source's SHA-256 is computed, and a
// source that is not tiled is converted (see IngestOptions): a capture is
// fetched once and converted at most once. A tiled source is used as it is,
// with or without overviews: later reads are of full-resolution windows, and
// without overviews the decimated read here decodes each block once, all
// bands at a time (decimate), which costs less than adding them
// (bench-survey's 107 MB capture: overviews 1.6 s of CPU and a 143 MB copy to
// store, against 8.4 s for a COG).
func Ingest(ctx context.Context, env Env, src Source, opts IngestOptions) (res *IngestResult, err error) {
	if opts.FootprintSize == 0 {
		opts.FootprintSize = 1024
	}
	if err := env.CheckSource(src); err != nil {
		return nil, err
	}
	res = &IngestResult{}
	// Errors name the object, not the local copy (a temporary path of the worker's machine,
	// of no use to whoever reads the capture's failure).
	var copied, object string
	defer func() {
		if err != nil && copied != "" {
			err = &renamedError{msg: strings.ReplaceAll(err.Error(), copied, object), err: err}
		}
	}()
	if opts.Dir != "" && src.Path == "" {
		start := time.Now()
		local, sum, n, err := fetchCopy(ctx, env, src, opts.Dir)
		if err != nil {
			return nil, err
		}
		copied, object = local, src.String()
		res.SHA256, res.Size, res.Local = sum, n, local
		res.Stages.Fetch, res.Stages.FetchedBytes = time.Since(start), n
		// Every later read is of the copy Ingest made itself, in the caller's directory.
		env.LocalDirs = append(slices.Clone(env.LocalDirs), opts.Dir)
		src = FileSource(local)
	}
	if err := ingestScene(ctx, env, src, opts, res); err != nil {
		return nil, err
	}
	if res.SHA256 == "" {
		start := time.Now()
		a, err := env.connect(ctx, src)
		if err != nil {
			return nil, err
		}
		res.SHA256, res.Size, err = a.checksum(ctx, src)
		a.close()
		if err != nil {
			return nil, err
		}
		res.Stages.Hash = time.Since(start)
	}
	return res, nil
}

// renamedError is err with another message (the object's name for a local path).
type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }

// ingestScene opens src, checks and describes it, and converts it when needed.
func ingestScene(ctx context.Context, env Env, src Source, opts IngestOptions, res *IngestResult) (err error) {
	start := time.Now()
	a, err := env.connect(ctx, src)
	if err != nil {
		return err
	}
	defer a.close()
	s, err := a.openScene(src)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	m, err := readMeta(s)
	if err != nil {
		return err
	}
	if len(s.ds.Bands()[0].ColorTable().Entries) > 0 {
		return fmt.Errorf("raster: %s: %w: paletted images are not supported", s.name, ErrUnusableScene)
	}
	extent, err := m.extentFootprint()
	if err != nil {
		return fmt.Errorf("raster: %s: footprint: %w", s.name, err)
	}
	res.Info = m.info(extent)
	// A COG is tiled: square blocks, or at least not full-width strips.
	tiled := m.blockW == m.blockH || m.blockW != m.width
	res.IsCOG = tiled && s.ds.Metadata("LAYOUT", godal.Domain("IMAGE_STRUCTURE")) == "COG"
	if err := ctx.Err(); err != nil {
		return err
	}
	if res.Footprint, res.Stats, err = validFootprint(ctx, a, src, s, m, opts.FootprintSize); err != nil {
		return err
	}
	res.Stages.Inspect += time.Since(start)
	// A scene in tiles (blocks narrower or wider than the scene; a COG of one tile) is read as
	// it is, overviews or not: every later read is of full-resolution windows, and the one
	// decimated read (the footprint, above) is of the local copy. Strips, a scene in one
	// block, and one GDAL warned about (every later read would warn again; the COG reads
	// cleanly) are converted.
	if (res.IsCOG || m.blockW != m.width) && len(s.warn.list()) == 0 || opts.COGPath == "" {
		res.Warnings = s.warn.list()
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cstart := time.Now()
	if err := writeCOG(ctx, s, opts.COGPath); err != nil {
		return err
	}
	res.Stages.Convert = time.Since(cstart)
	res.Conversion, res.COGWritten, res.Stored = ConversionCOG, true, opts.COGPath
	if st, err := os.Stat(opts.COGPath); err == nil {
		res.Stages.ConvertedBytes = st.Size()
	}
	if res.Local != "" {
		res.Local = opts.COGPath
	}
	res.Warnings = s.warn.list()
	return nil
}

// fetchCopy copies the object src into a new file in dir in one streaming read, hashing it
// on the way, and returns the file's path, the SHA-256 and the size. An object larger than
// the scene limits allow is refused (ErrUnusableScene) before it fills the disk.
func fetchCopy(ctx context.Context, env Env, src Source, dir string) (path, sum string, n int64, err error) {
	mc, err := newMinio(env.S3)
	if err != nil {
		return "", "", 0, err
	}
	f, err := os.CreateTemp(dir, "source-*.tif")
	if err != nil {
		return "", "", 0, err
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	obj, err := mc.GetObject(ctx, src.Bucket, src.Key, minio.GetObjectOptions{})
	if err != nil {
		return "", "", 0, fmt.Errorf("raster: get %s: %w", src, err)
	}
	defer obj.Close()
	limit := env.Limits.withDefaults().MaxBytes + 1<<30 // room for overviews and headers
	h := sha256.New()
	n, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(obj, limit+1))
	if err != nil {
		var resp minio.ErrorResponse
		if errors.As(err, &resp) && resp.Code == "NoSuchKey" {
			return "", "", 0, fmt.Errorf("raster: get %s: object does not exist", src)
		}
		return "", "", 0, fmt.Errorf("raster: get %s: %w", src, err)
	}
	if n > limit {
		return "", "", 0, fmt.Errorf("raster: %s: %w: larger than %d bytes", src, ErrUnusableScene, limit)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeCOG translates the open scene to a COG at dst. Tiles are 256 pixels:
// parcels are small, and a pipeline run on bench-survey's pair of 8-band
// scenes took 9.1 s in local mode on such COGs against 10.0-10.6 s with 512
// (reading windows and clipping parcels decode less around them). The
// conversion stops when ctx is done, and a partial dst is removed.
func writeCOG(ctx context.Context, s *scene, dst string) error {
	sw := []string{"-of", "COG", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=YES",
		"-co", "BLOCKSIZE=256", "-co", "OVERVIEWS=AUTO", "-co", "BIGTIFF=IF_SAFER", "-co", "NUM_THREADS=2"}
	out, err := translate(ctx, s.ds, dst, sw, s.cfg, s.warn.handle)
	if err != nil {
		if rerr := os.Remove(dst); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		return fmt.Errorf("raster: convert %s to cog: %w", s.name, err)
	}
	if err := out.Close(errLogger); err != nil {
		return fmt.Errorf("raster: close cog %s: %w", dst, err)
	}
	return nil
}

// validFootprint reads the scene decimated to at most size pixels on its
// longest side (decimate), and returns the WGS84 outline of pixels that are
// valid in at least one band, and band statistics over valid pixels.
func validFootprint(ctx context.Context, a *access, src Source, s *scene, m *meta, size int) (orb.MultiPolygon, []BandStats, error) {
	f := max(1, int(math.Ceil(float64(max(m.width, m.height))/float64(size))))
	w, h := max(1, m.width/f), max(1, m.height/f)
	buf, err := decimate(ctx, a, src, s, m, w, h)
	if err != nil {
		return nil, nil, err
	}
	return summarize(s, m, buf, w, h)
}

// summarize returns the footprint and band statistics of buf, the scene decimated to w ×
// h pixels (decimate).
func summarize(s *scene, m *meta, buf []float64, w, h int) (orb.MultiPolygon, []BandStats, error) {
	n := w * h
	valid := make([]byte, n)
	stats := make([]BandStats, m.bands)
	nd := m.nodata
	for b := 0; b < m.bands; b++ {
		st := &stats[b]
		st.Band, st.Description, st.Approximate, st.AllPixels = b+1, m.descs[b], w < m.width || h < m.height, int64(n)
		st.Min, st.Max = math.Inf(1), math.Inf(-1)
		var sum, sum2 float64
		for i, v := range buf[b*n : (b+1)*n] {
			if math.IsNaN(v) || nd != nil && (v == *nd || m.pt.dt == godal.Float32 && float32(v) == float32(*nd)) {
				continue
			}
			valid[i] = 1
			st.ValidPixels++
			st.Min, st.Max = min(st.Min, v), max(st.Max, v)
			sum += v
			sum2 += v * v
		}
		if st.ValidPixels > 0 {
			c := float64(st.ValidPixels)
			st.Mean = sum / c
			st.StdDev = math.Sqrt(max(0, sum2/c-st.Mean*st.Mean))
		} else {
			st.Min, st.Max = 0, 0
		}
	}
	gt := m.gt
	gt[1] *= float64(m.width) / float64(w)
	gt[5] *= float64(m.height) / float64(h)
	fp, err := polygonize(valid, w, h, gt, m.wkt)
	if err != nil {
		return nil, nil, fmt.Errorf("raster: %s: footprint: %w", s.name, err)
	}
	return fp, stats, nil
}

// polygonize outlines the 1-pixels of valid (w × h on geotransform gt in
// the CRS wkt), removes specks, simplifies to one pixel and returns the
// result in WGS84 lon/lat.
func polygonize(valid []byte, w, h int, gt [6]float64, wkt string) (mp orb.MultiPolygon, err error) {
	ds, err := godal.Create(godal.Memory, "", 1, godal.Byte, w, h, errLogger)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := ds.Close(errLogger); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := ds.SetGeoTransform(gt, errLogger); err != nil {
		return nil, err
	}
	band := ds.Bands()[0]
	if err := band.Write(0, 0, valid, w, h, errLogger); err != nil {
		return nil, err
	}
	if err := band.SetNoData(0, errLogger); err != nil {
		return nil, err
	}
	if err := band.SieveFilter(9, errLogger); err != nil {
		return nil, err
	}
	srs, err := godal.NewSpatialRefFromWKT(wkt, errLogger)
	if err != nil {
		return nil, err
	}
	defer srs.Close()
	vds, err := godal.CreateVector(godal.Memory, "", errLogger)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := vds.Close(errLogger); cerr != nil && err == nil {
			err = cerr
		}
	}()
	lyr, err := vds.CreateLayer("valid", srs, godal.GTPolygon, errLogger)
	if err != nil {
		return nil, err
	}
	if err := band.Polygonize(lyr, errLogger); err != nil {
		return nil, err
	}
	var union *godal.Geometry
	lyr.ResetReading()
	for f := lyr.NextFeature(); f != nil; f = lyr.NextFeature() {
		g := f.Geometry()
		if union == nil {
			union, err = g.Buffer(0, 1, errLogger)
		} else {
			var u *godal.Geometry
			u, err = union.Union(g, errLogger)
			union.Close()
			union = u
		}
		g.Close()
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	if union == nil {
		return orb.MultiPolygon{}, nil
	}
	defer union.Close()
	simple, err := union.Simplify(math.Abs(gt[1]), errLogger)
	if err != nil {
		return nil, err
	}
	defer simple.Close()
	wgs84, err := godal.NewSpatialRefFromEPSG(4326, errLogger)
	if err != nil {
		return nil, err
	}
	defer wgs84.Close()
	simple.SetSpatialRef(srs)
	if err := simple.Reproject(wgs84, errLogger); err != nil {
		return nil, err
	}
	b, err := simple.WKB(errLogger)
	if err != nil {
		return nil, err
	}
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	switch g := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}, nil
	case orb.MultiPolygon:
		return g, nil
	}
	return nil, fmt.Errorf("footprint is a %s", g.GeoJSONType())
}

// checksum returns the SHA-256 and size of the source bytes.
func (a *access) checksum(ctx context.Context, src Source) (string, int64, error) {
	h := sha256.New()
	var n int64
	var err error
	switch {
	case src.Path != "":
		n, err = hashFile(h, src.Path)
	case a.client != nil:
		var obj *minio.Object
		obj, err = a.client.mc.GetObject(ctx, src.Bucket, src.Key, minio.GetObjectOptions{})
		if err == nil {
			n, err = io.Copy(h, obj)
			a.client.fetched.Add(n)
			if cerr := obj.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	default:
		var mc *minio.Client
		if mc, err = newMinio(a.env.S3); err != nil {
			break
		}
		var obj *minio.Object
		obj, err = mc.GetObject(ctx, src.Bucket, src.Key, minio.GetObjectOptions{})
		if err == nil {
			n, err = io.Copy(h, obj)
			if cerr := obj.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		return "", 0, fmt.Errorf("raster: checksum %s: %w", src, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// hashFile hashes a local file.
func hashFile(h hash.Hash, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(h, f)
}
