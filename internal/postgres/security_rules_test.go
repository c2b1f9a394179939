package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/postgres/migrations"
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

// TestPairingPassesOverUnusableCaptures: change detection pairs a capture with the nearest
// earlier one the pipeline can read (issue 13 item 7). A nearer capture of the same kind that
// lacks one of the pipeline's bands, failed, or covers too little is passed over for an older
// good one, instead of being paired with every later capture and failing them for good.
func TestPairingPassesOverUnusableCaptures(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	caps := NewCaptureService(db)
	s2 := []string{"B02", "B03", "B04", "B08", "B11", "B12", "B8A", "SCL"}
	described := func(names ...string) []offsite.BandStats {
		var st []offsite.BandStats
		for i, n := range names {
			st = append(st, offsite.BandStats{Band: i + 1, Description: n})
		}
		return st
	}
	fp := square(120, 31, 0.1)
	at := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	add := func(key string, acquired time.Time, upd *offsite.CaptureUpdate) *offsite.Capture {
		t.Helper()
		c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: acquired, Bucket: "b", Key: key}
		if err := caps.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
		if upd != nil {
			var err error
			if c, err = caps.UpdateCapture(ctx, c.ID, *upd); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	ingested := func(cogKey string, bands int, stats []offsite.BandStats, footprint orb.Polygon) *offsite.CaptureUpdate {
		return &offsite.CaptureUpdate{Bands: &bands, BandStats: stats, COGKey: &cogKey, Footprint: footprint, Ingested: true}
	}
	after := add("after.tif", at, ingested("after.tif", 8, described(s2...), fp))
	good := add("good.tif", at.AddDate(0, 0, -10), ingested("cog/good.tif", 8, described(s2...), fp))
	failed := offsite.CaptureFailed

	for _, tc := range []struct {
		name string
		need []string
		upd  *offsite.CaptureUpdate // of a capture an hour before after
		want string                 // "near", "good" or "none"
	}{
		{"one band named B04", s2, ingested("cog/b04.tif", 1, described("B04"), fp), "good"},
		{"every band", s2, ingested("cog/near.tif", 8, described(s2...), fp), "near"},
		{"bands named in lower case, padded", s2, ingested("cog/near.tif", 8, described(" b02", "b03 ", "b04", "b08", "b11", "b12", "b8a", "scl"), fp), "near"},
		{"no SCL band", s2, ingested("cog/near.tif", 7, described(s2[:7]...), fp), "good"},
		{"numbered bands, enough of them", []string{"1", "2", "3"}, ingested("cog/near.tif", 3, described("", "", ""), fp), "near"},
		{"numbered bands, too few", []string{"1", "2", "3"}, ingested("cog/near.tif", 2, described("", ""), fp), "good"},
		{"a band beyond every capture's count", []string{"9"}, ingested("cog/near.tif", 8, described(s2...), fp), "none"},
		{"one-band file named by its band", []string{"B04"}, ingested("s2/T50RPV_B04.tif", 1, described(""), fp), "near"},
		{"one-band file named otherwise", []string{"B04"}, ingested("s2/T50RPV_B08.tif", 1, described(""), fp), "good"},
		{"ingested before band names were kept", s2, ingested("cog/near.tif", 8, nil, fp), "near"},
		{"not ingested yet", s2, nil, "near"}, // the caller ingests it and asks again
		{"failed", s2, &offsite.CaptureUpdate{Status: &failed}, "good"},
		{"covers 30% of the capture", s2, ingested("cog/near.tif", 8, described(s2...), orb.Bound{Min: orb.Point{120, 31}, Max: orb.Point{120.03, 31.1}}.ToPolygon()), "good"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			near := add("near-"+tc.name+".tif", at.Add(-time.Hour), tc.upd)
			defer func() {
				if _, err := db.Pool.Exec(ctx, `DELETE FROM captures WHERE id = $1`, near.ID); err != nil {
					t.Fatal(err)
				}
			}()
			got, err := caps.FindEarlierCapture(ctx, after, 0.5, tc.need)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]*offsite.Capture{"near": near, "good": good, "none": nil}[tc.want]
			switch {
			case want == nil && got != nil:
				t.Errorf("paired with capture %d (%s), want none", got.ID, got.Key)
			case want != nil && (got == nil || got.ID != want.ID):
				t.Errorf("paired with %v, want %s capture %d", got, tc.want, want.ID)
			}
		})
	}
}

// TestBackdatedNoticeOnNoticeAtUpgrade: an entry put on a back-dated notice before the
// posting time was kept (started 10 days ago, ending 30 s after it was posted) takes its
// posting time from its list.notice audit entry (migration 0016), and so cannot be listed
// 35 s later.
func TestBackdatedNoticeOnNoticeAtUpgrade(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := mustEnforce(t, db)
	MustEnterprise(t, s, testUSCC, "east")
	cfg := enforce.DefaultConfig()
	e, err := listCommands(s, cfg, time.Now).Propose(ctx, admin, testUSCC, goodFacts())
	if err != nil {
		t.Fatal(err)
	}
	posted := time.Now()
	e, err = updateListEntry(ctx, s, admin, e.ID, e.Version, "list.notice", func(e *enforce.ListEntry, _ *enforce.Enterprise) (any, error) {
		start, end := posted.Add(-10*24*time.Hour), posted.Add(30*time.Second)
		e.Status, e.NoticeStart, e.NoticeEnd = enforce.ListNotice, &start, &end // as the old rule let it be
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var sql string
	ms, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == "0016_notice_posted_at.sql" {
			sql = m.SQL
		}
	}
	if sql == "" {
		t.Fatal("migration 0016_notice_posted_at.sql not found")
	}
	if _, err := db.Pool.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
	_, err = updateListEntry(ctx, s, admin, e.ID, e.Version, "list.list", func(e *enforce.ListEntry, _ *enforce.Enterprise) (any, error) {
		if e.NoticePostedAt == nil || e.NoticePostedAt.Sub(posted).Abs() > time.Minute {
			t.Errorf("notice posted at %v, want about %v (its audit entry)", e.NoticePostedAt, posted)
		}
		at := posted.Add(35 * time.Second)
		return nil, e.List(cfg, at, at)
	})
	if !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("listed 35 s after a back-dated notice was posted: %v", err)
	}
}
