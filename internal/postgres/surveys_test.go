package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offsite/offsite"
)

func TestSurveyLifecycle(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	caps := NewCaptureService(db)
	at := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	var ids []int64
	for _, k := range []string{"a.tif", "b.tif", "c.tif"} {
		c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: at, Bucket: "b", Key: k}
		if err := caps.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	s := NewSurveyService(db)
	sv := &offsite.Survey{Zone: square(120, 31, 1), WindowStart: at.Add(-time.Hour), WindowEnd: at.Add(time.Hour),
		Kinds: []string{offsite.KindSentinel2}, Pipeline: "sentinel2"}
	parts, err := s.CreateSurvey(ctx, sv)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 || sv.Status != offsite.SurveyQueued || sv.Progress.Queued != 3 {
		t.Fatalf("planned %d parts, survey %+v", len(parts), sv)
	}
	// One part runs and ends; then the survey is canceled: the part still queued is canceled,
	// and a worker that picks it up later is told so.
	if ok, err := s.StartPart(ctx, sv.ID, ids[0]); err != nil || !ok {
		t.Fatalf("StartPart: %v %v", ok, err)
	}
	if err := s.EndPart(ctx, sv.ID, ids[0], 4, 1, ""); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.StartPart(ctx, sv.ID, ids[1]); err != nil || !ok {
		t.Fatalf("StartPart: %v %v", ok, err)
	}
	canceled, err := s.CancelSurvey(ctx, sv.ID)
	if err != nil || len(canceled) != 1 || canceled[0].CaptureID != ids[2] {
		t.Fatalf("CancelSurvey = %+v, %v", canceled, err)
	}
	if ok, err := s.StartPart(ctx, sv.ID, ids[2]); err != nil || ok {
		t.Errorf("StartPart after cancel = %v, %v; want false", ok, err)
	}
	if err := s.EndPart(ctx, sv.ID, ids[1], 2, 0, ""); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindSurveyByID(ctx, sv.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := offsite.Progress{Total: 3, Done: 2, Canceled: 1, Clips: 6, Findings: 1}
	if got.Status != offsite.SurveyCanceled || got.Progress != want {
		t.Errorf("canceled survey: %s %+v, want canceled %+v", got.Status, got.Progress, want)
	}
	if _, err := s.CancelSurvey(ctx, sv.ID); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("second cancel: %v, want conflict", err)
	}
	if _, err := s.RetrySurvey(ctx, sv.ID); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("retry of a canceled survey: %v, want conflict", err)
	}
	if _, err := s.FindSurveyByID(ctx, 9999); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("missing survey: %v", err)
	}

	// A survey with nothing to do is finished at once; every part failing is an error.
	empty := &offsite.Survey{Zone: square(0, 0, 1), WindowStart: at.Add(-time.Hour), WindowEnd: at.Add(time.Hour),
		Kinds: []string{offsite.KindLandsat}, Pipeline: "landsat"}
	if parts, err := s.CreateSurvey(ctx, empty); err != nil || len(parts) != 0 || empty.Status != offsite.SurveyFinished {
		t.Errorf("empty survey: %d parts, %+v, %v", len(parts), empty, err)
	}
	one := &offsite.Survey{Zone: square(120, 31, 1), WindowStart: at.Add(-time.Hour), WindowEnd: at.Add(time.Hour),
		Kinds: []string{offsite.KindSentinel2}, Pipeline: "sentinel2"}
	parts, err = s.CreateSurvey(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if err := s.EndPart(ctx, one.ID, p.CaptureID, 0, 0, "corrupt"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.FindSurveyByID(ctx, one.ID); got.Status != offsite.SurveyError || got.Progress.Failed != 3 {
		t.Errorf("all parts failed: %s %+v", got.Status, got.Progress)
	}
}
