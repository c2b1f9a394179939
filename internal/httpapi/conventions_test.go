package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/httpapi"
)

type problemBody struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
	Code     string `json:"code"`
	Field    string `json:"field"`
}

// request sends a request with headers (Authorization: the admin's token unless given) and
// returns the answer with its body read.
func request(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tokenOf[httpapi.RoleAdmin])
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
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
	return resp, b
}

// TestProblemDetails: every error is application/problem+json with type, title, status,
// detail, instance, code and, for input at fault, the field: the router's 404 and 405, a bad
// query parameter, a missing token.
func TestProblemDetails(t *testing.T) {
	_, hs := newServer(t)
	for _, tc := range []struct {
		name, method, path string
		noToken            bool
		status             int
		code, field        string
	}{
		{"no route", "GET", "/api/v1/no-such-thing", false, 404, "not_found", "path"},
		{"method", "DELETE", "/healthz", false, 405, "method_not_allowed", "method"},
		{"bad integer", "GET", "/api/v1/inspections?limit=ten", false, 400, "invalid", "limit"},
		{"no token", "GET", "/api/v1/inspections", true, 401, "unauthorized", ""},
		{"unknown record", "GET", "/api/v1/inspections/999999", false, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.noToken {
				h["Authorization"] = ""
			}
			resp, body := request(t, tc.method, hs.URL+tc.path, h)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != httpapi.ProblemContentType {
				t.Fatalf("%s %s: %d %q %s, want %d %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, httpapi.ProblemContentType)
			}
			var p problemBody
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			path, _, _ := strings.Cut(tc.path, "?")
			if p.Status != tc.status || p.Code != tc.code || p.Type != "urn:offsite:problem:"+tc.code || p.Title != http.StatusText(tc.status) ||
				p.Detail == "" || p.Instance != path || p.Field != tc.field {
				t.Errorf("problem %+v, want status %d, code %s, field %q, instance %s", p, tc.status, tc.code, tc.field, path)
			}
			if tc.status == 405 && resp.Header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
		})
	}
}

// TestListConventions: a JSON list carries X-Total-Count and RFC 8288 links that keep the
// other parameters, and a strong ETag that If-None-Match turns into 304.
func TestListConventions(t *testing.T) {
	_, hs := newServer(t)
	url := hs.URL + "/api/v1/audit?subject=enterprise%2F&limit=5"
	resp, body := request(t, "GET", url, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Total-Count"); got != "0" {
		t.Errorf("X-Total-Count = %q, want 0", got)
	}
	want := `</api/v1/audit?limit=5&offset=0&subject=enterprise%2F>; rel="first", </api/v1/audit?limit=5&offset=0&subject=enterprise%2F>; rel="last"`
	if got := resp.Header.Get("Link"); got != want {
		t.Errorf("Link = %s\nwant %s", got, want)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) != 34 {
		t.Fatalf("ETag = %q, want a strong tag", etag)
	}
	resp, body = request(t, "GET", url, map[string]string{"If-None-Match": `"other", ` + etag})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != etag {
		t.Errorf("If-None-Match with the tag: %d %q ETag %q, want 304, no body, the same tag", resp.StatusCode, body, resp.Header.Get("ETag"))
	}
	resp, _ = request(t, "GET", url, map[string]string{"If-None-Match": `"other"`})
	if resp.StatusCode != 200 {
		t.Errorf("If-None-Match with another tag: %d, want 200", resp.StatusCode)
	}
	// Another answer, another tag.
	resp, _ = request(t, "GET", hs.URL+"/api/v1/audit?limit=6", nil)
	if resp.Header.Get("ETag") == etag {
		t.Errorf("two different answers share the ETag %s", etag)
	}
}

// TestCORS: no CORS headers unless origins are configured; then only those origins get them,
// and their preflights the route's methods.
func TestCORS(t *testing.T) {
	srv, hs := newServer(t)
	preflight := map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization", "Authorization": ""}
	resp, _ := request(t, "GET", hs.URL+"/healthz", map[string]string{"Origin": "https://app.example"})
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("no origins configured, yet Access-Control-Allow-Origin: %s", v)
	}
	if resp, _ := request(t, "OPTIONS", hs.URL+"/api/v1/inspections", preflight); resp.StatusCode != 405 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight with no origins configured: %d %v", resp.StatusCode, resp.Header)
	}

	origins, err := httpapi.ParseCORSOrigins("https://app.example, http://localhost:5173")
	if err != nil {
		t.Fatal(err)
	}
	srv.CORSOrigins = origins
	hs2 := httptest.NewServer(srv.Handler())
	t.Cleanup(hs2.Close)
	resp, _ = request(t, "OPTIONS", hs2.URL+"/api/v1/inspections", preflight)
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD" && !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from an allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = request(t, "GET", hs2.URL+"/api/v1/inspections", map[string]string{"Origin": "https://app.example"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Link") {
		t.Errorf("GET from an allowed origin: %v", resp.Header)
	}
	preflight["Origin"] = "https://evil.example"
	resp, _ = request(t, "OPTIONS", hs2.URL+"/api/v1/inspections", preflight)
	if resp.StatusCode == 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
	}
	for _, bad := range []string{"app.example", "ftp://x.example", "https://x.example/path", "https://user@x.example"} {
		if _, err := httpapi.ParseCORSOrigins(bad); err == nil {
			t.Errorf("ParseCORSOrigins(%q) accepted", bad)
		}
	}
}

// TestOpenAPITyped: the document types integer parameters and describes answers from the Go
// types, errors as problems.
func TestOpenAPITyped(t *testing.T) {
	_, hs := newServer(t)
	_, body := do(t, "GET", hs.URL+"/openapi.json", "")
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var op struct {
		Parameters []struct {
			Name   string `json:"name"`
			Schema struct {
				Type string `json:"type"`
			} `json:"schema"`
		} `json:"parameters"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(doc.Paths["/api/v1/inspections/{id}"]["get"], &op); err != nil {
		t.Fatal(err)
	}
	if len(op.Parameters) != 1 || op.Parameters[0].Schema.Type != "integer" {
		t.Errorf("GET /api/v1/inspections/{id} parameters: %+v, want id typed integer", op.Parameters)
	}
	ref := func(raw json.RawMessage) string {
		var r struct {
			Ref string `json:"$ref"`
		}
		_ = json.Unmarshal(raw, &r)
		return r.Ref
	}
	if s := op.Responses["200"].Content["application/json"].Schema; ref(s) != "#/components/schemas/EnforceInspection" {
		t.Errorf("200 schema %s", s)
	}
	if s := op.Responses["404"].Content[httpapi.ProblemContentType].Schema; ref(s) != "#/components/schemas/Problem" {
		t.Errorf("404 schema %s", s)
	}
	var insp struct {
		Properties map[string]struct {
			Type   string `json:"type"`
			Format string `json:"format"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas["EnforceInspection"], &insp); err != nil {
		t.Fatal(err)
	}
	if p := insp.Properties["id"]; p.Type != "integer" {
		t.Errorf("EnforceInspection.id: %+v (schema %s)", p, doc.Components.Schemas["EnforceInspection"])
	}
	if _, ok := doc.Components.Schemas["Problem"]; !ok {
		t.Errorf("no Problem schema")
	}
	// A request body described from the type the handler decodes into.
	var create struct {
		RequestBody struct {
			Content map[string]struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(doc.Paths["/api/v1/zones"]["post"], &create); err != nil {
		t.Fatal(err)
	}
	if s := create.RequestBody.Content["application/json"].Schema; ref(s) != "#/components/schemas/ZoneRequest" {
		t.Errorf("POST /api/v1/zones body schema %s", s)
	}
	var zr struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			Type        string `json:"type"`
			Description string `json:"description"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas["ZoneRequest"], &zr); err != nil {
		t.Fatal(err)
	}
	if strings.Join(zr.Required, ",") != "name,geometry" || zr.Properties["gcj02"].Type != "boolean" || zr.Properties["gcj02"].Description == "" {
		t.Errorf("ZoneRequest %s", doc.Components.Schemas["ZoneRequest"])
	}
	if err := json.Unmarshal(doc.Paths["/api/v1/audit"]["get"], &op); err != nil {
		t.Fatal(err)
	}
	for _, p := range op.Parameters {
		if want := map[string]string{"limit": "integer", "offset": "integer", "subject": "string"}[p.Name]; p.Schema.Type != want {
			t.Errorf("GET /api/v1/audit parameter %s: %s, want %s", p.Name, p.Schema.Type, want)
		}
	}
}
