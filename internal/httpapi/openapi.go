package httpapi

import (
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// operation documents one route in the OpenAPI document.
type operation struct {
	Summary     string
	Description string
	// Body is a value of the Go type the handler decodes the request body into, or bodyOf
	// such a value with further rules; its schema is derived by reflection
	// (openapi_schema.go), and decodeJSON refuses to decode into any other type.
	Body any
	// BodyType is the media type of the request body; default application/json. A body of
	// another type (GeoJSON read by geo) is not decoded by decodeJSON.
	BodyType string
	// Query lists query parameters: name → description. Their schemas come from
	// queryParamSchemas by name (integers, booleans), string otherwise.
	Query map[string]string
	// Responses maps status code → description.
	Responses map[string]string
	// Response is a value of the Go type the handler encodes as its 2xx JSON answer (or a
	// schemaValue, e.g. listOf); its schema is derived by reflection. Nil: the answer is
	// described by words only.
	Response any
	// ResponseType is the media type of the 2xx answer; default application/json. A
	// non-JSON answer (a file, CSV, PDF) sets it and leaves Response nil.
	ResponseType string
	// OtherTypes are further media types the 2xx answer may take (CSV with format=csv),
	// described as bytes beside the JSON schema.
	OtherTypes []string
	// Params overrides the schemas of path or query parameters by name (see
	// pathParamSchemas and queryParamSchemas).
	Params map[string]map[string]any
	// Roles may call the route (auth.go); RolePublic needs no token. Empty denies everyone.
	Roles []enforce.Role
	// ReachInCommand marks a route whose command reads the agency of the record it addresses
	// with the record and refuses, with 403, an actor out of its reach (enforce.Actor.Reach)
	// before anything is audited: authorize does not look the agency up first (a round trip
	// of its own on every request of the busiest route).
	ReachInCommand bool
}

func (op operation) bodyMediaType() string {
	if op.BodyType != "" {
		return op.BodyType
	}
	return "application/json"
}

// bodyType is the Go type of the JSON request body the route documents, nil for none (or a
// body of another media type).
func (op operation) bodyType() reflect.Type {
	if op.Body == nil || op.bodyMediaType() != "application/json" {
		return nil
	}
	v := op.Body
	if r, ok := v.(refined); ok {
		v = r.v
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var pathParam = regexp.MustCompile(`\{([a-zA-Z_]+)\}`)

// queryParamSchemas types the query parameters that are not plain strings, by name, for every
// route: a new route's limit, offset or id parameter is typed without work.
var queryParamSchemas = map[string]map[string]any{
	"limit":         {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
	"offset":        {"type": "integer", "minimum": 0, "default": 0},
	"capture_id":    {"type": "integer", "format": "int64", "minimum": 1},
	"survey_id":     {"type": "integer", "format": "int64", "minimum": 1},
	"zone_id":       {"type": "integer", "format": "int64", "minimum": 1},
	"inspection_id": {"type": "integer", "format": "int64", "minimum": 1},
	"gcj02":         {"type": "boolean"},
	"repair":        {"type": "boolean"},
	"download":      {"type": "boolean"},
	"open_warnings": {"type": "boolean"},
}

// pathParamSchemas types path parameters by name, as queryParamSchemas does.
var pathParamSchemas = map[string]map[string]any{
	"id": {"type": "integer", "format": "int64", "minimum": 1},
	"n":  {"type": "integer", "minimum": 1},
}

func paramSchema(op operation, table map[string]map[string]any, name string) map[string]any {
	if s, ok := op.Params[name]; ok {
		return s
	}
	if s, ok := table[name]; ok {
		return s
	}
	return map[string]any{"type": "string"}
}

// openAPI builds the OpenAPI 3.1 document from the registered routes, so that every route
// is described and nothing described is missing.
func (s *Server) openAPI() map[string]any {
	paths := map[string]any{}
	gen := newSchemaGen()
	problemRef := map[string]any{"$ref": "#/components/schemas/Problem"}
	gen.components["Problem"] = gen.structSchema(reflect.TypeFor[problem]())
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
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": paramSchema(rt.op, pathParamSchemas, m[1])})
		}
		for _, name := range slices.Sorted(maps.Keys(rt.op.Query)) {
			params = append(params, map[string]any{"name": name, "in": "query", "description": rt.op.Query[name], "schema": paramSchema(rt.op, queryParamSchemas, name)})
		}
		responses := map[string]any{}
		for code, desc := range rt.op.Responses {
			resp := map[string]any{"description": desc}
			switch {
			case code >= "400":
				resp["content"] = map[string]any{ProblemContentType: map[string]any{"schema": problemRef}}
			case code < "300" && code != "204" && rt.op.Response != nil:
				mt := rt.op.ResponseType
				if mt == "" {
					mt = "application/json"
				}
				content := map[string]any{mt: map[string]any{"schema": gen.schema(rt.op.Response)}}
				for _, other := range rt.op.OtherTypes {
					content[other] = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
				}
				resp["content"] = content
			case code < "300" && code != "204" && rt.op.Response == nil && rt.op.ResponseType != "":
				// A file, CSV, PDF or image: its media type, its bytes.
				resp["content"] = map[string]any{rt.op.ResponseType: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
			}
			responses[code] = resp
		}
		// The router's answers for every route (conventions.go).
		for code, desc := range map[string]string{"default": "an error (RFC 7807 problem details)"} {
			if _, ok := responses[code]; !ok {
				responses[code] = map[string]any{"description": desc, "content": map[string]any{ProblemContentType: map[string]any{"schema": problemRef}}}
			}
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
		if rt.op.Body != nil {
			op["requestBody"] = map[string]any{
				"required": true,
				"content":  map[string]any{rt.op.bodyMediaType(): map[string]any{"schema": gen.requestSchema(rt.op.Body)}},
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
		}, "schemas": gen.components},
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
