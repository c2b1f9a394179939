package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// maxReportedErrors bounds the per-feature errors one read reports.
const maxReportedErrors = 20

// gjObject is any GeoJSON object, decoded loosely so that each member can
// be checked with a precise message.
type gjObject struct {
	Type        string            `json:"type"`
	Features    []json.RawMessage `json:"features"`
	Geometry    json.RawMessage   `json:"geometry"`
	Properties  json.RawMessage   `json:"properties"`
	Coordinates json.RawMessage   `json:"coordinates"`
	CRS         *gjCRS            `json:"crs"`
}

// gjCRS is the "crs" member of GeoJSON 2008, still written by GDAL and QGIS
// for data not in WGS84 (RFC 7946 dropped it).
type gjCRS struct {
	Type       string `json:"type"`
	Properties struct {
		Name string `json:"name"`
	} `json:"properties"`
}

// ReadGeoJSON reads parcels from an RFC 7946 FeatureCollection, a single
// Feature, or a bare Polygon/MultiPolygon geometry (one parcel with no id,
// which Validate reports until the caller sets it).
//
// Each feature must have a string properties.parcel_id (see
// WithIDProperty); "uscc" and "name" fill Feature.USCC and Feature.Name;
// other properties go to Feature.Properties. Geometries must be Polygon or
// MultiPolygon (holes allowed) or null; positions may carry an altitude,
// which is dropped. A legacy "crs" member naming a CRS other than WGS84 or
// CGCS2000 is honoured by reprojecting through GDAL. WithGCJ02 converts
// GCJ-02 coordinates to WGS84.
//
// Errors wrap ErrInvalid and name the feature index and parcel id.
func ReadGeoJSON(r io.Reader, opts ...Option) (*Collection, error) {
	o := newOptions(opts)
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("geo: read geojson: %w", err)
	}
	var top gjObject
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%w: geojson: %s", ErrInvalid, jsonError(data, err))
	}
	var raws []json.RawMessage
	bare := false
	switch top.Type {
	case "FeatureCollection":
		raws = top.Features
	case "Feature":
		raws = []json.RawMessage{data}
	case "Polygon", "MultiPolygon":
		raws = []json.RawMessage{data}
		bare = true
	case "":
		return nil, fmt.Errorf(`%w: geojson: no "type" member`, ErrInvalid)
	default:
		return nil, fmt.Errorf("%w: geojson: type %q, want FeatureCollection, Feature, Polygon or MultiPolygon", ErrInvalid, top.Type)
	}
	c := &Collection{Features: make([]Feature, 0, len(raws))}
	var errs []error
	for i, raw := range raws {
		var f Feature
		var err error
		if bare {
			f.Index = 0
			f.Geometry, err = decodeGeometry(raw)
			if err != nil {
				err = fmt.Errorf("%w: geometry: %v", ErrInvalid, err)
			}
		} else {
			f, err = decodeFeature(i, raw, o)
		}
		if err != nil {
			errs = append(errs, err)
			if len(errs) == maxReportedErrors {
				errs = append(errs, errors.New("geo: further errors not reported"))
				break
			}
			continue
		}
		c.Features = append(c.Features, f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	crs, err := geoJSONCRS(top.CRS)
	if err != nil {
		return nil, err
	}
	if err := c.toWGS84(crs, 0, o); err != nil {
		return nil, err
	}
	return c, nil
}

// geoJSONCRS returns the CRS a legacy "crs" member names ("" for none).
func geoJSONCRS(crs *gjCRS) (string, error) {
	if crs == nil {
		return "", nil
	}
	if crs.Type != "name" || crs.Properties.Name == "" {
		return "", fmt.Errorf(`%w: geojson: unsupported "crs" member (only {"type":"name"} is understood)`, ErrInvalid)
	}
	return crs.Properties.Name, nil
}

// decodeFeature decodes the i-th Feature of a collection.
func decodeFeature(i int, raw json.RawMessage, o options) (Feature, error) {
	f := Feature{Index: i}
	var obj gjObject
	if err := json.Unmarshal(raw, &obj); err != nil {
		return f, featureErr(i, "", "feature %d: %v", i, err)
	}
	if obj.Type != "Feature" {
		return f, featureErr(i, "type", "feature %d: type %q, want Feature", i, obj.Type)
	}
	var props map[string]any
	if len(obj.Properties) > 0 && !isNull(obj.Properties) {
		if err := json.Unmarshal(obj.Properties, &props); err != nil {
			return f, featureErr(i, "properties", "feature %d: properties: %v", i, err)
		}
	}
	if err := f.setProperties(props, o.idProperty, false); err != nil {
		return f, err
	}
	g, err := decodeGeometry(obj.Geometry)
	if err != nil {
		return f, featureErr(i, "geometry", "feature %d (parcel %q): geometry: %v", i, f.ParcelID, err)
	}
	f.Geometry = g
	return f, nil
}

// setProperties fills ParcelID, USCC, Name and Properties from props.
// fromTable marks attribute tables (Shapefile, GeoPackage, KML): there an
// integer id is accepted and formatted in decimal, and property names match
// case-insensitively when no exact match exists (DBF fields are often upper
// case, KML calls its name "Name").
func (f *Feature) setProperties(props map[string]any, idProp string, fromTable bool) error {
	key := func(want string) string {
		if _, ok := props[want]; ok || !fromTable {
			return want
		}
		for k := range props {
			if strings.EqualFold(k, want) {
				return k
			}
		}
		return want
	}
	idKey, usccKey, nameKey := key(idProp), key("uscc"), key("name")
	id, ok := props[idKey]
	switch v := id.(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			return featureErr(f.Index, "properties."+idProp, "feature %d: properties.%s is empty", f.Index, idProp)
		}
		f.ParcelID = v
	case int64:
		if !fromTable {
			return featureErr(f.Index, "properties."+idProp, "feature %d: properties.%s is a number, want a string", f.Index, idProp)
		}
		f.ParcelID = fmt.Sprint(v)
	case nil:
		if ok {
			return featureErr(f.Index, "properties."+idProp, "feature %d: properties.%s is null", f.Index, idProp)
		}
		return featureErr(f.Index, "properties."+idProp, "feature %d: properties.%s is missing", f.Index, idProp)
	default:
		return featureErr(f.Index, "properties."+idProp, "feature %d: properties.%s is a %s, want a string", f.Index, idProp, jsonKind(v))
	}
	f.Properties = map[string]any{}
	for k, v := range props {
		switch {
		case k == idKey:
		case k == usccKey && isString(v):
			f.USCC = v.(string)
		case k == nameKey && isString(v):
			f.Name = v.(string)
		default:
			f.Properties[k] = v
		}
	}
	for _, p := range []struct{ name, v string }{{idProp, f.ParcelID}, {"uscc", f.USCC}, {"name", f.Name}} {
		if problem := textProblem(p.v); problem != "" {
			return featureErr(f.Index, "properties."+p.name, "feature %d: properties.%s (%+q) %s", f.Index, p.name, p.v, problem)
		}
	}
	return nil
}

// notText starts every textProblem about bytes that are not text.
const notText = "is not valid UTF-8 text"

// textProblem says why s cannot be stored as text, or "" when it can: PostgreSQL refuses
// invalid UTF-8 and NUL, and U+FFFD is what a decoder leaves of bytes it could not read
// (a Shapefile read in the wrong code page), so two different ids could become one.
func textProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return notText
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL character"
	case strings.ContainsRune(s, utf8.RuneError):
		return "contains U+FFFD, the mark of bytes that could not be decoded: is the file in another code page (see its .cpg, or give the encoding)?"
	}
	return ""
}

func isString(v any) bool { _, ok := v.(string); return ok }

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case float64, int64, json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// decodeGeometry decodes a Polygon or MultiPolygon (nil for null or absent).
func decodeGeometry(raw json.RawMessage) (orb.Geometry, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	var obj gjObject
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	if len(obj.Coordinates) == 0 || isNull(obj.Coordinates) {
		if obj.Type == "Polygon" || obj.Type == "MultiPolygon" {
			return nil, errors.New(`no "coordinates"`)
		}
	}
	switch obj.Type {
	case "Polygon":
		var c [][][]float64
		if err := json.Unmarshal(obj.Coordinates, &c); err != nil {
			return nil, fmt.Errorf("polygon coordinates: %v", err)
		}
		return polygonFromCoords(c, -1)
	case "MultiPolygon":
		var c [][][][]float64
		if err := json.Unmarshal(obj.Coordinates, &c); err != nil {
			return nil, fmt.Errorf("multipolygon coordinates: %v", err)
		}
		mp := make(orb.MultiPolygon, len(c))
		for i, pc := range c {
			p, err := polygonFromCoords(pc, i)
			if err != nil {
				return nil, err
			}
			mp[i] = p
		}
		return mp, nil
	case "":
		return nil, errors.New(`no "type" member`)
	default:
		return nil, fmt.Errorf("type %q, want Polygon or MultiPolygon", obj.Type)
	}
}

// polygonFromCoords converts GeoJSON polygon coordinates; part is the
// polygon's index in a MultiPolygon (-1 for a Polygon), for messages.
func polygonFromCoords(c [][][]float64, part int) (orb.Polygon, error) {
	p := make(orb.Polygon, len(c))
	for i, rc := range c {
		r := make(orb.Ring, len(rc))
		for j, pos := range rc {
			if len(pos) < 2 {
				where := fmt.Sprintf("ring %d position %d", i, j)
				if part >= 0 {
					where = fmt.Sprintf("polygon %d %s", part, where)
				}
				return nil, fmt.Errorf("%s has %d numbers, want at least 2", where, len(pos))
			}
			r[j] = orb.Point{pos[0], pos[1]}
		}
		p[i] = r
	}
	return p, nil
}

// jsonError names the line and column where encoding/json stopped: "unexpected end of JSON
// input" alone does not tell a user that the file was cut off, nor where.
func jsonError(data []byte, err error) string {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
		if off < int64(len(data)) && off > 0 {
			off-- // the offset is just past the offending byte
		}
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 {
		return err.Error()
	}
	off = min(off, int64(len(data)))
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	msg := err.Error()
	if off == int64(len(data)) && strings.Contains(msg, "unexpected end") {
		msg = fmt.Sprintf("the file ends at line %d column %d inside an unfinished value: it is truncated", line, col)
		return msg
	}
	return fmt.Sprintf("line %d column %d: %s", line, col, msg)
}
