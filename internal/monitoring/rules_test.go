package monitoring

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/msgs"
)

var t0 = time.Date(2026, 11, 2, 0, 0, 0, 0, CST)

func f(v float64) *float64 { return &v }

// hourly makes hour uploads (CN 2061) of values from t0, one an hour; NaN leaves the hour out.
func hourly(values []float64, flags ...string) []Sample {
	var out []Sample
	for i, v := range values {
		if math.IsNaN(v) {
			continue
		}
		fl := FlagNormal
		if i < len(flags) && flags[i] != "" {
			fl = flags[i]
		}
		out = append(out, Sample{Time: t0.Add(time.Duration(i) * time.Hour), CN: CNHour, Value: v, Flag: fl, Frame: fmt.Sprintf("%064x", i+1)})
	}
	return out
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// noisy is a series around v that never repeats a value.
func noisy(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v + 0.37*math.Sin(float64(i)*1.3) + 0.001*float64(i)
	}
	return out
}

func rulesOf(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Rule+":"+e.Pollutant)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestAnalyze(t *testing.T) {
	gas := Point{MN: "MNGAS1", Outlet: "DA001"}
	water := Point{MN: "MNW1", Outlet: "DW001"}
	so2 := Limit{Outlet: "DA001", Pollutant: "so2", Hourly: f(100), Daily: f(80), O2Ref: f(6)}
	cod := Limit{Outlet: "DW001", Pollutant: "cod", Hourly: f(50), LoadKgDay: f(20)}
	flow := noisy(50000, 24)
	o2at6 := noisy(6, 24) // about the reference: converted about measured
	for i := range o2at6 {
		o2at6[i] = 6 + 0.01*math.Sin(float64(i))
	}
	withSpike := func(base []float64, at []int, v float64) []float64 {
		out := slices.Clone(base)
		for _, i := range at {
			out[i] = v
		}
		return out
	}
	cases := []struct {
		name  string
		point Point
		lim   []Limit
		data  map[string][]Sample
		other map[string]map[string][]Hourly
		want  []string
	}{
		{"clean gas series", gas, []Limit{so2}, map[string][]Sample{
			"so2": hourly(noisy(40, 24)), O2: hourly(o2at6), FlowGas: hourly(flow)}, nil, nil},
		{"hourly exceedance on the converted value", gas, []Limit{so2}, map[string][]Sample{
			// 90 measured at 11 % O2 is 90 × 15/10 = 135 at 6 %: above 100.
			"so2": hourly(withSpike(noisy(40, 24), []int{5, 6}, 90)), O2: hourly(withSpike(o2at6, []int{5, 6}, 11)), FlowGas: hourly(flow)},
			nil, []string{"exceedance_hourly:so2"}},
		{"high measured value at low oxygen is no exceedance", gas, []Limit{so2}, map[string][]Sample{
			// 110 measured at 3 % O2 is 110 × 15/18 = 91.7.
			"so2": hourly(withSpike(noisy(40, 24), []int{5}, 110)), O2: hourly(withSpike(o2at6, []int{5}, 3)), FlowGas: hourly(flow)},
			nil, nil},
		{"exceedance flagged M is excluded but covers", gas, []Limit{so2}, map[string][]Sample{
			"so2": hourly(withSpike(noisy(40, 24), []int{5, 6}, 150), "", "", "", "", "", "M", "M"), O2: hourly(o2at6), FlowGas: hourly(flow)},
			nil, []string{"flags_cover_exceedance:so2"}},
		{"daily exceedance", gas, []Limit{so2}, map[string][]Sample{
			"so2": hourly(noisy(85, 24)), O2: hourly(o2at6), FlowGas: hourly(flow)},
			nil, []string{"exceedance_daily:so2"}},
		{"daily value needs 20 valid hours", gas, []Limit{so2}, map[string][]Sample{
			"so2": hourly(noisy(85, 19)), O2: hourly(o2at6), FlowGas: hourly(flow)},
			nil, nil},
		{"flat line", gas, []Limit{so2}, map[string][]Sample{
			"so2": hourly(append(noisy(40, 10), repeat(33, 8)...)), O2: hourly(o2at6), FlowGas: hourly(flow)},
			nil, []string{"flat_line:so2"}},
		{"hugging the limit", gas, []Limit{so2}, map[string][]Sample{
			"so2": hourly(noisy(96, 16)), O2: hourly(o2at6[:16]), FlowGas: hourly(flow[:16])},
			nil, []string{"exceedance_daily:so2", "hugging_limit:so2"}[1:]},
		{"oxygen implausibly high while running", gas, []Limit{so2}, map[string][]Sample{
			// 5 measured at 19.6 % is 5 × 15/1.4 = 54 converted: the conversion undoes the dilution.
			"so2": hourly(noisy(5, 24)), O2: hourly(withSpike(o2at6, []int{8, 9, 10, 11}, 19.6)), FlowGas: hourly(flow)},
			nil, []string{"oxygen_high:o2"}},
		{"gap while running", gas, []Limit{so2}, map[string][]Sample{
			"so2": hourly(withSpike(noisy(40, 24), []int{10, 11, 12}, math.NaN())), O2: hourly(withSpike(o2at6, []int{10, 11, 12}, math.NaN())),
			FlowGas: hourly(withSpike(flow, []int{10, 11, 12}, math.NaN()))},
			nil, []string{"gap_while_running:so2"}},
		{"a gap while stopped is none", gas, []Limit{so2}, map[string][]Sample{
			"so2":   hourly(withSpike(noisy(40, 24), []int{10, 11, 12}, math.NaN())),
			FlowGas: hourly(withSpike(withSpike(flow, []int{10, 11, 12}, math.NaN()), []int{9, 13}, 0))},
			nil, nil},
		{"zero drift with the source stopped", gas, []Limit{so2}, map[string][]Sample{
			"so2": hourly(withSpike(noisy(40, 24), []int{20, 21, 22, 23}, 25)), O2: hourly(o2at6),
			FlowGas: hourly(withSpike(flow, []int{20, 21, 22, 23}, 0))},
			nil, []string{"zero_drift:so2"}},
		{"identical series on another MN", gas, []Limit{so2}, map[string][]Sample{
			"so2": hourly(noisy(40, 24)), O2: hourly(o2at6), FlowGas: hourly(flow)},
			map[string]map[string][]Hourly{"MNGAS2": {"so2": DefaultValidity.Hours(hourly(noisy(40, 24)), Gas)}},
			[]string{"identical_series:so2"}},
		{"water: dilution", water, []Limit{{Outlet: "DW001", Pollutant: "cod", Hourly: f(50)}}, map[string][]Sample{
			"cod":     hourly([]float64{40, 38, 33, 29, 25, 21, 20.5, 20.2}),
			FlowWater: hourly([]float64{100, 105, 120, 138, 160, 190, 195, 198})},
			nil, []string{"dilution:cod"}},
		{"water: daily load above the permit", water, []Limit{cod}, map[string][]Sample{
			"cod": hourly(noisy(45, 24)), FlowWater: hourly(noisy(30, 24))},
			nil, []string{"load_exceedance_daily:cod"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs := Analyze(Input{Point: tc.point, Limits: tc.lim, Samples: tc.data, Others: tc.other}, Params{})
			if diff := cmp.Diff(tc.want, rulesOf(evs)); diff != "" {
				for _, e := range evs {
					t.Log(e.Rule, e.Summary)
				}
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			for _, e := range evs {
				if len(e.Frames) == 0 || e.ID == "" || !e.End.After(e.Start) {
					t.Errorf("%s: event without frames, id or period: %+v", e.Rule, e)
				}
				checkSummaryMessage(t, e)
			}
		})
	}
}

func TestDailyRulesWaitForTheDay(t *testing.T) {
	lim := Limit{Outlet: "DA001", Pollutant: "so2", Daily: f(80)}
	data := map[string][]Sample{"so2": hourly(noisy(85, 22))}
	in := Input{Point: Point{MN: "X1", Outlet: "DA001"}, Limits: []Limit{lim}, Samples: data}
	in.Complete = t0.Add(22 * time.Hour)
	if evs := Analyze(in, Params{}); len(evs) != 0 {
		t.Errorf("a day not over yet was judged: %v", rulesOf(evs))
	}
	in.Complete = t0.Add(24 * time.Hour)
	if got := rulesOf(Analyze(in, Params{})); !slices.Equal(got, []string{"exceedance_daily:so2"}) {
		t.Errorf("the day over: %v", got)
	}
}

func TestOngoingEvents(t *testing.T) {
	lim := []Limit{{Outlet: "DA001", Pollutant: "so2", Hourly: f(100)}}
	so2 := noisy(40, 12)
	so2[9], so2[10], so2[11] = 150, 160, 155
	in := Input{Point: Point{MN: "X1", Outlet: "DA001"}, Limits: lim}
	// At 10:00 only hour 09 is in: the exceedance is going on.
	in.Samples, in.Complete = map[string][]Sample{"so2": hourly(so2[:10])}, t0.Add(10*time.Hour)
	early := Analyze(in, Params{})
	// At 12:00, with hour 11 back under the limit, it is over: 09:00–11:00.
	so2[11] = 41
	in.Samples, in.Complete = map[string][]Sample{"so2": hourly(so2)}, t0.Add(12*time.Hour)
	done := Analyze(in, Params{})
	if len(early) != 1 || !early[0].Ongoing || len(done) != 1 || done[0].Ongoing {
		t.Fatalf("early %v, done %v", early, done)
	}
	if early[0].ID == done[0].ID || !done[0].End.Equal(t0.Add(11*time.Hour)) {
		t.Errorf("the ended event has the ongoing one's id or the wrong end: %v–%v", done[0].Start, done[0].End)
	}
	// Analysed again later, the ended event keeps its id.
	in.Complete = t0.Add(30 * time.Hour)
	if again := Analyze(in, Params{}); len(again) != 1 || again[0].ID != done[0].ID {
		t.Errorf("re-analysis changed the id: %v", again)
	}
}

func TestEventIDStable(t *testing.T) {
	data := map[string][]Sample{"so2": hourly(append(noisy(40, 10), repeat(33, 8)...))}
	a := Analyze(Input{Point: Point{MN: "X1", Outlet: "DA001"}, Samples: data}, Params{})
	// The same event analysed later, with more data after it, keeps its id.
	data["so2"] = hourly(append(append(noisy(40, 10), repeat(33, 9)...), noisy(40, 5)...))
	b := Analyze(Input{Point: Point{MN: "X1", Outlet: "DA001"}, Samples: data}, Params{})
	if len(a) != 1 || len(b) != 1 || a[0].ID != b[0].ID {
		t.Fatalf("ids differ or events missing: %v / %v", a, b)
	}
}

func TestHoursValidity(t *testing.T) {
	minutes := func(n int, flag string) []Sample {
		var out []Sample
		for i := 0; i < 60; i++ {
			fl := FlagNormal
			if i >= n {
				fl = flag
			}
			out = append(out, Sample{Time: t0.Add(time.Duration(i) * time.Minute), CN: CNMinute, Value: 10, Flag: fl, Frame: "f"})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		n     int
		flag  string
		valid bool
	}{
		{"60 valid minutes", 60, "C", true},
		{"45 valid minutes (HJ 75-2017)", 45, "C", true},
		{"44 valid minutes", 44, "M", false},
		{"over range counts as valid", 44, "T", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := DefaultValidity.Hours(minutes(tc.n, tc.flag), Gas)
			if len(h) != 1 || h[0].Valid != tc.valid {
				t.Fatalf("got %+v, want valid %v", h, tc.valid)
			}
		})
	}
}

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		c, o2, ref, want float64
		ok               bool
	}{
		{100, 6, 6, 100, true}, {100, 11, 6, 150, true}, {100, 3, 6, 100 * 15.0 / 18, true}, {100, 20.95, 6, 0, false},
	} {
		got, ok := Convert(tc.c, tc.o2, tc.ref)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Convert(%g, %g, %g) = %g, %v; want %g, %v", tc.c, tc.o2, tc.ref, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword("123456")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("123456")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !VerifyPassword(h, "123456") || VerifyPassword(h, "123457") || VerifyPassword("garbage", "123456") {
		t.Error("VerifyPassword is wrong")
	}
}

func TestSelfReportCovers(t *testing.T) {
	e := &Exceedance{MN: "M1", Pollutant: "so2", Start: t0.Add(5 * time.Hour), End: t0.Add(7 * time.Hour), ReportDue: t0.Add(17 * time.Hour)}
	end := t0.Add(6 * time.Hour)
	for _, tc := range []struct {
		name string
		r    SelfReport
		want bool
	}{
		{"in time, same pollutant", SelfReport{MN: "M1", Pollutant: "so2", Start: t0.Add(4 * time.Hour), ReportedAt: t0.Add(8 * time.Hour)}, true},
		{"all pollutants", SelfReport{MN: "M1", Start: t0.Add(5 * time.Hour), End: &end, ReportedAt: t0.Add(8 * time.Hour)}, true},
		{"too late", SelfReport{MN: "M1", Start: t0.Add(5 * time.Hour), ReportedAt: t0.Add(18 * time.Hour)}, false},
		{"other point", SelfReport{MN: "M2", Start: t0.Add(5 * time.Hour), ReportedAt: t0.Add(8 * time.Hour)}, false},
		{"other pollutant", SelfReport{MN: "M1", Pollutant: "nox", Start: t0.Add(5 * time.Hour), ReportedAt: t0.Add(8 * time.Hour)}, false},
		{"period before", SelfReport{MN: "M1", Start: t0, End: ptrT(t0.Add(time.Hour)), ReportedAt: t0.Add(2 * time.Hour)}, false},
	} {
		if got := tc.r.Covers(e); got != tc.want {
			t.Errorf("%s: Covers = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func ptrT(t time.Time) *time.Time { return &t }

// minutes makes minute uploads (CN 2051) from start, one a minute.
func minutes(start time.Time, values []float64, flag string) []Sample {
	var out []Sample
	for i, v := range values {
		out = append(out, Sample{Time: start.Add(time.Duration(i) * time.Minute), CN: CNMinute, Value: v, Flag: flag, Frame: fmt.Sprintf("m%063x", i+1)})
	}
	return out
}

func TestMinuteRules(t *testing.T) {
	pt := Point{MN: "M1", Outlet: "DA001"}
	lim := []Limit{{Outlet: "DA001", Pollutant: "so2", Hourly: f(100)}}
	noisyMin := func(v float64, n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = v + 0.5*math.Sin(float64(i)*0.7) + 0.0001*float64(i)
		}
		return out
	}
	cases := []struct {
		name string
		data []Sample
		want []string
	}{
		{"noisy minutes", minutes(t0, noisyMin(40, 180), "N"), nil},
		{"90 identical minute values", append(minutes(t0, noisyMin(40, 30), "N"), minutes(t0.Add(30*time.Minute), repeat(41.5, 90), "N")...), []string{"flat_line:so2"}},
		// Two daily calibrations with the span gas: the second reads 8 % lower.
		{"span drift between calibrations", append(append(minutes(t0, noisyMin(40, 120), "N"), minutes(t0.Add(2*time.Hour), repeat(80, 5), "C")...),
			minutes(t0.Add(26*time.Hour), repeat(73.6, 5), "C")...), []string{"span_drift:so2"}},
		{"calibrations that agree", append(append(minutes(t0, noisyMin(40, 120), "N"), minutes(t0.Add(2*time.Hour), repeat(80, 5), "C")...),
			minutes(t0.Add(26*time.Hour), repeat(79.2, 5), "C")...), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs := Analyze(Input{Point: pt, Limits: lim, Samples: map[string][]Sample{"so2": tc.data}}, Params{})
			if diff := cmp.Diff(tc.want, rulesOf(evs)); diff != "" {
				for _, e := range evs {
					t.Log(e.Rule, e.Summary)
				}
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			for _, e := range evs {
				checkSummaryMessage(t, e)
			}
		})
	}
}

// checkSummaryMessage: an event's summary is a sentence of the message catalog whose English
// is the summary and whose Chinese the pages show, every argument filled in both.
func checkSummaryMessage(t *testing.T, e Event) {
	t.Helper()
	zh := e.SummaryMessage.Text(msgs.ZH)
	if e.SummaryMessage.Text(msgs.EN) != e.Summary || !regexp.MustCompile(`\p{Han}`).MatchString(zh) || strings.Contains(zh, "{") {
		t.Errorf("%s: summary %q, its message %+v says %q in Chinese", e.Rule, e.Summary, e.SummaryMessage, zh)
	}
}

// BenchmarkAnalyzeDay is the hourly task's analysis of one point: two days of minute uploads
// of five factors (14,400 values), with every rule.
func BenchmarkAnalyzeDay(b *testing.B) {
	data := map[string][]Sample{}
	for i, pol := range []string{"so2", "nox", "dust", O2, FlowGas} {
		vs := make([]float64, 48*60)
		for j := range vs {
			vs[j] = 40 + float64(i) + 3*math.Sin(float64(j)/37) + 0.01*float64(j%7)
		}
		data[pol] = minutes(t0, vs, "N")
	}
	in := Input{Point: Point{MN: "M1", Outlet: "DA001"}, Samples: data,
		Limits: []Limit{{Outlet: "DA001", Pollutant: "so2", Hourly: f(100), Daily: f(80), O2Ref: f(6)}, {Outlet: "DA001", Pollutant: "nox", Hourly: f(100), O2Ref: f(6)}}}
	b.ResetTimer()
	for range b.N {
		Analyze(in, Params{})
	}
}

// TestGapRunStates: the facilities' running state the logger reported during a gap (CN 2021)
// decides whether the gap is one while the source ran, and its frames are the event's too.
func TestGapRunStates(t *testing.T) {
	gas := Point{MN: "MNGAS1", Outlet: "DA001"}
	so2 := Limit{Outlet: "DA001", Pollutant: "so2", Hourly: f(100)}
	gap := func(v []float64) []float64 {
		out := slices.Clone(v)
		for _, i := range []int{10, 11, 12} {
			out[i] = math.NaN()
		}
		return out
	}
	flow := gap(noisy(50000, 24))
	stoppedFlow := slices.Clone(flow)
	stoppedFlow[9], stoppedFlow[13] = 0, 0
	state := func(hour int, running bool) RunState {
		return RunState{Time: t0.Add(time.Duration(hour)*time.Hour + 5*time.Minute), Facility: "SB1", Running: running, Frame: fmt.Sprintf("%064x", 1000+hour)}
	}
	for _, tc := range []struct {
		name   string
		flow   []float64
		states []RunState
		want   []string
		frames []string // run-state frames the event must cite
	}{
		{"flow says stopped around it, the logger says running in it", stoppedFlow,
			[]RunState{state(10, true), state(11, true), state(11, false)}, []string{"gap_while_running:so2"},
			[]string{fmt.Sprintf("%064x", 1010), fmt.Sprintf("%064x", 1011)}},
		{"flow says running around it, the logger says stopped in it", flow,
			[]RunState{state(10, false), state(11, false)}, nil, nil},
		{"no run state: the hours around it decide", flow, nil, []string{"gap_while_running:so2"}, nil},
		{"run states of other hours: the hours around it decide", stoppedFlow, []RunState{state(3, true), state(20, true)}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Point: gas, Limits: []Limit{so2}, RunStates: tc.states, Samples: map[string][]Sample{
				"so2": hourly(gap(noisy(40, 24))), FlowGas: hourly(tc.flow)}}
			evs := Analyze(in, Params{})
			if diff := cmp.Diff(tc.want, rulesOf(evs)); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			for _, e := range evs {
				for _, fr := range tc.frames {
					if !slices.Contains(e.Frames, fr) {
						t.Errorf("%s: frames %v lack the run state's %s", e.Rule, e.Frames, fr)
					}
				}
			}
		})
	}
}

// TestDayUploads: a day without a valid daily value of its own hours is judged on the day
// value the logger (or a platform's CSV export) sent, CN 2031, when its flag makes it valid.
func TestDayUploads(t *testing.T) {
	gas := Point{MN: "MNGAS1", Outlet: "DA001"}
	so2 := Limit{Outlet: "DA001", Pollutant: "so2", Daily: f(80), O2Ref: f(6)}
	day := func(v float64, conv *float64, flag string) Sample {
		return Sample{Time: t0, CN: CNDay, Value: v, Converted: conv, Flag: flag, Frame: fmt.Sprintf("%064x", 4242)}
	}
	o2day := Sample{Time: t0, CN: CNDay, Value: 11, Flag: FlagNormal, Frame: fmt.Sprintf("%064x", 4243)}
	o2at6 := noisy(6, 24)
	for _, tc := range []struct {
		name string
		data map[string][]Sample
		want []string
	}{
		{"converted day value above the limit", map[string][]Sample{"so2": {day(70, f(95), FlagNormal)}}, []string{"exceedance_daily:so2"}},
		{"converted day value below it", map[string][]Sample{"so2": {day(90, f(70), FlagNormal)}}, nil},
		{"measured day value converted with the day's O2", map[string][]Sample{"so2": {day(60, nil, FlagNormal)}, O2: {o2day}}, []string{"exceedance_daily:so2"}},
		{"no converted value, no O2: not judged", map[string][]Sample{"so2": {day(200, nil, FlagNormal)}}, nil},
		{"a day value flagged maintenance is not valid", map[string][]Sample{"so2": {day(70, f(95), FlagMaintenance)}}, nil},
		{"the day's own valid hours prevail", map[string][]Sample{
			"so2": append(hourly(noisy(40, 24)), day(70, f(95), FlagNormal)), O2: hourly(o2at6)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs := Analyze(Input{Point: gas, Limits: []Limit{so2}, Samples: tc.data}, Params{})
			if diff := cmp.Diff(tc.want, rulesOf(evs)); diff != "" {
				for _, e := range evs {
					t.Log(e.Rule, e.Summary)
				}
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			for _, e := range evs {
				if e.Rule == RuleExceedanceDaily && !slices.Contains(e.Frames, fmt.Sprintf("%064x", 4242)) {
					t.Errorf("the event does not cite the day upload: %v", e.Frames)
				}
			}
		})
	}
}

// TestRunTimes: the daily running time of the pollution-control facilities (CN 2041) makes the
// hours of the day without data a gap while the plant ran, and a facility that ran less than
// the source discharged a finding of its own.
func TestRunTimes(t *testing.T) {
	gas := Point{MN: "MNGAS1", Outlet: "DA001"}
	so2 := Limit{Outlet: "DA001", Pollutant: "so2", Hourly: f(100)}
	cut := func(v []float64, at ...int) []float64 {
		out := slices.Clone(v)
		for _, i := range at {
			out[i] = math.NaN()
		}
		return out
	}
	upTo := func(v []float64, n int) []float64 {
		out := slices.Clone(v)
		for i := n; i < len(out); i++ {
			out[i] = math.NaN()
		}
		return out
	}
	rt := func(facility string, hours float64) RunTime {
		return RunTime{Day: t0, Facility: facility, Hours: hours, Frame: fmt.Sprintf("%064x", 2041)}
	}
	flow := noisy(50000, 24)
	stopped := slices.Clone(flow)
	for i := range stopped {
		stopped[i] = 0
	}
	late := t0.Add(20 * time.Hour)
	for _, tc := range []struct {
		name     string
		so2      []float64
		flow     []float64 // nil: no flow measured
		runTimes []RunTime
		complete time.Time
		want     []string // rule:pollutant@hour of start, in order
	}{
		{"data stop at 18:00 while the facility ran 24 h", upTo(noisy(40, 24), 18), upTo(flow, 18), []RunTime{rt("SB1", 24)}, time.Time{},
			[]string{"gap_while_running:so2@0"}},
		{"the facility ran as long as the data cover", upTo(noisy(40, 24), 18), upTo(flow, 18), []RunTime{rt("SB1", 18)}, time.Time{}, nil},
		{"half an hour short is no gap", upTo(noisy(40, 24), 23), upTo(flow, 23), []RunTime{rt("SB1", 23.5)}, time.Time{}, nil},
		{"a gap between data already reported is not reported again", cut(noisy(40, 24), 10, 11, 12), cut(flow, 10, 11, 12), []RunTime{rt("SB1", 24)}, time.Time{},
			[]string{"gap_while_running:so2@10"}},
		{"beyond the gap between data, the end of the day", upTo(cut(noisy(40, 24), 10, 11, 12), 20), upTo(cut(flow, 10, 11, 12), 20), []RunTime{rt("SB1", 24)}, time.Time{},
			[]string{"gap_while_running:so2@0", "gap_while_running:so2@10"}},
		{"a facility idle while the source discharged", noisy(40, 24), flow, []RunTime{rt("SB1", 24), rt("SB2", 0)}, time.Time{},
			[]string{"treatment_not_running:flow_gas@0"}},
		{"a facility that ran 20 of 24 hours", noisy(40, 24), flow, []RunTime{rt("SB1", 20)}, time.Time{},
			[]string{"treatment_not_running:flow_gas@0"}},
		{"a facility stopped with the source", noisy(1, 24), stopped, []RunTime{rt("SB1", 0)}, time.Time{}, nil},
		{"no flow measured: valid values say the source discharged", noisy(40, 24), nil, []RunTime{rt("SB1", 3)}, time.Time{},
			[]string{"treatment_not_running:so2@0"}},
		{"the day not complete yet", upTo(noisy(40, 24), 18), upTo(flow, 18), []RunTime{rt("SB1", 24), rt("SB2", 0)}, late, nil},
		{"a running time beyond 24 h is not read", upTo(noisy(40, 24), 18), upTo(flow, 18), []RunTime{rt("SB1", 30)}, time.Time{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := map[string][]Sample{"so2": hourly(tc.so2)}
			if tc.flow != nil {
				var flags []string
				for _, v := range tc.flow {
					if v == 0 {
						flags = append(flags, FlagStopped) // as a logger flags the flow of a stopped source
					} else {
						flags = append(flags, "")
					}
				}
				data[FlowGas] = hourly(tc.flow, flags...)
			}
			evs := Analyze(Input{Point: gas, Limits: []Limit{so2}, Samples: data, RunTimes: tc.runTimes, Complete: tc.complete}, Params{})
			var got []string
			for _, e := range evs {
				got = append(got, fmt.Sprintf("%s:%s@%d", e.Rule, e.Pollutant, int(e.Start.Sub(t0)/time.Hour)))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				for _, e := range evs {
					t.Log(e.Rule, e.Summary)
				}
				t.Errorf("events (-want +got):\n%s", diff)
			}
			ids := map[string]bool{}
			for _, e := range evs {
				if ids[e.ID] {
					t.Errorf("%s: id %s twice", e.Rule, e.ID)
				}
				ids[e.ID] = true
				checkSummaryMessage(t, e)
				if e.Start.Equal(t0) && e.End.Equal(t0.AddDate(0, 0, 1)) && !slices.Contains(e.Frames, fmt.Sprintf("%064x", 2041)) {
					t.Errorf("%s: frames %v lack the running time's", e.Rule, e.Frames)
				}
			}
		})
	}
}
