package raster

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airbusgeo/godal"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// mustWriteGrid writes a GeoTIFF of w × h pixels and the given bands with creation options
// co, each pixel's value telling where it is: (row × w + col) × bands + band, modulo what
// the type holds; pixels where (col/13 + row/17) % 5 == 0 are nodata when nodata is set.
func mustWriteGrid(tb testing.TB, path string, w, h, bands int, dt godal.DataType, nodata *float64, co ...string) string {
	tb.Helper()
	if err := register(); err != nil {
		tb.Fatal(err)
	}
	ds, err := godal.Create(godal.GTiff, path, bands, dt, w, h, godal.CreationOption(co...))
	if err != nil {
		tb.Fatal(err)
	}
	mustGeoreference(tb, ds, [6]float64{500000, 10, 0, 3400000, 0, -10})
	pt, err := supportedType(dt)
	if err != nil {
		tb.Fatal(err)
	}
	mod := map[godal.DataType]int{godal.Byte: 250, godal.UInt16: 65000, godal.Int16: 32000}[dt]
	buf := make([]byte, w*h*pt.size)
	for b, band := range ds.Bands() {
		for y := range h {
			for x := range w {
				v := (y*w+x)*bands + b
				if mod > 0 {
					v %= mod
				}
				f := float64(v)
				if nodata != nil && (x/13+y/17)%5 == 0 {
					f = *nodata
				}
				copy(buf[(y*w+x)*pt.size:], pt.encode(f))
			}
		}
		if err := band.Write(0, 0, pt.view(buf), w, h); err != nil {
			tb.Fatal(err)
		}
		if nodata != nil {
			if err := band.SetNoData(*nodata); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := ds.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// decimated is a decimated read, the footprint and statistics from it, and its times.
type decimated struct {
	buf   []float64
	fp    string
	stats []BandStats
	wall  time.Duration
	cpu   time.Duration
}

// decimateBoth decimates path to at most size pixels a side both ways: by blocks
// (decimateBlocks) and through gdal_translate -outsize (decimateTranslate), and returns
// both with the footprint and statistics computed from each.
func decimateBoth(tb testing.TB, path string, size int) (w, h int, blocks, gdal decimated) {
	tb.Helper()
	ctx := context.Background()
	src := FileSource(path)
	a, err := Env{AllowLocalFiles: true}.connect(ctx, src)
	if err != nil {
		tb.Fatal(err)
	}
	defer a.close()
	s, err := a.openScene(src)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() {
		if err := s.close(); err != nil {
			tb.Error(err)
		}
	}()
	m, err := readMeta(s)
	if err != nil {
		tb.Fatal(err)
	}
	f := max(1, int(math.Ceil(float64(max(m.width, m.height))/float64(size))))
	w, h = max(1, m.width/f), max(1, m.height/f)
	run := func(read func() ([]float64, error)) decimated {
		var d decimated
		cpu0, start := cpuTime(tb), time.Now()
		if d.buf, err = read(); err != nil {
			tb.Fatal(err)
		}
		d.wall, d.cpu = time.Since(start), cpuTime(tb)-cpu0
		fp, stats, err := summarize(s, m, d.buf, w, h)
		if err != nil {
			tb.Fatal(err)
		}
		d.fp, d.stats = fmt.Sprint(fp), stats
		return d
	}
	blocks = run(func() ([]float64, error) { return decimateBlocks(ctx, a, src, s, m, w, h) })
	gdal = run(func() ([]float64, error) { return decimateTranslate(ctx, a, s, w, h, m.bands) })
	return w, h, blocks, gdal
}

// cpuTime is the CPU time (user and system) the test process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestDecimateBlocksMatchesTranslate: ingest's decimated read, block by block with all
// bands at once, picks the very pixels gdal_translate -outsize -r nearest picks, so the
// footprint and statistics are those of the translate it replaced. Every pixel's value says
// where it is, so a pick one pixel off shows.
func TestDecimateBlocksMatchesTranslate(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name         string
		w, h, bands  int
		dt           godal.DataType
		nodata       *float64
		size         int
		co           []string
		wantW, wantH int
	}{
		{"pixel-interleaved tiles, ratio not whole", 1000, 700, 3, godal.UInt32, nil, 64,
			[]string{"TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64", "COMPRESS=DEFLATE"}, 62, 43},
		{"band-interleaved tiles with nodata", 1000, 700, 4, godal.UInt16, ptr(0), 300,
			[]string{"TILED=YES", "BLOCKXSIZE=128", "BLOCKYSIZE=48", "INTERLEAVE=BAND"}, 250, 175},
		{"strips, float with NaN nodata", 333, 517, 2, godal.Float32, ptr(math.NaN()), 100,
			[]string{"TILED=NO", "COMPRESS=DEFLATE"}, 55, 86},
		{"one-row strips, Int16", 517, 333, 2, godal.Int16, ptr(-9999), 100,
			[]string{"TILED=NO", "BLOCKYSIZE=1"}, 86, 55},
		{"picks further apart than tiles", 1001, 999, 5, godal.Int32, nil, 7,
			[]string{"TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64"}, 7, 6},
		{"not decimated", 50, 40, 1, godal.Byte, ptr(0), 1024,
			[]string{"TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"}, 50, 40},
		{"float64, partial edge tiles", 700, 330, 2, godal.Float64, ptr(-1), 256,
			[]string{"TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE", "PREDICTOR=2"}, 233, 110},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := mustWriteGrid(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".tif"), tc.w, tc.h, tc.bands, tc.dt, tc.nodata, tc.co...)
			w, h, blocks, gdal := decimateBoth(t, path, tc.size)
			if w != tc.wantW || h != tc.wantH {
				t.Fatalf("decimated to %d × %d, want %d × %d", w, h, tc.wantW, tc.wantH)
			}
			n := w * h
			for i := range gdal.buf {
				if a, b := blocks.buf[i], gdal.buf[i]; a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
					t.Fatalf("band %d row %d col %d: blocks read %v, translate %v", i/n+1, i%n/w, i%w, a, b)
				}
			}
			if blocks.fp != gdal.fp {
				t.Errorf("footprint %s, translate's %s", blocks.fp, gdal.fp)
			}
			if diff := cmp.Diff(gdal.stats, blocks.stats, cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("statistics (-translate +blocks):\n%s", diff)
			}
			if tc.nodata != nil && blocks.stats[0].ValidPixels == int64(n) {
				t.Errorf("no nodata pixel among %d picked", n)
			}
		})
	}
}

// TestDecimateUsesOverviews: a scene with overviews is decimated through them (GDAL picks
// the level), not read at full resolution.
func TestDecimateUsesOverviews(t *testing.T) {
	dir := t.TempDir()
	path := mustWriteGrid(t, filepath.Join(dir, "ovr.tif"), 512, 512, 2, godal.UInt32, nil, "TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64")
	ds, err := godal.Open(path, godal.Update())
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.BuildOverviews(godal.Levels(2, 4), godal.Resampling(godal.Average)); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src := FileSource(path)
	a, err := Env{AllowLocalFiles: true}.connect(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	s, err := a.openScene(src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	m, err := readMeta(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decimate(ctx, a, src, s, m, 128, 128)
	if err != nil {
		t.Fatal(err)
	}
	full, err := decimateBlocks(ctx, a, src, s, m, 128, 128)
	if err != nil {
		t.Fatal(err)
	}
	// Averaged overview pixels are not full-resolution pixels: one at least differs.
	if cmp.Equal(got, full) {
		t.Errorf("decimate read full-resolution pixels of a scene with overviews")
	}
}

// TestDecimateSceneFile compares the two decimated reads on the scene file named by
// OFFSITE_DECIMATE_SCENE (skipped without it) at ingest's 1024 pixels, printing wall and CPU
// time of each and the load average, then ingests it and prints Ingest's stages:
//
//	OFFSITE_DECIMATE_SCENE=.state/bench-survey/before-10980-b10.tif go test -run TestDecimateSceneFile -v ./internal/raster
func TestDecimateSceneFile(t *testing.T) {
	path := os.Getenv("OFFSITE_DECIMATE_SCENE")
	if path == "" {
		t.Skip("OFFSITE_DECIMATE_SCENE names no scene")
	}
	load := func() string {
		b, _ := os.ReadFile("/proc/loadavg")
		return strings.Join(strings.Fields(string(b))[:3], " ")
	}
	t.Logf("load average before: %s", load())
	w, h, blocks, gdal := decimateBoth(t, path, 1024)
	t.Logf("decimated to %d × %d; wall s, CPU s (load average after: %s)", w, h, load())
	t.Logf("  blocks, all bands a read (decimateBlocks) %8.2f %8.2f", blocks.wall.Seconds(), blocks.cpu.Seconds())
	t.Logf("  gdal_translate -outsize (decimateTranslate) %8.2f %8.2f", gdal.wall.Seconds(), gdal.cpu.Seconds())
	if !cmp.Equal(blocks.buf, gdal.buf, cmpopts.EquateNaNs()) {
		t.Errorf("the decimated pixels differ")
	}
	if blocks.fp != gdal.fp || !cmp.Equal(blocks.stats, gdal.stats, cmpopts.EquateNaNs()) {
		t.Errorf("footprint or statistics differ:\n%s\n%s\n%v\n%v", blocks.fp, gdal.fp, blocks.stats, gdal.stats)
	}
	cpu0, start := cpuTime(t), time.Now()
	res, err := Ingest(context.Background(), Env{AllowLocalFiles: true}, FileSource(path), IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Ingest: wall %.2f s, CPU %.2f s (inspect %.2f s, hash %.2f s; load average after: %s)",
		time.Since(start).Seconds(), (cpuTime(t) - cpu0).Seconds(), res.Stages.Inspect.Seconds(), res.Stages.Hash.Seconds(), load())
}

// TestIngestS3MatchesLocal: ingest reading the object itself (no IngestOptions.Dir), where
// the decimated read fetches each row of blocks ahead (ReaderGo) or GDAL fetches them
// (ReaderGDAL), finds the footprint and statistics of the local file.
func TestIngestS3MatchesLocal(t *testing.T) {
	bucket, cfg, path, _ := MustS3Scene(t)
	ctx := context.Background()
	local, err := Ingest(ctx, Env{AllowLocalFiles: true}, FileSource(path), IngestOptions{FootprintSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if local.Stats[0].ValidPixels == 0 || !local.Stats[0].Approximate {
		t.Fatalf("local stats %+v: want a decimated read with valid pixels", local.Stats[0])
	}
	for _, r := range []Reader{ReaderGo, ReaderGDAL} {
		env := Env{S3: cfg, AllowedBuckets: []string{bucket}, Reader: r}
		got, err := Ingest(ctx, env, S3Source(bucket, "scenes/a.tif"), IngestOptions{FootprintSize: 100})
		if err != nil {
			t.Fatalf("reader %d: %v", r, err)
		}
		if diff := cmp.Diff(local.Stats, got.Stats); diff != "" {
			t.Errorf("reader %d: statistics (-local +s3):\n%s", r, diff)
		}
		if diff := cmp.Diff(local.Footprint, got.Footprint); diff != "" {
			t.Errorf("reader %d: footprint (-local +s3):\n%s", r, diff)
		}
	}
}
