package sample

import (
	"strings"
	"testing"
	"time"
)

func TestHJ212CRC(t *testing.T) {
	// The example frame of HJ 212-2017 (appendix C, communication examples: a request to set
	// the real-time interval), quoted verbatim with its CRC 1C80 in the tests and samples of
	// many public HJ 212 parsers:
	// ##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80
	seg := "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&"
	if len(seg) != 101 {
		t.Fatalf("segment length %d, want 101", len(seg))
	}
	if got := HJ212CRC([]byte(seg)); got != 0x1C80 {
		t.Errorf("CRC %04X, want 1C80", got)
	}
	if f := string(HJ212Frame(seg)); f != "##0101"+seg+"1C80\r\n" {
		t.Errorf("frame %q", f)
	}
}

func TestStackLogger(t *testing.T) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	l := &StackLogger{MN: "DEMO01", PW: "123456", Exceed: map[int]bool{9: true}}
	us := l.Hours(day)
	if len(us) != 24 {
		t.Fatalf("%d uploads", len(us))
	}
	seg := us[9].Segment()
	if !strings.HasPrefix(seg, "QN=20261102090000000;ST=31;CN=2061;PW=123456;MN=DEMO01;Flag=5;CP=&&DataTime=20261102090000;a21026-Avg=1") {
		t.Errorf("segment %q", seg)
	}
	if us[8].Values[0].Avg > 100 || us[9].Values[0].Avg < 100 {
		t.Errorf("SO2 at 08 %g, at 09 %g: only 09 exceeds", us[8].Values[0].Avg, us[9].Values[0].Avg)
	}
}
