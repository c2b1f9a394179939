package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/offsite/offsite"
)

func (s *Server) registerNightlyRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/api/v1/nightly-runs", operation{
		Summary:  "Nightly runs, newest first, with their counts and what became of the captures they queued",
		Response: listOf("runs", []*offsite.NightlyRun{}),
		Description: "processed, failed and pending count the captures each run queued as they stand now " +
			"(a failed capture processed again later counts as processed).",
		Roles:     rolesRead,
		Query:     map[string]string{"status": "running, finished or error", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "nightly runs", "400": "bad query parameter"},
	}, s.handleNightlyList)
	s.handle(mux, "GET", "/api/v1/nightly-runs/{id}", operation{
		Response: nightlyRunAnswer{},
		Summary:  "A nightly run: its counts, the sidecars it could not use and why, and the captures it queued with their status and error",
		Description: "A capture that failed for good has status failed, its error, and failure: the stage (clip or pipeline), " +
			"the pipeline, the task, its queue, the attempts made and when. POST /api/v1/captures/{id}/process queues it again.",
		Roles:     rolesRead,
		Responses: map[string]string{"200": "nightly run", "400": "bad id", "404": "no such nightly run"},
	}, s.handleNightlyGet)
}

// errNoNightly answers the nightly routes of a server built without a NightlyService.
var errNoNightly = errors.New("httpapi: nightly runs are not configured")

func (s *Server) handleNightlyList(w http.ResponseWriter, r *http.Request) {
	if s.Nightly == nil {
		s.Error(w, r, errNoNightly)
		return
	}
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	status := r.URL.Query().Get("status")
	if status != "" && !slices.Contains(offsite.NightlyStatuses, status) {
		s.Error(w, r, offsite.Invalid("status", "must be one of %s, got %q", strings.Join(offsite.NightlyStatuses, ", "), status))
		return
	}
	runs, total, err := s.Nightly.FindRuns(r.Context(), offsite.NightlyRunFilter{Status: status, Offset: offset, Limit: limit})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if runs == nil {
		runs = []*offsite.NightlyRun{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs, "total": total, "offset": offset, "limit": limit})
}

func (s *Server) handleNightlyGet(w http.ResponseWriter, r *http.Request) {
	if s.Nightly == nil {
		s.Error(w, r, errNoNightly)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	run, err := s.Nightly.FindRunByID(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	caps, err := s.Nightly.FindRunCaptures(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if caps == nil {
		caps = []*offsite.NightlyRunCapture{}
	}
	writeJSON(w, http.StatusOK, nightlyRunAnswer{run, caps})
}

// nightlyRunAnswer is a nightly run with its captures, as handleNightlyGet answers it.
type nightlyRunAnswer struct {
	*offsite.NightlyRun
	Captures []*offsite.NightlyRunCapture `json:"captures"`
}
