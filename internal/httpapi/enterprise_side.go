package httpapi

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// registerEnterpriseSideRoutes registers the enterprise's own side (issue 16 part 5): the
// evidence its inspections cite, amending, withdrawing and extending its self-check, the
// incidents it reports itself, and its standing (list entry, validity, health-check visits).
func (s *Server) registerEnterpriseSideRoutes(mux *http.ServeMux) {
	ownOrAdmin := []enforce.Role{RoleEnterprise, RoleAdmin}
	s.handle(mux, "GET", "/api/v1/inspections/{id}/evidence", operation{
		Response: geoJSONFeatureCollection(), ResponseType: geoJSONType,
		Summary: "The findings an inspection's warnings cite, with their artifacts, as GeoJSON; an enterprise sees only its own inspections'",
		Description: "Each artifact's download path is /api/v1/inspections/{id}/evidence/{key}; nothing else of the evidence bucket is reachable " +
			"through this inspection.",
		Roles:     rolesOwnRead,
		Responses: map[string]string{"200": "FeatureCollection of the cited findings", "403": "another enterprise's inspection", "404": "no such inspection"},
	}, s.handleInspectionEvidence)
	s.handle(mux, "GET", "/api/v1/inspections/{id}/evidence/{key...}", operation{
		ResponseType: "application/octet-stream",
		Summary:      "Download an artifact of a finding the inspection cites; audited",
		Roles:        rolesOwnRead,
		Responses: map[string]string{"200": "the artifact", "400": "invalid key", "403": "another enterprise's inspection",
			"404": "no such inspection, or the key is no artifact of a finding it cites"},
	}, s.handleInspectionEvidenceObject)
	s.handle(mux, "POST", "/api/v1/inspections/{id}/report/amend", operation{
		Response: enforce.Inspection{},
		Summary:  "The enterprise amends its self-check report before review (text and proof replaced; the earlier one stays in the audit log)", Roles: ownOrAdmin,
		Body:      bodyFields(inspectionRequest{}, []string{"version", "text"}, "proof_keys"),
		Responses: map[string]string{"200": "amended", "400": "invalid field", "403": "another enterprise's inspection", "404": "no such inspection", "409": "reviewed already, or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		if err := s.checkReportProofs(ctx, id, in.ProofKeys); err != nil {
			return nil, err
		}
		return s.inspections.AmendReport(ctx, a, id, in.Version, in.Text, in.ProofKeys)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/report/withdraw", operation{
		Response: enforce.Inspection{},
		Summary:  "The enterprise withdraws its self-check report before review; the request and its deadline stand", Roles: ownOrAdmin,
		Body:      bodyFields(inspectionRequest{}, []string{"version"}, "reason"),
		Responses: map[string]string{"200": "withdrawn", "403": "another enterprise's inspection", "404": "no such inspection", "409": "reviewed already, or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.WithdrawReport(ctx, a, id, in.Version, in.Reason)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/extension", operation{
		Response: enforce.Inspection{},
		Summary:  "The enterprise asks for a later self-check deadline (at most 30 days more); the inspectors are told", Roles: ownOrAdmin,
		Body:      bodyFields(inspectionRequest{}, []string{"version", "until", "reason"}),
		Responses: map[string]string{"200": "requested", "400": "invalid field", "403": "another enterprise's inspection", "404": "no such inspection", "409": "no self-check requested, a request waiting, or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		until, err := parseTime("until", in.Until)
		if err != nil {
			return nil, err
		}
		return s.inspections.RequestExtension(ctx, a, id, in.Version, until, in.Reason)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/extension/decide", operation{
		Response: enforce.Inspection{},
		Summary:  "Grant or refuse the enterprise's extension request; audited, the enterprise is told", Roles: rolesInspect,
		Body:      bodyFields(inspectionRequest{}, []string{"version", "grant"}, "note"),
		Responses: map[string]string{"200": "decided", "400": "invalid field", "404": "no such inspection", "409": "no request waiting, or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		if in.Grant == nil {
			return nil, offsite.Required("grant", "is required: true to grant, false to refuse")
		}
		return s.inspections.DecideExtension(ctx, a, id, in.Version, *in.Grant, in.Note)
	}))
	s.handle(mux, "POST", "/api/v1/incidents", operation{
		Response: objectOf(map[string]any{"incident": &enforce.Incident{}, "inspection": &enforce.Inspection{}}),
		Summary:  "The enterprise reports an incident itself (主动报告, 四.9)",
		Description: "Opens (or joins) its off-site inspection with a self-report warning; an inspection that begins with the enterprise's own report " +
			"is decided as self-reported (the disposition's self_reported fact). An enterprise reports only for itself; uscc defaults to its own.",
		Roles:     ownOrAdmin,
		Body:      incidentRequest{},
		Responses: map[string]string{"201": "reported: the incident and its inspection", "400": "invalid field", "403": "another enterprise", "404": "no such enterprise"},
	}, s.handleIncidentCreate)
	s.handle(mux, "GET", "/api/v1/incidents", operation{
		Response: objectOf(map[string]any{"incidents": []*enforce.Incident{}}),
		Summary:  "Incidents enterprises reported themselves, newest first; an enterprise sees only its own", Roles: rolesOwnRead,
		Query:     map[string]string{"uscc": "one enterprise"},
		Responses: map[string]string{"200": "incidents", "403": "another enterprise's"},
	}, s.handleIncidentList)
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}/standing", operation{
		Response:  withOptional(objectOf(map[string]any{"enterprise": &enforce.Enterprise{}, "list_entries": []standingEntry{}, "health_visits": []*enforce.HealthVisit{}, "open_inspections": []*enforce.Inspection{}}), map[string]any{"incidents": []*enforce.Incident{}}),
		Summary:   "An enterprise's standing: its list entries with validity and health-check status, its health-check visits, its open inspection and reported incidents",
		Roles:     rolesOwnRead,
		Responses: map[string]string{"200": "standing", "403": "another enterprise's record", "404": "no such enterprise"},
	}, s.handleStanding)
}

// citedFindingIDs lists the findings the inspection's warnings name, with their confirmations.
func citedFindingIDs(in *enforce.Inspection) []string {
	ids := []string{}
	for _, w := range in.Warnings {
		if w.Source == enforce.WarningFinding {
			ids = append(ids, w.Ref)
			ids = append(ids, w.SeenIn...)
		}
	}
	return ids
}

func (s *Server) citedFindings(ctx context.Context, in *enforce.Inspection) ([]*offsite.Finding, error) {
	ids := citedFindingIDs(in)
	if len(ids) == 0 {
		return nil, nil
	}
	fs, _, err := s.Findings.FindFindings(ctx, offsite.FindingFilter{IDs: ids, Limit: 1000})
	return fs, err
}

func (s *Server) handleInspectionEvidence(w http.ResponseWriter, r *http.Request) {
	in, err := s.findOwnInspection(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	fs, err := s.citedFindings(r.Context(), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	fc := geojson.NewFeatureCollection()
	for _, x := range fs {
		f := findingDetail(x)
		paths := map[string]string{}
		for _, a := range x.Artifacts {
			paths[a.Name] = fmt.Sprintf("/api/v1/inspections/%d/evidence/%s", in.ID, a.Key)
		}
		f.Properties["downloads"] = paths
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{"inspection": in.ID, "uscc": in.USCC, "numberReturned": len(fs)}
	writeGeoJSON(w, fc)
}

func (s *Server) handleInspectionEvidenceObject(w http.ResponseWriter, r *http.Request) {
	in, err := s.findOwnInspection(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	key := r.PathValue("key")
	if err := offsite.CheckObjectKey(key); err != nil {
		s.Error(w, r, offsite.Invalid("key", "%v", err))
		return
	}
	ctx := r.Context()
	fs, err := s.citedFindings(ctx, in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	cited := slices.ContainsFunc(fs, func(f *offsite.Finding) bool {
		return slices.ContainsFunc(f.Artifacts, func(a offsite.Artifact) bool { return a.Key == key })
	})
	if !cited {
		s.Error(w, r, offsite.NotFound("artifact %q among the findings inspection %d cites", key, in.ID))
		return
	}
	obj, info, err := s.Store.OpenEvidence(ctx, key)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	defer obj.Close()
	if err := s.Enforce.Audit(ctx, PrincipalFromContext(ctx).Actor(), enforce.AuditEvidenceDownload, "evidence/"+key,
		map[string]any{"key": key, "inspection": in.ID}); err != nil {
		s.Error(w, r, err)
		return
	}
	ct, ok := evidenceMediaTypes[strings.ToLower(path.Ext(key))]
	if !ok {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(key)}))
	if info.ETag != "" {
		h.Set("ETag", strconv.Quote(info.ETag))
	}
	http.ServeContent(w, r, "", info.LastModified, obj)
}

// incidentRequest is the body of POST /api/v1/incidents.
type incidentRequest struct {
	USCC        string `json:"uscc" doc:"the enterprise; defaults to the caller's own"`
	OccurredAt  string `json:"occurred_at" openapi:"required" doc:"RFC 3339 time or YYYY-MM-DD (China Standard Time)"`
	Description string `json:"description" openapi:"required"`
	Measures    string `json:"measures" doc:"what the enterprise did about it"`
}

func (s *Server) handleIncidentCreate(w http.ResponseWriter, r *http.Request) {
	var in incidentRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	p := PrincipalFromContext(r.Context())
	uscc := strings.ToUpper(strings.TrimSpace(in.USCC))
	if uscc == "" {
		if p.Role != RoleEnterprise {
			s.Error(w, r, offsite.Required("uscc", "is required when reporting on an enterprise's behalf"))
			return
		}
		uscc = p.USCC
	}
	at, err := parseTime("occurred_at", in.OccurredAt)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	inc := &enforce.Incident{USCC: uscc, OccurredAt: at, Description: in.Description, Measures: in.Measures}
	insp, err := s.inspections.ReportIncident(r.Context(), p.Actor(), inc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"incident": inc, "inspection": insp})
}

func (s *Server) handleIncidentList(w http.ResponseWriter, r *http.Request) {
	if s.Work == nil {
		s.Error(w, r, errNoWork)
		return
	}
	uscc := r.URL.Query().Get("uscc")
	if uscc != "" {
		if err := checkOwn(r.Context(), uscc); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	incs, err := s.Work.FindIncidents(r.Context(), PrincipalFromContext(r.Context()).Actor(), uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": incs})
}

// standingEntry is what an enterprise's standing shows of a list entry: its passage and
// validity, not the admission's evidence or the public's objections.
type standingEntry struct {
	ID              int64              `json:"id"`
	Status          enforce.ListStatus `json:"status"`
	NoticeStart     *time.Time         `json:"notice_start,omitempty"`
	NoticeEnd       *time.Time         `json:"notice_end,omitempty"`
	ValidFrom       *time.Time         `json:"valid_from,omitempty"`
	ValidTo         *time.Time         `json:"valid_to,omitempty"`
	Renewals        int                `json:"renewals"`
	RemovalCategory string             `json:"removal_category,omitempty"`
	RemovalReason   string             `json:"removal_reason,omitempty"`
	FiledAt         *time.Time         `json:"filed_at,omitempty"`
	HealthCheck     string             `json:"health_check,omitempty"`
	HealthCheckDue  *time.Time         `json:"health_check_due,omitempty"` // the visit is due before this
}

func (s *Server) handleStanding(w http.ResponseWriter, r *http.Request) {
	uscc := r.PathValue("uscc")
	ctx := r.Context()
	if err := checkOwn(ctx, uscc); err != nil {
		s.Error(w, r, err)
		return
	}
	ent, err := s.Enforce.FindEnterpriseByUSCC(ctx, uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	now := s.Now()
	es, _, err := s.Enforce.FindListEntries(ctx, s.EnforceConfig, now, enforce.ListFilter{USCC: uscc, Limit: 100})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	entries := []standingEntry{}
	for _, e := range es {
		se := standingEntry{ID: e.ID, Status: e.Status, NoticeStart: e.NoticeStart, NoticeEnd: e.NoticeEnd, ValidFrom: e.ValidFrom, ValidTo: e.ValidTo,
			Renewals: e.Renewals, RemovalCategory: e.RemovalCategory, RemovalReason: e.RemovalReason, FiledAt: e.FiledAt, HealthCheck: e.HealthCheck}
		if e.ValidTo != nil && (e.HealthCheck == enforce.HealthPending || e.HealthCheck == enforce.HealthDue) {
			se.HealthCheckDue = e.ValidTo
		}
		entries = append(entries, se)
	}
	visits, err := s.Enforce.FindHealthVisits(ctx, uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	open, _, err := s.Enforce.FindInspections(ctx, enforce.InspectionFilter{USCC: uscc, Limit: 100})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	inspections := []*enforce.Inspection{}
	for _, in := range open {
		if in.Status != enforce.InspClosed {
			inspections = append(inspections, in)
		}
	}
	out := map[string]any{"enterprise": ent, "list_entries": entries, "health_visits": visits, "open_inspections": inspections}
	if s.Work != nil {
		incs, err := s.Work.FindIncidents(ctx, PrincipalFromContext(ctx).Actor(), uscc)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		out["incidents"] = incs
	}
	writeJSON(w, http.StatusOK, out)
}
