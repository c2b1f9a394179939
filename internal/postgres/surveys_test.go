package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	if p, err := s.StartPart(ctx, sv.ID, ids[0], 0); err != nil || p == nil || p.Status != offsite.PartRunning {
		t.Fatalf("StartPart: %+v %v", p, err)
	}
	if err := s.EndPart(ctx, sv.ID, ids[0], 0, 4, 1, ""); err != nil {
		t.Fatal(err)
	}
	if p, err := s.StartPart(ctx, sv.ID, ids[1], 0); err != nil || p == nil {
		t.Fatalf("StartPart: %v %v", p, err)
	}
	canceled, err := s.CancelSurvey(ctx, sv.ID)
	if err != nil || len(canceled) != 1 || canceled[0].CaptureID != ids[2] {
		t.Fatalf("CancelSurvey = %+v, %v", canceled, err)
	}
	if p, err := s.StartPart(ctx, sv.ID, ids[2], 0); err != nil || p != nil {
		t.Errorf("StartPart after cancel = %v, %v; want nil", p, err)
	}
	if err := s.EndPart(ctx, sv.ID, ids[1], 0, 2, 0, ""); err != nil {
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
		if err := s.EndPart(ctx, one.ID, p.CaptureID, p.Batch, 0, 0, "corrupt"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.FindSurveyByID(ctx, one.ID); got.Status != offsite.SurveyError || got.Progress.Failed != 3 {
		t.Errorf("all parts failed: %s %+v", got.Status, got.Progress)
	}

	// The list: newest first with progress, filtered by status, paged.
	all, total, err := s.FindSurveys(ctx, "", 0, 10)
	if err != nil || total != 3 || len(all) != 3 || all[0].ID != one.ID || all[1].ID != empty.ID || all[2].ID != sv.ID {
		t.Fatalf("FindSurveys = %d of %d, %v", len(all), total, err)
	}
	if all[2].Status != offsite.SurveyCanceled || all[2].Progress != want {
		t.Errorf("listed survey %d: %s %+v, want canceled %+v", sv.ID, all[2].Status, all[2].Progress, want)
	}
	if errs, n, err := s.FindSurveys(ctx, offsite.SurveyError, 0, 10); err != nil || n != 1 || len(errs) != 1 || errs[0].ID != one.ID {
		t.Errorf("FindSurveys(error) = %v (%d), %v", errs, n, err)
	}
	if page, n, err := s.FindSurveys(ctx, "", 1, 1); err != nil || n != 3 || len(page) != 1 || page[0].ID != empty.ID {
		t.Errorf("FindSurveys(offset 1, limit 1) = %v (%d), %v", page, n, err)
	}
}

// TestSurveyBatches plans a survey over a capture with a known footprint and 10 parcels on a
// row and 10 on another far away, in batches of 5: four batches, each of parcels of one row
// (Z-order keeps neighbours together), every parcel once; a capture not ingested yet is
// planned on the same batches of the zone's parcels.
func TestSurveyBatches(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	var ps []*offsite.Parcel
	for i := range 10 {
		for row, y := range []float64{31.0, 31.8} {
			ps = append(ps, &offsite.Parcel{ID: fmt.Sprintf("r%d-%02d", row, i), Geometry: square(120+float64(i)*0.01, y, 0.005)})
		}
	}
	if err := NewParcelService(db).UpsertParcels(ctx, ps); err != nil {
		t.Fatal(err)
	}
	caps := NewCaptureService(db)
	at := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	ingested := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: at, Bucket: "b", Key: "ingested.tif"}
	fresh := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: at.Add(time.Minute), Bucket: "b", Key: "fresh.tif"}
	for _, c := range []*offsite.Capture{ingested, fresh} {
		if err := caps.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := caps.UpdateCapture(ctx, ingested.ID, offsite.CaptureUpdate{Footprint: square(119.9, 30.9, 1.2), Ingested: true}); err != nil {
		t.Fatal(err)
	}
	s := NewSurveyService(db)
	plan := func() []*offsite.SurveyPart {
		sv := &offsite.Survey{Zone: square(119, 30, 3), WindowStart: at.Add(-time.Hour), WindowEnd: at.Add(time.Hour),
			Kinds: []string{offsite.KindSentinel2}, Pipeline: "sentinel2", BatchSize: 5}
		parts, err := s.CreateSurvey(ctx, sv)
		if err != nil {
			t.Fatal(err)
		}
		if sv.BatchSize != 5 || sv.Progress.Total != len(parts) {
			t.Fatalf("survey %+v with %d parts", sv, len(parts))
		}
		return parts
	}
	parts := plan()
	if len(parts) != 8 {
		t.Fatalf("%d parts, want 4 batches of each capture", len(parts))
	}
	for c, capture := range []*offsite.Capture{ingested, fresh} {
		seen := map[string]bool{}
		for i, p := range parts[4*c : 4*c+4] {
			if p.CaptureID != capture.ID || p.Batch != i || len(p.ParcelIDs) != 5 {
				t.Fatalf("part %d of capture %d = %+v", i, capture.ID, p)
			}
			for _, id := range p.ParcelIDs {
				if id[:2] != p.ParcelIDs[0][:2] {
					t.Errorf("batch %d mixes the rows: %v", i, p.ParcelIDs)
				}
				seen[id] = true
			}
		}
		if len(seen) != 20 {
			t.Errorf("batches of capture %d cover %d parcels, want 20", capture.ID, len(seen))
		}
	}
	// Planning is deterministic: the same parcels in the same batches.
	for i, p := range plan() {
		if !slices.Equal(p.ParcelIDs, parts[i].ParcelIDs) {
			t.Errorf("second plan, part %d: %v, first %v", i, p.ParcelIDs, parts[i].ParcelIDs)
		}
	}
	got, err := s.StartPart(ctx, parts[2].SurveyID, ingested.ID, 2)
	if err != nil || !slices.Equal(got.ParcelIDs, parts[2].ParcelIDs) {
		t.Errorf("StartPart of batch 2 = %+v, %v", got, err)
	}
}
