package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// registerListRoutes registers the routes of the positive list and its procedure.
func (s *Server) registerListRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/api/v1/config", operation{
		Summary: "The province's enforcement configuration: admission conditions, notice period, validity, draw ratios, checklist", Roles: rolesRead,
		Response:  enforce.Config{},
		Responses: map[string]string{"200": "configuration"},
	}, s.handleConfig)
	s.handle(mux, "POST", "/api/v1/positive-list/evaluate", operation{
		Response: enforce.Evaluation{},
		Summary:  "Evaluate admission conditions on facts, with reasons, without proposing", Roles: rolesRead,
		Body:      bodyFields(evaluateRequest{}, []string{"facts"}),
		Responses: map[string]string{"200": "evaluation", "400": "invalid field"},
	}, s.handleListEvaluate)
	s.handle(mux, "POST", "/api/v1/positive-list", operation{
		Response: enforce.ListEntry{},
		Summary:  "Propose an enterprise for the positive list; admission is evaluated with reasons", Roles: rolesStaffWrite,
		Body:      bodyFields(evaluateRequest{}, []string{"uscc", "facts"}),
		Responses: map[string]string{"201": "proposed", "400": "no admission path met (reasons given)", "404": "no such enterprise", "409": "barred or already on the list"},
	}, s.handleListPropose)
	s.handle(mux, "GET", "/api/v1/positive-list", operation{
		Summary: "List entries with their effective status and health-check status", Roles: rolesRead,
		Response:  listOf("entries", []*enforce.ListEntry{}),
		Query:     map[string]string{"status": "effective status", "uscc": "one enterprise", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "entries", "400": "bad query parameter"},
	}, s.handleListList)
	s.handle(mux, "GET", "/api/v1/positive-list/export", operation{
		Response: objectOf(map[string]any{"province": "", "exported_at": time.Time{}, "entries": []listExportRow{}}), OtherTypes: []string{csvType},
		Summary: "Export the list for filing with the province (CSV, or JSON with format=json); audited", Roles: rolesSupervise,
		Query:     map[string]string{"format": "csv (default) or json"},
		Responses: map[string]string{"200": "export", "400": "bad format"},
	}, s.handleListExport)
	s.handle(mux, "POST", "/api/v1/positive-list/expire", operation{
		Response: objectOf(map[string]any{"expired": 0}),
		Summary:  "Mark listed entries past their validity as expired (also computed on every read)", Roles: []enforce.Role{RoleAdmin},
		Responses: map[string]string{"200": "number expired"},
	}, s.handleListExpire)
	s.handle(mux, "GET", "/api/v1/positive-list/{id}", operation{
		Summary: "One list entry", Roles: rolesRead,
		Response:  enforce.ListEntry{},
		Responses: map[string]string{"200": "entry", "400": "bad id", "404": "no such entry"},
	}, s.handleListGet)
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/notice", operation{
		Response:    enforce.ListEntry{},
		Summary:     "Put a proposed entry on public notice (at least notice_min_days)",
		Description: "The notice starts now or later (a few minutes of clock difference allowed; today's date means now) and cannot be back-dated; the entry can be listed once notice_end has passed and the notice has run notice_min_days by the server's clock.",
		Roles:       rolesStaffWrite,
		Body:        bodyFields(listActionRequest{}, []string{"version", "notice_start", "notice_end"}),
		Responses:   map[string]string{"200": "on notice", "400": "invalid field", "404": "no such entry", "409": "wrong state or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		start, err := parseTime("notice_start", in.NoticeStart)
		if err != nil {
			return nil, err
		}
		end, err := parseTime("notice_end", in.NoticeEnd)
		if err != nil {
			return nil, err
		}
		_, derr := time.Parse(time.DateOnly, in.NoticeStart)
		return s.list.Notice(ctx, a, id, in.Version, start, derr == nil, end)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/objections", operation{
		Response: enforce.ListEntry{},
		Summary:  "Record an objection received during the notice", Roles: rolesStaffWrite,
		Body:      bodyFields(listActionRequest{}, []string{"version", "text"}, "raised_by"),
		Responses: map[string]string{"200": "recorded", "400": "invalid field", "404": "no such entry", "409": "not on notice or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		return s.list.Object(ctx, a, id, in.Version, in.Text, in.RaisedBy)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/objections/{n}/resolve", operation{
		Response: enforce.ListEntry{},
		Summary:  "Resolve an objection: upheld (the entry is rejected) or dismissed", Roles: rolesDecide,
		Body: bodyFields(listActionRequest{}, []string{"version", "outcome", "resolution"}).with(map[string]map[string]any{
			"outcome": {"enum": []string{"upheld", "dismissed"}}}),
		Responses: map[string]string{"200": "resolved", "400": "invalid field", "404": "no such entry or objection", "409": "wrong state or stale version"},
	}, versionedAction(s, func(r *http.Request, id int64, in *listActionRequest) (any, error) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil {
			return nil, offsite.Invalid("n", "must be an objection number, got %q", r.PathValue("n"))
		}
		return s.list.Resolve(r.Context(), PrincipalFromContext(r.Context()).Actor(), id, in.Version, n, in.Outcome, in.Resolution)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/list", operation{
		Response: enforce.ListEntry{},
		Summary:  "Publish the entry after its notice (every objection resolved)", Roles: rolesDecide,
		Body:      bodyFields(listActionRequest{}, []string{"version"}, "valid_from"),
		Responses: map[string]string{"200": "listed", "400": "invalid field", "404": "no such entry", "409": "notice not over, objection open, or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		var from *time.Time
		if in.ValidFrom != "" {
			t, err := parseTime("valid_from", in.ValidFrom)
			if err != nil {
				return nil, err
			}
			from = &t
		}
		return s.list.Publish(ctx, a, id, in.Version, from)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/renew", operation{
		Response: enforce.ListEntry{},
		Summary:  "Put the renewal of a listed or expired entry on public notice, after re-evaluating admission",
		Description: "A list adjustment (二.3): the renewal takes effect with POST /api/v1/positive-list/{id}/adjustment/apply once the notice " +
			"(notice_start now or later, at least notice_min_days) is over and every objection resolved; then it is filed with the province.",
		Roles:     rolesDecide,
		Body:      bodyFields(listActionRequest{}, []string{"version", "facts", "notice_start", "notice_end"}),
		Responses: map[string]string{"200": "renewal on notice", "400": "admission not met or bad notice dates", "404": "no such entry", "409": "wrong state, barred, an adjustment under way or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		n, err := in.notice()
		if err != nil {
			return nil, err
		}
		return s.list.Renew(ctx, a, id, in.Version, in.Facts, *n)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/remove", operation{
		Response: enforce.ListEntry{},
		Summary:  "Remove an entry with a reason: a listed one after public notice, one not yet listed at once",
		Description: "The removal of a listed enterprise is a list adjustment (二.3): it goes on public notice (notice_start, notice_end) and takes effect " +
			"with POST /api/v1/positive-list/{id}/adjustment/apply, then is filed with the province and published (GET /public/removals). " +
			"malicious_discharge, falsified_records and evading_supervision bar the enterprise from the list for good.",
		Roles: rolesDecide,
		Body: bodyFields(listActionRequest{}, []string{"version", "category", "reason"}, "notice_start", "notice_end").with(map[string]map[string]any{
			"category": {"enum": enforce.RemovalCategories}}),
		Responses: map[string]string{"200": "removed, or the removal on notice", "400": "invalid field (notice dates missing for a listed entry)", "404": "no such entry",
			"409": "wrong state, an adjustment under way or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		var n *enforce.NoticePeriod
		if in.NoticeStart != "" || in.NoticeEnd != "" {
			var err error
			if n, err = in.notice(); err != nil {
				return nil, err
			}
		}
		return s.list.Remove(ctx, a, id, in.Version, in.Category, in.Reason, n)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/adjustment/apply", operation{
		Response:  enforce.ListEntry{},
		Summary:   "Make the renewal or removal on notice take effect (notice over, every objection resolved); audited as list.renew or list.remove",
		Roles:     rolesDecide,
		Body:      bodyFields(listActionRequest{}, []string{"version"}),
		Responses: map[string]string{"200": "applied", "404": "no such entry", "409": "no adjustment, notice not over, objection open, or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		return s.list.ApplyAdjustment(ctx, a, id, in.Version)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/filing", operation{
		Response:    enforce.ListEntry{},
		Summary:     "File the entry's last change (admission, renewal or removal) with the provincial department",
		Description: "The change awaiting filing is the entry's to_file; the province then records its receipt (…/filing/receipt), which sets filed_at.",
		Roles:       rolesSupervise,
		Body:        bodyFields(listActionRequest{}, []string{"version"}),
		Responses:   map[string]string{"200": "submitted", "404": "no such entry", "409": "nothing to file, a filing awaits receipt, or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		return s.list.SubmitFiling(ctx, a, id, in.Version)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/filing/receipt", operation{
		Response:    enforce.ListEntry{},
		Summary:     "The province records its receipt of the entry's filing; sets filed_at",
		Description: "Only a user of the province the enterprise's agency lies under (its own agency) may.",
		Roles:       rolesDecide,
		Body:        bodyFields(listActionRequest{}, []string{"version", "receipt"}),
		Responses:   map[string]string{"200": "received", "400": "no receipt number", "403": "not the province's", "404": "no such entry", "409": "no filing awaiting receipt, or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		return s.list.ReceiveFiling(ctx, a, id, in.Version, in.Receipt)
	}))
}

// notice reads notice_start and notice_end.
func (in *listActionRequest) notice() (*enforce.NoticePeriod, error) {
	start, err := parseTime("notice_start", in.NoticeStart)
	if err != nil {
		return nil, err
	}
	end, err := parseTime("notice_end", in.NoticeEnd)
	if err != nil {
		return nil, err
	}
	_, derr := time.Parse(time.DateOnly, in.NoticeStart)
	return &enforce.NoticePeriod{Start: start, End: end, StartIsDate: derr == nil}, nil
}

func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.EnforceConfig)
}

type evaluateRequest struct {
	USCC  string        `json:"uscc"`
	Facts enforce.Facts `json:"facts" doc:"the admission facts: condition name → boolean, number or string (GET /api/v1/config lists the conditions)"`
}

func decodeEvaluate(body []byte, needUSCC bool) (*evaluateRequest, error) {
	var in evaluateRequest
	if err := strictUnmarshal(body, &in); err != nil {
		return nil, err
	}
	if needUSCC && in.USCC == "" {
		return nil, offsite.Required("uscc", "is required")
	}
	if in.Facts == nil {
		return nil, offsite.Required("facts", "is required: an object of fact name to value")
	}
	for k, v := range in.Facts {
		switch v.(type) {
		case bool, float64, string:
		default:
			return nil, offsite.Invalid("facts."+k, "must be a boolean, number or string")
		}
	}
	return &in, nil
}

func (s *Server) handleListEvaluate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readJSONBody(w, r, (*evaluateRequest)(nil))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	in, err := decodeEvaluate(body, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, enforce.Evaluate(s.EnforceConfig.Admission, in.Facts))
}

func (s *Server) handleListPropose(w http.ResponseWriter, r *http.Request) {
	body, err := s.readJSONBody(w, r, (*evaluateRequest)(nil))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	in, err := decodeEvaluate(body, true)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.list.Propose(r.Context(), PrincipalFromContext(r.Context()).Actor(), in.USCC, in.Facts)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) handleListList(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	st := enforce.ListStatus(r.URL.Query().Get("status"))
	if st != "" && !slices.Contains(enforce.ListStatuses, st) {
		s.Error(w, r, offsite.Invalid("status", "must be one of %s, got %q", strings.Join(enforce.Names(enforce.ListStatuses), ", "), st))
		return
	}
	es, total, err := s.Enforce.FindListEntries(r.Context(), s.EnforceConfig, s.Now(), enforce.ListFilter{USCC: r.URL.Query().Get("uscc"), Status: st, Agency: scope(r.Context()), Offset: offset, Limit: limit})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if es == nil {
		es = []*enforce.ListEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es, "total": total, "offset": offset, "limit": limit})
}

func (s *Server) handleListGet(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.Enforce.FindListEntryByID(r.Context(), s.EnforceConfig, s.Now(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// listActionRequest is the body of every list entry transition; each uses its own fields.
type listActionRequest struct {
	Version     int           `json:"version" doc:"the version read; a stale version is refused with 409"`
	NoticeStart string        `json:"notice_start" doc:"RFC 3339 time or YYYY-MM-DD (China Standard Time); now or later"`
	NoticeEnd   string        `json:"notice_end" doc:"RFC 3339 time or YYYY-MM-DD (China Standard Time)"`
	Text        string        `json:"text"`
	RaisedBy    string        `json:"raised_by"`
	Outcome     string        `json:"outcome"`
	Resolution  string        `json:"resolution"`
	ValidFrom   string        `json:"valid_from" doc:"RFC 3339 time or YYYY-MM-DD; default now"`
	Facts       enforce.Facts `json:"facts"`
	Category    string        `json:"category"`
	Reason      string        `json:"reason"`
	Receipt     string        `json:"receipt"`
}

// listCommand makes the handler of a list entry transition: decode the body, run the command
// as the request's principal, answer with the entry.
func listCommand(s *Server, run func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error)) http.HandlerFunc {
	return versionedAction(s, func(r *http.Request, id int64, in *listActionRequest) (any, error) {
		return run(r.Context(), PrincipalFromContext(r.Context()).Actor(), id, in)
	})
}

func (s *Server) handleListExpire(w http.ResponseWriter, r *http.Request) {
	n, err := s.list.Expire(r.Context(), PrincipalFromContext(r.Context()).Actor())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"expired": n})
}

// listExportRow is an entry of the list export with its enterprise.
type listExportRow struct {
	Entry      *enforce.ListEntry  `json:"entry"`
	Enterprise *enforce.Enterprise `json:"enterprise"`
}

func (s *Server) handleListExport(w http.ResponseWriter, r *http.Request) {
	asCSV, err := wantsCSV(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if r.URL.Query().Get("format") == "" {
		asCSV = true
	}
	ctx, now := r.Context(), s.Now() // one time for every page
	var entries []*enforce.ListEntry
	for off := 0; ; off += 1000 {
		es, total, err := s.Enforce.FindListEntries(ctx, s.EnforceConfig, now, enforce.ListFilter{Agency: scope(ctx), Offset: off, Limit: 1000})
		if err != nil {
			s.Error(w, r, err)
			return
		}
		entries = append(entries, es...)
		if off+1000 >= total {
			break
		}
	}
	// The entries' enterprises, a thousand a query.
	var usccs []string
	ents := map[string]*enforce.Enterprise{}
	for _, e := range entries {
		if _, ok := ents[e.USCC]; !ok {
			ents[e.USCC] = nil
			usccs = append(usccs, e.USCC)
		}
	}
	for i := 0; i < len(usccs); i += 1000 {
		batch := usccs[i:min(i+1000, len(usccs))]
		es, _, err := s.Enforce.FindEnterprises(ctx, enforce.EnterpriseFilter{IDs: batch, Limit: len(batch)})
		if err != nil {
			s.Error(w, r, err)
			return
		}
		for _, ent := range es {
			ents[ent.USCC] = ent
		}
	}
	var rows []listExportRow
	for _, e := range entries {
		if ents[e.USCC] == nil {
			s.Error(w, r, offsite.NotFound("enterprise %s", e.USCC))
			return
		}
		rows = append(rows, listExportRow{e, ents[e.USCC]})
	}
	if err := s.Enforce.Audit(ctx, PrincipalFromContext(ctx).Actor(), enforce.AuditListExport, "list-entry/*", map[string]any{"entries": len(rows), "province": s.EnforceConfig.Province}); err != nil {
		s.Error(w, r, err)
		return
	}
	if !asCSV {
		writeJSON(w, http.StatusOK, map[string]any{"province": s.EnforceConfig.Province, "exported_at": s.Now(), "entries": rows})
		return
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(cst).Format("2006-01-02")
	}
	var recs [][]string
	for _, x := range rows {
		e, ent := x.Entry, x.Enterprise
		recs = append(recs, []string{strconv.FormatInt(e.ID, 10), ent.Name, ent.Address, ent.USCC, ent.Industry, ent.PermitNo, string(e.Status),
			e.Admission.Path, day(e.NoticeStart), day(e.NoticeEnd), day(e.ValidFrom), day(e.ValidTo), e.HealthCheck,
			e.RemovalCategory, e.RemovalReason, ent.ComplaintChannel})
	}
	writeCSV(w, "positive-list-filing.csv", []string{"entry_id", "name", "address", "uscc", "industry", "permit_no", "status", "admission_path",
		"notice_start", "notice_end", "valid_from", "valid_to", "health_check", "removal_category", "removal_reason", "complaint_channel"}, recs)
}

func (in *listActionRequest) readVersion() int { return in.Version }
