package evalset

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/detect"
	"github.com/offsite/offsite/pipelines"
)

// Row is one line of the report: object-level counts and rates for a detector and class.
type Row struct {
	Detector, Class string
	Truths          int // true objects
	Findings        int // findings scored (those explained by another detector's truth excluded)
	MatchedTruths   int // truths found by a finding of the same class
	MatchedFindings int // findings that match a truth of their class
	FalseAlarms     int // findings that match no truth at all
	AreaKm2         float64
}

// Precision is MatchedFindings/Findings (1 without findings).
func (r Row) Precision() float64 { return ratio(r.MatchedFindings, r.Findings) }

// Recall is MatchedTruths/Truths (1 without truths).
func (r Row) Recall() float64 { return ratio(r.MatchedTruths, r.Truths) }

// F1 is the harmonic mean of precision and recall.
func (r Row) F1() float64 {
	p, q := r.Precision(), r.Recall()
	if p+q == 0 {
		return 0
	}
	return 2 * p * q / (p + q)
}

// FalseAlarmsPer100Km2 scales FalseAlarms by the area searched.
func (r Row) FalseAlarmsPer100Km2() float64 {
	if r.AreaKm2 == 0 {
		return 0
	}
	return float64(r.FalseAlarms) / r.AreaKm2 * 100
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Target is one acceptance criterion.
type Target struct {
	Name   string
	Value  float64
	Goal   float64
	AtMost bool // Value must be ≤ Goal (else ≥)
}

// Met reports whether the target holds.
func (t Target) Met() bool {
	if t.AtMost {
		return t.Value <= t.Goal
	}
	return t.Value >= t.Goal
}

// Judged is one finding with its score and judgement.
type Judged struct {
	Row   string // the report row: change, change (drone-rgb), hotspot, water_plume, ...
	Score float64
	Real  bool
}

// Report is the outcome of scoring an evaluation set.
type Report struct {
	Rows []Row
	// ControlFindings counts change findings anywhere in the control pair, which differs
	// only by gain, offset, seasonal shift and noise.
	ControlFindings int
	// Track events: injected, detected as an exceedance, attributed to the right parcel first.
	TrackEvents, TrackDetected, TrackAttributed int
	// Vehicle track events with wind, and those whose source ranks first; vehicle track
	// findings (one per event, on its top candidate) and those on a parcel that emitted
	// nothing; the mean top-candidate share of the findings on the right and on a wrong
	// parcel.
	WindEvents, WindFirst       int
	VehicleFindings, NonEmitter int
	ShareRight, ShareWrong      float64
	nShareRight, nShareWrong    int
	Elapsed                     map[string]time.Duration
	// Judged lists every finding scored on a row of its own detector (not the scene-wide
	// rows), with its raw score and whether it lay on a truth of its detector: what a
	// score calibration is fitted on.
	Judged  []Judged
	Targets []Target
}

// Failed returns the targets missed.
func (r *Report) Failed() []Target {
	var out []Target
	for _, t := range r.Targets {
		if !t.Met() {
			out = append(out, t)
		}
	}
	return out
}

// row returns the row for detector and class, adding it when new.
func (r *Report) row(det, class string, area float64) *Row {
	for i := range r.Rows {
		if r.Rows[i].Detector == det && r.Rows[i].Class == class {
			r.Rows[i].AreaKm2 += area
			return &r.Rows[i]
		}
	}
	r.Rows = append(r.Rows, Row{Detector: det, Class: class, AreaKm2: area})
	return &r.Rows[len(r.Rows)-1]
}

// Lookup returns the row for detector and class.
func (r *Report) Lookup(det, class string) Row {
	for _, row := range r.Rows {
		if row.Detector == det && row.Class == class {
			return row
		}
	}
	return Row{Detector: det, Class: class}
}

func overlaps(a, b orb.Bound, pad float64) bool {
	a = a.Pad(pad)
	return a.Min[0] < b.Max[0] && b.Min[0] < a.Max[0] && a.Min[1] < b.Max[1] && b.Min[1] < a.Max[1]
}

// label gives the class a finding is scored under: hotspots by status.
func label(det string, f detect.Finding) string {
	if det == "hotspot" {
		return f.Status
	}
	return f.Class
}

func truthLabel(t Truth) string {
	if t.Detector == "hotspot" {
		return t.Status
	}
	return t.Class
}

// scoreRaster scores one detector's findings on one scene against the truth of that
// detector; findings matching only another detector's truth are left out. Distractor
// truths (outside every parcel) are expected only when sceneWide: otherwise a finding on
// one is a false alarm.
func (r *Report) scoreRaster(det string, sc *Scene, fs []detect.Finding) {
	r.scoreRasterAs(det, det, sc, fs, false)
}

// scoreRasterAs is scoreRaster reporting under the row name rowName.
func (r *Report) scoreRasterAs(rowName, det string, sc *Scene, fs []detect.Finding, sceneWide bool) {
	area := sc.AreaKm2()
	pad := sc.Before.PixelSize()
	var truths, others []Truth
	for _, t := range sc.Truth {
		switch {
		case t.Detector != det:
			others = append(others, t)
		case t.ParcelID != "" || sceneWide:
			truths = append(truths, t)
		}
	}
	r.row(rowName, "all", area)
	classes := map[string]bool{}
	for _, t := range truths {
		classes[truthLabel(t)] = true
	}
	for _, f := range fs {
		classes[label(det, f)] = true
	}
	for c := range classes {
		r.row(rowName, c, area)
	}
	// Rows are all in place now; pointers into r.Rows stay valid below.
	all := r.row(rowName, "all", 0)
	for _, f := range fs {
		fb := f.Geometry.Bound()
		matchAny, matchSame := false, false
		for _, t := range truths {
			if overlaps(fb, t.Bound, pad) {
				matchAny = true
				if truthLabel(t) == label(det, f) {
					matchSame = true
				}
			}
		}
		if !matchAny {
			explained := false
			for _, t := range others {
				if overlaps(fb, t.Bound, pad) {
					explained = true
				}
			}
			if explained {
				continue
			}
		}
		if !sceneWide {
			r.Judged = append(r.Judged, Judged{Row: rowName, Score: f.Score, Real: matchAny})
		}
		row := r.row(rowName, label(det, f), 0)
		row.Findings++
		all.Findings++
		if matchSame {
			row.MatchedFindings++
			all.MatchedFindings++
		}
		if !matchAny {
			row.FalseAlarms++
			all.FalseAlarms++
		}
	}
	for _, t := range truths {
		row := r.row(rowName, truthLabel(t), 0)
		row.Truths++
		all.Truths++
		for _, f := range fs {
			if label(det, f) == truthLabel(t) && overlaps(f.Geometry.Bound(), t.Bound, pad) {
				row.MatchedTruths++
				all.MatchedTruths++
				break
			}
		}
	}
}

// Score runs the pipelines' detectors over the set and scores them.
func Score(set *Set, pipes map[string]*pipelines.Pipeline) (*Report, error) {
	s2, ok := pipes["sentinel2"]
	if !ok {
		return nil, fmt.Errorf("evalset: no sentinel2 pipeline")
	}
	change, hot, plume := s2.Detector(pipelines.TypeChange), s2.Detector(pipelines.TypeHotspot), s2.Detector(pipelines.TypeWaterPlume)
	if change == nil || hot == nil || plume == nil {
		return nil, fmt.Errorf("evalset: sentinel2 pipeline lacks change, hotspot or water_plume")
	}
	rep := &Report{Elapsed: map[string]time.Duration{}}
	timed := func(name string, f func() ([]detect.Finding, error)) ([]detect.Finding, error) {
		t0 := time.Now()
		fs, err := f()
		rep.Elapsed[name] += time.Since(t0)
		return fs, err
	}
	for _, sc := range set.Scenes {
		if sc.Pipeline == "drone-rgb" {
			if err := rep.scoreDrone(sc, pipes, timed); err != nil {
				return nil, err
			}
			continue
		}
		attr := detect.Attribution{Parcels: sc.Parcels, Buffer: s2.Buffer}
		if sc.Control {
			attr = detect.Attribution{} // scene-wide: any finding is a false alarm
		}
		fs, err := timed("change", func() ([]detect.Finding, error) {
			return detect.DetectChange(sc.Before, sc.After, *change.Change, attr)
		})
		if err != nil {
			return nil, fmt.Errorf("evalset: %s: %w", sc.Name, err)
		}
		if sc.Control {
			rep.ControlFindings += len(fs)
		}
		rep.scoreRaster("change", sc, fs)
		if !sc.Control {
			// The raw detector: every region, before attribution to parcels.
			fs, err = timed("change", func() ([]detect.Finding, error) {
				return detect.DetectChange(sc.Before, sc.After, *change.Change, detect.Attribution{})
			})
			if err != nil {
				return nil, fmt.Errorf("evalset: %s: %w", sc.Name, err)
			}
			rep.scoreRasterAs("change (scene-wide)", "change", sc, fs, true)
			fs, err = timed("water_plume", func() ([]detect.Finding, error) {
				return detect.DetectWaterPlumes(sc.After, *plume.WaterPlume, detect.Attribution{})
			})
			if err != nil {
				return nil, fmt.Errorf("evalset: %s: %w", sc.Name, err)
			}
			rep.scoreRasterAs("water_plume (scene-wide)", "water_plume", sc, fs, true)
		}
		fs, err = timed("hotspot", func() ([]detect.Finding, error) {
			return detect.DetectHotspotPair(sc.Before, sc.After, *hot.Hotspot, attr)
		})
		if err != nil {
			return nil, fmt.Errorf("evalset: %s: %w", sc.Name, err)
		}
		rep.scoreRaster("hotspot", sc, fs)
		fs, err = timed("water_plume", func() ([]detect.Finding, error) {
			return detect.DetectWaterPlumes(sc.After, *plume.WaterPlume, attr)
		})
		if err != nil {
			return nil, fmt.Errorf("evalset: %s: %w", sc.Name, err)
		}
		rep.scoreRaster("water_plume", sc, fs)
	}
	for _, tc := range set.Tracks {
		if err := rep.scoreTrack(tc, pipes); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(rep.Rows, func(i, j int) bool {
		if rep.Rows[i].Detector != rep.Rows[j].Detector {
			return rep.Rows[i].Detector < rep.Rows[j].Detector
		}
		return rep.Rows[i].Class != "all" && (rep.Rows[j].Class == "all" || rep.Rows[i].Class < rep.Rows[j].Class)
	})
	ch, hs, wp := rep.Lookup("change", "all"), rep.Lookup("hotspot", "all"), rep.Lookup("water_plume", "all")
	rep.Targets = append([]Target{
		{Name: "change F1 (class-aware)", Value: ch.F1(), Goal: 0.85},
		{Name: "hotspot recall", Value: hs.Recall(), Goal: 0.95},
		{Name: "hotspot false alarms per 100 km²", Value: hs.FalseAlarmsPer100Km2(), Goal: 1, AtMost: true},
		{Name: "water plume recall", Value: wp.Recall(), Goal: 0.8},
		{Name: "change findings from gain/offset and seasonal shift only", Value: float64(rep.ControlFindings), Goal: 0, AtMost: true},
	}, rep.trackTargets()...)
	return rep, nil
}

// ScoreTracks scores track cases alone, with the track targets.
func ScoreTracks(cases []*TrackCase, pipes map[string]*pipelines.Pipeline) (*Report, error) {
	rep := &Report{Elapsed: map[string]time.Duration{}}
	for _, tc := range cases {
		if err := rep.scoreTrack(tc, pipes); err != nil {
			return nil, err
		}
	}
	rep.Targets = rep.trackTargets()
	return rep, nil
}

// trackTargets are the targets on tracks.
func (r *Report) trackTargets() []Target {
	return []Target{
		{Name: "track exceedances attributed correctly", Value: ratio(r.TrackAttributed, r.TrackEvents), Goal: 0.9},
		{Name: "vehicle events with wind: source ranked first", Value: ratio(r.WindFirst, r.WindEvents), Goal: 0.8},
		{Name: "vehicle findings on a parcel that emitted nothing", Value: 1 - ratio(r.VehicleFindings-r.NonEmitter, r.VehicleFindings), Goal: 0.25, AtMost: true},
	}
}

// scoreDrone runs the drone-rgb pipeline's change and smoke detectors on a drone scene.
func (r *Report) scoreDrone(sc *Scene, pipes map[string]*pipelines.Pipeline, timed func(string, func() ([]detect.Finding, error)) ([]detect.Finding, error)) error {
	p, ok := pipes[sc.Pipeline]
	if !ok {
		return fmt.Errorf("evalset: no %s pipeline", sc.Pipeline)
	}
	change, smoke := p.Detector(pipelines.TypeChange), p.Detector(pipelines.TypeSmoke)
	if change == nil || smoke == nil {
		return fmt.Errorf("evalset: %s pipeline lacks change or smoke", sc.Pipeline)
	}
	attr := detect.Attribution{Parcels: sc.Parcels, Buffer: p.Buffer}
	fs, err := timed("change (drone-rgb)", func() ([]detect.Finding, error) {
		return detect.DetectChange(sc.Before, sc.After, *change.Change, attr)
	})
	if err != nil {
		return fmt.Errorf("evalset: %s: %w", sc.Name, err)
	}
	r.scoreRasterAs("change (drone-rgb)", "change", sc, fs, false)
	fs, err = timed("smoke_plume", func() ([]detect.Finding, error) {
		return detect.DetectSmoke(sc.After, *smoke.Smoke, attr)
	})
	if err != nil {
		return fmt.Errorf("evalset: %s: %w", sc.Name, err)
	}
	r.scoreRasterAs("smoke_plume", "smoke_plume", sc, fs, false)
	return nil
}

// scoreTrack parses a track through its pipeline and scores exceedances and attribution.
func (r *Report) scoreTrack(tc *TrackCase, pipes map[string]*pipelines.Pipeline) error {
	p, ok := pipes[tc.Pipeline]
	if !ok || p.Columns == nil {
		return fmt.Errorf("evalset: no %s pipeline", tc.Pipeline)
	}
	d := p.Detector(pipelines.TypeTrack)
	t0 := time.Now()
	tr, err := detect.ParseTrackCSV(bytes.NewReader(tc.CSV), *p.Columns)
	if err != nil {
		return fmt.Errorf("evalset: %s: %w", tc.Name, err)
	}
	fs, err := detect.DetectTrack(tr, *d.Track, tc.Parcels)
	r.Elapsed["track"] += time.Since(t0)
	if err != nil {
		return fmt.Errorf("evalset: %s: %w", tc.Name, err)
	}
	class := detect.ClassAirExceedance
	if d.Track.Medium == detect.MediumWater {
		class = detect.ClassWaterExceed
	}
	row := r.row("track", class, 0)
	for _, ev := range tc.Events {
		row.Truths++
		r.TrackEvents++
		var best *detect.Finding
		for i, f := range fs {
			if f.Kind == detect.KindExceedance && f.Pollutant == ev.Pollutant && !f.End.Before(ev.Start) && !f.Start.After(ev.End) {
				if best == nil || f.Measures["peak"] > best.Measures["peak"] {
					best = &fs[i]
				}
			}
		}
		if best == nil {
			continue
		}
		row.MatchedTruths++
		r.TrackDetected++
		first := len(best.Parcels) > 0 && best.Parcels[0].ParcelID == ev.ParcelID
		if first {
			r.TrackAttributed++
		}
		if _, windy := best.Measures["wind_from_deg"]; windy && tc.Pipeline == "vehicle-track" {
			r.WindEvents++
			if first {
				r.WindFirst++
			}
		}
	}
	if tc.Pipeline == "vehicle-track" {
		emitted := map[string]bool{}
		for _, ev := range tc.Events {
			emitted[ev.ParcelID] = true
		}
		for _, f := range fs {
			if len(f.Parcels) == 0 {
				continue // no parcel: no finding
			}
			r.VehicleFindings++
			if top := f.Parcels[0]; emitted[top.ParcelID] {
				r.ShareRight += top.Share
				r.nShareRight++
			} else {
				r.NonEmitter++
				r.ShareWrong += top.Share
				r.nShareWrong++
			}
		}
	}
	for _, f := range fs {
		if f.Kind != detect.KindExceedance {
			continue
		}
		row.Findings++
		matched := false
		for _, ev := range tc.Events {
			if f.Pollutant == ev.Pollutant && !f.End.Before(ev.Start) && !f.Start.After(ev.End) {
				matched = true
			}
		}
		if matched {
			row.MatchedFindings++
		} else {
			row.FalseAlarms++
		}
	}
	return nil
}

// Write prints the report as a table followed by the targets.
func (r *Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "detector\tclass\ttruths\tfindings\tprecision\trecall\tF1\tfalse alarms/100 km²\t")
	for _, row := range r.Rows {
		fa := "-"
		if row.AreaKm2 > 0 {
			fa = fmt.Sprintf("%.2f", row.FalseAlarmsPer100Km2())
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%s\t\n", row.Detector, row.Class, row.Truths, row.Findings, row.Precision(), row.Recall(), row.F1(), fa)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ntrack events %d, detected %d, attributed to the right parcel %d (%.1f%%)\n", r.TrackEvents, r.TrackDetected, r.TrackAttributed, 100*ratio(r.TrackAttributed, r.TrackEvents))
	fmt.Fprintf(w, "vehicle events with wind %d, source ranked first %d (%.1f%%); vehicle findings %d (one per event), on a parcel that emitted nothing %d (%.1f%%); mean top-candidate share %.2f on the source, %.2f on a wrong parcel\n",
		r.WindEvents, r.WindFirst, 100*ratio(r.WindFirst, r.WindEvents), r.VehicleFindings, r.NonEmitter, 100*(1-ratio(r.VehicleFindings-r.NonEmitter, r.VehicleFindings)),
		r.ShareRight/float64(max(r.nShareRight, 1)), r.ShareWrong/float64(max(r.nShareWrong, 1)))
	fmt.Fprintf(w, "control pair (gain/offset + seasonal shift only): %d change findings\n", r.ControlFindings)
	var names []string
	for k := range r.Elapsed {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprint(w, "time:")
	for _, k := range names {
		fmt.Fprintf(w, " %s %.2fs", k, r.Elapsed[k].Seconds())
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\ntargets:")
	for _, t := range r.Targets {
		op, mark := "≥", "ok"
		if t.AtMost {
			op = "≤"
		}
		if !t.Met() {
			mark = "MISSED"
		}
		_, err := fmt.Fprintf(w, "  %-58s %8.3f %s %-6g %s\n", t.Name, t.Value, op, t.Goal, mark)
		if err != nil {
			return err
		}
	}
	return nil
}
