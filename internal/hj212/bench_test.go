package hj212_test

import (
	"testing"
	"time"

	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/hj212/hj212test"
)

// benchFrame is a minute upload of ten factors, as the receiver's benchmark sends.
var benchFrame = hj212.Encode(hj212test.Frame("BENCH00000001", "123456", hj212.CNMinute,
	time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), 7, 10, 42))

// BenchmarkParse reads one frame as the server does for each frame it receives: parse, hash
// and the rows to store.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchFrame)))
	for b.Loop() {
		f := hj212.Parse(benchFrame)
		if !f.Valid {
			b.Fatal(f.Reason)
		}
		rec := hj212.NewRecord(f, "127.0.0.1:1", time.Time{})
		if len(f.Rows(rec.SHA256)) != 10 {
			b.Fatal("want 10 rows")
		}
	}
}

// BenchmarkCRC16 checks a data segment of the benchmark frame's size.
func BenchmarkCRC16(b *testing.B) {
	data := benchFrame[6 : len(benchFrame)-6]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		hj212.CRC16(data)
	}
}
