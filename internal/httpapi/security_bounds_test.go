package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/geo"
	"github.com/offsite/offsite/internal/httpapi"
)

// Probes of the bounds on what one request may take: geometry size, time, text the database
// cannot store, and what public routes show.

// newBoundedServer is newServer with srv changed by set before its handler is built.
func newBoundedServer(t *testing.T, set func(*httpapi.Server)) (*httpapi.Server, *httptest.Server) {
	t.Helper()
	srv, _ := newServer(t)
	set(srv)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs
}

// combGeoJSON is a valid comb-shaped polygon of about n positions as a GeoJSON geometry: n/4
// teeth each as long as the comb is wide, the shape that made validation quadratic.
func combGeoJSON(n int) string {
	var b strings.Builder
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	teeth := n / 4
	for i := range teeth {
		y := 31 + float64(i)*1e-7
		fmt.Fprintf(&b, "[120,%.7f],[120.01,%.7f],[120.01,%.8f],[120,%.8f],", y, y, y+0.5e-7, y+0.5e-7)
	}
	fmt.Fprintf(&b, "[119.99999,%.7f],[119.99999,31],[120,31]]]}", 31+float64(teeth)*1e-7)
	return b.String()
}

func parcelsBody(geometries ...string) string {
	var fs []string
	for i, g := range geometries {
		fs = append(fs, fmt.Sprintf(`{"type":"Feature","properties":{"parcel_id":"p%d"},"geometry":%s}`, i, g))
	}
	return `{"type":"FeatureCollection","features":[` + strings.Join(fs, ",") + `]}`
}

// TestSecurityBoundsGeometry: a 150k-vertex comb took 27 s of CPU in the handler (45 s on the
// test machine); it is now stored (0.2–0.7 s on a quiet machine), and geometries over the
// limits are refused naming the feature before any validation.
func TestSecurityBoundsGeometry(t *testing.T) {
	_, hs := newBoundedServer(t, func(s *httpapi.Server) { s.MaxBodyBytes = 32 << 20 })
	start := time.Now()
	code, body := do(t, "POST", hs.URL+"/api/v1/parcels", parcelsBody(combGeoJSON(150_000)))
	if code != 200 {
		t.Fatalf("150k-vertex comb: %d %s", code, body)
	}
	// How validation scales is geo's TestValidateHugeCombIsFast; a wall-clock limit here would
	// fail on a loaded machine. The route must store it within its handler deadline.
	t.Logf("150k-vertex comb stored in %s", time.Since(start))
	square := `{"type":"Polygon","coordinates":[[[121,31],[121.01,31],[121.01,31.01],[121,31]]]}`
	var parts []string
	for i := range geo.MaxParts + 1 {
		parts = append(parts, fmt.Sprintf("[[[%d,0],[%d.5,0],[%d.5,0.5],[%d,0]]]", i%180, i%180, i%180, i%180))
	}
	manyParts := `{"type":"MultiPolygon","coordinates":[` + strings.Join(parts, ",") + `]}`
	for _, tc := range []struct {
		name, path, body string
		field, msg       string
	}{
		{"parcel over the vertex limit", "/api/v1/parcels", parcelsBody(square, combGeoJSON(geo.MaxVertices+100)), "features[1].geometry", "more than the limit of 200000"},
		{"parcel over the part limit", "/api/v1/parcels", parcelsBody(manyParts), "features[0].geometry", "1001 polygons"},
		{"parcels over the request limit", "/api/v1/parcels", parcelsBody(combGeoJSON(190_000), combGeoJSON(190_000), combGeoJSON(190_000),
			combGeoJSON(190_000), combGeoJSON(190_000), combGeoJSON(190_000)), "features", "in one collection"},
		{"zone over the vertex limit", "/api/v1/zones", `{"name":"big","geometry":` + combGeoJSON(geo.MaxVertices+100) + `}`, "geometry", "more than the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, body := do(t, "POST", hs.URL+tc.path, tc.body)
			checkAPIError(t, code, body, 400, tc.field, tc.msg)
			t.Logf("%d-byte body refused in %s", len(tc.body), time.Since(start))
		})
	}
	if code, body := do(t, "GET", hs.URL+"/api/v1/parcels?limit=1000", ""); code != 200 || bytes.Contains(body, []byte(`"p1"`)) {
		t.Errorf("a refused collection stored something: %d %.200s", code, body)
	}
}

// TestSecurityBoundsText: NUL and bytes that are not UTF-8, in path values, query parameters,
// JSON bodies, GeoJSON properties and CSV bodies, gave 500 (PostgreSQL refuses them, 22021);
// they are 400 naming the field.
func TestSecurityBoundsText(t *testing.T) {
	e := newEnforceServer(t)
	square := `{"type":"Polygon","coordinates":[[[121,31],[121.01,31],[121.01,31.01],[121,31]]]}`
	const prefix = "91330100MA2B00000" // an enterprise no other test creates
	check, err := enforce.USCCCheckChar(prefix)
	if err != nil {
		t.Fatal(err)
	}
	ent := enterpriseBody(prefix+string(check), 120.1, 30.2)
	ent["name"] = "某某\x00化工"
	entJSON, err := json.Marshal(ent)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, body string
		field, msg               string
	}{
		{"NUL in a path value", "GET", "/api/v1/parcels/a%00b", "", "id", "NUL"},
		{"not UTF-8 in a path value", "GET", "/api/v1/parcels/%FF%FE", "", "id", "not valid UTF-8"},
		{"NUL in a query parameter", "GET", "/api/v1/findings?parcel_id=%00", "", "parcel_id", "NUL"},
		{"not UTF-8 in a query parameter", "GET", "/api/v1/zones?x=%C3", "", "x", "not valid UTF-8"},
		{"NUL in a JSON string", "POST", "/api/v1/zones", `{"name":"a\u0000b","geometry":` + square + `}`, "name", "NUL"},
		{"not UTF-8 in a JSON body", "POST", "/api/v1/zones", "{\"name\":\"\xb5\xd8\xbf\xe9\",\"geometry\":" + square + "}", "body", "not UTF-8 text (byte 9)"},
		{"NUL in a parcel id", "POST", "/api/v1/parcels", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"p\u0000"},"geometry":` + square + `}]}`, "features[0].properties.parcel_id", "NUL"},
		{"GBK bytes in a parcel id", "POST", "/api/v1/parcels", "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"parcel_id\":\"\xb5\xd8\xbf\xe9\"},\"geometry\":" + square + "}]}", "body", "not UTF-8"},
		{"GBK CSV import", "POST", "/api/v1/enterprises/import", "uscc,name,industry,permit_no,key_discharger,address,zone,lon,lat,complaint_channel\n" +
			otherUSCC + ",\xbb\xaf\xb9\xa4,chemical,,false,,,120.1,30.2,\n", "body", "CSV UTF-8"},
		// enforce.go decodes these bodies itself, through the same checks.
		{"NUL in an enterprise's name", "POST", "/api/v1/enterprises", string(entJSON), "name", "NUL"},
		{"NUL in a warning's message", "POST", "/api/v1/warnings", `{"uscc":"` + otherUSCC + `","source":"monitoring","ref":"r","message":"a\u0000b"}`, "message", "NUL"},
		{"NUL in a draw's inspectors", "POST", "/api/v1/draws", `{"inspectors":[{"id":"a"},{"id":"b\u0000"}]}`, "inspectors[1].id", "NUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.try(t, admin, tc.method, tc.path, tc.body)
			checkAPIError(t, code, body, 400, tc.field, tc.msg)
		})
	}
}

// slowParcels is the real parcel service behind a delay: sleeping (a handler that ignores
// its context, like CPU-bound work) or waiting for the request to end (like a query).
type slowParcels struct {
	offsite.ParcelService
	sleep time.Duration // 0: wait for ctx
}

func (s slowParcels) FindParcelByID(ctx context.Context, id string) (*offsite.Parcel, error) {
	if s.sleep > 0 {
		time.Sleep(s.sleep)
	} else {
		<-ctx.Done()
		return nil, fmt.Errorf("find parcel %s: %w", id, ctx.Err())
	}
	return s.ParcelService.FindParcelByID(ctx, id)
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestSecurityBoundsSlowClientAndHandler: a body trickled a byte at a time held a handler for
// the server's 5-minute ReadTimeout, and a slow handler had no limit at all. Both are cut off.
func TestSecurityBoundsSlowClientAndHandler(t *testing.T) {
	srv, hs := newBoundedServer(t, func(s *httpapi.Server) {
		s.ReadTimeout = 300 * time.Millisecond
		s.HandlerTimeout = 700 * time.Millisecond
	})
	srv.Parcels = slowParcels{ParcelService: srv.Parcels, sleep: 5 * time.Second}
	hs.Config.Handler = srv.Handler()

	t.Run("slow-loris body", func(t *testing.T) {
		conn, err := net.Dial("tcp", hs.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		fmt.Fprintf(conn, "POST /api/v1/zones HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", tokenOf[httpapi.RoleAdmin])
		go func() { // a byte every 100 ms: 100 s for the whole body
			for range 1000 {
				time.Sleep(100 * time.Millisecond)
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a slow body within 10 s: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		checkAPIError(t, resp.StatusCode, b, http.StatusRequestTimeout, "", "did not arrive within 300ms")
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("cut off after %s", d)
		}
	})
	t.Run("slow handler", func(t *testing.T) {
		start := time.Now()
		code, body := do(t, "GET", hs.URL+"/api/v1/parcels/x", "")
		checkAPIError(t, code, body, http.StatusServiceUnavailable, "", "took too long")
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("answered after %s", d)
		}
	})
}

// TestSecurityBoundsClientClosed: a client that hangs up was logged as an internal error and
// counted as a 500; it is counted as 499 and logged as a closed request.
func TestSecurityBoundsClientClosed(t *testing.T) {
	logs := &syncBuffer{}
	srv, hs := newBoundedServer(t, func(s *httpapi.Server) { s.Logger = slog.New(slog.NewJSONHandler(logs, nil)) })
	srv.Parcels = slowParcels{ParcelService: srv.Parcels}
	hs.Config.Handler = srv.Handler()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", hs.URL+"/api/v1/parcels/gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tokenOf[httpapi.RoleAdmin])
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the slow route answered %d", resp.StatusCode)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "client closed request") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_, metrics := do(t, "GET", hs.URL+"/metrics", "")
	route := `method="GET",route="GET /api/v1/parcels/{id}"`
	if !bytes.Contains(metrics, []byte(`code="499",`+route)) || bytes.Contains(metrics, []byte(`code="500",`+route)) {
		t.Errorf("metrics for the closed request:\n%s", grepLines(string(metrics), "parcels/{id}"))
	}
	if l := logs.String(); !strings.Contains(l, "client closed request") || strings.Contains(l, "internal error") {
		t.Errorf("logs:\n%s", l)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
