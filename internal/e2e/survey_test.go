package e2e

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/sample"
)

type surveyResponse struct {
	ID       int64            `json:"id"`
	Status   string           `json:"status"`
	Parcels  int              `json:"parcels"`
	Progress offsite.Progress `json:"progress"`
	Started  *time.Time       `json:"started_at"`
	Finished *time.Time       `json:"finished_at"`
}

func (s *system) waitSurvey(t *testing.T, id int64) surveyResponse {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var sv surveyResponse
		if code := s.call(t, "GET", fmt.Sprintf("/api/v1/surveys/%d", id), nil, &sv); code != 200 {
			t.Fatalf("GET survey %d: %d", id, code)
		}
		if sv.Status == offsite.SurveyFinished || sv.Status == offsite.SurveyError || sv.Status == offsite.SurveyCanceled {
			return sv
		}
		if time.Now().After(deadline) {
			t.Fatalf("survey %d still %s: %+v", id, sv.Status, sv.Progress)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSurvey queues a survey over a zone and window: it takes exactly the captures of the
// chosen kind in the window, runs them, counts progress, shows the failed part with its
// error, and retries it on request.
func TestSurvey(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	fc := parcels(t, map[string][3]float64{"z-1": {500500, 3499150, 400}, "z-2": {501200, 3498600, 200}, "far": {560000, 3400000, 500}})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	scene := s2Scene(t, false)
	day := func(d int) time.Time { return time.Date(2026, 5, d, 2, 30, 0, 0, time.UTC) }
	add := func(key, kind string, at time.Time, data []byte) int64 {
		if err := s.store.PutCapture(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		c := &offsite.Capture{Kind: kind, AcquiredAt: at, Bucket: s.store.Captures, Key: key}
		if err := s.captures.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	good := add("s2/a.tif", offsite.KindSentinel2, day(3), scene)
	add("s2/late.tif", offsite.KindSentinel2, day(25), scene) // outside the window
	add("l8/a.tif", offsite.KindLandsat, day(4), scene)       // another kind
	bad := add("s2/broken.tif", offsite.KindSentinel2, day(5), scene[:300])

	ll, err := toLonLatRing(t, [][2]float64{{500000, 3498400}, {501600, 3498400}, {501600, 3500000}, {500000, 3500000}})
	if err != nil {
		t.Fatal(err)
	}
	req := map[string]any{
		"name": "zone A, early May", "zone": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ll}},
		"start": "2026-05-01T00:00:00Z", "end": "2026-05-20T00:00:00Z", "kinds": []string{"sentinel2"}, "pipeline": "sentinel2",
	}
	var sv surveyResponse
	if code := s.call(t, "POST", "/api/v1/surveys", req, &sv); code != 201 {
		t.Fatalf("POST /api/v1/surveys: %d", code)
	}
	if sv.Progress.Total != 2 || sv.Parcels != 2 {
		t.Fatalf("planned survey: %+v (want 2 captures, 2 parcels in the zone)", sv)
	}
	done := s.waitSurvey(t, sv.ID)
	if done.Status != offsite.SurveyFinished || done.Progress.Done != 1 || done.Progress.Failed != 1 || done.Progress.Clips != 2 ||
		done.Started == nil || done.Finished == nil {
		t.Fatalf("finished survey: %+v", done)
	}
	var parts struct {
		Parts []offsite.SurveyPart `json:"parts"`
	}
	s.call(t, "GET", fmt.Sprintf("/api/v1/surveys/%d/parts", sv.ID), nil, &parts)
	for _, p := range parts.Parts {
		switch p.CaptureID {
		case good:
			if p.Status != offsite.PartDone || p.Clips != 2 {
				t.Errorf("good part: %+v", p)
			}
		case bad:
			if p.Status != offsite.PartFailed || p.Error == "" {
				t.Errorf("broken part: %+v", p)
			}
		default:
			t.Errorf("unexpected part %+v", p)
		}
	}

	// Retry runs the failed part again (it fails again: the file is still broken).
	if code := s.call(t, "POST", fmt.Sprintf("/api/v1/surveys/%d/retry", sv.ID), nil, nil); code != 200 {
		t.Fatalf("retry: %d", code)
	}
	again := s.waitSurvey(t, sv.ID)
	if again.Status != offsite.SurveyFinished || again.Progress.Failed != 1 || again.Progress.Done != 1 {
		t.Errorf("after retry: %+v", again)
	}
	// An ended survey cannot be canceled.
	if code := s.call(t, "POST", fmt.Sprintf("/api/v1/surveys/%d/cancel", sv.ID), nil, nil); code != 409 {
		t.Errorf("cancel of a finished survey: %d, want 409", code)
	}

	for _, tc := range []struct {
		name  string
		patch map[string]any
		field string
	}{
		{"zone not polygonal", map[string]any{"zone": map[string]any{"type": "Point", "coordinates": []float64{1, 2}}}, "zone"},
		{"window backwards", map[string]any{"end": "2026-04-01T00:00:00Z"}, "end"},
		{"unknown kind", map[string]any{"kinds": []string{"sentinel2", "sonar"}}, "kinds[1]"},
		{"unknown pipeline", map[string]any{"pipeline": "nope"}, "pipeline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{}
			for k, v := range req {
				body[k] = v
			}
			for k, v := range tc.patch {
				body[k] = v
			}
			var e struct {
				Error struct{ Field, Message string }
			}
			if code := s.call(t, "POST", "/api/v1/surveys", body, &e); code != 400 || e.Error.Field != tc.field {
				t.Errorf("status %d, error %+v; want 400 naming %q", code, e.Error, tc.field)
			}
		})
	}
}

func toLonLatRing(t *testing.T, pts [][2]float64) ([][2]float64, error) {
	t.Helper()
	ll, err := sample.ToLonLat(sceneEPSG, pts)
	if err != nil {
		return nil, err
	}
	return append(ll, ll[0]), nil
}
