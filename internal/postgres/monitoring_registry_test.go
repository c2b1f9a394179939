package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/monitoring"
)

func registry(s *EnforceService, now time.Time) *monitoring.Registry {
	return &monitoring.Registry{Store: NewMonitoringRegistry(s), Now: func() time.Time { return now }}
}

// MustPoint registers a monitoring point with password "123456".
func MustPoint(tb testing.TB, s *EnforceService, uscc, mn, outlet string) *monitoring.Point {
	tb.Helper()
	p := &monitoring.Point{MN: mn, USCC: uscc, Outlet: outlet, Name: "stack " + mn, Lon: 120.1, Lat: 30.2}
	if err := registry(s, time.Now()).CreatePoint(context.Background(), admin, p, "123456"); err != nil {
		tb.Fatal(err)
	}
	return p
}

func fptr(v float64) *float64 { return &v }

// mustFrame stores an hour upload of one factor as the receiver would.
func mustFrame(tb testing.TB, st *MonitoringRegistry, mn, cn string, at time.Time, factor string, v float64, flag string) string {
	tb.Helper()
	raw := fmt.Sprintf("QN=%s;ST=31;CN=%s;PW=123456;MN=%s;Flag=5;CP=&&DataTime=%s;%s-Avg=%g,%s-Flag=%s&&",
		at.Format("20060102150405000"), cn, mn, at.In(monitoring.CST).Format("20060102150405"), factor, v, factor, flag)
	sum := sha256.Sum256([]byte(raw))
	fr := &LoggerUpload{SHA256: hex.EncodeToString(sum[:]), Raw: []byte(raw), Version: "2017", ST: "31", CN: cn, MN: mn, DataTime: at,
		Values: []LoggerValue{{Factor: factor, Avg: &v, Flag: flag}}}
	if err := st.StoreUpload(context.Background(), fr); err != nil {
		tb.Fatal(err)
	}
	return fr.SHA256
}

func TestMonitoringRegistry(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	MustEnterprise(t, s, testUSCC2, "north")
	st := NewMonitoringRegistry(s)
	reg := registry(s, time.Now())
	p := MustPoint(t, s, testUSCC, "88888880000001", "DA001")

	for _, tc := range []struct {
		name string
		p    monitoring.Point
		pw   string
		want error
	}{
		{"same MN again", monitoring.Point{MN: p.MN, USCC: testUSCC, Outlet: "DA002", Lon: 120, Lat: 30}, "123456", offsite.ErrConflict},
		{"unknown enterprise", monitoring.Point{MN: "X2", USCC: testUSCC3, Outlet: "DA001", Lon: 120, Lat: 30}, "123456", offsite.ErrInvalid},
		{"bad outlet", monitoring.Point{MN: "X3", USCC: testUSCC, Outlet: "XX01", Lon: 120, Lat: 30}, "123456", offsite.ErrInvalid},
		{"short password", monitoring.Point{MN: "X4", USCC: testUSCC, Outlet: "DA001", Lon: 120, Lat: 30}, "123", offsite.ErrInvalid},
		{"MN with a separator", monitoring.Point{MN: "X5;PW=1", USCC: testUSCC, Outlet: "DA001", Lon: 120, Lat: 30}, "123456", offsite.ErrInvalid},
	} {
		if err := reg.CreatePoint(ctx, admin, &tc.p, tc.pw); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}

	for _, tc := range []struct {
		mn, pw      string
		known, good bool
	}{{p.MN, "123456", true, true}, {p.MN, "654321", true, false}, {"unknownMN", "123456", false, false}} {
		known, ok, err := st.CheckPassword(ctx, tc.mn, tc.pw)
		if err != nil || known != tc.known || ok != tc.good {
			t.Errorf("CheckPassword(%s, %s) = %v, %v, %v; want %v, %v", tc.mn, tc.pw, known, ok, err, tc.known, tc.good)
		}
	}

	// Update: new password, stale version refused, enterprise fixed.
	upd := *p
	upd.Name = "main stack"
	if err := reg.UpdatePoint(ctx, admin, &upd, "abcdef"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.CheckPassword(ctx, p.MN, "abcdef"); !ok {
		t.Error("the new password is not accepted")
	}
	if _, ok, _ := st.CheckPassword(ctx, p.MN, "123456"); ok {
		t.Error("the old password is still accepted")
	}
	stale := *p
	if err := reg.UpdatePoint(ctx, admin, &stale, ""); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("stale update: %v", err)
	}
	moved := upd
	moved.USCC = testUSCC2
	if err := reg.UpdatePoint(ctx, admin, &moved, ""); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("moving a point to another enterprise: %v", err)
	}

	// Limits.
	l := &monitoring.Limit{USCC: testUSCC, Outlet: "DA001", Pollutant: "so2", Hourly: fptr(100), O2Ref: fptr(6), Basis: "GB 13223-2011"}
	if err := reg.SetLimit(ctx, admin, l); err != nil {
		t.Fatal(err)
	}
	l.Hourly = fptr(50)
	if err := reg.SetLimit(ctx, admin, l); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*monitoring.Limit{
		{USCC: testUSCC, Outlet: "DW001", Pollutant: "so2", Hourly: fptr(1)},                 // gas pollutant at a water outlet
		{USCC: testUSCC, Outlet: "DA001", Pollutant: "o2", Hourly: fptr(1)},                  // reference parameter
		{USCC: testUSCC, Outlet: "DA001", Pollutant: "so2"},                                  // no value
		{USCC: testUSCC, Outlet: "DA001", Pollutant: "so2", Hourly: fptr(-1)},                // negative
		{USCC: testUSCC, Outlet: "DW001", Pollutant: "cod", Hourly: fptr(1), O2Ref: fptr(6)}, // O2 for water
	} {
		if err := reg.SetLimit(ctx, admin, bad); !errors.Is(err, offsite.ErrInvalid) {
			t.Errorf("limit %+v: err = %v, want invalid", bad, err)
		}
	}
	ls, err := st.FindLimits(ctx, testUSCC)
	if err != nil || len(ls) != 1 || *ls[0].Hourly != 50 {
		t.Fatalf("limits = %+v, %v", ls, err)
	}
	if err := reg.DeleteLimit(ctx, admin, testUSCC, "DA001", "nox"); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("delete a missing limit: %v", err)
	}

	// Every change is audited.
	entries, _, err := s.FindAudit(ctx, monitoring.PointSubject(p.MN), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []enforce.AuditAction
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if len(actions) != 2 {
		t.Errorf("point audit actions = %v, want create and update", actions)
	}
	ents, _, _ := s.FindAudit(ctx, enforce.EnterpriseSubject(testUSCC), 0, 100)
	n := 0
	for _, e := range ents {
		if e.Action == enforce.AuditMonitoringLimitSet {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d limit.set entries, want 2", n)
	}
	// The password's hash is not in the audit log.
	for _, e := range entries {
		if string(e.Detail) != "" && (contains(string(e.Detail), "123456") || contains(string(e.Detail), "sha256$")) {
			t.Errorf("audit entry holds the password or its hash: %s", e.Detail)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || index(s, sub) >= 0)
}

func index(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestMonitoringSamples(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	st := NewMonitoringRegistry(s)
	p := MustPoint(t, s, testUSCC, "MN0001", "DA001")
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, monitoring.CST)
	f1 := mustFrame(t, st, p.MN, "2061", t0, "a21026", 40, "N")
	mustFrame(t, st, p.MN, "2061", t0.Add(time.Hour), "02", 41, "M") // 2005 code of SO2
	mustFrame(t, st, p.MN, "2061", t0, "a00000", 10, "N")            // flow in m3/s
	mustFrame(t, st, p.MN, "2061", t0, "zz999", 1, "N")              // unknown factor
	// A retransmission changes nothing.
	mustFrame(t, st, p.MN, "2061", t0, "a21026", 40, "N")
	// A quarantined frame (wrong PW) is not analysed.
	q := mustFrame(t, st, p.MN, "2061", t0.Add(2*time.Hour), "a21026", 999, "N")
	if _, err := s.db.Pool.Exec(ctx, "UPDATE monitoring_frames SET quarantined = true WHERE sha256 = $1", q); err != nil {
		t.Fatal(err)
	}
	got, err := st.FindSamples(ctx, p.MN, t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got["so2"]) != 2 || got["so2"][0].Value != 40 || got["so2"][0].Frame != f1 || got["so2"][1].Flag != "M" {
		t.Errorf("so2 = %+v", got["so2"])
	}
	if len(got[monitoring.FlowGas]) != 1 || got[monitoring.FlowGas][0].Value != 36000 {
		t.Errorf("flow = %+v, want 36000 m3/h", got[monitoring.FlowGas])
	}
	if len(got) != 2 {
		t.Errorf("pollutants %v, want so2 and flow only", len(got))
	}

	// Running states (CN 2021) as the receiver stores them: RS 1 and 0 read, other codes not.
	at := t0.Add(3 * time.Hour).In(monitoring.CST).Format("20060102150405")
	rec := mustRecord(t, "QN=20261102030000001;ST=31;CN=2021;PW=123456;MN="+p.MN+";Flag=5;CP=&&DataTime="+at+";SB1-RS=1;SB2-RS=0;SB3-RS=4&&", "")
	if err := NewMonitoringStore(s.db).WriteBatch(ctx, []*hj212.Record{rec}); err != nil {
		t.Fatal(err)
	}
	states, err := st.FindRunStates(ctx, p.MN, t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []monitoring.RunState{
		{Time: t0.Add(3 * time.Hour), Facility: "SB1", Running: true, Frame: rec.SHA256},
		{Time: t0.Add(3 * time.Hour), Facility: "SB2", Running: false, Frame: rec.SHA256},
	}
	if diff := cmp.Diff(want, states, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("run states (-want +got):\n%s", diff)
	}

	// Daily running times (CN 2041) as the receiver stores them: hours read, a value that is
	// not a number left out, and the day before the window not read.
	day := t0.Format("20060102150405")
	rt := mustRecord(t, "QN=20261103000500001;ST=31;CN=2041;PW=123456;MN="+p.MN+";Flag=5;CP=&&DataTime="+day+";SB1-RT=23.5;SB2-RT=0;SB3-RT=x&&", "")
	before := mustRecord(t, "QN=20261102000500001;ST=31;CN=2041;PW=123456;MN="+p.MN+";Flag=5;CP=&&DataTime="+t0.AddDate(0, 0, -1).Format("20060102150405")+";SB1-RT=24&&", "")
	if err := NewMonitoringStore(s.db).WriteBatch(ctx, []*hj212.Record{rt, before}); err != nil {
		t.Fatal(err)
	}
	times, err := st.FindRunTimes(ctx, p.MN, t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantTimes := []monitoring.RunTime{
		{Day: t0, Facility: "SB1", Hours: 23.5, Frame: rt.SHA256},
		{Day: t0, Facility: "SB2", Hours: 0, Frame: rt.SHA256},
	}
	if diff := cmp.Diff(wantTimes, times, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("running times (-want +got):\n%s", diff)
	}
}

func TestMonitoringExceedanceReports(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	MustEnterprise(t, s, testUSCC2, "north")
	st := NewMonitoringRegistry(s)
	p := MustPoint(t, s, testUSCC, "MN0001", "DA001")
	MustPoint(t, s, testUSCC2, "MN0002", "DA001")
	t0 := time.Date(2026, 11, 2, 5, 0, 0, 0, monitoring.CST)
	fs := NewFindingService(s.db)
	mk := func(start time.Time) *monitoring.Exceedance {
		id := monitoring.EventID(monitoring.RuleExceedanceHourly, p.MN, "so2", start)
		f := &offsite.Finding{ID: id, USCC: testUSCC, CaptureIDs: []int64{}, Kind: offsite.FindingMonitoring, Class: monitoring.RuleExceedanceHourly,
			Score: 1, Severity: "high", Geometry: orb.Point{120.1, 30.2}, Pipeline: "monitoring", PipelineHash: "x", DetectedAt: start,
			Properties: map[string]any{"mn": p.MN, "pollutant": "so2"}, Provenance: []byte(`{}`)}
		if err := fs.RecordFindings(ctx, []*offsite.Finding{f}); err != nil {
			t.Fatal(err)
		}
		return &monitoring.Exceedance{FindingID: id, USCC: testUSCC, MN: p.MN, Pollutant: "so2", Start: start, End: start.Add(2 * time.Hour),
			ReportDue: start.Add(12 * time.Hour)}
	}
	early, late, never := mk(t0), mk(t0.Add(24*time.Hour)), mk(t0.Add(48*time.Hour))
	// A report filed before the analysis found the exceedance covers it when recorded.
	ent := enforce.Actor{Name: "ent", Role: enforce.RoleEnterprise, USCC: testUSCC}
	covered, err := registry(s, t0.Add(time.Hour)).ReportExceedance(ctx, ent, &monitoring.SelfReport{USCC: testUSCC, MN: p.MN, Pollutant: "so2",
		Start: t0, End: ptrTime(t0.Add(3 * time.Hour)), Text: "desulphurisation pump failed"})
	if err != nil || len(covered) != 0 {
		t.Fatalf("report: %v, %v", covered, err)
	}
	if err := st.RecordExceedances(ctx, []*monitoring.Exceedance{early, late, never}); err != nil {
		t.Fatal(err)
	}
	// A report after the exceedance, in time, covers it at once.
	covered, err = registry(s, t0.Add(26*time.Hour)).ReportExceedance(ctx, ent, &monitoring.SelfReport{USCC: testUSCC, MN: p.MN,
		Start: t0.Add(24 * time.Hour), End: ptrTime(t0.Add(26 * time.Hour)), Text: "again"})
	if err != nil || len(covered) != 1 || covered[0] != late.FindingID {
		t.Fatalf("second report covers %v, %v; want %s", covered, err, late.FindingID)
	}
	// Another enterprise cannot report for this one's point, nor on its own behalf for it.
	other := enforce.Actor{Name: "ent2", Role: enforce.RoleEnterprise, USCC: testUSCC2}
	if _, err := registry(s, t0).ReportExceedance(ctx, other, &monitoring.SelfReport{USCC: testUSCC, MN: p.MN, Start: t0, Text: "x"}); !errors.Is(err, offsite.ErrForbidden) {
		t.Errorf("report for another enterprise: %v", err)
	}
	if _, err := registry(s, t0).ReportExceedance(ctx, other, &monitoring.SelfReport{USCC: testUSCC2, MN: p.MN, Start: t0, Text: "x"}); !errors.Is(err, offsite.ErrForbidden) {
		t.Errorf("report on another enterprise's point: %v", err)
	}
	n, err := st.DecideUnreported(ctx, t0.Add(100*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("DecideUnreported = %d, %v; want 1", n, err)
	}
	es, err := st.FindExceedances(ctx, monitoring.ExceedanceFilter{USCC: testUSCC})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, e := range es {
		status[e.FindingID] = e.Status
	}
	want := map[string]string{early.FindingID: monitoring.ReportReported, late.FindingID: monitoring.ReportReported, never.FindingID: monitoring.ReportUnreported}
	for id, w := range want {
		if status[id] != w {
			t.Errorf("exceedance %s: %s, want %s", id, status[id], w)
		}
	}
	// Self-reports are append-only for the application.
	if _, err := s.db.Pool.Exec(ctx, "UPDATE monitoring_self_reports SET text = 'changed'"); err == nil {
		t.Error("the application role may rewrite self-reports")
	}
	// The monitoring finding opens a warning on its enterprise like any finding.
	insp := &enforce.Inspections{Store: NewInspectionStore(s), Config: enforce.DefaultConfig()}
	in, outcome, err := insp.OpenWarning(ctx, enforce.Actor{Name: "monitoring", Role: enforce.RoleSystem}, "", enforce.LevelCity,
		&enforce.Warning{Source: enforce.WarningFinding, Ref: early.FindingID})
	if err != nil || outcome != enforce.WarningOpened || in.USCC != testUSCC {
		t.Fatalf("OpenWarning = %+v, %s, %v", in, outcome, err)
	}
	// A later exceedance of the same rule, point and pollutant confirms it.
	_, outcome, err = insp.OpenWarning(ctx, enforce.Actor{Name: "monitoring", Role: enforce.RoleSystem}, "", enforce.LevelCity,
		&enforce.Warning{Source: enforce.WarningFinding, Ref: late.FindingID})
	if err != nil || outcome != enforce.WarningConfirmed {
		t.Errorf("second exceedance: %s, %v; want confirmed", outcome, err)
	}
	mf, err := st.FindMonitoringFindings(ctx, testUSCC, 10)
	if err != nil || len(mf) != 3 || mf[0].USCC != testUSCC || mf[0].ParcelID != "" {
		t.Errorf("monitoring findings = %d, %v", len(mf), err)
	}
	// Monitoring findings list with the others.
	all, total, err := fs.FindFindings(ctx, offsite.FindingFilter{Kind: offsite.FindingMonitoring})
	if err != nil || total != 3 || all[0].USCC != testUSCC {
		t.Errorf("FindFindings: %d, %v", total, err)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// TestCoversSQL holds coversSQL equal to monitoring.SelfReport.Covers.
func TestCoversSQL(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	t0 := time.Date(2026, 11, 2, 5, 0, 0, 0, time.UTC)
	e := monitoring.Exceedance{MN: "M1", Pollutant: "so2", Start: t0, End: t0.Add(2 * time.Hour), ReportDue: t0.Add(12 * time.Hour)}
	for i, r := range []monitoring.SelfReport{
		{MN: "M1", Pollutant: "so2", Start: t0.Add(-time.Hour), ReportedAt: t0.Add(time.Hour)},
		{MN: "M1", Start: t0.Add(3 * time.Hour), ReportedAt: t0.Add(4 * time.Hour)},
		{MN: "M1", Start: t0.Add(-3 * time.Hour), End: ptrTime(t0.Add(-time.Hour)), ReportedAt: t0},
		{MN: "M1", Start: t0.Add(-3 * time.Hour), End: ptrTime(t0), ReportedAt: t0},
		{MN: "M1", Start: t0, ReportedAt: t0.Add(13 * time.Hour)},
		{MN: "M1", Pollutant: "nox", Start: t0, ReportedAt: t0},
		{MN: "M2", Start: t0, ReportedAt: t0},
	} {
		var got bool
		err := db.Pool.QueryRow(ctx, `SELECT `+coversSQL+` FROM
			(SELECT $1::text AS mn, $2::text AS pollutant, $3::timestamptz AS started_at, $4::timestamptz AS ended_at, $5::timestamptz AS reported_at) r,
			(SELECT $6::text AS mn, $7::text AS pollutant, $8::timestamptz AS started_at, $9::timestamptz AS ended_at, $10::timestamptz AS report_due) e`,
			r.MN, r.Pollutant, r.Start, r.End, r.ReportedAt, e.MN, e.Pollutant, e.Start, e.End, e.ReportDue).Scan(&got)
		if err != nil {
			t.Fatal(err)
		}
		if want := r.Covers(&e); got != want {
			t.Errorf("report %d: SQL %v, Go %v", i, got, want)
		}
	}
}

// TestReleaseQuarantine releases the frames an MN sent before its point was registered: those
// carrying the point's password join its series (a message of two sub-packets too), one with
// another PW stays in quarantine, and the release is audited and scoped by agency.
func TestReleaseQuarantine(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := mustEnforce(t, db)
	MustEnterprise(t, s, testUSCC, "north")
	st := NewMonitoringRegistry(s)
	store := NewMonitoringStore(db)
	now := time.Now()
	dt := func(h int) string {
		return now.In(shanghai).Truncate(time.Hour).Add(-time.Duration(h) * time.Hour).Format("20060102150405")
	}
	const mn = "88888880000077"
	recs := []*hj212.Record{
		mustRecord(t, "QN=20240501120000001;ST=31;CN=2061;PW=123456;MN="+mn+";Flag=5;CP=&&DataTime="+dt(1)+";a21026-Avg=12.5,a21026-Flag=N;a19001-Avg=8.1,a19001-Flag=N&&", "unknown MN"),
		mustRecord(t, "QN=20240501120000002;ST=31;CN=2061;PW=123456;MN="+mn+";Flag=7;PNUM=2;PNO=1;CP=&&DataTime="+dt(2)+";a21026-Avg=1&&", "unknown MN"),
		mustRecord(t, "QN=20240501120000002;ST=31;CN=2061;PW=123456;MN="+mn+";Flag=7;PNUM=2;PNO=2;CP=&&a21002-Avg=2&&", "unknown MN"),
		mustRecord(t, "QN=20240501120000003;ST=31;CN=2061;PW=999999;MN="+mn+";Flag=5;CP=&&DataTime="+dt(3)+";a21026-Avg=99&&", "unknown MN"),
	}
	if err := store.WriteBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	values := func() int { return countRows(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = $1", mn) }
	if n := values(); n != 0 {
		t.Fatalf("%d values of a quarantined MN, want 0", n)
	}
	reg := registry(s, now)
	if _, err := reg.ReleaseQuarantine(ctx, admin, mn); !errors.Is(err, offsite.ErrNotFound) {
		t.Fatalf("release before the point is registered: %v, want not found", err)
	}
	q, err := st.FindQuarantine(ctx, 0, 10)
	if err != nil || len(q) != 1 || q[0].MN != mn || q[0].Frames != 4 || q[0].USCC != "" {
		t.Fatalf("FindQuarantine before registering = %+v, %v", q, err)
	}
	MustPoint(t, s, testUSCC, mn, "DA001") // password 123456
	q, err = st.FindQuarantine(ctx, 0, 10)
	if err != nil || len(q) != 1 || q[0].USCC != testUSCC {
		t.Fatalf("FindQuarantine after registering = %+v, %v", q, err)
	}
	// Another city's administrator does not see the point's frames; the province's does.
	var city int64
	if err := db.Pool.QueryRow(ctx, `WITH n AS (SELECT nextval(pg_get_serial_sequence('agencies', 'id')) AS id)
		INSERT INTO agencies (id, name, level, parent_id, path) SELECT id, 'City ' || id, 'city', 1, ARRAY[1, id] FROM n RETURNING id`).Scan(&city); err != nil {
		t.Fatal(err)
	}
	if q, err := st.FindQuarantine(ctx, city, 10); err != nil || len(q) != 0 {
		t.Errorf("FindQuarantine for another city = %+v, %v; want none", q, err)
	}
	if q, err := st.FindQuarantine(ctx, 1, 10); err != nil || len(q) != 1 {
		t.Errorf("FindQuarantine for the province = %+v, %v; want one", q, err)
	}

	rel, err := reg.ReleaseQuarantine(ctx, admin, mn)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&monitoring.Release{MN: mn, Released: 3, Kept: 1}, rel); diff != "" {
		t.Errorf("release (-want +got):\n%s", diff)
	}
	if n := values(); n != 4 {
		t.Errorf("%d values after release, want 4 (two of the upload, two of the reassembled message)", n)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = $1 AND avg = 99", mn); n != 0 {
		t.Errorf("the frame with another PW was released")
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_frames WHERE mn = $1 AND quarantined", mn); n != 1 {
		t.Errorf("%d frames left in quarantine, want 1", n)
	}
	// Again: nothing more to release, the other PW's frame still kept.
	if rel, err := reg.ReleaseQuarantine(ctx, admin, mn); err != nil || rel.Released != 0 || rel.Kept != 1 {
		t.Errorf("second release = %+v, %v", rel, err)
	}
	if n := values(); n != 4 {
		t.Errorf("%d values after a second release, want 4", n)
	}
	es, _, err := s.FindAudit(ctx, monitoring.PointSubject(mn), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	releases := 0
	for _, e := range es {
		if e.Action == enforce.AuditMonitoringPointReleaseQuarantine {
			releases++
		}
	}
	if releases != 2 {
		t.Errorf("%d release audit entries, want 2", releases)
	}
	if es, _, err := s.FindAuditIn(ctx, city, monitoring.PointSubject(mn), 0, 10); err != nil || len(es) != 0 {
		t.Errorf("another city reads %d audit entries of the point (%v), want none", len(es), err)
	}
}
