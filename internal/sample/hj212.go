package sample

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// HJ 212-2017 frames from simulated data loggers, for the demo and tests: what a logger on a
// stack or an outfall sends, built as the standard lays it out (6.2: "##", a 4-digit length of
// the data segment, the data segment, its CRC16 in 4 hex digits, CR LF).

// HJ212CRC is the frame check of HJ 212-2017 (appendix A): CRC-16 with register 0xFFFF,
// each byte XORed into the register's high byte shifted down, polynomial 0xA001.
func HJ212CRC(data []byte) uint16 {
	reg := uint16(0xFFFF)
	for _, b := range data {
		reg = (reg >> 8) ^ uint16(b)
		for range 8 {
			lsb := reg & 1
			reg >>= 1
			if lsb == 1 {
				reg ^= 0xA001
			}
		}
	}
	return reg
}

// HJ212Frame wraps a data segment into a frame.
func HJ212Frame(segment string) []byte {
	return []byte(fmt.Sprintf("##%04d%s%04X\r\n", len(segment), segment, HJ212CRC([]byte(segment))))
}

// FactorValue is one factor of a data upload: its average and data flag.
type FactorValue struct {
	Code string
	Avg  float64
	Flag string
}

// HJ212Upload is one data upload (CN 2061 hour, 2051 minute, 2031 day data) of a logger.
type HJ212Upload struct {
	MN, PW   string
	ST       string // system code: 31 flue gas, 32 surface water, 21 ... (HJ 212-2017 table 5)
	CN       string
	DataTime time.Time
	Values   []FactorValue
}

// Segment is the upload's data segment, asking for an acknowledgement (Flag=5: protocol
// version 2017 and the answer bit).
func (u *HJ212Upload) Segment() string {
	dt := u.DataTime.In(time.FixedZone("CST", 8*3600))
	var cp []string
	for _, v := range u.Values {
		cp = append(cp, fmt.Sprintf("%s-Avg=%s,%s-Flag=%s", v.Code, strconv.FormatFloat(v.Avg, 'f', 3, 64), v.Code, v.Flag))
	}
	return fmt.Sprintf("QN=%s;ST=%s;CN=%s;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;%s&&",
		dt.Format("20060102150405")+"000", u.ST, u.CN, u.PW, u.MN, dt.Format("20060102150405"), strings.Join(cp, ";"))
}

// Frame is the upload as a frame.
func (u *HJ212Upload) Frame() []byte { return HJ212Frame(u.Segment()) }

// StackLogger simulates the hour uploads of a flue gas stack: SO2, NOx, particulate matter,
// O2 and flow, with the noise of real analysers. Exceed, when set, says which hours (0-23 of
// the day, CST) run with too little desulphurisation: SO2 above its limit.
type StackLogger struct {
	MN, PW string
	Seed   int
	Exceed map[int]bool
}

// Hours returns the day's hour uploads (CN 2061) starting at day (midnight CST).
func (l *StackLogger) Hours(day time.Time) []HJ212Upload {
	var out []HJ212Upload
	for h := range 24 {
		x := float64(h + 7*l.Seed)
		so2 := 35 + 6*math.Sin(x/3.1) + 1.7*math.Sin(x*2.3)
		o2 := 6.2 + 0.4*math.Sin(x/2.3) + 0.05*math.Cos(x*3.7)
		if l.Exceed[h] {
			so2 = 140 + 9*math.Sin(x) // about 150 converted at 6 % O2: above a 100 limit
		}
		out = append(out, HJ212Upload{MN: l.MN, PW: l.PW, ST: "31", CN: "2061", DataTime: day.Add(time.Duration(h) * time.Hour),
			Values: []FactorValue{
				{"a21026", round3(so2), "N"},
				{"a21002", round3(60 + 8*math.Sin(x/4.3) + 2*math.Cos(x*1.9)), "N"},
				{"a34013", round3(6 + math.Sin(x/5.1) + 0.3*math.Cos(x*2.9)), "N"},
				{"a19001", round3(o2), "N"},
				{"a00000", round3(42 + 3*math.Sin(x/6.7) + 0.5*math.Cos(x*1.3)), "N"}, // m3/s
			}})
	}
	return out
}

// OutfallLogger simulates the hour uploads of a waste water outfall: COD, NH3-N, pH and flow.
type OutfallLogger struct {
	MN, PW string
	Seed   int
}

// Hours returns the day's hour uploads (CN 2061) starting at day (midnight CST).
func (l *OutfallLogger) Hours(day time.Time) []HJ212Upload {
	var out []HJ212Upload
	for h := range 24 {
		x := float64(h + 11*l.Seed)
		out = append(out, HJ212Upload{MN: l.MN, PW: l.PW, ST: "32", CN: "2061", DataTime: day.Add(time.Duration(h) * time.Hour),
			Values: []FactorValue{
				{"w01018", round3(28 + 5*math.Sin(x/3.7) + 1.1*math.Cos(x*2.1)), "N"},
				{"w21003", round3(2.1 + 0.6*math.Sin(x/4.1) + 0.1*math.Cos(x*1.7)), "N"},
				{"w01001", round3(7.2 + 0.2*math.Sin(x/5.3)), "N"},
				{"w00000", round3(12 + 2*math.Sin(x/6.1) + 0.3*math.Cos(x*2.7)), "N"}, // L/s
			}})
	}
	return out
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// SortUploads orders uploads by time, then MN.
func SortUploads(us []HJ212Upload) {
	sort.SliceStable(us, func(i, j int) bool {
		if !us[i].DataTime.Equal(us[j].DataTime) {
			return us[i].DataTime.Before(us[j].DataTime)
		}
		return us[i].MN < us[j].MN
	})
}
