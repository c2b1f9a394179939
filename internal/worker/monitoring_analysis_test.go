package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/msgs"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/testenv"
)

const monUSCC = "91110000600037341L"

// storeHour stores an hour upload (CN 2061) of SO2 and O2 at mn as the receiver would, and
// returns the frame's SHA-256.
func storeHour(t *testing.T, st *postgres.MonitoringRegistry, mn string, at time.Time, so2, o2 float64, flag string) string {
	t.Helper()
	raw := fmt.Sprintf("ST=31;CN=2061;PW=123456;MN=%s;CP=&&DataTime=%s;a21026-Avg=%g,a21026-Flag=%s;a19001-Avg=%g,a19001-Flag=N&&",
		mn, at.In(monitoring.CST).Format("20060102150405"), so2, flag, o2)
	sum := sha256.Sum256([]byte(raw))
	fr := &postgres.LoggerUpload{SHA256: hex.EncodeToString(sum[:]), Raw: []byte(raw), Version: "2017", ST: "31", CN: "2061", MN: mn, DataTime: at,
		Values: []postgres.LoggerValue{{Factor: "a21026", Avg: &so2, Flag: flag}, {Factor: "a19001", Avg: &o2, Flag: "N"}}}
	if err := st.StoreUpload(context.Background(), fr); err != nil {
		t.Fatal(err)
	}
	return fr.SHA256
}

func TestMonitoringAnalysis(t *testing.T) {
	ctx := context.Background()
	s3cfg := testenv.S3Config(t)
	db, err := postgres.Open(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	store, err := s3.New(s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, keys := testenv.AuditKey(t)
	enf := postgres.NewEnforceService(db, postgres.AuditConfig{Keys: keys})
	admin := enforce.Actor{Name: "root", Role: enforce.RoleAdmin}
	ent := &enforce.Enterprise{USCC: monUSCC, Name: "Power plant", Industry: "D4411", PermitNo: monUSCC + "001P", Address: "1 Road",
		Location: &orb.Point{120.1, 30.2}, ComplaintChannel: "12369", KeyDischarger: true}
	if err := (&enforce.Enterprises{Store: postgres.NewEnterpriseStore(enf)}).Create(ctx, admin, ent); err != nil {
		t.Fatal(err)
	}
	mst := postgres.NewMonitoringRegistry(enf)
	reg := &monitoring.Registry{Store: mst}
	pt := &monitoring.Point{MN: "88888880000001", USCC: monUSCC, Outlet: "DA001", Lon: 120.11, Lat: 30.21}
	if err := reg.CreatePoint(ctx, admin, pt, "123456"); err != nil {
		t.Fatal(err)
	}
	if err := reg.SetLimit(ctx, admin, &monitoring.Limit{USCC: monUSCC, Outlet: "DA001", Pollutant: "so2", Hourly: ptr(100.0), O2Ref: ptr(6.0)}); err != nil {
		t.Fatal(err)
	}
	cfg := enforce.DefaultConfig()
	insp := &enforce.Inspections{Store: postgres.NewInspectionStore(enf), Config: cfg}
	deps := &Deps{Monitoring: mst, Findings: postgres.NewFindingService(db), Store: store, EvidenceBucket: s3cfg.EvidenceBucket,
		Warnings: insp, WarningLevel: cfg.Level, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := &MonitoringHandler{deps}

	// A day of SO2 about 40 at 6 % O2, with two hours of 90 at 11 % O2: 135 converted.
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, monitoring.CST)
	frames := map[int]string{}
	for i := 0; i < 12; i++ {
		so2, o2 := 40+3*math.Sin(float64(i)), 6+0.1*math.Cos(float64(i))
		if i == 7 || i == 8 {
			so2, o2 = 90, 11
		}
		frames[i] = storeHour(t, mst, pt.MN, day.Add(time.Duration(i)*time.Hour), so2, o2, "N")
	}
	events, err := h.Analyze(ctx, pt.MN, day.Add(11*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ex *monitoring.Event
	for i := range events {
		if events[i].Rule == monitoring.RuleExceedanceHourly {
			ex = &events[i]
		}
	}
	if ex == nil {
		t.Fatalf("no hourly exceedance among %d events", len(events))
	}
	if !ex.Start.Equal(day.Add(7*time.Hour)) || !ex.End.Equal(day.Add(9*time.Hour)) {
		t.Errorf("exceedance %v–%v, want 07:00–09:00", ex.Start, ex.End)
	}
	if len(ex.Frames) != 2 || ex.Frames[0] != min(frames[7], frames[8]) {
		t.Errorf("frames %v, want those of 07:00 and 08:00", ex.Frames)
	}
	fs, total, err := deps.Findings.FindFindings(ctx, offsite.FindingFilter{Kind: offsite.FindingMonitoring})
	if err != nil || total != len(events) {
		t.Fatalf("%d findings, %v; want %d", total, err, len(events))
	}
	var f *offsite.Finding
	for _, x := range fs {
		if x.ID == ex.ID {
			f = x
		}
	}
	if f == nil || f.USCC != monUSCC || len(f.Artifacts) != 1 {
		t.Fatalf("finding %+v", f)
	}
	// The chart is stored under its SHA-256.
	png, err := store.GetEvidence(ctx, f.Artifacts[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(png); hex.EncodeToString(sum[:]) != f.Artifacts[0].SHA256 || string(png[1:4]) != "PNG" {
		t.Error("the chart stored is not the PNG its hash names")
	}
	// An inspection of the enterprise is open, with the self-check asked for.
	ins, _, err := enf.FindInspections(ctx, enforce.InspectionFilter{USCC: monUSCC})
	if err != nil || len(ins) != 1 {
		t.Fatalf("inspections %v, %v", ins, err)
	}
	if ins[0].Status != enforce.InspSelfCheckRequested || ins[0].SelfCheckDeadline == nil {
		t.Errorf("inspection status %s, want self_check_requested", ins[0].Status)
	}
	nWarnings := len(ins[0].Warnings)
	// Each warning quotes its event's summary, also as a sentence of the message catalog
	// (stored with the inspection), which the pages show in Chinese.
	for _, w := range ins[0].Warnings {
		if w.SummaryMessage == nil || !strings.HasSuffix(w.Message, ": "+w.SummaryMessage.Text(msgs.EN)) {
			t.Errorf("warning %q: summary message %+v", w.Message, w.SummaryMessage)
		}
	}
	// The enterprise had 12 hours to report the exceedance; long past, it is unreported.
	es, err := mst.FindExceedances(ctx, monitoring.ExceedanceFilter{USCC: monUSCC})
	if err != nil || len(es) != 1 {
		t.Fatalf("exceedances %v, %v", es, err)
	}
	if es[0].Status != monitoring.ReportUnreported || !es[0].ReportDue.Equal(ex.Start.Add(12*time.Hour)) {
		t.Errorf("exceedance %+v, want unreported, due 12 h after its start", *es[0])
	}
	// Analysing again (the next hour, the nightly run) records nothing twice.
	if _, err := h.Analyze(ctx, pt.MN, day.Add(11*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, total2, _ := deps.Findings.FindFindings(ctx, offsite.FindingFilter{Kind: offsite.FindingMonitoring}); total2 != total {
		t.Errorf("%d findings after a second run, want %d", total2, total)
	}
	ins, _, _ = enf.FindInspections(ctx, enforce.InspectionFilter{USCC: monUSCC})
	if len(ins) != 1 || len(ins[0].Warnings) != nWarnings {
		t.Errorf("a second run changed the warnings: %d, want %d", len(ins[0].Warnings), nWarnings)
	}
	// Unknown point: no retry.
	if _, err := h.Analyze(ctx, "NOPE", day); err == nil {
		t.Error("an unknown MN was analysed")
	}

	// The nightly run queues the previous day of every point, once however often it runs.
	redis := testenv.Redis(t)
	q := asynq.NewClient(redis)
	defer q.Close()
	deps.Queue = q
	for range 2 {
		if err := (&MonitoringNightlyHandler{deps}).ProcessTask(ctx, tasks.NewMonitoringNightlyTask()); err != nil {
			t.Fatal(err)
		}
	}
	qi := asynq.NewInspector(redis)
	defer qi.Close()
	pending, err := qi.ListPendingTasks(tasks.QueueNightly)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].Type != tasks.TypeMonitoringAnalyze {
		t.Fatalf("pending nightly tasks %v, want the analysis of the one point", pending)
	}
	np, err := tasks.ParseMonitoringAnalyze(asynq.NewTask(pending[0].Type, pending[0].Payload))
	if err != nil || np.MN != pt.MN || !np.Nightly {
		t.Errorf("nightly task %+v, %v", np, err)
	}
}
