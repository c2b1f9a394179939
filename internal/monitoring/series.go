package monitoring

import (
	"math"
	"sort"
	"time"
)

// Data kinds of HJ 212 uploads (CN) the analysis reads.
const (
	CNRealtime = "2011"
	CNMinute   = "2051"
	CNHour     = "2061"
	CNDay      = "2031"
	// CNRunState is the running state of the point's facilities (污染治理设施运行状态): one
	// "SBn-RS" field per facility, 1 running, 0 stopped (HJ 212-2017, field code RS); other
	// codes (calibration, maintenance, alarm, back-blowing) say neither.
	CNRunState = "2021"
	// CNRunTime is the daily running time of the point's pollution-control facilities
	// (设备运行时间日历史数据): one "SBn-RT" field per facility, the hours it ran in the day
	// (HJ 212-2017, field code RT: 污染治理设施一日内的运行时间, 0 to 24), DataTime the day.
	CNRunTime = "2041"
)

// RunTime is what a logger reported of one pollution-control facility's running time on one
// day (CN 2041).
type RunTime struct {
	Day      time.Time `json:"day"`      // the DataTime sent: the start of the day, China Standard Time
	Facility string    `json:"facility"` // SB1, SB2, ...
	Hours    float64   `json:"hours"`
	Frame    string    `json:"frame"` // SHA-256 of the raw frame
}

// RunState is what a logger reported of one facility's running at a time (CN 2021).
type RunState struct {
	Time     time.Time `json:"time"`
	Facility string    `json:"facility"` // SB1, SB2, ...
	Running  bool      `json:"running"`
	Frame    string    `json:"frame"` // SHA-256 of the raw frame
}

// RunStateOf reads an RS value as sent: 1 running, 0 stopped; ok false for any other code.
func RunStateOf(rs string) (running, ok bool) {
	switch rs {
	case "1":
		return true, true
	case "0":
		return false, true
	}
	return false, false
}

// Data flags of HJ 212-2017 (6.6.4, table 9 "数据标记"), kept with each value.
const (
	FlagNormal      = "N" // 正常
	FlagStopped     = "F" // 停运: the source is not running
	FlagMaintenance = "M" // 维护
	FlagManual      = "S" // 手工输入 / 设定值
	FlagFault       = "D" // 故障
	FlagCalibration = "C" // 校准
	FlagOverRange   = "T" // 超测定上限
	FlagCommError   = "B" // 通讯异常
)

// CST is China Standard Time, in which HJ 212 DataTime is sent and days are counted.
var CST = time.FixedZone("CST", 8*3600)

// Sample is one value of one pollutant as a logger sent it: the average of a minute or hour
// upload (Avg), or a real-time value (Rtd), in the pollutant's unit.
type Sample struct {
	Time  time.Time `json:"time"`
	CN    string    `json:"cn"`
	Value float64   `json:"value"`
	// Converted is the converted (折算) value the logger sent (ZsAvg, ZsRtd), if any.
	Converted *float64 `json:"converted,omitempty"`
	Flag      string   `json:"flag"`
	Frame     string   `json:"frame"` // SHA-256 of the raw frame
}

// valid reports whether a sample counts towards averages. HJ 75-2017 (12.1, 12.2) and
// HJ 356-2019 (data validity) exclude values measured during calibration (C), maintenance
// (M), faults (D), values set by hand (S), values with the source stopped (F) and values lost
// in transmission (B); a value above the analyser's range (T) is valid (the concentration is
// at least that much). A sample without a flag is taken as N (HJ/T 212-2005 loggers omit it).
func (s Sample) valid() bool {
	return s.Flag == "" || s.Flag == FlagNormal || s.Flag == FlagOverRange
}

// Hourly is one hour's value of a pollutant.
type Hourly struct {
	Hour  time.Time `json:"hour"` // start of the hour
	Value float64   `json:"value"`
	// Valid is whether the hour's value is a valid hourly value (Validity); Flags lists the
	// flags of its samples that made it invalid.
	Valid bool     `json:"valid"`
	Flags []string `json:"flags,omitempty"`
	// FlaggedValue is the mean of the hour's flagged (excluded) samples, what the hour would
	// have shown had they counted; NaN when none.
	FlaggedValue float64  `json:"-"`
	Converted    *float64 `json:"converted,omitempty"`
	Frames       []string `json:"-"`
	// N counts the samples of the hour that were valid.
	N int `json:"n"`
}

// Validity holds the rules that decide which hourly and daily values are valid.
type Validity struct {
	// MinMinutes is the number of valid minute values an hourly value needs: HJ 75-2017
	// (11.2.? "有效小时均值": at least 45 minutes of valid data in the hour). For water, an
	// analyser's measuring cycle gives at most a few values an hour; MinWater of them suffice
	// (HJ 356-2019: the hour's valid measurement).
	MinMinutes int
	MinWater   int
	// MinHoursGas is the number of valid hourly values a daily value of flue gas needs:
	// HJ 75-2017 ("有效日均值": at least 20 valid hourly values a day).
	MinHoursGas int
	// MinHoursWater is the same for water: HJ 356-2019 asks at least 75 % of the day's values
	// to be valid; 18 of 24 hourly values.
	MinHoursWater int
}

// DefaultValidity follows the standards as described on Validity.
var DefaultValidity = Validity{MinMinutes: 45, MinWater: 1, MinHoursGas: 20, MinHoursWater: 18}

// Hours builds the hourly values of one pollutant from its samples: an hour upload (CN 2061)
// when the logger sent one, else the mean of the hour's valid minute (2051) or real-time
// (2011) values, valid when there are enough of them (Validity). An hour upload is valid
// when its flag is. Hours without any sample are absent.
func (v Validity) Hours(samples []Sample, medium Medium) []Hourly {
	type acc struct {
		hourUpload  *Sample
		sum, fsum   float64
		n, fn       int
		flags       map[string]bool
		frames      map[string]bool
		cnv         float64
		ncnv        int
		sawMinute   bool
		sawRealtime bool // only real-time values: their share decides the hour
	}
	by := map[time.Time]*acc{}
	for i := range samples {
		s := &samples[i]
		if s.CN != CNHour && s.CN != CNMinute && s.CN != CNRealtime {
			continue // day values are not hours
		}
		h := s.Time.Truncate(time.Hour)
		a := by[h]
		if a == nil {
			a = &acc{flags: map[string]bool{}, frames: map[string]bool{}}
			by[h] = a
		}
		switch s.CN {
		case CNHour:
			a.hourUpload = s
			continue
		case CNMinute:
			a.sawMinute = true
		case CNRealtime:
			a.sawRealtime = true
		}
	}
	// Minute values are preferred to real-time ones when both came.
	for i := range samples {
		s := &samples[i]
		a := by[s.Time.Truncate(time.Hour)]
		if s.CN != CNMinute && s.CN != CNRealtime || s.CN == CNRealtime && a.sawMinute {
			continue
		}
		a.frames[s.Frame] = true
		if s.valid() {
			a.sum += s.Value
			a.n++
			if s.Converted != nil {
				a.cnv += *s.Converted
				a.ncnv++
			}
		} else {
			a.fsum += s.Value
			a.fn++
			a.flags[s.Flag] = true
		}
	}
	need := v.MinMinutes
	if medium == Water {
		need = v.MinWater
	}
	out := make([]Hourly, 0, len(by))
	for h, a := range by {
		hv := Hourly{Hour: h, FlaggedValue: math.NaN()}
		if s := a.hourUpload; s != nil {
			hv.Value, hv.Valid, hv.Frames, hv.Converted = s.Value, s.valid(), []string{s.Frame}, s.Converted
			if hv.Valid {
				hv.N = 1
			} else {
				hv.Flags, hv.FlaggedValue = []string{s.Flag}, s.Value
			}
			out = append(out, hv)
			continue
		}
		if a.n > 0 {
			hv.Value = a.sum / float64(a.n)
		}
		if a.fn > 0 {
			hv.FlaggedValue = a.fsum / float64(a.fn)
		}
		if a.ncnv == a.n && a.n > 0 {
			c := a.cnv / float64(a.ncnv)
			hv.Converted = &c
		}
		hv.N = a.n
		// Real-time values come every few seconds to minutes: the hour needs valid values over
		// at least MinMinutes of it, counted as the share of its values.
		if a.sawMinute || medium == Water {
			hv.Valid = a.n >= need
		} else {
			hv.Valid = a.n > 0 && float64(a.n)/float64(a.n+a.fn) >= float64(v.MinMinutes)/60 && a.n >= 3
		}
		for f := range a.flags {
			hv.Flags = append(hv.Flags, f)
		}
		sort.Strings(hv.Flags)
		for f := range a.frames {
			hv.Frames = append(hv.Frames, f)
		}
		sort.Strings(hv.Frames)
		if len(hv.Flags) == 0 && !hv.Valid {
			hv.Flags = []string{"insufficient"}
		}
		out = append(out, hv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hour.Before(out[j].Hour) })
	return out
}

// Convert converts a flue gas concentration measured at oxygen o2 (%) to the reference oxygen
// o2ref, as HJ 75-2017 (formula in 6.? "折算浓度") and the emission standards (GB 13223-2011
// 5.2, GB 13271-2014 5.?) give it: C = C' × (21 − O2ref) / (21 − O2). ok is false when o2 is
// not below 20.9 %, where the formula has no meaning (the source is not burning).
func Convert(measured, o2, o2ref float64) (float64, bool) {
	if !(o2 >= 0 && o2 < 20.9) {
		return 0, false
	}
	return measured * (21 - o2ref) / (21 - o2), true
}

// Daily is one day's (CST) value of a pollutant: the mean of its valid hourly values.
type Daily struct {
	Day    time.Time `json:"day"` // midnight CST
	Value  float64   `json:"value"`
	Valid  bool      `json:"valid"`
	Hours  int       `json:"hours"` // valid hourly values
	Frames []string  `json:"-"`
}

// Days averages valid hourly values (of whatever value fn picks, e.g. converted) into days;
// a day is valid with MinHoursGas (gas) or MinHoursWater (water) valid hours.
func (v Validity) Days(hours []Hourly, medium Medium, value func(Hourly) (float64, bool)) []Daily {
	need := v.MinHoursGas
	if medium == Water {
		need = v.MinHoursWater
	}
	var out []Daily
	for _, h := range hours {
		day := dayOf(h.Hour)
		if len(out) == 0 || !out[len(out)-1].Day.Equal(day) {
			out = append(out, Daily{Day: day})
		}
		d := &out[len(out)-1]
		x, ok := value(h)
		if !h.Valid || !ok {
			continue
		}
		d.Value += x
		d.Hours++
		d.Frames = append(d.Frames, h.Frames...)
	}
	for i := range out {
		if out[i].Hours > 0 {
			out[i].Value /= float64(out[i].Hours)
		}
		out[i].Valid = out[i].Hours >= need
	}
	return out
}

func dayOf(t time.Time) time.Time {
	t = t.In(CST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, CST)
}
