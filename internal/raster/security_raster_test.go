package raster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/airbusgeo/godal"
)

// MustWriteSparse writes a tiled GeoTIFF of w × h pixels and the given bands
// with no tile stored (SPARSE_OK): a header of a few hundred kilobytes that
// GDAL reads as a scene of zeros, however large.
func MustWriteSparse(tb testing.TB, path string, w, h, bands int, dt godal.DataType) string {
	return mustWriteSparse(tb, path, w, h, bands, dt, "TILED=YES")
}

// mustWriteSparse is MustWriteSparse with the layout option tiling (TILED=YES or TILED=NO).
func mustWriteSparse(tb testing.TB, path string, w, h, bands int, dt godal.DataType, tiling string) string {
	tb.Helper()
	if err := register(); err != nil {
		tb.Fatal(err)
	}
	ds, err := godal.Create(godal.GTiff, path, bands, dt, w, h,
		godal.CreationOption(tiling, "SPARSE_OK=TRUE", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"))
	if err != nil {
		tb.Fatal(err)
	}
	mustGeoreference(tb, ds, [6]float64{400000, 10, 0, 3500000, 0, -10})
	if err := ds.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// mustGeoreference gives ds the geotransform gt and the CRS EPSG:32650 (UTM zone 50N).
func mustGeoreference(tb testing.TB, ds *godal.Dataset, gt [6]float64) {
	tb.Helper()
	if err := ds.SetGeoTransform(gt); err != nil {
		tb.Fatal(err)
	}
	sr, err := godal.NewSpatialRefFromEPSG(32650)
	if err != nil {
		tb.Fatal(err)
	}
	defer sr.Close()
	if err := ds.SetSpatialRef(sr); err != nil {
		tb.Fatal(err)
	}
}

// Before: a sparse 65536² GeoTIFF (half a megabyte) converted for 62 s past a
// 15 s deadline and succeeded; 32 bands were accepted. Now every scene over
// the limits is refused from its header, by every operation, at once.
func TestHostileScenesRefusedFromHeader(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name        string
		w, h, bands int
		dt          godal.DataType
		limits      Limits
	}{
		{"65536 squared sparse", 65536, 65536, 1, godal.Byte, Limits{}},
		{"32 bands", 64, 64, 32, godal.Byte, Limits{}},
		{"a 60000-pixel strip", 60000, 16, 1, godal.Byte, Limits{}},
		{"12 Float64 bands", 64, 64, 12, godal.Float64, Limits{}},
		{"18 GB uncompressed", 32000, 32000, 9, godal.UInt16, Limits{}},
		{"over a configured side", 2000, 2000, 1, godal.Byte, Limits{MaxSide: 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := MustWriteSparse(t, filepath.Join(dir, tc.name+".tif"), tc.w, tc.h, tc.bands, tc.dt)
			env := Env{AllowLocalFiles: true, Limits: tc.limits}
			cog := filepath.Join(dir, tc.name+"-cog.tif")
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			start := time.Now()
			_, ierr := Ingest(ctx, env, FileSource(path), IngestOptions{COGPath: cog})
			cerr := toCOG(ctx, env, FileSource(path), cog)
			_, serr := Inspect(ctx, env, FileSource(path))
			took := time.Since(start)
			for op, err := range map[string]error{"Ingest": ierr, "ToCOG": cerr, "Inspect": serr} {
				if !errors.Is(err, ErrUnusableScene) {
					t.Errorf("%s: %v, want ErrUnusableScene", op, err)
				}
			}
			t.Logf("refused in %v: %v", took, ierr)
			if took > time.Second {
				t.Errorf("refusing took %v", took)
			}
			if _, err := os.Stat(cog); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a COG was written: %v", err)
			}
		})
	}
}

// The default limits keep a Sentinel-2 L2A scene of 10980² × 13 UInt16 bands.
func TestLimitsKeepSentinel2(t *testing.T) {
	path := MustWriteSparse(t, filepath.Join(t.TempDir(), "s2.tif"), 10980, 10980, 13, godal.UInt16)
	info, err := Inspect(context.Background(), Env{AllowLocalFiles: true}, FileSource(path))
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 10980 || info.Bands != 13 {
		t.Errorf("got %d × %d, %d bands", info.Width, info.Height, info.Bands)
	}
}

// stopLatency cancels a context after delay, runs op with it and returns op's
// error and how long op went on after the cancellation.
func stopLatency(delay time.Duration, op func(context.Context) error) (time.Duration, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var canceled time.Time
	timer := time.AfterFunc(delay, func() { canceled = time.Now(); cancel() })
	defer timer.Stop()
	err := op(ctx)
	if canceled.IsZero() {
		return 0, err
	}
	return time.Since(canceled), err
}

// Before: GDAL work went on past the task's context. A conversion and a warp
// within the limits (a sparse 30000² scene converts in about 15 s) now stop
// within about a second of cancellation, and leave no partial output.
func TestGDALWorkStopsWhenCanceled(t *testing.T) {
	dir := t.TempDir()
	src := MustWriteSparse(t, filepath.Join(dir, "big.tif"), 30000, 30000, 1, godal.Byte)
	env := Env{AllowLocalFiles: true}
	t.Run("cog conversion", func(t *testing.T) {
		out := t.TempDir()
		dst := filepath.Join(out, "cog.tif")
		after, err := stopLatency(time.Second, func(ctx context.Context) error {
			return toCOG(ctx, env, FileSource(src), dst)
		})
		t.Logf("stopped %v after cancellation: %v", after, err)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if after > 1500*time.Millisecond {
			t.Errorf("stopped %v after cancellation", after)
		}
		if left, err := os.ReadDir(out); err != nil || len(left) > 0 {
			t.Errorf("partial output left: %v %v", left, err)
		}
	})
	t.Run("warp", func(t *testing.T) {
		a, err := env.connect(context.Background(), FileSource(src))
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		s, err := a.openScene(FileSource(src))
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		dst := filepath.Join(dir, "warped.tif")
		after, err := stopLatency(time.Second, func(ctx context.Context) error {
			ds, err := warp(ctx, s.ds, dst, []string{"-of", "GTiff", "-t_srs", "EPSG:4326", "-ts", "20000", "20000", "-r", "bilinear"}, s.cfg, s.warn.handle)
			if err == nil {
				err = ds.Close(errLogger)
			}
			return err
		})
		t.Logf("stopped %v after cancellation: %v", after, err)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if after > 1500*time.Millisecond {
			t.Errorf("stopped %v after cancellation", after)
		}
	})
	t.Run("ingest past its deadline", func(t *testing.T) {
		// In strips, so that ingest converts it (a tiled scene is used as it is).
		strips := mustWriteSparse(t, filepath.Join(dir, "big-strips.tif"), 30000, 30000, 1, godal.Byte, "TILED=NO")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := Ingest(ctx, env, FileSource(strips), IngestOptions{COGPath: filepath.Join(dir, "ingest.tif")})
		took := time.Since(start)
		t.Logf("returned after %v: %v", took, err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
		if took > 3500*time.Millisecond {
			t.Errorf("returned %v after a 2 s deadline", took)
		}
	})
}
