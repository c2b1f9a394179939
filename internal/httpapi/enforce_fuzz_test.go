package httpapi

import (
	"errors"
	"testing"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// The fuzz tests feed arbitrary bytes to the request decoders: they must not panic, and every
// refusal must be an input error (400), never an internal one.

func checkInvalid(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, offsite.ErrInvalid) {
		t.Fatalf("refusal %v (%T) is not an input error", err, err)
	}
}

func FuzzDecodeEnterprise(f *testing.F) {
	f.Add([]byte(`{"uscc":"91110000600037341L","name":"A","industry":"C3120","permit_no":"91110000600037341L001P","location":[120.1,30.2],"location_gcj02":true}`))
	f.Add([]byte(`{"uscc":"91110000600037341M","name":"A","industry":"C","legacy_override":true}`))
	f.Add([]byte(`{"uscc":5}`))
	f.Add([]byte(`{"location":[1e400,2]}`))
	f.Add([]byte(`{"uscc":"91110000600037341L","name":"A","industry":"C","location":[null,null]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := decodeEnterprise(body)
		checkInvalid(t, err)
		if err == nil {
			if cerr := enforce.CheckUSCC(e.USCC); cerr != nil && !e.LegacyUSCC {
				t.Fatalf("accepted USCC %q: %v", e.USCC, cerr)
			}
			if e.Name == "" {
				t.Fatal("accepted an empty name")
			}
		}
	})
}

func FuzzDecodeListAction(f *testing.F) {
	f.Add([]byte(`{"version":1,"notice_start":"2026-01-01T00:00:00Z","notice_end":"2026-01-09"}`))
	f.Add([]byte(`{"version":2,"facts":{"a":true,"b":[1]}}`))
	f.Add([]byte(`{"version":0}`))
	f.Add([]byte(`{"version":1} trailing`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeVersioned[listActionRequest](body)
		checkInvalid(t, err)
		if err == nil && in.Version < 1 {
			t.Fatalf("accepted version %d", in.Version)
		}
		if err == nil {
			_, err1 := parseTime("notice_start", in.NoticeStart)
			checkInvalid(t, err1)
		}
	})
}

func FuzzDecodeInspectionAction(f *testing.F) {
	f.Add([]byte(`{"version":3,"checklist":[{"item":"x","result":"compliant"}],"violation":{"malicious":true}}`))
	f.Add([]byte(`{"version":1,"proof_keys":["selfcheck/a/1/x.pdf"],"text":"t"}`))
	f.Add([]byte(`{"version":1,"violation":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeVersioned[inspectionRequest](body)
		checkInvalid(t, err)
		if err == nil && in.Violation != nil {
			_, err := enforce.Decide(true, *in.Violation, "x", parseTimeZero())
			checkInvalid(t, err)
		}
	})
}

func FuzzDecodeWarning(f *testing.F) {
	f.Add([]byte(`{"uscc":"91110000600037341L","source":"finding","ref":"f-1","message":"m","level":"city"}`))
	f.Add([]byte(`{"uscc":"x","source":"radio","ref":"","message":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, err := decodeWarning(body, enforce.LevelCity)
		checkInvalid(t, err)
	})
}

func FuzzDecodeDraw(f *testing.F) {
	f.Add([]byte(`{"seed":"00000000000000ff","inspectors":[{"id":"a","conflicts":["x"]},{"id":"b"}]}`))
	f.Add([]byte(`{"seed":"zz","inspectors":[]}`))
	f.Add([]byte(`{"inspectors":[{"id":"a"},{"id":"a"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, ins, err := decodeDraw(body)
		checkInvalid(t, err)
		if err == nil && len(ins) == 0 {
			t.Fatal("accepted a draw without inspectors")
		}
	})
}

func FuzzDecodeEvaluate(f *testing.F) {
	f.Add([]byte(`{"uscc":"91110000600037341L","facts":{"credit_rating":"A","employees":30,"discharge_compliant":true}}`))
	f.Add([]byte(`{"facts":{"x":{"y":1}}}`))
	f.Add([]byte(`{"facts":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeEvaluate(body, true)
		checkInvalid(t, err)
		if err == nil {
			enforce.Evaluate(enforce.DefaultAdmission(), in.Facts)
		}
	})
}

func FuzzParseEnterpriseCSV(f *testing.F) {
	f.Add([]byte("uscc,name,industry,permit_no,key_discharger,address,zone,lon,lat,complaint_channel\n91110000600037341L,A,C3120,,true,,,120,30,12369\n"))
	f.Add([]byte("uscc,name,industry,permit_no,key_discharger,address,zone,lon,lat,complaint_channel,legacy_override\n91110000600037341M,A,C,,x,,,a,b,,maybe\n\"unterminated\n"))
	f.Add([]byte("\xef\xbb\xbf"))
	f.Fuzz(func(t *testing.T, body []byte) {
		es, bad, err := parseEnterpriseCSV(body)
		checkInvalid(t, err)
		seen := map[string]bool{}
		for _, e := range es {
			if seen[e.USCC] {
				t.Fatalf("USCC %s accepted twice", e.USCC)
			}
			seen[e.USCC] = true
		}
		for _, b := range bad {
			if b.Row < 1 || b.Field == "" || b.Problem == "" {
				t.Fatalf("row error without row, field or problem: %+v", b)
			}
		}
	})
}

func parseTimeZero() time.Time { return time.Time{} }
