package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Notification tasks (issue 16 part 4).
const (
	// TypeNotifySweep writes the self-check deadlines coming due or passed to the outbox and
	// queues a TypeNotifyDeliver task for each outbox row not yet dispatched.
	TypeNotifySweep = "notify:sweep"
	// TypeNotifyDeliver delivers one outbox row: in-app, e-mail, webhooks. Each delivery is
	// recorded; a retry tries only those not yet delivered.
	TypeNotifyDeliver = "notify:deliver"
	// TypeNotifyRetry tries a failed delivery again (every enforce.DeliveryRetryEvery for
	// enforce.DeliveryRetryFor, or at once when an administrator requeues it). It is not
	// retried itself: the sweep queues the next try.
	TypeNotifyRetry = "notify:retry"
)

// NotifyRetryPayload is the payload of a TypeNotifyRetry task.
type NotifyRetryPayload struct {
	DeliveryID int64 `json:"delivery_id"`
}

// NewNotifyRetryTask returns the task of one more try of failed delivery id after attempts
// attempts: its id is that of the try, so that a sweep queues each try once.
func NewNotifyRetryTask(id int64, attempts int) (*asynq.Task, error) {
	b, err := json.Marshal(NotifyRetryPayload{DeliveryID: id})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeNotifyRetry, b,
		asynq.TaskID(fmt.Sprintf("notify:retry:%d:%d", id, attempts)),
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(0),
		asynq.Timeout(2*time.Minute),
	), nil
}

// ParseNotifyRetry decodes a TypeNotifyRetry payload.
func ParseNotifyRetry(t *asynq.Task) (NotifyRetryPayload, error) {
	var p NotifyRetryPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("tasks: %s payload: %w", t.Type(), err)
	}
	if p.DeliveryID <= 0 {
		return p, fmt.Errorf("tasks: %s payload: delivery_id must be positive, got %d", t.Type(), p.DeliveryID)
	}
	return p, nil
}

// NotifyDeliverPayload is the payload of a TypeNotifyDeliver task.
type NotifyDeliverPayload struct {
	OutboxID int64 `json:"outbox_id"`
}

// NotifyDeliverTaskID is the deterministic id of the delivery task of an outbox row: a sweep
// queues it once while it is pending, retried or retained.
func NotifyDeliverTaskID(id int64) string { return fmt.Sprintf("notify:deliver:%d", id) }

// NewNotifySweepTask returns the sweep task, run every few seconds by the scheduler.
func NewNotifySweepTask() *asynq.Task {
	return asynq.NewTask(TypeNotifySweep, nil, asynq.Queue(QueueDefault), asynq.MaxRetry(0), asynq.Timeout(time.Minute))
}

// NewNotifyDeliverTask returns the delivery task of outbox row id; it is retried (with
// asynq's backoff) while a delivery fails, and its last try marks what still fails failed.
func NewNotifyDeliverTask(id int64) (*asynq.Task, error) {
	b, err := json.Marshal(NotifyDeliverPayload{OutboxID: id})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeNotifyDeliver, b,
		asynq.TaskID(NotifyDeliverTaskID(id)),
		asynq.Queue(QueueDefault),
		asynq.MaxRetry(12),
		asynq.Timeout(2*time.Minute),
		asynq.Retention(24*time.Hour),
	), nil
}

// ParseNotifyDeliver decodes a TypeNotifyDeliver payload.
func ParseNotifyDeliver(t *asynq.Task) (NotifyDeliverPayload, error) {
	var p NotifyDeliverPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("tasks: %s payload: %w", t.Type(), err)
	}
	if p.OutboxID <= 0 {
		return p, fmt.Errorf("tasks: %s payload: outbox_id must be positive, got %d", t.Type(), p.OutboxID)
	}
	return p, nil
}
