package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/metrics"
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
	redis := testenv.Redis(t)
	q := asynq.NewClient(redis)
	t.Cleanup(func() { q.Close() })
	insp := asynq.NewInspector(redis)
	t.Cleanup(func() { insp.Close() })
	captures := postgres.NewCaptureService(db)
	_, keys := testenv.AuditKey(t)
	srv := &httpapi.Server{
		Parcels: postgres.NewParcelService(db), Captures: captures, Clips: captures, Artifacts: captures, Findings: postgres.NewFindingService(db), Surveys: postgres.NewSurveyService(db),
		Zones: postgres.NewZoneService(db), Nightly: postgres.NewNightlyService(db),
		Queue: q, Inspector: insp, Metrics: metrics.New(), Store: store, CapturesBucket: store.Captures,
		Checks:       append([]httpapi.Check{{Name: "postgres", Ping: db.Ping}, {Name: "s3", Ping: store.Ping}}, checks...),
		MaxBodyBytes: 64 << 10,
		Tokens:       mustTestTokens(t),
	}
	enf := postgres.NewEnforceService(db, postgres.AuditConfig{Keys: keys, Heads: store})
	srv.Enforce, srv.EnterpriseStore, srv.InspectionStore, srv.ListStore, srv.DrawStore = enf, postgres.NewEnterpriseStore(enf), postgres.NewInspectionStore(enf), postgres.NewListStore(enf), postgres.NewDrawStore(enf)
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
	req.Header.Set("Authorization", "Bearer "+tokenOf[httpapi.RoleAdmin])
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

// apiError is an error answer: an RFC 7807 problem (conventions.go) whose code, field and
// message are repeated under "error".
type apiError struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
	Error  struct {
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
		{"parcels not json", "POST", "/api/v1/parcels", `{"type":`, 400, "body", "geojson"},
		{"parcels not a collection", "POST", "/api/v1/parcels", `{"type":"Feature"}`, 400, "features[0].properties.parcel_id", "is missing"},
		{"parcels empty", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[]}`, 400, "features", "empty"},
		{"parcel without id", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":` + square + `}]}`, 400, "features[0].properties.parcel_id", "is missing"},
		{"parcel id not a string", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":7},"geometry":` + square + `}]}`, 400, "features[0].properties.parcel_id", "is a number, want a string"},
		{"duplicate parcel ids", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":` + square + `},{"type":"Feature","properties":{"parcel_id":"a"},"geometry":` + square + `}]}`, 400, "features[1].properties.parcel_id", "also used by feature 0"},
		{"parcel is a point", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}}]}`, 400, "features[0].geometry", "LineString"},
		{"parcel ring open", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]}`, 400, "features[0].geometry", "unclosed_ring"},
		{"parcel out of range", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":{"type":"Polygon","coordinates":[[[500000,3500000],[500100,3500000],[500100,3500100],[500000,3500000]]]}}]}`, 400, "features[0].geometry", "out_of_range"},
		{"parcel self-intersecting", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}`, 400, "features[0].geometry", "self_intersection"},
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
		{"captures kind", "GET", "/api/v1/captures?kind=sentinel3", ``, 400, "kind", "sentinel2"},
		{"captures status", "GET", "/api/v1/captures?status=done", ``, 400, "status", "processed"},
		{"captures from", "GET", "/api/v1/captures?from=yesterday", ``, 400, "from", "YYYY-MM-DD"},
		{"captures window", "GET", "/api/v1/captures?from=2026-05-02&to=2026-05-01", ``, 400, "from", "before to"},
		{"captures limit", "GET", "/api/v1/captures?limit=1001", ``, 400, "limit", "1..1000"},
		{"captures ids", "GET", "/api/v1/captures?ids=1,x", ``, 400, "ids", "positive integers"},
		{"captures unknown parameter", "GET", "/api/v1/captures?sort=key", ``, 400, "sort", "not a parameter"},
		{"parcel not found", "GET", "/api/v1/parcels/nope", ``, 404, "", "parcel"},
		{"bbox", "GET", "/api/v1/parcels?bbox=1,2,3", ``, 400, "bbox", "minLon"},
		{"limit", "GET", "/api/v1/parcels?limit=0", ``, 400, "limit", "1..1000"},
		{"upload key", "POST", "/api/v1/uploads", `{"key":""}`, 400, "key", "empty"},
		{"findings kind", "GET", "/api/v1/findings?kind=fire", ``, 400, "kind", "change, hotspot"},
		{"findings capture", "GET", "/api/v1/findings?capture_id=x", ``, 400, "capture_id", "positive integer"},
		{"gcj02 flag", "POST", "/api/v1/parcels?gcj02=maybe", square, 400, "gcj02", "true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, tc.method, hs.URL+tc.path, tc.body)
			checkAPIError(t, code, body, tc.status, tc.field, tc.msg)
		})
	}
}

// TestParcelImportOptions: repair=true stores a self-intersecting parcel repaired, and
// gcj02=true moves web-map coordinates back onto WGS84.
func TestParcelImportOptions(t *testing.T) {
	_, hs := newServer(t)
	bow := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"bow"},"geometry":{"type":"Polygon","coordinates":[[[120,31],[120.01,31.01],[120.01,31],[120,31.01],[120,31]]]}}]}`
	if code, body := do(t, "POST", hs.URL+"/api/v1/parcels", bow); code != 400 {
		t.Fatalf("bow-tie without repair: %d %s", code, body)
	}
	if code, body := do(t, "POST", hs.URL+"/api/v1/parcels?repair=true", bow); code != 200 {
		t.Fatalf("bow-tie with repair: %d %s", code, body)
	}
	code, body := do(t, "GET", hs.URL+"/api/v1/parcels/bow", "")
	if code != 200 || !strings.Contains(string(body), "MultiPolygon") {
		t.Errorf("repaired bow-tie: %d %s (want two triangles)", code, body)
	}

	// A parcel drawn on a GCJ-02 map of Shanghai lies some 450 m east and 200 m south of its
	// WGS84 position; imported with gcj02=true it is stored shifted back.
	sq := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"sh"},"geometry":{"type":"Polygon","coordinates":[[[121.47,31.23],[121.471,31.23],[121.471,31.231],[121.47,31.231],[121.47,31.23]]]}}]}`
	if code, body := do(t, "POST", hs.URL+"/api/v1/parcels?gcj02=true", sq); code != 200 {
		t.Fatalf("gcj02 import: %d %s", code, body)
	}
	_, body = do(t, "GET", hs.URL+"/api/v1/parcels/sh", "")
	var f struct {
		Geometry struct {
			Coordinates [][][2]float64 `json:"coordinates"`
		} `json:"geometry"`
	}
	if err := json.Unmarshal(body, &f); err != nil || len(f.Geometry.Coordinates) == 0 {
		t.Fatalf("GET parcel sh: %v %s", err, body)
	}
	p := f.Geometry.Coordinates[0][0]
	dLon, dLat := (121.47-p[0])*95000, (31.23-p[1])*111000 // metres, roughly
	if dLon < 300 || dLon > 700 || dLat > -50 || dLat < -400 {
		t.Errorf("gcj02 shift = %.0f m east, %.0f m north; want the Shanghai offset (~450 m east, ~200 m south)", dLon, dLat)
	}
}

func TestFindingsRoute(t *testing.T) {
	srv, hs := newServer(t)
	ctx := context.Background()
	sq := orb.Polygon{{{120, 31}, {120.01, 31}, {120.01, 31.01}, {120, 31.01}, {120, 31}}}
	if err := srv.Parcels.UpsertParcels(ctx, []*offsite.Parcel{{ID: "p1", Geometry: sq}}); err != nil {
		t.Fatal(err)
	}
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Now(), Bucket: "b", Key: "k"}
	if err := srv.Captures.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	f := &offsite.Finding{ID: "00112233445566778899aabbccddeeff", ParcelID: "p1", CaptureIDs: []int64{c.ID},
		Kind: offsite.FindingHotspot, Class: "thermal_anomaly", Status: "new", Score: 0.8, AreaM2: 400,
		Severity: "high", Geometry: sq, Pipeline: "sentinel2", PipelineHash: "abc", DetectedAt: time.Now(),
		Provenance: json.RawMessage(`{"type":"Feature"}`),
		Artifacts:  []offsite.Artifact{{Name: "after.png", Key: "sha256/00/00.png", SHA256: "00", MediaType: "image/png"}}}
	if err := srv.Findings.RecordFindings(ctx, []*offsite.Finding{f}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{
		"": 1, "?parcel_id=p1": 1, "?parcel_id=p2": 0, "?kind=hotspot": 1, "?kind=change": 0,
		fmt.Sprintf("?capture_id=%d", c.ID): 1, "?bbox=121,31,122,32": 0, "?bbox=119,30,121,32": 1,
	} {
		code, body := do(t, "GET", hs.URL+"/api/v1/findings"+q, "")
		var fc struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
			NumberMatched int `json:"numberMatched"`
		}
		if err := json.Unmarshal(body, &fc); code != 200 || err != nil {
			t.Fatalf("GET /api/v1/findings%s: %d %s", q, code, body)
		}
		if len(fc.Features) != want || fc.NumberMatched != want {
			t.Errorf("GET /api/v1/findings%s: %d features, want %d", q, len(fc.Features), want)
		}
		if want == 1 {
			p := fc.Features[0].Properties
			if p["class"] != "thermal_anomaly" || p["severity"] != "high" || p["artifacts"] == nil || p["provenance"] == nil {
				t.Errorf("finding properties = %v", p)
			}
		}
	}
}

func TestAdminRoutes(t *testing.T) {
	srv, hs := newServer(t)
	task := asynq.NewTask("capture:clip", []byte(`{"capture_id":1}`))
	if _, err := srv.Queue.EnqueueContext(context.Background(), task, asynq.Queue("default")); err != nil {
		t.Fatal(err)
	}
	code, body := do(t, "GET", hs.URL+"/api/v1/admin/queues", "")
	if code != 200 || !strings.Contains(string(body), `"queue": "default"`) || !strings.Contains(string(body), `"pending": 1`) {
		t.Errorf("GET /api/v1/admin/queues: %d %s", code, body)
	}
	do(t, "GET", hs.URL+"/api/v1/parcels/nope", "")
	code, body = do(t, "GET", hs.URL+"/metrics", "")
	if code != 200 || !strings.Contains(string(body), `offsite_http_requests_total{code="404",method="GET",route="GET /api/v1/parcels/{id}"} 1`) {
		t.Errorf("GET /metrics: %d\n%s", code, body)
	}
}

func TestHealthz(t *testing.T) {
	_, hs := newServer(t)
	code, body := do(t, "GET", hs.URL+"/healthz", "")
	if code != 200 || !bytes.Contains(body, []byte(`"status": "ok"`)) {
		t.Errorf("healthy: %d %s", code, body)
	}
	// The route is public: it says which dependency is down, not why (the error names
	// internal addresses).
	_, down := newServer(t, httpapi.Check{Name: "redis", Ping: func(context.Context) error { return errors.New("dial tcp 10.1.2.3:6379: connection refused") }})
	code, body = do(t, "GET", down.URL+"/healthz", "")
	if code != http.StatusServiceUnavailable || !bytes.Contains(body, []byte(`"name": "redis",
      "ok": false`)) || bytes.Contains(body, []byte("10.1.2.3")) || bytes.Contains(body, []byte("refused")) {
		t.Errorf("with a failing check: %d %s", code, body)
	}
}

// checkAPIError fails t unless the answer has the status and, as a JSON error, names the
// field and carries msg in its message.
func checkAPIError(t *testing.T, code int, body []byte, status int, field, msg string) {
	t.Helper()
	if code != status {
		t.Fatalf("status %d, want %d: %s", code, status, body)
	}
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", body)
	}
	if e.Error.Field != field || !strings.Contains(e.Error.Message, msg) {
		t.Errorf("error = %+v, want field %q and a message containing %q", e.Error, field, msg)
	}
	if e.Status != status || e.Field != field || e.Detail != e.Error.Message || e.Code != e.Error.Code {
		t.Errorf("problem %+v does not agree with the answer's status %d, field %q and error %+v", e, status, field, e.Error)
	}
}
