package hj212

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/sample"
)

// Fixture frames from public HJ 212 material (read, not copied code; each quoted with its
// source). Their CRCs were checked against CRC16, not taken on trust: one of them is wrong.
const (
	// HJ 212-2017 Annex C example (set real-time interval), as quoted in the test and demo code
	// of xiaoyao9184/hj-t212-parser (fork rxlee/hj-t212-parser, TT.java) and many others.
	fixtureStandard = "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
	// xiaoyao9184/hj-t212-parser, StrictT212MapperBenchmark.java: a 2005-style real-time upload
	// with no QN and no Flag, DataTime with milliseconds, HJ/T 212-2005 factor codes.
	fixtureMillis2005 = "##0139ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817000;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&4980\r\n"
	// xiaoyao9184/hj-t212-parser README: the same upload with DataTime shortened to seconds
	// but the CRC left as it was: its CRC is wrong (the data segment's is 3C00).
	fixtureWrongCRC = "##0136ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&4980\r\n"
	// HJT212FormatValidatorTest.java (a JUnit test of an HJ/T 212 validator, public code
	// search): 2005 codes and a lower-case CRC.
	fixtureLowerCRC = "##0178ST=32;CN=2011;PW=123456;MN=0873HHMZWSLH02;CP=&&DataTime=20160103133030;060-Rtd=3.0943,060-Flag=N;011-Rtd=18.0412,011-Flag=N;001-Rtd=8.2137,001-Flag=N;B01-Rtd=10.9890,B01-Flag=N&&a9c1\r\n"
	// A Python logger simulator (public code search, "DM000001"): 2017 water codes, no QN and
	// no Flag.
	fixtureWater2017 = "##0321ST=32;CN=2011;PW=123456;MN=DM000001;CP=&&DataTime=20191223165100;w01001-Rtd=15.294,w01001-Flag=N;w01006-Rtd=12.122,w01006-Flag=N;w01010-Rtd=21.639,w01010-Flag=N;w01014-Rtd=92.088,w01014-Flag=N;w21003-Rtd=78.741,w21003-Flag=N;w21011-Rtd=92.488,w21011-Flag=N;w01019-Rtd=51.248,w01019-Flag=N;w01003-Rtd=3.262,w01003-Flag=N&&A141\r\n"
	// HJ212Def.h of a C++ HJ 212 library (public code search): a platform's 9014 reply with
	// Flag=9 and a lower-case CRC.
	fixtureAck = "##0078QN=20201008154743635;ST=91;CN=9014;PW=123456;MN=SD000001;Flag=9;CP=&&QnRtn=1&&71c0\r\n"
)

func TestCRC16(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&", "1C80"},
		{"QN=20201008154743635;ST=91;CN=9014;PW=123456;MN=SD000001;Flag=9;CP=&&QnRtn=1&&", "71C0"},
		{"", "FFFF"},
	} {
		if got := CRC16([]byte(tc.data)); strings.ToUpper(tc.want) != hex4(got) {
			t.Errorf("CRC16(%q) = %s, want %s", tc.data, hex4(got), tc.want)
		}
	}
}

// TestCRC16Bitwise checks the table-driven CRC16 against the bitwise algorithm of HJ 212-2017
// Annex A (the simulated loggers' own, in package sample) over data of every length up to 300
// bytes.
func TestCRC16Bitwise(t *testing.T) {
	data := make([]byte, 300)
	for i := range data {
		data[i] = byte(i*131 + i/256)
	}
	for n := range len(data) + 1 {
		if got, want := CRC16(data[:n]), sample.HJ212CRC(data[:n]); got != want {
			t.Fatalf("CRC16 of %d bytes = %04X, bitwise %04X", n, got, want)
		}
	}
}

func TestParseScatteredFactor(t *testing.T) {
	// A factor whose fields come in two runs, another factor's between them: each keeps its own.
	f := Parse(Encode("QN=20240501120000123;ST=31;CN=2051;PW=1;MN=M1;Flag=5;CP=&&DataTime=20240501120000;a21026-Avg=1,a19001-Avg=2,a21026-Flag=N;a19001-Flag=D;a21026-Avg=9&&"))
	if !f.Valid {
		t.Fatal(f.Reason)
	}
	want := []Factor{
		{"a21026", []Field{{"Avg", "1"}, {"Flag", "N"}}},
		{"a19001", []Field{{"Avg", "2"}, {"Flag", "D"}}},
	}
	if diff := cmp.Diff(want, f.Values); diff != "" {
		t.Errorf("Values (-want +got):\n%s", diff)
	}
	for _, d := range []string{DevCommaFactors, DevDuplicateField} {
		if !contains(f.Deviations, d) {
			t.Errorf("deviations %q lack %q", f.Deviations, d)
		}
	}
}

func hex4(v uint16) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

func TestParseFixtures(t *testing.T) {
	type want struct {
		Valid      bool
		Reason     string
		Version    string
		QN, CN, MN string
		Flag       int
		DataTime   string
		Values     map[string]map[string]string
		Deviations []string
	}
	for _, tc := range []struct {
		name, frame string
		want        want
	}{
		{"standard annex C", fixtureStandard, want{Valid: true, Version: "2017", QN: "20160801085857223", CN: "1062",
			MN: "010000A8900016F000169DC0", Flag: 5, Values: map[string]map[string]string{}}},
		{"milliseconds, 2005 codes", fixtureMillis2005, want{Valid: true, Version: "2005", CN: "2011", MN: "LD130133000015", Flag: -1,
			DataTime: "20160824003817000",
			Values: map[string]map[string]string{
				"B01": {"Rtd": "36.91"}, "011": {"Rtd": "231.0", "Flag": "N"}, "060": {"Rtd": "1.803", "Flag": "N"},
			},
			Deviations: []string{DevNoQN, DevNoFlag, DevFactorCodes2005, DevDataTimeMillis}}},
		{"wrong CRC", fixtureWrongCRC, want{Reason: "CRC 4980 does not match the data segment's 3C00", Flag: -1}},
		{"lower-case CRC", fixtureLowerCRC, want{Valid: true, Version: "2005", CN: "2011", MN: "0873HHMZWSLH02", Flag: -1,
			DataTime: "20160103133030",
			Values: map[string]map[string]string{
				"060": {"Rtd": "3.0943", "Flag": "N"}, "011": {"Rtd": "18.0412", "Flag": "N"},
				"001": {"Rtd": "8.2137", "Flag": "N"}, "B01": {"Rtd": "10.9890", "Flag": "N"},
			},
			Deviations: []string{DevCRCLowerCase, DevNoQN, DevNoFlag, DevFactorCodes2005}}},
		{"2017 water codes", fixtureWater2017, want{Valid: true, Version: "2017", CN: "2011", MN: "DM000001", Flag: -1,
			DataTime: "20191223165100",
			Values: map[string]map[string]string{
				"w01001": {"Rtd": "15.294", "Flag": "N"}, "w01006": {"Rtd": "12.122", "Flag": "N"},
				"w01010": {"Rtd": "21.639", "Flag": "N"}, "w01014": {"Rtd": "92.088", "Flag": "N"},
				"w21003": {"Rtd": "78.741", "Flag": "N"}, "w21011": {"Rtd": "92.488", "Flag": "N"},
				"w01019": {"Rtd": "51.248", "Flag": "N"}, "w01003": {"Rtd": "3.262", "Flag": "N"},
			},
			Deviations: []string{DevNoQN, DevNoFlag}}},
		{"9014 reply, lower-case CRC", fixtureAck, want{Valid: true, Version: "", QN: "20201008154743635", CN: "9014", MN: "SD000001", Flag: 9,
			Values: map[string]map[string]string{}, Deviations: []string{DevCRCLowerCase, DevUnknownVersion}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Parse([]byte(tc.frame))
			got := want{Valid: f.Valid, Reason: f.Reason, Version: f.Version, QN: f.QN, CN: f.CN, MN: f.MN, Flag: f.Flag,
				DataTime: f.DataTime, Deviations: f.Deviations}
			if f.Valid {
				got.Values = f.ValueMap()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRefusesAndAccepts(t *testing.T) {
	up := "QN=20240501120000123;ST=31;CN=2051;PW=123456;MN=MN0001;Flag=5;CP=&&DataTime=20240501120000;a21026-Avg=12.5,a21026-Flag=N;a19001-Avg=8.1,a19001-Flag=N&&"
	for _, tc := range []struct {
		name   string
		frame  string
		valid  bool
		reason string // prefix
		dev    string // a deviation that must be recorded
	}{
		{"standard minute upload", string(Encode(up)), true, "", ""},
		{"length too large", "##0999" + up + hex4(CRC16([]byte(up))) + "\r\n", false, "length field says 999", ""},
		{"length not digits", "##00x1" + up + "0000\r\n", false, "length field", ""},
		{"CRC not hex", "##" + pad4(len(up)) + up + "ZZZZ\r\n", false, "CRC \"ZZZZ\" is not", ""},
		{"no CR LF", strings.TrimSuffix(string(Encode(up)), "\r\n"), false, "not terminated", ""},
		{"comma between factors", string(Encode(strings.Replace(up, "a21026-Flag=N;", "a21026-Flag=N,", 1))), true, "", DevCommaFactors},
		{"non-numeric value", string(Encode(strings.Replace(up, "12.5", "***", 1))), true, "", DevNonNumericValue},
		{"upload without DataTime", string(Encode(strings.Replace(up, "DataTime=20240501120000;", "", 1))), false, "data upload without a readable DataTime", ""},
		{"impossible DataTime", string(Encode(strings.Replace(up, "20240501120000;", "20241301120000;", 1))), false, "DataTime", ""},
		{"MN with a quote", string(Encode(strings.Replace(up, "MN=MN0001", "MN=MN'1", 1))), false, "MN", ""},
		{"split without PNUM", string(Encode(strings.Replace(up, "Flag=5", "Flag=7", 1))), false, "Flag says the message is split", ""},
		{"control byte", string(Encode(strings.Replace(up, "12.5", "12\x005", 1))), false, "data segment holds a byte 0x00", ""},
		{"2005 flag", string(Encode(strings.Replace(up, "Flag=5", "Flag=1", 1))), true, "", DevVersion2005},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Parse([]byte(tc.frame))
			if f.Valid != tc.valid || !strings.HasPrefix(f.Reason, tc.reason) {
				t.Fatalf("Valid=%v Reason=%q, want %v %q", f.Valid, f.Reason, tc.valid, tc.reason)
			}
			if tc.dev != "" && !contains(f.Deviations, tc.dev) {
				t.Errorf("deviations %q lack %q", f.Deviations, tc.dev)
			}
		})
	}
}

func pad4(n int) string {
	return string([]byte{byte('0' + n/1000), byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

func contains(ss []string, s string) bool {
	for _, e := range ss {
		if e == s {
			return true
		}
	}
	return false
}

func TestRows(t *testing.T) {
	f := Parse(Encode("QN=20240501120000123;ST=31;CN=2061;PW=1;MN=M1;Flag=5;CP=&&DataTime=20240501120000;a21026-Avg=12.5,a21026-ZsAvg=20.1,a21026-Flag=M,a21026-EFlag=x;a19001-Avg=***&&"))
	if !f.Valid {
		t.Fatal(f.Reason)
	}
	rows := f.Rows("h")
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r.Factor != "a21026" || *r.Avg != 12.5 || *r.ZsAvg != 20.1 || r.Flag != "M" || r.Extra["EFlag"] != "x" || r.Rtd != nil {
		t.Errorf("row 0 = %+v", r)
	}
	if !r.Time.Equal(time.Date(2024, 5, 1, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("time %v, want 04:00 UTC (12:00 CST)", r.Time)
	}
	if rows[1].Avg != nil || rows[1].Extra["Avg"] != "***" {
		t.Errorf("non-numeric Avg: %+v", rows[1])
	}
}

func TestParseNumber(t *testing.T) {
	for s, ok := range map[string]bool{"12.5": true, "-3": true, ".5": true, "1E-3": true, "1e": false, "NaN": false,
		"Inf": false, "0x1p3": false, "1_000": false, "": false, "1.2.3": false, "+4.": true} {
		if _, got := ParseNumber(s); got != ok {
			t.Errorf("ParseNumber(%q) ok=%v, want %v", s, got, ok)
		}
	}
}

func TestReaderSplitAndMerged(t *testing.T) {
	stream := "garbage" + fixtureStandard + fixtureMillis2005 + "\r\n" + fixtureWrongCRC + fixtureLowerCRC
	want := []string{fixtureStandard, fixtureMillis2005, fixtureWrongCRC, fixtureLowerCRC}
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"one read", strings.NewReader(stream)},
		{"byte by byte", iotest.OneByteReader(strings.NewReader(stream))},
		{"half reads", iotest.HalfReader(strings.NewReader(stream))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.r, 0)
			var got []string
			for {
				b, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(b))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
			if r.Skipped != int64(len("garbage")+2) {
				t.Errorf("skipped %d bytes, want %d", r.Skipped, len("garbage")+2)
			}
		})
	}
}

func TestReaderBoundsAndTruncation(t *testing.T) {
	// A frame without CR LF ends where the next begins; a run longer than the bound is cut.
	noCRLF := strings.TrimSuffix(fixtureStandard, "\r\n")
	r := NewReader(strings.NewReader(noCRLF+fixtureStandard+"##"+strings.Repeat("x", 300)), 200)
	var got []string
	var last error
	for {
		b, err := r.Next()
		if b != nil {
			got = append(got, string(b))
		}
		if err != nil {
			last = err
			break
		}
	}
	want := []string{noCRLF, fixtureStandard, "##" + strings.Repeat("x", 198), strings.Repeat("x", 0) + ""}
	want = want[:3]
	if len(got) < 3 || !cmp.Equal(want, got[:3]) {
		t.Fatalf("got %q", got)
	}
	// The 102 bytes after the cut are not a frame; they are skipped.
	if last != io.EOF || r.Skipped != 102 {
		t.Errorf("last err %v, skipped %d", last, r.Skipped)
	}
	// A stream cut mid-frame gives the part and ErrTruncated.
	r = NewReader(strings.NewReader(fixtureStandard[:50]), 0)
	b, err := r.Next()
	if err != ErrTruncated || !bytes.Equal(b, []byte(fixtureStandard[:50])) {
		t.Errorf("Next = %q, %v; want the part and ErrTruncated", b, err)
	}
}

func TestReplies(t *testing.T) {
	now := time.Date(2024, 5, 1, 4, 0, 0, 0, time.UTC)
	up := Parse(Encode("QN=20240501120000123;ST=31;CN=2051;PW=123456;MN=M1;Flag=5;CP=&&DataTime=20240501120000;a21026-Avg=1&&"))
	noAck := Parse(Encode("QN=20240501120000123;ST=31;CN=2051;PW=123456;MN=M1;Flag=4;CP=&&DataTime=20240501120000;a21026-Avg=1&&"))
	old := Parse([]byte(fixtureMillis2005))
	timeReq := Parse(Encode("QN=20240501120000123;ST=31;CN=1013;PW=123456;MN=M1;Flag=5;CP=&&&&"))
	other := Parse(Encode("QN=20240501120000123;ST=31;CN=3020;PW=123456;MN=M1;Flag=5;CP=&&&&"))
	annexC4 := Parse(Encode("QN=20160801085857223;ST=32;CN=1013;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&PolId=w01018&&"))
	for _, tc := range []struct {
		name string
		f    *Frame
		v    Verdict
		want []string
	}{
		{"upload asks", up, VerdictOK, []string{"QN=20240501120000123;ST=91;CN=9014;PW=123456;MN=M1;Flag=4;CP=&&&&"}},
		{"upload quarantined still acknowledged", up, VerdictUnknownMN, []string{"QN=20240501120000123;ST=91;CN=9014;PW=123456;MN=M1;Flag=4;CP=&&&&"}},
		{"upload does not ask", noAck, VerdictOK, nil},
		{"2005 upload without Flag", old, VerdictOK, nil},
		{"time request", timeReq, VerdictOK, []string{
			"QN=20240501120000123;ST=91;CN=9013;PW=123456;MN=M1;Flag=4;CP=&&&&",
			"QN=20240501120000000;ST=31;CN=1012;PW=123456;MN=M1;Flag=5;CP=&&SystemTime=20240501120000&&"}},
		// HJ 212-2017 Annex C.4 (现场机时间校准请求) is a notice: the logger's request
		// "QN=20160801085857223;ST=32;CN=1013;PW=123456;MN=010000A8900016F000169DC0;Flag=5;
		// CP=&&PolId=w01018&&" is answered with the notice reply "QN=20160801085857223;ST=91;
		// CN=9013;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&& &&" (caoyiliang/HJ212,
		// Test/Program.cs, the logger side of the Annex C examples: AskSetSystemTime expects
		// it; caoyiliang/HJ212_Server, GB_Server.cs region c4, answers C4 with
		// Request/ResponseReq.cs, CN 9013 通知应答). The platform then sets the logger's time
		// as in Annex C.3 (设置现场机时间, "QN=20160801085857223;ST=32;CN=1012;PW=123456;
		// MN=010000A8900016F000169DC0;Flag=5;CP=&&PolId=w01018;SystemTime=20160801085857&&",
		// Test/Program.cs), a request the logger answers with its 9011 and 9012
		// (HJ212_Server: SetSystemTimeAsync awaits CN9011Rsp and CN9012Rsp). A 9011 or 9012
		// from the platform is no part of this flow: the platform executes nothing the logger
		// waits a result of.
		{"time request of Annex C.4", annexC4, VerdictOK, []string{
			"QN=20160801085857223;ST=91;CN=9013;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&",
			"QN=20240501120000000;ST=32;CN=1012;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&PolId=w01018;SystemTime=20240501120000&&"}},
		{"time request asking no reply is still executed", Parse(Encode("QN=20240501120000123;ST=31;CN=1013;PW=123456;MN=M1;Flag=4;CP=&&&&")), VerdictOK, []string{
			"QN=20240501120000000;ST=31;CN=1012;PW=123456;MN=M1;Flag=5;CP=&&SystemTime=20240501120000&&"}},
		{"wrong PW", timeReq, VerdictWrongPW, []string{"QN=20240501120000123;ST=91;CN=9011;PW=123456;MN=M1;Flag=4;CP=&&QnRtn=3&&"}},
		{"unknown MN", timeReq, VerdictUnknownMN, []string{"QN=20240501120000123;ST=91;CN=9011;PW=123456;MN=M1;Flag=4;CP=&&QnRtn=2&&"}},
		{"the logger's execution result gets none", Parse(Encode("QN=20240501120000000;ST=31;CN=9012;PW=123456;MN=M1;Flag=4;CP=&&ExeRtn=1&&")), VerdictOK, nil},
		{"unsupported request", other, VerdictOK, []string{"QN=20240501120000123;ST=91;CN=9011;PW=123456;MN=M1;Flag=4;CP=&&QnRtn=2&&"}},
		{"a reply gets none", Parse([]byte(fixtureAck)), VerdictOK, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, b := range Replies(tc.f, tc.v, now) {
				p := Parse(b)
				if !p.Valid {
					t.Fatalf("reply %q does not parse: %s", b, p.Reason)
				}
				got = append(got, string(b[6:len(b)-6]))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("replies (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCombine(t *testing.T) {
	p1 := Parse(Encode("QN=20240501120000123;ST=31;CN=2061;PW=1;MN=M1;Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20240501120000;a21026-Avg=1&&"))
	p2 := Parse(Encode("QN=20240501120000123;ST=31;CN=2061;PW=1;MN=M1;Flag=7;PNUM=2;PNO=2;CP=&&a21002-Avg=2,a21002-Flag=N&&"))
	if !p1.Valid || !p2.Valid {
		t.Fatal(p1.Reason, p2.Reason)
	}
	m, err := Combine([]*Frame{p2, p1})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]map[string]string{"a21026": {"Avg": "1"}, "a21002": {"Avg": "2", "Flag": "N"}}, m.ValueMap()); diff != "" {
		t.Error(diff)
	}
	if rows := m.Rows("x"); len(rows) != 2 {
		t.Errorf("%d rows", len(rows))
	}
	if _, err := Combine([]*Frame{p1}); err == nil {
		t.Error("Combine of 1 of 2 packets succeeded")
	}
}
