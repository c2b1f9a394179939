package httpapi

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// operation documents one route in the OpenAPI document.
type operation struct {
	Summary     string
	Description string
	// Request is the JSON schema of the request body; nil when there is none.
	Request map[string]any
	// Query lists query parameters: name → description.
	Query map[string]string
	// Responses maps status code → description.
	Responses map[string]string
	// Roles may call the route (auth.go); RolePublic needs no token. Empty denies everyone.
	Roles []enforce.Role
}

var pathParam = regexp.MustCompile(`\{([a-zA-Z_]+)\}`)

// openAPI builds the OpenAPI 3.1 document from the registered routes, so that every route
// is described and nothing described is missing.
func (s *Server) openAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.routes {
		// A trailing {name...} wildcard (a key with slashes) is {name} in OpenAPI.
		docPath := strings.ReplaceAll(rt.path, "...}", "}")
		item, _ := paths[docPath].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[docPath] = item
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(docPath, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for name, desc := range rt.op.Query {
			params = append(params, map[string]any{"name": name, "in": "query", "description": desc, "schema": map[string]any{"type": "string"}})
		}
		responses := map[string]any{}
		for code, desc := range rt.op.Responses {
			resp := map[string]any{"description": desc}
			if code >= "400" {
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}
			}
			responses[code] = resp
		}
		op := map[string]any{
			"summary":     rt.op.Summary,
			"operationId": operationID(rt.method, rt.path),
			"responses":   responses,
		}
		if rt.op.Description != "" {
			op["description"] = rt.op.Description
		}
		op["x-roles"] = rt.op.Roles
		if kind, _ := agencyParam(rt.path); kind != "" {
			// The kind of record the path names: a caller reaches it only when it belongs
			// to the caller's agency or one under it (auth.go).
			op["x-agency-scope"] = kind
		}
		if !rolePermitted(rt.op.Roles, RolePublic) {
			op["security"] = []any{map[string]any{"bearer": []string{}}}
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.op.Request != nil {
			op["requestBody"] = map[string]any{
				"required": true,
				"content":  map[string]any{"application/json": map[string]any{"schema": rt.op.Request}},
			}
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Offsite API",
			"version":     offsite.Version,
			"description": "Off-site inspection evidence from satellite, drone, boat and vehicle captures.",
		},
		"paths": paths,
		"components": map[string]any{"securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "API token; its role decides what it may do (x-roles of each operation)"},
		}, "schemas": map[string]any{
			"Error": map[string]any{
				"type": "object",
				"properties": map[string]any{"error": map[string]any{
					"type":     "object",
					"required": []string{"code", "message"},
					"properties": map[string]any{
						"code":    map[string]any{"type": "string", "enum": []string{"invalid", "not_found", "conflict", "unauthorized", "forbidden", "too_large", "internal"}},
						"field":   map[string]any{"type": "string", "description": "the input field at fault"},
						"message": map[string]any{"type": "string"},
					},
				}},
			},
		}},
	}
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, seg := range strings.Split(path, "/") {
		seg = strings.Trim(seg, "{}.")
		seg = strings.NewReplacer("-", "", "_", "", ".", "").Replace(seg)
		if seg == "" || seg == "api" || seg == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(seg[:1]) + seg[1:])
	}
	return b.String()
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.openAPI())
}
