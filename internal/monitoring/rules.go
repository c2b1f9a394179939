package monitoring

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/offsite/offsite/internal/msgs"
)

// Rules: the class of a monitoring finding. Each is documented where it is applied, with the
// standard it follows.
const (
	RuleExceedanceHourly = "exceedance_hourly"
	RuleExceedanceDaily  = "exceedance_daily"
	RuleLoadDaily        = "load_exceedance_daily"
	RuleFlatLine         = "flat_line"
	RuleZeroDrift        = "zero_drift"
	RuleSpanDrift        = "span_drift"
	RuleHugging          = "hugging_limit"
	RuleO2High           = "oxygen_high"
	RuleDilution         = "dilution"
	RuleIdentical        = "identical_series"
	RuleFlagCover        = "flags_cover_exceedance"
	RuleGap              = "gap_while_running"
	RuleTreatmentIdle    = "treatment_not_running"
)

// Rules lists every rule.
var Rules = []string{RuleExceedanceHourly, RuleExceedanceDaily, RuleLoadDaily, RuleFlatLine, RuleZeroDrift, RuleSpanDrift,
	RuleHugging, RuleO2High, RuleDilution, RuleIdentical, RuleFlagCover, RuleGap, RuleTreatmentIdle}

// IsExceedance reports whether rule is an exceedance of a permit limit (which the enterprise
// must report itself, 四.10).
func IsExceedance(rule string) bool {
	return rule == RuleExceedanceHourly || rule == RuleExceedanceDaily || rule == RuleLoadDaily
}

// Params are the thresholds of the data-quality and falsification rules. Zero fields take the
// values of DefaultParams.
type Params struct {
	Validity Validity
	// FlatHours: this many consecutive valid hourly values exactly equal make a flat line;
	// FlatMinutes the same for minute values. Analysers have noise: a real signal repeats its
	// value to the last digit for minutes, not hours.
	FlatHours, FlatMinutes int
	// ZeroDriftShare: the mean reading with the source stopped above this share of the hourly
	// limit is a zero drift (HJ 75-2017 7.? allows a zero drift of ±2.5 % of full scale; the
	// limit stands in for the full scale, which the registry does not hold).
	ZeroDriftShare float64
	// SpanDriftShare: consecutive calibration readings (flag C) differing by more than this
	// share are a span drift (HJ 75-2017: span drift within ±2.5 % of full scale; a span gas
	// at 80 % of full scale makes that about 3 % of the reading; 5 % leaves room).
	SpanDriftShare float64
	// HugLow, HugShare, HugMinHours: a day whose valid hourly converted values lie in
	// [HugLow × limit, limit] for at least HugShare of at least HugMinHours hours, none above.
	HugLow, HugShare float64
	HugMinHours      int
	// O2High (%) held for O2Hours hours while the source runs: air let into the flue dilutes
	// the gas (a combustion source runs at 3 to 15 % O2; GB 13223-2011 reference 6 % for coal).
	O2High  float64
	O2Hours int
	// DilutionHours, DilutionShare: over this many hours the flow rises and the concentration
	// falls each by at least DilutionShare while the load (concentration × flow) stays within
	// DilutionShare/2: water or air added to the discharge.
	DilutionHours int
	DilutionShare float64
	// IdenticalHours consecutive hours with values equal to another point's, not constant.
	IdenticalHours int
	// CoverShare: hours flagged M, C or D next to valid hours at this share of the limit or
	// above, or whose own excluded values exceed the limit, cover a would-be exceedance.
	CoverShare float64
	// GapHours: this many hours without data between hours of the source running, or this
	// many hours of a day without data beyond what the day's own gaps explain while its
	// pollution-control facilities ran (CN 2041).
	GapHours int
	// IdleHours: a pollution-control facility that ran (CN 2041) this many hours less than
	// the source discharged on the day.
	IdleHours int
}

// DefaultParams are the default thresholds.
var DefaultParams = Params{Validity: DefaultValidity, FlatHours: 6, FlatMinutes: 60, ZeroDriftShare: 0.1, SpanDriftShare: 0.05,
	HugLow: 0.9, HugShare: 0.8, HugMinHours: 12, O2High: 19, O2Hours: 3, DilutionHours: 6, DilutionShare: 0.3,
	IdenticalHours: 6, CoverShare: 0.9, GapHours: 2, IdleHours: 2}

func (p *Params) withDefaults() {
	d := DefaultParams
	if p.Validity == (Validity{}) {
		p.Validity = d.Validity
	}
	set := func(x *int, v int) {
		if *x <= 0 {
			*x = v
		}
	}
	setf := func(x *float64, v float64) {
		if *x <= 0 {
			*x = v
		}
	}
	set(&p.FlatHours, d.FlatHours)
	set(&p.FlatMinutes, d.FlatMinutes)
	setf(&p.ZeroDriftShare, d.ZeroDriftShare)
	setf(&p.SpanDriftShare, d.SpanDriftShare)
	setf(&p.HugLow, d.HugLow)
	setf(&p.HugShare, d.HugShare)
	set(&p.HugMinHours, d.HugMinHours)
	setf(&p.O2High, d.O2High)
	set(&p.O2Hours, d.O2Hours)
	set(&p.DilutionHours, d.DilutionHours)
	setf(&p.DilutionShare, d.DilutionShare)
	set(&p.IdenticalHours, d.IdenticalHours)
	setf(&p.CoverShare, d.CoverShare)
	set(&p.GapHours, d.GapHours)
	set(&p.IdleHours, d.IdleHours)
}

// Input is what the rules read for one monitoring point.
type Input struct {
	Point  Point
	Limits []Limit // the limits of the point's outlet
	// Samples are the point's values by pollutant id, any order.
	Samples map[string][]Sample
	// Others are the hourly values of other points, by MN and pollutant, for the identical
	// series rule.
	Others map[string]map[string][]Hourly
	// RunStates are the running states of the point's facilities its logger reported (CN
	// 2021), any order: where they cover an hour, they say whether the source ran.
	RunStates []RunState
	// RunTimes are the daily running times of the point's pollution-control facilities its
	// logger reported (CN 2041), any order.
	RunTimes []RunTime
	// Complete, when set, is the end of the data: days ending after it are not complete yet,
	// and the daily rules (daily exceedance and load, hugging) wait for them.
	Complete time.Time
}

// EventValue is one value of the series an event rests on.
type EventValue struct {
	Time      time.Time `json:"time"`
	Value     float64   `json:"value"`
	Converted *float64  `json:"converted,omitempty"`
	Valid     bool      `json:"valid"`
	Flags     []string  `json:"flags,omitempty"`
}

// Event is what a rule found: a finding of kind monitoring.
type Event struct {
	ID        string    `json:"id"`
	Rule      string    `json:"rule"`
	Standard  string    `json:"standard"`
	Severity  string    `json:"severity"`
	MN        string    `json:"mn"`
	Outlet    string    `json:"outlet"`
	Pollutant string    `json:"pollutant"`
	Unit      string    `json:"unit"`
	Limit     float64   `json:"limit,omitempty"`
	O2Ref     *float64  `json:"o2_ref,omitempty"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Summary   string    `json:"summary"`
	// SummaryMessage is Summary as a sentence of the message catalog, for other languages.
	SummaryMessage msgs.Message `json:"summary_message"`
	Values         []EventValue `json:"values"`
	Other          string       `json:"other_mn,omitempty"`
	// Frames are the SHA-256 of the raw frames the values come from.
	Frames []string `json:"frames"`
	// Ongoing is true for an event that runs to the end of the data (Input.Complete): it is
	// reported at once as an early warning under an id of its own, and again under its
	// lasting id once it has ended, with its whole period.
	Ongoing bool `json:"ongoing,omitempty"`
	// Chart is the chart of the series around the event (EventChart).
	Chart *Chart `json:"-"`
}

// EventID is the id of an event: the same rule on the same point and pollutant starting at
// the same time is the same event, whenever and however often it is analysed.
func EventID(rule, mn, pollutant string, start time.Time) string {
	h := sha256.Sum256(fmt.Appendf(nil, "monitoring|%s|%s|%s|%d", rule, mn, pollutant, start.Unix()))
	return hex.EncodeToString(h[:16])
}

// runRules are the rules whose events are runs of hours that may go on past the data.
var runRules = map[string]bool{RuleExceedanceHourly: true, RuleFlatLine: true, RuleO2High: true, RuleFlagCover: true, RuleIdentical: true}

// ongoingID is the id of an event still going on, derived from its lasting id.
func ongoingID(id string) string {
	h := sha256.Sum256([]byte("ongoing|" + id))
	return hex.EncodeToString(h[:16])
}

// series is one pollutant's data prepared for the rules.
type series struct {
	pollutant Pollutant
	samples   []Sample
	hours     []Hourly
	limit     *Limit
}

// Analyze applies every rule to the point's data and returns the events, by start time.
func Analyze(in Input, p Params) []Event {
	p.withDefaults()
	medium := OutletMedium(in.Point.Outlet)
	limits := map[string]*Limit{}
	for i := range in.Limits {
		limits[in.Limits[i].Pollutant] = &in.Limits[i]
	}
	all := map[string]*series{}
	for id, ss := range in.Samples {
		pol, ok := Pollutants[id]
		if !ok {
			continue
		}
		sorted := append([]Sample(nil), ss...)
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
		all[id] = &series{pollutant: pol, samples: sorted, hours: p.Validity.Hours(sorted, medium), limit: limits[id]}
	}
	a := &analysis{in: in, p: p, medium: medium, all: all, states: stateHours(in.RunStates)}
	if medium == Gas {
		a.o2 = hourMap(all[O2])
		a.flow = hourMap(all[FlowGas])
	} else {
		a.flow = hourMap(all[FlowWater])
	}
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := all[id]
		if s.pollutant.Limitable {
			a.exceedance(s)
			a.load(s)
			a.hugging(s)
			a.flagCover(s)
			a.zeroDrift(s)
			a.spanDrift(s)
			a.dilution(s)
		}
		a.flat(s)
		a.identical(s)
	}
	if medium == Gas {
		a.o2High()
	}
	a.gaps()
	a.runTimes()
	for i := range a.events {
		e := &a.events[i]
		if runRules[e.Rule] && !in.Complete.IsZero() && !e.End.Before(in.Complete) {
			e.Ongoing = true
			e.ID = ongoingID(e.ID)
			e.Summary += " (ongoing)"
		}
		s := a.all[e.Pollutant]
		if s == nil {
			continue
		}
		e.Chart = EventChart(e, s.hours, func(h Hourly) (float64, bool) { return a.converted(s, h, h.Value) })
	}
	sort.SliceStable(a.events, func(i, j int) bool {
		if !a.events[i].Start.Equal(a.events[j].Start) {
			return a.events[i].Start.Before(a.events[j].Start)
		}
		return a.events[i].ID < a.events[j].ID
	})
	return a.events
}

// dayDone reports whether the day starting at d is complete (Input.Complete).
func (a *analysis) dayDone(d time.Time) bool {
	return a.in.Complete.IsZero() || !d.AddDate(0, 0, 1).After(a.in.Complete)
}

type analysis struct {
	in     Input
	p      Params
	medium Medium
	all    map[string]*series
	o2     map[time.Time]Hourly
	flow   map[time.Time]Hourly
	states map[time.Time]stateHour
	events []Event
}

// stateHour is what the running states reported in one hour say.
type stateHour struct {
	running bool     // some facility reported running
	frames  []string // the frames that said so (or, when none ran, that said stopped)
}

// stateHours groups run states by hour: running when any facility reported running in it,
// stopped when every report of the hour said stopped.
func stateHours(rs []RunState) map[time.Time]stateHour {
	m := map[time.Time]stateHour{}
	for _, r := range rs {
		h := r.Time.Truncate(time.Hour)
		sh, seen := m[h]
		switch {
		case r.Running && !sh.running:
			sh = stateHour{running: true, frames: []string{r.Frame}}
		case r.Running == sh.running || !seen:
			sh.frames = append(sh.frames, r.Frame)
		}
		m[h] = sh
	}
	return m
}

func hourMap(s *series) map[time.Time]Hourly {
	m := map[time.Time]Hourly{}
	if s != nil {
		for _, h := range s.hours {
			m[h.Hour] = h
		}
	}
	return m
}

// converted is the hour's value on the limit's basis: converted to the reference oxygen with
// the hour's valid O2 when the limit has one (or the logger's converted value when O2 is
// missing), else as measured.
func (a *analysis) converted(s *series, h Hourly, v float64) (float64, bool) {
	if s.limit == nil || s.limit.O2Ref == nil {
		return v, true
	}
	if o2, ok := a.o2[h.Hour]; ok && o2.Valid {
		return Convert(v, o2.Value, *s.limit.O2Ref)
	}
	if h.Converted != nil && v == h.Value {
		return *h.Converted, true
	}
	return 0, false
}

// running reports whether the source ran in the hour, as far as the data tell: the
// facilities' running state its logger reported in the hour (CN 2021), else a valid flow above
// zero, or (no flow measured) a valid value not flagged stopped.
func (a *analysis) running(h time.Time) bool {
	if sh, ok := a.states[h]; ok {
		return sh.running
	}
	if len(a.flow) > 0 {
		f, ok := a.flow[h]
		return ok && f.Valid && f.Value > 0
	}
	for _, s := range a.all {
		for _, x := range s.hours {
			if x.Hour.Equal(h) && x.Valid {
				return true
			}
		}
	}
	return false
}

// g writes n as %g does.
func g(n float64) string { return strconv.FormatFloat(n, 'g', -1, 64) }

func (a *analysis) add(rule, standard, severity string, s *series, start, end time.Time, limit float64, summary msgs.Message, hours []Hourly) *Event {
	e := Event{ID: EventID(rule, a.in.Point.MN, s.pollutant.ID, start), Rule: rule, Standard: standard, Severity: severity,
		MN: a.in.Point.MN, Outlet: a.in.Point.Outlet, Pollutant: s.pollutant.ID, Unit: s.pollutant.Unit, Limit: limit,
		Start: start, End: end, Summary: summary.Text(msgs.EN), SummaryMessage: summary}
	if s.limit != nil {
		e.O2Ref = s.limit.O2Ref
	}
	frames := map[string]bool{}
	for _, h := range hours {
		v := EventValue{Time: h.Hour, Value: h.Value, Valid: h.Valid, Flags: h.Flags}
		if c, ok := a.converted(s, h, h.Value); ok && s.limit != nil && s.limit.O2Ref != nil {
			v.Converted = &c
		}
		e.Values = append(e.Values, v)
		for _, f := range h.Frames {
			frames[f] = true
		}
	}
	for f := range frames {
		e.Frames = append(e.Frames, f)
	}
	sort.Strings(e.Frames)
	a.events = append(a.events, e)
	return &a.events[len(a.events)-1]
}

// mergeFrames adds more to the sorted frames, without doubles.
func mergeFrames(frames, more []string) []string {
	if len(more) == 0 {
		return frames
	}
	out := append(append([]string(nil), frames...), more...)
	sort.Strings(out)
	return slices.Compact(out)
}

// runs calls fn with each maximal run of consecutive hours (no hour missing) for which keep
// holds.
func runs(hours []Hourly, keep func(Hourly) bool, fn func(run []Hourly)) {
	start := -1
	for i := 0; i <= len(hours); i++ {
		ok := i < len(hours) && keep(hours[i]) && (start < 0 || hours[i].Hour.Sub(hours[i-1].Hour) == time.Hour)
		if ok {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			fn(hours[start:i])
			start = -1
		}
		if i < len(hours) && keep(hours[i]) {
			start = i
		}
	}
}

// exceedance: HJ 75-2017 (flue gas) and HJ 355-2019/HJ 356-2019 (water) judge compliance on
// valid hourly and daily values; the permit limits (GB 13223-2011 and the like) apply to
// concentrations converted to the reference oxygen. Each run of consecutive valid hours above
// the hourly limit is one event; each valid day above the daily limit is one.
func (a *analysis) exceedance(s *series) {
	if s.limit == nil {
		return
	}
	const std = "HJ 75-2017 / HJ 355-2019, HJ 356-2019: valid hourly and daily values; permit limit on the converted value (C = C' × (21 − O2ref)/(21 − O2))"
	if lim := s.limit.Hourly; lim != nil {
		runs(s.hours, func(h Hourly) bool {
			c, ok := a.converted(s, h, h.Value)
			return h.Valid && ok && c > *lim
		}, func(run []Hourly) {
			peak := 0.0
			for _, h := range run {
				c, _ := a.converted(s, h, h.Value)
				peak = math.Max(peak, c)
			}
			a.add(RuleExceedanceHourly, std, "high", s, run[0].Hour, run[len(run)-1].Hour.Add(time.Hour), *lim,
				msgs.New(msgs.MonExceedanceHourly, "pollutant", s.pollutant.ID, "limit", g(*lim), "unit", s.pollutant.Unit, "hours", strconv.Itoa(len(run)), "peak", fmt.Sprintf("%.3g", peak)), run)
		})
	}
	if lim := s.limit.Daily; lim != nil {
		days := a.p.Validity.Days(s.hours, a.medium, func(h Hourly) (float64, bool) { return a.converted(s, h, h.Value) })
		valid := map[time.Time]bool{}
		for _, d := range days {
			valid[d.Day] = d.Valid
			if d.Valid && d.Value > *lim && a.dayDone(d.Day) {
				a.add(RuleExceedanceDaily, std, "high", s, d.Day, d.Day.AddDate(0, 0, 1), *lim,
					msgs.New(msgs.MonExceedanceDaily, "pollutant", s.pollutant.ID, "value", fmt.Sprintf("%.3g", d.Value), "limit", g(*lim), "unit", s.pollutant.Unit, "hours", strconv.Itoa(d.Hours)),
					hoursIn(s.hours, d.Day, d.Day.AddDate(0, 0, 1)))
			}
		}
		// A day without a valid daily value of its own hours (a logger, or a platform's CSV
		// export, that sent day values only) is judged on the day value sent (CN 2031), when
		// it is valid by its flag: the converted value the logger sent, or the measured one
		// converted with the day's O2 sent.
		for _, d := range s.samples {
			if d.CN != CNDay || !d.valid() || valid[dayOf(d.Time)] || !a.dayDone(dayOf(d.Time)) {
				continue
			}
			v, ok := a.dayConverted(s, d)
			if !ok || v <= *lim {
				continue
			}
			day := dayOf(d.Time)
			e := a.add(RuleExceedanceDaily, std, "high", s, day, day.AddDate(0, 0, 1), *lim,
				msgs.New(msgs.MonExceedanceDaySent, "pollutant", s.pollutant.ID, "value", fmt.Sprintf("%.3g", v), "limit", g(*lim), "unit", s.pollutant.Unit),
				[]Hourly{{Hour: day, Value: d.Value, Valid: true, Frames: []string{d.Frame}}})
			ev := EventValue{Time: day, Value: d.Value, Valid: true}
			if s.limit.O2Ref != nil {
				ev.Converted = &v
			}
			e.Values = []EventValue{ev}
		}
	}
}

// dayConverted is a day value sent (CN 2031) on the limit's basis: as measured without a
// reference oxygen; with one, the converted value the logger sent, else the measured value
// converted with the day's O2 value sent (valid by its flag).
func (a *analysis) dayConverted(s *series, d Sample) (float64, bool) {
	if s.limit == nil || s.limit.O2Ref == nil {
		return d.Value, true
	}
	if d.Converted != nil {
		return *d.Converted, true
	}
	if o2 := a.all[O2]; o2 != nil {
		for _, x := range o2.samples {
			if x.CN == CNDay && x.Time.Equal(d.Time) && x.valid() {
				return Convert(d.Value, x.Value, *s.limit.O2Ref)
			}
		}
	}
	return 0, false
}

func hoursIn(hours []Hourly, from, to time.Time) []Hourly {
	var out []Hourly
	for _, h := range hours {
		if !h.Hour.Before(from) && h.Hour.Before(to) {
			out = append(out, h)
		}
	}
	return out
}

// load: the permit's daily load limit (排污许可证 许可排放量) on the sum over the day's valid
// hours of measured (not converted) concentration × flow, as HJ 75-2017 (排放量计算) and
// HJ 356-2019 compute loads: gas mg/m3 × m3/h → kg/1e6, water mg/L × m3/h → kg/1e3.
func (a *analysis) load(s *series) {
	if s.limit == nil || s.limit.LoadKgDay == nil || len(a.flow) == 0 {
		return
	}
	scale := 1e-6
	if a.medium == Water {
		scale = 1e-3
	}
	sums := map[time.Time]float64{}
	var order []time.Time
	for _, h := range s.hours {
		f, ok := a.flow[h.Hour]
		if !h.Valid || !ok || !f.Valid {
			continue
		}
		d := dayOf(h.Hour)
		if _, seen := sums[d]; !seen {
			order = append(order, d)
		}
		sums[d] += h.Value * f.Value * scale
	}
	for _, d := range order {
		if sums[d] > *s.limit.LoadKgDay && a.dayDone(d) {
			a.add(RuleLoadDaily, "permit daily load limit; load = Σ concentration × flow over valid hours (HJ 75-2017, HJ 356-2019)", "high", s,
				d, d.AddDate(0, 0, 1), *s.limit.LoadKgDay,
				msgs.New(msgs.MonLoadDaily, "pollutant", s.pollutant.ID, "load", fmt.Sprintf("%.3g", sums[d]), "limit", g(*s.limit.LoadKgDay)),
				hoursIn(s.hours, d, d.AddDate(0, 0, 1)))
		}
	}
}

// flat: a valid value repeated exactly over FlatHours hours (or FlatMinutes minute values) is
// not a measurement: analysers have noise (HJ 75-2017 and HJ 356-2019 treat a constant output
// as an instrument fault to be checked). Constant values are the commonest sign of a logger
// sending set values instead of readings.
func (a *analysis) flat(s *series) {
	const std = "HJ 75-2017 / HJ 356-2019 data review: a constant output is an instrument or data fault"
	var hourRun []Hourly
	flush := func() {
		if len(hourRun) >= a.p.FlatHours {
			a.add(RuleFlatLine, std, "medium", s, hourRun[0].Hour, hourRun[len(hourRun)-1].Hour.Add(time.Hour), 0,
				msgs.New(msgs.MonFlatHours, "pollutant", s.pollutant.ID, "value", g(hourRun[0].Value), "hours", strconv.Itoa(len(hourRun))), hourRun)
		}
		hourRun = nil
	}
	for _, h := range s.hours {
		if !h.Valid {
			flush()
			continue
		}
		if len(hourRun) > 0 && (h.Value != hourRun[0].Value || h.Hour.Sub(hourRun[len(hourRun)-1].Hour) != time.Hour) {
			flush()
		}
		hourRun = append(hourRun, h)
	}
	flush()
	// Minute values: a run inside hours not already reported.
	reported := func(t time.Time) bool {
		for _, e := range a.events {
			if e.Rule == RuleFlatLine && e.Pollutant == s.pollutant.ID && !t.Before(e.Start) && t.Before(e.End) {
				return true
			}
		}
		return false
	}
	var run []Sample
	flushMin := func() {
		if len(run) >= a.p.FlatMinutes && !reported(run[0].Time) {
			start := run[0].Time
			end := run[len(run)-1].Time.Add(time.Minute)
			a.add(RuleFlatLine, std, "medium", s, start, end, 0,
				msgs.New(msgs.MonFlatMinutes, "pollutant", s.pollutant.ID, "value", g(run[0].Value), "count", strconv.Itoa(len(run))), hoursIn(s.hours, start.Truncate(time.Hour), end))
		}
		run = nil
	}
	for _, x := range s.samples {
		if x.CN != CNMinute {
			continue
		}
		if !x.valid() || len(run) > 0 && (x.Value != run[0].Value || x.Time.Sub(run[len(run)-1].Time) > 2*time.Minute) {
			flushMin()
		}
		if x.valid() {
			run = append(run, x)
		}
	}
	flushMin()
}

// zeroDrift: with the source stopped (flow zero, or values flagged F) a gas analyser measures
// clean air and should read near zero; a mean reading above ZeroDriftShare of the hourly
// limit over 3 or more stopped hours is a zero drift (HJ 75-2017 7.?: zero drift within
// ±2.5 % F.S. over 24 h).
func (a *analysis) zeroDrift(s *series) {
	if s.limit == nil || s.limit.Hourly == nil || a.medium != Gas {
		return
	}
	var stopped []Hourly
	sum := 0.0
	for _, h := range s.hours {
		f, ok := a.flow[h.Hour]
		flaggedStop := false
		for _, fl := range h.Flags {
			flaggedStop = flaggedStop || fl == FlagStopped
		}
		v := h.Value
		if flaggedStop && !math.IsNaN(h.FlaggedValue) {
			v = h.FlaggedValue
		}
		if flaggedStop || ok && f.Valid && f.Value == 0 {
			stopped = append(stopped, h)
			sum += v
		}
	}
	if len(stopped) < 3 {
		return
	}
	mean := sum / float64(len(stopped))
	if mean > a.p.ZeroDriftShare**s.limit.Hourly {
		a.add(RuleZeroDrift, "HJ 75-2017: zero drift within ±2.5 % of full scale; the stopped source's reading should be zero", "medium", s,
			stopped[0].Hour, stopped[len(stopped)-1].Hour.Add(time.Hour), *s.limit.Hourly,
			msgs.New(msgs.MonZeroDrift, "pollutant", s.pollutant.ID, "mean", fmt.Sprintf("%.3g", mean), "hours", strconv.Itoa(len(stopped)), "percent", fmt.Sprintf("%.0f", 100*mean/(*s.limit.Hourly))), stopped)
	}
}

// spanDrift: successive calibrations (samples flagged C) read the same span gas; readings of
// consecutive calibrations that differ by more than SpanDriftShare show a span drift (HJ
// 75-2017: span drift within ±2.5 % F.S.; HJ 355-2019 checks water analysers against standard
// solutions in the same way).
func (a *analysis) spanDrift(s *series) {
	type cal struct {
		start, end time.Time
		median     float64
	}
	var cals []cal
	var cur []Sample
	flush := func() {
		if len(cur) > 0 {
			vs := make([]float64, len(cur))
			for i, x := range cur {
				vs[i] = x.Value
			}
			sort.Float64s(vs)
			cals = append(cals, cal{cur[0].Time, cur[len(cur)-1].Time, vs[len(vs)/2]})
		}
		cur = nil
	}
	for _, x := range s.samples {
		// A calibration is a run of C values with no hour between them.
		if len(cur) > 0 && x.Time.Sub(cur[len(cur)-1].Time) > time.Hour {
			flush()
		}
		if x.Flag != FlagCalibration || x.CN == CNHour || x.CN == CNDay {
			continue
		}
		cur = append(cur, x)
	}
	flush()
	for i := 1; i < len(cals); i++ {
		prev, c := cals[i-1], cals[i]
		if prev.median <= 0 {
			continue
		}
		d := math.Abs(c.median-prev.median) / prev.median
		if d > a.p.SpanDriftShare {
			a.add(RuleSpanDrift, "HJ 75-2017 / HJ 355-2019: span drift within ±2.5 % of full scale between calibrations", "medium", s,
				prev.start, c.end.Add(time.Minute), 0,
				msgs.New(msgs.MonSpanDrift, "pollutant", s.pollutant.ID, "from", fmt.Sprintf("%.4g", prev.median), "to", fmt.Sprintf("%.4g", c.median), "percent", fmt.Sprintf("%.1f", 100*d)),
				hoursIn(s.hours, prev.start.Truncate(time.Hour), c.end.Add(time.Hour)))
		}
	}
}

// hugging: a source whose valid values sit just under the limit day long (HugShare of at
// least HugMinHours hours in [HugLow × limit, limit], none above) is rarely measured honestly:
// real emissions vary, and a logger or analyser set to "clip" values below the limit shows as
// this pattern (MEE 2019 guidance on identifying falsified automatic monitoring data, 自动监测
// 数据弄虚作假 patterns).
func (a *analysis) hugging(s *series) {
	if s.limit == nil || s.limit.Hourly == nil {
		return
	}
	lim := *s.limit.Hourly
	byDay := map[time.Time][]Hourly{}
	var order []time.Time
	for _, h := range s.hours {
		if !h.Valid {
			continue
		}
		d := dayOf(h.Hour)
		if _, ok := byDay[d]; !ok {
			order = append(order, d)
		}
		byDay[d] = append(byDay[d], h)
	}
	for _, d := range order {
		hs := byDay[d]
		if len(hs) < a.p.HugMinHours || !a.dayDone(d) {
			continue
		}
		near, above := 0, 0
		for _, h := range hs {
			c, ok := a.converted(s, h, h.Value)
			switch {
			case !ok:
			case c > lim:
				above++
			case c >= a.p.HugLow*lim:
				near++
			}
		}
		if above == 0 && float64(near) >= a.p.HugShare*float64(len(hs)) {
			a.add(RuleHugging, "HJ 75-2017 valid hourly values; falsification pattern: values held just under the limit", "medium", s,
				d, d.AddDate(0, 0, 1), lim,
				msgs.New(msgs.MonHugging, "pollutant", s.pollutant.ID, "low", fmt.Sprintf("%.0f", 100*a.p.HugLow), "limit", g(lim), "near", strconv.Itoa(near), "hours", strconv.Itoa(len(hs))), hs)
		}
	}
}

// o2High: flue gas oxygen at O2High % or more for O2Hours hours while the source runs: air
// let into the flue dilutes the measured concentration (a combustion source runs at 3–15 %
// O2; HJ 75-2017 measures O2 for the conversion, which the emission standards require
// precisely against such dilution).
func (a *analysis) o2High() {
	s := a.all[O2]
	if s == nil {
		return
	}
	runs(s.hours, func(h Hourly) bool { return h.Valid && h.Value >= a.p.O2High && a.running(h.Hour) }, func(run []Hourly) {
		if len(run) < a.p.O2Hours {
			return
		}
		a.add(RuleO2High, "HJ 75-2017 reference-oxygen conversion; GB 13223-2011 5.2: dilution with air is not allowed", "medium", s,
			run[0].Hour, run[len(run)-1].Hour.Add(time.Hour), a.p.O2High,
			msgs.New(msgs.MonO2High, "o2", g(a.p.O2High), "hours", strconv.Itoa(len(run))), run)
	})
}

// dilution: over DilutionHours valid hours the flow rises and the measured concentration falls,
// each by DilutionShare or more, while the load stays nearly the same: the same pollutant mass
// spread in added water or air (HJ 356-2019 / HJ 75-2017 loads; the 2019 MEE falsification
// guidance names dilution).
func (a *analysis) dilution(s *series) {
	if len(a.flow) == 0 {
		return
	}
	n := a.p.DilutionHours
	var valid []Hourly
	for _, h := range s.hours {
		if f, ok := a.flow[h.Hour]; h.Valid && ok && f.Valid && f.Value > 0 {
			valid = append(valid, h)
		}
	}
	last := time.Time{}
	for i := 0; i+n <= len(valid); i++ {
		w := valid[i : i+n]
		if w[n-1].Hour.Sub(w[0].Hour) != time.Duration(n-1)*time.Hour || !w[0].Hour.After(last) {
			continue
		}
		c0, c1 := w[0].Value, w[n-1].Value
		f0, f1 := a.flow[w[0].Hour].Value, a.flow[w[n-1].Hour].Value
		if c0 <= 0 || f0 <= 0 {
			continue
		}
		l0, l1 := c0*f0, c1*f1
		if f1 >= f0*(1+a.p.DilutionShare) && c1 <= c0*(1-a.p.DilutionShare) && math.Abs(l1-l0) <= l0*a.p.DilutionShare/2 {
			a.add(RuleDilution, "HJ 75-2017 / HJ 356-2019 load; falsification pattern: dilution", "medium", s,
				w[0].Hour, w[n-1].Hour.Add(time.Hour), 0,
				msgs.New(msgs.MonDilution, "pollutant", s.pollutant.ID, "fell", fmt.Sprintf("%.0f", 100*(1-c1/c0)), "rose", fmt.Sprintf("%.0f", 100*(f1/f0-1)), "load", fmt.Sprintf("%.0f", 100*math.Abs(l1/l0-1))), w)
			last = w[n-1].Hour
		}
	}
}

// identical: two monitoring points reporting the same values hour after hour (not a constant)
// send one series under two MNs: copied data (MEE falsification guidance: 篡改、伪造数据).
func (a *analysis) identical(s *series) {
	others := make([]string, 0, len(a.in.Others))
	for mn := range a.in.Others {
		if mn != a.in.Point.MN {
			others = append(others, mn)
		}
	}
	sort.Strings(others)
	for _, mn := range others {
		theirs := map[time.Time]Hourly{}
		for _, h := range a.in.Others[mn][s.pollutant.ID] {
			theirs[h.Hour] = h
		}
		if len(theirs) == 0 {
			continue
		}
		runs(s.hours, func(h Hourly) bool {
			t, ok := theirs[h.Hour]
			return h.Valid && ok && t.Valid && t.Value == h.Value
		}, func(run []Hourly) {
			distinct := map[float64]bool{}
			for _, h := range run {
				distinct[h.Value] = true
			}
			if len(run) < a.p.IdenticalHours || len(distinct) < 2 {
				return
			}
			e := a.add(RuleIdentical, "MEE falsification guidance: the same data reported for different monitoring points", "high", s,
				run[0].Hour, run[len(run)-1].Hour.Add(time.Hour), 0,
				msgs.New(msgs.MonIdentical, "pollutant", s.pollutant.ID, "other", mn, "hours", strconv.Itoa(len(run))), run)
			e.Other = mn
			e.ID = EventID(RuleIdentical+"|"+mn, e.MN, e.Pollutant, e.Start)
		})
	}
}

// flagCover: hours excluded for maintenance (M), calibration (C) or fault (D) are not judged
// (HJ 75-2017 12.1); flags that fall where the hourly values around them are at CoverShare of
// the limit or above, or whose excluded values (M, D) exceed the limit themselves, hide a
// would-be exceedance (MEE falsification guidance: flags set to escape judgement).
func (a *analysis) flagCover(s *series) {
	if s.limit == nil || s.limit.Hourly == nil {
		return
	}
	lim := *s.limit.Hourly
	covering := func(h Hourly) bool {
		if h.Valid {
			return false
		}
		for _, f := range h.Flags {
			if f == FlagMaintenance || f == FlagCalibration || f == FlagFault {
				return true
			}
		}
		return false
	}
	idx := map[time.Time]int{}
	for i, h := range s.hours {
		idx[h.Hour] = i
	}
	high := func(t time.Time) bool {
		i, ok := idx[t]
		if !ok || !s.hours[i].Valid {
			return false
		}
		c, ok := a.converted(s, s.hours[i], s.hours[i].Value)
		return ok && c >= a.p.CoverShare*lim
	}
	runs(s.hours, covering, func(run []Hourly) {
		own := false
		for _, h := range run {
			if math.IsNaN(h.FlaggedValue) {
				continue
			}
			onlyCal := len(h.Flags) == 1 && h.Flags[0] == FlagCalibration // span gas reads high by design
			if c, ok := a.converted(s, h, h.FlaggedValue); ok && c > lim && !onlyCal {
				own = true
			}
		}
		before, after := high(run[0].Hour.Add(-time.Hour)), high(run[len(run)-1].Hour.Add(time.Hour))
		if !own && !(before && after) {
			return
		}
		why := msgs.MonFlagCoverExcluded
		if !own {
			why = msgs.MonFlagCoverSides
		}
		a.add(RuleFlagCover, "HJ 75-2017 12.1: M/C/D values excluded; flags covering a would-be exceedance", "high", s,
			run[0].Hour, run[len(run)-1].Hour.Add(time.Hour), lim,
			msgs.New(why, "pollutant", s.pollutant.ID, "flags", fmt.Sprint(run[0].Flags), "hours", strconv.Itoa(len(run))), run)
	})
}

// gaps: hours missing altogether between hours of the source running: HJ 75-2017 (12.3) and
// HJ 356-2019 require the data of a running source to be complete, missing data to be
// explained (and flagged) and filled; an unexplained gap while the plant runs is a data
// failure, and a way of not reporting.
func (a *analysis) gaps() {
	all := a.dataHours()
	show := a.shown()
	if show == nil {
		return
	}
	for i := 1; i < len(all); i++ {
		missing := int(all[i].Sub(all[i-1])/time.Hour) - 1
		if missing < a.p.GapHours {
			continue
		}
		start, end := all[i-1].Add(time.Hour), all[i]
		// The facilities' running state reported during the gap (CN 2021) decides when there
		// is one: the logger was sending, and said the source ran, while no data came; a
		// state of stopped explains the gap. Without one, the hours on both sides decide.
		ran, stopped, frames := 0, 0, []string(nil)
		for h := start; h.Before(end); h = h.Add(time.Hour) {
			if sh, ok := a.states[h]; ok {
				if sh.running {
					ran++
					frames = append(frames, sh.frames...)
				} else {
					stopped++
				}
			}
		}
		summary := msgs.New(msgs.MonGap, "hours", strconv.Itoa(missing))
		switch {
		case ran > 0:
			summary = msgs.New(msgs.MonGapRunning, "hours", strconv.Itoa(missing), "running", strconv.Itoa(ran))
		case stopped > 0 || !a.running(all[i-1]) || !a.running(all[i]):
			continue
		}
		sh := *show
		sh.pollutant = Pollutant{ID: "*", Unit: show.pollutant.Unit}
		e := a.add(RuleGap, "HJ 75-2017 12.3 / HJ 356-2019: data of a running source complete; missing data explained", "medium", &sh,
			start, end, 0, summary, hoursIn(show.hours, start.Add(-3*time.Hour), end.Add(3*time.Hour)))
		e.Frames = mergeFrames(e.Frames, frames)
		e.Pollutant = show.pollutant.ID
	}
}

// dataHours returns the hours with any data of the point (any pollutant, any flag), in order.
func (a *analysis) dataHours() []time.Time {
	seen := map[time.Time]bool{}
	var all []time.Time
	for _, s := range a.all {
		for _, h := range s.hours {
			if !seen[h.Hour] {
				seen[h.Hour] = true
				all = append(all, h.Hour)
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Before(all[j]) })
	return all
}

// shown is the series an event of the whole point shows: the first limited pollutant, else
// any; nil without data.
func (a *analysis) shown() *series {
	var show *series
	for _, id := range PollutantIDs() {
		if s := a.all[id]; s != nil && (show == nil || s.limit != nil && show.limit == nil) {
			show = s
		}
	}
	return show
}

// runTimes applies the daily running time of the point's pollution-control facilities
// (CN 2041; HJ 212-2017 field RT, 污染治理设施一日内的运行时间) to each complete day:
//
//   - gaps: the day's data must cover the hours the facilities ran. HJ 75-2017 (12.3) and
//     HJ 356-2019 require the data of a running source to be complete and missing data to be
//     explained; a day on which the longest-running facility ran N hours but fewer than N
//     hours have any data, by GapHours or more beyond the gaps between data already reported,
//     is a gap while the plant ran (rule gap_while_running): the logger was alive to report
//     the running time, and the hours missing are typically at the ends of the day, where no
//     data follows to show the source ran on.
//   - treatment_not_running: a facility that ran IdleHours or more less than the source
//     discharged (hours with a valid flow above zero, or, where no flow is measured, a valid
//     value of any pollutant, which HJ 212-2017 would flag F with the source stopped).
//     Discharging while a pollution-control facility does not run is evading supervision by
//     "不正常运行大气污染防治设施" (Air Pollution Prevention and Control Law art. 20, penalised
//     under art. 99(3)) or "不正常运行水污染防治设施" (Water Pollution Prevention and Control
//     Law art. 39, penalised under art. 83(3)). The registry does not say which facility treats
//     what, so every facility the logger reports is expected to run while the source
//     discharges: HJ 212-2017 reports pollution-control facilities only (SBn).
//
// Running times outside 0–24 hours are not read.
func (a *analysis) runTimes() {
	show := a.shown()
	if show == nil || len(a.in.RunTimes) == 0 {
		return
	}
	byDay := map[time.Time][]RunTime{}
	var days []time.Time
	for _, rt := range a.in.RunTimes {
		if rt.Hours < 0 || rt.Hours > 24 || math.IsNaN(rt.Hours) {
			continue
		}
		d := dayOf(rt.Day)
		if _, ok := byDay[d]; !ok {
			days = append(days, d)
		}
		byDay[d] = append(byDay[d], rt)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	data := map[time.Time]bool{}
	for _, h := range a.dataHours() {
		data[h] = true
	}
	for _, d := range days {
		if !a.dayDone(d) {
			continue
		}
		end := d.AddDate(0, 0, 1)
		rts := byDay[d]
		sort.SliceStable(rts, func(i, j int) bool { return rts[i].Facility < rts[j].Facility })
		longest := rts[0]
		for _, rt := range rts[1:] {
			if rt.Hours > longest.Hours {
				longest = rt
			}
		}
		// Hours of the day with data, and hours without data inside gap events already found.
		covered, explained := 0, 0
		for h := d; h.Before(end); h = h.Add(time.Hour) {
			if data[h] {
				covered++
				continue
			}
			for _, e := range a.events {
				if e.Rule == RuleGap && !h.Before(e.Start) && h.Before(e.End) {
					explained++
					break
				}
			}
		}
		if missing := int(math.Floor(longest.Hours)) - covered - explained; missing >= a.p.GapHours {
			sh := *show
			sh.pollutant = Pollutant{ID: "*", Unit: show.pollutant.Unit}
			e := a.add(RuleGap, "HJ 75-2017 12.3 / HJ 356-2019: data of a running source complete; HJ 212-2017 CN 2041 running time of the pollution-control facilities", "medium", &sh,
				d, end, 0, msgs.New(msgs.MonGapRunTime, "facility", longest.Facility, "ran", g(longest.Hours), "covered", strconv.Itoa(covered)), hoursIn(show.hours, d, end))
			e.ID = EventID(RuleGap+"|"+CNRunTime, e.MN, "*", d)
			e.Frames = mergeFrames(e.Frames, []string{longest.Frame})
			e.Pollutant = show.pollutant.ID
		}
		// Hours the source discharged.
		flow := a.all[FlowGas]
		if a.medium == Water {
			flow = a.all[FlowWater]
		}
		var discharged []Hourly
		if flow != nil {
			for _, h := range hoursIn(flow.hours, d, end) {
				if h.Valid && h.Value > 0 {
					discharged = append(discharged, h)
				}
			}
		} else {
			for _, h := range hoursIn(show.hours, d, end) {
				if h.Valid {
					discharged = append(discharged, h)
				}
			}
		}
		for _, rt := range rts {
			if float64(len(discharged))-rt.Hours < float64(a.p.IdleHours) {
				continue
			}
			s := show
			if flow != nil {
				s = flow
			}
			e := a.add(RuleTreatmentIdle, "HJ 212-2017 CN 2041 (RT: 污染治理设施一日内的运行时间); 大气污染防治法 art. 20, 99(3) / 水污染防治法 art. 39, 83(3): 不正常运行污染防治设施", "high", s,
				d, end, 0, msgs.New(msgs.MonTreatmentIdle, "facility", rt.Facility, "ran", g(rt.Hours), "hours", strconv.Itoa(len(discharged))), discharged)
			e.ID = EventID(RuleTreatmentIdle+"|"+rt.Facility, e.MN, e.Pollutant, d)
			e.Frames = mergeFrames(e.Frames, []string{rt.Frame})
		}
	}
}
