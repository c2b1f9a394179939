package e2e

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/tasks"
)

// s2Scene writes a 160x160 Sentinel-2-like scene; the later date has a new roof at
// rows/cols 60..75.
func s2Scene(t *testing.T, after bool) []byte {
	t.Helper()
	return sceneBytes(t, sample.Sentinel2(sceneEPSG, 500000, 3500000, 160, 160, after, []sample.Rect{{R0: 60, C0: 60, R1: 76, C1: 76}}))
}

// TestPipelineRun queues the sentinel2 pipeline on a before/after pair through the API: the
// worker finds the new roof on the parcel around it, records it with artifacts and a STAC
// provenance that verify, and a second request records nothing new.
// pairSetup registers an enterprise with parcel "site" around the roof (x 500600..500760,
// y 3499240..3499400), a parcel "quiet" elsewhere, and the before/after pair; it returns the
// captures' ids and the enterprise's USCC.
func pairSetup(t *testing.T, s *system) ([]int64, string) {
	t.Helper()
	ctx := context.Background()
	// An enterprise owns parcel "site", around the roof (x 500600..500760, y 3499240..3499400).
	check, err := enforce.USCCCheckChar("91320594MA1W6K2Q3")
	if err != nil {
		t.Fatal(err)
	}
	uscc := "91320594MA1W6K2Q3" + string(check)
	ent := map[string]any{"uscc": uscc, "name": "某精细化工有限公司", "industry": "C2614", "permit_no": uscc + "001P",
		"address": "1 Industrial Road", "zone": "east", "location": []float64{117.0, 31.6}, "complaint_channel": "12369"}
	if code := s.call(t, "POST", "/api/v1/enterprises", ent, nil); code != 201 {
		t.Fatalf("POST enterprise: %d", code)
	}
	var feats []sample.Feature
	for id, sq := range map[string][3]float64{"site": {500500, 3499150, 400}, "quiet": {501200, 3498600, 200}} {
		f, err := sample.RectParcel(sceneEPSG, id, "", sq[0], sq[1], sq[2], sq[2])
		if err != nil {
			t.Fatal(err)
		}
		if id == "site" {
			f.Properties["uscc"] = uscc
		}
		feats = append(feats, f)
	}
	fc, err := sample.FeatureCollection(feats)
	if err != nil {
		t.Fatal(err)
	}
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	var ids []int64
	for i, data := range [][]byte{s2Scene(t, false), s2Scene(t, true)} {
		key := fmt.Sprintf("s2/pair-%d.tif", i)
		if err := s.store.PutCapture(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, time.Month(3+i), 1, 2, 30, 0, 0, time.UTC), Bucket: s.store.Captures, Key: key}
		if err := s.captures.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	return ids, uscc
}

func TestPipelineRun(t *testing.T) {
	s := startSystem(t)
	ids, uscc := pairSetup(t, s)
	run := map[string]any{"pipeline": "sentinel2", "before_id": ids[0], "after_id": ids[1]}
	var queued struct {
		TaskID string `json:"task_id"`
		State  string `json:"state"`
	}
	if code := s.call(t, "POST", "/api/v1/pipeline-runs", run, &queued); code != 202 || queued.State != "queued" {
		t.Fatalf("POST /api/v1/pipeline-runs: %d %+v", code, queued)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		info, err := s.inspect.GetTaskInfo(tasks.QueueDefault, queued.TaskID)
		if err == nil && info.State == asynq.TaskStateCompleted {
			break
		}
		if err == nil && info.State == asynq.TaskStateArchived || time.Now().After(deadline) {
			t.Fatalf("pipeline run: %+v %v", info, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var fcOut struct {
		Features []struct {
			Properties struct {
				ParcelID  string  `json:"parcel_id"`
				Kind      string  `json:"kind"`
				Class     string  `json:"class"`
				AreaM2    float64 `json:"area_m2"`
				Artifacts []struct {
					Name, Key, SHA256 string
				} `json:"artifacts"`
				Provenance map[string]any `json:"provenance"`
			} `json:"properties"`
		} `json:"features"`
	}
	s.call(t, "GET", fmt.Sprintf("/api/v1/findings?capture_id=%d", ids[1]), nil, &fcOut)
	if len(fcOut.Features) == 0 {
		t.Fatal("no finding for the new roof")
	}
	for _, f := range fcOut.Features {
		p := f.Properties
		if p.ParcelID != "site" || p.Kind != offsite.FindingChange {
			t.Errorf("finding on %s of kind %s/%s; the only change is the roof on parcel site", p.ParcelID, p.Kind, p.Class)
		}
		// The roof is 160 m x 160 m = 25,600 m².
		if p.AreaM2 < 0.7*25600 || p.AreaM2 > 1.3*25600 {
			t.Errorf("finding area %.0f m², want about 25,600", p.AreaM2)
		}
		if len(p.Artifacts) == 0 || p.Provenance["type"] != "Feature" || p.Provenance["links"] == nil {
			t.Errorf("finding without artifacts or STAC provenance: %+v", p)
		}
	}
	var rep struct {
		Checked  int   `json:"checked"`
		Problems []any `json:"problems"`
	}
	if code := s.call(t, "POST", "/api/v1/evidence/verify", nil, &rep); code != 200 || rep.Checked == 0 || len(rep.Problems) != 0 {
		t.Errorf("verify: %d %+v", code, rep)
	}
	if code := s.call(t, "POST", "/api/v1/pipeline-runs", run, &queued); code != 202 || queued.State == "queued" {
		t.Errorf("second request: %d %+v, want already queued", code, queued)
	}
	// The finding opened an off-site inspection on the enterprise.
	var insp struct {
		Inspections []map[string]any `json:"inspections"`
		Total       int              `json:"total"`
	}
	if code := s.call(t, "GET", "/api/v1/inspections?uscc="+uscc, nil, &insp); code != 200 || len(insp.Inspections) != 1 {
		t.Errorf("inspections of %s after the finding: %d %+v", uscc, code, insp)
	}
}

// pairSurvey queues a sentinel2 survey over pairSetup's parcels from start to the end of
// 2026 and checks that it has parts parts.
func (s *system) pairSurvey(t *testing.T, start string, parts int) surveyResponse {
	t.Helper()
	ring, err := toLonLatRing(t, [][2]float64{{500000, 3498400}, {501600, 3498400}, {501600, 3500000}, {500000, 3500000}})
	if err != nil {
		t.Fatal(err)
	}
	req := map[string]any{"zone": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}},
		"start": start, "end": "2026-12-31T00:00:00Z", "kinds": []string{"sentinel2"}, "pipeline": "sentinel2"}
	var sv surveyResponse
	if code := s.call(t, "POST", "/api/v1/surveys", req, &sv); code != 201 || sv.Progress.Total != parts {
		t.Fatalf("POST survey: %d %+v, want %d parts", code, sv, parts)
	}
	return sv
}

// TestSurveyRunsPipeline queues a survey over the pair: the part of the later capture pairs it
// with the earlier one and finds the roof; the survey counts the finding.
func TestSurveyRunsPipeline(t *testing.T) {
	s := startSystem(t)
	_, _ = pairSetup(t, s)
	sv := s.pairSurvey(t, "2026-01-01T00:00:00Z", 2)
	done := s.waitSurvey(t, sv.ID)
	if done.Status != offsite.SurveyFinished || done.Progress.Done != 2 || done.Progress.Findings != 1 {
		t.Errorf("survey = %+v, want finished with the roof's finding", done)
	}
}

// TestTrackRun registers a survey vehicle's track through the API and runs the vehicle-track
// pipeline on it through the queue: the VOC exceedance is attributed to the plant upwind,
// not to the one downwind.
func TestTrackRun(t *testing.T) {
	s := startSystem(t)
	const lon, lat = 120.0, 30.0
	feature := func(id string, dy float64) map[string]any {
		return map[string]any{"type": "Feature", "properties": map[string]any{"parcel_id": id},
			"geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{sample.SquareLonLat(lon, lat, dy)}}}
	}
	fc := map[string]any{"type": "FeatureCollection", "features": []any{feature("upwind-plant", 300), feature("downwind-plant", -250)}}
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	s.upload(t, "tracks/2026-05-01/vehicle.csv", []byte(sample.VehicleTrackCSV(lon, lat)))
	var c offsite.Capture
	if code := s.call(t, "POST", "/api/v1/captures", map[string]string{
		"kind": "vehicle-track", "acquired_at": "2026-05-01T08:00:00Z", "key": "tracks/2026-05-01/vehicle.csv",
	}, &c); code != 201 {
		t.Fatalf("register track: %d", code)
	}
	s.waitTask(t, c.ID, asynq.TaskStateCompleted) // the capture task accepts a track as it is
	var queued struct {
		TaskID string `json:"task_id"`
	}
	if code := s.call(t, "POST", "/api/v1/pipeline-runs", map[string]any{"pipeline": "vehicle-track", "capture_id": c.ID}, &queued); code != 202 {
		t.Fatalf("POST pipeline-runs: %d", code)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := s.inspect.GetTaskInfo(tasks.QueueDefault, queued.TaskID)
		if err == nil && info.State == asynq.TaskStateCompleted {
			break
		}
		if err == nil && info.State == asynq.TaskStateArchived || time.Now().After(deadline) {
			t.Fatalf("track run: %+v %v", info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var out struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	s.call(t, "GET", fmt.Sprintf("/api/v1/findings?capture_id=%d&kind=exceedance", c.ID), nil, &out)
	if len(out.Features) == 0 {
		t.Fatal("no exceedance found on the track")
	}
	for _, f := range out.Features {
		if f.Properties["parcel_id"] != "upwind-plant" {
			t.Errorf("exceedance attributed to %v, want upwind-plant", f.Properties["parcel_id"])
		}
	}
}

// runPair queues the sentinel2 pipeline on a pair and waits for it.
func (s *system) runPair(t *testing.T, before, after int64) {
	t.Helper()
	var queued struct {
		TaskID string `json:"task_id"`
	}
	if code := s.call(t, "POST", "/api/v1/pipeline-runs", map[string]any{"pipeline": "sentinel2", "before_id": before, "after_id": after}, &queued); code != 202 {
		t.Fatalf("POST pipeline-runs: %d", code)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := s.inspect.GetTaskInfo(tasks.QueueDefault, queued.TaskID)
		if err == nil && info.State == asynq.TaskStateCompleted {
			return
		}
		if err == nil && info.State == asynq.TaskStateArchived || time.Now().After(deadline) {
			t.Fatalf("pipeline run %d→%d: %+v %v", before, after, info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWarningConfirmed: the roof found again against a later capture raises the confidence
// of the warning already open on the enterprise instead of adding a second warning; running
// the same pair again changes nothing.
func TestWarningConfirmed(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	ids, uscc := pairSetup(t, s)
	// A third date, a month after the second, with the roof still there (and a shed built in
	// a corner, outside every parcel, so that the file differs).
	data := sceneBytes(t, sample.Sentinel2(sceneEPSG, 500000, 3500000, 160, 160, true, []sample.Rect{{R0: 60, C0: 60, R1: 76, C1: 76}, {R0: 150, C0: 0, R1: 153, C1: 3}}))
	if err := s.store.PutCapture(ctx, "s2/pair-2.tif", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC), Bucket: s.store.Captures, Key: "s2/pair-2.tif"}
	if err := s.captures.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	s.runPair(t, ids[0], ids[1])
	s.runPair(t, ids[0], c.ID)
	// The same run again, as a re-delivered task would.
	if err := s.inspect.DeleteTask(tasks.QueueDefault, tasks.PipelineRunTaskID(tasks.PipelineRunPayload{Pipeline: "sentinel2", BeforeID: ids[0], AfterID: c.ID})); err != nil {
		t.Fatal(err)
	}
	s.runPair(t, ids[0], c.ID)

	var insp struct {
		Inspections []struct {
			Warnings []struct {
				Ref           string   `json:"ref"`
				Confirmations int      `json:"confirmations"`
				SeenIn        []string `json:"seen_in"`
			} `json:"warnings"`
		} `json:"inspections"`
	}
	if code := s.call(t, "GET", "/api/v1/inspections?uscc="+uscc, nil, &insp); code != 200 || len(insp.Inspections) != 1 {
		t.Fatalf("inspections: %d %+v", code, insp)
	}
	ws := insp.Inspections[0].Warnings
	if len(ws) != 1 || ws[0].Confirmations != 1 || len(ws[0].SeenIn) != 1 || ws[0].SeenIn[0] == ws[0].Ref {
		t.Errorf("warnings = %+v; want one warning confirmed once by the later finding", ws)
	}
}

// TestPipelineWarningLevel checks that the pipeline opens its inspections at the configured
// level of the enforcement body, not at the finding's severity (issue 14, bug 1).
func TestPipelineWarningLevel(t *testing.T) {
	s := startSystem(t)
	ids, uscc := pairSetup(t, s)
	s.runPair(t, ids[0], ids[1])
	var insp struct {
		Inspections []struct {
			ID       int64  `json:"id"`
			Level    string `json:"level"`
			Warnings []struct {
				Severity string `json:"severity"`
			} `json:"warnings"`
		} `json:"inspections"`
	}
	if code := s.call(t, "GET", "/api/v1/inspections?uscc="+uscc, nil, &insp); code != 200 || len(insp.Inspections) != 1 {
		t.Fatalf("inspections: %d %+v", code, insp)
	}
	in := insp.Inspections[0]
	if in.Level != string(enforce.LevelCounty) || len(in.Warnings) == 0 || in.Warnings[0].Severity == "" {
		t.Errorf("inspection = %+v; want level county (the workers' configured level) and the finding's severity on its warning", in)
	}
}
