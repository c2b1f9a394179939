package e2e

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/tasks"
)

// sweep runs the nightly sweep through the queue and waits for it.
func (s *system) sweep(t *testing.T, n int) *offsite.NightlyRun {
	t.Helper()
	id := fmt.Sprintf("sweep-test-%d", n)
	if _, err := s.client.Enqueue(tasks.NewNightlySweepTask(), asynq.TaskID(id), asynq.Retention(time.Hour)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := s.inspect.GetTaskInfo(tasks.QueueNightly, id)
		if err == nil && info.State == asynq.TaskStateCompleted {
			break
		}
		if err == nil && info.State == asynq.TaskStateArchived || time.Now().After(deadline) {
			t.Fatalf("sweep %d: %+v %v", n, info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	runs, err := s.nightly.LastRuns(context.Background(), 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("last nightly run: %v %v", runs, err)
	}
	return runs[0]
}

// TestNightlySweep drops a scene with a STAC sidecar into the captures bucket, beside two
// sidecars that cannot be used, and checks that the nightly sweep registers and processes
// the scene once, reports the two problems, and that a second sweep does nothing again.
func TestNightlySweep(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	fc := parcels(t, map[string][3]float64{"n-1": {501000, 3496000, 600}, "n-2": {503000, 3497000, 300}})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	put := func(key string, data []byte) {
		if err := s.store.PutCapture(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	put("drop/2026-05-01/scene.tif", writeScene(t, 300, 200))
	put("drop/2026-05-01/scene.json", []byte(`{"type":"Feature","stac_version":"1.0.0","id":"scene",
		"collection":"sentinel-2-l2a","properties":{"datetime":"2026-05-01T02:30:00Z","platform":"sentinel-2b"},
		"assets":{"data":{"href":"./scene.tif","type":"image/tiff; application=geotiff","roles":["data"]}}}`))
	put("drop/bad/kind.json", []byte(`{"type":"Feature","properties":{"datetime":"2026-05-01T02:30:00Z","offsite:kind":"kite"},"assets":{}}`))
	put("drop/bad/orphan.json", []byte(`{"type":"Feature","properties":{"datetime":"2026-05-01T02:30:00Z","offsite:kind":"landsat"},
		"assets":{"data":{"href":"gone.tif","roles":["data"]}}}`))

	run := s.sweep(t, 1)
	if run.Status != "finished" || run.Scanned != 3 || run.Registered != 1 || run.Queued != 1 || len(run.Problems) != 2 {
		t.Fatalf("first sweep = %+v", run)
	}
	if !strings.Contains(strings.Join(run.Problems, "\n"), `"kite" is not one of`) || !strings.Contains(strings.Join(run.Problems, "\n"), "drop/bad/gone.tif is not in the bucket") {
		t.Errorf("problems = %q", run.Problems)
	}
	ids, err := s.captures.FindCaptureIDsByStatus(ctx, offsite.CaptureQueued, 10)
	if err != nil || len(ids) != 1 {
		t.Fatalf("queued captures = %v, %v", ids, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := s.inspect.GetTaskInfo(tasks.QueueNightly, tasks.CaptureClipTaskID(ids[0]))
		if err == nil && info.State == asynq.TaskStateCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clip task of the dropped scene: %+v %v", info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c, err := s.captures.FindCaptureByID(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != offsite.KindSentinel2 || c.Key != "drop/2026-05-01/scene.tif" || c.Sensor != "sentinel-2b" ||
		!c.AcquiredAt.Equal(time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC)) || c.Status != offsite.CaptureProcessed {
		t.Errorf("registered capture = %+v", c)
	}
	clips, err := s.captures.FindClips(ctx, c.ID)
	if err != nil || len(clips) != 2 {
		t.Errorf("clips of the dropped scene: %d, %v", len(clips), err)
	}

	// The next night: the same objects are still there, nothing new is registered or queued.
	again := s.sweep(t, 2)
	if again.Status != "finished" || again.Registered != 0 || again.Queued != 0 {
		t.Errorf("second sweep = %+v", again)
	}
}
