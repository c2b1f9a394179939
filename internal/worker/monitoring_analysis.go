package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/msgs"
	"github.com/offsite/offsite/internal/tasks"
)

// MonitoringStore is what the monitoring analysis reads and records; the Postgres monitoring
// store implements it.
type MonitoringStore interface {
	FindPoint(ctx context.Context, mn string) (*monitoring.Point, error)
	// FindPoints returns the points of an enterprise, "" for all.
	FindPoints(ctx context.Context, uscc string) ([]*monitoring.Point, error)
	FindLimits(ctx context.Context, uscc string) ([]monitoring.Limit, error)
	FindSamples(ctx context.Context, mn string, from, to time.Time) (map[string][]monitoring.Sample, error)
	// FindRunStates returns the running states of the point's facilities (CN 2021).
	FindRunStates(ctx context.Context, mn string, from, to time.Time) ([]monitoring.RunState, error)
	// FindRunTimes returns the daily running times of the point's pollution-control
	// facilities (CN 2041).
	FindRunTimes(ctx context.Context, mn string, from, to time.Time) ([]monitoring.RunTime, error)
	RecordExceedances(ctx context.Context, es []*monitoring.Exceedance) error
	DecideUnreported(ctx context.Context, now time.Time) (int, error)
}

// SelfCheckRequester asks an enterprise for its self-check on an inspection (三.7);
// enforce.Inspections implements it.
type SelfCheckRequester interface {
	RequestSelfCheck(ctx context.Context, a enforce.Actor, id int64, version int, deadline *time.Time) (*enforce.Inspection, error)
}

// monitoringActor is who the audit log names for what the monitoring analysis opens.
var monitoringActor = enforce.Actor{Name: "monitoring", Role: enforce.RoleSystem}

// MonitoringPipeline is the pipeline name of monitoring findings.
const MonitoringPipeline = "monitoring"

// MonitoringHandler analyses one monitoring point's data up to the end of an hour (the
// hourly task the receiver queues, and the nightly run's task for a whole day): it applies
// internal/monitoring's rules from the start of the day before, stores a chart of each event
// in the evidence bucket under its SHA-256, records the events as findings of kind
// monitoring (ids derived from rule, point, pollutant and start, so a re-run records nothing
// new), records exceedances with the time the enterprise has to report them, and opens or
// joins an off-site inspection of the enterprise for each event, asking the enterprise for
// its self-check first (三.7) when the inspection is new.
type MonitoringHandler struct{ *Deps }

// ProcessTask implements asynq.Handler.
func (h *MonitoringHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseMonitoringAnalyze(t)
	if err != nil {
		return permanent(err)
	}
	_, err = h.Analyze(ctx, p.MN, p.Hour)
	return err
}

// Analyze runs the analysis of point mn up to the end of hour and returns the events found
// (recorded or recorded before).
func (h *MonitoringHandler) Analyze(ctx context.Context, mn string, hour time.Time) ([]monitoring.Event, error) {
	if h.Monitoring == nil || h.Findings == nil {
		return nil, permanent(errors.New("worker: monitoring analysis needs the monitoring and finding stores"))
	}
	pt, err := h.Monitoring.FindPoint(ctx, mn)
	if errors.Is(err, offsite.ErrNotFound) {
		return nil, permanent(err)
	} else if err != nil {
		return nil, err
	}
	to := hour.Truncate(time.Hour).Add(time.Hour)
	day := hour.In(monitoring.CST)
	from := time.Date(day.Year(), day.Month(), day.Day()-1, 0, 0, 0, 0, monitoring.CST)
	samples, err := h.Monitoring.FindSamples(ctx, mn, from, to)
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, nil
	}
	limits, err := h.Monitoring.FindLimits(ctx, pt.USCC)
	if err != nil {
		return nil, err
	}
	var mine []monitoring.Limit
	for _, l := range limits {
		if l.Outlet == pt.Outlet {
			mine = append(mine, l)
		}
	}
	// Other points of the enterprise, for the identical series rule.
	others := map[string]map[string][]monitoring.Hourly{}
	pts, err := h.Monitoring.FindPoints(ctx, pt.USCC)
	if err != nil {
		return nil, err
	}
	params := h.MonitoringParams
	if params.Validity == (monitoring.Validity{}) {
		params.Validity = monitoring.DefaultValidity
	}
	for _, o := range pts {
		if o.MN == pt.MN || o.Medium != pt.Medium {
			continue
		}
		os, err := h.Monitoring.FindSamples(ctx, o.MN, from, to)
		if err != nil {
			return nil, err
		}
		others[o.MN] = map[string][]monitoring.Hourly{}
		for pol, ss := range os {
			others[o.MN][pol] = params.Validity.Hours(ss, o.Medium)
		}
	}
	states, err := h.Monitoring.FindRunStates(ctx, mn, from, to)
	if err != nil {
		return nil, err
	}
	runTimes, err := h.Monitoring.FindRunTimes(ctx, mn, from, to)
	if err != nil {
		return nil, err
	}
	events := monitoring.Analyze(monitoring.Input{Point: *pt, Limits: mine, Samples: samples, RunStates: states, RunTimes: runTimes, Others: others, Complete: to}, params)
	if len(events) == 0 {
		return nil, h.decide(ctx)
	}
	findings := make([]*offsite.Finding, 0, len(events))
	cfg := h.MonitoringConfig
	cfg.WithDefaults()
	var exceedances []*monitoring.Exceedance
	phash := monitoringHash(params)
	for i := range events {
		e := &events[i]
		f, err := h.finding(ctx, pt, e, params, phash)
		if err != nil {
			return nil, err
		}
		findings = append(findings, f)
		// An exceedance is recorded for the report deadline once it has ended, with its whole
		// period (its ongoing finding has warned already); the deadline runs from its start.
		if monitoring.IsExceedance(e.Rule) && !e.Ongoing {
			exceedances = append(exceedances, &monitoring.Exceedance{FindingID: e.ID, USCC: pt.USCC, MN: pt.MN, Pollutant: e.Pollutant,
				Start: e.Start, End: e.End, ReportDue: e.Start.Add(time.Duration(cfg.ReportHours) * time.Hour)})
		}
	}
	if err := h.Findings.RecordFindings(ctx, findings); err != nil {
		return nil, err
	}
	if err := h.Monitoring.RecordExceedances(ctx, exceedances); err != nil {
		return nil, err
	}
	warned, err := h.warn(ctx, findings)
	if err != nil {
		return nil, err
	}
	h.Logger.InfoContext(ctx, "monitoring analysis", "mn", mn, "hour", hour, "events", len(events), "exceedances", len(exceedances), "warnings", warned)
	return events, h.decide(ctx)
}

// decide records the exceedances whose time to be reported ran out.
func (h *MonitoringHandler) decide(ctx context.Context) error {
	_, err := h.Monitoring.DecideUnreported(ctx, time.Now())
	return err
}

// warn opens or joins an inspection of the enterprise for each finding of high or medium
// severity, as pipeline findings do, and asks for the self-check on an inspection still open:
// for abnormal or exceeding online monitoring data the enterprise checks itself and reports
// in writing first (三.7).
func (h *MonitoringHandler) warn(ctx context.Context, findings []*offsite.Finding) (int, error) {
	if h.Warnings == nil {
		return 0, nil
	}
	level := h.WarningLevel
	if level == "" {
		level = enforce.DefaultConfig().Level
	}
	sc, _ := h.Warnings.(SelfCheckRequester)
	n := 0
	for _, f := range findings {
		if !warningLevels[f.Severity] {
			continue
		}
		w := &enforce.Warning{Source: enforce.WarningFinding, Ref: f.ID, Severity: f.Severity,
			Message: fmt.Sprintf("monitoring %s: %v", f.Class, f.Properties["summary"])}
		if m, ok := f.Properties["summary_message"].(msgs.Message); ok {
			w.SummaryMessage = &m
		}
		in, _, err := h.Warnings.OpenWarning(ctx, monitoringActor, f.USCC, level, w)
		if err != nil {
			return n, err
		}
		n++
		if sc != nil && in.Status == enforce.InspOpen {
			if _, err := sc.RequestSelfCheck(ctx, monitoringActor, in.ID, in.Version, nil); err != nil && !errors.Is(err, offsite.ErrConflict) {
				return n, err
			}
		}
	}
	return n, nil
}

// finding makes an event's finding: its chart stored as evidence, the values, period and
// frames' hashes in its properties and provenance.
func (h *MonitoringHandler) finding(ctx context.Context, pt *monitoring.Point, e *monitoring.Event, params monitoring.Params, phash string) (*offsite.Finding, error) {
	var arts []offsite.Artifact
	if e.Chart != nil {
		png, err := e.Chart.PNG()
		if err != nil {
			return nil, err
		}
		key, sum, err := h.Store.PutEvidence(ctx, png, ".png", "image/png")
		if err != nil {
			return nil, err
		}
		arts = append(arts, offsite.Artifact{Name: "chart.png", Key: key, SHA256: sum, Size: int64(len(png)), MediaType: "image/png"})
	}
	props := map[string]any{
		"rule": e.Rule, "standard": e.Standard, "mn": e.MN, "outlet": e.Outlet, "pollutant": e.Pollutant, "unit": e.Unit,
		"start": e.Start, "end": e.End, "summary": e.Summary, "summary_message": e.SummaryMessage, "values": e.Values, "frames": e.Frames,
	}
	if e.Limit > 0 {
		props["limit"] = e.Limit
	}
	if e.O2Ref != nil {
		props["o2_ref"] = *e.O2Ref
	}
	if e.Other != "" {
		props["other_mn"] = e.Other
	}
	if e.Ongoing {
		props["ongoing"] = true
	}
	assets := map[string]any{}
	for _, a := range arts {
		assets[a.Name] = map[string]any{"href": "s3://" + h.EvidenceBucket + "/" + a.Key, "type": a.MediaType, "file:checksum": "1220" + a.SHA256, "file:size": a.Size}
	}
	prov, err := json.Marshal(map[string]any{
		"type": "monitoring-event", "id": e.ID, "rule": e.Rule, "standard": e.Standard, "mn": e.MN, "uscc": pt.USCC, "outlet": e.Outlet,
		"pollutant": e.Pollutant, "start": e.Start, "end": e.End, "frames": e.Frames, "params": params, "params_hash": phash,
		"software_version": offsite.Version, "assets": assets,
	})
	if err != nil {
		return nil, err
	}
	score := 0.6
	if e.Severity == "high" {
		score = 0.9
	}
	return &offsite.Finding{ID: e.ID, USCC: pt.USCC, CaptureIDs: []int64{}, Kind: offsite.FindingMonitoring, Class: e.Rule,
		Score: score, Severity: e.Severity, Geometry: orb.Point{pt.Lon, pt.Lat}, Pipeline: MonitoringPipeline, PipelineHash: phash,
		DetectedAt: e.Start, Properties: props, Provenance: prov, Artifacts: arts}, nil
}

// monitoringHash is the content hash of the rules' parameters, recorded as the pipeline hash.
func monitoringHash(p monitoring.Params) string {
	b, _ := json.Marshal(struct {
		Rules  []string
		Params monitoring.Params
	}{monitoring.Rules, p})
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// MonitoringNightlyHandler is the nightly run of the monitoring analysis: it queues the
// analysis of the previous day (CST) for every monitoring point and records the exceedances
// whose time to be reported ran out. Task ids are per point and day: a second run queues
// nothing twice.
type MonitoringNightlyHandler struct{ *Deps }

// ProcessTask implements asynq.Handler.
func (h *MonitoringNightlyHandler) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	if h.Monitoring == nil {
		return permanent(errors.New("worker: the monitoring nightly run needs the monitoring store"))
	}
	pts, err := h.Monitoring.FindPoints(ctx, "")
	if err != nil {
		return err
	}
	now := time.Now().In(monitoring.CST)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, monitoring.CST)
	queued := 0
	for _, p := range pts {
		task, err := tasks.NewMonitoringNightlyAnalyzeTask(p.MN, today)
		if err != nil {
			return err
		}
		if _, err := h.Queue.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return err
		}
		queued++
	}
	n, err := h.Monitoring.DecideUnreported(ctx, time.Now())
	h.Logger.InfoContext(ctx, "monitoring nightly", "points", len(pts), "queued", queued, "unreported", n)
	return err
}
