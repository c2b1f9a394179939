package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/tasks"
)

// TestTwoWorkerProcesses runs two worker processes on the same Redis, PostgreSQL and S3 (as
// two machines would) over a night's captures and then a survey of them in parts, and checks
// from both processes' logs that every capture was ingested and clipped exactly once and every
// survey part run exactly once, that both processes took some of the work, and that the
// database agrees (clips per capture, parts done).
func TestTwoWorkerProcesses(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	logs := [2]string{filepath.Join(t.TempDir(), "worker-a.log"), filepath.Join(t.TempDir(), "worker-b.log")}
	for _, l := range logs {
		h.run(l, []string{"OFFSITE_LOG_LEVEL=info"}, h.bin, "serve")
	}
	// Both are polling before any work is queued.
	deadline := time.Now().Add(time.Minute)
	for _, l := range logs {
		for !strings.Contains(readFile(l), `"worker running"`) {
			if time.Now().After(deadline) {
				t.Fatalf("worker did not start: %s", readFile(l))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	const n = 6
	var caps []*offsite.Capture
	for i := range n {
		caps = append(caps, h.register(fmt.Sprintf("night/%d.tif", i)))
	}
	for _, c := range caps {
		h.wait(c.ID, 5*time.Minute)
	}

	// A survey over every parcel of those captures, in batches of 40 parcels: 3 parts per
	// capture. Its pipeline is none of the built-in ones, so the parts clip only (the
	// captures are clipped already: each part counts its batch's clips).
	db, err := postgres.Open(ctx, h.env0("OFFSITE_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	surveys := postgres.NewSurveyService(db)
	zone := orb.Polygon{{{100, 20}, {130, 20}, {130, 40}, {100, 40}, {100, 20}}}
	sv := &offsite.Survey{Name: "scale-out", Zone: zone, BatchSize: 40, Kinds: []string{offsite.KindSentinel2},
		Pipeline: "clip-only", WindowStart: time.Now().Add(-time.Hour), WindowEnd: time.Now().Add(time.Hour)}
	parts, err := surveys.CreateSurvey(ctx, sv)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3*n {
		t.Fatalf("survey planned %d parts, want %d (3 per capture)", len(parts), 3*n)
	}
	for _, p := range parts {
		task, err := tasks.NewSurveyPartTask(p.SurveyID, p.CaptureID, p.Batch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.client.Enqueue(task); err != nil {
			t.Fatal(err)
		}
	}
	for {
		got, err := surveys.FindSurveyByID(ctx, sv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == offsite.SurveyFinished {
			if got.Progress.Done != 3*n || got.Progress.Clips != n*len(h.parcels) {
				t.Fatalf("survey finished with %+v; want %d parts done, %d clips", got.Progress, 3*n, n*len(h.parcels))
			}
			break
		}
		if got.Status == offsite.SurveyError || time.Now().After(deadline.Add(10*time.Minute)) {
			t.Fatalf("survey %s: %+v\n%s\n%s", got.Status, got.Progress, readFile(logs[0]), readFile(logs[1]))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Every capture ingested and clipped once, every part run once, by one process or the
	// other; each process did some of each.
	ingested, clipped, ran := map[int64]int{}, map[int64]int{}, map[string]int{}
	for i, l := range logs {
		var mine [3]int
		for _, e := range logEntries(t, l) {
			switch e.Msg {
			case "capture ingested":
				ingested[e.CaptureID]++
				mine[0]++
			case "capture clipped":
				clipped[e.CaptureID]++
				mine[1]++
			case "survey part done":
				ran[fmt.Sprintf("%d/%d/%d", e.SurveyID, e.CaptureID, e.Batch)]++
				mine[2]++
			}
		}
		// Both share the work, but how asynq hands it out is not fixed: on an idle machine one
		// process took all 18 short parts while the other was ingesting. Each must do some work.
		if mine[0]+mine[1]+mine[2] == 0 {
			t.Errorf("worker %d did nothing: no capture ingested or clipped, no part run", i)
		}
		t.Logf("worker %d: ingested %d captures, clipped %d, ran %d survey parts", i, mine[0], mine[1], mine[2])
	}
	for _, c := range caps {
		if ingested[c.ID] != 1 || clipped[c.ID] != 1 {
			t.Errorf("capture %d ingested %d and clipped %d times, want once each", c.ID, ingested[c.ID], clipped[c.ID])
		}
		clips, err := h.captures.FindClips(ctx, c.ID)
		if err != nil || len(clips) != len(h.parcels) {
			t.Errorf("capture %d has %d clips (%v), want %d", c.ID, len(clips), err, len(h.parcels))
		}
	}
	if len(ran) != len(parts) {
		t.Errorf("%d distinct parts ran, want %d", len(ran), len(parts))
	}
	for p, k := range ran {
		if k != 1 {
			t.Errorf("part %s ran %d times", p, k)
		}
	}
	info, err := h.insp.GetQueueInfo(tasks.QueueCritical)
	if err != nil {
		t.Fatal(err)
	}
	if info.Retry+info.Archived+info.Pending+info.Active != 0 {
		t.Errorf("critical queue: %+v; want every part completed, none retried", info)
	}
}

// env0 returns the value the harness gives the worker processes for name.
func (h *harness) env0(name string) string {
	v := ""
	for _, kv := range h.env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// logEntry is the part of a worker's JSON log line the test reads.
type logEntry struct {
	Msg       string `json:"msg"`
	CaptureID int64  `json:"capture_id"`
	SurveyID  int64  `json:"survey_id"`
	Batch     int    `json:"batch"`
}

// logEntries reads a worker's JSON log.
func logEntries(t *testing.T, path string) []logEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e logEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out
}
