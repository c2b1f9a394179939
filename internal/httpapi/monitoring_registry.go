package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/monitoring"
)

// MonitoringService reads the monitoring registry, the values the HJ 212 receiver stored and
// the monitoring findings; the Postgres monitoring store implements it.
type MonitoringService interface {
	FindPoint(ctx context.Context, mn string) (*monitoring.Point, error)
	FindPoints(ctx context.Context, uscc string) ([]*monitoring.Point, error)
	FindLimits(ctx context.Context, uscc string) ([]monitoring.Limit, error)
	FindSamples(ctx context.Context, mn string, from, to time.Time) (map[string][]monitoring.Sample, error)
	FindExceedances(ctx context.Context, f monitoring.ExceedanceFilter) ([]*monitoring.Exceedance, error)
	FindSelfReports(ctx context.Context, uscc string) ([]*monitoring.SelfReport, error)
	FindMonitoringFindings(ctx context.Context, uscc string, limit int) ([]*offsite.Finding, error)
	// FindQuarantine lists the MNs with frames in quarantine; agency (0: all) leaves out the
	// points of enterprises outside it.
	FindQuarantine(ctx context.Context, agency int64, limit int) ([]monitoring.QuarantinedMN, error)
	// FindDataRequests lists the data requests to a point's logger, newest first.
	FindDataRequests(ctx context.Context, mn string, limit int) ([]*monitoring.DataRequest, error)
}

// Request bodies of the monitoring routes.
type (
	pointRequest struct {
		MN       string    `json:"mn" openapi:"required" doc:"the data logger's MN (HJ 212), 1 to 24 letters or digits"`
		USCC     string    `json:"uscc" openapi:"required"`
		Outlet   string    `json:"outlet" openapi:"required" doc:"permit outlet code: DA001 (flue gas), DW001 (waste water)"`
		Name     string    `json:"name"`
		Location []float64 `json:"location" openapi:"required" doc:"[lon, lat] WGS84"`
		Password string    `json:"password" doc:"the HJ 212 access password (PW), 6 to 32 characters; stored hashed. Required to create; on update, empty keeps it"`
		Version  int       `json:"version" doc:"on update: the version read; a stale version is refused with 409"`
	}
	limitRequest struct {
		Hourly    *float64 `json:"hourly" doc:"concentration limit on valid hourly values"`
		Daily     *float64 `json:"daily" doc:"concentration limit on valid daily values"`
		O2Ref     *float64 `json:"o2_ref" doc:"reference oxygen (%) the concentrations are converted to"`
		LoadKgDay *float64 `json:"load_kg_day" doc:"daily load limit"`
		Basis     string   `json:"basis" doc:"the standard or permit clause"`
	}
	selfReportRequest struct {
		MN        string `json:"mn" openapi:"required"`
		Pollutant string `json:"pollutant" doc:"empty: every pollutant of the point"`
		StartedAt string `json:"started_at" openapi:"required" doc:"RFC 3339 time or YYYY-MM-DD (China Standard Time)"`
		EndedAt   string `json:"ended_at" doc:"RFC 3339 time or YYYY-MM-DD (China Standard Time)"`
		Text      string `json:"text" openapi:"required" doc:"what exceeded, why, what was done"`
	}
	dataRequestBody struct {
		CN        string `json:"cn" openapi:"required" doc:"the data to send again: 2061 hour (a gap's hours), 2051 minute, 2031 day, 2041 running time"`
		BeginTime string `json:"begin_time" openapi:"required" doc:"RFC 3339 time or YYYY-MM-DD (China Standard Time): the first DataTime asked"`
		EndTime   string `json:"end_time" openapi:"required" doc:"RFC 3339 time or YYYY-MM-DD: the last DataTime asked"`
		FindingID string `json:"finding_id" doc:"the monitoring finding (a gap) the request is for"`
	}
)

// pointBody documents pointRequest with its location's two coordinates.
var pointBody = bodyOf(pointRequest{}, map[string]map[string]any{"location": {"minItems": 2, "maxItems": 2}})

// registerMonitoringRoutes registers the routes of the monitoring registry (points, permit
// limits), the enterprises' own reports of exceedances, series charts and the monitoring
// facts of an inspection.
func (s *Server) registerMonitoringRoutes(mux *http.ServeMux) {
	if s.Monitoring == nil || s.MonitoringStore == nil {
		return
	}
	reg := &monitoring.Registry{Store: s.MonitoringStore, Now: s.Now}
	s.handle(mux, "GET", "/api/v1/monitoring/pollutants", operation{
		Response: objectOf(map[string]any{"pollutants": map[string]monitoring.Pollutant{}, "factors": map[string]monitoring.Factor{}}),
		Summary:  "The pollutant vocabulary and the HJ 212-2017 and HJ/T 212-2005 factor codes mapped to it", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "pollutants and factors"},
	}, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"pollutants": monitoring.Pollutants, "factors": monitoring.Factors})
	})
	s.handle(mux, "POST", "/api/v1/monitoring/points", operation{
		Response: monitoring.Point{},
		Summary:  "Register a monitoring point (an HJ 212 data logger's MN) on an outlet of an enterprise's permit; audited", Body: pointBody,
		Roles:     rolesStaffWrite,
		Responses: map[string]string{"201": "registered", "400": "invalid field or unknown enterprise", "409": "MN registered"},
	}, func(w http.ResponseWriter, r *http.Request) {
		p, pw, err := s.decodePoint(w, r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if err := reg.CreatePoint(r.Context(), PrincipalFromContext(r.Context()).Actor(), p, pw); err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, p)
	})
	s.handle(mux, "PUT", "/api/v1/monitoring/points/{mn}", operation{
		Response: monitoring.Point{},
		Summary:  "Change a monitoring point's outlet, name, location or password at the version read; audited", Body: pointBody,
		Roles:     rolesStaffWrite,
		Responses: map[string]string{"200": "changed", "400": "invalid field", "404": "no such point", "409": "stale version"},
	}, func(w http.ResponseWriter, r *http.Request) {
		p, pw, err := s.decodePoint(w, r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if p.MN != r.PathValue("mn") {
			s.Error(w, r, offsite.Invalid("mn", "%q differs from the path's %q", p.MN, r.PathValue("mn")))
			return
		}
		if err := reg.UpdatePoint(r.Context(), PrincipalFromContext(r.Context()).Actor(), p, pw); err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
	s.handle(mux, "GET", "/api/v1/monitoring/quarantine", operation{
		Response:    objectOf(map[string]any{"quarantine": []monitoring.QuarantinedMN{}}),
		Summary:     "The MNs whose frames the receiver keeps in quarantine (MN not registered, or PW not its point's), most recent first",
		Description: "uscc is set when the MN's point is registered now: its frames carrying the point's password can be released. An administrator of an agency sees the MNs of no point and the points of its enterprises.",
		Roles:       rolesAdmin, Query: map[string]string{"limit": "most MNs listed, 1 to 1000, default 200"},
		Responses: map[string]string{"200": "quarantine", "400": "bad limit"},
	}, func(w http.ResponseWriter, r *http.Request) {
		limit, err := intParam(r, "limit", 200, 1, 1000)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		qs, err := s.Monitoring.FindQuarantine(r.Context(), scope(r.Context()), limit)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if qs == nil {
			qs = []monitoring.QuarantinedMN{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"quarantine": qs})
	})
	s.handle(mux, "POST", "/api/v1/monitoring/points/{mn}/quarantine/release", operation{
		Response:    monitoring.Release{},
		Summary:     "Release into the point's series the frames kept in quarantine under its MN that carry its password; audited",
		Description: "Frames with another PW stay in quarantine (kept counts them). Values already stored are left as they are.",
		Roles:       rolesAdmin,
		Responses:   map[string]string{"200": "released", "400": "bad MN", "404": "no such point"},
	}, func(w http.ResponseWriter, r *http.Request) {
		rel, err := reg.ReleaseQuarantine(r.Context(), PrincipalFromContext(r.Context()).Actor(), r.PathValue("mn"))
		if err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rel)
	})
	s.handle(mux, "POST", "/api/v1/monitoring/points/{mn}/data-requests", operation{
		Response:    monitoring.DataRequest{},
		Summary:     "Ask a point's data logger to send its data of a period again (HJ 212-2017 data request, e.g. CN 2061 hour data for a gap); audited",
		Description: "Queued: the receiver sends it while the logger is connected (sent_at, qn) and records the logger's request reply (qn_rtn, 9011: 1 accepted) and execution result (exe_rtn, 9012: 1 done). The data arrives as uploads, stored as any other.",
		Body:        dataRequestBody{}, Roles: rolesStaffWrite,
		Responses: map[string]string{"201": "queued", "400": "invalid field", "404": "no such point"},
	}, func(w http.ResponseWriter, r *http.Request) {
		var in dataRequestBody
		if err := s.decodeJSON(w, r, &in); err != nil {
			s.Error(w, r, err)
			return
		}
		req := &monitoring.DataRequest{MN: r.PathValue("mn"), CN: in.CN, FindingID: in.FindingID}
		var err error
		if req.Begin, err = parseTime("begin_time", in.BeginTime); err != nil {
			s.Error(w, r, err)
			return
		}
		if req.End, err = parseTime("end_time", in.EndTime); err != nil {
			s.Error(w, r, err)
			return
		}
		if err := reg.RequestData(r.Context(), PrincipalFromContext(r.Context()).Actor(), req); err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, req)
	})
	s.handle(mux, "GET", "/api/v1/monitoring/points/{mn}/data-requests", operation{
		Response: objectOf(map[string]any{"data_requests": []*monitoring.DataRequest{}}),
		Summary:  "The data requests to a point's logger, newest first, with whether it was sent and what the logger replied",
		Roles:    rolesStaff, Query: map[string]string{"limit": "most requests listed, 1 to 500, default 50"},
		Responses: map[string]string{"200": "data requests", "400": "bad limit", "404": "no such point"},
	}, func(w http.ResponseWriter, r *http.Request) {
		limit, err := intParam(r, "limit", 50, 1, 500)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if _, err := s.Monitoring.FindPoint(r.Context(), r.PathValue("mn")); err != nil {
			s.Error(w, r, err)
			return
		}
		rs, err := s.Monitoring.FindDataRequests(r.Context(), r.PathValue("mn"), limit)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if rs == nil {
			rs = []*monitoring.DataRequest{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"data_requests": rs})
	})
	s.handle(mux, "PUT", "/api/v1/enterprises/{uscc}/monitoring/limits/{outlet}/{pollutant}", operation{
		Response:    monitoring.Limit{},
		Summary:     "Set the permit limit of a pollutant at an outlet; audited",
		Description: "hourly and daily are concentration limits on valid hourly and daily values, converted to o2_ref (%) where the standard gives a reference oxygen; load_kg_day limits the daily load.",
		Body:        limitRequest{}, Roles: rolesStaffWrite,
		Responses: map[string]string{"200": "set", "400": "invalid field"},
	}, func(w http.ResponseWriter, r *http.Request) {
		var in limitRequest
		if err := s.decodeJSON(w, r, &in); err != nil {
			s.Error(w, r, err)
			return
		}
		l := &monitoring.Limit{USCC: r.PathValue("uscc"), Outlet: r.PathValue("outlet"), Pollutant: r.PathValue("pollutant"),
			Hourly: in.Hourly, Daily: in.Daily, O2Ref: in.O2Ref, LoadKgDay: in.LoadKgDay, Basis: in.Basis}
		if err := reg.SetLimit(r.Context(), PrincipalFromContext(r.Context()).Actor(), l); err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, l)
	})
	s.handle(mux, "DELETE", "/api/v1/enterprises/{uscc}/monitoring/limits/{outlet}/{pollutant}", operation{
		Summary: "Remove a permit limit; audited", Roles: rolesStaffWrite,
		Responses: map[string]string{"204": "removed", "404": "no such limit"},
	}, func(w http.ResponseWriter, r *http.Request) {
		if err := reg.DeleteLimit(r.Context(), PrincipalFromContext(r.Context()).Actor(), r.PathValue("uscc"), r.PathValue("outlet"), r.PathValue("pollutant")); err != nil {
			s.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}/monitoring", operation{
		Response:    objectOf(map[string]any{"points": []*monitoring.Point{}, "limits": []monitoring.Limit{}, "events": []*offsite.Finding{}, "exceedances": []*monitoring.Exceedance{}, "reports": []*monitoring.SelfReport{}}),
		Summary:     "The enterprise's monitoring points, permit limits, events (findings of kind monitoring), exceedances with whether it reported them, and its reports",
		Description: "An enterprise token sees only its own.", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "monitoring", "403": "another enterprise's record", "404": "no such enterprise"},
	}, s.handleEnterpriseMonitoring)
	s.handle(mux, "POST", "/api/v1/enterprises/{uscc}/monitoring/reports", operation{
		Response:    objectOf(map[string]any{"report": &monitoring.SelfReport{}, "covers": []string{}}),
		Summary:     "The enterprise reports an exceedance of its own (四.10); audited",
		Description: "Covers the exceedances of the point (and pollutant, or all when empty) whose period overlaps, if filed within the configured hours of their start. The answer lists the exceedance findings it covers.",
		Body:        selfReportRequest{},
		Roles:       []enforce.Role{RoleEnterprise, RoleAdmin},
		Responses:   map[string]string{"201": "recorded", "400": "invalid field", "403": "another enterprise's point", "404": "no such point"},
	}, func(w http.ResponseWriter, r *http.Request) {
		var in selfReportRequest
		if err := s.decodeJSON(w, r, &in); err != nil {
			s.Error(w, r, err)
			return
		}
		rep := &monitoring.SelfReport{USCC: r.PathValue("uscc"), MN: in.MN, Pollutant: in.Pollutant, Text: in.Text}
		var err error
		if rep.Start, err = parseTime("started_at", in.StartedAt); err != nil {
			s.Error(w, r, err)
			return
		}
		if in.EndedAt != "" {
			end, err := parseTime("ended_at", in.EndedAt)
			if err != nil {
				s.Error(w, r, err)
				return
			}
			rep.End = &end
		}
		covered, err := reg.ReportExceedance(r.Context(), PrincipalFromContext(r.Context()).Actor(), rep)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"report": rep, "covers": covered})
	})
	s.handle(mux, "GET", "/api/v1/monitoring/points/{mn}/chart.png", operation{
		ResponseType: "image/png",
		Summary:      "A PNG chart of a point's hourly values of one pollutant (converted to the limit's reference oxygen), its limit and its events shaded",
		Roles:        rolesOwnRead,
		Query:        map[string]string{"pollutant": "pollutant id (monitoring/pollutants), required", "from": "RFC 3339 or YYYY-MM-DD; default 3 days before to", "to": "default now; at most 31 days after from"},
		Responses:    map[string]string{"200": "image/png", "400": "bad query parameter", "403": "another enterprise's point", "404": "no such point"},
	}, s.handlePointChart)
	s.handle(mux, "GET", "/api/v1/inspections/{id}/monitoring", operation{
		Response: withOptional(objectOf(map[string]any{"inspection": int64(0), "listed": false, "exceedances": []*monitoring.Exceedance{}, "unreported_exceedance": false, "self_reported": false}),
			map[string]any{"violation": enforce.Violation{}, "disposition_preview": objectOf(map[string]any{"rule": "", "penalty": "", "remove_from_list": false, "special_supervision": false, "public_disclosure": false})}),
		Summary:     "The exceedances behind an inspection's monitoring warnings and whether the enterprise reported each itself in time: the facts offered to the disposition (四.10)",
		Description: "unreported_exceedance is true when the time to report one of them ran out without a report: the violation's unreported_exceedance fact. self_reported is true when every one was reported in time.",
		Roles:       rolesOwnRead,
		Responses:   map[string]string{"200": "facts", "403": "another enterprise's inspection", "404": "no such inspection"},
	}, s.handleInspectionMonitoring)
}

func (s *Server) decodePoint(w http.ResponseWriter, r *http.Request) (*monitoring.Point, string, error) {
	var in pointRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		return nil, "", err
	}
	if len(in.Location) != 2 {
		return nil, "", offsite.Invalid("location", "must be [lon, lat]")
	}
	return &monitoring.Point{MN: in.MN, USCC: in.USCC, Outlet: in.Outlet, Name: in.Name, Lon: in.Location[0], Lat: in.Location[1], Version: in.Version}, in.Password, nil
}

func (s *Server) handleEnterpriseMonitoring(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uscc := r.PathValue("uscc")
	if err := checkOwn(ctx, uscc); err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.Enforce.FindEnterpriseByUSCC(ctx, uscc); err != nil {
		s.Error(w, r, err)
		return
	}
	pts, err := s.Monitoring.FindPoints(ctx, uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	limits, err := s.Monitoring.FindLimits(ctx, uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	events, err := s.Monitoring.FindMonitoringFindings(ctx, uscc, 500)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ex, err := s.Monitoring.FindExceedances(ctx, monitoring.ExceedanceFilter{USCC: uscc})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	reps, err := s.Monitoring.FindSelfReports(ctx, uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"points": pts, "limits": limits, "events": events, "exceedances": ex, "reports": reps})
}

// maxChartSpan bounds the period of a series chart.
const maxChartSpan = 31 * 24 * time.Hour

func (s *Server) handlePointChart(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pt, err := s.Monitoring.FindPoint(ctx, r.PathValue("mn"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := checkOwn(ctx, pt.USCC); err != nil {
		s.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	pollutant := q.Get("pollutant")
	if _, ok := monitoring.Pollutants[pollutant]; !ok {
		s.Error(w, r, offsite.Invalid("pollutant", "%q is not a pollutant of the vocabulary (GET /api/v1/monitoring/pollutants)", pollutant))
		return
	}
	to := s.Now()
	if v := q.Get("to"); v != "" {
		if to, err = parseTime("to", v); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	from := to.Add(-72 * time.Hour)
	if v := q.Get("from"); v != "" {
		if from, err = parseTime("from", v); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	if !to.After(from) || to.Sub(from) > maxChartSpan {
		s.Error(w, r, offsite.Invalid("to", "must be after from and at most 31 days after it"))
		return
	}
	samples, err := s.Monitoring.FindSamples(ctx, pt.MN, from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	limits, err := s.Monitoring.FindLimits(ctx, pt.USCC)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var mine []monitoring.Limit
	for _, l := range limits {
		if l.Outlet == pt.Outlet {
			mine = append(mine, l)
		}
	}
	events, err := s.Monitoring.FindMonitoringFindings(ctx, pt.USCC, 500)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var spans [][2]time.Time
	for _, f := range events {
		start, ok1 := propTime(f.Properties["start"])
		end, ok2 := propTime(f.Properties["end"])
		if f.Properties["mn"] == pt.MN && (f.Properties["pollutant"] == pollutant || f.Class == monitoring.RuleGap) && ok1 && ok2 && start.Before(to) && end.After(from) {
			spans = append(spans, [2]time.Time{start, end})
		}
	}
	c, err := monitoring.PointChart(monitoring.Input{Point: *pt, Limits: mine, Samples: samples}, pollutant, from, to, spans, monitoring.Params{})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	png, err := c.PNG()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=60")
	_, _ = w.Write(png)
}

// propTime reads a time stored in a finding's properties (JSON: an RFC 3339 string).
func propTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		x, err := time.Parse(time.RFC3339Nano, t)
		return x, err == nil
	}
	return time.Time{}, false
}

func (s *Server) handleInspectionMonitoring(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := idParam(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	in, err := s.Enforce.FindInspectionByID(ctx, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := checkOwn(ctx, in.USCC); err != nil {
		s.Error(w, r, err)
		return
	}
	refs := []string{}
	for _, wr := range in.Warnings {
		if wr.Source == enforce.WarningFinding {
			refs = append(refs, wr.Ref)
			refs = append(refs, wr.SeenIn...)
		}
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	ex, err := s.Monitoring.FindExceedances(ctx, monitoring.ExceedanceFilter{USCC: in.USCC, FindingIDs: refs})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	unreported, reported := false, len(ex) > 0
	for _, e := range ex {
		unreported = unreported || e.Status == monitoring.ReportUnreported
		reported = reported && e.Status == monitoring.ReportReported
	}
	out := map[string]any{"inspection": in.ID, "listed": in.Listed, "exceedances": ex, "unreported_exceedance": unreported, "self_reported": reported}
	if unreported {
		// What closing with this fact would decide (四.10), for the decider to see before closing.
		v := enforce.Violation{UnreportedExceedance: true}
		d, err := enforce.Decide(in.Listed, v, "", s.Now())
		if err != nil {
			s.Error(w, r, err)
			return
		}
		out["violation"], out["disposition_preview"] = v, map[string]any{"rule": d.Rule, "penalty": d.Penalty,
			"remove_from_list": d.RemoveFromList, "special_supervision": d.SpecialSupervision, "public_disclosure": d.PublicDisclosure}
	}
	writeJSON(w, http.StatusOK, out)
}
