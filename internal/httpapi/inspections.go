package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/verify"
)

// registerInspectionRoutes registers the routes of warnings and off-site inspections.
func (s *Server) registerInspectionRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/warnings", operation{
		Response:    objectOf(map[string]any{"outcome": "", "inspection": &enforce.Inspection{}}),
		Summary:     "Record an early warning from a finding or monitoring data",
		Description: "Joins the enterprise's open off-site inspection, or opens one; a matter already inspected by another level is linked to that inspection instead of being repeated. For source finding, ref is the finding id and uscc, severity and message default to the finding's.",
		Roles:       []enforce.Role{RoleAdmin, RoleAnalyst, RoleInspector},
		Body: bodyOf(warningRequest{}, map[string]map[string]any{"level": {"enum": enforce.Levels},
			"source": {"enum": []string{enforce.WarningFinding, enforce.WarningMonitoring}}}),
		Responses: map[string]string{"201": "inspection opened", "200": "joined or linked", "400": "invalid field", "404": "no such enterprise"},
	}, s.handleWarningCreate)
	s.handle(mux, "GET", "/api/v1/inspections", operation{
		Summary: "Off-site inspections; an enterprise token sees only its own", Roles: rolesOwnRead,
		Response:  listOf("inspections", []*enforce.Inspection{}),
		Query:     map[string]string{"uscc": "one enterprise", "status": "status", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "inspections", "400": "bad query parameter"},
	}, s.handleInspectionList)
	s.handle(mux, "GET", "/api/v1/inspections/{id}", operation{
		Summary: "One inspection with its warnings, report, site visit and disposition", Roles: rolesOwnRead,
		Response:  enforce.Inspection{},
		Responses: map[string]string{"200": "inspection", "403": "another enterprise's inspection", "404": "no such inspection"},
	}, s.handleInspectionGet)
	s.handle(mux, "GET", "/api/v1/inspections/{id}/timeline", operation{
		Summary: "The inspection's audited steps, oldest first: who did what, when, by which rule", Roles: rolesOwnRead,
		Response:  objectOf(map[string]any{"inspection": int64(0), "steps": []*enforce.AuditEntry{}}),
		Responses: map[string]string{"200": "timeline", "403": "another enterprise's inspection", "404": "no such inspection"},
	}, s.handleInspectionTimeline)
	s.handle(mux, "POST", "/api/v1/inspections/{id}/self-check", operation{
		Response: enforce.Inspection{},
		Summary:  "Ask the enterprise to check itself and report by a deadline", Roles: rolesInspect,
		Body:      bodyFields(inspectionRequest{}, []string{"version"}, "deadline"),
		Responses: map[string]string{"200": "requested", "400": "invalid field", "404": "no such inspection", "409": "wrong state or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		var deadline *time.Time
		if in.Deadline != "" {
			t, err := parseTime("deadline", in.Deadline)
			if err != nil {
				return nil, err
			}
			deadline = &t
		}
		return s.inspections.RequestSelfCheck(ctx, a, id, in.Version, deadline)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/proof-uploads", operation{
		Response: objectOf(map[string]any{"method": "", "url": "", "headers": map[string]string{}, "key": "", "name": "", "size": int64(0), "media_type": "", "expires_at": time.Time{}, "record": ""}),
		Summary:  "A presigned URL for the enterprise to upload a proof document of its self-check",
		Description: "The document goes to selfcheck/{uscc}/{inspection id}/{name} in the proofs bucket, which no pipeline reads. " +
			"Its media type (from the name: PDF, PNG, JPEG or TIFF), its size (at most the API's body limit) and If-None-Match: * are signed into the URL: " +
			"send the returned headers with the PUT, within 15 minutes; a proof is never replaced. Then POST to the returned record path " +
			"(/api/v1/inspections/{id}/proofs/{name}) to have its content checked and its size and SHA-256 recorded, and list the key in the report.",
		Roles: []enforce.Role{RoleEnterprise, RoleAdmin},
		Body:  proofUploadRequest{},
		Responses: map[string]string{"200": "upload URL and the headers to send with it", "400": "invalid name, size or content type", "403": "another enterprise's inspection",
			"404": "no such inspection", "409": "no self-check requested, or a proof of that name exists", "413": "larger than the body limit"},
	}, s.handleProofUpload)
	s.handle(mux, "POST", "/api/v1/inspections/{id}/proofs/{name}", operation{
		Response: verify.ProofUpload{},
		Summary:  "Record a proof document uploaded through proof-uploads: its content is checked, its size and SHA-256 join the inspection's audited steps",
		Description: "A document whose content is not of the type its name says is removed (upload it again). A proof already recorded is answered with its record (200). " +
			"worker verify re-hashes recorded proofs.",
		Roles: []enforce.Role{RoleEnterprise, RoleAdmin},
		Responses: map[string]string{"201": "recorded: name, bucket, key, size, sha256, media_type", "200": "recorded before", "400": "invalid name, or not a PDF or image",
			"403": "another enterprise's inspection", "404": "no such inspection, or nothing uploaded under that name"},
	}, s.handleProofRecord)
	s.handle(mux, "POST", "/api/v1/inspections/{id}/report", operation{
		Response: enforce.Inspection{},
		Summary:  "The enterprise submits its written self-check report and proof", Roles: []enforce.Role{RoleEnterprise, RoleAdmin},
		Body:      bodyFields(inspectionRequest{}, []string{"version", "text"}, "proof_keys"),
		Responses: map[string]string{"200": "submitted", "400": "invalid field", "403": "another enterprise's inspection", "404": "no such inspection", "409": "no self-check requested or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		if err := s.checkReportProofs(ctx, id, in.ProofKeys); err != nil {
			return nil, err
		}
		return s.inspections.SubmitReport(ctx, a, id, in.Version, in.Text, in.ProofKeys)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/review", operation{
		Response: enforce.Inspection{},
		Summary:  "Review the self-check report: close, or request a site visit on the off-site anomaly", Roles: rolesInspect,
		Body: bodyFields(inspectionRequest{}, []string{"version", "outcome", "notes"}).with(map[string]map[string]any{
			"outcome": {"enum": []string{enforce.ReviewClose, enforce.ReviewSiteVisit}}}),
		Responses: map[string]string{"200": "reviewed", "400": "invalid field", "404": "no such inspection", "409": "no report or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.Review(ctx, a, id, in.Version, in.Outcome, in.Notes)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/site-visit", operation{
		Response:    enforce.Inspection{},
		Summary:     "Request a site visit with a typed trigger",
		Description: "For a listed enterprise: complaint, media_report or referral, or offsite_anomaly after the self-check; approval by another user with the approver role follows. Without both it is refused.",
		Roles:       rolesInspect,
		Body:        bodyFields(inspectionRequest{}, []string{"version", "trigger", "reason"}).with(map[string]map[string]any{"trigger": {"enum": enforce.Triggers}}),
		Responses:   map[string]string{"200": "requested", "400": "missing or inadmissible trigger", "404": "no such inspection", "409": "wrong state or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.RequestSiteVisit(ctx, a, id, in.Version, in.Trigger, in.Reason)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/approve", operation{
		Response: enforce.Inspection{},
		Summary:  "Approve the requested site visit (head of the enforcement body; not the requester)", Roles: []enforce.Role{RoleApprover},
		Body:      bodyFields(inspectionRequest{}, []string{"version"}),
		Responses: map[string]string{"200": "approved", "404": "no such inspection", "409": "nothing to approve, self-approval, or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.ApproveSiteVisit(ctx, a, id, in.Version)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/site-visit/record", operation{
		Response: enforce.Inspection{},
		Summary:  "Record the approved site visit with every checklist item answered", Roles: []enforce.Role{RoleInspector},
		Body:      bodyFields(inspectionRequest{}, []string{"version", "checklist"}),
		Responses: map[string]string{"200": "recorded", "400": "checklist incomplete", "404": "no such inspection", "409": "not approved or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.RecordSiteVisit(ctx, a, id, in.Version, in.Checklist)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/close", operation{
		Response:    enforce.Inspection{},
		Summary:     "Close the inspection, with a disposition when a violation was found",
		Description: "The rule applied is recorded: no penalty for a listed enterprise's first, minor, promptly corrected violation or a self-reported non-wilful one fixed without harm; for its unreported exceedance or a malicious violation, strict penalty, removal from the list, special supervision and public disclosure together.",
		Roles:       rolesDecide,
		Body:        bodyFields(inspectionRequest{}, []string{"version", "note"}, "violation"),
		Responses:   map[string]string{"200": "closed", "400": "invalid field", "404": "no such inspection", "409": "wrong state or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.Close(ctx, a, id, in.Version, in.Note, in.Violation)
	}))
}

type warningRequest struct {
	USCC     string        `json:"uscc" openapi:"required"`
	Level    enforce.Level `json:"level"`
	Source   string        `json:"source" openapi:"required"`
	Ref      string        `json:"ref" openapi:"required"`
	Severity string        `json:"severity"`
	Message  string        `json:"message" openapi:"required"`
}

// decodeWarning decodes a warning; its level defaults to level, the configured one.
func decodeWarning(body []byte, level enforce.Level) (*warningRequest, *enforce.Warning, error) {
	var in warningRequest
	if err := strictUnmarshal(body, &in); err != nil {
		return nil, nil, err
	}
	if in.USCC == "" && in.Source != enforce.WarningFinding {
		return nil, nil, offsite.Required("uscc", "is required (for a finding it is taken from the finding's parcel)")
	}
	if in.Level == "" {
		in.Level = level
	}
	if err := enforce.CheckLevel(in.Level); err != nil {
		return nil, nil, err
	}
	w := &enforce.Warning{Source: in.Source, Ref: in.Ref, Severity: in.Severity, Message: in.Message}
	return &in, w, w.Validate()
}

func (s *Server) handleWarningCreate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readJSONBody(w, r, (*warningRequest)(nil))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	in, warn, err := decodeWarning(body, s.EnforceConfig.Level)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	insp, outcome, err := s.inspections.OpenWarning(r.Context(), PrincipalFromContext(r.Context()).Actor(), in.USCC, in.Level, warn)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	code := http.StatusOK
	if outcome == enforce.WarningOpened {
		code = http.StatusCreated
	}
	writeJSON(w, code, map[string]any{"outcome": outcome, "inspection": insp})
}

func (s *Server) handleInspectionList(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f := enforce.InspectionFilter{USCC: r.URL.Query().Get("uscc"), Status: enforce.InspectionStatus(r.URL.Query().Get("status")), Agency: scope(r.Context()), Offset: offset, Limit: limit}
	if p := PrincipalFromContext(r.Context()); p.Role == RoleEnterprise {
		if f.USCC != "" && f.USCC != p.USCC {
			s.Error(w, r, checkOwn(r.Context(), f.USCC))
			return
		}
		f.USCC = p.USCC
	}
	ins, total, err := s.Enforce.FindInspections(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if ins == nil {
		ins = []*enforce.Inspection{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"inspections": ins, "total": total, "offset": offset, "limit": limit})
}

// findOwnInspection reads an inspection the principal may see.
func (s *Server) findOwnInspection(r *http.Request) (*enforce.Inspection, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	in, err := s.Enforce.FindInspectionByID(r.Context(), id)
	if err != nil {
		if errors.Is(err, offsite.ErrNotFound) && PrincipalFromContext(r.Context()).Role == RoleEnterprise {
			return nil, fmt.Errorf("an enterprise token reaches only its own inspections: %w", offsite.ErrForbidden)
		}
		return nil, err
	}
	return in, checkOwn(r.Context(), in.USCC)
}

func (s *Server) handleInspectionGet(w http.ResponseWriter, r *http.Request) {
	in, err := s.findOwnInspection(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

func (s *Server) handleInspectionTimeline(w http.ResponseWriter, r *http.Request) {
	in, err := s.findOwnInspection(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	subject := fmt.Sprintf("inspection/%d", in.ID)
	es, _, err := s.Enforce.FindAudit(r.Context(), subject, 0, 1000)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	steps := []*enforce.AuditEntry{}
	for i := len(es) - 1; i >= 0; i-- { // FindAudit is newest first; subjects are prefixes
		if es[i].Subject == subject {
			steps = append(steps, es[i])
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"inspection": in.ID, "steps": steps})
}

// inspectionRequest is the body of every inspection transition; each uses its own fields.
type inspectionRequest struct {
	Version   int                     `json:"version" doc:"the version read; a stale version is refused with 409"`
	Deadline  string                  `json:"deadline" doc:"RFC 3339 time or YYYY-MM-DD (China Standard Time)"`
	Text      string                  `json:"text" doc:"the written self-check report"`
	ProofKeys []string                `json:"proof_keys" doc:"keys of the proof documents recorded through proof-uploads"`
	Outcome   string                  `json:"outcome"`
	Notes     string                  `json:"notes"`
	Trigger   enforce.Trigger         `json:"trigger"`
	Reason    string                  `json:"reason"`
	Checklist []enforce.ChecklistItem `json:"checklist"`
	Note      string                  `json:"note"`
	Violation *enforce.Violation      `json:"violation"`
	Until     string                  `json:"until" doc:"the later self-check deadline asked for (RFC 3339 time or YYYY-MM-DD)"`
	Grant     *bool                   `json:"grant" doc:"true to grant the extension, false to refuse (with a note)"`
}

// inspectionCommand makes the handler of an inspection transition: decode the body, run the
// command as the request's principal, answer with the inspection.
func inspectionCommand(s *Server, run func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error)) http.HandlerFunc {
	return versionedAction(s, func(r *http.Request, id int64, in *inspectionRequest) (any, error) {
		return run(r.Context(), PrincipalFromContext(r.Context()).Actor(), id, in)
	})
}

func (in *inspectionRequest) readVersion() int { return in.Version }
