package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
)

func TestFindings(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	if err := NewParcelService(db).UpsertParcels(ctx, []*offsite.Parcel{
		{ID: "p1", Geometry: square(120, 31, 0.01)}, {ID: "p2", Geometry: square(121, 31, 0.01)},
	}); err != nil {
		t.Fatal(err)
	}
	caps := NewCaptureService(db)
	var ids []int64
	for _, k := range []string{"a.tif", "b.tif"} {
		c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Now(), Bucket: "b", Key: k}
		if err := caps.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	s := NewFindingService(db)
	at := time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC)
	mk := func(id, parcel, kind string, g orb.Geometry) *offsite.Finding {
		return &offsite.Finding{ID: id, ParcelID: parcel, CaptureIDs: ids, Kind: kind, Class: "new_structure",
			Score: 0.9, AreaM2: 1200, Severity: "high", Geometry: g, Pipeline: "sentinel2", PipelineHash: "abc",
			DetectedAt: at, Properties: map[string]any{"p_change": 0.9999},
			Provenance: json.RawMessage(`{"type":"Feature","stac_version":"1.0.0"}`),
			Artifacts:  []offsite.Artifact{{Name: "after.tif", Key: "sha256/aa/aa.tif", SHA256: "aa", Size: 10, MediaType: "image/tiff"}}}
	}
	f1 := mk("0123456789abcdef", "p1", offsite.FindingChange, square(120.002, 31.002, 0.001))
	f2 := mk("fedcba9876543210", "p2", offsite.FindingHotspot, square(121.002, 31.002, 0.001))
	if err := s.RecordFindings(ctx, []*offsite.Finding{f1, f2}); err != nil {
		t.Fatal(err)
	}
	first := f1.CreatedAt
	// Recording the same finding again (a re-delivered task) keeps the stored row.
	again := mk("0123456789abcdef", "p1", offsite.FindingChange, square(120.002, 31.002, 0.001))
	again.Score = 0.1
	if err := s.RecordFindings(ctx, []*offsite.Finding{again}); err != nil {
		t.Fatal(err)
	}
	got, total, err := s.FindFindings(ctx, offsite.FindingFilter{ParcelID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || got[0].Score != 0.9 || !got[0].CreatedAt.Equal(first) || len(got[0].Artifacts) != 1 || got[0].Properties["p_change"] != 0.9999 {
		t.Errorf("p1 findings = %d %+v", total, got)
	}
	if got, _, _ := s.FindFindings(ctx, offsite.FindingFilter{CaptureID: ids[1], Kind: offsite.FindingHotspot}); len(got) != 1 || got[0].ID != f2.ID {
		t.Errorf("hotspots of capture %d = %+v", ids[1], got)
	}
	if got, _, _ := s.FindFindings(ctx, offsite.FindingFilter{Intersects: square(121, 31, 0.01)}); len(got) != 1 || got[0].ParcelID != "p2" {
		t.Errorf("findings in p2's square = %+v", got)
	}
	// Evidence rows are immutable, whatever the application asks: the trigger refuses, or the
	// application's role has no privilege at all (TRUNCATE).
	for _, q := range []string{
		"UPDATE findings SET score = 0 WHERE id = '0123456789abcdef'",
		"DELETE FROM findings",
		"TRUNCATE findings",
	} {
		if _, err := db.Pool.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "findings are evidence") && !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s: err = %v, want refusal", q, err)
		}
	}
	// A finding of an unknown parcel is refused with the whole batch.
	bad := mk("aaaaaaaaaaaaaaaa", "nope", offsite.FindingChange, square(0, 0, 1))
	if err := s.RecordFindings(ctx, []*offsite.Finding{bad}); err == nil {
		t.Error("finding of an unknown parcel stored")
	}
}
