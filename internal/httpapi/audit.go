package httpapi

import (
	"net/http"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// registerAuditRoutes registers the routes of the audit log and statistics.
func (s *Server) registerAuditRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/api/v1/audit", operation{
		Summary: "Audit log entries, newest first", Roles: rolesDecide,
		Response:  listOf("entries", []*enforce.AuditEntry{}),
		Query:     map[string]string{"subject": "subject prefix, e.g. enterprise/9111 or inspection/3", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "entries", "400": "bad query parameter"},
	}, s.handleAuditList)
	s.handle(mux, "GET", "/api/v1/audit/verify", operation{
		Summary: "Recompute the audit hash chain and name the first broken entry", Roles: rolesDecide,
		Response: enforce.AuditReport{},
		Description: "Every entry's HMAC under the audit keys, the links between entries, the anchor after the entries written before keys, " +
			"and the latest signed checkpoint in the evidence bucket: an edited entry, a chain recomputed without the key and entries deleted " +
			"up to the last checkpoint are all reported; entries deleted after it (at most OFFSITE_AUDIT_CHECKPOINT_EVERY, and those since the nightly checkpoint) are not.",
		Responses: map[string]string{"200": "intact (ok true) or broken (ok false, first_broken); checked, legacy_until, checkpoint (seq, hash, at of the latest head)"},
	}, s.handleAuditVerify)
	s.handle(mux, "GET", "/api/v1/stats", operation{
		Response:    enforce.Stats{},
		Summary:     "Statistics for supervisors",
		Description: "Site inspections of listed enterprises, waived penalties, warnings by zone and month, response times to self-check requests, list entries by status.",
		Roles:       rolesSupervise,
		Query:       map[string]string{"from": "RFC 3339 or YYYY-MM-DD, default a year ago", "to": "default now"},
		Responses:   map[string]string{"200": "statistics", "400": "bad query parameter"},
	}, s.handleStats)
	s.handle(mux, "GET", "/api/v1/stats/agencies", operation{
		Response: agencyStats{},
		Summary:  "Figures per agency and month",
		Description: "Warnings opened, findings detected, self-checks requested, site visits and waived penalties of the enterprises under the " +
			"caller's agency, by month (China Standard Time), each under the agency directly below the caller's it belongs to (a province " +
			"sees its cities, a city its counties); the caller's own enterprises under its own agency.",
		Roles:     rolesSupervise,
		Query:     map[string]string{"from": "RFC 3339 or YYYY-MM-DD, default a year ago", "to": "default now"},
		Responses: map[string]string{"200": "figures by agency and month", "400": "bad query parameter"},
	}, s.handleAgencyStats)
}

func (s *Server) handleAuditList(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	es, total, err := s.Enforce.FindAuditIn(r.Context(), scope(r.Context()), r.URL.Query().Get("subject"), offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if es == nil {
		es = []*enforce.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es, "total": total, "offset": offset, "limit": limit})
}

func (s *Server) handleAuditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Enforce.VerifyAudit(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
		*enforce.AuditReport
	}{rep.FirstBroken == nil, rep})
}

// statsWindow reads the from and to of the statistics routes: the last year by default.
func (s *Server) statsWindow(r *http.Request) (from, to time.Time, err error) {
	now := s.Now()
	from, to = now.AddDate(-1, 0, 0), now
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := r.URL.Query().Get(name); v != "" {
			if *dst, err = parseTime(name, v); err != nil {
				return from, to, err
			}
		}
	}
	if !from.Before(to) {
		return from, to, offsite.Invalid("from", "must be before to")
	}
	return from, to, nil
}

// agencyStats is the answer of GET /api/v1/stats/agencies.
type agencyStats struct {
	From   time.Time             `json:"from"`
	To     time.Time             `json:"to"`
	Months []enforce.AgencyMonth `json:"months"`
}

func (s *Server) handleAgencyStats(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.statsWindow(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ms, err := s.Enforce.AgencyStats(r.Context(), scope(r.Context()), from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, agencyStats{From: from, To: to, Months: ms})
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.statsWindow(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	st, err := s.Enforce.Stats(r.Context(), scope(r.Context()), from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
