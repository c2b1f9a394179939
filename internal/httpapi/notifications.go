package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/offsite/offsite/internal/enforce"
)

// NotifyStore stores in-app messages, preferences and webhook subscriptions
// (postgres.NotifyService).
type NotifyStore interface {
	FindMessages(ctx context.Context, a enforce.Actor, unreadOnly bool, offset, limit int) ([]*enforce.Message, int, int, error)
	MarkRead(ctx context.Context, a enforce.Actor, ids []int64) (int, error)
	FindPrefs(ctx context.Context, a enforce.Actor) (*enforce.NotificationPrefs, error)
	SavePrefs(ctx context.Context, a enforce.Actor, p *enforce.NotificationPrefs) error
	CreateWebhook(ctx context.Context, a enforce.Actor, h *enforce.Webhook) error
	DeactivateWebhook(ctx context.Context, a enforce.Actor, id int64) error
	FindWebhooks(ctx context.Context, agency int64) ([]*enforce.Webhook, error)
	FindFailedDeliveries(ctx context.Context, agency int64, offset, limit int) ([]*enforce.FailedDelivery, int, error)
	RequeueDelivery(ctx context.Context, a enforce.Actor, id int64) (*enforce.FailedDelivery, error)
}

var errNoNotify = errors.New("httpapi: no NotifyStore configured")

// eventEnum are the keywords of a list of events.
var eventEnum = map[string]any{"type": "array", "items": map[string]any{"enum": enforce.Events}}

// Request bodies of the notification routes.
type (
	markReadRequest struct {
		IDs []int64 `json:"ids" doc:"the messages to mark; absent: all"`
	}
	webhookRequest struct {
		Name   string          `json:"name" openapi:"required"`
		URL    string          `json:"url" openapi:"required" doc:"https URL on one of the configured webhook hosts"`
		Events []enforce.Event `json:"events" openapi:"required"`
	}
)

// registerNotificationRoutes registers in-app messages, preferences and webhook subscriptions
// (issue 16 part 4).
func (s *Server) registerNotificationRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/api/v1/notifications", operation{
		Response:    withOptional(listOf("messages", []*enforce.Message{}), map[string]any{"unread": 0}),
		Summary:     "The caller's in-app messages, newest first",
		Description: "Events reach the roles they concern (an enterprise only its own) and only those the caller chose (preferences).",
		Roles:       rolesOwnRead,
		Query:       map[string]string{"unread": "true for unread only", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses:   map[string]string{"200": "messages, total, unread"},
	}, s.handleMessages)
	s.handle(mux, "POST", "/api/v1/notifications/read", operation{
		Response: objectOf(map[string]any{"marked": 0}),
		Summary:  "Mark the caller's messages read: those of ids, or all when ids is absent", Roles: rolesOwnRead,
		Body:      markReadRequest{},
		Responses: map[string]string{"200": "how many were marked", "400": "invalid ids"},
	}, s.handleMarkRead)
	s.handle(mux, "GET", "/api/v1/notifications/preferences", operation{
		Response: objectOf(map[string]any{"preferences": &enforce.NotificationPrefs{}, "events": []enforce.Event{}}),
		Summary:  "The events that reach the caller in the app and by e-mail, and the events it may choose among", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "preferences; null inapp_events means every event of the role"},
	}, s.handlePrefsGet)
	s.handle(mux, "PUT", "/api/v1/notifications/preferences", operation{
		Response: objectOf(map[string]any{"preferences": &enforce.NotificationPrefs{}, "events": []enforce.Event{}}),
		Summary:  "Choose the events that reach the caller in the app (null: all) and by e-mail (to email)", Roles: rolesOwnRead,
		Body:      bodyOf(enforce.NotificationPrefs{}, map[string]map[string]any{"inapp_events": eventEnum, "email_events": eventEnum}),
		Responses: map[string]string{"200": "saved", "400": "unknown event, an event that never reaches the role, or no e-mail address"},
	}, s.handlePrefsPut)
	s.handle(mux, "GET", "/api/v1/webhooks", operation{
		Response: objectOf(map[string]any{"webhooks": []*enforce.Webhook{}, "allowed_hosts": []string{}}),
		Summary:  "Webhook subscriptions (without their secrets)", Roles: []enforce.Role{RoleAdmin},
		Responses: map[string]string{"200": "subscriptions"},
	}, s.handleWebhookList)
	s.handle(mux, "POST", "/api/v1/webhooks", operation{
		Response: enforce.Webhook{},
		Summary:  "Subscribe an outside system to events; audited",
		Description: "Deliveries are POSTs of the event as JSON, signed: " + enforce.WebhookSignatureHeader + " is sha256= and the hex HMAC-SHA256, keyed by the secret returned here once, " +
			"of the " + enforce.WebhookTimestampHeader + " value (Unix seconds), a dot, and the body. Failed deliveries are retried. " +
			"The URL's host must be one of the configured webhook hosts; redirects are not followed.",
		Roles:     []enforce.Role{RoleAdmin},
		Body:      bodyOf(webhookRequest{}, map[string]map[string]any{"events": eventEnum}),
		Responses: map[string]string{"201": "subscribed, with its secret", "400": "invalid field or a host not configured"},
	}, s.handleWebhookCreate)
	s.handle(mux, "DELETE", "/api/v1/webhooks/{id}", operation{
		Summary: "End a webhook subscription; audited", Roles: []enforce.Role{RoleAdmin},
		Responses: map[string]string{"204": "ended", "404": "no such active subscription"},
	}, s.handleWebhookDelete)
	s.handle(mux, "GET", "/api/v1/notification-deliveries/failed", operation{
		Response: listOf("deliveries", []*enforce.FailedDelivery{}),
		Summary:  "Notification deliveries given up on (e-mail, webhook), newest failure first",
		Description: "A delivery is retried with backoff; when its last retry fails it is marked failed and tried again every 6 hours for 8 days (retry_at). " +
			"A delivery no retry can make (no mail server, a subscription ended, a receiver that answered 410 Gone) fails at once. Only events that reach the caller's agency.",
		Roles:     []enforce.Role{RoleAdmin},
		Query:     map[string]string{"limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "failed deliveries", "400": "bad query parameter"},
	}, s.handleFailedDeliveries)
	s.handle(mux, "POST", "/api/v1/notification-deliveries/{id}/requeue", operation{
		Response:  enforce.FailedDelivery{},
		Summary:   "Try a failed delivery again now, starting its 8 days of retries again; audited",
		Roles:     []enforce.Role{RoleAdmin},
		Responses: map[string]string{"200": "requeued: the worker tries it within seconds", "403": "outside the caller's agency", "404": "no such delivery", "409": "delivered, or not failed"},
	}, s.handleDeliveryRequeue)
}

func (s *Server) handleFailedDeliveries(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		s.Error(w, r, errNoNotify)
		return
	}
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ds, total, err := s.Notify.FindFailedDeliveries(r.Context(), scope(r.Context()), offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds, "total": total, "offset": offset, "limit": limit})
}

func (s *Server) handleDeliveryRequeue(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		s.Error(w, r, errNoNotify)
		return
	}
	id, err := idParam(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d, err := s.Notify.RequeueDelivery(r.Context(), PrincipalFromContext(r.Context()).Actor(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		s.Error(w, r, errNoNotify)
		return
	}
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	unreadOnly, err := boolParam(r, "unread")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ms, total, unread, err := s.Notify.FindMessages(r.Context(), PrincipalFromContext(r.Context()).Actor(), unreadOnly, offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": ms, "total": total, "unread": unread, "offset": offset, "limit": limit})
}

func (s *Server) handleMarkRead(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		s.Error(w, r, errNoNotify)
		return
	}
	var in markReadRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	n, err := s.Notify.MarkRead(r.Context(), PrincipalFromContext(r.Context()).Actor(), in.IDs)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"marked": n})
}

func (s *Server) handlePrefsGet(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		s.Error(w, r, errNoNotify)
		return
	}
	a := PrincipalFromContext(r.Context()).Actor()
	p, err := s.Notify.FindPrefs(r.Context(), a)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"preferences": p, "events": enforce.EventsFor(a.Role)})
}

func (s *Server) handlePrefsPut(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		s.Error(w, r, errNoNotify)
		return
	}
	var p enforce.NotificationPrefs
	if err := s.decodeJSON(w, r, &p); err != nil {
		s.Error(w, r, err)
		return
	}
	a := PrincipalFromContext(r.Context()).Actor()
	if err := p.Validate(a.Role); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Notify.SavePrefs(r.Context(), a, &p); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"preferences": p, "events": enforce.EventsFor(a.Role)})
}

func (s *Server) handleWebhookList(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		s.Error(w, r, errNoNotify)
		return
	}
	hs, err := s.Notify.FindWebhooks(r.Context(), scope(r.Context()))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": hs, "allowed_hosts": s.WebhookHosts})
}

func (s *Server) handleWebhookCreate(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		s.Error(w, r, errNoNotify)
		return
	}
	var in webhookRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	h := &enforce.Webhook{Name: strings.TrimSpace(in.Name), URL: strings.TrimSpace(in.URL), Events: in.Events}
	if err := h.Validate(s.WebhookHosts); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Notify.CreateWebhook(r.Context(), PrincipalFromContext(r.Context()).Actor(), h); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, h)
}

func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request) {
	if s.Notify == nil {
		s.Error(w, r, errNoNotify)
		return
	}
	id, err := idParam(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Notify.DeactivateWebhook(r.Context(), PrincipalFromContext(r.Context()).Actor(), id); err != nil {
		s.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
