package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// The evidence-per-enterprise answer is the API's busiest: under load, encoding/json's
// reflection, orb's GeoJSON (a json.Marshal per geometry) and the re-scan of every raw
// provenance took a fifth of the route's CPU. appendEvidence writes the same bytes as
// json.Marshal(evidenceAnswer{...}) built the way evidenceAnswerOf builds it (the tests
// compare them byte for byte), straight from the stored values into a pooled buffer.

// jsonBufs holds the buffers of encoded answers between requests.
var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// maxPooledJSON is the largest buffer given back to jsonBufs: a rare huge answer is not kept.
const maxPooledJSON = 1 << 20

// writeEvidence answers the evidence of enterprise uscc, as writeJSONCompact would
// evidenceAnswerOf(uscc, ev).
func (s *Server) writeEvidence(w http.ResponseWriter, r *http.Request, uscc string, ev []enforce.EvidenceParcel) {
	bp := jsonBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledJSON {
			jsonBufs.Put(bp)
		}
	}()
	b, err := appendEvidence((*bp)[:0], uscc, ev)
	*bp = b
	if err != nil {
		s.Error(w, r, err)
		return
	}
	b = append(b, '\n')
	*bp = b
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// evidenceAnswerOf is the answer of the evidence route as values encoding/json marshals (the
// OpenAPI schema is derived from these types; appendEvidence writes the same bytes).
func evidenceAnswerOf(uscc string, ev []enforce.EvidenceParcel) (*evidenceAnswer, error) {
	out := make([]evidenceParcel, 0, len(ev))
	for _, e := range ev {
		g, err := geojsonGeometry(e.Parcel.Geometry).MarshalJSON()
		if err != nil {
			return nil, err
		}
		po := evidenceParcel{ParcelID: e.Parcel.ID, Name: e.Parcel.Name, Geometry: g, RetiredAt: e.Parcel.RetiredAt, Clips: make([]evidenceClip, 0, len(e.Clips)),
			Findings: make([]evidenceFinding, 0, len(e.Findings))}
		for _, f := range e.Findings {
			fg, err := geojsonGeometry(f.Geometry).MarshalJSON()
			if err != nil {
				return nil, err
			}
			po.Findings = append(po.Findings, evidenceFinding{Finding: f, Geometry: fg})
		}
		for _, c := range e.Clips {
			po.Clips = append(po.Clips, evidenceClip{Clip: c, COGURL: evidenceObjectPath + c.COGKey, QuickLookURL: evidenceObjectPath + c.QuickLookKey})
		}
		out = append(out, po)
	}
	return &evidenceAnswer{USCC: uscc, Parcels: out}, nil
}

// appendEvidence appends the JSON of evidenceAnswerOf(uscc, ev) to b.
func appendEvidence(b []byte, uscc string, ev []enforce.EvidenceParcel) ([]byte, error) {
	var err error
	b = append(b, `{"uscc":`...)
	b = appendJSONString(b, uscc)
	b = append(b, `,"parcels":[`...)
	for i, e := range ev {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"parcel_id":`...)
		b = appendJSONString(b, e.Parcel.ID)
		if e.Parcel.Name != "" {
			b = append(b, `,"name":`...)
			b = appendJSONString(b, e.Parcel.Name)
		}
		b = append(b, `,"geometry":`...)
		if b, err = appendGeoJSON(b, e.Parcel.Geometry); err != nil {
			return b, fmt.Errorf("parcel %s geometry: %w", e.Parcel.ID, err)
		}
		if e.Parcel.RetiredAt != nil {
			b = append(b, `,"retired_at":`...)
			if b, err = appendJSONTime(b, *e.Parcel.RetiredAt); err != nil {
				return b, err
			}
		}
		b = append(b, `,"findings":[`...)
		for j, f := range e.Findings {
			if j > 0 {
				b = append(b, ',')
			}
			if b, err = appendEvidenceFinding(b, f); err != nil {
				return b, fmt.Errorf("finding %s: %w", f.ID, err)
			}
		}
		b = append(b, `],"clips":[`...)
		for j, c := range e.Clips {
			if j > 0 {
				b = append(b, ',')
			}
			if b, err = appendEvidenceClip(b, c); err != nil {
				return b, fmt.Errorf("clip of capture %d: %w", c.CaptureID, err)
			}
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...), nil
}

// appendEvidenceFinding appends evidenceFinding{f, its GeoJSON geometry}: f's fields in
// offsite.Finding's order, then the geometry.
func appendEvidenceFinding(b []byte, f *offsite.Finding) (_ []byte, err error) {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, f.ID)
	b = append(b, `,"parcel_id":`...)
	b = appendJSONString(b, f.ParcelID)
	if f.USCC != "" {
		b = append(b, `,"uscc":`...)
		b = appendJSONString(b, f.USCC)
	}
	b = append(b, `,"capture_ids":`...)
	if f.CaptureIDs == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, id := range f.CaptureIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		b = append(b, ']')
	}
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, f.Kind)
	b = append(b, `,"class":`...)
	b = appendJSONString(b, f.Class)
	if f.Status != "" {
		b = append(b, `,"status":`...)
		b = appendJSONString(b, f.Status)
	}
	b = append(b, `,"score":`...)
	if b, err = appendJSONFloat(b, f.Score); err != nil {
		return b, err
	}
	b = append(b, `,"area_m2":`...)
	if b, err = appendJSONFloat(b, f.AreaM2); err != nil {
		return b, err
	}
	if f.Severity != "" {
		b = append(b, `,"severity":`...)
		b = appendJSONString(b, f.Severity)
	}
	b = append(b, `,"pipeline":`...)
	b = appendJSONString(b, f.Pipeline)
	b = append(b, `,"pipeline_hash":`...)
	b = appendJSONString(b, f.PipelineHash)
	b = append(b, `,"detected_at":`...)
	if b, err = appendJSONTime(b, f.DetectedAt); err != nil {
		return b, err
	}
	if len(f.Properties) > 0 {
		// Free-form and rare on this route: encoding/json writes it (sorted keys).
		p, err := json.Marshal(f.Properties)
		if err != nil {
			return b, err
		}
		b = append(b, `,"properties":`...)
		b = append(b, p...)
	}
	b = append(b, `,"provenance":`...)
	if f.Provenance == nil {
		b = append(b, "null"...)
	} else if b, err = appendRawJSON(b, f.Provenance); err != nil {
		return b, fmt.Errorf("provenance: %w", err)
	}
	b = append(b, `,"artifacts":`...)
	if f.Artifacts == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, a := range f.Artifacts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, a.Name)
			b = append(b, `,"key":`...)
			b = appendJSONString(b, a.Key)
			b = append(b, `,"sha256":`...)
			b = appendJSONString(b, a.SHA256)
			b = append(b, `,"size":`...)
			b = strconv.AppendInt(b, a.Size, 10)
			b = append(b, `,"media_type":`...)
			b = appendJSONString(b, a.MediaType)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"created_at":`...)
	if b, err = appendJSONTime(b, f.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"geometry":`...)
	if b, err = appendGeoJSON(b, f.Geometry); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendEvidenceClip appends evidenceClip{c, its download links}.
func appendEvidenceClip(b []byte, c *offsite.Clip) (_ []byte, err error) {
	b = append(b, `{"capture_id":`...)
	b = strconv.AppendInt(b, c.CaptureID, 10)
	b = append(b, `,"parcel_id":`...)
	b = appendJSONString(b, c.ParcelID)
	b = append(b, `,"cog_key":`...)
	b = appendJSONString(b, c.COGKey)
	b = append(b, `,"cog_sha256":`...)
	b = appendJSONString(b, c.COGSHA256)
	b = append(b, `,"cog_bytes":`...)
	b = strconv.AppendInt(b, c.COGBytes, 10)
	b = append(b, `,"quicklook_key":`...)
	b = appendJSONString(b, c.QuickLookKey)
	b = append(b, `,"quicklook_sha256":`...)
	b = appendJSONString(b, c.QuickLookSHA256)
	b = append(b, `,"width":`...)
	b = strconv.AppendInt(b, int64(c.Width), 10)
	b = append(b, `,"height":`...)
	b = strconv.AppendInt(b, int64(c.Height), 10)
	b = append(b, `,"valid_pixels":`...)
	b = strconv.AppendInt(b, c.ValidPixels, 10)
	b = append(b, `,"created_at":`...)
	if b, err = appendJSONTime(b, c.CreatedAt); err != nil {
		return b, err
	}
	// The links are never empty (omitempty keeps nothing out).
	b = append(b, `,"cog_url":"`+evidenceObjectPath...)
	b = appendJSONStringBody(b, c.COGKey)
	b = append(b, `","quicklook_url":"`+evidenceObjectPath...)
	b = appendJSONStringBody(b, c.QuickLookKey)
	return append(b, `"}`...), nil
}

// appendGeoJSON appends g as orb's geojson.NewGeometry(g).MarshalJSON writes it. A
// collection, which no parcel or finding is, is left to orb.
func appendGeoJSON(b []byte, g orb.Geometry) (_ []byte, err error) {
	switch g := g.(type) {
	case nil:
		return append(b, "null"...), nil
	case orb.Point:
		b = append(b, `{"type":"Point","coordinates":`...)
		b, err = appendPoint(b, g)
	case orb.MultiPoint:
		b = append(b, `{"type":"MultiPoint","coordinates":`...)
		b, err = appendPoints(b, g)
	case orb.LineString:
		b = append(b, `{"type":"LineString","coordinates":`...)
		b, err = appendPoints(b, g)
	case orb.MultiLineString:
		b = append(b, `{"type":"MultiLineString","coordinates":`...)
		if g == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for i, l := range g {
				if i > 0 {
					b = append(b, ',')
				}
				if b, err = appendPoints(b, l); err != nil {
					return b, err
				}
			}
			b = append(b, ']')
		}
	case orb.Ring:
		b = append(b, `{"type":"Polygon","coordinates":`...)
		b, err = appendPolygon(b, orb.Polygon{g})
	case orb.Bound:
		b = append(b, `{"type":"Polygon","coordinates":`...)
		b, err = appendPolygon(b, g.ToPolygon())
	case orb.Polygon:
		b = append(b, `{"type":"Polygon","coordinates":`...)
		b, err = appendPolygon(b, g)
	case orb.MultiPolygon:
		b = append(b, `{"type":"MultiPolygon","coordinates":`...)
		if g == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for i, p := range g {
				if i > 0 {
					b = append(b, ',')
				}
				if b, err = appendPolygon(b, p); err != nil {
					return b, err
				}
			}
			b = append(b, ']')
		}
	default:
		j, err := geojsonGeometry(g).MarshalJSON()
		if err != nil {
			return b, err
		}
		return append(b, j...), nil
	}
	if err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

func appendPoint(b []byte, p orb.Point) (_ []byte, err error) {
	b = append(b, '[')
	if b, err = appendJSONFloat(b, p[0]); err != nil {
		return b, err
	}
	b = append(b, ',')
	if b, err = appendJSONFloat(b, p[1]); err != nil {
		return b, err
	}
	return append(b, ']'), nil
}

// appendPoints appends a LineString, Ring or MultiPoint's points (null when nil, as
// encoding/json writes a nil slice).
func appendPoints[P ~[]orb.Point](b []byte, ps P) (_ []byte, err error) {
	if ps == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendPoint(b, p); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendPolygon(b []byte, p orb.Polygon) (_ []byte, err error) {
	if p == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, r := range p {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendPoints(b, r); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// errNotFinite is the error for a NaN or infinite number, which JSON cannot hold.
var errNotFinite = errors.New("a number is NaN or infinite")

// appendJSONFloat appends f as encoding/json writes a float64 (ES6 number formatting).
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, errNotFinite
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// appendJSONTime appends t as its MarshalJSON does (RFC 3339 with nanoseconds), refusing what
// that refuses: a year outside 0–9999 or a zone offset of 24 hours or more.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, fmt.Errorf("time %v: year outside of range [0,9999]", t)
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return b, fmt.Errorf("time %v: timezone hour outside of range [0,23]", t)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json writes a string (HTML escaped: <, > and &
// as \u003c, \u003e and \u0026; U+2028 and U+2029 escaped; invalid UTF-8 as U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONStringBody(b, s)
	return append(b, '"')
}

// appendJSONStringBody is appendJSONString without the quotes.
func appendJSONStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// appendRawJSON appends raw, the text of a PostgreSQL jsonb value, as encoding/json writes a
// json.RawMessage: without the whitespace between tokens, with <, >, & and U+2028/U+2029
// escaped. raw is taken to be valid JSON (jsonb holds nothing else); an unterminated string
// or unbalanced brackets are refused all the same.
func appendRawJSON(b []byte, raw []byte) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return b, errors.New("empty JSON value")
	}
	inString, escaped := false, false
	depth := 0
	start := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			case c == '<' || c == '>' || c == '&':
				b = append(b, raw[start:i]...)
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
				start = i + 1
			case c == 0xE2 && i+2 < len(raw) && raw[i+1] == 0x80 && raw[i+2]&^1 == 0xA8:
				b = append(b, raw[start:i]...)
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[raw[i+2]&0xF])
				i += 2
				start = i + 1
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			b = append(b, raw[start:i]...)
			start = i + 1
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	if inString || depth != 0 {
		return b, fmt.Errorf("not a complete JSON value: %.40q", raw)
	}
	return append(b, raw[start:]...), nil
}
