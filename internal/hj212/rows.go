package hj212

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"time"
)

// Row is one stored value: what monitoring_values holds for (MN, CN, DataTime, factor).
type Row struct {
	MN, CN   string
	Time     time.Time
	Factor   string
	Rtd      *float64
	Avg      *float64
	Min      *float64
	Max      *float64
	Cou      *float64
	ZsRtd    *float64
	ZsAvg    *float64
	ZsMin    *float64
	ZsMax    *float64
	Flag     string            // the data flag (N, F, M, S, D, C, T, B) as sent; "" when absent
	Extra    map[string]string // other fields, and numeric fields whose value is not a number
	FrameSHA string            // hex SHA-256 of the raw frame the value came from
}

// HasRows reports whether f is a data upload whose values are stored: valid, with a DataTime.
func (f *Frame) HasRows() bool { return f.Valid && IsUpload(f.CN) && !f.Time.IsZero() }

// Rows returns the values of a data upload, one row per factor; none for other commands.
// frameSHA is the hash of the frame (or, for a reassembled message, of its last packet).
func (f *Frame) Rows(frameSHA string) []Row {
	if !f.HasRows() {
		return nil
	}
	rows := make([]Row, 0, len(f.Values))
	n := 0
	for _, fc := range f.Values {
		n += len(fc.Fields)
	}
	nums := make([]float64, 0, n) // the rows' numbers, one allocation for all
	for i := range f.Values {
		var r Row
		r, nums = f.FactorRow(i, frameSHA, nums)
		rows = append(rows, r)
	}
	return rows
}

// FactorRow returns the row of the upload's i-th factor (f.HasRows must hold). Its numbers are
// appended to nums, which it returns, and the row points into it: a caller writing rows one at
// a time passes the same small array for each and allocates nothing.
func (f *Frame) FactorRow(i int, frameSHA string, nums []float64) (Row, []float64) {
	fc := &f.Values[i]
	r := Row{MN: f.MN, CN: f.CN, Time: f.Time, Factor: fc.Code, FrameSHA: frameSHA}
	for _, fd := range fc.Fields {
		var dst **float64
		switch fd.Name {
		case "Rtd":
			dst = &r.Rtd
		case "Avg":
			dst = &r.Avg
		case "Min":
			dst = &r.Min
		case "Max":
			dst = &r.Max
		case "Cou":
			dst = &r.Cou
		case "ZsRtd":
			dst = &r.ZsRtd
		case "ZsAvg":
			dst = &r.ZsAvg
		case "ZsMin":
			dst = &r.ZsMin
		case "ZsMax":
			dst = &r.ZsMax
		case "Flag":
			r.Flag = fd.Value
			continue
		}
		if dst != nil {
			if v, ok := ParseNumber(fd.Value); ok {
				nums = append(nums, v)
				*dst = &nums[len(nums)-1]
				continue
			}
		}
		if r.Extra == nil {
			r.Extra = map[string]string{}
		}
		r.Extra[fd.Name] = fd.Value
	}
	return r, nums
}

// ParseNumber reads a decimal number as HJ 212 writes them (-12.5, 3, 1.2E-3): no hexadecimal,
// no infinities or NaN, no digit separators.
func ParseNumber(s string) (float64, bool) {
	i, n := 0, len(s)
	if i < n && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < n && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < n && s[i] == '.' {
		i++
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '-' || s[i] == '+') {
			i++
		}
		exp := 0
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != n {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// Hash returns the hex SHA-256 of b.
func Hash(b []byte) string {
	s := sha256.Sum256(b)
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], s[:])
	return string(h[:])
}
