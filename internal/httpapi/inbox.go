package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/offsite/offsite/internal/enforce"
)

// WorkReader reads the inbox, intake matters and incidents; each read takes the actor and
// shows only what it may see (postgres.WorkService).
type WorkReader interface {
	enforce.InboxQuery
	FindMatters(ctx context.Context, a enforce.Actor, uscc string, open bool, offset, limit int) ([]*enforce.Matter, int, error)
	FindMatterByID(ctx context.Context, a enforce.Actor, id int64) (*enforce.Matter, error)
	FindIncidents(ctx context.Context, a enforce.Actor, uscc string) ([]*enforce.Incident, error)
}

// errNoWork is the error of the routes of work queues, intake and incidents on a server
// without a WorkReader.
var errNoWork = errors.New("httpapi: no WorkReader configured")

// registerInboxRoutes registers the work queues (issue 16 part 3).
func (s *Server) registerInboxRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/api/v1/inbox", operation{
		Response: listOf("items", []*enforce.InboxItem{}),
		Summary:  "The work waiting for the caller's role, overdue first",
		Description: "Inspector: open warnings, reports to review, approved site visits to record, extensions to decide, self-checks overdue, " +
			"health-check visits coming due (二.4), open complaints, media reports and referrals. Approver: site visits to approve. " +
			"Enterprise: its self-checks requested, with deadlines. Admin: listed entries to file with the province, self-checks overdue, " +
			"health-check visits overdue. Analyst: nothing. Each item says its deadline (due_at) and whether it is overdue.",
		Roles:     rolesOwnRead,
		Query:     map[string]string{"limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "items and total"},
	}, s.handleInbox)
	s.handle(mux, "GET", "/api/v1/inbox/counts", operation{
		Response: objectOf(map[string]any{"total": 0, "overdue": 0, "by_kind": map[enforce.InboxKind]int{}, "unread_messages": 0}),
		Summary:  "How many items wait in the caller's inbox, by kind, and how many are overdue (one query; for the navigation)", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "total, overdue, by_kind; unread in-app messages"},
	}, s.handleInboxCounts)
}

func (s *Server) handleInbox(w http.ResponseWriter, r *http.Request) {
	if s.Work == nil {
		s.Error(w, r, errNoWork)
		return
	}
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	items, total, err := s.Work.FindInbox(r.Context(), PrincipalFromContext(r.Context()).Actor(), s.EnforceConfig, s.Now(), offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "total": total, "offset": offset, "limit": limit})
}

func (s *Server) handleInboxCounts(w http.ResponseWriter, r *http.Request) {
	if s.Work == nil {
		s.Error(w, r, errNoWork)
		return
	}
	a := PrincipalFromContext(r.Context()).Actor()
	c, err := s.Work.CountInbox(r.Context(), a, s.EnforceConfig, s.Now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	unread := 0
	if s.Notify != nil {
		if _, _, unread, err = s.Notify.FindMessages(r.Context(), a, true, 0, 1); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": c.Total, "overdue": c.Overdue, "by_kind": c.ByKind, "unread_messages": unread})
}
