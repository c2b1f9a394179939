// Package tasks defines the asynq task types, payloads and queues shared by cmd/api and
// cmd/worker.
package tasks

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Queues and their priorities (asynq weighted priority: a queue with weight 6 is served
// six times as often as one with weight 1 when both have work).
const (
	QueueCritical = "critical" // interactive work an analyst is waiting for
	QueueDefault  = "default"  // captures registered through the API
	QueueNightly  = "nightly"  // the nightly schedule's bulk work
)

// Queues maps each queue to its weight, for asynq.Config.Queues.
var Queues = map[string]int{
	QueueCritical: 6,
	QueueDefault:  3,
	QueueNightly:  1,
}

// Task types.
const (
	// TypeCaptureClip clips one capture to every parcel it intersects.
	TypeCaptureClip = "capture:clip"
	// TypeNightlySweep registers the captures dropped into the bucket and queues a clip task,
	// with the pipeline of its kind, for each capture still waiting to be processed.
	TypeNightlySweep = "nightly:sweep"
)

// CaptureClipPayload is the payload of a TypeCaptureClip task.
type CaptureClipPayload struct {
	CaptureID int64 `json:"capture_id"`
	// Pipeline, when set, is run on the capture once it is clipped (the nightly schedule's
	// tasks), paired with the nearest earlier capture when the pipeline detects change.
	Pipeline string `json:"pipeline,omitempty"`
}

// CaptureClipTaskID is the deterministic id of the clip task of a capture: enqueueing the
// same capture again while its task is pending or retained is refused by asynq.
func CaptureClipTaskID(captureID int64) string { return fmt.Sprintf("capture:clip:%d", captureID) }

// NewCaptureClipTask returns the task that clips capture id. Completed tasks are retained for
// a day so a duplicate enqueue in that time is refused instead of run again (and a run again
// after that changes nothing recorded: clips are keyed by capture and parcel).
func NewCaptureClipTask(captureID int64, queue string) (*asynq.Task, error) {
	return NewCaptureRunTask(captureID, queue, "")
}

// NewCaptureRunTask is NewCaptureClipTask that also runs pipeline on the capture once it is
// clipped (no pipeline when empty). It has the clip task's id: a capture is processed once,
// whoever queues it.
func NewCaptureRunTask(captureID int64, queue, pipeline string) (*asynq.Task, error) {
	b, err := json.Marshal(CaptureClipPayload{CaptureID: captureID, Pipeline: pipeline})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeCaptureClip, b,
		asynq.TaskID(CaptureClipTaskID(captureID)),
		asynq.Queue(queue),
		asynq.MaxRetry(8),
		asynq.Retention(24*time.Hour),
	), nil
}

// ParseCaptureClip decodes a TypeCaptureClip payload.
func ParseCaptureClip(t *asynq.Task) (CaptureClipPayload, error) {
	var p CaptureClipPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("tasks: %s payload: %w", t.Type(), err)
	}
	if p.CaptureID <= 0 {
		return p, fmt.Errorf("tasks: %s payload: capture_id must be positive, got %d", t.Type(), p.CaptureID)
	}
	return p, nil
}

// NewNightlySweepTask returns the nightly sweep task.
func NewNightlySweepTask() *asynq.Task {
	return asynq.NewTask(TypeNightlySweep, nil, asynq.Queue(QueueNightly), asynq.MaxRetry(3))
}

// TypeAuditCheckpoint writes the signed head of the audit chain to the evidence bucket.
const TypeAuditCheckpoint = "audit:checkpoint"

// NewAuditCheckpointTask returns the nightly audit checkpoint task.
func NewAuditCheckpointTask() *asynq.Task {
	return asynq.NewTask(TypeAuditCheckpoint, nil, asynq.Queue(QueueNightly), asynq.MaxRetry(3))
}

// TypeSurveyPart processes one capture of a survey, or one batch of its parcels.
const TypeSurveyPart = "survey:part"

// SurveyPartPayload is the payload of a TypeSurveyPart task.
type SurveyPartPayload struct {
	SurveyID  int64 `json:"survey_id"`
	CaptureID int64 `json:"capture_id"`
	Batch     int   `json:"batch,omitempty"`
}

// SurveyPartTaskID is the deterministic id of a survey part's task.
func SurveyPartTaskID(surveyID, captureID int64, batch int) string {
	return fmt.Sprintf("survey:%d:capture:%d:batch:%d", surveyID, captureID, batch)
}

// NewSurveyPartTask returns the task of one survey part, on the critical queue: an analyst is
// watching the survey.
func NewSurveyPartTask(surveyID, captureID int64, batch int) (*asynq.Task, error) {
	b, err := json.Marshal(SurveyPartPayload{SurveyID: surveyID, CaptureID: captureID, Batch: batch})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeSurveyPart, b,
		asynq.TaskID(SurveyPartTaskID(surveyID, captureID, batch)),
		asynq.Queue(QueueCritical),
		asynq.MaxRetry(8),
		asynq.Retention(24*time.Hour),
	), nil
}

// ParseSurveyPart decodes a TypeSurveyPart payload.
func ParseSurveyPart(t *asynq.Task) (SurveyPartPayload, error) {
	var p SurveyPartPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("tasks: %s payload: %w", t.Type(), err)
	}
	if p.SurveyID <= 0 || p.CaptureID <= 0 || p.Batch < 0 {
		return p, fmt.Errorf("tasks: %s payload: survey_id and capture_id must be positive and batch not negative, got %d, %d and %d", t.Type(), p.SurveyID, p.CaptureID, p.Batch)
	}
	return p, nil
}

// TypePipelineRun runs a pipeline's detectors on one capture or a pair.
const TypePipelineRun = "pipeline:run"

// PipelineRunPayload is the payload of a TypePipelineRun task: either CaptureID (one date)
// or BeforeID and AfterID (a pair).
type PipelineRunPayload struct {
	Pipeline  string `json:"pipeline"`
	CaptureID int64  `json:"capture_id,omitempty"`
	BeforeID  int64  `json:"before_id,omitempty"`
	AfterID   int64  `json:"after_id,omitempty"`
}

// CaptureIDs are the captures of the run, earlier first.
func (p PipelineRunPayload) CaptureIDs() []int64 {
	if p.CaptureID != 0 {
		return []int64{p.CaptureID}
	}
	return []int64{p.BeforeID, p.AfterID}
}

// Check reports what is wrong with p.
func (p PipelineRunPayload) Check() error {
	switch {
	case p.Pipeline == "":
		return errors.New("pipeline is empty")
	case p.CaptureID > 0 && p.BeforeID == 0 && p.AfterID == 0:
		return nil
	case p.CaptureID == 0 && p.BeforeID > 0 && p.AfterID > 0 && p.BeforeID != p.AfterID:
		return nil
	}
	return fmt.Errorf("give capture_id, or before_id and after_id of two different captures (got %d, %d, %d)", p.CaptureID, p.BeforeID, p.AfterID)
}

// PipelineRunTaskID is the deterministic id of a pipeline run.
func PipelineRunTaskID(p PipelineRunPayload) string {
	return fmt.Sprintf("pipeline:%s:%d:%d:%d", p.Pipeline, p.CaptureID, p.BeforeID, p.AfterID)
}

// NewPipelineRunTask returns the task of a pipeline run.
func NewPipelineRunTask(p PipelineRunPayload, queue string) (*asynq.Task, error) {
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("tasks: %s: %w", TypePipelineRun, err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypePipelineRun, b, asynq.TaskID(PipelineRunTaskID(p)), asynq.Queue(queue),
		asynq.MaxRetry(8), asynq.Retention(24*time.Hour)), nil
}

// ParsePipelineRun decodes and checks a TypePipelineRun payload.
func ParsePipelineRun(t *asynq.Task) (PipelineRunPayload, error) {
	var p PipelineRunPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("tasks: %s payload: %w", t.Type(), err)
	}
	if err := p.Check(); err != nil {
		return p, fmt.Errorf("tasks: %s payload: %w", t.Type(), err)
	}
	return p, nil
}
