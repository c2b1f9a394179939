package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
)

// TestSurveyPlansOnlyTheZone is the probe of issue 13 item 8: a survey over a 6-parcel zone
// under a capture whose footprint holds many other parcels queued a part for every batch of
// those parcels (150,028 parts). The parts cover the zone's parcels and nothing else: the
// ingested capture's, the one whose footprint is not known yet, and one that touches the
// zone without any of its parcels (an empty list, not "every parcel under the capture").
func TestSurveyPlansOnlyTheZone(t *testing.T) {
	const outside = 20000
	ctx := context.Background()
	db := MustOpen(t)
	var zoneParcels []*offsite.Parcel
	var zoneIDs []string
	for i := range 6 {
		id := fmt.Sprintf("in-%d", i)
		zoneParcels = append(zoneParcels, &offsite.Parcel{ID: id, Geometry: square(120.001+float64(i)*0.001, 31.001, 0.0005)})
		zoneIDs = append(zoneIDs, id)
	}
	if err := NewParcelService(db).UpsertParcels(ctx, zoneParcels); err != nil {
		t.Fatal(err)
	}
	// The others, on a grid west of the zone, under the large capture's footprint.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO parcels (id, geom)
		SELECT 'out-' || i, ST_Multi(ST_MakeEnvelope(119.6 + (i % 200) * 0.0015, 30.6 + (i / 200) * 0.0015,
			119.601 + (i % 200) * 0.0015, 30.601 + (i / 200) * 0.0015, 4326))
		FROM generate_series(0, $1 - 1) i`, outside); err != nil {
		t.Fatal(err)
	}
	caps := NewCaptureService(db)
	at := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	large := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: at, Bucket: "b", Key: "large.tif"}
	fresh := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: at.Add(time.Minute), Bucket: "b", Key: "fresh.tif"}
	corner := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: at.Add(2 * time.Minute), Bucket: "b", Key: "corner.tif"}
	for _, c := range []*offsite.Capture{large, fresh, corner} {
		if err := caps.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for c, fp := range map[*offsite.Capture]orb.Polygon{large: square(119.5, 30.5, 1), corner: square(120.008, 31.008, 0.1)} {
		if _, err := caps.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Footprint: fp, Ingested: true}); err != nil {
			t.Fatal(err)
		}
	}
	sv := &offsite.Survey{Zone: square(120, 31, 0.01), WindowStart: at.Add(-time.Hour), WindowEnd: at.Add(time.Hour),
		Kinds: []string{offsite.KindSentinel2}, Pipeline: "sentinel2", BatchSize: 200}
	start := time.Now()
	parts, err := NewSurveyService(db).CreateSurvey(ctx, sv)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("planned %d parts in %v (%d parcels outside the zone under the large capture)", len(parts), time.Since(start), outside)
	if sv.Parcels != 6 || len(parts) != 3 || sv.Progress.Total != 3 {
		t.Fatalf("survey of %d parcels in %d parts (progress %+v); want 6 parcels, one part per capture", sv.Parcels, len(parts), sv.Progress)
	}
	for i, want := range []struct {
		capture *offsite.Capture
		parcels []string
	}{{large, zoneIDs}, {fresh, zoneIDs}, {corner, []string{}}} {
		p := parts[i]
		got := slices.Sorted(slices.Values(p.ParcelIDs))
		if p.CaptureID != want.capture.ID || p.ParcelIDs == nil || !slices.Equal(got, want.parcels) {
			t.Errorf("part %d = capture %d parcels %v (nil: %t), want capture %d parcels %v",
				i, p.CaptureID, p.ParcelIDs, p.ParcelIDs == nil, want.capture.ID, want.parcels)
		}
	}
}
