package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
)

var featureCollectionSchema = map[string]any{
	"type":        "object",
	"description": "RFC 7946 FeatureCollection of Polygon or MultiPolygon features in WGS84; each feature has properties.parcel_id (string) and optionally uscc and name.",
	"required":    []string{"type", "features"},
	"properties": map[string]any{
		"type":     map[string]any{"const": "FeatureCollection"},
		"features": map[string]any{"type": "array"},
	},
}

func (s *Server) registerParcelRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/parcels", operation{
		Summary:     "Create or replace parcels",
		Description: "All parcels of the collection are stored, or none: the first problem is reported with the feature it concerns.",
		Request:     featureCollectionSchema,
		Responses:   map[string]string{"200": "parcels stored", "400": "invalid collection", "413": "body too large"},
	}, s.handleParcelsUpsert)
	s.handle(mux, "GET", "/api/v1/parcels", operation{
		Summary:   "List parcels as a GeoJSON FeatureCollection",
		Query:     map[string]string{"bbox": "minLon,minLat,maxLon,maxLat", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "FeatureCollection", "400": "bad query parameter"},
	}, s.handleParcelsList)
	s.handle(mux, "GET", "/api/v1/parcels/{id}", operation{
		Summary:   "One parcel as a GeoJSON Feature",
		Responses: map[string]string{"200": "Feature", "404": "no such parcel"},
	}, s.handleParcelGet)
}

// parseParcels reads a FeatureCollection of parcels and checks what the database needs:
// a parcel_id per feature, unique, and a Polygon or MultiPolygon with closed rings of at least
// four positions inside the WGS84 range.
func parseParcels(body []byte) ([]*offsite.Parcel, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := jsonUnmarshal(body, &head); err != nil {
		return nil, err
	}
	if head.Type != "FeatureCollection" {
		return nil, offsite.Invalid("type", "must be \"FeatureCollection\", got %q", head.Type)
	}
	fc, err := geojson.UnmarshalFeatureCollection(body)
	if err != nil {
		return nil, offsite.Invalid("features", "%v", err)
	}
	if len(fc.Features) == 0 {
		return nil, offsite.Invalid("features", "is empty")
	}
	seen := map[string]int{}
	parcels := make([]*offsite.Parcel, 0, len(fc.Features))
	for i, f := range fc.Features {
		field := "features[" + strconv.Itoa(i) + "]"
		id, ok := f.Properties["parcel_id"].(string)
		if !ok || strings.TrimSpace(id) == "" {
			return nil, offsite.Invalid(field+".properties.parcel_id", "must be a non-empty string")
		}
		if j, dup := seen[id]; dup {
			return nil, offsite.Invalid(field+".properties.parcel_id", "%q is also the id of features[%d]", id, j)
		}
		seen[id] = i
		if err := checkPolygonal(field+".geometry", f.Geometry); err != nil {
			return nil, err
		}
		p := &offsite.Parcel{ID: id, Geometry: f.Geometry}
		p.EnterpriseUSCC, _ = f.Properties["uscc"].(string)
		p.Name, _ = f.Properties["name"].(string)
		parcels = append(parcels, p)
	}
	return parcels, nil
}

func checkPolygonal(field string, g orb.Geometry) error {
	var polys []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		polys = g
	case nil:
		return offsite.Invalid(field, "is missing")
	default:
		return offsite.Invalid(field, "must be a Polygon or MultiPolygon, not %s", g.GeoJSONType())
	}
	if len(polys) == 0 {
		return offsite.Invalid(field, "is empty")
	}
	for pi, poly := range polys {
		if len(poly) == 0 {
			return offsite.Invalid(field, "polygon %d has no rings", pi)
		}
		for ri, ring := range poly {
			if len(ring) < 4 {
				return offsite.Invalid(field, "polygon %d ring %d has %d positions; a ring needs at least 4", pi, ri, len(ring))
			}
			if !ring.Closed() {
				return offsite.Invalid(field, "polygon %d ring %d is not closed (first and last positions differ)", pi, ri)
			}
			for _, pt := range ring {
				if pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90 {
					return offsite.Invalid(field, "polygon %d ring %d has position [%g, %g] outside WGS84 longitude/latitude", pi, ri, pt[0], pt[1])
				}
			}
		}
	}
	return nil
}

func (s *Server) handleParcelsUpsert(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	parcels, err := parseParcels(body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Parcels.UpsertParcels(r.Context(), parcels); err != nil {
		s.Error(w, r, err)
		return
	}
	ids := make([]string, len(parcels))
	for i, p := range parcels {
		ids[i] = p.ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"stored": len(parcels), "parcel_ids": ids})
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
	ps, total, err := s.Parcels.FindParcels(r.Context(), offsite.ParcelFilter{Intersects: bbox, Limit: limit, Offset: offset})
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
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = io.Copy(w, bytes.NewReader(b))
}

func geojsonGeometry(g orb.Geometry) *geojson.Geometry { return geojson.NewGeometry(g) }

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return jsonError(err)
	}
	return nil
}
