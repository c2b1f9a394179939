package httpapi_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// openAPIDoc is the part of the served document the schema tests read.
type openAPIDoc struct {
	Paths      map[string]map[string]openAPIOp `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

type openAPIOp struct {
	Responses map[string]struct {
		Content map[string]struct {
			Schema map[string]any `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
	RequestBody *struct {
		Content map[string]struct {
			Schema map[string]any `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

func servedOpenAPI(t *testing.T, url string) openAPIDoc {
	t.Helper()
	code, body := do(t, "GET", url+"/openapi.json", "")
	if code != 200 {
		t.Fatalf("GET /openapi.json: %d", code)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func isJSONMedia(mt string) bool {
	return mt == "application/json" || mt == "application/problem+json" || strings.HasSuffix(mt, "+json")
}

// TestOpenAPISchemaForEverySuccess walks the served document: every operation's success
// answer (2xx other than 204) names its media type, and a JSON answer has a schema. An
// operation without a described success answer fails too: nobody can tell what it returns.
func TestOpenAPISchemaForEverySuccess(t *testing.T) {
	// The server with every optional service, so that every route is registered.
	doc := servedOpenAPI(t, newEnforceServer(t).hs.URL)
	var missing []string
	ops, withSchema, withBytes, withBody := 0, 0, 0, 0
	for path, item := range doc.Paths {
		for method, op := range item {
			ops++
			if op.RequestBody != nil {
				withBody++
			}
			found, jsonSchema, bytes := false, false, false
			for code, resp := range op.Responses {
				if code < "200" || code >= "300" || code == "204" {
					continue
				}
				found = true
				if len(resp.Content) == 0 {
					missing = append(missing, strings.ToUpper(method)+" "+path+" "+code+": no content")
					continue
				}
				for mt, c := range resp.Content {
					if isJSONMedia(mt) && len(c.Schema) == 0 {
						missing = append(missing, strings.ToUpper(method)+" "+path+" "+code+": "+mt+" without schema")
					} else if isJSONMedia(mt) {
						jsonSchema = true
					} else {
						bytes = true
					}
				}
			}
			switch {
			case jsonSchema:
				withSchema++
			case bytes:
				withBytes++
			}
			if !found {
				// No body to describe: 204, or a redirect (a presigned download).
				_, noContent := op.Responses["204"]
				_, found := op.Responses["302"]
				if !noContent && !found {
					missing = append(missing, strings.ToUpper(method)+" "+path+": no success answer")
				}
			}
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Error(m)
	}
	t.Logf("%d operations: %d with a JSON response schema, %d answering a file (media type only), %d with a request body schema",
		ops, withSchema, withBytes, withBody)
}

// resolveSchema follows a $ref into the components.
func resolveSchema(t *testing.T, doc openAPIDoc, s map[string]any) map[string]any {
	t.Helper()
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		c, ok := doc.Components.Schemas[name]
		if !ok {
			t.Fatalf("dangling $ref %s", ref)
		}
		s = c
	}
}

// checkRequired checks that value has every property the schema requires, recursing into
// objects and the first item of arrays.
func checkRequired(t *testing.T, doc openAPIDoc, where string, s map[string]any, value any) {
	t.Helper()
	s = resolveSchema(t, doc, s)
	switch v := value.(type) {
	case map[string]any:
		if typ, _ := s["type"].(string); typ != "" && typ != "object" {
			t.Errorf("%s: an object where the schema says %s", where, typ)
			return
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				t.Errorf("%s: required property %q missing from the answer", where, r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for name, ps := range props {
			if pv, ok := v[name]; ok && pv != nil {
				if m, ok := ps.(map[string]any); ok {
					checkRequired(t, doc, where+"."+name, m, pv)
				}
			}
		}
	case []any:
		if typ, _ := s["type"].(string); typ != "" && typ != "array" {
			t.Errorf("%s: an array where the schema says %s", where, typ)
			return
		}
		if items, ok := s["items"].(map[string]any); ok && len(v) > 0 {
			checkRequired(t, doc, where+"[0]", items, v[0])
		}
	case string:
		if typ, _ := s["type"].(string); typ != "" && typ != "string" {
			t.Errorf("%s: a string where the schema says %s", where, typ)
		}
	case float64:
		if typ, _ := s["type"].(string); typ != "" && typ != "integer" && typ != "number" {
			t.Errorf("%s: a number where the schema says %s", where, typ)
		}
	case bool:
		if typ, _ := s["type"].(string); typ != "" && typ != "boolean" {
			t.Errorf("%s: a boolean where the schema says %s", where, typ)
		}
	}
}

// checkAnswer checks an answer of method docPath (the document's path) with status code
// against the schema the document gives that status.
func checkAnswer(t *testing.T, doc openAPIDoc, method, docPath string, code int, body []byte) {
	t.Helper()
	if code < 200 || code >= 300 {
		t.Errorf("%s %s: %d %s", method, docPath, code, body)
		return
	}
	op, ok := doc.Paths[docPath][strings.ToLower(method)]
	if !ok {
		t.Errorf("%s %s not in the document", method, docPath)
		return
	}
	resp, ok := op.Responses[strconv.Itoa(code)]
	if !ok {
		t.Errorf("%s %s: answered %d, which is not documented: %s", method, docPath, code, body)
		return
	}
	var schema map[string]any
	for mt, c := range resp.Content {
		if isJSONMedia(mt) {
			schema = c.Schema
		}
	}
	if len(schema) == 0 {
		t.Errorf("%s %s: no JSON schema for %d", method, docPath, code)
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %s: %v", method, docPath, err)
		return
	}
	checkRequired(t, doc, method+" "+docPath, schema, v)
}

// TestOpenAPISchemasMatchAnswers calls routes of a running server, with an enterprise and an
// inspection stored, and checks their answers against the schemas the document gives them:
// required properties present, types agree, in objects and the first item of lists.
func TestOpenAPISchemasMatchAnswers(t *testing.T) {
	e := newEnforceServer(t)
	hs := e.hs
	doc := servedOpenAPI(t, hs.URL)
	insp := e.selfCheck(t) // /api/v1/inspections/{id}, self-check requested
	var in struct {
		Version int `json:"version"`
	}
	e.must(t, 200, admin, "GET", insp, nil, &in)
	code, body := e.call(t, enterprise, "POST", insp+"/report", map[string]any{"version": in.Version, "text": "fixed the scrubber"}, nil)
	checkAnswer(t, doc, "POST", "/api/v1/inspections/{id}/report", code, body)
	code, body = e.call(t, analyst, "POST", "/api/v1/positive-list", map[string]any{"uscc": entUSCC, "facts": goodFacts()}, nil)
	checkAnswer(t, doc, "POST", "/api/v1/positive-list", code, body)
	code, body = e.call(t, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "source": "monitoring", "ref": "cems-2", "message": "SO2 over the limit"}, nil)
	checkAnswer(t, doc, "POST", "/api/v1/warnings", code, body)
	for path, docPath := range map[string]string{
		insp: "/api/v1/inspections/{id}", insp + "/timeline": "/api/v1/inspections/{id}/timeline",
		"/api/v1/enterprises/" + entUSCC: "/api/v1/enterprises/{uscc}", "/api/v1/enterprises/" + entUSCC + "/standing": "/api/v1/enterprises/{uscc}/standing",
		"/api/v1/enterprises": "/api/v1/enterprises", "/api/v1/positive-list": "/api/v1/positive-list",
	} {
		code, body := do(t, "GET", hs.URL+path, "")
		checkAnswer(t, doc, "GET", docPath, code, body)
	}
	for _, path := range []string{
		"/healthz", "/api/v1/config", "/api/v1/inspections", "/api/v1/me", "/api/v1/agencies",
		"/api/v1/users", "/api/v1/stats", "/api/v1/inbox", "/api/v1/webhooks", "/api/v1/monitoring/pollutants",
		"/api/v1/audit", "/api/v1/audit/verify", "/api/v1/inbox/counts",
		"/api/v1/notifications/preferences", "/public/positive-list", "/ogc", "/ogc/collections", "/stac",
		"/stac/collections", "/stac/conformance", "/api/v1/draws", "/api/v1/findings", "/api/v1/ui/enterprises",
	} {
		code, body := do(t, "GET", hs.URL+path, "")
		checkAnswer(t, doc, "GET", path, code, body)
	}
}
