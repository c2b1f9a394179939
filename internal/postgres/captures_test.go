package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite"
)

// TestCaptureMetadata: a capture's sidecar band scales are stored at registration and its
// ingest warnings at update, and both read back; a capture without them has none.
func TestCaptureMetadata(t *testing.T) {
	ctx := context.Background()
	s := NewCaptureService(MustOpen(t))
	scales := []offsite.BandScale{{Scale: 0.0001, Offset: 0, Set: true}, {Scale: 1}, {Scale: 0.0001, Offset: -0.1, Set: true}}
	with := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC), Bucket: "b", Key: "with.tif", BandScales: scales}
	without := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC), Bucket: "b", Key: "without.tif"}
	for _, c := range []*offsite.Capture{with, without} {
		if err := s.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	warnings := []string{"TIFFReadDirectory: Sum of Photometric type-related color channels and ExtraSamples doesn't match SamplesPerPixel"}
	if _, err := s.UpdateCapture(ctx, with.ID, offsite.CaptureUpdate{Warnings: warnings}); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindCaptureByID(ctx, with.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(scales, got.BandScales); diff != "" {
		t.Errorf("band scales (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(warnings, got.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if got, err = s.FindCaptureByID(ctx, without.ID); err != nil || got.BandScales != nil || len(got.Warnings) != 0 {
		t.Errorf("capture without metadata: %+v %v", got, err)
	}
}
