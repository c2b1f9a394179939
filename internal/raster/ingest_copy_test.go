package raster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/airbusgeo/godal"
	"github.com/minio/minio-go/v7"
)

// TestIngestOnce ingests objects with IngestOptions.Dir: each is fetched once (the bytes
// fetched are its size, the checksum that of its bytes), a COG and a tiled scene without
// overviews are used as they are, a scene in strips is converted to a COG; the copy Ingest
// leaves can be read back through LocalDirs and only through them.
func TestIngestOnce(t *testing.T) {
	mc, bucket, s3cfg := MustBucket(t)
	ctx := context.Background()
	dir := t.TempDir()
	sc := testScene{name: "tiled", epsg: 32650, gt: [6]float64{500000, 10, 0, 3500000, 0, -10}, w: 700, h: 500, bands: 3,
		dt: godal.UInt16, nodata: ptr(0), block: 256}
	tiled := MustWriteScene(t, dir, sc)
	cog := filepath.Join(dir, "cog.tif")
	if err := toCOG(ctx, Env{AllowLocalFiles: true}, FileSource(tiled), cog); err != nil {
		t.Fatal(err)
	}
	strips := mustStrips(t, tiled)
	env := Env{S3: s3cfg, AllowedBuckets: []string{bucket}}
	for _, tc := range []struct {
		file, conversion string
	}{{cog, ConversionNone}, {tiled, ConversionNone}, {strips, ConversionCOG}} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			key := "in/" + filepath.Base(tc.file)
			if _, err := mc.FPutObject(ctx, bucket, key, tc.file, minio.PutObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			work := t.TempDir()
			res, err := Ingest(ctx, env, S3Source(bucket, key), IngestOptions{Dir: work, COGPath: filepath.Join(work, "cog.tif")})
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(data)) || res.Stages.FetchedBytes != int64(len(data)) || res.Stages.Hash != 0 {
				t.Errorf("sha %s size %d fetched %d hash %v; want %x, %d fetched once", res.SHA256, res.Size, res.Stages.FetchedBytes, res.Stages.Hash, sum, len(data))
			}
			if res.Conversion != tc.conversion || res.COGWritten != (tc.conversion != ConversionNone) {
				t.Errorf("conversion %q written %v; want %q", res.Conversion, res.COGWritten, tc.conversion)
			}
			if res.COGWritten && (res.Stored != res.Local || res.Stages.ConvertedBytes == 0) {
				t.Errorf("stored %q local %q converted bytes %d", res.Stored, res.Local, res.Stages.ConvertedBytes)
			}
			if len(res.Footprint) == 0 || len(res.Stats) != 3 || res.Info.Width != 700 {
				t.Errorf("footprint %v stats %d info %+v", res.Footprint, len(res.Stats), res.Info)
			}
			// The copy is readable where it was made, as a worker's later tasks read it; a
			// converted one has overviews.
			if _, err := Inspect(ctx, env, FileSource(res.Local)); !errors.Is(err, ErrInvalidSource) {
				t.Errorf("local copy without LocalDirs: %v, want ErrInvalidSource", err)
			}
			local := env
			local.LocalDirs = []string{work}
			info, err := Inspect(ctx, local, FileSource(res.Local))
			if err != nil || info.BlockWidth != 256 {
				t.Fatalf("local copy: %+v %v", info, err)
			}
			check, err := godal.Open(res.Local)
			if err != nil {
				t.Fatal(err)
			}
			n := len(check.Bands()[0].Overviews())
			check.Close()
			if tc.conversion == ConversionCOG && n == 0 {
				t.Errorf("the copy has no overviews")
			}
		})
	}
}

// TestLocalDirs checks which paths LocalDirs lets through.
func TestLocalDirs(t *testing.T) {
	env := Env{LocalDirs: []string{"/tmp/w/scenes"}}
	for path, ok := range map[string]bool{
		"/tmp/w/scenes/ab.tif": true, "/tmp/w/scenes": false, "/tmp/w/scenesx/a.tif": false, "/tmp/w/other.tif": false,
		"/tmp/w/scenes/../x.tif": false, "/etc/passwd": false, "/tmp/w/scenes/a/vsicurl/x": false, "/vsicurl/http://x": false,
	} {
		err := env.CheckSource(FileSource(path))
		if (err == nil) != ok {
			t.Errorf("%s: %v, want allowed %v", path, err, ok)
		}
	}
}

// mustStrips writes a copy of the GeoTIFF src in strips (not tiled) beside it and returns its
// path.
func mustStrips(tb testing.TB, src string) string {
	tb.Helper()
	dst := src[:len(src)-len(filepath.Ext(src))] + "-strips.tif"
	ds, err := godal.Open(src)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := ds.Translate(dst, []string{"-of", "GTiff", "-co", "TILED=NO", "-co", "COMPRESS=DEFLATE"})
	if err != nil {
		tb.Fatal(err)
	}
	if err := errors.Join(out.Close(), ds.Close()); err != nil {
		tb.Fatal(err)
	}
	return dst
}
