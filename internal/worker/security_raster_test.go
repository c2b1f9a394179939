package worker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airbusgeo/godal"
	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/testenv"
)

// handlerEnv is a ClipHandler on a fresh database and buckets of the real services.
type handlerEnv struct {
	h     *ClipHandler
	store *s3.Store
}

func mustHandlerEnv(t *testing.T) *handlerEnv {
	t.Helper()
	ctx := context.Background()
	s3cfg := testenv.S3Config(t)
	db, err := postgres.Open(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	store, err := s3.New(s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	captures := postgres.NewCaptureService(db)
	deps := &Deps{
		Parcels: postgres.NewParcelService(db), Captures: captures, Clips: captures, Store: store,
		Raster: raster.Env{
			S3:             raster.S3Config{Endpoint: s3cfg.Endpoint, AccessKey: s3cfg.AccessKey, SecretKey: s3cfg.SecretKey, Region: s3cfg.Region},
			AllowedBuckets: []string{s3cfg.CapturesBucket},
		},
		CapturesBucket: s3cfg.CapturesBucket, EvidenceBucket: s3cfg.EvidenceBucket,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		TempDir: t.TempDir(),
	}
	return &handlerEnv{h: &ClipHandler{deps}, store: store}
}

// capture stores data under key and registers it as a Sentinel-2 capture.
func (e *handlerEnv) capture(t *testing.T, key string, data []byte) *offsite.Capture {
	t.Helper()
	ctx := context.Background()
	if err := e.store.PutCapture(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC), Bucket: e.h.CapturesBucket, Key: key}
	if err := e.h.Captures.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs the capture's clip task and returns the time it took, the capture as recorded
// after it, and the task's error.
func (e *handlerEnv) run(t *testing.T, c *offsite.Capture) (time.Duration, *offsite.Capture, error) {
	t.Helper()
	task, err := tasks.NewCaptureClipTask(c.ID, tasks.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	perr := e.h.ProcessTask(context.Background(), task)
	took := time.Since(start)
	got, err := e.h.Captures.FindCaptureByID(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return took, got, perr
}

// mustSceneBytes returns a valid GeoTIFF of UInt16 bands, uncompressed, with its pixels
// stored when fill is set (else sparse: no tile stored).
func mustSceneBytes(t *testing.T, w, h, bands int, fill bool) []byte {
	t.Helper()
	if err := godal.RegisterRaster(godal.GTiff); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "scene.tif")
	ds, err := godal.Create(godal.GTiff, path, bands, godal.UInt16, w, h, godal.CreationOption("TILED=YES", "SPARSE_OK=TRUE"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ds.SetGeoTransform([6]float64{400000, 10, 0, 3500000, 0, -10}); err != nil {
		t.Fatal(err)
	}
	if fill {
		buf := make([]uint16, w*h)
		for i := range buf {
			buf[i] = uint16(1 + i%997)
		}
		for _, b := range ds.Bands() {
			if err := b.Write(0, 0, buf, w, h); err != nil {
				t.Fatal(err)
			}
		}
	}
	sr, err := godal.NewSpatialRefFromEPSG(32650)
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	if err := ds.SetSpatialRef(sr); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Before: a 0-byte object was retried for up to 36 minutes (asynq's 8 retries), and a
// 65536² sparse GeoTIFF converted for a minute per attempt past the task's deadline. Now
// objects no retry can fix fail for good at once: the task is not retried (SkipRetry) and
// the capture is failed with a reason naming the problem.
func TestUnusableObjectsFailAtOnce(t *testing.T) {
	e := mustHandlerEnv(t)
	valid := mustSceneBytes(t, 512, 512, 1, true)
	for _, tc := range []struct {
		name string
		data []byte
		want string // in the capture's error
	}{
		{"empty object", nil, "empty"},
		{"four bytes", []byte("II*\x00"), "too short"},
		{"truncated header", valid[:12], "unusable scene"},
		{"truncated pixels", valid[:len(valid)/2], "unusable scene"},
		{"not a tiff", bytes.Repeat([]byte("offsite "), 64), "unusable scene"},
		{"65536 squared sparse", mustSceneBytes(t, 65536, 65536, 1, false), "exceeds the limit"},
		{"32 bands", mustSceneBytes(t, 64, 64, 32, false), "32 bands exceeds the limit of 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.capture(t, "probe/"+strings.ReplaceAll(tc.name, " ", "-")+".tif", tc.data)
			took, got, err := e.run(t, c)
			t.Logf("%v after %v", err, took)
			if !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("error %v is retried", err)
			}
			if got.Status != offsite.CaptureFailed || !strings.Contains(got.Error, tc.want) || got.Failure == nil {
				t.Errorf("capture %s, error %q, failure %+v; want failed with %q", got.Status, got.Error, got.Failure, tc.want)
			}
			// Failed for good on the first attempt (no retry; the reasons above come from the
			// header checks and the fetch, before any conversion): no wall-clock bound.
			if strings.Contains(got.Error, "offsite-ingest-") || strings.Contains(got.Error, os.TempDir()) {
				t.Errorf("capture error %q names the worker's local copy, not the object", got.Error)
			}
			if got.Failure != nil && got.Failure.Attempts != 1 {
				t.Errorf("failed after %d attempts, want 1", got.Failure.Attempts)
			}
		})
	}
}
