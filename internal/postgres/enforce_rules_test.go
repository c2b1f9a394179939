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

// enterprises returns the enterprise commands over s.
func enterprises(s *EnforceService) *enforce.Enterprises {
	return &enforce.Enterprises{Store: NewEnterpriseStore(s)}
}

// commands returns the inspection commands over s.
func commands(s *EnforceService) *enforce.Inspections {
	return &enforce.Inspections{Store: NewInspectionStore(s), Config: enforce.DefaultConfig()}
}

// listCommands returns the positive-list commands over s, with cfg and the clock now.
func listCommands(s *EnforceService, cfg enforce.Config, now func() time.Time) *enforce.List {
	return &enforce.List{Store: NewListStore(s), Config: cfg, Now: now}
}

// updateListEntry applies fn to the entry under the store's locks at the version read, saves
// it and audits it as action: raw access for tests that set up states the commands refuse
// (a back-dated notice).
func updateListEntry(ctx context.Context, s *EnforceService, a enforce.Actor, id int64, version int, action enforce.AuditAction, fn func(*enforce.ListEntry, *enforce.Enterprise) (any, error)) (*enforce.ListEntry, error) {
	var out *enforce.ListEntry
	err := NewListStore(s).InTx(ctx, func(tx enforce.ListTx) error {
		e, ent, err := tx.LockListEntry(ctx, id, time.Now())
		if err != nil {
			return err
		}
		if e.Version != version {
			return offsite.Conflict("list entry %d is at version %d, not %d", id, e.Version, version)
		}
		detail, err := fn(e, ent)
		if err != nil {
			return err
		}
		if err := tx.SaveListEntry(ctx, e); err != nil {
			return err
		}
		if err := tx.SaveEnterpriseFlags(ctx, ent); err != nil {
			return err
		}
		out = e
		return tx.Append(ctx, a, action, enforce.ListSubject(id), map[string]any{"status": e.Status, "version": e.Version, "detail": detail})
	})
	return out, err
}

// mustSite creates the enterprise testUSCC with parcel p1.
func mustSite(tb testing.TB, s *EnforceService) {
	tb.Helper()
	MustEnterprise(tb, s, testUSCC, "north")
	if err := enterprises(s).SetParcels(context.Background(), admin, testUSCC, []*offsite.Parcel{{ID: "p1", Geometry: siteSquare}}); err != nil {
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
	_, _, err := commands(s).OpenWarning(ctx, admin, "", "high", &enforce.Warning{Source: enforce.WarningFinding, Ref: fid})
	if !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("OpenWarning at level \"high\": %v, want invalid", err)
	}
	_, err = s.db.Pool.Exec(ctx, `INSERT INTO inspections (uscc, level, matter, status, listed, doc, opened_at)
		VALUES ($1, 'high', 'm', 'open', false, '{}', now())`, testUSCC)
	if !errors.Is(formatError(err), offsite.ErrInvalid) {
		t.Errorf("insert of level \"high\": %v, want a check violation", err)
	}
	in, outcome, err := commands(s).OpenWarning(ctx, admin, "", enforce.LevelCounty, &enforce.Warning{Source: enforce.WarningFinding, Ref: fid})
	if err != nil || outcome != enforce.WarningOpened || in.Level != enforce.LevelCounty {
		t.Errorf("OpenWarning at county: %+v %s %v", in, outcome, err)
	}
}

// closeInspection closes the inspection without a disposition.
func closeInspection(tb testing.TB, s *EnforceService, in *enforce.Inspection) *enforce.Inspection {
	tb.Helper()
	in, err := commands(s).Close(context.Background(), admin, in.ID, in.Version, "no violation", nil)
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

// TestClosedMatterNotReinspected: a warning of a matter this level has already inspected and
// closed is recognised on that inspection, not opened again (二.5; issue 14, bug 2).
func TestClosedMatterNotReinspected(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	mustSite(t, s)
	const fid, later = "20112233445566778899aabbccddeeff", "30112233445566778899aabbccddeeff"
	MustFinding(t, s, fid, 1)
	MustFinding(t, s, later, 2)
	in, _, err := commands(s).OpenWarning(ctx, admin, "", enforce.LevelCity, &enforce.Warning{Source: enforce.WarningFinding, Ref: fid})
	if err != nil {
		t.Fatal(err)
	}
	in = closeInspection(t, s, in)
	mon, _, err := commands(s).OpenWarning(ctx, admin, testUSCC, enforce.LevelCity, &enforce.Warning{Source: enforce.WarningMonitoring, Ref: "cems-9", Message: "COD high"})
	if err != nil {
		t.Fatal(err)
	}
	closeInspection(t, s, mon)

	for _, tc := range []struct {
		name    string
		w       enforce.Warning
		outcome string
		id      int64
	}{
		{"the same finding again (a re-run survey)", enforce.Warning{Source: enforce.WarningFinding, Ref: fid}, enforce.WarningKnown, in.ID},
		{"a later finding of the same matter", enforce.Warning{Source: enforce.WarningFinding, Ref: later}, enforce.WarningConfirmed, in.ID},
		{"the later finding once more", enforce.Warning{Source: enforce.WarningFinding, Ref: later}, enforce.WarningKnown, in.ID},
		{"the same monitoring record again", enforce.Warning{Source: enforce.WarningMonitoring, Ref: "cems-9", Message: "COD high"}, enforce.WarningKnown, mon.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w
			got, outcome, err := commands(s).OpenWarning(ctx, admin, testUSCC, enforce.LevelCity, &w)
			if err != nil || outcome != tc.outcome || got.ID != tc.id || got.Status != enforce.InspClosed {
				t.Errorf("OpenWarning: inspection %+v, %q, %v; want %q on closed inspection %d", got, outcome, err, tc.outcome, tc.id)
			}
		})
	}
	got, err := s.FindInspectionByID(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if w := got.Warnings[0]; len(got.Warnings) != 1 || w.Confirmations != 1 || len(w.SeenIn) != 1 || w.SeenIn[0] != later {
		t.Errorf("warnings of the closed inspection: %+v; want the first confirmed once by the later finding", got.Warnings)
	}
	if _, n, err := s.FindInspections(ctx, enforce.InspectionFilter{USCC: testUSCC}); err != nil || n != 2 {
		t.Errorf("inspections: %d %v; want the two closed ones and no new one", n, err)
	}
	// Another level still links to this level's result (二.5), as before.
	lk, outcome, err := commands(s).OpenWarning(ctx, admin, testUSCC, enforce.LevelProvince, &enforce.Warning{Source: enforce.WarningFinding, Ref: fid})
	if err != nil || outcome != enforce.WarningLinked || lk.LinkedTo == nil || *lk.LinkedTo != in.ID {
		t.Errorf("another level: %+v %q %v; want linked to %d", lk, outcome, err, in.ID)
	}
}

// TestMaliciousStrictDispositionBars: a listed enterprise removed by a strict disposition for a
// malicious violation may not be admitted again (二.4; issue 14, bug 3); one removed for an
// unreported exceedance without malice may.
func TestMaliciousStrictDispositionBars(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v      enforce.Violation
		barred bool
	}{
		{"malicious", enforce.Violation{Malicious: true}, true},
		{"unreported exceedance", enforce.Violation{UnreportedExceedance: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := mustEnforce(t, MustOpen(t))
			mustSite(t, s)
			MustListed(t, s, testUSCC)
			in, _, err := commands(s).OpenWarning(ctx, admin, testUSCC, enforce.LevelCity, &enforce.Warning{Source: enforce.WarningMonitoring, Ref: "cems-1", Message: "COD high"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = commands(s).Close(ctx, admin, in.ID, in.Version, "violation found", &tc.v)
			if err != nil {
				t.Fatal(err)
			}
			ent, err := s.FindEnterpriseByUSCC(ctx, testUSCC)
			if err != nil || ent.ListStatus != enforce.ListRemoved || ent.Barred != tc.barred {
				t.Fatalf("after the disposition: %+v %v; want removed, barred %v", ent, err, tc.barred)
			}
			_, err = listCommands(s, enforce.DefaultConfig(), time.Now).Propose(ctx, admin, testUSCC, goodFacts())
			if tc.barred != errors.Is(err, offsite.ErrConflict) || !tc.barred && err != nil {
				t.Errorf("re-admission: %v; want refused %v", err, tc.barred)
			}
		})
	}
}

// TestFindEnterprisesByIDs: the list export reads the entries' enterprises a batch a query.
func TestFindEnterprisesByIDs(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	for _, u := range []string{testUSCC, testUSCC2, testUSCC3} {
		MustEnterprise(t, s, u, "north")
	}
	es, total, err := s.FindEnterprises(ctx, enforce.EnterpriseFilter{IDs: []string{testUSCC3, testUSCC, "91110000000000000X"}, Limit: 3})
	if err != nil || total != 2 || len(es) != 2 || es[0].USCC != testUSCC || es[1].USCC != testUSCC3 {
		t.Errorf("by ids: %d %v %v; want %s and %s", total, es, err, testUSCC, testUSCC3)
	}
}
