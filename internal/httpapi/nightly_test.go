package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
)

// TestNightlyRunRoutes lists nightly runs newest first with paging, shows one with its
// problems and its captures (a failed one with its error and failure), answers bad
// parameters with 400 naming them, and admits the roles that read captures.
func TestNightlyRunRoutes(t *testing.T) {
	srv, hs := newServer(t)
	ctx := context.Background()
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC), Bucket: "b", Key: "drop/bad.tif"}
	if err := srv.Captures.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 3 {
		run, _, err := srv.Nightly.StartRun(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			run.Problems = []string{"drop/x.json: no data asset"}
			if err := srv.Nightly.AddRunCapture(ctx, run.ID, c.ID, "sentinel2"); err != nil {
				t.Fatal(err)
			}
			run.Queued = 1
		}
		if err := srv.Nightly.FinishRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, run.ID)
	}
	failed, msg := offsite.CaptureFailed, "pipeline sentinel2 on capture 1: no band \"B02\""
	f := &offsite.CaptureFailure{Stage: offsite.StagePipeline, Pipeline: "sentinel2", TaskID: "capture:clip:1", Queue: "nightly", Attempts: 1, At: time.Now().UTC()}
	if _, err := srv.Captures.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Status: &failed, Error: &msg, Failure: f}); err != nil {
		t.Fatal(err)
	}

	type runJSON struct {
		ID       int64    `json:"id"`
		Status   string   `json:"status"`
		Queued   int      `json:"queued"`
		Failed   int      `json:"failed"`
		Problems []string `json:"problems"`
		Captures []struct {
			CaptureID int64                   `json:"capture_id"`
			Key       string                  `json:"key"`
			Status    string                  `json:"status"`
			Error     string                  `json:"error"`
			Failure   *offsite.CaptureFailure `json:"failure"`
		} `json:"captures"`
	}
	var page struct {
		Runs   []runJSON `json:"runs"`
		Total  int       `json:"total"`
		Offset int       `json:"offset"`
		Limit  int       `json:"limit"`
	}
	code, body := do(t, "GET", hs.URL+"/api/v1/nightly-runs?limit=2&offset=1", "")
	if code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 || page.Offset != 1 || page.Limit != 2 || len(page.Runs) != 2 || page.Runs[0].ID != ids[1] || page.Runs[1].ID != ids[0] {
		t.Fatalf("page = %s; want runs %d and %d of 3, newest first", body, ids[1], ids[0])
	}
	if r := page.Runs[0]; r.Queued != 1 || r.Failed != 1 {
		t.Errorf("run %d: queued %d, failed %d; want 1 and 1", r.ID, r.Queued, r.Failed)
	}

	code, body = do(t, "GET", fmt.Sprintf("%s/api/v1/nightly-runs/%d", hs.URL, ids[1]), "")
	if code != 200 {
		t.Fatalf("get: %d %s", code, body)
	}
	var run runJSON
	if err := json.Unmarshal(body, &run); err != nil {
		t.Fatal(err)
	}
	if run.ID != ids[1] || run.Status != "finished" || run.Failed != 1 || len(run.Problems) != 1 || len(run.Captures) != 1 {
		t.Fatalf("run = %s", body)
	}
	if rc := run.Captures[0]; rc.CaptureID != c.ID || rc.Status != failed || rc.Error != msg || rc.Failure == nil ||
		rc.Failure.Stage != offsite.StagePipeline || rc.Failure.TaskID != f.TaskID || rc.Failure.Attempts != 1 {
		t.Errorf("run capture = %+v", rc)
	}

	// The capture itself shows the failure too.
	code, body = do(t, "GET", fmt.Sprintf("%s/api/v1/captures/%d", hs.URL, c.ID), "")
	if code != 200 || !strings.Contains(string(body), `"failure"`) || !strings.Contains(string(body), `"stage": "pipeline"`) {
		t.Errorf("GET capture: %d %s", code, body)
	}

	for _, tc := range []struct {
		name, path string
		status     int
		field, msg string
	}{
		{"limit zero", "/api/v1/nightly-runs?limit=0", 400, "limit", "1..1000"},
		{"limit too large", "/api/v1/nightly-runs?limit=1001", 400, "limit", "1..1000"},
		{"limit not a number", "/api/v1/nightly-runs?limit=ten", 400, "limit", `"ten"`},
		{"offset negative", "/api/v1/nightly-runs?offset=-1", 400, "offset", "got \"-1\""},
		{"offset not a number", "/api/v1/nightly-runs?offset=x", 400, "offset", ""},
		{"status", "/api/v1/nightly-runs?status=done", 400, "status", "running, finished, error"},
		{"id not a number", "/api/v1/nightly-runs/abc", 400, "id", "positive integer"},
		{"id zero", "/api/v1/nightly-runs/0", 400, "id", "positive integer"},
		{"no such run", "/api/v1/nightly-runs/999999", 404, "", "nightly run 999999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, "GET", hs.URL+tc.path, "")
			checkAPIError(t, code, body, tc.status, tc.field, tc.msg)
		})
	}

	// Roles: as for reading captures.
	for role, want := range map[enforce.Role]int{httpapi.RoleAnalyst: 200, httpapi.RoleInspector: 200, httpapi.RoleEnterprise: 403, "": 401} {
		req, err := http.NewRequest("GET", hs.URL+"/api/v1/nightly-runs", nil)
		if err != nil {
			t.Fatal(err)
		}
		if role != "" {
			req.Header.Set("Authorization", "Bearer "+tokenOf[role])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%q: status %d, want %d", role, resp.StatusCode, want)
		}
	}
}
