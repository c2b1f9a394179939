package hj212

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// CSV import of hour and day values exported by a provincial monitoring platform, for
// enterprises without a live feed. The file is UTF-8 (a byte-order mark is ignored), comma
// separated, with a header row naming its columns in any order (case and surrounding spaces
// ignored; the Chinese names platforms print are accepted beside the English ones):
//
//	mn        监测点编码, MN            required: the monitoring point's MN
//	datatime  监测时间, 数据时间, time  required: the hour or day, China Standard Time:
//	                                    2024-05-01 13:00[:00], 2024/05/01 13:00[:00],
//	                                    20240501130000, or 2024-05-01 for day values
//	cn        数据类型, type            required: 2061 or hour (小时), 2031 or day (日)
//	factor    因子编码, code            required: the factor code (HJ 212-2017 or 2005)
//	avg       平均值                    the fields of HJ 212-2017, each optional:
//	min       最小值                    a number, or empty
//	max       最大值
//	cou       排放量, 累计值
//	zs_avg    折算平均值
//	zs_min    折算最小值
//	zs_max    折算最大值
//	flag      标记, 数据标记            the data flag (N, F, M, S, D, C, T, B)
//
// One row is one value. Each row is kept as evidence the way a frame is: its bytes (the
// header line, a line feed, the row's line) with their SHA-256. A file with any bad row is
// refused whole, naming the row and the problem.

var csvColumns = map[string]string{
	"mn": "mn", "监测点编码": "mn",
	"datatime": "datatime", "time": "datatime", "监测时间": "datatime", "数据时间": "datatime",
	"cn": "cn", "type": "cn", "数据类型": "cn",
	"factor": "factor", "code": "factor", "因子编码": "factor",
	"avg": "Avg", "平均值": "Avg",
	"min": "Min", "最小值": "Min",
	"max": "Max", "最大值": "Max",
	"cou": "Cou", "排放量": "Cou", "累计值": "Cou",
	"zs_avg": "ZsAvg", "折算平均值": "ZsAvg",
	"zs_min": "ZsMin", "折算最小值": "ZsMin",
	"zs_max": "ZsMax", "折算最大值": "ZsMax",
	"flag": "Flag", "标记": "Flag", "数据标记": "Flag",
}

var csvCN = map[string]string{"2061": CNHour, "hour": CNHour, "小时": CNHour, "2031": CNDay, "day": CNDay, "日": CNDay}

var csvTimeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006/01/02 15:04:05", "2006/01/02 15:04",
	"2006/1/2 15:04:05", "2006/1/2 15:04", "20060102150405", "2006-01-02T15:04:05", "2006-01-02", "2006/01/02"}

// ReadCSV reads an export as described above into records (source names the file in errors
// and in each record's RemoteAddr, as "csv:" + source). It returns the first problem found.
func ReadCSV(r io.Reader, source string, receivedAt time.Time) ([]*Record, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file: a header row is required", source)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name, ok := csvColumns[strings.ToLower(strings.TrimSpace(h))]
		if !ok {
			return nil, fmt.Errorf("%s: column %d %q is not one of mn, datatime, cn, factor, avg, min, max, cou, zs_avg, zs_min, zs_max, flag", source, i+1, h)
		}
		if seen[name] {
			return nil, fmt.Errorf("%s: column %q appears twice", source, h)
		}
		seen[name] = true
		cols[i] = name
	}
	for _, req := range []string{"mn", "datatime", "cn", "factor"} {
		if !seen[req] {
			return nil, fmt.Errorf("%s: no %s column", source, req)
		}
	}
	headerLine, _, _ := bytes.Cut(data, []byte("\n"))
	headerLine = bytes.TrimSuffix(headerLine, []byte("\r"))
	var recs []*Record
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		f, err := csvFrame(cols, row)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", source, line, err)
		}
		f.Raw = append(append(append([]byte{}, headerLine...), '\n'), []byte(csvLine(row))...)
		recs = append(recs, NewRecord(f, "csv:"+source, receivedAt))
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no rows after the header", source)
	}
	return recs, nil
}

// csvLine writes row back as one CSV line (the evidence of the row, independent of how the
// file quoted it).
func csvLine(row []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(row)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

func csvFrame(cols, row []string) (*Frame, error) {
	f := &Frame{Valid: true, Version: "csv", Flag: -1}
	fc := Factor{}
	for i, v := range row {
		v = strings.TrimSpace(v)
		switch c := cols[i]; c {
		case "mn":
			if !isIdent(v, 32) {
				return nil, fmt.Errorf("mn %q is not 1 to 32 letters, digits, '_' or '-'", v)
			}
			f.MN = v
		case "datatime":
			t, err := parseCSVTime(v)
			if err != nil {
				return nil, err
			}
			f.Time, f.DataTime = t, t.Format("20060102150405")
		case "cn":
			cn, ok := csvCN[strings.ToLower(v)]
			if !ok {
				return nil, fmt.Errorf("cn %q is not 2061 (hour) or 2031 (day)", v)
			}
			f.CN = cn
		case "factor":
			if !isIdent(v, 16) {
				return nil, fmt.Errorf("factor %q is not 1 to 16 letters or digits", v)
			}
			fc.Code = v
		case "Flag":
			if v != "" {
				if len(v) != 1 || !strings.Contains("NFMSDCTB", v) {
					return nil, fmt.Errorf("flag %q is not one of N, F, M, S, D, C, T, B", v)
				}
				fc.Fields = append(fc.Fields, Field{Name: c, Value: v})
			}
		default:
			if v == "" {
				continue
			}
			if _, ok := ParseNumber(v); !ok {
				return nil, fmt.Errorf("%s %q is not a number", c, v)
			}
			fc.Fields = append(fc.Fields, Field{Name: c, Value: v})
		}
	}
	f.Values = []Factor{fc}
	if f.CN == CNDay && (f.Time.Hour() != 0 || f.Time.Minute() != 0 || f.Time.Second() != 0) {
		return nil, fmt.Errorf("day value at %s: a day value's time is midnight", f.Time.Format("2006-01-02 15:04:05"))
	}
	if f.CN == CNHour && (f.Time.Minute() != 0 || f.Time.Second() != 0) {
		return nil, fmt.Errorf("hour value at %s: an hour value's time is on the hour", f.Time.Format("2006-01-02 15:04:05"))
	}
	return f, nil
}

func parseCSVTime(v string) (time.Time, error) {
	for _, l := range csvTimeLayouts {
		if t, err := time.ParseInLocation(l, v, cst); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("datatime %q is not a time such as 2024-05-01 13:00:00", v)
}
