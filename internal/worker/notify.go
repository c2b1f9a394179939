package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/msgs"
	"github.com/offsite/offsite/internal/tasks"
)

// NotifyStore is what the notification tasks read and record (postgres.NotifyService).
type NotifyStore interface {
	NotifyDeadlines(ctx context.Context, now time.Time) (int, error)
	PendingOutbox(ctx context.Context, limit int) ([]int64, error)
	FindOutbox(ctx context.Context, id int64) (*enforce.Notification, bool, error)
	PlanDeliveries(ctx context.Context, n *enforce.Notification) ([]*enforce.Delivery, error)
	RecordDelivery(ctx context.Context, id int64, cause error, giveUp, permanent bool) error
	MarkDispatched(ctx context.Context, id int64) error
	DeliverInApp(ctx context.Context, n *enforce.Notification) error
	FindWebhookSecret(ctx context.Context, id int64) (*enforce.Webhook, error)
	EndGoneWebhook(ctx context.Context, id int64, answer string) error
	DueRetries(ctx context.Context, now time.Time, limit int) ([]*enforce.Delivery, error)
	FindDueDelivery(ctx context.Context, id int64, now time.Time) (*enforce.Notification, *enforce.Delivery, error)
}

// Mailer sends one plain-text e-mail.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// WebhookPoster posts a signed event to a subscription.
type WebhookPoster interface {
	Post(ctx context.Context, h *enforce.Webhook, n *enforce.Notification) error
}

// errUndeliverable marks a delivery that no retry can make: no mail server configured, a
// subscription ended or naming a host no longer allowed. It is recorded as failed and not
// retried.
var errUndeliverable = errors.New("undeliverable")

// errWebhookGone marks a webhook delivery its receiver answered 410 Gone: the subscription
// is ended (and audited) and the delivery is undeliverable.
var errWebhookGone = errors.New("the receiver is gone")

// NotifySweepHandler writes due and overdue self-check deadlines to the outbox, queues the
// delivery of every outbox row not yet dispatched and the next try of every failed delivery
// due one.
type NotifySweepHandler struct{ *Deps }

// ProcessTask implements asynq.Handler. A sweep that fails (the database is down) is logged and
// not failed: it runs again within seconds from the scheduler, and a failed task of a sweep that
// is never retried (MaxRetry 0) would only pile up in the archive.
func (h *NotifySweepHandler) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	if err := h.sweep(ctx); err != nil {
		if h.Logger != nil {
			h.Logger.WarnContext(ctx, "notification sweep failed; the next one retries", "err", err)
		}
		if ctx.Err() != nil {
			return err // shutting down: asynq puts the task back
		}
	}
	return nil
}

// sweep is one pass of NotifySweepHandler.
func (h *NotifySweepHandler) sweep(ctx context.Context) error {
	if _, err := h.Notify.NotifyDeadlines(ctx, time.Now()); err != nil {
		return err
	}
	ids, err := h.Notify.PendingOutbox(ctx, 1000)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := h.QueueDelivery(ctx, id); err != nil {
			return err
		}
	}
	due, err := h.Notify.DueRetries(ctx, time.Now(), 1000)
	if err != nil {
		return err
	}
	for _, d := range due {
		t, err := tasks.NewNotifyRetryTask(d.ID, d.Attempts)
		if err != nil {
			return err
		}
		if err := h.enqueueOnce(ctx, t); err != nil {
			return fmt.Errorf("queue retry of delivery %d: %w", d.ID, err)
		}
	}
	return nil
}

// QueueDelivery queues the delivery of outbox row id, once: for the outbox listener
// (postgres.ListenOutbox), which hears of each row as it is committed.
func (d *Deps) QueueDelivery(ctx context.Context, id int64) error {
	t, err := tasks.NewNotifyDeliverTask(id)
	if err != nil {
		return err
	}
	if err := d.enqueueOnce(ctx, t); err != nil {
		return fmt.Errorf("queue delivery of outbox %d: %w", id, err)
	}
	return nil
}

// enqueueOnce queues t unless a task of its id is there already.
func (d *Deps) enqueueOnce(ctx context.Context, t *asynq.Task) error {
	if _, err := d.Queue.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
		return err
	}
	return nil
}

// NotifyDeliverHandler delivers one outbox row on every channel it is owed, recording each
// delivery; it fails (and is retried) while one that can succeed has not, and marks the row
// dispatched when none is left. On the task's last try what still fails is marked failed
// (tried again by the sweep, enforce.DeliveryRetryEvery), and a delivery no retry can make is
// marked failed at once.
type NotifyDeliverHandler struct{ *Deps }

// ProcessTask implements asynq.Handler.
func (h *NotifyDeliverHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseNotifyDeliver(t)
	if err != nil {
		return permanent(err)
	}
	n, dispatched, err := h.Notify.FindOutbox(ctx, p.OutboxID)
	if err != nil || dispatched {
		return err
	}
	ds, err := h.Notify.PlanDeliveries(ctx, n)
	if err != nil {
		return err
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	last := ok && retried >= maxRetry
	var failed []string
	for _, d := range ds {
		giveUp, err := h.attempt(ctx, n, d, last)
		if err != nil {
			return err
		}
		if !giveUp {
			failed = append(failed, fmt.Sprintf("%s %s", d.Channel, d.Target))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("outbox %d: %d deliveries failed: %s", n.ID, len(failed), strings.Join(failed, "; "))
	}
	return h.Notify.MarkDispatched(ctx, n.ID)
}

// attempt delivers d of n once and records it; giveUp says whether it is done with (delivered
// or failed) rather than to be retried by the task: when it could not be delivered and last
// is set (the task's last try, or a failed delivery's retry) or no retry can help. A webhook
// whose receiver is gone has its subscription ended. err is an error recording it.
func (h *Deps) attempt(ctx context.Context, n *enforce.Notification, d *enforce.Delivery, last bool) (giveUp bool, err error) {
	derr := h.deliver(ctx, n, d)
	permanent := errors.Is(derr, errUndeliverable) || errors.Is(derr, errWebhookGone)
	if errors.Is(derr, errWebhookGone) {
		id, _ := webhookID(d.Target)
		if err := h.Notify.EndGoneWebhook(ctx, id, derr.Error()); err != nil {
			return false, err
		}
	}
	giveUp = derr == nil || last || permanent
	if err := h.Notify.RecordDelivery(ctx, d.ID, derr, giveUp, permanent); err != nil {
		return false, err
	}
	if derr != nil && giveUp && h.Logger != nil {
		h.Logger.WarnContext(ctx, "notification delivery failed", "outbox_id", n.ID, "delivery_id", d.ID, "channel", d.Channel,
			"target", d.Target, "permanent", permanent, "err", derr)
	}
	return giveUp, nil
}

// NotifyRetryHandler tries a failed delivery once more, when its try is still due (it was not
// delivered or tried since the sweep queued it).
type NotifyRetryHandler struct{ *Deps }

// ProcessTask implements asynq.Handler.
func (h *NotifyRetryHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseNotifyRetry(t)
	if err != nil {
		return permanent(err)
	}
	n, d, err := h.Notify.FindDueDelivery(ctx, p.DeliveryID, time.Now())
	if errors.Is(err, offsite.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = h.attempt(ctx, n, d, true)
	return err
}

func webhookID(target string) (int64, error) {
	return strconv.ParseInt(strings.TrimPrefix(target, "webhook/"), 10, 64)
}

func (h *Deps) deliver(ctx context.Context, n *enforce.Notification, d *enforce.Delivery) error {
	switch d.Channel {
	case enforce.ChannelInApp:
		return h.Notify.DeliverInApp(ctx, n)
	case enforce.ChannelEmail:
		if h.Mailer == nil {
			return fmt.Errorf("no mail server is configured: %w", errUndeliverable)
		}
		return h.Mailer.Send(ctx, d.Target, mailSubject(n), mailBody(n))
	case enforce.ChannelWebhook:
		id, err := webhookID(d.Target)
		if err != nil {
			return fmt.Errorf("target %q: %w", d.Target, errUndeliverable)
		}
		sub, err := h.Notify.FindWebhookSecret(ctx, id)
		if err != nil {
			return err
		}
		if !sub.Active {
			return fmt.Errorf("webhook subscription %d was ended: %w", id, errUndeliverable)
		}
		if h.Webhooks == nil {
			return fmt.Errorf("webhooks are not configured: %w", errUndeliverable)
		}
		return h.Webhooks.Post(ctx, sub, n)
	}
	return fmt.Errorf("channel %q: %w", d.Channel, errUndeliverable)
}

// mailSubject is the subject of the e-mail of n: its title in Chinese, where it has the
// catalog's form, and in English.
func mailSubject(n *enforce.Notification) string {
	if n.TitleMessage != nil {
		return "[Offsite] " + n.TitleMessage.Text(msgs.ZH) + " / " + n.Title
	}
	return "[Offsite] " + n.Title
}

// chinaTime is China Standard Time, of the Chinese part of an e-mail.
var chinaTime = time.FixedZone("CST", 8*3600)

// mailBody is the text of the e-mail of n: in Chinese first where the title has the catalog's
// form (a body a person wrote stays as written), then in English.
func mailBody(n *enforce.Notification) string {
	var b strings.Builder
	if n.TitleMessage != nil {
		b.WriteString(n.TitleMessage.Text(msgs.ZH) + "\n\n")
		switch {
		case n.BodyMessage != nil:
			b.WriteString(n.BodyMessage.Text(msgs.ZH) + "\n\n")
		case n.Body != "":
			b.WriteString(n.Body + "\n\n")
		}
		fmt.Fprintf(&b, "记录：%s\n", n.Subject)
		if n.USCC != "" {
			fmt.Fprintf(&b, "企业：%s\n", n.USCC)
		}
		fmt.Fprintf(&b, "时间：%s（北京时间）\n\n————\n\n", n.At.In(chinaTime).Format("2006-01-02 15:04"))
	}
	b.WriteString(n.Title + "\n\n")
	if n.Body != "" {
		b.WriteString(n.Body + "\n\n")
	}
	fmt.Fprintf(&b, "Event: %s\nRecord: %s\n", n.Event, n.Subject)
	if n.USCC != "" {
		fmt.Fprintf(&b, "Enterprise: %s\n", n.USCC)
	}
	fmt.Fprintf(&b, "At: %s\n\nChoose which events reach you: /ui/ (notifications) or PUT /api/v1/notifications/preferences.\n", n.At.Format(time.RFC3339))
	return b.String()
}
