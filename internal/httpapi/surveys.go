package httpapi

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/tasks"
)

// DefaultSurveyBatchSize is the batch size of surveys when Server.SurveyBatchSize is zero.
// On bench-survey's pair (3000x3000 pixels, 500 parcels) batches of 200 cost 14% more work
// than one batch (10.8 s against 9.5 s) and the longest takes 4.0 s; batches of 100 and 50
// cost 36% and 87% more, each paying the context margin around its window again, for
// batches hardly shorter (3.5 s, 3.8 s).
const DefaultSurveyBatchSize = 200

// maxBatchSize bounds a survey's batch size.
const maxBatchSize = 100000

func (s *Server) registerSurveyRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/surveys", operation{
		Response: surveyJSON(&offsite.Survey{}),
		Summary:  "Queue a survey: process the captures of some kinds that cover a zone in a time window",
		Description: "Planning finds the captures whose footprint intersects the zone and whose acquisition time is in [start, end), " +
			"and queues one task per batch of at most batch_size nearby parcels of the zone under each (only the zone's parcels: those of a capture whose footprint is not known yet are narrowed once it is; a capture with none of them under it is one task with no parcels); the survey's progress counts them. Status follows openEO: created, queued, running, canceled, finished, error.",
		Roles: rolesWrite,
		Body: bodyOf(surveyRequest{}, map[string]map[string]any{
			"zone":  {"type": "object"},
			"kinds": {"items": map[string]any{"type": "string", "enum": offsite.CaptureKinds}}}),
		Responses: map[string]string{"201": "survey planned and queued", "400": "invalid field"},
	}, s.handleSurveyCreate)
	s.handle(mux, "GET", "/api/v1/surveys", operation{
		Summary:   "Surveys, newest first, with status, timestamps and progress",
		Response:  listOf("surveys", arrayOf(surveyJSON(&offsite.Survey{}))),
		Roles:     rolesRead,
		Query:     map[string]string{"status": "created, queued, running, canceled, finished or error", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "surveys", "400": "bad query parameter"},
	}, s.handleSurveyList)
	s.handle(mux, "GET", "/api/v1/surveys/{id}", operation{
		Summary:   "A survey with its status, timestamps and progress (total, queued, running, done, failed, clips)",
		Response:  surveyJSON(&offsite.Survey{}),
		Roles:     rolesRead,
		Responses: map[string]string{"200": "survey", "400": "bad id", "404": "no such survey"},
	}, s.handleSurveyGet)
	s.handle(mux, "GET", "/api/v1/surveys/{id}/parts", operation{
		Summary:   "The parts of a survey (one per capture) with their status and errors",
		Response:  objectOf(map[string]any{"survey_id": int64(0), "parts": []*offsite.SurveyPart{}}),
		Roles:     rolesRead,
		Responses: map[string]string{"200": "parts", "400": "bad id", "404": "no such survey"},
	}, s.handleSurveyParts)
	s.handle(mux, "POST", "/api/v1/surveys/{id}/cancel", operation{
		Response:  surveyJSON(&offsite.Survey{}),
		Summary:   "Cancel a queued or running survey: queued parts are dropped, running ones finish",
		Roles:     rolesWrite,
		Responses: map[string]string{"200": "canceled", "404": "no such survey", "409": "the survey has ended"},
	}, s.handleSurveyCancel)
	s.handle(mux, "POST", "/api/v1/surveys/{id}/retry", operation{
		Response:  surveyJSON(&offsite.Survey{}),
		Summary:   "Queue the failed parts of a survey again",
		Roles:     rolesWrite,
		Responses: map[string]string{"200": "requeued", "404": "no such survey", "409": "nothing failed, or canceled"},
	}, s.handleSurveyRetry)
}

type surveyRequest struct {
	Name     string          `json:"name"`
	Zone     json.RawMessage `json:"zone" doc:"GeoJSON Polygon or MultiPolygon in WGS84; or give zone_id or zone_name (exactly one of the three)"`
	ZoneID   int64           `json:"zone_id" doc:"a named zone (/api/v1/zones) by id"`
	ZoneName string          `json:"zone_name" doc:"a named zone by name"`
	GCJ02    bool            `json:"gcj02" doc:"the zone was drawn on a GCJ-02 web map"`
	Start    string          `json:"start" openapi:"required" doc:"RFC 3339 time: the window is [start, end)"`
	End      string          `json:"end" openapi:"required" doc:"RFC 3339 time"`
	Kinds    []string        `json:"kinds" openapi:"required"`
	Pipeline string          `json:"pipeline" openapi:"required" doc:"pipeline name, e.g. sentinel2"`
	// BatchSize overrides the server's SurveyBatchSize for this survey.
	BatchSize *int `json:"batch_size" doc:"the most parcels of one capture a survey part runs; default the server's"`
}

func (in surveyRequest) survey(known func(string) bool) (*offsite.Survey, error) {
	sv := &offsite.Survey{Name: in.Name, Kinds: in.Kinds, Pipeline: in.Pipeline}
	if len(in.Name) > maxZoneName {
		return nil, offsite.Invalid("name", "is longer than %d characters", maxZoneName)
	}
	// The zone is given once: inline, or a named zone by id or name (resolveZone).
	inline := len(in.Zone) > 0 && string(in.Zone) != "null"
	given := 0
	for _, ok := range []bool{inline, in.ZoneID != 0, in.ZoneName != ""} {
		if ok {
			given++
		}
	}
	var err error
	switch {
	case given == 0:
		return nil, offsite.Required("zone", "is required: a GeoJSON Polygon or MultiPolygon, or give zone_id or zone_name")
	case given > 1:
		return nil, offsite.Invalid("zone", "give one of zone, zone_id and zone_name, not several")
	case in.ZoneID < 0:
		return nil, offsite.Invalid("zone_id", "must be a positive integer, got %d", in.ZoneID)
	case in.ZoneID > 0:
		sv.ZoneID = &in.ZoneID
	case inline:
		if sv.Zone, err = parseArea("zone", in.Zone, in.GCJ02); err != nil {
			return nil, err
		}
	}
	if sv.WindowStart, err = time.Parse(time.RFC3339, in.Start); err != nil {
		return nil, offsite.Invalid("start", "must be an RFC 3339 time, got %q", in.Start)
	}
	if sv.WindowEnd, err = time.Parse(time.RFC3339, in.End); err != nil {
		return nil, offsite.Invalid("end", "must be an RFC 3339 time, got %q", in.End)
	}
	if !sv.WindowEnd.After(sv.WindowStart) {
		return nil, offsite.Invalid("end", "must be after start")
	}
	if len(in.Kinds) == 0 {
		return nil, offsite.Invalid("kinds", "is empty; give at least one of %s", strings.Join(offsite.CaptureKinds, ", "))
	}
	for i, k := range in.Kinds {
		if !offsite.ValidCaptureKind(k) {
			return nil, offsite.Invalid("kinds["+strconv.Itoa(i)+"]", "%q is not one of %s", k, strings.Join(offsite.CaptureKinds, ", "))
		}
	}
	if in.Pipeline == "" {
		return nil, offsite.Required("pipeline", "is required")
	}
	if in.BatchSize != nil {
		if *in.BatchSize < 1 || *in.BatchSize > maxBatchSize {
			return nil, offsite.Invalid("batch_size", "must be in 1..%d, got %d", maxBatchSize, *in.BatchSize)
		}
		sv.BatchSize = *in.BatchSize
	}
	if known != nil && !known(in.Pipeline) {
		return nil, offsite.Invalid("pipeline", "%q is not a known pipeline", in.Pipeline)
	}
	return sv, nil
}

func (s *Server) handleSurveyCreate(w http.ResponseWriter, r *http.Request) {
	var in surveyRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	sv, err := in.survey(s.KnownPipeline)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	sv.CreatedBy = PrincipalFromContext(r.Context()).Name
	if sv.BatchSize == 0 {
		sv.BatchSize = cmp.Or(s.SurveyBatchSize, DefaultSurveyBatchSize)
	}
	if err := s.resolveZone(r, sv, in.ZoneName); err != nil {
		s.Error(w, r, err)
		return
	}
	parts, err := s.Surveys.CreateSurvey(r.Context(), sv)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// The survey and its parts are stored; a part whose enqueue fails here is queued again
	// by POST /api/v1/surveys/{id}/retry once it is marked failed.
	for _, p := range parts {
		if err := s.enqueuePart(r, p); err != nil {
			s.Logger.ErrorContext(r.Context(), "enqueue survey part", "survey_id", p.SurveyID, "capture_id", p.CaptureID, "batch", p.Batch, "err", err)
			_ = s.Surveys.EndPart(r.Context(), p.SurveyID, p.CaptureID, p.Batch, 0, 0, "could not be queued: "+err.Error())
		}
	}
	if sv, err = s.Surveys.FindSurveyByID(r.Context(), sv.ID); err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/surveys/"+strconv.FormatInt(sv.ID, 10))
	writeJSON(w, http.StatusCreated, surveyJSON(sv))
}

// resolveZone sets the geometry of a survey planned on a named zone (by sv.ZoneID or name).
func (s *Server) resolveZone(r *http.Request, sv *offsite.Survey, name string) error {
	if sv.ZoneID == nil && name == "" {
		return nil
	}
	if err := s.zonesConfigured(); err != nil {
		return err
	}
	var z *offsite.Zone
	var err error
	field := "zone_name"
	if sv.ZoneID != nil {
		field = "zone_id"
		z, err = s.Zones.FindZoneByID(r.Context(), *sv.ZoneID)
	} else {
		z, err = s.Zones.FindZoneByName(r.Context(), name)
	}
	if errors.Is(err, offsite.ErrNotFound) {
		// The request is wrong, not the URL: name the field.
		return offsite.Invalid(field, "no such zone")
	} else if err != nil {
		return err
	}
	sv.Zone, sv.ZoneID = z.Geometry, &z.ID
	return nil
}

func (s *Server) enqueuePart(r *http.Request, p *offsite.SurveyPart) error {
	t, err := tasks.NewSurveyPartTask(p.SurveyID, p.CaptureID, p.Batch)
	if err != nil {
		return err
	}
	if _, err := s.Queue.EnqueueContext(r.Context(), t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	return nil
}

func surveyJSON(sv *offsite.Survey) any {
	type alias offsite.Survey
	return struct {
		*alias
		Zone *geojson.Geometry `json:"zone"`
	}{(*alias)(sv), geojson.NewGeometry(sv.Zone)}
}

func (s *Server) findSurvey(r *http.Request) (*offsite.Survey, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.Surveys.FindSurveyByID(r.Context(), id)
}

// surveyStatuses are the values of a survey's status, in lifecycle order.
var surveyStatuses = []string{offsite.SurveyCreated, offsite.SurveyQueued, offsite.SurveyRunning,
	offsite.SurveyCanceled, offsite.SurveyFinished, offsite.SurveyError}

func (s *Server) handleSurveyList(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	status := r.URL.Query().Get("status")
	if status != "" && !slices.Contains(surveyStatuses, status) {
		s.Error(w, r, offsite.Invalid("status", "must be one of %s, got %q", strings.Join(surveyStatuses, ", "), status))
		return
	}
	svs, total, err := s.Surveys.FindSurveys(r.Context(), status, offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := make([]any, len(svs))
	for i, sv := range svs {
		out[i] = surveyJSON(sv)
	}
	writeJSON(w, http.StatusOK, map[string]any{"surveys": out, "total": total, "offset": offset, "limit": limit})
}

func (s *Server) handleSurveyGet(w http.ResponseWriter, r *http.Request) {
	sv, err := s.findSurvey(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, surveyJSON(sv))
}

func (s *Server) handleSurveyParts(w http.ResponseWriter, r *http.Request) {
	sv, err := s.findSurvey(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	parts, err := s.Surveys.FindSurveyParts(r.Context(), sv.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"survey_id": sv.ID, "parts": parts})
}

func (s *Server) handleSurveyCancel(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	parts, err := s.Surveys.CancelSurvey(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// Drop the queued tasks; a task already taken finds the survey canceled and does nothing.
	for _, p := range parts {
		if s.Inspector == nil {
			break
		}
		err := s.Inspector.DeleteTask(tasks.QueueCritical, tasks.SurveyPartTaskID(p.SurveyID, p.CaptureID, p.Batch))
		if err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			s.Logger.WarnContext(r.Context(), "delete canceled survey task", "survey_id", id, "capture_id", p.CaptureID, "err", err)
		}
	}
	s.handleSurveyGet(w, r)
}

func (s *Server) handleSurveyRetry(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	parts, err := s.Surveys.RetrySurvey(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	for _, p := range parts {
		// The failed attempt's task is archived or retained under the same id: remove it first.
		if s.Inspector != nil {
			_ = s.Inspector.DeleteTask(tasks.QueueCritical, tasks.SurveyPartTaskID(p.SurveyID, p.CaptureID, p.Batch))
		}
		if err := s.enqueuePart(r, p); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	s.handleSurveyGet(w, r)
}
