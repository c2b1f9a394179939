package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// siteSquare is the parcel "p1" of the enterprise in these tests.
var siteSquare = orb.Polygon{{{120, 30}, {120.01, 30}, {120.01, 30.01}, {120, 30.01}, {120, 30}}}

// MustFinding records a high-severity hotspot on parcel p1 from the given capture.
func MustFinding(tb testing.TB, s *EnforceService, id string, captureID int64) {
	tb.Helper()
	if err := NewFindingService(s.db).RecordFindings(context.Background(), []*offsite.Finding{{ID: id, ParcelID: "p1", CaptureIDs: []int64{captureID},
		Kind: "hotspot", Class: "thermal_anomaly", Score: 0.8, Severity: "high", Geometry: siteSquare, Pipeline: "sentinel2",
		PipelineHash: "h", DetectedAt: time.Now(), Provenance: []byte(`{}`)}}); err != nil {
		tb.Fatal(err)
	}
}

// mustSite creates the enterprise testUSCC with parcel p1.
func mustSite(tb testing.TB, s *EnforceService) {
	tb.Helper()
	MustEnterprise(tb, s, testUSCC, "north")
	if err := s.SetEnterpriseParcels(context.Background(), admin, testUSCC, []*offsite.Parcel{{ID: "p1", Geometry: siteSquare}}); err != nil {
		tb.Fatal(err)
	}
}

// TestInspectionLevelIsAnAgencyLevel: a finding's severity is not an enforcement level, in the
// service or in the schema (issue 14, bug 1).
func TestInspectionLevelIsAnAgencyLevel(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	mustSite(t, s)
	const fid = "10112233445566778899aabbccddeeff"
	MustFinding(t, s, fid, 1)
	_, _, err := s.OpenWarning(ctx, admin, "", "high", &enforce.Warning{Source: enforce.WarningFinding, Ref: fid})
	if !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("OpenWarning at level \"high\": %v, want invalid", err)
	}
	_, err = s.db.Pool.Exec(ctx, `INSERT INTO inspections (uscc, level, matter, status, listed, doc, opened_at)
		VALUES ($1, 'high', 'm', 'open', false, '{}', now())`, testUSCC)
	if !errors.Is(formatError(err), offsite.ErrInvalid) {
		t.Errorf("insert of level \"high\": %v, want a check violation", err)
	}
	in, outcome, err := s.OpenWarning(ctx, admin, "", enforce.LevelCounty, &enforce.Warning{Source: enforce.WarningFinding, Ref: fid})
	if err != nil || outcome != enforce.WarningOpened || in.Level != enforce.LevelCounty {
		t.Errorf("OpenWarning at county: %+v %s %v", in, outcome, err)
	}
}
