// Package hj212 reads and writes the frames of HJ 212-2017 ("Data transmission standard for
// online monitoring systems of pollutant emissions") and of its predecessor HJ/T 212-2005,
// which older data loggers still send, and serves them over TCP (Server).
//
// A frame is "##", the data segment's length as four decimal digits, the data segment, its
// CRC16 (CRC16) as four hexadecimal digits, and CR LF. The data segment is
// "QN=...;ST=..;CN=....;PW=...;MN=...;Flag=.;[PNUM=..;PNO=..;]CP=&&...&&", and the command
// parameters (CP) of a data upload are "DataTime=yyyyMMddHHmmss;" followed by one group per
// factor, "w01018-Rtd=12.3,w01018-Flag=N;w21003-Rtd=...".
//
// Parse accepts what real loggers send when it can be read without guessing and records each
// departure from HJ 212-2017 in Frame.Deviations; a frame whose length or CRC is wrong, or
// whose data segment cannot be read, is refused (Frame.Valid false, Frame.Reason saying why).
package hj212

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Deviations from HJ 212-2017 that Parse accepts, as recorded in Frame.Deviations.
const (
	DevDataTimeMillis   = "datatime-milliseconds"   // DataTime with 17 digits (yyyyMMddHHmmsszzz)
	DevCRCLowerCase     = "crc-lower-case"          // CRC in lower-case hexadecimal
	DevNoQN             = "no-qn"                   // no QN (request number)
	DevNoFlag           = "no-flag"                 // no Flag
	DevCommaFactors     = "comma-between-factors"   // ',' where ';' separates two factors
	DevFactorCodes2005  = "factor-codes-2005"       // HJ/T 212-2005 factor codes (011, B01, ...)
	DevVersion2005      = "version-2005"            // Flag says HJ/T 212-2005
	DevUnknownVersion   = "flag-version-unknown"    // Flag's version bits name no known version
	DevNonNumericValue  = "non-numeric-value"       // a measured value that is not a number
	DevDuplicateField   = "duplicate-field"         // a field sent twice; the first is kept
	DevUnknownHeader    = "unknown-header-field"    // a data-segment field outside the standard's
	DevEmptyItem        = "empty-item"              // ";;" or ",," in the command parameters
	DevLowerCaseHeaders = "header-field-names-case" // "qn=", "mn=", ... in other case than the standard's
)

// Command numbers (CN) the receiver knows.
const (
	CNRealTime     = "2011" // real-time data
	CNMinute       = "2051" // minute data
	CNHour         = "2061" // hour data
	CNDay          = "2031" // day data
	CNRunTimeDay   = "2041" // daily running time of facilities
	CNRunState     = "2021" // running state of facilities
	CNTimeRequest  = "1013" // the logger asks for the time (HJ 212-2017 6.6.1)
	CNSetTime      = "1012" // set the logger's time
	CNRequestReply = "9011" // reply to a request (QnRtn)
	CNExecResult   = "9012" // result of executing a request (ExeRtn)
	CNNotice       = "9013" // notice reply
	CNDataAck      = "9014" // data acknowledgement
)

// IsUpload reports whether cn is a data upload whose values are stored.
func IsUpload(cn string) bool {
	switch cn {
	case CNRealTime, CNMinute, CNHour, CNDay, CNRunTimeDay, CNRunState:
		return true
	}
	return false
}

// IsReply reports whether cn is a logger's reply to the platform (9011–9014): stored, never
// answered.
func IsReply(cn string) bool { return len(cn) == 4 && cn[:2] == "90" }

// cst is China Standard Time, in which loggers send DataTime and QN (no daylight saving since
// 1991, so a fixed zone is exact and needs no time-zone database).
var cst = time.FixedZone("CST", 8*3600)

// MaxDataLen is the largest data segment a four-digit length can announce.
const MaxDataLen = 9999

// Frame is one parsed frame.
type Frame struct {
	Raw        []byte // the frame as received, "##" to CR LF
	Valid      bool
	Reason     string // why the frame was refused; empty when valid
	Version    string // "2017", "2005", or "" when the frame does not say
	QN         string
	ST         string
	CN         string
	PW         string
	MN         string
	Flag       int               // -1 when absent
	PNUM, PNO  int               // sub-packets: total and this packet's number (1-based); 0 when not split
	DataTime   string            // as sent
	Time       time.Time         // DataTime read in China Standard Time; zero when absent
	Params     map[string]string // command parameters other than DataTime and factors' fields
	Values     []Factor          // in the order sent
	Deviations []string
}

// Factor is the fields sent for one factor (pollutant or parameter) code.
type Factor struct {
	Code   string
	Fields []Field // Rtd, Avg, Min, Max, Cou, ZsRtd, ..., Flag, in the order sent
}

// Field is one "code-Name=value" item, the value as sent.
type Field struct{ Name, Value string }

// AckRequested reports whether the frame's Flag asks for a reply (bit A).
func (f *Frame) AckRequested() bool { return f.Flag >= 0 && f.Flag&1 == 1 }

// Split reports whether the frame is one sub-packet of a longer message (bit D).
func (f *Frame) Split() bool { return f.PNUM > 0 }

// ValueMap returns the values as factor code → field → value as sent.
func (f *Frame) ValueMap() map[string]map[string]string {
	m := make(map[string]map[string]string, len(f.Values))
	for _, fc := range f.Values {
		fm := m[fc.Code]
		if fm == nil {
			fm = make(map[string]string, len(fc.Fields))
			m[fc.Code] = fm
		}
		for _, fd := range fc.Fields {
			fm[fd.Name] = fd.Value
		}
	}
	return m
}

func (f *Frame) deviate(d string) {
	for _, e := range f.Deviations {
		if e == d {
			return
		}
	}
	f.Deviations = append(f.Deviations, d)
}

func (f *Frame) refuse(format string, args ...any) *Frame {
	f.Valid = false
	f.Reason = fmt.Sprintf(format, args...)
	return f
}

// Parse reads one frame, "##" to CR LF inclusive. It never fails: a frame that cannot be
// accepted comes back with Valid false and Reason set. raw is kept, not copied.
func Parse(raw []byte) *Frame {
	f := &Frame{Raw: raw, Flag: -1}
	if !bytes.HasPrefix(raw, []byte("##")) {
		return f.refuse("no ## header")
	}
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		return f.refuse("not terminated by CR LF")
	}
	if len(raw) < 2+4+4+2 {
		return f.refuse("frame of %d bytes is too short", len(raw))
	}
	lf := raw[2:6]
	n := 0
	for _, c := range lf {
		if c < '0' || c > '9' {
			return f.refuse("length field %q is not four digits", lf)
		}
		n = n*10 + int(c-'0')
	}
	body := raw[6 : len(raw)-2]
	if len(body) != n+4 {
		return f.refuse("length field says %d bytes, data segment has %d", n, len(body)-4)
	}
	data, crcText := body[:n], body[n:]
	crc, lower, ok := parseHex4(crcText)
	if !ok {
		return f.refuse("CRC %q is not four hexadecimal digits", crcText)
	}
	if want := CRC16(data); crc != want {
		return f.refuse("CRC %s does not match the data segment's %04X", crcText, want)
	}
	if lower {
		f.deviate(DevCRCLowerCase)
	}
	for _, c := range data {
		if c < 0x20 || c > 0x7e {
			return f.refuse("data segment holds a byte 0x%02X outside printable ASCII", c)
		}
	}
	return parseData(f, string(data))
}

func parseHex4(b []byte) (v uint16, lower, ok bool) {
	if len(b) != 4 {
		return 0, false, false
	}
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
			lower = true
		default:
			return 0, false, false
		}
		v = v<<4 | uint16(d)
	}
	return v, lower, true
}

// parseData reads the data segment.
func parseData(f *Frame, data string) *Frame {
	i := strings.Index(data, "CP=&&")
	if i < 0 {
		if i = strings.Index(strings.ToUpper(data), "CP=&&"); i < 0 {
			return f.refuse("no CP=&& in the data segment")
		}
		f.deviate(DevLowerCaseHeaders)
	}
	head, cp := data[:i], data[i+len("CP=&&"):]
	if !strings.HasSuffix(cp, "&&") {
		return f.refuse("command parameters do not end with &&")
	}
	cp = cp[:len(cp)-2]
	var seen uint8 // one bit per known header field
	for len(head) > 0 {
		item := head
		if j := strings.IndexByte(head, ';'); j >= 0 {
			item, head = head[:j], head[j+1:]
		} else {
			head = ""
		}
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return f.refuse("data segment field %q has no =", item)
		}
		field, canonical := headerField(k)
		if field < 0 {
			f.deviate(DevUnknownHeader)
			continue
		}
		if k != canonical {
			f.deviate(DevLowerCaseHeaders)
		}
		if seen&(1<<field) != 0 {
			return f.refuse("data segment field %s sent twice", k)
		}
		seen |= 1 << field
		switch field {
		case hQN:
			f.QN = v
		case hST:
			f.ST = v
		case hCN:
			f.CN = v
		case hPW:
			f.PW = v
		case hMN:
			f.MN = v
		case hFlag:
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 255 {
				return f.refuse("Flag %q is not a number from 0 to 255", v)
			}
			f.Flag = n
		case hPNUM, hPNO:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 9999 {
				return f.refuse("%s %q is not a number from 1 to 9999", k, v)
			}
			if field == hPNUM {
				f.PNUM = n
			} else {
				f.PNO = n
			}
		}
	}
	switch {
	case f.CN == "":
		return f.refuse("no CN")
	case !isDigits(f.CN, 4):
		return f.refuse("CN %q is not four digits", f.CN)
	case f.MN == "":
		return f.refuse("no MN")
	case !isIdent(f.MN, 32):
		return f.refuse("MN %q is not 1 to 32 letters, digits, '_' or '-'", f.MN)
	case !isIdent(f.PW, 32) && f.PW != "":
		return f.refuse("PW is not 1 to 32 letters, digits, '_' or '-'")
	case f.ST != "" && !isDigits(f.ST, 2):
		return f.refuse("ST %q is not two digits", f.ST)
	case f.QN != "" && !isDigits(f.QN, 17):
		return f.refuse("QN %q is not 17 digits (yyyyMMddHHmmsszzz)", f.QN)
	}
	if f.ST == "" && !IsReply(f.CN) {
		return f.refuse("no ST")
	}
	if f.QN == "" {
		f.deviate(DevNoQN)
	}
	if (f.PNUM > 0) != (f.PNO > 0) {
		return f.refuse("PNUM and PNO go together")
	}
	if f.PNO > f.PNUM {
		return f.refuse("PNO %d is beyond PNUM %d", f.PNO, f.PNUM)
	}
	if f.Flag < 0 {
		f.deviate(DevNoFlag)
	} else {
		switch f.Flag >> 2 {
		case 0:
			f.Version = "2005"
			f.deviate(DevVersion2005)
		case 1:
			f.Version = "2017"
		default:
			f.deviate(DevUnknownVersion)
		}
		if f.Flag&2 != 0 && f.PNUM == 0 {
			return f.refuse("Flag says the message is split but PNUM and PNO are missing")
		}
	}
	if f.PNUM > 0 && f.QN == "" {
		return f.refuse("a sub-packet without QN cannot be reassembled")
	}
	if err := parseCP(f, cp); err != "" {
		return f.refuse("%s", err)
	}
	if f.Version == "" && len(f.Values) > 0 {
		// The frame's factor codes say which version it follows.
		f.Version = "2017"
		for _, fc := range f.Values {
			if !isCode2017(fc.Code) {
				f.Version = "2005"
				break
			}
		}
	}
	if IsUpload(f.CN) && !f.Split() && f.Time.IsZero() {
		return f.refuse("data upload without a readable DataTime")
	}
	f.Valid = true
	return f
}

// The data segment's header fields, in the case HJ 212-2017 writes them.
const (
	hQN = iota
	hST
	hCN
	hPW
	hMN
	hFlag
	hPNUM
	hPNO
)

var headerNames = [...]string{hQN: "QN", hST: "ST", hCN: "CN", hPW: "PW", hMN: "MN", hFlag: "Flag", hPNUM: "PNUM", hPNO: "PNO"}

// headerField returns the header field named k in any case, and its name as the standard
// writes it; -1 when k is none of them.
func headerField(k string) (int, string) {
	for i, n := range headerNames {
		if strings.EqualFold(k, n) {
			return i, n
		}
	}
	return -1, ""
}

// parseCP reads the command parameters into f.DataTime, f.Params and f.Values; it returns
// why they cannot be read, or "". The fields of all factors share one array, each factor's
// a run of it, so that a frame costs a handful of allocations however many factors it has.
func parseCP(f *Frame, cp string) string {
	fields := make([]Field, 0, strings.Count(cp, ",")+strings.Count(cp, ";")+1)
	codes := make([]string, 0, cap(fields)) // factor code of each field
	dataTime, haveTime := "", false
	for len(cp) > 0 {
		group := cp
		if j := strings.IndexByte(cp, ';'); j >= 0 {
			group, cp = cp[:j], cp[j+1:]
			if cp == "" {
				f.deviate(DevEmptyItem) // a trailing ';'
			}
		} else {
			cp = ""
		}
		if group == "" {
			f.deviate(DevEmptyItem)
			continue
		}
		groupCode := ""
		for len(group) > 0 {
			item := group
			if j := strings.IndexByte(group, ','); j >= 0 {
				item, group = group[:j], group[j+1:]
				if group == "" {
					f.deviate(DevEmptyItem)
				}
			} else {
				group = ""
			}
			if item == "" {
				f.deviate(DevEmptyItem)
				continue
			}
			k, v, ok := strings.Cut(item, "=")
			if !ok || k == "" {
				return fmt.Sprintf("command parameter %q has no name=value", item)
			}
			code, name, isFactor := strings.Cut(k, "-")
			if !isFactor || code == "" || name == "" {
				if k == "DataTime" {
					if haveTime {
						f.deviate(DevDuplicateField)
						continue
					}
					dataTime, haveTime = v, true
					continue
				}
				if f.Params == nil {
					f.Params = map[string]string{}
				}
				if _, dup := f.Params[k]; dup {
					f.deviate(DevDuplicateField)
					continue
				}
				f.Params[k] = v
				continue
			}
			if !isIdent(code, 16) {
				return fmt.Sprintf("factor code %q is not 1 to 16 letters or digits", code)
			}
			if groupCode != "" && groupCode != code {
				f.deviate(DevCommaFactors)
			}
			groupCode = code
			if !isCode2017(code) {
				f.deviate(DevFactorCodes2005)
			}
			dup := false
			for i := len(fields) - 1; i >= 0; i-- {
				if fields[i].Name == name && codes[i] == code { // names differ in length more often
					dup = true
					break
				}
			}
			if dup {
				f.deviate(DevDuplicateField)
				continue
			}
			fields = append(fields, Field{Name: name, Value: v})
			codes = append(codes, code)
			if numericField(name) {
				if _, ok := ParseNumber(v); !ok {
					f.deviate(DevNonNumericValue)
				}
			}
		}
	}
	groupFields(f, fields, codes)
	if haveTime {
		f.DataTime = dataTime
		t, ms, err := parseTime(dataTime)
		if err != nil {
			return fmt.Sprintf("DataTime %q: %v", dataTime, err)
		}
		if ms {
			f.deviate(DevDataTimeMillis)
		}
		f.Time = t
	}
	return ""
}

// groupFields sets f.Values from the fields read and their factor codes, factors in the order
// first sent. A factor whose fields came in one run (as the standard sends them) gets that run
// of fields; one whose fields are scattered gets them gathered in order.
func groupFields(f *Frame, fields []Field, codes []string) {
	if len(fields) == 0 {
		return
	}
	runs := 1
	for i := 1; i < len(codes); i++ {
		if codes[i] != codes[i-1] {
			runs++
		}
	}
	f.Values = make([]Factor, 0, runs)
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && codes[j] == codes[i] {
			j++
		}
		idx := -1
		for k := range f.Values {
			if f.Values[k].Code == codes[i] {
				idx = k
				break
			}
		}
		if idx < 0 {
			// The full slice expression caps the run, so that appending a later run of the
			// same factor copies instead of overwriting the next factor's fields.
			f.Values = append(f.Values, Factor{Code: codes[i], Fields: fields[i:j:j]})
		} else {
			f.Values[idx].Fields = append(f.Values[idx].Fields, fields[i:j]...)
		}
		i = j
	}
}

// parseTime reads yyyyMMddHHmmss, or yyyyMMddHHmmsszzz (a deviation), in China Standard Time.
func parseTime(s string) (t time.Time, millis bool, err error) {
	switch {
	case isDigits(s, 14):
	case isDigits(s, 17):
		millis = true
	default:
		return time.Time{}, false, fmt.Errorf("not yyyyMMddHHmmss")
	}
	// By hand rather than time.ParseInLocation (a layout interpreted per frame): the digits
	// are checked above, and time.Date normalises what is out of range, so a round trip
	// tells a real time from 20240231 or 25:00.
	num := func(i, n int) int {
		v := 0
		for _, c := range s[i : i+n] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day, hour, minute, sec := num(0, 4), num(4, 2), num(6, 2), num(8, 2), num(10, 2), num(12, 2)
	t = time.Date(year, time.Month(month), day, hour, minute, sec, 0, cst)
	if y, m, d := t.Date(); y != year || int(m) != month || d != day || t.Hour() != hour || t.Minute() != minute || t.Second() != sec {
		return time.Time{}, false, fmt.Errorf("not a valid time")
	}
	if millis {
		ms, _ := strconv.Atoi(s[14:])
		t = t.Add(time.Duration(ms) * time.Millisecond)
	}
	return t, millis, nil
}

// numericFields are the fields of HJ 212-2017 that carry a number, stored in columns.
var numericFields = map[string]bool{
	"Rtd": true, "Avg": true, "Min": true, "Max": true, "Cou": true,
	"ZsRtd": true, "ZsAvg": true, "ZsMin": true, "ZsMax": true,
}

func numericField(name string) bool { return numericFields[name] }

// isCode2017 reports whether code has the form of an HJ 212-2017 factor code: a letter and
// five digits (w01018, a34013), or the facility codes of 2021/2041 (SB1, ...).
func isCode2017(code string) bool {
	if len(code) == 6 && code[0] >= 'a' && code[0] <= 'z' && isDigits(code[1:], 5) {
		return true
	}
	return strings.HasPrefix(code, "SB") && len(code) > 2 && isDigits(code[2:], len(code)-2)
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isIdent(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Encode returns the frame carrying data segment data: header, length, data, CRC and CR LF.
func Encode(data string) []byte {
	b := make([]byte, 0, len(data)+12)
	b = append(b, '#', '#')
	b = fmt.Appendf(b, "%04d", len(data))
	b = append(b, data...)
	b = fmt.Appendf(b, "%04X\r\n", CRC16([]byte(data)))
	return b
}

// Reply returns the platform's reply with command cn to frame f, carrying cp (without the
// &&). HJ 212-2017 echoes the request's QN in the header with Flag=4 (version 2017, no reply
// asked); HJ/T 212-2005 carries the QN (and, for a data acknowledgement, the CN) in CP.
func Reply(f *Frame, cn, cp string) []byte {
	if f.Version == "2005" {
		p := "QN=" + f.QN
		if cn == CNDataAck {
			p += ";CN=" + f.CN
		}
		if cp != "" {
			p += ";" + cp
		}
		return Encode("ST=91;CN=" + cn + ";PW=" + f.PW + ";MN=" + f.MN + ";CP=&&" + p + "&&")
	}
	qn := ""
	if f.QN != "" {
		qn = "QN=" + f.QN + ";"
	}
	return Encode(qn + "ST=91;CN=" + cn + ";PW=" + f.PW + ";MN=" + f.MN + ";Flag=4;CP=&&" + cp + "&&")
}

// Combine reassembles a message sent as sub-packets (PNUM/PNO): parts must be the PNUM
// valid packets of one QN and MN, in any order. The result's Raw is nil (each packet keeps
// its own), its values are the packets' in packet order, and its deviations their union.
func Combine(parts []*Frame) (*Frame, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("hj212: no sub-packets")
	}
	ps := append([]*Frame(nil), parts...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].PNO < ps[j].PNO })
	first := ps[0]
	if len(ps) != first.PNUM {
		return nil, fmt.Errorf("hj212: %d of %d sub-packets", len(ps), first.PNUM)
	}
	out := &Frame{Valid: true, Version: first.Version, QN: first.QN, ST: first.ST, CN: first.CN,
		PW: first.PW, MN: first.MN, Flag: first.Flag &^ 2, PNUM: first.PNUM}
	byCode := map[string]int{}
	for i, p := range ps {
		if !p.Valid || p.PNO != i+1 || p.PNUM != first.PNUM || p.QN != first.QN || p.MN != first.MN || p.CN != first.CN {
			return nil, fmt.Errorf("hj212: sub-packet %d does not belong to message QN=%s MN=%s", p.PNO, first.QN, first.MN)
		}
		for _, d := range p.Deviations {
			out.deviate(d)
		}
		if out.DataTime == "" && p.DataTime != "" {
			out.DataTime, out.Time = p.DataTime, p.Time
		}
		for k, v := range p.Params {
			if out.Params == nil {
				out.Params = map[string]string{}
			}
			if _, ok := out.Params[k]; !ok {
				out.Params[k] = v
			}
		}
		for _, fc := range p.Values {
			idx, ok := byCode[fc.Code]
			if !ok {
				idx = len(out.Values)
				byCode[fc.Code] = idx
				out.Values = append(out.Values, Factor{Code: fc.Code})
			}
			out.Values[idx].Fields = append(out.Values[idx].Fields, fc.Fields...)
		}
	}
	if IsUpload(out.CN) && out.Time.IsZero() {
		return nil, fmt.Errorf("hj212: reassembled upload QN=%s without a readable DataTime", out.QN)
	}
	return out, nil
}
