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
		Body: bodyOf(intakeRequest{}, map[string]map[string]any{
			"source": {"enum": []enforce.Trigger{enforce.TriggerComplaint, enforce.TriggerMediaReport, enforce.TriggerReferral}}}),
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
		Body:      reasonRequest{},
		Responses: map[string]string{"200": "the inspection, site visit requested", "400": "no reason", "404": "no such matter", "409": "the inspection is not at a stage that allows it"},
	}, s.handleMatterSiteVisit)
}

// intakeRequest is the body of POST /api/v1/intake.
type intakeRequest struct {
	Source     enforce.Trigger `json:"source" openapi:"required"`
	SourceRef  string          `json:"source_ref" openapi:"required" doc:"the complaint number, the outlet and article, or the referring authority and its document"`
	Reporter   string          `json:"reporter"`
	Summary    string          `json:"summary" openapi:"required"`
	USCC       string          `json:"uscc" openapi:"required"`
	ReceivedAt string          `json:"received_at" openapi:"required" doc:"RFC 3339 time or YYYY-MM-DD (China Standard Time)"`
	MatterID   int64           `json:"matter_id" doc:"join this open matter"`
}

// reasonRequest is a body that gives only a reason.
type reasonRequest struct {
	Reason string `json:"reason" openapi:"required"`
}

func (s *Server) handleIntakeCreate(w http.ResponseWriter, r *http.Request) {
	var in intakeRequest
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
	var in reasonRequest
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
