package httpapi

import (
	"net/http"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// registerIntakeRoutes registers the intake of complaints, media reports and referrals from
// above (issue 16 part 6; 三.7).
func (s *Server) registerIntakeRoutes(mux *http.ServeMux) {
	rolesIntake := []enforce.Role{RoleAdmin, RoleAnalyst, RoleInspector}
	s.handle(mux, "POST", "/api/v1/intake", operation{
		Response: objectOf(map[string]any{"outcome": "", "matter": &enforce.Matter{}, "report": &enforce.IntakeReport{}}),
		Summary:  "Record a complaint, media report or referral from above with its source",
		Description: "A report of a matter still open on the enterprise joins it (or the matter named by matter_id): a duplicate is joined, not opened again. " +
			"Otherwise a matter is opened with a warning on the enterprise's inspection; a site visit on its trigger may then be requested " +
			"(POST /api/v1/intake/matters/{id}/site-visit) and approved. The same source_ref of one source is recorded once.",
		Roles: rolesIntake,
		Request: obj([]string{"source", "source_ref", "summary", "uscc", "received_at"}, map[string]any{
			"source":      map[string]any{"enum": []enforce.Trigger{enforce.TriggerComplaint, enforce.TriggerMediaReport, enforce.TriggerReferral}},
			"source_ref":  map[string]any{"type": "string", "description": "the complaint number, the outlet and article, or the referring authority and its document"},
			"reporter":    str,
			"summary":     str,
			"uscc":        str,
			"received_at": dateTime,
			"matter_id":   map[string]any{"type": "integer", "description": "join this open matter"},
		}),
		Responses: map[string]string{"201": "a matter opened", "200": "joined to an open matter", "400": "invalid field", "404": "no such enterprise or matter",
			"409": "the report is recorded already, or the matter is closed"},
	}, s.handleIntakeCreate)
	s.handle(mux, "GET", "/api/v1/intake/matters", operation{
		Response: listOf("matters", []*enforce.Matter{}),
		Summary:  "Intake matters with their reports, newest first", Roles: rolesRead,
		Query:     map[string]string{"uscc": "one enterprise", "open": "true for matters whose inspection is open", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "matters", "400": "bad query parameter"},
	}, s.handleMatterList)
	s.handle(mux, "GET", "/api/v1/intake/matters/{id}", operation{
		Response: enforce.Matter{},
		Summary:  "One intake matter with its reports", Roles: rolesRead,
		Responses: map[string]string{"200": "matter", "404": "no such matter"},
	}, s.handleMatterGet)
	s.handle(mux, "POST", "/api/v1/intake/matters/{id}/site-visit", operation{
		Response: enforce.Inspection{},
		Summary:  "Request a site visit on the matter's trigger (complaint, media_report or referral); the approver decides", Roles: rolesInspect,
		Request:   obj([]string{"reason"}, map[string]any{"reason": str}),
		Responses: map[string]string{"200": "the inspection, site visit requested", "400": "no reason", "404": "no such matter", "409": "the inspection is not at a stage that allows it"},
	}, s.handleMatterSiteVisit)
}

func (s *Server) handleIntakeCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Source     enforce.Trigger `json:"source"`
		SourceRef  string          `json:"source_ref"`
		Reporter   string          `json:"reporter"`
		Summary    string          `json:"summary"`
		USCC       string          `json:"uscc"`
		ReceivedAt string          `json:"received_at"`
		MatterID   int64           `json:"matter_id"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	at, err := parseTime("received_at", in.ReceivedAt)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if in.MatterID < 0 {
		s.Error(w, r, offsite.Invalid("matter_id", "must be a positive integer"))
		return
	}
	rep := &enforce.IntakeReport{Source: in.Source, SourceRef: in.SourceRef, Reporter: in.Reporter, Summary: in.Summary, USCC: in.USCC, ReceivedAt: at}
	m, outcome, err := s.inspections.RecordIntake(r.Context(), PrincipalFromContext(r.Context()).Actor(), rep, in.MatterID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	code := http.StatusOK
	if outcome == enforce.IntakeOpened {
		code = http.StatusCreated
	}
	writeJSON(w, code, map[string]any{"outcome": outcome, "matter": m, "report": rep})
}

func (s *Server) handleMatterList(w http.ResponseWriter, r *http.Request) {
	if s.Work == nil {
		s.Error(w, r, errNoWork)
		return
	}
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	open, err := boolParam(r, "open")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ms, total, err := s.Work.FindMatters(r.Context(), PrincipalFromContext(r.Context()).Actor(), r.URL.Query().Get("uscc"), open, offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"matters": ms, "total": total, "offset": offset, "limit": limit})
}

func (s *Server) handleMatterGet(w http.ResponseWriter, r *http.Request) {
	if s.Work == nil {
		s.Error(w, r, errNoWork)
		return
	}
	id, err := idParam(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	m, err := s.Work.FindMatterByID(r.Context(), PrincipalFromContext(r.Context()).Actor(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) handleMatterSiteVisit(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	insp, err := s.inspections.RequestMatterSiteVisit(r.Context(), PrincipalFromContext(r.Context()).Actor(), id, in.Reason)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, insp)
}
