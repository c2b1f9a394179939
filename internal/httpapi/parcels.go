package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/geo"
)

// parcelCollection documents the parcels a request stores: an RFC 7946 FeatureCollection of
// Polygon or MultiPolygon features in WGS84. geo.ReadGeoJSON reads it (a single Feature or a
// bare geometry is taken too), with the size limits of geometryLimits.
type parcelCollection struct {
	Type     string            `json:"type" openapi:"required" enum:"FeatureCollection"`
	Features []parcelFeatureIn `json:"features" openapi:"required"`
}

type parcelFeatureIn struct {
	Type       string           `json:"type" openapi:"required" enum:"Feature"`
	Geometry   orb.Geometry     `json:"geometry" openapi:"required" doc:"Polygon or MultiPolygon, WGS84 (or GCJ-02 with gcj02=true)"`
	Properties parcelProperties `json:"properties" openapi:"required"`
}

type parcelProperties struct {
	ParcelID string `json:"parcel_id" openapi:"required" doc:"unique within the request"`
	USCC     string `json:"uscc" doc:"the enterprise that holds the parcel"`
	Name     string `json:"name"`
}

func (s *Server) registerParcelRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/parcels", operation{
		Response:    objectOf(map[string]any{"stored": 0, "parcel_ids": []string{}}),
		Summary:     "Create or replace parcels",
		Description: "All parcels of the collection are stored, or none. Geometries are validated (closed rings, self-intersection, zero area, ranges, duplicate ids); every problem is reported with the feature, ring and point it concerns. Limits: " + geometryLimits + ".",
		Query:       map[string]string{"gcj02": "true when the coordinates come from a Chinese web map (GCJ-02): they are converted to WGS84", "repair": "true to repair invalid geometries with GDAL's MakeValid instead of refusing them"},
		Body:        parcelCollection{},
		BodyType:    geoJSONType,
		Responses:   map[string]string{"200": "parcels stored", "400": "invalid collection", "413": "body too large"},
		Roles:       rolesWrite,
	}, s.handleParcelsUpsert)
	s.handle(mux, "GET", "/api/v1/parcels", operation{
		Response: geoJSONFeatureCollection(), ResponseType: geoJSONType,
		Summary:   "List parcels as a GeoJSON FeatureCollection",
		Query:     map[string]string{"bbox": "minLon,minLat,maxLon,maxLat", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "FeatureCollection", "400": "bad query parameter"},
		Roles:     rolesRead,
	}, s.handleParcelsList)
	s.handle(mux, "GET", "/api/v1/parcels/{id}", operation{
		Response: geoJSONFeature(), ResponseType: geoJSONType,
		Summary:   "One parcel as a GeoJSON Feature",
		Responses: map[string]string{"200": "Feature", "404": "no such parcel"},
		Params:    map[string]map[string]any{"id": {"type": "string"}},
		Roles:     rolesRead,
	}, s.handleParcelGet)
}

// geometryLimits describes geo's size limits for the OpenAPI document.
var geometryLimits = fmt.Sprintf("at most %d positions per feature and %d per request, %d polygons per multipolygon, %d rings per polygon",
	geo.MaxVertices, geo.MaxTotalVertices, geo.MaxParts, geo.MaxRings)

// parseParcels reads parcels from GeoJSON (a FeatureCollection, a Feature or a bare
// geometry) and validates them; opts may convert GCJ-02 coordinates or repair geometries.
// Problems come back as *offsite.FieldError naming the feature's member.
func parseParcels(body []byte, opts ...geo.Option) ([]*offsite.Parcel, error) {
	coll, err := geo.ReadGeoJSON(bytes.NewReader(body), opts...)
	if err != nil {
		return nil, parcelError(err)
	}
	if len(coll.Features) == 0 {
		return nil, offsite.Invalid("features", "is empty")
	}
	if err := geo.CheckLimits(coll.Features); err != nil {
		return nil, parcelError(err)
	}
	report, err := geo.Validate(coll.Features, opts...)
	if err != nil {
		return nil, err
	}
	if err := report.Err(); err != nil {
		return nil, parcelError(err)
	}
	return geo.Parcels(report.Features), nil
}

// parcelError turns geo's errors into field errors: the field of the first problem, and a
// message that lists them all.
func parcelError(err error) error {
	var fe *geo.FeatureError
	var ve *geo.ValidationError
	switch {
	case errors.As(err, &ve) && len(ve.Problems) > 0:
		p := ve.Problems[0]
		field := fmt.Sprintf("features[%d].geometry", p.Feature)
		if p.Code == geo.MissingID || p.Code == geo.DuplicateID {
			field = fmt.Sprintf("features[%d].properties.parcel_id", p.Feature)
		}
		return &offsite.FieldError{Field: field, Problem: strings.TrimPrefix(ve.Error(), "geo: ")}
	case errors.As(err, &fe) && fe.Index < 0:
		return &offsite.FieldError{Field: fe.Field, Problem: fe.Msg}
	case errors.As(err, &fe):
		field := fmt.Sprintf("features[%d]", fe.Index)
		if fe.Field != "" {
			field += "." + fe.Field
		}
		return &offsite.FieldError{Field: field, Problem: fe.Msg}
	case errors.Is(err, offsite.ErrInvalid):
		return &offsite.FieldError{Field: "body", Problem: strings.TrimPrefix(err.Error(), geo.ErrInvalid.Error()+": ")}
	}
	return err
}

// boolParam reads a boolean query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, offsite.Invalid(name, "must be true or false, got %q", v)
	}
	return b, nil
}

// readParcels reads the parcels of a request's body, with its gcj02 and repair query
// parameters: the reader of both parcel routes (POST /api/v1/parcels and PUT
// /api/v1/enterprises/{uscc}/parcels).
func (s *Server) readParcels(w http.ResponseWriter, r *http.Request) ([]*offsite.Parcel, error) {
	body, err := s.readBody(w, r)
	if err != nil {
		return nil, err
	}
	var opts []geo.Option
	for name, opt := range map[string]geo.Option{"gcj02": geo.WithGCJ02(), "repair": geo.WithRepair()} {
		on, err := boolParam(r, name)
		if err != nil {
			return nil, err
		}
		if on {
			opts = append(opts, opt)
		}
	}
	return parseParcels(body, opts...)
}

// writeStoredParcels answers a parcel route with what it stored.
func writeStoredParcels(w http.ResponseWriter, parcels []*offsite.Parcel) {
	ids := make([]string, len(parcels))
	for i, p := range parcels {
		ids[i] = p.ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"stored": len(parcels), "parcel_ids": ids})
}

func (s *Server) handleParcelsUpsert(w http.ResponseWriter, r *http.Request) {
	parcels, err := s.readParcels(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Parcels.UpsertParcels(r.Context(), parcels); err != nil {
		s.Error(w, r, err)
		return
	}
	writeStoredParcels(w, parcels)
}

func parcelFeature(p *offsite.Parcel) *geojson.Feature {
	f := geojson.NewFeature(p.Geometry)
	f.ID = p.ID
	f.Properties["parcel_id"] = p.ID
	if p.EnterpriseUSCC != "" {
		f.Properties["uscc"] = p.EnterpriseUSCC
	}
	if p.Name != "" {
		f.Properties["name"] = p.Name
	}
	f.Properties["updated_at"] = p.UpdatedAt
	return f
}

// intParam reads an integer query parameter in [lo, hi].
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, offsite.Invalid(name, "must be an integer in %d..%d, got %q", lo, hi, v)
	}
	return n, nil
}

// bboxParam reads bbox=minLon,minLat,maxLon,maxLat.
func bboxParam(r *http.Request) (orb.Geometry, error) {
	v := r.URL.Query().Get("bbox")
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return nil, offsite.Invalid("bbox", "must be minLon,minLat,maxLon,maxLat, got %q", v)
	}
	var f [4]float64
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, offsite.Invalid("bbox", "value %d (%q) is not a number", i+1, p)
		}
		f[i] = x
	}
	if f[0] > f[2] || f[1] > f[3] || f[0] < -180 || f[2] > 180 || f[1] < -90 || f[3] > 90 {
		return nil, offsite.Invalid("bbox", "%q is not a WGS84 box with min <= max", v)
	}
	return orb.Bound{Min: orb.Point{f[0], f[1]}, Max: orb.Point{f[2], f[3]}}.ToPolygon(), nil
}

func (s *Server) handleParcelsList(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100, 1, 1000)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	offset, err := intParam(r, "offset", 0, 0, 1<<31-1)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	bbox, err := bboxParam(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ps, total, err := s.Parcels.FindParcels(r.Context(), offsite.ParcelFilter{Intersects: bbox, Agency: scope(r.Context()), Limit: limit, Offset: offset})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	fc := geojson.NewFeatureCollection()
	for _, p := range ps {
		fc.Append(parcelFeature(p))
	}
	fc.ExtraMembers = geojson.Properties{"numberMatched": total, "numberReturned": len(ps)}
	w.Header().Set("Content-Type", "application/geo+json")
	writeGeoJSON(w, fc)
}

func (s *Server) handleParcelGet(w http.ResponseWriter, r *http.Request) {
	p, err := s.Parcels.FindParcelByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeGeoJSON(w, parcelFeature(p))
}

func writeGeoJSON(w http.ResponseWriter, v interface{ MarshalJSON() ([]byte, error) }) {
	b, err := v.MarshalJSON()
	if err != nil {
		writeProblem(w, newProblem(nil, http.StatusInternalServerError, "internal", "", "internal error", nil))
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = io.Copy(w, bytes.NewReader(b))
}

func geojsonGeometry(g orb.Geometry) *geojson.Geometry { return geojson.NewGeometry(g) }
