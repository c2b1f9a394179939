package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/geo"
)

func (s *Server) registerZoneRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/zones", operation{
		Response:    zoneJSON(&offsite.Zone{}),
		Summary:     "Create a named zone (an industrial park, a river section) to plan surveys over",
		Description: "Names are unique. The geometry is validated like a parcel's (closed rings, no self-intersection, WGS84 range).",
		Roles:       rolesWrite,
		Body:        zoneRequest{},
		Responses:   map[string]string{"201": "zone created", "400": "invalid field", "409": "a zone of that name exists"},
	}, s.handleZoneCreate)
	s.handle(mux, "GET", "/api/v1/zones", operation{
		Summary:   "Every named zone, by name",
		Response:  objectOf(map[string]any{"zones": arrayOf(zoneJSON(&offsite.Zone{}))}),
		Roles:     rolesRead,
		Responses: map[string]string{"200": "zones"},
	}, s.handleZoneList)
	s.handle(mux, "GET", "/api/v1/zones/{id}", operation{
		Summary:   "A named zone with its geometry",
		Response:  zoneJSON(&offsite.Zone{}),
		Roles:     rolesRead,
		Responses: map[string]string{"200": "zone", "400": "bad id", "404": "no such zone"},
	}, s.handleZoneGet)
}

// maxZoneName bounds zone (and survey) names.
const maxZoneName = 200

// zoneRequest is the body of POST /api/v1/zones; the OpenAPI document describes it from here.
type zoneRequest struct {
	Name     string          `json:"name" openapi:"required" doc:"unique, at most 200 characters"`
	Geometry json.RawMessage `json:"geometry" openapi:"required" doc:"GeoJSON Polygon or MultiPolygon in WGS84"`
	GCJ02    bool            `json:"gcj02" doc:"the geometry was drawn on a GCJ-02 web map"`
}

func (s *Server) handleZoneCreate(w http.ResponseWriter, r *http.Request) {
	var in zoneRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	z := &offsite.Zone{Name: strings.TrimSpace(in.Name), CreatedBy: PrincipalFromContext(r.Context()).Name}
	var err error
	switch {
	case z.Name == "":
		err = offsite.Required("name", "is required")
	case len(z.Name) > maxZoneName:
		err = offsite.Invalid("name", "is longer than %d characters", maxZoneName)
	default:
		z.Geometry, err = parseArea("geometry", in.Geometry, in.GCJ02)
	}
	if err == nil {
		err = s.zonesConfigured()
	}
	if err == nil {
		err = s.Zones.CreateZone(r.Context(), z)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/zones/"+strconv.FormatInt(z.ID, 10))
	writeJSON(w, http.StatusCreated, zoneJSON(z))
}

// errNoZones answers the zone routes, and surveys on a named zone, of a server built without
// a ZoneService.
var errNoZones = errors.New("httpapi: named zones are not configured")

func (s *Server) zonesConfigured() error {
	if s.Zones == nil {
		return errNoZones
	}
	return nil
}

func (s *Server) handleZoneList(w http.ResponseWriter, r *http.Request) {
	if err := s.zonesConfigured(); err != nil {
		s.Error(w, r, err)
		return
	}
	zs, err := s.Zones.FindZones(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := make([]any, len(zs))
	for i, z := range zs {
		out[i] = zoneJSON(z)
	}
	writeJSON(w, http.StatusOK, map[string]any{"zones": out})
}

func (s *Server) handleZoneGet(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = s.zonesConfigured()
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	z, err := s.Zones.FindZoneByID(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, zoneJSON(z))
}

func zoneJSON(z *offsite.Zone) any {
	type alias offsite.Zone
	return struct {
		*alias
		Geometry *geojson.Geometry `json:"geometry"`
	}{(*alias)(z), geojson.NewGeometry(z.Geometry)}
}

// parseArea reads a GeoJSON Polygon or MultiPolygon in WGS84 (or GCJ-02, converted) given in
// field, through the parcel reader and validation: same rules, same messages.
func parseArea(field string, raw json.RawMessage, gcj02 bool) (orb.Geometry, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, offsite.Required(field, "is required: a GeoJSON Polygon or MultiPolygon")
	}
	var opts []geo.Option
	if gcj02 {
		opts = append(opts, geo.WithGCJ02())
	}
	coll, err := geo.ReadGeoJSON(strings.NewReader(`{"type":"Feature","properties":{"parcel_id":"zone"},"geometry":`+string(raw)+`}`), opts...)
	if err == nil {
		err = geo.CheckLimits(coll.Features)
	}
	if err == nil {
		var rep geo.Report
		if rep, err = geo.Validate(coll.Features, opts...); err == nil {
			err = rep.Err()
		}
	}
	if err != nil {
		var fe *offsite.FieldError
		if errors.As(parcelError(err), &fe) {
			return nil, offsite.Invalid(field, "%s", fe.Problem)
		}
		return nil, err
	}
	return coll.Features[0].Geometry, nil
}
