package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/sample"
)

// TestSurveyBatches runs the sentinel2 pipeline over a 4 km pair with six parcels, two of
// them under new roofs, as a survey in batches of one parcel (six parts per capture, each
// reading a small window) and again in one batch per capture: both find exactly the same
// findings (ids hash the geometry, so the second survey records nothing new) and count the
// same clips.
func TestSurveyBatches(t *testing.T) {
	s := startSystem(t)
	fc := parcels(t, map[string][3]float64{
		"b-0": {500300, 3499500, 300}, "b-1": {501250, 3498950, 300}, "b-2": {503300, 3499300, 300},
		"b-3": {500400, 3496800, 300}, "b-4": {502750, 3496500, 400}, "b-5": {501700, 3497800, 300},
	})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	roofs := []sample.Rect{{R0: 80, C0: 130, R1: 100, C1: 150}, {R0: 320, C0: 280, R1: 345, C1: 310}}
	for i, after := range []bool{false, true} {
		key := fmt.Sprintf("batch/%d.tif", i)
		putSentinel2(t, s.store, key, 400, after, roofs)
		var c offsite.Capture
		if code := s.call(t, "POST", "/api/v1/captures", map[string]string{
			"kind": "sentinel2", "acquired_at": fmt.Sprintf("2026-0%d-01T02:30:00Z", 3+i), "key": key,
		}, &c); code != 201 {
			t.Fatalf("POST capture: %d", code)
		}
		// Ingested (footprint known) before the surveys, so that they are planned in batches.
		s.waitTask(t, c.ID, asynq.TaskStateCompleted)
	}
	ring, err := toLonLatRing(t, [][2]float64{{500000, 3496000}, {504000, 3496000}, {504000, 3500000}, {500000, 3500000}})
	if err != nil {
		t.Fatal(err)
	}
	survey := func(batch, parts int) surveyResponse {
		t.Helper()
		req := map[string]any{"zone": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}}, "batch_size": batch,
			"start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z", "kinds": []string{"sentinel2"}, "pipeline": "sentinel2"}
		var sv surveyResponse
		if code := s.call(t, "POST", "/api/v1/surveys", req, &sv); code != 201 || sv.Progress.Total != parts {
			t.Fatalf("POST survey in batches of %d: %d %+v, want %d parts", batch, code, sv, parts)
		}
		done := s.waitSurvey(t, sv.ID)
		if done.Status != offsite.SurveyFinished || done.Progress.Done != parts || done.Progress.Clips != 12 {
			t.Fatalf("survey in batches of %d = %+v, want %d parts done, 12 clips", batch, done, parts)
		}
		return done
	}
	type finding struct {
		ID       string `json:"finding_id"`
		ParcelID string `json:"parcel_id"`
		Kind     string `json:"kind"`
	}
	findings := func() []finding {
		var out struct {
			Features []struct {
				Properties finding `json:"properties"`
			} `json:"features"`
		}
		s.call(t, "GET", "/api/v1/findings?limit=1000", nil, &out)
		var fs []finding
		for _, f := range out.Features {
			fs = append(fs, f.Properties)
		}
		slices.SortFunc(fs, func(a, b finding) int { return strings.Compare(a.ID, b.ID) })
		return fs
	}
	small := survey(1, 12)
	fs := findings()
	parcelsFound := map[string]bool{}
	for _, f := range fs {
		parcelsFound[f.ParcelID] = true
	}
	if len(fs) == 0 || len(parcelsFound) != 2 || !parcelsFound["b-1"] || !parcelsFound["b-4"] {
		t.Fatalf("findings in batches of 1: %+v; want the roofs on b-1 and b-4", fs)
	}
	large := survey(1000, 2)
	if again := findings(); !slices.Equal(again, fs) || large.Progress.Findings != small.Progress.Findings {
		t.Errorf("one batch per capture found %d (stored now %+v); batches of 1 found %d (%+v)",
			large.Progress.Findings, again, small.Progress.Findings, fs)
	}
}

// putSentinel2 stores a size x size Sentinel-2-like scene at (500000, 3500000) under key in
// the captures bucket: the later date (after) with roofs.
func putSentinel2(t *testing.T, store *s3.Store, key string, size int, after bool, roofs []sample.Rect) {
	t.Helper()
	path, err := sample.Sentinel2(sceneEPSG, 500000, 3500000, size, size, after, roofs).Write(t.TempDir(), "s2.tif")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutCapture(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
}
