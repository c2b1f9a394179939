package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/testenv"
)

// newServer returns an API on a fresh database, a flushed Redis database and test buckets.
func newServer(t *testing.T, checks ...httpapi.Check) (*httpapi.Server, *httptest.Server) {
	t.Helper()
	db, err := postgres.Open(context.Background(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	store, err := s3.New(testenv.S3Config(t))
	if err != nil {
		t.Fatal(err)
	}
	q := asynq.NewClient(testenv.Redis(t))
	t.Cleanup(func() { q.Close() })
	captures := postgres.NewCaptureService(db)
	srv := &httpapi.Server{
		Parcels: postgres.NewParcelService(db), Captures: captures, Clips: captures,
		Queue: q, Store: store, CapturesBucket: store.Captures,
		Checks:       append([]httpapi.Check{{Name: "postgres", Ping: db.Ping}, {Name: "s3", Ping: store.Ping}}, checks...),
		MaxBodyBytes: 64 << 10,
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs
}

func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// TestOpenAPIDescribesEveryRoute checks the document against the server's routes: every
// documented operation answers (not 404/405), and paths that are not documented do not.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	_, hs := newServer(t)
	code, body := do(t, "GET", hs.URL+"/openapi.json", "")
	if code != 200 {
		t.Fatalf("GET /openapi.json: %d", code)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	n := 0
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			n++
			var op struct {
				Summary     string                     `json:"summary"`
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			if op.Summary == "" || op.OperationID == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: summary, operationId and responses are required: %s", method, path, raw)
			}
			url := hs.URL + strings.NewReplacer("{id}", "1").Replace(path)
			code, _ := do(t, strings.ToUpper(method), url, "{}")
			if code == http.StatusNotFound && !strings.Contains(path, "{") || code == http.StatusMethodNotAllowed {
				t.Errorf("%s %s is documented but answers %d", method, path, code)
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d operations documented", n)
	}
	for _, p := range []string{"/api/v1/nothing", "/api/v2/parcels"} {
		if code, _ := do(t, "GET", hs.URL+p, ""); code != http.StatusNotFound {
			t.Errorf("GET %s (undocumented) = %d, want 404", p, code)
		}
	}
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestBadInputNamesTheField(t *testing.T) {
	_, hs := newServer(t)
	square := `{"type":"Polygon","coordinates":[[[120,31],[120.01,31],[120.01,31.01],[120,31.01],[120,31]]]}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		field, msg               string
	}{
		{"parcels not json", "POST", "/api/v1/parcels", `{"type":`, 400, "body", "malformed JSON"},
		{"parcels not a collection", "POST", "/api/v1/parcels", `{"type":"Feature"}`, 400, "type", "FeatureCollection"},
		{"parcels empty", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[]}`, 400, "features", "empty"},
		{"parcel without id", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":` + square + `}]}`, 400, "features[0].properties.parcel_id", "non-empty string"},
		{"parcel id not a string", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":7},"geometry":` + square + `}]}`, 400, "features[0].properties.parcel_id", "string"},
		{"duplicate parcel ids", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":` + square + `},{"type":"Feature","properties":{"parcel_id":"a"},"geometry":` + square + `}]}`, 400, "features[1].properties.parcel_id", "features[0]"},
		{"parcel is a point", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":{"type":"Point","coordinates":[1,2]}}]}`, 400, "features[0].geometry", "Polygon or MultiPolygon"},
		{"parcel ring open", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]}`, 400, "features[0].geometry", "not closed"},
		{"parcel out of range", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":{"type":"Polygon","coordinates":[[[500000,3500000],[500100,3500000],[500100,3500100],[500000,3500000]]]}}]}`, 400, "features[0].geometry", "outside WGS84"},
		{"parcel self-intersecting", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}`, 400, "", ""},
		{"body too large", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[` + strings.Repeat(" ", 70<<10) + `]}`, 413, "", "larger than"},
		{"capture unknown field", "POST", "/api/v1/captures", `{"kind":"sentinel2","acquired_at":"2026-01-01T00:00:00Z","key":"a.tif","bucket":"x"}`, 400, "bucket", "not a known field"},
		{"capture kind", "POST", "/api/v1/captures", `{"kind":"sentinel3","acquired_at":"2026-01-01T00:00:00Z","key":"a.tif"}`, 400, "kind", "sentinel2"},
		{"capture time", "POST", "/api/v1/captures", `{"kind":"sentinel2","acquired_at":"yesterday","key":"a.tif"}`, 400, "acquired_at", "RFC 3339"},
		{"capture time type", "POST", "/api/v1/captures", `{"kind":"sentinel2","acquired_at":5,"key":"a.tif"}`, 400, "acquired_at", "string"},
		{"capture key traversal", "POST", "/api/v1/captures", `{"kind":"sentinel2","acquired_at":"2026-01-01T00:00:00Z","key":"a/../../etc/passwd"}`, 400, "key", "'..'"},
		{"capture key vsicurl", "POST", "/api/v1/captures", `{"kind":"sentinel2","acquired_at":"2026-01-01T00:00:00Z","key":"/vsicurl/http://x/y.tif"}`, 400, "key", ""},
		{"capture key url", "POST", "/api/v1/captures", `{"kind":"sentinel2","acquired_at":"2026-01-01T00:00:00Z","key":"s3://other/y.tif"}`, 400, "key", "not a URL"},
		{"capture object missing", "POST", "/api/v1/captures", `{"kind":"sentinel2","acquired_at":"2026-01-01T00:00:00Z","key":"nothing/here.tif"}`, 400, "key", "upload it first"},
		{"capture trailing data", "POST", "/api/v1/captures", `{"kind":"sentinel2"} {}`, 400, "body", "unexpected data"},
		{"capture id", "GET", "/api/v1/captures/abc", ``, 400, "id", "positive integer"},
		{"capture not found", "GET", "/api/v1/captures/12345", ``, 404, "", "capture 12345"},
		{"parcel not found", "GET", "/api/v1/parcels/nope", ``, 404, "", "parcel"},
		{"bbox", "GET", "/api/v1/parcels?bbox=1,2,3", ``, 400, "bbox", "minLon"},
		{"limit", "GET", "/api/v1/parcels?limit=0", ``, 400, "limit", "1..1000"},
		{"upload key", "POST", "/api/v1/uploads", `{"key":""}`, 400, "key", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, tc.method, hs.URL+tc.path, tc.body)
			if code != tc.status {
				t.Fatalf("status %d, want %d: %s", code, tc.status, body)
			}
			var e apiError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body is not JSON: %s", body)
			}
			if e.Error.Field != tc.field || !strings.Contains(e.Error.Message, tc.msg) {
				t.Errorf("error = %+v, want field %q and a message containing %q", e.Error, tc.field, tc.msg)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	_, hs := newServer(t)
	code, body := do(t, "GET", hs.URL+"/healthz", "")
	if code != 200 || !bytes.Contains(body, []byte(`"status": "ok"`)) {
		t.Errorf("healthy: %d %s", code, body)
	}
	_, down := newServer(t, httpapi.Check{Name: "redis", Ping: func(context.Context) error { return errors.New("connection refused") }})
	code, body = do(t, "GET", down.URL+"/healthz", "")
	if code != http.StatusServiceUnavailable || !bytes.Contains(body, []byte("connection refused")) {
		t.Errorf("with a failing check: %d %s", code, body)
	}
}
