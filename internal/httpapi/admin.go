package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/offsite/offsite/internal/enforce"
)

func (s *Server) registerAdminRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/metrics", operation{
		ResponseType: "text/plain; version=0.0.4",
		Summary:      "Prometheus metrics of the API",
		Description:  "Requests by route pattern, method and status, their durations, Go runtime and process metrics. Scrape with a bearer token of an admin.",
		Roles:        []enforce.Role{RoleAdmin},
		Responses:    map[string]string{"200": "Prometheus text format", "401": "no token", "403": "not an admin"},
	}, s.handleMetrics)
	s.handle(mux, "GET", "/api/v1/admin/queues", operation{
		Response:  objectOf(map[string]any{"queues": []queueState{}}),
		Summary:   "State of the asynq queues: sizes by state, processed and failed counts, latency",
		Roles:     []enforce.Role{RoleAdmin},
		Responses: map[string]string{"200": "queues", "401": "no token", "403": "not an admin"},
	}, s.handleQueues)
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		s.Error(w, r, errors.New("httpapi: metrics are not configured"))
		return
	}
	s.Metrics.Handler().ServeHTTP(w, r)
}

// queueState is one queue as the admin route shows it.
type queueState struct {
	Queue     string  `json:"queue"`
	Paused    bool    `json:"paused"`
	Pending   int     `json:"pending"`
	Active    int     `json:"active"`
	Scheduled int     `json:"scheduled"`
	Retry     int     `json:"retry"`
	Archived  int     `json:"archived"`
	Completed int     `json:"completed"`
	Processed int     `json:"processed_today"`
	Failed    int     `json:"failed_today"`
	LatencyS  float64 `json:"latency_seconds"` // age of the oldest pending task
	MemoryB   int64   `json:"memory_bytes"`
}

func (s *Server) handleQueues(w http.ResponseWriter, r *http.Request) {
	if s.Inspector == nil {
		s.Error(w, r, errors.New("httpapi: queue inspector is not configured"))
		return
	}
	names, err := s.Inspector.Queues()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := make([]queueState, 0, len(names))
	for _, q := range names {
		info, err := s.Inspector.GetQueueInfo(q)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		out = append(out, queueState{
			Queue: q, Paused: info.Paused, Pending: info.Pending, Active: info.Active,
			Scheduled: info.Scheduled, Retry: info.Retry, Archived: info.Archived, Completed: info.Completed,
			Processed: info.Processed, Failed: info.Failed, LatencyS: info.Latency.Round(time.Millisecond).Seconds(),
			MemoryB: info.MemoryUsage,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"queues": out})
}
