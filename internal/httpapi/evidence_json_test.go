package httpapi

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/testenv"
)

// awkward are strings encoding/json escapes in every way it has.
var awkward = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "bad \xff\xfe utf-8 \xe2\x80", "line\u2028para\u2029sep", "苏州工业园区 排污口",
	"emoji 🛰️", "\u00e9\u0301", strings.Repeat("ab<", 100),
}

// jsonbText returns what PostgreSQL gives back for the JSON text v as a jsonb value (the
// store scans provenance that way): the whitespace and key order of jsonb's output.
func jsonbText(t *testing.T, conn *pgx.Conn, v string) json.RawMessage {
	t.Helper()
	var raw json.RawMessage
	if err := conn.QueryRow(context.Background(), "SELECT $1::jsonb", v).Scan(&raw); err != nil {
		t.Fatalf("%s as jsonb: %v", v, err)
	}
	return raw
}

func evidenceFixture(t *testing.T) []enforce.EvidenceParcel {
	conn, err := pgx.Connect(context.Background(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	cst := time.FixedZone("CST", 8*3600)
	times := []time.Time{
		time.Date(2026, 5, 1, 2, 3, 4, 0, time.UTC),
		time.Date(2026, 5, 1, 2, 3, 4, 123456789, cst),
		time.Date(1999, 12, 31, 23, 59, 59, 100000, time.FixedZone("", -(9*3600+30*60))),
		{},
	}
	floats := []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, 1e-6, 9.99e-7, 1e-7, -1e-300, 1e20, 1e21, 123456789.123456789, 31.2999999999, 120.7, math.MaxFloat64, math.SmallestNonzeroFloat64}
	geoms := []orb.Geometry{
		nil,
		orb.Point{120.5, 31.25},
		orb.MultiPoint{{1, 2}, {3e-8, -4e22}},
		orb.LineString{{1, 2}, {3, 4}},
		orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}},
		orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}},
		orb.Bound{Min: orb.Point{120, 31}, Max: orb.Point{120.001, 31.001}},
		orb.Polygon{{{120.1, 31.1}, {120.2, 31.1}, {120.2, 31.2}, {120.1, 31.1}}, {{120.15, 31.15}, {120.16, 31.15}, {120.16, 31.16}, {120.15, 31.15}}},
		orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, {{{2, 2}, {3, 2}, {3, 3}, {2, 2}}}},
		orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}},
		orb.Polygon(nil),
		orb.Polygon{},
		orb.MultiPolygon(nil),
		orb.LineString(nil),
	}
	provenances := []json.RawMessage{
		nil,
		jsonbText(t, conn, `{"type":"Feature","stac_version":"1.0.0","id":"finding","links":[{"rel":"derived_from","href":"captures/7"}]}`),
		jsonbText(t, conn, `{"a < b":"x & y > z","nested":{"list":[1, 2.50, -3e-7, true, false, null, "s p a c e s", "q\"uote", "back\\slash"]},"sep":"\u2028\u2029","zh":"排污","ctl":"\u0001\n\t"}`),
		jsonbText(t, conn, `[]`),
		jsonbText(t, conn, `"just a string: <b>"`),
		jsonbText(t, conn, `12.5`),
	}
	var ev []enforce.EvidenceParcel
	n := 0
	for p := 0; p < 6; p++ {
		s := awkward[p%len(awkward)]
		ep := enforce.EvidenceParcel{
			Parcel: &offsite.Parcel{ID: "parcel-" + s, Name: awkward[(p+3)%len(awkward)], Geometry: geoms[p%len(geoms)]},
			Clips:  []*offsite.Clip{}, Findings: []*offsite.Finding{},
		}
		for i := 0; i < 8; i++ {
			n++
			f := &offsite.Finding{
				ID: awkward[n%len(awkward)] + "-id", ParcelID: ep.Parcel.ID, USCC: awkward[(n+1)%len(awkward)],
				CaptureIDs: []int64{int64(n), -int64(n) * 1e12}, Kind: awkward[(n+2)%len(awkward)], Class: "new_structure",
				Status: awkward[(n+4)%len(awkward)], Score: floats[n%len(floats)], AreaM2: floats[(n+5)%len(floats)],
				Severity: awkward[(n+5)%len(awkward)], Geometry: geoms[n%len(geoms)], Pipeline: "sentinel2", PipelineHash: awkward[(n+6)%len(awkward)],
				DetectedAt: times[n%len(times)], CreatedAt: times[(n+1)%len(times)], Provenance: provenances[n%len(provenances)],
				Artifacts: []offsite.Artifact{{Name: "after.png", Key: "sha256/" + awkward[n%len(awkward)], SHA256: "ab", Size: int64(n) << 40, MediaType: "image/png"}},
			}
			switch n % 4 {
			case 0:
				f.CaptureIDs, f.Artifacts = nil, nil
			case 1:
				f.CaptureIDs, f.Artifacts = []int64{}, []offsite.Artifact{}
				f.Properties = map[string]any{"z": 1.5, "a": []any{"x<y", nil, true}, "m": map[string]any{"k": "v&w"}}
			case 2:
				f.Properties = map[string]any{}
			}
			ep.Findings = append(ep.Findings, f)
			ep.Clips = append(ep.Clips, &offsite.Clip{CaptureID: int64(n), ParcelID: ep.Parcel.ID, COGKey: "sha256/" + awkward[(n+7)%len(awkward)] + ".tif",
				COGSHA256: awkward[n%len(awkward)], COGBytes: int64(n) * 1e9, QuickLookKey: "q/" + awkward[(n+8)%len(awkward)], QuickLookSHA256: "cd",
				Width: n, Height: -n, ValidPixels: int64(n) * 7, CreatedAt: times[(n+2)%len(times)]})
		}
		ev = append(ev, ep)
	}
	return ev
}

// TestAppendEvidenceMatchesEncodingJSON: the hand-written encoder of the evidence route
// writes, byte for byte, what encoding/json and orb write for the same answer, over strings
// with every escape, numbers at both ends of the float formats, times in other zones, every
// geometry type, nil and empty slices, free-form properties and provenance as PostgreSQL's
// jsonb returns it.
func TestAppendEvidenceMatchesEncodingJSON(t *testing.T) {
	ev := evidenceFixture(t)
	for _, tc := range []struct {
		name string
		ev   []enforce.EvidenceParcel
	}{
		{"no parcels", []enforce.EvidenceParcel{}},
		{"nil parcels", nil},
		{"one parcel without findings or clips", []enforce.EvidenceParcel{{Parcel: &offsite.Parcel{ID: "p", Geometry: orb.Point{1, 2}}}}},
		{"all", ev},
	} {
		for _, uscc := range []string{"91320500000000001X", "<&>\u2028"} {
			t.Run(tc.name, func(t *testing.T) {
				a, err := evidenceAnswerOf(uscc, tc.ev)
				if err != nil {
					t.Fatal(err)
				}
				want, err := json.Marshal(a)
				if err != nil {
					t.Fatal(err)
				}
				got, err := appendEvidence([]byte("prefix"), uscc, tc.ev)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(string(got), "prefix") {
					t.Fatalf("the buffer's content was not kept: %.20q", got)
				}
				if got := string(got[len("prefix"):]); got != string(want) {
					i := 0
					for i < len(got) && i < len(want) && got[i] == want[i] {
						i++
					}
					t.Fatalf("differs from encoding/json at byte %d of %d:\n got …%.120s\nwant …%.120s", i, len(want), got[max(0, i-60):], want[max(0, i-60):])
				}
				if !json.Valid(got[len("prefix"):]) {
					t.Fatal("not valid JSON")
				}
			})
		}
	}
}

// TestAppendEvidenceRefusesWhatEncodingJSONRefuses: a NaN score, a time of year 10000 and
// provenance that is not a whole JSON value fail the answer (a 500, logged) rather than
// send something broken.
func TestAppendEvidenceRefusesWhatEncodingJSONRefuses(t *testing.T) {
	good := func() *offsite.Finding {
		return &offsite.Finding{ID: "f", Provenance: json.RawMessage(`{"a": 1}`), DetectedAt: time.Unix(0, 0), CreatedAt: time.Unix(0, 0)}
	}
	for _, tc := range []struct {
		name string
		edit func(f *offsite.Finding)
	}{
		{"NaN score", func(f *offsite.Finding) { f.Score = math.NaN() }},
		{"infinite area", func(f *offsite.Finding) { f.AreaM2 = math.Inf(-1) }},
		{"NaN coordinate", func(f *offsite.Finding) { f.Geometry = orb.Point{math.NaN(), 1} }},
		{"year 10000", func(f *offsite.Finding) { f.DetectedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"negative year", func(f *offsite.Finding) { f.CreatedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"zone of 24 hours", func(f *offsite.Finding) { f.CreatedAt = time.Unix(0, 0).In(time.FixedZone("", 24*3600)) }},
		{"empty provenance", func(f *offsite.Finding) { f.Provenance = json.RawMessage(" ") }},
		{"unterminated provenance", func(f *offsite.Finding) { f.Provenance = json.RawMessage(`{"a": "b}`) }},
		{"unbalanced provenance", func(f *offsite.Finding) { f.Provenance = json.RawMessage(`{"a": [1}`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := good()
			ev := []enforce.EvidenceParcel{{Parcel: &offsite.Parcel{ID: "p"}, Findings: []*offsite.Finding{f}}}
			if _, err := appendEvidence(nil, "u", ev); err != nil {
				t.Fatalf("before the edit: %v", err)
			}
			tc.edit(f)
			a, aerr := evidenceAnswerOf("u", ev)
			if aerr == nil {
				_, aerr = json.Marshal(a)
			}
			if aerr == nil {
				t.Fatal("encoding/json accepts it: the case tests nothing")
			}
			if _, err := appendEvidence(nil, "u", ev); err == nil {
				t.Fatalf("encoded; encoding/json says %v", aerr)
			}
		})
	}
}

func BenchmarkEvidenceEncoding(b *testing.B) {
	// Ten findings and ten clips of one parcel, as bench-api's enterprises have.
	prov := json.RawMessage(`{"id": "finding", "type": "Feature", "links": [{"rel": "derived_from", "href": "captures/7"}], "stac_version": "1.0.0"}`)
	ep := enforce.EvidenceParcel{Parcel: &offsite.Parcel{ID: "bench-1", Name: "Parcel 1",
		Geometry: orb.Polygon{{{120.1, 31.1}, {120.2, 31.1}, {120.2, 31.2}, {120.1, 31.2}, {120.1, 31.1}}}}}
	for i := range 10 {
		ep.Findings = append(ep.Findings, &offsite.Finding{ID: strings.Repeat("ab", 32), ParcelID: "bench-1", CaptureIDs: []int64{int64(i)},
			Kind: "change", Class: "new_structure", Score: 0.7, AreaM2: 400, Severity: "high",
			Geometry: orb.Polygon{{{120.1, 31.1}, {120.1002, 31.1}, {120.1002, 31.1002}, {120.1, 31.1002}, {120.1, 31.1}}},
			Pipeline: "sentinel2", PipelineHash: strings.Repeat("cd", 32), DetectedAt: time.Now(), CreatedAt: time.Now(), Provenance: prov,
			Artifacts: []offsite.Artifact{{Name: "after.png", Key: "sha256/" + strings.Repeat("ef", 32) + ".png", SHA256: strings.Repeat("ef", 32), Size: 2048, MediaType: "image/png"}}})
		ep.Clips = append(ep.Clips, &offsite.Clip{CaptureID: int64(i), ParcelID: "bench-1", COGKey: "sha256/" + strings.Repeat("01", 32) + ".tif",
			COGSHA256: strings.Repeat("01", 32), COGBytes: 123456, QuickLookKey: "sha256/" + strings.Repeat("02", 32) + ".png",
			QuickLookSHA256: strings.Repeat("02", 32), Width: 40, Height: 40, ValidPixels: 1600, CreatedAt: time.Now()})
	}
	ev := []enforce.EvidenceParcel{ep}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a, err := evidenceAnswerOf("u", ev)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("appendEvidence", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 32<<10)
		for b.Loop() {
			var err error
			if buf, err = appendEvidence(buf[:0], "u", ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
