package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/geo"
)

// registerEnterpriseRoutes registers the routes of enterprises, their parcels, evidence and health-check visits.
func (s *Server) registerEnterpriseRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/enterprises", operation{
		Response: enforce.Enterprise{},
		Summary:  "Create an enterprise", Body: enterpriseRequest{}, Roles: rolesStaffWrite,
		Responses: map[string]string{"201": "created", "400": "invalid field (a wrong USCC check character names the expected one)", "409": "exists"},
	}, s.handleEnterpriseCreate)
	s.handle(mux, "GET", "/api/v1/enterprises", operation{
		Summary: "Search enterprises", Roles: rolesRead,
		Response:  listOf("enterprises", []*enforce.Enterprise{}),
		Query:     map[string]string{"q": "name substring or USCC prefix", "zone": "zone", "industry": "industry code prefix", "list_status": "proposed, notice, listed, removed, expired, rejected or none", "bbox": "minLon,minLat,maxLon,maxLat", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "enterprises", "400": "bad query parameter"},
	}, s.handleEnterpriseList)
	s.handle(mux, "POST", "/api/v1/enterprises/import", operation{
		Response:    objectOf(map[string]any{"imported": 0}),
		Summary:     "Bulk import enterprises from CSV",
		Description: "Header: uscc,name,industry,permit_no,key_discharger,address,zone,lon,lat,complaint_channel[,legacy_override]. All rows are imported or none; every bad row is reported.",
		Roles:       rolesStaffWrite,
		Responses:   map[string]string{"200": "imported", "400": "per-row error report in rows", "413": "body too large"},
	}, s.handleEnterpriseImport)
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}", operation{
		Summary: "One enterprise", Roles: rolesOwnRead,
		Response:  enforce.Enterprise{},
		Responses: map[string]string{"200": "enterprise", "403": "another enterprise's record", "404": "no such enterprise"},
	}, s.handleEnterpriseGet)
	s.handle(mux, "PUT", "/api/v1/enterprises/{uscc}", operation{
		Response: enforce.Enterprise{},
		Summary:  "Update an enterprise", Body: enterpriseRequest{}, Roles: rolesStaffWrite,
		Responses: map[string]string{"200": "updated", "400": "invalid field", "404": "no such enterprise", "409": "stale version"},
	}, s.handleEnterpriseUpdate)
	s.handle(mux, "PUT", "/api/v1/enterprises/{uscc}/parcels", operation{
		Response: objectOf(map[string]any{"stored": 0, "parcel_ids": []string{}}),
		Summary:  "Store the enterprise's parcels (GeoJSON FeatureCollection)", Body: parcelCollection{}, BodyType: geoJSONType, Roles: rolesStaffWrite,
		Query:     map[string]string{"gcj02": "true when the coordinates are GCJ-02 (web map); converted to WGS84", "repair": "true to repair invalid geometries"},
		Responses: map[string]string{"200": "stored", "400": "invalid collection", "404": "no such enterprise"},
	}, s.handleEnterpriseParcels)
	s.handle(mux, "POST", "/api/v1/enterprises/{uscc}/parcels/{id}/retire", operation{
		Response: parcelRetired{},
		Summary:  "Retire a parcel of the enterprise; audited",
		Description: "The parcel leaves the parcel lists, the OGC collections, the GIS exports and clipping; the evidence already made on it " +
			"(clips, findings) keeps it, marked retired. Storing a parcel of that id again brings it back.",
		Roles:     rolesStaffWrite,
		Params:    map[string]map[string]any{"id": {"type": "string"}},
		Responses: map[string]string{"200": "retired", "404": "no such enterprise, or no such parcel of it not yet retired"},
	}, s.handleParcelRetire)
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}/parcels", operation{
		Response: geoJSONFeatureCollection(), ResponseType: geoJSONType,
		Summary: "The enterprise's parcels as a FeatureCollection", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "FeatureCollection", "403": "another enterprise's record", "404": "no such enterprise"},
	}, s.handleEnterpriseParcelsGet)
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}/evidence", operation{
		Summary: "The enterprise's evidence: parcels with their findings (provenance, artifacts) and clips with download links; the view is audited", Roles: rolesRead,
		Response:  evidenceAnswer{},
		Responses: map[string]string{"200": "evidence", "403": "an enterprise of an agency outside yours", "404": "no such enterprise"},
		// enforce.Enterprises.Evidence reads the enterprise's agency with its evidence.
		ReachInCommand: true,
	}, s.handleEnterpriseEvidence)
	s.handle(mux, "GET", "/api/v1/evidence-objects/{key...}", operation{
		Summary: "Download an evidence object (clip COG, quick-look, artifact): a redirect to a presigned URL; audited", Roles: rolesRead,
		Responses: map[string]string{"302": "to a presigned URL valid 15 minutes", "400": "invalid key", "404": "no such object (not audited)"},
	}, s.handleEvidenceObject)
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}/health-visits", operation{
		Summary: "Health-check visits of an enterprise", Roles: rolesOwnRead,
		Response:  objectOf(map[string]any{"uscc": "", "visits": []*enforce.HealthVisit{}}),
		Responses: map[string]string{"200": "visits", "403": "another enterprise's record"},
	}, s.handleHealthVisitList)
	s.handle(mux, "POST", "/api/v1/enterprises/{uscc}/health-visits", operation{
		Response: enforce.HealthVisit{},
		Summary:  "Record a health-check (体检式) on-site assistance visit", Roles: rolesInspect,
		Body:      healthVisitRequest{},
		Responses: map[string]string{"201": "recorded", "400": "invalid field", "404": "no such enterprise"},
	}, s.handleHealthVisitCreate)
}

// enterpriseRequest is the body that creates or updates an enterprise.
type enterpriseRequest struct {
	USCC             string      `json:"uscc" openapi:"required" doc:"unified social credit code (GB 32100-2015)"`
	Name             string      `json:"name" openapi:"required"`
	Industry         string      `json:"industry" openapi:"required" doc:"GB/T 4754 code, e.g. C3120"`
	PermitNo         string      `json:"permit_no" doc:"HJ 608-2017 permit or registration number; its first 18 characters must be the USCC"`
	KeyDischarger    bool        `json:"key_discharger"`
	Address          string      `json:"address"`
	Zone             string      `json:"zone"`
	Location         *[2]float64 `json:"location" doc:"[lon, lat]"`
	LocationGCJ02    bool        `json:"location_gcj02" doc:"location is in GCJ-02 (web map) and is converted to WGS84"`
	ComplaintChannel string      `json:"complaint_channel"`
	LegacyOverride   bool        `json:"legacy_override" doc:"admit a known legacy USCC whose check character fails; audited"`
	AgencyID         int64       `json:"agency_id" doc:"the agency the enterprise belongs to, one the caller reaches; default the caller's (on update: unchanged)"`
	Version          int         `json:"version" doc:"on update: the version read; a stale version is refused with 409"`
}

// enterprise validates the request and returns the enterprise it describes.
func (in *enterpriseRequest) enterprise() (*enforce.Enterprise, error) {
	e := &enforce.Enterprise{USCC: in.USCC, Name: in.Name, Industry: in.Industry, PermitNo: in.PermitNo,
		KeyDischarger: in.KeyDischarger, Address: in.Address, Zone: in.Zone, ComplaintChannel: in.ComplaintChannel, AgencyID: in.AgencyID, Version: in.Version}
	if in.Location != nil {
		lon, lat := in.Location[0], in.Location[1]
		if in.LocationGCJ02 {
			lon, lat = geo.GCJ02ToWGS84(lon, lat)
		}
		e.Location = &orb.Point{lon, lat}
	}
	return e, e.Validate(in.LegacyOverride)
}

// decodeEnterprise decodes and validates an enterprise request body.
func decodeEnterprise(body []byte) (*enforce.Enterprise, error) {
	var in enterpriseRequest
	if err := strictUnmarshal(body, &in); err != nil {
		return nil, err
	}
	return in.enterprise()
}

func (s *Server) handleEnterpriseCreate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readJSONBody(w, r, (*enterpriseRequest)(nil))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := decodeEnterprise(body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.enterprises.Create(r.Context(), PrincipalFromContext(r.Context()).Actor(), e); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) handleEnterpriseUpdate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readJSONBody(w, r, (*enterpriseRequest)(nil))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := decodeEnterprise(body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if e.USCC != r.PathValue("uscc") {
		s.Error(w, r, offsite.Invalid("uscc", "%q differs from the path's %q", e.USCC, r.PathValue("uscc")))
		return
	}
	if e.Version < 1 {
		s.Error(w, r, offsite.Required("version", "is required: the version read"))
		return
	}
	if err := s.enterprises.Update(r.Context(), PrincipalFromContext(r.Context()).Actor(), e); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) handleEnterpriseGet(w http.ResponseWriter, r *http.Request) {
	uscc := r.PathValue("uscc")
	if err := checkOwn(r.Context(), uscc); err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.Enforce.FindEnterpriseByUSCC(r.Context(), uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// enterpriseFilter reads the enterprise search parameters: q, zone, industry, list_status,
// bbox, limit and offset.
func enterpriseFilter(r *http.Request) (enforce.EnterpriseFilter, error) {
	offset, limit, err := pageParams(r)
	if err != nil {
		return enforce.EnterpriseFilter{}, err
	}
	q := r.URL.Query()
	f := enforce.EnterpriseFilter{Query: q.Get("q"), Zone: q.Get("zone"), Industry: q.Get("industry"), ListStatus: enforce.ListStatus(q.Get("list_status")),
		Agency: scope(r.Context()), Offset: offset, Limit: limit}
	if f.ListStatus != "" && f.ListStatus != "none" && !slices.Contains(enforce.ListStatuses, f.ListStatus) {
		return f, offsite.Invalid("list_status", "must be one of %s or none, got %q", strings.Join(enforce.Names(enforce.ListStatuses), ", "), f.ListStatus)
	}
	bbox, err := bboxParam(r)
	if err != nil {
		return f, err
	}
	if bbox != nil {
		b := bbox.Bound()
		f.Bbox = &b
	}
	return f, nil
}

func (s *Server) handleEnterpriseList(w http.ResponseWriter, r *http.Request) {
	f, err := enterpriseFilter(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	es, total, err := s.Enforce.FindEnterprises(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if es == nil {
		es = []*enforce.Enterprise{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"enterprises": es, "total": total, "offset": f.Offset, "limit": f.Limit})
}

// importColumns is the CSV header of a bulk import; legacy_override is optional.
var importColumns = []string{"uscc", "name", "industry", "permit_no", "key_discharger", "address", "zone", "lon", "lat", "complaint_channel"}

// parseEnterpriseCSV reads and validates every row; it returns all row errors together.
func parseEnterpriseCSV(body []byte) ([]*enforce.Enterprise, []enforce.ImportRowError, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // Excel's UTF-8 BOM
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, offsite.Invalid("body", "is empty; a CSV with the header %s is required", strings.Join(importColumns, ","))
	}
	if err != nil {
		return nil, nil, offsite.Invalid("body", "header: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, c := range importColumns {
		if _, ok := col[c]; !ok {
			return nil, nil, offsite.Invalid("header", "column %q is missing; the header is %s[,legacy_override]", c, strings.Join(importColumns, ","))
		}
	}
	var out []*enforce.Enterprise
	var bad []enforce.ImportRowError
	seen := map[string]int{}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad = append(bad, enforce.ImportRowError{Row: row, Field: "row", Problem: err.Error()})
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				break // the rest of the file cannot be trusted
			}
			continue
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		in := enterpriseRequest{USCC: get("uscc"), Name: get("name"), Industry: get("industry"), PermitNo: get("permit_no"),
			Address: get("address"), Zone: get("zone"), ComplaintChannel: get("complaint_channel")}
		rowErr := func(field, format string, args ...any) {
			bad = append(bad, enforce.ImportRowError{Row: row, USCC: in.USCC, Field: field, Problem: fmt.Sprintf(format, args...)})
		}
		okRow := true
		for _, c := range []string{"key_discharger", "legacy_override"} {
			v := get(c)
			if v == "" {
				continue
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				rowErr(c, "%q is not true or false", v)
				okRow = false
			}
			if c == "key_discharger" {
				in.KeyDischarger = b
			} else {
				in.LegacyOverride = b
			}
		}
		if lon, lat := get("lon"), get("lat"); lon != "" || lat != "" {
			x, err1 := strconv.ParseFloat(lon, 64)
			y, err2 := strconv.ParseFloat(lat, 64)
			if err1 != nil || err2 != nil {
				rowErr("lon", "lon %q and lat %q must both be numbers", lon, lat)
				okRow = false
			} else {
				in.Location = &[2]float64{x, y}
			}
		}
		if !okRow {
			continue
		}
		e, err := in.enterprise()
		if err != nil {
			var fe *offsite.FieldError
			if errors.As(err, &fe) {
				rowErr(fe.Field, "%s", fe.Problem)
			} else {
				rowErr("uscc", "%s", strings.TrimPrefix(err.Error(), "uscc: "))
			}
			continue
		}
		if prev, dup := seen[e.USCC]; dup {
			rowErr("uscc", "%s is also on row %d", e.USCC, prev)
			continue
		}
		seen[e.USCC] = row
		out = append(out, e)
	}
	if len(out) == 0 && len(bad) == 0 {
		return nil, nil, offsite.Invalid("body", "has a header but no rows")
	}
	return out, bad, nil
}

func (s *Server) writeImportErrors(w http.ResponseWriter, r *http.Request, rows []enforce.ImportRowError) {
	p := newProblem(r, http.StatusBadRequest, "invalid", "rows", (&enforce.ImportError{Rows: rows}).Error(), nil)
	p.Rows = rows
	writeProblem(w, p)
}

func (s *Server) handleEnterpriseImport(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	es, bad, err := parseEnterpriseCSV(body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if len(bad) > 0 {
		s.writeImportErrors(w, r, bad)
		return
	}
	err = s.enterprises.Import(r.Context(), PrincipalFromContext(r.Context()).Actor(), es)
	var ie *enforce.ImportError
	if errors.As(err, &ie) {
		s.writeImportErrors(w, r, ie.Rows)
		return
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"imported": len(es)})
}

func (s *Server) handleEnterpriseParcels(w http.ResponseWriter, r *http.Request) {
	parcels, err := s.readParcels(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.enterprises.SetParcels(r.Context(), PrincipalFromContext(r.Context()).Actor(), r.PathValue("uscc"), parcels); err != nil {
		s.Error(w, r, err)
		return
	}
	writeStoredParcels(w, parcels)
}

// parcelRetired is the answer of POST /api/v1/enterprises/{uscc}/parcels/{id}/retire.
type parcelRetired struct {
	ParcelID  string    `json:"parcel_id"`
	RetiredAt time.Time `json:"retired_at"`
}

func (s *Server) handleParcelRetire(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	at, err := s.enterprises.RetireParcel(r.Context(), PrincipalFromContext(r.Context()).Actor(), r.PathValue("uscc"), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, parcelRetired{ParcelID: id, RetiredAt: at})
}

func (s *Server) handleEnterpriseParcelsGet(w http.ResponseWriter, r *http.Request) {
	uscc := r.PathValue("uscc")
	if err := checkOwn(r.Context(), uscc); err != nil {
		s.Error(w, r, err)
		return
	}
	ev, err := s.enterprises.Evidence(r.Context(), PrincipalFromContext(r.Context()).Actor(), uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	fc := geojson.NewFeatureCollection()
	for _, e := range ev {
		if e.Parcel.RetiredAt == nil { // a retired parcel is in the evidence, not the list
			fc.Append(parcelFeature(e.Parcel))
		}
	}
	writeGeoJSON(w, fc)
}

// evidenceFinding is a finding with its geometry as GeoJSON.
type evidenceFinding struct {
	*offsite.Finding
	Geometry json.RawMessage `json:"geometry"`
}

// evidenceObjectPath prefixes an evidence object key to make its download link.
const evidenceObjectPath = "/api/v1/evidence-objects/"

func (s *Server) handleEvidenceObject(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if err := offsite.CheckObjectKey(key); err != nil {
		s.Error(w, r, offsite.Invalid("key", "%v", err))
		return
	}
	ctx := r.Context()
	// Only what exists is audited as downloaded, and presigned.
	if _, err := s.Store.StatEvidence(ctx, key); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Enforce.Audit(ctx, PrincipalFromContext(ctx).Actor(), enforce.AuditEvidenceDownload, "evidence/"+key, map[string]any{"key": key}); err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.Store.PresignEvidenceDownload(ctx, key, 15*time.Minute)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

type evidenceClip struct {
	*offsite.Clip
	COGURL       string `json:"cog_url,omitempty"`
	QuickLookURL string `json:"quicklook_url,omitempty"`
}

// evidenceAnswer is the answer of GET /api/v1/enterprises/{uscc}/evidence.
type evidenceAnswer struct {
	USCC    string           `json:"uscc"`
	Parcels []evidenceParcel `json:"parcels"`
}

type evidenceParcel struct {
	ParcelID string          `json:"parcel_id"`
	Name     string          `json:"name,omitempty"`
	Geometry json.RawMessage `json:"geometry"`
	// RetiredAt is set on a retired parcel, listed for the evidence made on it.
	RetiredAt *time.Time        `json:"retired_at,omitempty"`
	Findings  []evidenceFinding `json:"findings"`
	Clips     []evidenceClip    `json:"clips"`
}

func (s *Server) handleEnterpriseEvidence(w http.ResponseWriter, r *http.Request) {
	uscc := r.PathValue("uscc")
	ev, err := s.enterprises.Evidence(r.Context(), PrincipalFromContext(r.Context()).Actor(), uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// Links through the API, presigned when followed: signing twenty URLs per view cost more
	// than the rest of the request.
	s.writeEvidence(w, r, uscc, ev)
}

func (s *Server) handleHealthVisitList(w http.ResponseWriter, r *http.Request) {
	uscc := r.PathValue("uscc")
	if err := checkOwn(r.Context(), uscc); err != nil {
		s.Error(w, r, err)
		return
	}
	vs, err := s.Enforce.FindHealthVisits(r.Context(), uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"uscc": uscc, "visits": vs})
}

// healthVisitRequest is the body of POST /api/v1/enterprises/{uscc}/health-visits.
type healthVisitRequest struct {
	VisitedAt string `json:"visited_at" openapi:"required" doc:"RFC 3339 time or YYYY-MM-DD (China Standard Time); at most an hour ahead"`
	Notes     string `json:"notes"`
}

func (s *Server) handleHealthVisitCreate(w http.ResponseWriter, r *http.Request) {
	var in healthVisitRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	at, err := parseTime("visited_at", in.VisitedAt)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p := PrincipalFromContext(r.Context())
	v := &enforce.HealthVisit{USCC: r.PathValue("uscc"), VisitedAt: at, Inspector: p.Name, Notes: in.Notes}
	if err := s.enterprises.RecordHealthVisit(r.Context(), p.Actor(), v); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}
