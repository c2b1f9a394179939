package raster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/paulmach/orb"
)

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// MustBucket connects to the S3 gateway named by OFFSITE_S3_ENDPOINT,
// OFFSITE_S3_ACCESS_KEY and OFFSITE_S3_SECRET_KEY, creates a bucket that is
// removed when the test ends, and returns the client, the bucket and its
// S3Config. It skips when the gateway is unreachable, unless CI=true.
func MustBucket(tb testing.TB) (*minio.Client, string, S3Config) {
	tb.Helper()
	cfg := S3Config{
		Endpoint:  getenv("OFFSITE_S3_ENDPOINT", "127.0.0.1:7070"),
		AccessKey: getenv("OFFSITE_S3_ACCESS_KEY", "offsite"),
		SecretKey: getenv("OFFSITE_S3_SECRET_KEY", "offsite-secret"),
		Region:    "us-east-1",
	}
	mc, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Region: cfg.Region})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	bucket := "raster-test-" + hex.EncodeToString(b[:])
	if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("s3 gateway at %s: %v", cfg.Endpoint, err)
		}
		tb.Skipf("s3 gateway at %s unavailable: %v", cfg.Endpoint, err)
	}
	tb.Cleanup(func() {
		ctx := context.Background()
		for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				_ = mc.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{})
			}
		}
		if err := mc.RemoveBucket(ctx, bucket); err != nil {
			tb.Errorf("remove bucket %s: %v", bucket, err)
		}
	})
	return mc, bucket, cfg
}

// MustS3Scene writes a 4-band tiled test scene, stores it in a new bucket as
// scenes/a.tif, and returns the bucket, its S3Config, the local file and
// the scene's centre (lon/lat).
func MustS3Scene(tb testing.TB) (string, S3Config, string, orb.Point) {
	tb.Helper()
	mc, bucket, cfg := MustBucket(tb)
	path := MustWriteScene(tb, tb.TempDir(), gdalwarpScenes[1])
	if _, err := mc.FPutObject(context.Background(), bucket, "scenes/a.tif", path, minio.PutObjectOptions{}); err != nil {
		tb.Fatal(err)
	}
	info, err := Inspect(context.Background(), Env{AllowLocalFiles: true}, FileSource(path))
	if err != nil {
		tb.Fatal(err)
	}
	return bucket, cfg, path, info.Footprint.Bound().Center()
}

// TestClipS3 clips a scene stored in the gateway through both readers and
// checks the outputs equal the local clip.
func TestClipS3(t *testing.T) {
	bucket, cfg, path, c := MustS3Scene(t)
	var parcels []Parcel
	for i := 0; i < 8; i++ {
		d := 0.002 * float64(i-4)
		parcels = append(parcels, Parcel{ID: string(rune('a' + i)), Geometry: orb.Polygon{{
			{c[0] + d, c[1] + d}, {c[0] + d + 0.002, c[1] + d}, {c[0] + d + 0.001, c[1] + d + 0.002}, {c[0] + d, c[1] + d},
		}}})
	}
	collect := func(env Env, src Source) (map[string][]byte, ClipStats) {
		t.Helper()
		out := map[string][]byte{}
		st, err := Clip(context.Background(), env, src, parcels, ClipOptions{}, func(o ClipOutput) error {
			out[o.ParcelID] = o.COG
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out, st
	}
	local, _ := collect(Env{AllowLocalFiles: true}, FileSource(path))
	for _, r := range []Reader{ReaderGo, ReaderGDAL} {
		env := Env{S3: cfg, AllowedBuckets: []string{bucket}, Reader: r}
		got, st := collect(env, S3Source(bucket, "scenes/a.tif"))
		if len(got) != len(local) || st.Clipped != len(local) {
			t.Fatalf("reader %d: %d clips, want %d", r, len(got), len(local))
		}
		for id, cog := range local {
			if !bytes.Equal(got[id], cog) {
				t.Errorf("reader %d: parcel %s differs from the local clip", r, id)
			}
		}
		if r == ReaderGo {
			// Tiles once each, plus the header reads of each reader's
			// dataset handle (64 KiB VSI buffers).
			limit := st.BlockBytes*5/4 + int64(4*runtime.GOMAXPROCS(0))*64<<10
			if st.BytesFetched <= st.BlockBytes || st.BytesFetched > limit {
				t.Errorf("reader go: fetched %d bytes for %d bytes of tiles (limit %d)", st.BytesFetched, st.BlockBytes, limit)
			}
		}
		if r == ReaderGDAL && st.BytesFetched != -1 {
			t.Errorf("reader gdal: BytesFetched = %d, want -1", st.BytesFetched)
		}
		if _, err := Inspect(context.Background(), env, S3Source(bucket, "scenes/a.tif")); err != nil {
			t.Errorf("reader %d: inspect: %v", r, err)
		}
	}
}

// TestOpenErrorsS3 checks that a missing key is retryable and a corrupt
// TIFF is an unusable scene, with both readers.
func TestOpenErrorsS3(t *testing.T) {
	mc, bucket, cfg := MustBucket(t)
	corrupt := append([]byte("II*\x00"), bytes.Repeat([]byte{0xff}, 4096)...)
	if _, err := mc.PutObject(context.Background(), bucket, "corrupt.tif", bytes.NewReader(corrupt), int64(len(corrupt)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Reader{ReaderGo, ReaderGDAL} {
		env := Env{S3: cfg, AllowedBuckets: []string{bucket}, Reader: r}
		_, err := Inspect(context.Background(), env, S3Source(bucket, "missing.tif"))
		if err == nil || errors.Is(err, ErrUnusableScene) {
			t.Errorf("reader %d: missing key: err = %v, want a retryable error", r, err)
		}
		_, err = Inspect(context.Background(), env, S3Source(bucket, "corrupt.tif"))
		if !errors.Is(err, ErrUnusableScene) {
			t.Errorf("reader %d: corrupt tiff: err = %v, want ErrUnusableScene", r, err)
		}
		_, err = Inspect(context.Background(), env, S3Source("other-bucket", "a.tif"))
		if !errors.Is(err, ErrInvalidSource) {
			t.Errorf("reader %d: other bucket: err = %v, want ErrInvalidSource", r, err)
		}
	}
}

// TestClipS3OutageIsRetryable serves the scene through a proxy that fails
// every ranged GET after the first few: Clip must fail with a retryable
// error, not ErrUnusableScene.
func TestClipS3OutageIsRetryable(t *testing.T) {
	mc, bucket, cfg := MustBucket(t)
	sc := gdalwarpScenes[1]
	path := MustWriteScene(t, t.TempDir(), sc)
	if _, err := mc.FPutObject(context.Background(), bucket, "a.tif", path, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	var gets atomic.Int64
	target := &url.URL{Scheme: "http", Host: cfg.Endpoint}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.Header.Get("Range") != "" && gets.Add(1) > 2 {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer srv.Close()
	outage := cfg
	outage.Endpoint = strings.TrimPrefix(srv.URL, "http://")
	info, err := Inspect(context.Background(), Env{AllowLocalFiles: true}, FileSource(path))
	if err != nil {
		t.Fatal(err)
	}
	c := info.Footprint.Bound().Center()
	parcels := []Parcel{{ID: "a", Geometry: orb.Polygon{{{c[0] - 0.01, c[1] - 0.01}, {c[0] + 0.01, c[1] - 0.01}, {c[0], c[1] + 0.01}, {c[0] - 0.01, c[1] - 0.01}}}}}
	env := Env{S3: outage, AllowedBuckets: []string{bucket}}
	_, err = Clip(context.Background(), env, S3Source(bucket, "a.tif"), parcels, ClipOptions{}, func(ClipOutput) error { return nil })
	if err == nil || errors.Is(err, ErrUnusableScene) {
		t.Fatalf("Clip during an outage: %v, want a retryable error", err)
	}
	// Where the outage strikes (the header or a block) depends on how GDAL batches its
	// reads; either way the error must be one a retry can fix, which the check above holds.
}

// TestReadBandsS3 reads bands of a scene stored in the gateway through the Go
// reader (its blocks preloaded in a few GETs) and checks they equal the bands
// read from the local file, for the whole scene and for a window.
func TestReadBandsS3(t *testing.T) {
	bucket, cfg, path, c := MustS3Scene(t)
	box := orb.Bound{Min: orb.Point{c[0] - 0.003, c[1] - 0.002}, Max: orb.Point{c[0] + 0.002, c[1] + 0.003}}
	s3env := Env{S3: cfg, AllowedBuckets: []string{bucket}}
	for _, opts := range []BandsOptions{
		{Bands: []string{"1", "2", "3", "4"}},
		{Bands: []string{"3", "1"}, BBox: box, BufferM: 100},
	} {
		want, err := ReadBands(context.Background(), Env{AllowLocalFiles: true}, []Source{FileSource(path)}, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadBands(context.Background(), s3env, []Source{S3Source(bucket, "scenes/a.tif")}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got.Width != want.Width || got.Height != want.Height || got.GeoTransform != want.GeoTransform {
			t.Fatalf("bands %v: grid %dx%d %v, want %dx%d %v", opts.Bands, got.Width, got.Height, got.GeoTransform, want.Width, want.Height, want.GeoTransform)
		}
		for i := range want.Data {
			if !slices.Equal(got.Data[i], want.Data[i]) {
				t.Errorf("bands %v: band %s differs from the local read", opts.Bands, want.Names[i])
			}
		}
		if !slices.Equal(got.Valid, want.Valid) {
			t.Errorf("bands %v: validity differs from the local read", opts.Bands)
		}
	}
}
