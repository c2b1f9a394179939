package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite"
)

// TestCaptureFailure: a failure is stored with the capture and read back, and a successful
// run clears it.
func TestCaptureFailure(t *testing.T) {
	ctx := context.Background()
	s := NewCaptureService(MustOpen(t))
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC), Bucket: "b", Key: "k.tif"}
	if err := s.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.Failure != nil {
		t.Errorf("new capture has a failure: %+v", c.Failure)
	}
	f := &offsite.CaptureFailure{Stage: offsite.StagePipeline, Pipeline: "sentinel2", TaskID: "capture:clip:1", Queue: "nightly",
		Attempts: 9, At: time.Date(2026, 5, 2, 3, 0, 0, 0, time.UTC)}
	failed, msg := offsite.CaptureFailed, "no band B02"
	if _, err := s.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Status: &failed, Error: &msg, Failure: f}); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindCaptureByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(f, got.Failure); diff != "" || got.Status != failed || got.Error != msg {
		t.Errorf("failed capture: status %q error %q; failure (-want +got):\n%s", got.Status, got.Error, diff)
	}
	// An update that does not touch the failure keeps it.
	queued := offsite.CaptureQueued
	if got, err = s.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Status: &queued}); err != nil || got.Failure == nil {
		t.Errorf("queued again: failure %+v, %v; want it kept until a run succeeds", got, err)
	}
	processed, none := offsite.CaptureProcessed, ""
	if got, err = s.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Status: &processed, Error: &none, ClearFailure: true}); err != nil {
		t.Fatal(err)
	}
	if got.Failure != nil || got.Error != "" {
		t.Errorf("after a successful run: error %q failure %+v", got.Error, got.Failure)
	}
	if _, err := s.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Failure: f, ClearFailure: true}); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("Failure and ClearFailure: err = %v, want ErrInvalid", err)
	}
}

// TestNightlyRuns: a run's captures, their outcome as counts and as a list, and paging.
func TestNightlyRuns(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	caps := NewCaptureService(db)
	s := NewNightlyService(db)
	var ids []int64
	for _, key := range []string{"a.tif", "b.tif", "c.tif"} {
		c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC), Bucket: "b", Key: key}
		if err := caps.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	first, _, err := s.StartRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := s.AddRunCapture(ctx, first.ID, id, "sentinel2"); err != nil {
			t.Fatal(err)
		}
	}
	first.Queued = 3
	if err := s.FinishRun(ctx, first); err != nil {
		t.Fatal(err)
	}
	// a is processed, b failed, c still queued.
	processed, failed, msg := offsite.CaptureProcessed, offsite.CaptureFailed, "no band B02"
	if _, err := caps.UpdateCapture(ctx, ids[0], offsite.CaptureUpdate{Status: &processed}); err != nil {
		t.Fatal(err)
	}
	fail := &offsite.CaptureFailure{Stage: offsite.StagePipeline, Pipeline: "sentinel2", Attempts: 1, At: time.Now().UTC().Truncate(time.Microsecond)}
	if _, err := caps.UpdateCapture(ctx, ids[1], offsite.CaptureUpdate{Status: &failed, Error: &msg, Failure: fail}); err != nil {
		t.Fatal(err)
	}
	// A capture a worker has moved on from registered is not set back to queued.
	if err := s.AddRunCapture(ctx, first.ID, ids[0], "sentinel2"); err != nil {
		t.Fatal(err)
	}
	second, _, err := s.StartRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second.Error = "storage unreachable"
	if err := s.FinishRun(ctx, second); err != nil {
		t.Fatal(err)
	}

	got, err := s.FindRunByID(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != offsite.NightlyFinished || got.Queued != 3 || got.Processed != 1 || got.Failed != 1 || got.Pending != 1 {
		t.Errorf("run = %+v; want 3 queued: 1 processed, 1 failed, 1 pending", got)
	}
	rcs, err := s.FindRunCaptures(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, rc := range rcs {
		states = append(states, rc.Key+" "+rc.Status+" "+rc.Error+" "+rc.Pipeline)
	}
	want := []string{"a.tif processed  sentinel2", "b.tif failed no band B02 sentinel2", "c.tif queued  sentinel2"}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("run captures (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(fail, rcs[1].Failure); diff != "" {
		t.Errorf("failure of b (-want +got):\n%s", diff)
	}

	runs, total, err := s.FindRuns(ctx, offsite.NightlyRunFilter{Limit: 1})
	if err != nil || total != 2 || len(runs) != 1 || runs[0].ID != second.ID || runs[0].Status != offsite.NightlyError {
		t.Errorf("first page = %+v, %d, %v; want the second run, newest first", runs, total, err)
	}
	runs, total, err = s.FindRuns(ctx, offsite.NightlyRunFilter{Limit: 1, Offset: 1})
	if err != nil || total != 2 || len(runs) != 1 || runs[0].ID != first.ID || runs[0].Failed != 1 {
		t.Errorf("second page = %+v, %d, %v", runs, total, err)
	}
	runs, total, err = s.FindRuns(ctx, offsite.NightlyRunFilter{Status: offsite.NightlyFinished})
	if err != nil || total != 1 || len(runs) != 1 || runs[0].ID != first.ID {
		t.Errorf("finished runs = %+v, %d, %v", runs, total, err)
	}
	if _, err := s.FindRunByID(ctx, 999999); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("missing run: err = %v", err)
	}
	if _, err := s.FindRunCaptures(ctx, 999999); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("captures of a missing run: err = %v", err)
	}
}
