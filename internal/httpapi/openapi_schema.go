package httpapi

import (
	"encoding"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// JSON schemas (OpenAPI 3.1, JSON Schema 2020-12) derived by reflection from the Go values the
// handlers encode and decode: an operation names a value of the type (operation.Response,
// operation.Body) and the document describes it, so the two cannot drift apart. Named struct
// types become components (#/components/schemas/Name); encoding/json's rules decide the
// properties: json tags, omitempty (not required), "-", embedded structs, ",string".

// schemaValue is a schema written by hand where a Go type says too little (a JSON list whose
// items are named by a key, a GeoJSON body).
type schemaValue map[string]any

// goValue marks a Go value inside a schemaValue: its type is described there.
type goValue struct{ v any }

// arrayOf describes a JSON array of values like item (for item types that have no name, such
// as the answers of captureJSON).
func arrayOf(item any) schemaValue {
	return schemaValue{"type": "array", "items": goValue{item}}
}

// listOf describes a JSON list answer as the handlers write it: the items (a slice, or
// arrayOf) under key, with the total, offset and limit of the page.
func listOf(key string, items any) schemaValue {
	return schemaValue{"type": "object", "required": []string{key, "total"}, "properties": map[string]any{
		key:      goValue{items},
		"total":  schemaValue{"type": "integer", "description": "items matching, over all pages"},
		"offset": schemaValue{"type": "integer"},
		"limit":  schemaValue{"type": "integer"},
	}}
}

// objectOf describes a JSON object answer with the given properties (Go values or schemas).
func objectOf(props map[string]any) schemaValue {
	req := make([]string, 0, len(props))
	ps := make(map[string]any, len(props))
	for k, v := range props {
		req = append(req, k)
		ps[k] = goValue{v}
	}
	slices.Sort(req)
	return schemaValue{"type": "object", "required": req, "properties": ps}
}

// withOptional adds properties to an object schema (objectOf) that the answer may leave out.
func withOptional(o schemaValue, props map[string]any) schemaValue {
	ps := maps.Clone(o["properties"].(map[string]any))
	for k, v := range props {
		ps[k] = goValue{v}
	}
	out := maps.Clone(o)
	out["properties"] = ps
	return out
}

// refined is a struct value whose derived object schema gets further keywords on some of
// its properties: the validation rules its Go type cannot carry (an enum from a Go list).
type refined struct {
	v     any
	rules map[string]map[string]any
	// only, when set, are the properties the route uses: the others are left out of its
	// schema (a body type shared by several transitions, each using some of its fields).
	only []string
}

// bodyFields describes a request body decoded into a struct like v, shared by several
// routes, of which this one uses the properties named: required ones, then optional ones.
func bodyFields(v any, required []string, optional ...string) refined {
	return refined{v: v, rules: map[string]map[string]any{"": {"required": required}}, only: append(slices.Clone(required), optional...)}
}

// with adds rules (property name → keywords) to r.
func (r refined) with(rules map[string]map[string]any) refined {
	all := maps.Clone(r.rules)
	if all == nil {
		all = map[string]map[string]any{}
	}
	maps.Copy(all, rules)
	r.rules = all
	return r
}

// bodyOf describes a request body decoded into a struct like v, with rules (property name →
// keywords) added to the properties the struct derives; the rules of "" are keywords of the
// object itself (required, for a struct of another package that has no openapi tags).
func bodyOf(v any, rules map[string]map[string]any) refined { return refined{v: v, rules: rules} }

// refinedSchema derives r's struct inline (its rules belong to this use, not to a component)
// and adds the rules; a rule for a property the struct lacks is a programming error.
func (g *schemaGen) refinedSchema(r refined) map[string]any {
	t := reflect.TypeOf(r.v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	s := g.structSchema(t)
	props := s["properties"].(map[string]any)
	if r.only != nil {
		for _, name := range r.only {
			if _, ok := props[name]; !ok {
				panic("openapi: " + t.String() + " has no property " + name)
			}
		}
		for name := range props {
			if !slices.Contains(r.only, name) {
				delete(props, name)
			}
		}
	}
	for name, kw := range r.rules {
		if name == "" { // keywords of the object itself, e.g. required for a type of another package
			maps.Copy(s, kw)
			continue
		}
		p, ok := props[name].(map[string]any)
		if !ok {
			panic("openapi: rule for " + name + ", which " + t.String() + " does not have")
		}
		p = maps.Clone(p)
		maps.Copy(p, kw)
		props[name] = p
	}
	return s
}

// schemaGen derives schemas and collects the components they refer to.
type schemaGen struct {
	components map[string]any
	// names are the components of the struct types described so far; a type decoded from a
	// request and encoded in an answer has one of each (their required members differ).
	names map[componentKey]string
	// request: the types described are decoded from request bodies, where a field is
	// required only when tagged `openapi:"required"` (decoding does not require the others).
	request bool
}

// requestSchema returns the schema of a request body decoded into a value like v. A field's
// `doc:"..."` tag describes it, in requests and answers alike.
func (g *schemaGen) requestSchema(v any) any {
	g.request = true
	defer func() { g.request = false }()
	return g.schema(v)
}

func newSchemaGen() *schemaGen {
	return &schemaGen{components: map[string]any{}, names: map[componentKey]string{}}
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	geometryType      = reflect.TypeFor[orb.Geometry]()
)

// schema returns the schema of v: a Go value (its type is described), a schemaValue (whose
// nested Go values are described), or nil (any JSON).
func (g *schemaGen) schema(v any) any {
	switch v := v.(type) {
	case nil:
		return map[string]any{}
	case schemaValue:
		return g.resolve(v)
	case reflect.Type:
		return g.typeSchema(v)
	case refined:
		return g.refinedSchema(v)
	}
	return g.typeSchema(reflect.TypeOf(v))
}

// resolve describes the Go values nested in a hand-written schema.
func (g *schemaGen) resolve(v any) any {
	switch v := v.(type) {
	case schemaValue:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = g.resolve(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = g.resolve(x)
		}
		return out
	case goValue:
		return g.schema(v.v)
	}
	return v // literals: types, descriptions, required lists
}

func (g *schemaGen) typeSchema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawMessageType:
		return map[string]any{}
	case t == geometryType:
		return map[string]any{"type": "object", "description": "GeoJSON geometry (WGS84)", "required": []string{"type"},
			"properties": map[string]any{"type": map[string]any{"type": "string"}}}
	case t.Kind() != reflect.Interface && (t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType)):
		return map[string]any{"description": "JSON of " + t.String()}
	case t.Kind() != reflect.Interface && t.Kind() != reflect.String && (t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)):
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int64, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		s := map[string]any{"type": "array", "items": g.typeSchema(t.Elem())}
		if t.Kind() == reflect.Array {
			s["minItems"], s["maxItems"] = t.Len(), t.Len()
		}
		return s
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.typeSchema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.structSchema(t)
		}
		name := g.componentName(t)
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{} // interfaces: any JSON
}

type componentKey struct {
	t       reflect.Type
	request bool
}

// componentName returns the component of a named struct type, describing it the first time.
// In a request the type's component is named with the suffix Input when its answer's
// component has the name already.
func (g *schemaGen) componentName(t reflect.Type) string {
	key := componentKey{t, g.request}
	if n, ok := g.names[key]; ok {
		return n
	}
	base := exportedName(t.Name())
	if pkg := t.PkgPath(); pkg != "" && !strings.HasSuffix(pkg, "/offsite") {
		p := pkg[strings.LastIndex(pkg, "/")+1:]
		if p != "httpapi" {
			base = exportedName(p) + base
		}
	}
	if _, answered := g.names[componentKey{t, false}]; answered && g.request {
		base += "Input"
	}
	name := base
	for i := 2; g.components[name] != nil; i++ {
		name = base + string(rune('0'+i))
	}
	g.names[key] = name
	g.components[name] = map[string]any{} // placeholder: recursive types refer to it
	g.components[name] = g.structSchema(t)
	return name
}

func exportedName(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// structSchema describes a struct's JSON object as encoding/json writes it.
func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.addFields(t, props, &required)
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func (g *schemaGen) addFields(t reflect.Type, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			for et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				g.addFields(et, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		var s map[string]any
		if strings.Contains(","+opts+",", ",string,") {
			s = map[string]any{"type": "string"}
		} else {
			s = g.typeSchema(ft)
		}
		if e := f.Tag.Get("enum"); e != "" {
			s = maps.Clone(s)
			s["enum"] = strings.Split(e, ",")
		}
		if d := f.Tag.Get("doc"); d != "" {
			if _, ref := s["$ref"]; !ref {
				s = maps.Clone(s)
				s["description"] = d
			}
		}
		props[name] = s
		req := !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") && ft.Kind() != reflect.Pointer
		if g.request {
			req = slices.Contains(strings.Split(f.Tag.Get("openapi"), ","), "required")
		}
		if req {
			*required = append(*required, name)
		}
	}
}

// csvType is the media type of the CSV answers (writeCSV).
const csvType = "text/csv; charset=utf-8"

// geoJSONType is the media type of the GeoJSON answers (writeGeoJSON).
const geoJSONType = "application/geo+json"

// geoJSONFeature describes an RFC 7946 Feature as orb's geojson.Feature writes it: the type
// marshals itself, so reflection cannot see its members.
func geoJSONFeature() schemaValue {
	return schemaValue{"type": "object", "description": "RFC 7946 Feature (WGS84)", "required": []string{"type", "geometry", "properties"},
		"properties": map[string]any{
			"type":       schemaValue{"const": "Feature"},
			"id":         schemaValue{"description": "the record's id (string or number)"},
			"geometry":   goValue{reflect.TypeFor[orb.Geometry]()},
			"properties": schemaValue{"type": "object"},
		}}
}

// geoJSONFeatureCollection describes an RFC 7946 FeatureCollection as orb's
// geojson.FeatureCollection writes it, with the counts some lists add.
func geoJSONFeatureCollection() schemaValue {
	return schemaValue{"type": "object", "description": "RFC 7946 FeatureCollection (WGS84)", "required": []string{"type", "features"},
		"properties": map[string]any{
			"type":           schemaValue{"const": "FeatureCollection"},
			"features":       schemaValue{"type": "array", "items": geoJSONFeature()},
			"numberMatched":  schemaValue{"type": "integer"},
			"numberReturned": schemaValue{"type": "integer"},
			"links":          goValue{[]ogcLink{}},
		}}
}
