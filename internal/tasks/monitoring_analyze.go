package tasks

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hibiken/asynq"
)

// TypeMonitoringAnalyze analyses the monitoring data of one point (MN) up to the end of one
// hour (internal/monitoring rules) and records what it finds.
const TypeMonitoringAnalyze = "monitoring:analyze"

// TypeMonitoringNightly queues the analysis of the previous day for every monitoring point
// and records the exceedances whose time to be reported ran out.
const TypeMonitoringNightly = "monitoring:nightly"

// MonitoringAnalyzePayload is the payload of a TypeMonitoringAnalyze task.
type MonitoringAnalyzePayload struct {
	MN string `json:"mn"`
	// Hour is the start of the last hour analysed; the window runs from the start of the day
	// (CST) before it to the hour's end.
	Hour time.Time `json:"hour"`
	// Nightly marks the nightly run's task (its own id: it runs even when the hour's was run).
	Nightly bool `json:"nightly,omitempty"`
}

var mnRE = regexp.MustCompile(`^[0-9A-Za-z]{1,24}$`)

// Check reports what is wrong with p.
func (p MonitoringAnalyzePayload) Check() error {
	if !mnRE.MatchString(p.MN) {
		return fmt.Errorf("mn %q is not 1 to 24 letters or digits", p.MN)
	}
	if p.Hour.IsZero() || !p.Hour.Equal(p.Hour.Truncate(time.Hour)) {
		return errors.New("hour must be the start of an hour")
	}
	return nil
}

// MonitoringAnalyzeTaskID is the deterministic id of the analysis of mn's hour.
func MonitoringAnalyzeTaskID(p MonitoringAnalyzePayload) string {
	kind := "hour"
	if p.Nightly {
		kind = "nightly"
	}
	return fmt.Sprintf("monitoring:analyze:%s:%s:%d", kind, p.MN, p.Hour.Unix())
}

// MonitoringAnalyzeDelay is how long after an hour's end its analysis runs, for the hour's
// last minute values and its hour upload (CN 2061, sent after the hour) to arrive.
const MonitoringAnalyzeDelay = 5 * time.Minute

// NewMonitoringAnalyzeTask returns the analysis of the hour of mn that dataTime falls in, to
// run MonitoringAnalyzeDelay after the hour's end (at once when that is past). The HJ 212
// receiver enqueues it for each data upload it has made durable: the task id is
// deterministic, so the uploads of one hour queue one task (asynq.ErrTaskIDConflict for the
// others, which is no error); it is retained an hour, after which a late upload queues the
// hour's analysis again.
func NewMonitoringAnalyzeTask(mn string, dataTime time.Time) (*asynq.Task, error) {
	p := MonitoringAnalyzePayload{MN: mn, Hour: dataTime.Truncate(time.Hour)}
	return newMonitoringAnalyzeTask(p, QueueDefault, p.Hour.Add(time.Hour+MonitoringAnalyzeDelay))
}

// NewMonitoringNightlyAnalyzeTask returns the nightly run's analysis of mn's day (CST) that
// ends at dayEnd, on the nightly queue.
func NewMonitoringNightlyAnalyzeTask(mn string, dayEnd time.Time) (*asynq.Task, error) {
	p := MonitoringAnalyzePayload{MN: mn, Hour: dayEnd.Add(-time.Hour).Truncate(time.Hour), Nightly: true}
	return newMonitoringAnalyzeTask(p, QueueNightly, time.Time{})
}

func newMonitoringAnalyzeTask(p MonitoringAnalyzePayload, queue string, at time.Time) (*asynq.Task, error) {
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("tasks: %s: %w", TypeMonitoringAnalyze, err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	opts := []asynq.Option{asynq.TaskID(MonitoringAnalyzeTaskID(p)), asynq.Queue(queue), asynq.MaxRetry(8), asynq.Retention(time.Hour)}
	if !at.IsZero() && at.After(time.Now()) {
		opts = append(opts, asynq.ProcessAt(at))
	}
	return asynq.NewTask(TypeMonitoringAnalyze, b, opts...), nil
}

// ParseMonitoringAnalyze decodes and checks a TypeMonitoringAnalyze payload.
func ParseMonitoringAnalyze(t *asynq.Task) (MonitoringAnalyzePayload, error) {
	var p MonitoringAnalyzePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("tasks: %s payload: %w", t.Type(), err)
	}
	if err := p.Check(); err != nil {
		return p, fmt.Errorf("tasks: %s payload: %w", t.Type(), err)
	}
	return p, nil
}

// NewMonitoringNightlyTask returns the nightly monitoring task.
func NewMonitoringNightlyTask() *asynq.Task {
	return asynq.NewTask(TypeMonitoringNightly, nil, asynq.Queue(QueueNightly), asynq.MaxRetry(3))
}
