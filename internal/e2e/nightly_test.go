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

// TestNightlySweep drops two dates of a scene with STAC sidecars into the captures bucket,
// beside two sidecars that cannot be used, and checks that the nightly sweep registers and
// processes each scene once: clipped, and run through the sentinel2 pipeline, the later date
// paired with the earlier, so the new roof on parcel "site" becomes a finding. It reports the
// two problems, and a second sweep does nothing again.
func TestNightlySweep(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	fc := parcels(t, map[string][3]float64{"site": {500500, 3499150, 400}, "quiet": {501200, 3498600, 200}})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	put := func(key string, data []byte) {
		if err := s.store.PutCapture(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	for i, day := range []string{"2026-03-01", "2026-04-01"} {
		put("drop/"+day+"/scene.tif", s2Scene(t, i == 1))
		put("drop/"+day+"/scene.json", []byte(`{"type":"Feature","stac_version":"1.0.0","id":"scene",
		"collection":"sentinel-2-l2a","properties":{"datetime":"`+day+`T02:30:00Z","platform":"sentinel-2b"},
		"assets":{"data":{"href":"./scene.tif","type":"image/tiff; application=geotiff","roles":["data"]}}}`))
	}
	put("drop/bad/kind.json", []byte(`{"type":"Feature","properties":{"datetime":"2026-05-01T02:30:00Z","offsite:kind":"kite"},"assets":{}}`))
	put("drop/bad/orphan.json", []byte(`{"type":"Feature","properties":{"datetime":"2026-05-01T02:30:00Z","offsite:kind":"landsat"},
		"assets":{"data":{"href":"gone.tif","roles":["data"]}}}`))

	run := s.sweep(t, 1)
	if run.Status != "finished" || run.Scanned != 4 || run.Registered != 2 || run.Queued != 2 || len(run.Problems) != 2 {
		t.Fatalf("first sweep = %+v", run)
	}
	if !strings.Contains(strings.Join(run.Problems, "\n"), `"kite" is not one of`) || !strings.Contains(strings.Join(run.Problems, "\n"), "drop/bad/gone.tif is not in the bucket") {
		t.Errorf("problems = %q", run.Problems)
	}
	ids, err := s.captures.FindCaptureIDsByStatus(ctx, offsite.CaptureQueued, 10)
	if err != nil || len(ids) != 2 {
		t.Fatalf("queued captures = %v, %v", ids, err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for _, id := range ids {
		for {
			info, err := s.inspect.GetTaskInfo(tasks.QueueNightly, tasks.CaptureClipTaskID(id))
			if err == nil && info.State == asynq.TaskStateCompleted {
				break
			}
			if err == nil && info.State == asynq.TaskStateArchived || time.Now().After(deadline) {
				t.Fatalf("nightly task of capture %d: %+v %v", id, info, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var after *offsite.Capture
	for _, id := range ids {
		c, err := s.captures.FindCaptureByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind != offsite.KindSentinel2 || c.Sensor != "sentinel-2b" || c.Status != offsite.CaptureProcessed {
			t.Errorf("registered capture = %+v", c)
		}
		if clips, err := s.captures.FindClips(ctx, c.ID); err != nil || len(clips) != 2 {
			t.Errorf("clips of %s: %d, %v", c.Key, len(clips), err)
		}
		if c.Key == "drop/2026-04-01/scene.tif" {
			after = c
		}
	}
	if after == nil || !after.AcquiredAt.Equal(time.Date(2026, 4, 1, 2, 30, 0, 0, time.UTC)) {
		t.Fatalf("the later scene was not registered as such: %+v", after)
	}
	// The pipeline ran on the pair: the roof is a change finding on "site", from both dates.
	var found struct {
		Features []struct {
			Properties struct {
				ParcelID   string  `json:"parcel_id"`
				Kind       string  `json:"kind"`
				CaptureIDs []int64 `json:"capture_ids"`
			} `json:"properties"`
		} `json:"features"`
	}
	s.call(t, "GET", "/api/v1/findings", nil, &found)
	if len(found.Features) == 0 {
		t.Fatal("the nightly run found nothing; the later scene has a new roof on parcel site")
	}
	for _, f := range found.Features {
		p := f.Properties
		if p.ParcelID != "site" || p.Kind != offsite.FindingChange || len(p.CaptureIDs) != 2 || p.CaptureIDs[1] != after.ID {
			t.Errorf("finding %+v; want only the roof's change on site, from the pair", p)
		}
	}

	// The next night: the same objects are still there, nothing new is registered or queued.
	again := s.sweep(t, 2)
	if again.Status != "finished" || again.Registered != 0 || again.Queued != 0 {
		t.Errorf("second sweep = %+v", again)
	}
}
