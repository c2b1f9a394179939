package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/httpapi"
)

// callAs sends body as role's token and returns the status and the decoded answer.
func callAs(t *testing.T, token, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

const parkSquare = `{"type":"Polygon","coordinates":[[[120,31],[120.1,31],[120.1,31.1],[120,31.1],[120,31]]]}`

// TestZones creates, lists and gets named zones, refuses bad ones naming the field, and plans
// surveys on a zone by id or by name.
func TestZones(t *testing.T) {
	_, hs := newServer(t)
	code, z := callAs(t, analyst, "POST", hs.URL+"/api/v1/zones", `{"name":"east park","geometry":`+parkSquare+`}`)
	if code != 201 || z["name"] != "east park" || z["id"] == nil || z["created_at"] == nil {
		t.Fatalf("POST zone: %d %v", code, z)
	}
	if g, _ := z["geometry"].(map[string]any); g["type"] != "MultiPolygon" { // stored as one
		t.Errorf("zone geometry = %v", z["geometry"])
	}
	id := int64(z["id"].(float64))
	if code, _ := callAs(t, inspector, "POST", hs.URL+"/api/v1/zones", `{"name":"west","geometry":`+parkSquare+`}`); code != 403 {
		t.Errorf("inspector creating a zone: %d, want 403", code)
	}
	for _, tc := range []struct {
		name, body string
		code       int
		field      string
	}{
		{"taken name", `{"name":"east park","geometry":` + parkSquare + `}`, 409, ""},
		{"no name", `{"name":" ","geometry":` + parkSquare + `}`, 400, "name"},
		{"no geometry", `{"name":"x"}`, 400, "geometry"},
		{"a point", `{"name":"x","geometry":{"type":"Point","coordinates":[120,31]}}`, 400, "geometry"},
		{"bow tie", `{"name":"x","geometry":{"type":"Polygon","coordinates":[[[120,31],[120.1,31.1],[120.1,31],[120,31.1],[120,31]]]}}`, 400, "geometry"},
		{"not WGS84", `{"name":"x","geometry":{"type":"Polygon","coordinates":[[[500000,3500000],[501000,3500000],[501000,3501000],[500000,3500000]]]}}`, 400, "geometry"},
		{"unknown field", `{"name":"x","geometry":` + parkSquare + `,"colour":"red"}`, 400, "colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := callAs(t, analyst, "POST", hs.URL+"/api/v1/zones", tc.body)
			e, _ := out["error"].(map[string]any)
			if code != tc.code || tc.field != "" && e["field"] != tc.field {
				t.Errorf("status %d, %v; want %d naming %q", code, out, tc.code, tc.field)
			}
		})
	}
	if code, out := callAs(t, inspector, "GET", hs.URL+"/api/v1/zones", ""); code != 200 || len(out["zones"].([]any)) != 1 {
		t.Errorf("GET zones: %d %v", code, out)
	}
	if code, out := callAs(t, inspector, "GET", fmt.Sprintf("%s/api/v1/zones/%d", hs.URL, id), ""); code != 200 || out["name"] != "east park" {
		t.Errorf("GET zone: %d %v", code, out)
	}
	if code, _ := callAs(t, inspector, "GET", fmt.Sprintf("%s/api/v1/zones/%d", hs.URL, id+1), ""); code != 404 {
		t.Errorf("GET missing zone: %d", code)
	}

	// Surveys take the zone inline, by id or by name: exactly one of them.
	survey := func(zone string) string {
		return `{` + zone + `"start":"2026-05-01T00:00:00Z","end":"2026-05-02T00:00:00Z","kinds":["sentinel2"],"pipeline":"sentinel2"}`
	}
	for _, tc := range []struct {
		name, zone string
		code       int
		field      string
	}{
		{"by id", fmt.Sprintf(`"zone_id":%d,`, id), 201, ""},
		{"by name", `"zone_name":"east park",`, 201, ""},
		{"inline", `"zone":` + parkSquare + `,`, 201, ""},
		{"none", ``, 400, "zone"},
		{"two", `"zone_name":"east park","zone":` + parkSquare + `,`, 400, "zone"},
		{"id and name", fmt.Sprintf(`"zone_id":%d,"zone_name":"east park",`, id), 400, "zone"},
		{"unknown name", `"zone_name":"nowhere",`, 400, "zone_name"},
		{"unknown id", fmt.Sprintf(`"zone_id":%d,`, id+1), 400, "zone_id"},
		{"negative id", `"zone_id":-3,`, 400, "zone_id"},
	} {
		t.Run("survey "+tc.name, func(t *testing.T) {
			code, out := callAs(t, analyst, "POST", hs.URL+"/api/v1/surveys", survey(tc.zone))
			e, _ := out["error"].(map[string]any)
			if code != tc.code || tc.field != "" && e["field"] != tc.field {
				t.Fatalf("status %d, %v; want %d naming %q", code, out, tc.code, tc.field)
			}
			if code == 201 && tc.name != "inline" {
				if out["zone_id"] != float64(id) || out["zone"].(map[string]any)["type"] != "MultiPolygon" {
					t.Errorf("survey on the zone: %v", out)
				}
			}
		})
	}

	// The three planned surveys (no captures: finished at once) are listed newest first.
	code, out := callAs(t, inspector, "GET", hs.URL+"/api/v1/surveys", "")
	svs, _ := out["surveys"].([]any)
	if code != 200 || out["total"] != float64(3) || len(svs) != 3 {
		t.Fatalf("GET surveys: %d %v", code, out)
	}
	if first := svs[0].(map[string]any); first["zone_id"] != nil || first["status"] != "finished" || svs[2].(map[string]any)["zone_id"] != float64(id) {
		t.Errorf("surveys not newest first: %v", svs)
	}
	for _, tc := range []struct {
		query       string
		code, total int
	}{
		{"?status=finished", 200, 3}, {"?status=running", 200, 0}, {"?limit=1&offset=2", 200, 3},
		{"?status=done", 400, 0}, {"?limit=0", 400, 0},
	} {
		code, out := callAs(t, inspector, "GET", hs.URL+"/api/v1/surveys"+tc.query, "")
		if code != tc.code || code == 200 && out["total"] != float64(tc.total) {
			t.Errorf("GET surveys%s: %d %v; want %d with total %d", tc.query, code, out, tc.code, tc.total)
		}
		if e, _ := out["error"].(map[string]any); code == 400 && e["field"] != strings.Split(strings.TrimPrefix(tc.query, "?"), "=")[0] {
			t.Errorf("GET surveys%s: error %v does not name the parameter", tc.query, out)
		}
	}
}

// TestZonesNotConfigured: a server built without a ZoneService answers the zone routes with
// an error. GET /api/v1/zones/{id} dereferenced the nil service and dropped the connection
// (the panic TestEveryRouteAndRole logged as "handler failed").
func TestZonesNotConfigured(t *testing.T) {
	hs := httptest.NewServer((&httpapi.Server{Tokens: mustTestTokens(t)}).Handler())
	t.Cleanup(hs.Close)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/zones", ""},
		{"GET", "/api/v1/zones/1", ""},
		{"POST", "/api/v1/zones", `{"name":"east park","geometry":` + parkSquare + `}`},
	} {
		req, err := http.NewRequest(c.method, hs.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+analyst)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s %s: no answer: %v", c.method, c.path, err)
			continue
		}
		var problem map[string]any
		derr := json.NewDecoder(resp.Body).Decode(&problem)
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError || derr != nil {
			t.Errorf("%s %s: %d %v (%v), want 500 with a problem body", c.method, c.path, resp.StatusCode, problem, derr)
		}
	}
}
