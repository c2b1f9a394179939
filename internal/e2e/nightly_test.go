package e2e

import (
	"bytes"
	"context"
	"encoding/json"
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

// runCaptures returns the ids of the captures nightly run id queued.
func (s *system) runCaptures(t *testing.T, id int64) []int64 {
	t.Helper()
	rcs, err := s.nightly.FindRunCaptures(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, rc := range rcs {
		ids = append(ids, rc.CaptureID)
	}
	return ids
}

// waitNightly waits until the nightly task of capture id is completed or archived, and
// returns which.
func (s *system) waitNightly(t *testing.T, id int64) asynq.TaskState {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		info, err := s.inspect.GetTaskInfo(tasks.QueueNightly, tasks.CaptureClipTaskID(id))
		if err == nil && (info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived) {
			return info.State
		}
		if time.Now().After(deadline) {
			t.Fatalf("nightly task of capture %d not done after 2 minutes: %+v %v", id, info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestNightlySweep drops two dates of a scene with STAC sidecars into the captures bucket,
// beside two sidecars that cannot be used, and checks that the nightly sweep registers and
// processes each scene once: clipped, and run through the sentinel2 pipeline, the later date
// paired with the earlier, so the new roof on parcel "site" becomes a finding. It reports the
// two problems, and a second sweep does nothing again.
// putCapture stores data under key in the captures bucket.
func (s *system) putCapture(t *testing.T, key string, data []byte) {
	t.Helper()
	if err := s.store.PutCapture(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}

// dropScene stores a Sentinel-2 scene as dir/scene.tif with its STAC sidecar dated day.
func (s *system) dropScene(t *testing.T, dir, day string, data []byte) {
	t.Helper()
	s.putCapture(t, dir+"/scene.tif", data)
	s.putCapture(t, dir+"/scene.json", []byte(`{"type":"Feature","stac_version":"1.0.0","id":"scene",
		"collection":"sentinel-2-l2a","properties":{"datetime":"`+day+`T02:30:00Z","platform":"sentinel-2b"},
		"assets":{"data":{"href":"./scene.tif","type":"image/tiff; application=geotiff","roles":["data"]}}}`))
}

func TestNightlySweep(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	fc := parcels(t, map[string][3]float64{"site": {500500, 3499150, 400}, "quiet": {501200, 3498600, 200}})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	put := func(key string, data []byte) { s.putCapture(t, key, data) }
	for i, day := range []string{"2026-03-01", "2026-04-01"} {
		s.dropScene(t, "stac/drop/"+day, day, s2Scene(t, i == 1))
	}
	put("stac/drop/bad/kind.json", []byte(`{"type":"Feature","properties":{"datetime":"2026-05-01T02:30:00Z","offsite:kind":"kite"},"assets":{}}`))
	put("stac/drop/bad/orphan.json", []byte(`{"type":"Feature","properties":{"datetime":"2026-05-01T02:30:00Z","offsite:kind":"landsat"},
		"assets":{"data":{"href":"gone.tif","roles":["data"]}}}`))

	run := s.sweep(t, 1)
	if run.Status != "finished" || run.Scanned != 4 || run.Registered != 2 || run.Queued != 2 || len(run.Problems) != 2 {
		t.Fatalf("first sweep = %+v", run)
	}
	if !strings.Contains(strings.Join(run.Problems, "\n"), `"kite" is not one of`) || !strings.Contains(strings.Join(run.Problems, "\n"), "stac/drop/bad/gone.tif is not in the bucket") {
		t.Errorf("problems = %q", run.Problems)
	}
	ids := s.runCaptures(t, run.ID)
	if len(ids) != 2 {
		t.Fatalf("captures of the run = %v", ids)
	}
	for _, id := range ids {
		if st := s.waitNightly(t, id); st != asynq.TaskStateCompleted {
			t.Fatalf("nightly task of capture %d: %v", id, st)
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
		if c.Key == "stac/drop/2026-04-01/scene.tif" {
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

// TestNightlyPoisonCapture: a nightly run over a good pair and two poison captures, a
// truncated GeoTIFF (it fails clipping) and a scene without the bands of the sentinel2
// pipeline (it clips, then fails in the pipeline, reading the pair), ends with each poison
// capture failed with a message naming its problem and where it failed, shown by
// GET /api/v1/captures/{id} and GET /api/v1/nightly-runs/{id}, while the good pair is
// processed with its finding. The clips of the failed scene stay; queueing the truncated one
// again once its object is whole clears its failure.
func TestNightlyPoisonCapture(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	fc := parcels(t, map[string][3]float64{"site": {500500, 3499150, 400}, "quiet": {501200, 3498600, 200}})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	put := func(key string, data []byte) { t.Helper(); s.putCapture(t, key, data) }
	drop := func(dir, day string, data []byte) { t.Helper(); s.dropScene(t, dir, day, data) }
	drop("stac/drop/good-1", "2026-03-01", s2Scene(t, false))
	drop("stac/drop/good-2", "2026-04-01", s2Scene(t, true))
	// Four bands with no Sentinel-2 band names: it ingests and clips, then the pipeline finds no B02.
	drop("stac/drop/fourband", "2026-05-01", writeScene(t, 64, 64))
	// Later than the others, so that no good capture's pair search meets it.
	whole := s2Scene(t, true)
	drop("stac/drop/truncated", "2026-05-15", whole[:200])

	run := s.sweep(t, 1)
	if run.Status != "finished" || run.Registered != 4 || run.Queued != 4 || len(run.Problems) != 0 {
		t.Fatalf("sweep = %+v", run)
	}
	byKey := map[string]int64{}
	for _, id := range s.runCaptures(t, run.ID) {
		c, err := s.captures.FindCaptureByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		byKey[c.Key] = id
		want := asynq.TaskStateCompleted
		if strings.HasPrefix(c.Key, "stac/drop/fourband/") || strings.HasPrefix(c.Key, "stac/drop/truncated/") {
			want = asynq.TaskStateArchived
		}
		if got := s.waitNightly(t, id); got != want {
			t.Errorf("nightly task of %s: %v, want %v", c.Key, got, want)
		}
	}
	if len(byKey) != 4 {
		t.Fatalf("captures of the run: %v", byKey)
	}

	type failure struct {
		Stage    string    `json:"stage"`
		Pipeline string    `json:"pipeline"`
		TaskID   string    `json:"task_id"`
		Queue    string    `json:"queue"`
		Attempts int       `json:"attempts"`
		At       time.Time `json:"failed_at"`
	}
	type captureJSON struct {
		ID      int64    `json:"id"`
		Key     string   `json:"key"`
		Status  string   `json:"status"`
		Error   string   `json:"error"`
		Failure *failure `json:"failure"`
	}
	getCapture := func(id int64) captureJSON {
		t.Helper()
		var c captureJSON
		if code := s.call(t, "GET", fmt.Sprintf("/api/v1/captures/%d", id), nil, &c); code != 200 {
			t.Fatalf("GET capture %d: %d", id, code)
		}
		return c
	}
	started := run.StartedAt.Add(-time.Minute)
	for _, tc := range []struct {
		key, stage string
		errParts   []string
	}{
		{"stac/drop/fourband/scene.tif", offsite.StagePipeline, []string{"pipeline sentinel2", `no band "B02"`}},
		{"stac/drop/truncated/scene.tif", offsite.StageClip, []string{"stac/drop/truncated/scene.tif", "Can not read TIFF directory"}},
	} {
		id := byKey[tc.key]
		c := getCapture(id)
		if c.Status != offsite.CaptureFailed || c.Failure == nil {
			t.Errorf("%s: status %q failure %+v; want failed with its failure", tc.key, c.Status, c.Failure)
			continue
		}
		for _, part := range tc.errParts {
			if !strings.Contains(c.Error, part) {
				t.Errorf("%s: error %q does not say %q", tc.key, c.Error, part)
			}
		}
		if strings.Contains(c.Error, "skip retry") {
			t.Errorf("%s: error %q carries asynq's marker", tc.key, c.Error)
		}
		f := c.Failure
		if f.Stage != tc.stage || f.Pipeline != "sentinel2" || f.TaskID != tasks.CaptureClipTaskID(id) ||
			f.Queue != tasks.QueueNightly || f.Attempts != 1 || f.At.Before(started) {
			t.Errorf("%s: failure %+v; want stage %s of the nightly task, 1 attempt, after %v", tc.key, f, tc.stage, started)
		}
	}
	// The scene that failed in the pipeline keeps its clips.
	if clips, err := s.captures.FindClips(ctx, byKey["stac/drop/fourband/scene.tif"]); err != nil || len(clips) != 2 {
		t.Errorf("clips of the failed four-band scene: %d, %v; want both kept", len(clips), err)
	}
	for _, key := range []string{"stac/drop/good-1/scene.tif", "stac/drop/good-2/scene.tif"} {
		if c := getCapture(byKey[key]); c.Status != offsite.CaptureProcessed || c.Error != "" || c.Failure != nil {
			t.Errorf("good capture %s = %+v; want processed", key, c)
		}
	}
	findings := func() int {
		t.Helper()
		var found struct {
			Features []json.RawMessage `json:"features"`
		}
		s.call(t, "GET", "/api/v1/findings", nil, &found)
		return len(found.Features)
	}
	nFindings := findings()
	if nFindings == 0 {
		t.Error("the good pair found nothing; the later scene has a new roof on parcel site")
	}

	type runJSON struct {
		ID                         int64 `json:"id"`
		Queued                     int   `json:"queued"`
		Processed, Failed, Pending int
		Captures                   []struct {
			CaptureID int64    `json:"capture_id"`
			Key       string   `json:"key"`
			Pipeline  string   `json:"pipeline"`
			Status    string   `json:"status"`
			Error     string   `json:"error"`
			Failure   *failure `json:"failure"`
		} `json:"captures"`
	}
	getRun := func() runJSON {
		t.Helper()
		var r runJSON
		if code := s.call(t, "GET", fmt.Sprintf("/api/v1/nightly-runs/%d", run.ID), nil, &r); code != 200 {
			t.Fatalf("GET nightly run: %d", code)
		}
		return r
	}
	r := getRun()
	if r.Queued != 4 || r.Processed != 2 || r.Failed != 2 || r.Pending != 0 || len(r.Captures) != 4 {
		t.Fatalf("run = %+v; want 4 queued: 2 processed, 2 failed", r)
	}
	for _, rc := range r.Captures {
		failed := strings.HasPrefix(rc.Key, "stac/drop/fourband/") || strings.HasPrefix(rc.Key, "stac/drop/truncated/")
		if rc.Pipeline != "sentinel2" || failed != (rc.Status == offsite.CaptureFailed) || failed != (rc.Error != "" && rc.Failure != nil) {
			t.Errorf("run capture %+v", rc)
		}
	}
	var list struct {
		Runs []struct {
			ID     int64 `json:"id"`
			Failed int   `json:"failed"`
		} `json:"runs"`
		Total int `json:"total"`
	}
	if code := s.call(t, "GET", "/api/v1/nightly-runs?limit=1", nil, &list); code != 200 || list.Total != 1 || len(list.Runs) != 1 || list.Runs[0].ID != run.ID || list.Runs[0].Failed != 2 {
		t.Errorf("GET nightly-runs: %d %+v", code, list)
	}

	// The truncated scene arrives whole: queued again, it is processed with the nightly
	// pipeline and its failure is gone; the findings recorded so far stay.
	put("stac/drop/truncated/scene.tif", whole)
	truncated := byKey["stac/drop/truncated/scene.tif"]
	var queued captureJSON
	if code := s.call(t, "POST", fmt.Sprintf("/api/v1/captures/%d/process", truncated), nil, &queued); code != 202 {
		t.Fatalf("POST process: %d", code)
	}
	if queued.Status != offsite.CaptureQueued || queued.Failure == nil {
		t.Errorf("queued again: %+v; want queued with the last failure still shown", queued)
	}
	s.waitTask(t, truncated, asynq.TaskStateCompleted)
	if c := getCapture(truncated); c.Status != offsite.CaptureProcessed || c.Error != "" || c.Failure != nil {
		t.Errorf("after a successful run: %+v; want processed, no error or failure", c)
	}
	if r := getRun(); r.Processed != 3 || r.Failed != 1 {
		t.Errorf("run after the retry = %+v; want 3 processed, 1 failed", r)
	}
	if n := findings(); n < nFindings {
		t.Errorf("findings: %d after the retry, %d before", n, nFindings)
	}
}

// TestNightlyRetriesExhausted: a nightly capture whose evidence cannot be stored (the
// evidence bucket is gone) is retried, and when its last retry fails too the capture is
// failed with the storage error, the clip stage and every attempt counted, instead of only
// an archived task. With the bucket back, queueing it again processes it and clears that.
func TestNightlyRetriesExhausted(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	fc := parcels(t, map[string][3]float64{"site": {500500, 3499150, 400}})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	data := s2Scene(t, false)
	sidecar := []byte(`{"type":"Feature","stac_version":"1.0.0","id":"scene","collection":"sentinel-2-l2a",
		"properties":{"datetime":"2026-03-01T02:30:00Z"},"assets":{"data":{"href":"./scene.tif","roles":["data"]}}}`)
	for key, b := range map[string][]byte{"stac/drop/scene.tif": data, "stac/drop/scene.json": sidecar} {
		if err := s.store.PutCapture(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.Client.RemoveBucket(ctx, s.store.Evidence); err != nil {
		t.Fatal(err)
	}
	// Back before the test's buckets are removed, whatever happens here.
	t.Cleanup(func() {
		if err := s.store.EnsureBuckets(context.Background()); err != nil {
			t.Error(err)
		}
	})
	run := s.sweep(t, 1)
	ids := s.runCaptures(t, run.ID)
	if len(ids) != 1 {
		t.Fatalf("captures of the run = %v", ids)
	}
	id := ids[0]
	if st := s.waitNightly(t, id); st != asynq.TaskStateArchived {
		t.Fatalf("nightly task: %v, want archived after its retries", st)
	}
	info, err := s.inspect.GetTaskInfo(tasks.QueueNightly, tasks.CaptureClipTaskID(id))
	if err != nil {
		t.Fatal(err)
	}
	var c offsite.Capture
	s.call(t, "GET", fmt.Sprintf("/api/v1/captures/%d", id), nil, &c)
	if c.Status != offsite.CaptureFailed || !strings.Contains(c.Error, "bucket") || c.Failure == nil ||
		c.Failure.Stage != offsite.StageClip || c.Failure.Attempts != info.MaxRetry+1 || c.Failure.Pipeline != "sentinel2" {
		t.Fatalf("capture after its last retry: status %q error %q failure %+v; want failed in clip after %d attempts",
			c.Status, c.Error, c.Failure, info.MaxRetry+1)
	}
	var r offsite.NightlyRun
	if s.call(t, "GET", fmt.Sprintf("/api/v1/nightly-runs/%d", run.ID), nil, &r); r.Failed != 1 {
		t.Errorf("run = %+v; want its capture failed", r)
	}

	if err := s.store.EnsureBuckets(ctx); err != nil {
		t.Fatal(err)
	}
	if code := s.call(t, "POST", fmt.Sprintf("/api/v1/captures/%d/process", id), nil, nil); code != 202 {
		t.Fatalf("POST process: %d", code)
	}
	s.waitTask(t, id, asynq.TaskStateCompleted)
	c = offsite.Capture{} // error and failure are omitted when empty
	s.call(t, "GET", fmt.Sprintf("/api/v1/captures/%d", id), nil, &c)
	if c.Status != offsite.CaptureProcessed || c.Error != "" || c.Failure != nil {
		t.Errorf("after a successful run: status %q error %q failure %+v", c.Status, c.Error, c.Failure)
	}
	if clips, err := s.captures.FindClips(ctx, id); err != nil || len(clips) != 1 {
		t.Errorf("clips: %d, %v", len(clips), err)
	}
	r = offsite.NightlyRun{}
	if s.call(t, "GET", fmt.Sprintf("/api/v1/nightly-runs/%d", run.ID), nil, &r); r.Failed != 0 || r.Processed != 1 {
		t.Errorf("run after the retry = %+v", r)
	}
}
