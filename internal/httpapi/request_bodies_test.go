package httpapi_test

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
)

// TestEveryJSONBodyIsTheDecodedType posts a body with an unknown member to every route that
// documents a JSON request body. The handler decodes strictly into a Go type that must be the
// one the document describes (decodeJSON refuses any other with 500), so every route answers
// 400 naming the unknown member: a route whose handler decoded another type, or no type, or
// took the member silently, fails here.
func TestEveryJSONBodyIsTheDecodedType(t *testing.T) {
	e := newEnforceServer(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Roles       []enforce.Role `json:"x-roles"`
			RequestBody *struct {
				Content map[string]json.RawMessage `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	e.must(t, 200, "", "GET", "/openapi.json", nil, &doc)
	fill := strings.NewReplacer("{id}", "1", "{uscc}", entUSCC, "{n}", "1", "{mn}", "MN1", "{outlet}", "DA001", "{pollutant}", "so2", "{name}", "a.pdf")
	var paths []string
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	n := 0
	for _, path := range paths {
		for method, op := range doc.Paths[path] {
			if op.RequestBody == nil {
				continue
			}
			if _, ok := op.RequestBody.Content["application/json"]; !ok {
				continue // GeoJSON parcels, read by geo
			}
			n++
			token := ""
			if !slices.Contains(op.Roles, httpapi.RolePublic) {
				if slices.Contains(op.Roles, httpapi.RoleAdmin) {
					token = tokenOf[httpapi.RoleAdmin]
				} else {
					token = tokenOf[op.Roles[0]]
				}
			}
			code, body := e.try(t, token, strings.ToUpper(method), fill.Replace(path), `{"zz_probe": 1}`)
			var p struct {
				Field  string `json:"field"`
				Detail string `json:"detail"`
			}
			_ = json.Unmarshal(body, &p)
			if code != 400 || p.Field != "zz_probe" {
				t.Errorf("%s %s with an unknown member: %d field %q, want 400 naming zz_probe: %s", strings.ToUpper(method), path, code, p.Field, body)
			}
		}
	}
	if n < 40 {
		t.Errorf("%d routes document a JSON body; expected every body route (more than 40)", n)
	}
	t.Logf("%d routes with a JSON body refuse an unknown member", n)
}
