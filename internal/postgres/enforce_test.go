package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

const (
	testUSCC  = "91110000600037341L"
	testUSCC2 = "91320000134780001D"
	testUSCC3 = "91350100M00010001T"
)

var admin = enforce.Actor{Name: "root", Role: "admin"}

func goodFacts() enforce.Facts {
	return enforce.Facts{"equipment_level": "advanced", "discharge_compliant": true, "total_emissions_within_permit": true,
		"monitoring_connected": true, "risk_management": true, "information_disclosed": true, "credit_rating": "A", "rectification_complete": true}
}

// MustEnterprise creates an enterprise.
func MustEnterprise(tb testing.TB, s *EnforceService, uscc, zone string) *enforce.Enterprise {
	tb.Helper()
	e := &enforce.Enterprise{USCC: uscc, Name: "Ent " + uscc[:6], Industry: "C3120", PermitNo: uscc + "001P", Address: "1 Road",
		Zone: zone, Location: &orb.Point{120.1, 30.2}, ComplaintChannel: "12369"}
	if err := e.Validate(false); err != nil {
		tb.Fatal(err)
	}
	if err := enterprises(s).Create(context.Background(), admin, e); err != nil {
		tb.Fatal(err)
	}
	return e
}

// MustListed takes an enterprise through the list procedure with a notice that ended.
func MustListed(tb testing.TB, s *EnforceService, uscc string) *enforce.ListEntry {
	tb.Helper()
	ctx := context.Background()
	cfg := enforce.DefaultConfig()
	e, err := listCommands(s, cfg, time.Now).Propose(ctx, admin, uscc, goodFacts())
	if err != nil {
		tb.Fatal(err)
	}
	past := time.Now().Add(-10 * 24 * time.Hour)
	e, err = updateListEntry(ctx, s, admin, e.ID, e.Version, "list.notice", func(e *enforce.ListEntry, _ *enforce.Enterprise) (any, error) {
		// Back-dated notice: the domain refuses a notice ending in the past, so set it directly.
		end := past.Add(8 * 24 * time.Hour)
		e.Status, e.NoticeStart, e.NoticeEnd = enforce.ListNotice, &past, &end
		return nil, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	e, err = updateListEntry(ctx, s, admin, e.ID, e.Version, "list.list", func(e *enforce.ListEntry, _ *enforce.Enterprise) (any, error) {
		return nil, e.List(cfg, time.Now(), time.Now())
	})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func TestEnterpriseCRUD(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	e := MustEnterprise(t, s, testUSCC, "north")
	if err := enterprises(s).Create(ctx, admin, e); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("second create: %v", err)
	}
	got, err := s.FindEnterpriseByUSCC(ctx, testUSCC)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != e.Name || got.Location == nil || got.Location[0] != 120.1 || got.Version != 1 {
		t.Errorf("got %+v", got)
	}
	got.Name = "Renamed"
	if err := enterprises(s).Update(ctx, admin, got); err != nil {
		t.Fatal(err)
	}
	stale := *got
	stale.Version = 1
	if err := enterprises(s).Update(ctx, admin, &stale); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("stale update: %v", err)
	}
	// Legacy override is audited.
	leg := &enforce.Enterprise{USCC: "91110000600037341M", Name: "Old", Industry: "C"}
	if err := leg.Validate(true); err != nil {
		t.Fatal(err)
	}
	if err := enterprises(s).Create(ctx, admin, leg); err != nil {
		t.Fatal(err)
	}
	entries, _, err := s.FindAudit(ctx, "enterprise/91110000600037341M", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range entries {
		actions = append(actions, string(a.Action))
	}
	if strings.Join(actions, ",") != "enterprise.create,enterprise.uscc_override" || !strings.Contains(entries[1].Detail, `"expected":"L"`) {
		t.Errorf("audit of legacy code: %v %v", actions, entries)
	}
	b := orb.Bound{Min: orb.Point{120, 30}, Max: orb.Point{121, 31}}
	es, total, err := s.FindEnterprises(ctx, enforce.EnterpriseFilter{Bbox: &b, Limit: 10})
	if err != nil || total != 1 || es[0].USCC != testUSCC {
		t.Errorf("bbox filter: %v %d %v", es, total, err)
	}
	es, total, err = s.FindEnterprises(ctx, enforce.EnterpriseFilter{ListStatus: "none", Query: "old"})
	if err != nil || total != 1 {
		t.Errorf("status/query filter: %v %d %v", es, total, err)
	}
}

func TestImportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	good := &enforce.Enterprise{USCC: testUSCC, Name: "A", Industry: "C"}
	bad := &enforce.Enterprise{USCC: testUSCC2, Name: "", Industry: "C"} // the CHECK refuses the empty name
	err := enterprises(s).Import(ctx, admin, []*enforce.Enterprise{good, bad})
	var ie *enforce.ImportError
	if !errors.As(err, &ie) || ie.Rows[0].Row != 2 {
		t.Fatalf("import: %v", err)
	}
	if _, total, _ := s.FindEnterprises(ctx, enforce.EnterpriseFilter{}); total != 0 {
		t.Errorf("%d enterprises after a failed import", total)
	}
	bad.Name = "B"
	if err := enterprises(s).Import(ctx, admin, []*enforce.Enterprise{good, bad}); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := s.FindEnterprises(ctx, enforce.EnterpriseFilter{}); total != 2 {
		t.Errorf("%d enterprises, want 2", total)
	}
}

func TestListConcurrentUpdatesOneWins(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	cfg := enforce.DefaultConfig()
	e, err := listCommands(s, cfg, time.Now).Propose(ctx, admin, testUSCC, goodFacts())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listCommands(s, cfg, time.Now).Propose(ctx, admin, testUSCC, goodFacts()); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("second proposal: %v", err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = updateListEntry(ctx, s, admin, e.ID, e.Version, "list.notice", func(e *enforce.ListEntry, _ *enforce.Enterprise) (any, error) {
				now := time.Now()
				return nil, e.StartNotice(cfg, now, now.Add(time.Duration(7+i)*24*time.Hour), now)
			})
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, offsite.ErrConflict):
			t.Errorf("loser got %v, want a conflict", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d updates won, want exactly 1", wins)
	}
	got, err := s.FindListEntryByID(ctx, cfg, time.Now(), e.ID)
	if err != nil || got.Version != e.Version+1 || got.Status != enforce.ListNotice {
		t.Errorf("after race: %+v %v", got, err)
	}
}

func TestListRemovalBarsAndPublicList(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	MustEnterprise(t, s, testUSCC2, "south")
	e := MustListed(t, s, testUSCC)
	MustListed(t, s, testUSCC2)
	pub, _, err := s.PublicList(ctx, time.Now(), 0, 0)
	if err != nil || len(pub) != 2 || pub[0].USCC != testUSCC || pub[0].ComplaintChannel != "12369" {
		t.Fatalf("public list: %+v %v", pub, err)
	}
	_, err = updateListEntry(ctx, s, admin, e.ID, e.Version, "list.remove", func(e *enforce.ListEntry, ent *enforce.Enterprise) (any, error) {
		barred, err := e.Remove(enforce.RemovalEvadingSupervision, "bypass pipe", time.Now())
		if barred {
			ent.Barred, ent.BarredReason = true, enforce.RemovalEvadingSupervision
		}
		return nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	ent, _ := s.FindEnterpriseByUSCC(ctx, testUSCC)
	if !ent.Barred || ent.ListStatus != enforce.ListRemoved {
		t.Errorf("after barring removal: %+v", ent)
	}
	if _, err := listCommands(s, enforce.DefaultConfig(), time.Now).Propose(ctx, admin, testUSCC, goodFacts()); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("re-admission of a barred enterprise: %v", err)
	}
	pub, _, _ = s.PublicList(ctx, time.Now(), 0, 0)
	if len(pub) != 1 {
		t.Errorf("public list after removal has %d entries", len(pub))
	}
	// Expiry.
	n, err := listCommands(s, enforce.DefaultConfig(), func() time.Time { return time.Now().AddDate(3, 0, 1) }).Expire(ctx, admin)
	if err != nil || n != 1 {
		t.Errorf("expire: %d %v", n, err)
	}
}

func TestInspectionFlowAndDisposition(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	MustListed(t, s, testUSCC)
	sq := orb.Polygon{{{120, 30}, {120.01, 30}, {120.01, 30.01}, {120, 30.01}, {120, 30}}}
	if err := enterprises(s).SetParcels(ctx, admin, testUSCC, []*offsite.Parcel{{ID: "p1", Geometry: sq}}); err != nil {
		t.Fatal(err)
	}
	const fid = "00112233445566778899aabbccddeeff"
	if err := NewFindingService(s.db).RecordFindings(ctx, []*offsite.Finding{{ID: fid, ParcelID: "p1", CaptureIDs: []int64{1},
		Kind: "hotspot", Class: "thermal_anomaly", Score: 0.8, Severity: "high", Geometry: sq, Pipeline: "sentinel2",
		PipelineHash: "h", DetectedAt: time.Now(), Provenance: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	w := &enforce.Warning{Source: enforce.WarningFinding, Ref: fid}
	in, outcome, err := commands(s).OpenWarning(ctx, admin, testUSCC, "city", w)
	if err != nil || outcome != enforce.WarningOpened || !in.Listed || in.Warnings[0].Severity != "high" || in.Warnings[0].Message == "" {
		t.Fatalf("open: %+v %s %v", in, outcome, err)
	}
	if _, _, err := commands(s).OpenWarning(ctx, admin, testUSCC2, "city", &enforce.Warning{Source: enforce.WarningFinding, Ref: fid}); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("finding of another enterprise: %v", err)
	}
	in2, outcome, err := commands(s).OpenWarning(ctx, admin, testUSCC, "city", &enforce.Warning{Source: enforce.WarningMonitoring, Ref: "cems-7", Message: "COD high"})
	if err != nil || outcome != enforce.WarningJoined || in2.ID != in.ID || len(in2.Warnings) != 2 {
		t.Fatalf("join: %+v %s %v", in2, outcome, err)
	}
	insp := enforce.Actor{Name: "ann", Role: "inspector"}
	deadline := time.Now().Add(time.Hour)
	in, err = commands(s).RequestSelfCheck(ctx, insp, in.ID, in2.Version, &deadline)
	if err != nil {
		t.Fatal(err)
	}
	in, err = commands(s).SubmitReport(ctx, insp, in.ID, in.Version, "we opened the bypass", nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err = commands(s).Close(ctx, insp, in.ID, in.Version, "malicious discharge", &enforce.Violation{Malicious: true})
	if err != nil {
		t.Fatal(err)
	}
	ent, _ := s.FindEnterpriseByUSCC(ctx, testUSCC)
	if ent.ListStatus != enforce.ListRemoved || !ent.SpecialSupervision {
		t.Errorf("strict disposition did not remove and supervise: %+v", ent)
	}
	// Another level on the same matter: linked, not repeated.
	lk, outcome, err := commands(s).OpenWarning(ctx, admin, testUSCC, "province", &enforce.Warning{Source: enforce.WarningFinding, Ref: fid, Message: "same hotspot"})
	if err != nil || outcome != enforce.WarningLinked || lk.LinkedTo == nil || *lk.LinkedTo != in.ID || lk.Status != enforce.InspClosed {
		t.Errorf("link: %+v %s %v", lk, outcome, err)
	}
	ds, n, err := s.PublicDisclosures(ctx, 0, 10)
	if err != nil || n != 1 || ds[0].USCC != testUSCC || !ds[0].RemovedFromList || ds[0].Rule != enforce.RuleStrict {
		t.Errorf("disclosures: %+v %d %v", ds, n, err)
	}
	st, err := s.Stats(ctx, 0, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.SelfCheck.Requested != 1 || st.SelfCheck.Answered != 1 || len(st.Warnings) != 1 || st.Warnings[0].Count != 3 || st.Warnings[0].Zone != "north" {
		t.Errorf("stats: %+v", st)
	}
}

func TestDrawStored(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "a")
	MustEnterprise(t, s, testUSCC2, "a")
	MustEnterprise(t, s, testUSCC3, "a")
	MustListed(t, s, testUSCC)
	cfg := enforce.DefaultConfig().Draw
	cfg.UnlistedRatio, cfg.ListedRatio = 1, 1
	ins := []enforce.Inspector{{ID: "w"}, {ID: "x"}, {ID: "y"}, {ID: "z"}}
	d, err := (&enforce.Draws{Store: NewDrawStore(s), Config: cfg}).Create(ctx, admin, 7, ins)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Result.Targets) != 3 || d.Result.Seed != "0000000000000007" {
		t.Fatalf("draw: %+v", d.Result)
	}
	again, err := s.FindDrawByID(ctx, d.ID)
	if err != nil || again.Result.Targets[2].Mode != enforce.ModeOffsite {
		t.Errorf("stored draw: %+v %v", again, err)
	}
	// The next draw does not send an inspector back to the enterprise they were drawn for.
	last := map[string][]string{}
	for _, tg := range d.Result.Targets {
		last[tg.USCC] = tg.Inspectors
	}
	d2, err := (&enforce.Draws{Store: NewDrawStore(s), Config: cfg}).Create(ctx, admin, 8, ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range d2.Result.Targets {
		for _, a := range tg.Inspectors {
			for _, b := range last[tg.USCC] {
				if a == b {
					t.Errorf("inspector %s drawn for %s twice running", a, tg.USCC)
				}
			}
		}
	}
}

func TestEvidenceViewsGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	sq := orb.Polygon{{{120, 30}, {120.01, 30}, {120.01, 30.01}, {120, 30.01}, {120, 30}}}
	if err := enterprises(s).SetParcels(ctx, admin, testUSCC, []*offsite.Parcel{{ID: "p1", Geometry: sq}, {ID: "p2", Geometry: sq}}); err != nil {
		t.Fatal(err)
	}
	if _, err := enterprises(s).Evidence(ctx, admin, testUSCC2); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("evidence of an unknown enterprise: %v", err)
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := enterprises(s).Evidence(ctx, enforce.Actor{Name: fmt.Sprintf("viewer-%d", i), Role: "inspector"}, testUSCC)
			if err == nil && (len(ev) != 2 || ev[0].Parcel.ID != "p1" || len(ev[0].Clips) != 0) {
				err = fmt.Errorf("evidence %+v", ev)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	views, total, err := s.FindAudit(ctx, enforce.EnterpriseSubject(testUSCC), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, v := range views {
		if v.Action == "evidence.view" {
			count++
		}
	}
	if count != n {
		t.Errorf("%d evidence views audited (of %d entries), want %d", count, total, n)
	}
	if rep, err := s.VerifyAudit(ctx); err != nil || rep.FirstBroken != nil {
		t.Errorf("chain after concurrent views: %+v %v", rep, err)
	}
}

// TestEvidenceOutsideAgency: the evidence command reads the enterprise's agency with its
// evidence (the route does not look it up before) and refuses, unaudited, an actor of an
// agency it is not under; the enterprise's own agency and the province above it see it.
func TestEvidenceOutsideAgency(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := mustEnforce(t, db)
	MustEnterprise(t, s, testUSCC, "north")
	city := map[string]int64{}
	for _, name := range []string{"A", "B"} {
		var id int64
		if err := db.Pool.QueryRow(ctx, `WITH n AS (SELECT nextval(pg_get_serial_sequence('agencies', 'id')) AS id)
			INSERT INTO agencies (id, name, level, parent_id, path) SELECT id, 'City ' || $1, 'city', 1, ARRAY[1, id] FROM n RETURNING id`, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		city[name] = id
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE enterprises SET agency_id = $1 WHERE uscc = $2`, city["A"], testUSCC); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		agency int64
		want   error
	}{
		{"city B", city["B"], offsite.ErrForbidden},
		{"city A", city["A"], nil},
		{"the province", 1, nil},
		{"no agency (the system)", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, before, err := s.FindAudit(ctx, enforce.EnterpriseSubject(testUSCC), 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			_, err = enterprises(s).Evidence(ctx, enforce.Actor{Name: "viewer", Role: "inspector", Agency: tc.agency}, testUSCC)
			if !errors.Is(err, tc.want) {
				t.Fatalf("evidence as %s: %v, want %v", tc.name, err, tc.want)
			}
			_, after, err := s.FindAudit(ctx, enforce.EnterpriseSubject(testUSCC), 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			if audited := after - before; audited != map[bool]int{true: 1, false: 0}[tc.want == nil] {
				t.Errorf("evidence as %s: %d views audited", tc.name, audited)
			}
		})
	}
}
