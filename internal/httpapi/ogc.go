package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// OGC API – Features (Part 1: Core, GeoJSON) at /ogc, so that QGIS and GDAL's OAPIF driver
// open the enterprises, parcels and findings.

const (
	ogcCRS84    = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	ogcMaxLimit = 1000
)

var ogcConformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
}

type ogcCollection struct {
	id, title, description string
}

var ogcCollections = []ogcCollection{
	{"enterprises", "Enterprises", "Regulated enterprises at their registered location, with their positive-list status; datetime filters on the last update."},
	{"parcels", "Parcels", "Enterprises' parcels (WGS84); datetime filters on the last update."},
	{"findings", "Findings", "Findings of the detection pipelines with their parcel and enterprise; datetime filters on the detection time."},
}

func (s *Server) registerOGCRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/ogc", operation{
		Response: ogcLandingAnswer(),
		Summary:  "OGC API – Features landing page", Roles: rolesRead,
		Responses: map[string]string{"200": "landing page"},
	}, s.handleOGCLanding)
	s.handle(mux, "GET", "/ogc/conformance", operation{
		Response: conformanceAnswer(),
		Summary:  "OGC API – Features conformance classes", Roles: rolesRead,
		Responses: map[string]string{"200": "conformance declaration"},
	}, s.handleOGCConformance)
	s.handle(mux, "GET", "/ogc/collections", operation{
		Response: ogcCollectionsAnswer(),
		Summary:  "OGC API – Features collections: enterprises, parcels, findings", Roles: rolesRead,
		Responses: map[string]string{"200": "collections"},
	}, s.handleOGCCollections)
	s.handle(mux, "GET", "/ogc/collections/{collectionId}", operation{
		Response: ogcCollectionAnswer(),
		Summary:  "One OGC API – Features collection", Roles: rolesRead,
		Responses: map[string]string{"200": "collection", "404": "no such collection"},
	}, s.handleOGCCollection)
	s.handle(mux, "GET", "/ogc/collections/{collectionId}/items", operation{
		Response: geoJSONFeatureCollection(), ResponseType: geoJSONType,
		Summary: "Features of a collection (GeoJSON)", Roles: rolesRead,
		Query: map[string]string{"bbox": "minLon,minLat,maxLon,maxLat (CRS84)", "datetime": "RFC 3339 instant or interval a/b with .. for open ends",
			"limit": "1..1000 (larger values are clamped), default 100", "offset": "default 0", "f": "json or geojson (the only encoding)"},
		Responses: map[string]string{"200": "FeatureCollection with numberMatched, numberReturned and next/prev links", "400": "bad or unknown query parameter", "404": "no such collection"},
	}, s.handleOGCItems)
	s.handle(mux, "GET", "/ogc/collections/{collectionId}/items/{featureId}", operation{
		Response: geoJSONFeature(), ResponseType: geoJSONType,
		Summary: "One feature (GeoJSON)", Roles: rolesRead,
		Responses: map[string]string{"200": "Feature", "404": "no such collection or feature"},
	}, s.handleOGCItem)
}

// baseURL is the scheme and host the client used.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

type ogcLink struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

func (s *Server) handleOGCLanding(w http.ResponseWriter, r *http.Request) {
	b := baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"title":       "Offsite OGC API – Features",
		"description": "Enterprises and parcels of Offsite's off-site inspection evidence.",
		"links": []ogcLink{
			{b + "/ogc", "self", "application/json", "this document"},
			{b + "/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"},
			{b + "/ogc/conformance", "conformance", "application/json", "conformance classes"},
			{b + "/ogc/collections", "data", "application/json", "collections"},
		},
	})
}

func (s *Server) handleOGCConformance(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"conformsTo": ogcConformance})
}

func (s *Server) ogcCollectionDoc(r *http.Request, c ogcCollection) (map[string]any, error) {
	b := baseURL(r) + "/ogc/collections/" + c.id
	extent, err := s.extentDoc(r.Context(), c.id)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"id": c.id, "title": c.title, "description": c.description, "itemType": "feature",
		"crs":    []string{ogcCRS84},
		"extent": extent,
		"links": []ogcLink{
			{b, "self", "application/json", c.title},
			{b + "/items", "items", "application/geo+json", c.title + " items"},
		},
	}, nil
}

func findOGCCollection(id string) (ogcCollection, error) {
	for _, c := range ogcCollections {
		if c.id == id {
			return c, nil
		}
	}
	return ogcCollection{}, offsite.NotFound("collection %q (collections: enterprises, parcels, findings)", id)
}

func (s *Server) handleOGCCollections(w http.ResponseWriter, r *http.Request) {
	var cs []map[string]any
	for _, c := range ogcCollections {
		doc, err := s.ogcCollectionDoc(r, c)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		cs = append(cs, doc)
	}
	b := baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"links":       []ogcLink{{b + "/ogc/collections", "self", "application/json", "collections"}},
		"collections": cs,
	})
}

func (s *Server) handleOGCCollection(w http.ResponseWriter, r *http.Request) {
	c, err := findOGCCollection(r.PathValue("collectionId"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	doc, err := s.ogcCollectionDoc(r, c)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// parseDatetime reads an OGC datetime: an instant, or an interval start/end where either
// end may be ".." or empty.
func parseDatetime(v string) (from, to *time.Time, err error) {
	if v == "" {
		return nil, nil, nil
	}
	one := func(x string) (*time.Time, error) {
		if x == "" || x == ".." {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339, x)
		if err != nil {
			if d, err2 := time.Parse("2006-01-02", x); err2 == nil {
				return &d, nil
			}
			return nil, offsite.Invalid("datetime", "%q is not an RFC 3339 date-time", x)
		}
		return &t, nil
	}
	a, b, interval := strings.Cut(v, "/")
	if !interval {
		t, err := one(a)
		if err != nil || t == nil {
			return nil, nil, offsite.Invalid("datetime", "%q is not an RFC 3339 instant or an interval start/end", v)
		}
		return t, t, nil
	}
	if from, err = one(a); err != nil {
		return nil, nil, err
	}
	if to, err = one(b); err != nil {
		return nil, nil, err
	}
	if from == nil && to == nil {
		return nil, nil, offsite.Invalid("datetime", "%q is open at both ends", v)
	}
	if from != nil && to != nil && to.Before(*from) {
		return nil, nil, offsite.Invalid("datetime", "%q ends before it starts", v)
	}
	return from, to, nil
}

func (s *Server) handleOGCItems(w http.ResponseWriter, r *http.Request) {
	c, err := findOGCCollection(r.PathValue("collectionId"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := errors.Join(onlyParams(r, ogcItemsParams...), checkEncoding(r)); err != nil {
		s.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.Error(w, r, offsite.Invalid("limit", "must be a positive integer, got %q", v))
			return
		}
		limit = min(n, ogcMaxLimit)
	}
	offset, err := intParam(r, "offset", 0, 0, 1<<31-1)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f := enforce.EnterpriseFilter{Agency: scope(r.Context()), Offset: offset, Limit: limit}
	if f.UpdatedFrom, f.UpdatedTo, err = parseDatetime(q.Get("datetime")); err != nil {
		s.Error(w, r, err)
		return
	}
	bbox, err := bboxParam(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if bbox != nil {
		b := bbox.Bound()
		f.Bbox = &b
	}
	fc := geojson.NewFeatureCollection()
	var total int
	switch c.id {
	case "enterprises":
		var es []*enforce.Enterprise
		es, total, err = s.Enforce.FindEnterprises(r.Context(), f)
		for _, e := range es {
			fc.Append(enterpriseFeature(e))
		}
	case "parcels":
		var ps []*offsite.Parcel
		ps, total, err = s.Enforce.FindParcelFeatures(r.Context(), f)
		for _, p := range ps {
			fc.Append(parcelFeature(p))
		}
	case "findings":
		var fs []*offsite.Finding
		fs, total, err = s.Enforce.FindFindingFeatures(r.Context(), f)
		var owners map[string]offsite.Owner
		if err == nil {
			owners, err = s.findingOwners(r.Context(), fs)
		}
		for _, x := range fs {
			fc.Append(withOwner(findingFeature(x), owners[x.ParcelID]))
		}
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	self := baseURL(r) + r.URL.Path
	page := func(off int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("offset", strconv.Itoa(off))
		v.Set("limit", strconv.Itoa(limit))
		return self + "?" + v.Encode()
	}
	links := []ogcLink{{Href: page(offset), Rel: "self", Type: "application/geo+json"}}
	if offset+len(fc.Features) < total {
		links = append(links, ogcLink{Href: page(offset + limit), Rel: "next", Type: "application/geo+json"})
	}
	if offset > 0 {
		links = append(links, ogcLink{Href: page(max(offset-limit, 0)), Rel: "prev", Type: "application/geo+json"})
	}
	fc.ExtraMembers = geojson.Properties{
		"numberMatched": total, "numberReturned": len(fc.Features),
		"timeStamp": s.Now().UTC().Format(time.RFC3339), "links": links,
	}
	writeGeoJSON(w, fc)
}

func enterpriseFeature(e *enforce.Enterprise) *geojson.Feature {
	var g orb.Geometry
	if e.Location != nil {
		g = *e.Location
	}
	f := &geojson.Feature{Type: "Feature", ID: e.USCC, Geometry: g, Properties: geojson.Properties{
		"uscc": e.USCC, "name": e.Name, "industry": e.Industry, "permit_no": e.PermitNo, "key_discharger": e.KeyDischarger,
		"address": e.Address, "zone": e.Zone, "list_status": e.ListStatus, "complaint_channel": e.ComplaintChannel,
		"updated_at": e.UpdatedAt.UTC().Format(time.RFC3339),
	}}
	return f
}

func findingFeature(x *offsite.Finding) *geojson.Feature {
	return &geojson.Feature{Type: "Feature", ID: x.ID, Geometry: x.Geometry, Properties: geojson.Properties{
		"finding_id": x.ID, "parcel_id": x.ParcelID, "kind": x.Kind, "class": x.Class, "status": x.Status,
		"score": x.Score, "area_m2": x.AreaM2, "severity": x.Severity, "pipeline": x.Pipeline,
		"detected_at": x.DetectedAt.UTC().Format(time.RFC3339),
	}}
}

func (s *Server) handleOGCItem(w http.ResponseWriter, r *http.Request) {
	c, err := findOGCCollection(r.PathValue("collectionId"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := errors.Join(onlyParams(r, "f"), checkEncoding(r)); err != nil {
		s.Error(w, r, err)
		return
	}
	id := r.PathValue("featureId")
	// The enterprise and parcel items are scoped by agency here, as authorize scopes the
	// routes that name them in their paths; findings by their query.
	if kind := map[string]string{"enterprises": "enterprise", "parcels": "parcel"}[c.id]; kind != "" {
		if err := s.checkAgency(r.Context(), PrincipalFromContext(r.Context()), kind, id); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	var f *geojson.Feature
	switch c.id {
	case "enterprises":
		e, err := s.Enforce.FindEnterpriseByUSCC(r.Context(), id)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		f = enterpriseFeature(e)
	case "parcels":
		p, err := s.Parcels.FindParcelByID(r.Context(), id)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		f = parcelFeature(p)
	case "findings":
		fs, _, err := s.Enforce.FindFindingFeatures(r.Context(), enforce.EnterpriseFilter{IDs: []string{id}, Agency: scope(r.Context()), Limit: 1})
		if err == nil && len(fs) == 0 {
			err = offsite.NotFound("finding %q", id)
		}
		var owners map[string]offsite.Owner
		if err == nil {
			owners, err = s.findingOwners(r.Context(), fs)
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		f = withOwner(findingFeature(fs[0]), owners[fs[0].ParcelID])
	}
	writeGeoJSON(w, f)
}
