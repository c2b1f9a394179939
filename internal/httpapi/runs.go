package httpapi

import (
	"errors"
	"net/http"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/tasks"
)

func (s *Server) registerRunRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/pipeline-runs", operation{
		Response: objectOf(map[string]any{"task_id": "", "state": "", "run": tasks.PipelineRunPayload{}}),
		Summary:  "Queue a pipeline run on one capture (capture_id) or a pair (before_id, after_id)",
		Description: "The worker runs the pipeline's detectors with the same code as `worker process`, stores the artifacts under their SHA-256, " +
			"records the findings (GET /api/v1/findings?capture_id=...) and opens a warning for each finding of high or medium severity. " +
			"The task id is derived from the request, so asking twice queues one run.",
		Roles: rolesWrite,
		Body: bodyOf(tasks.PipelineRunPayload{}, map[string]map[string]any{"": {"required": []string{"pipeline"}},
			"pipeline": {"description": "pipeline name, e.g. sentinel2"}, "capture_id": {"description": "one capture; or before_id and after_id"}}),
		Responses: map[string]string{"202": "queued (or already queued)", "400": "invalid field", "404": "no such capture"},
	}, s.handleRunCreate)
}

func (s *Server) handleRunCreate(w http.ResponseWriter, r *http.Request) {
	var in tasks.PipelineRunPayload
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	if s.KnownPipeline != nil && !s.KnownPipeline(in.Pipeline) {
		s.Error(w, r, offsite.Invalid("pipeline", "%q is not a known pipeline", in.Pipeline))
		return
	}
	if err := in.Check(); err != nil {
		s.Error(w, r, offsite.Invalid("capture_id", "%v", err))
		return
	}
	for _, id := range in.CaptureIDs() {
		if _, err := s.Captures.FindCaptureByID(r.Context(), id); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	t, err := tasks.NewPipelineRunTask(in, tasks.QueueDefault)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	state := "queued"
	if _, err := s.Queue.EnqueueContext(r.Context(), t); errors.Is(err, asynq.ErrTaskIDConflict) {
		state = "already queued or done in the last 24 hours"
	} else if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"task_id": tasks.PipelineRunTaskID(in), "state": state, "run": in})
}
