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
	"strconv"

	"github.com/airbusgeo/godal"
	"github.com/minio/minio-go/v7"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// IngestOptions tune Ingest.
type IngestOptions struct {
	// COGPath, when set, is a local file where a tiled COG with overviews is
	// written if the source is not already one.
	COGPath string
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
	// COGWritten reports whether a COG was written to IngestOptions.COGPath.
	COGWritten bool
	// Warnings are the GDAL warnings raised on the source: it was ingested anyway.
	Warnings []string
}

// Ingest checks that a capture is usable and describes it: CRS,
// geotransform, band layout and size (env.Limits, from the header) are
// checked (errors wrap ErrUnusableScene), the valid-data footprint and band statistics are
// computed from a decimated read, the source's SHA-256 is computed, and a
// source that is not a tiled COG is converted into one at opts.COGPath.
func Ingest(ctx context.Context, env Env, src Source, opts IngestOptions) (res *IngestResult, err error) {
	if opts.FootprintSize == 0 {
		opts.FootprintSize = 1024
	}
	a, err := env.connect(ctx, src)
	if err != nil {
		return nil, err
	}
	defer a.close()
	s, err := a.openScene(src)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := s.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	m, err := readMeta(s)
	if err != nil {
		return nil, err
	}
	if len(s.ds.Bands()[0].ColorTable().Entries) > 0 {
		return nil, fmt.Errorf("raster: %s: %w: paletted images are not supported", s.name, ErrUnusableScene)
	}
	extent, err := m.extentFootprint()
	if err != nil {
		return nil, fmt.Errorf("raster: %s: footprint: %w", s.name, err)
	}
	res = &IngestResult{Info: m.info(extent)}
	// A COG is tiled: square blocks, or at least not full-width strips.
	tiled := m.blockW == m.blockH || m.blockW != m.width
	res.IsCOG = tiled && s.ds.Metadata("LAYOUT", godal.Domain("IMAGE_STRUCTURE")) == "COG"

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if res.Footprint, res.Stats, err = validFootprint(ctx, a, s, m, opts.FootprintSize); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if res.SHA256, res.Size, err = a.checksum(ctx, src); err != nil {
		return nil, err
	}
	if !res.IsCOG && opts.COGPath != "" {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := writeCOG(ctx, s, opts.COGPath); err != nil {
			return nil, err
		}
		res.COGWritten = true
	}
	res.Warnings = s.warn.list()
	return res, nil
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
// longest side (GDAL uses overviews when present), and returns the WGS84
// outline of pixels that are valid in at least one band, and band
// statistics over valid pixels.
func validFootprint(ctx context.Context, a *access, s *scene, m *meta, size int) (orb.MultiPolygon, []BandStats, error) {
	f := max(1, int(math.Ceil(float64(max(m.width, m.height))/float64(size))))
	w, h := max(1, m.width/f), max(1, m.height/f)
	n := w * h
	buf := make([]float64, m.bands*n)
	// Decimate through a translation to memory, which stops when ctx is done: a scene
	// without overviews is read whole.
	small, err := translate(ctx, s.ds, "", []string{"-of", "MEM", "-outsize", strconv.Itoa(w), strconv.Itoa(h), "-r", "nearest"}, s.cfg, s.warn.handle)
	if err != nil {
		return nil, nil, a.readError(ctx, "read "+s.name, err)
	}
	err = small.Read(0, 0, buf, w, h, godal.BandInterleaved(), s.log)
	if cerr := small.Close(s.log); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, a.readError(ctx, "read "+s.name, err)
	}
	valid := make([]byte, n)
	stats := make([]BandStats, m.bands)
	nd := m.nodata
	for b := 0; b < m.bands; b++ {
		st := &stats[b]
		st.Band, st.Description, st.Approximate, st.AllPixels = b+1, m.descs[b], f > 1, int64(n)
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
