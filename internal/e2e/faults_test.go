package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/testenv"
)

// buildWorker compiles cmd/worker into a temporary directory.
func buildWorker(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(t.TempDir(), "worker")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/worker")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/worker: %v\n%s", err, b)
	}
	return bin
}

// TestWorkerKilledMidTask kills the worker with SIGKILL while it processes a capture, starts
// a new one, and checks that the capture ends with exactly the clips of an undisturbed run:
// none lost, none twice, every artifact stored once under its hash.
func TestWorkerKilledMidTask(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for asynq's lease expiry (about a minute)")
	}
	bin := buildWorker(t)
	ctx := context.Background()
	dbURL := testenv.PostgresURL(t)
	redis := testenv.Redis(t)
	s3cfg := testenv.S3Config(t)
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := s3.New(s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"OFFSITE_DATABASE_URL="+dbURL,
		"OFFSITE_REDIS_ADDR="+redis.Addr, "OFFSITE_REDIS_DB="+strconv.Itoa(redis.DB),
		"OFFSITE_S3_ENDPOINT="+s3cfg.Endpoint, "OFFSITE_S3_ACCESS_KEY="+s3cfg.AccessKey,
		"OFFSITE_S3_SECRET_KEY="+s3cfg.SecretKey, "OFFSITE_S3_REGION="+s3cfg.Region,
		"OFFSITE_S3_BUCKET_CAPTURES="+s3cfg.CapturesBucket, "OFFSITE_S3_BUCKET_EVIDENCE="+s3cfg.EvidenceBucket,
		"OFFSITE_WORKER_METRICS_ADDR=off", "OFFSITE_WORKER_CONCURRENCY=1",
		"OFFSITE_RETRY_DELAY=1s", "OFFSITE_SHUTDOWN_TIMEOUT=5s", "OFFSITE_LOG_LEVEL=warn",
	)
	logs := filepath.Join(t.TempDir(), "worker.log")
	start := func() *exec.Cmd {
		f, err := os.OpenFile(logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve")
		cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
			f.Close()
		})
		return cmd
	}

	// A scene big enough that ingest and clipping take a few seconds, and 120 parcels.
	dir := t.TempDir()
	sc := sample.Scene{EPSG: sceneEPSG, X0: 500000, Y0: 3500000, Pixel: 10, Width: 2400, Height: 2400, Bands: 4}
	path, err := sc.Write(dir, "big.tif")
	if err != nil {
		t.Fatal(err)
	}
	var fs []sample.Feature
	for i := range 120 {
		x := 500000 + float64(i%12)*1900 + 100
		y := 3500000 - 24000 + float64(i/12)*2300 + 100
		f, err := sample.RectParcel(sceneEPSG, fmt.Sprintf("p%03d", i), "", x, y, 700, 500)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	parcels := make([]*offsite.Parcel, len(fs))
	for i, f := range fs {
		ring := make([][2]float64, len(f.Geometry.Coordinates[0]))
		copy(ring, f.Geometry.Coordinates[0])
		parcels[i] = &offsite.Parcel{ID: f.Properties["parcel_id"].(string), Geometry: toPolygon(ring)}
	}
	if err := postgres.NewParcelService(db).UpsertParcels(ctx, parcels); err != nil {
		t.Fatal(err)
	}
	captures := postgres.NewCaptureService(db)
	client := asynq.NewClient(redis)
	defer client.Close()
	insp := asynq.NewInspector(redis)
	defer insp.Close()
	register := func(key string) *offsite.Capture {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		if err := store.PutCapture(ctx, key, f, st.Size()); err != nil {
			t.Fatal(err)
		}
		c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Now(), Bucket: s3cfg.CapturesBucket, Key: key}
		if err := captures.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
		task, err := tasks.NewCaptureClipTask(c.ID, tasks.QueueDefault)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Enqueue(task); err != nil {
			t.Fatal(err)
		}
		return c
	}
	wait := func(id int64, limit time.Duration) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			info, err := insp.GetTaskInfo(tasks.QueueDefault, tasks.CaptureClipTaskID(id))
			if err == nil && info.State == asynq.TaskStateCompleted {
				return
			}
			if err == nil && info.State == asynq.TaskStateArchived {
				t.Fatalf("capture %d archived: %s", id, info.LastErr)
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(logs)
				t.Fatalf("capture %d not done after %v (%+v, %v); worker log:\n%s", id, limit, info, err, b)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// The undisturbed run.
	w := start()
	calm := register("calm.tif")
	wait(calm.ID, 3*time.Minute)

	// The disturbed run: SIGKILL once the worker is busy with it.
	hit := register("killed.tif")
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := captures.FindCaptureByID(ctx, hit.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == offsite.CaptureProcessing {
			break
		}
		if c.Status == offsite.CaptureProcessed || time.Now().After(deadline) {
			t.Fatalf("capture %d reached %q before the worker could be killed in the middle", hit.ID, c.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := w.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Process.Wait()
	if c, _ := captures.FindCaptureByID(ctx, hit.ID); c.Status == offsite.CaptureProcessed {
		t.Fatal("the task finished before the kill; make the scene larger")
	}
	start()
	// asynq hands a dead worker's task to another once its lease has been expired for 30 s.
	wait(hit.ID, 4*time.Minute)

	want, err := captures.FindClips(ctx, calm.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := captures.FindClips(ctx, hit.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != len(parcels) || len(got) != len(want) {
		t.Fatalf("clips: undisturbed %d, killed-and-restarted %d, parcels %d", len(want), len(got), len(parcels))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.ParcelID != g.ParcelID || w.Width != g.Width || w.Height != g.Height || w.ValidPixels != g.ValidPixels {
			t.Errorf("clip %d: undisturbed %+v, after the kill %+v", i, w, g)
		}
	}
	// Every artifact recorded is stored; nothing else is (a half-done run may have stored some
	// artifacts before the kill, but they are the same content, under the same keys).
	keys := map[string]bool{}
	for _, c := range append(want, got...) {
		keys[c.COGKey], keys[c.QuickLookKey] = true, true
	}
	sys := &system{store: store}
	stored := sys.evidenceKeys(t)
	if len(stored) != len(keys) {
		t.Errorf("evidence bucket holds %d objects, the clips record %d", len(stored), len(keys))
	}
	for _, k := range stored {
		if !keys[k] {
			t.Errorf("stored artifact %s belongs to no clip", k)
		}
	}
}

func toPolygon(ring [][2]float64) orb.Polygon {
	r := make(orb.Ring, len(ring))
	for i, p := range ring {
		r[i] = orb.Point(p)
	}
	return orb.Polygon{r}
}
