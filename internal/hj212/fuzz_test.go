package hj212

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzParse: Parse never panics; what it accepts has the right length and CRC, a readable
// time when it is an upload, and replies that parse in turn.
//
//	go test -fuzz FuzzParse ./internal/hj212
func FuzzParse(f *testing.F) {
	for _, s := range []string{fixtureStandard, fixtureMillis2005, fixtureWrongCRC, fixtureLowerCRC, fixtureWater2017, fixtureAck,
		string(Encode("QN=20240501120000123;ST=31;CN=2061;PW=1;MN=M1;Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20240501120000;a21026-Avg=1&&"))} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fr := Parse(raw)
		if !fr.Valid {
			if fr.Reason == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		n := len(raw) - 12
		if n < 0 || !bytes.EqualFold(Encode(string(raw[6:6+n])), raw) {
			t.Fatalf("accepted frame %q does not re-encode to itself", raw)
		}
		if IsUpload(fr.CN) && !fr.Split() && fr.Time.IsZero() {
			t.Fatal("upload accepted without a time")
		}
		_ = fr.Rows(Hash(raw))
		for _, r := range Replies(fr, VerdictOK, time.Unix(0, 0)) {
			if p := Parse(r); !p.Valid {
				t.Fatalf("reply %q to %q does not parse: %s", r, raw, p.Reason)
			}
		}
	})
}

// FuzzReader: however the stream is cut into reads, every byte is either in a frame or
// counted as skipped, and no frame exceeds the bound.
func FuzzReader(f *testing.F) {
	f.Add([]byte(fixtureStandard+"xx"+fixtureLowerCRC), uint8(7))
	f.Add([]byte("##01##\r\n#"), uint8(1))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		const max = 64
		r := NewReader(&chunked{b: stream, n: int(chunk%16) + 1}, max)
		total := 0
		for {
			b, err := r.Next()
			if len(b) > max {
				t.Fatalf("frame of %d bytes beyond the bound %d", len(b), max)
			}
			total += len(b)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrTruncated) {
					t.Fatal(err)
				}
				break
			}
		}
		if total+int(r.Skipped) != len(stream) {
			t.Fatalf("frames %d + skipped %d bytes != %d read", total, r.Skipped, len(stream))
		}
	})
}

type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(c.n, len(p), len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}
