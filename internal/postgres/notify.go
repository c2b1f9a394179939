package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/msgs"
)

// NotifyService stores the outbox's deliveries, the in-app messages, each user's preferences
// and the webhook subscriptions (issue 16 part 4). The outbox itself is written by the
// transactions of the events (Notify of the enforcement stores, surveys, nightly runs).
type NotifyService struct{ s *EnforceService }

// NewNotifyService returns the notification store of s's database and audit chain.
func NewNotifyService(s *EnforceService) *NotifyService { return &NotifyService{s: s} }

// PendingOutbox returns the ids of the outbox rows not yet dispatched, oldest first.
func (n *NotifyService) PendingOutbox(ctx context.Context, limit int) (_ []int64, err error) {
	defer derrors.Wrap(&err, "PendingOutbox")
	rows, err := n.s.db.Pool.Query(ctx, `SELECT id FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, formatError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, formatError(err)
}

// FindOutbox returns one outbox row.
func (n *NotifyService) FindOutbox(ctx context.Context, id int64) (_ *enforce.Notification, dispatched bool, err error) {
	defer derrors.Wrap(&err, "FindOutbox(%d)", id)
	nt := &enforce.Notification{}
	var at *time.Time
	err = n.s.db.Pool.QueryRow(ctx, `SELECT id, event, subject, uscc, title, body, title_message, body_message, created_at, dispatched_at FROM outbox WHERE id = $1`, id).
		Scan(&nt.ID, &nt.Event, &nt.Subject, &nt.USCC, &nt.Title, &nt.Body, &nt.TitleMessage, &nt.BodyMessage, &nt.At, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, offsite.NotFound("outbox %d", id)
	}
	return nt, at != nil, formatError(err)
}

// PlanDeliveries records the deliveries an outbox event is owed, once: in-app, an e-mail to
// each user whose preferences e-mail it (and whom it reaches: role, enterprise and agency),
// and each active webhook subscribed to it whose agency it reaches (outbox_reaches, migration
// 0070). It returns those not yet delivered.
func (n *NotifyService) PlanDeliveries(ctx context.Context, nt *enforce.Notification) (_ []*enforce.Delivery, err error) {
	defer derrors.Wrap(&err, "PlanDeliveries(%d)", nt.ID)
	var out []*enforce.Delivery
	err = pgx.BeginFunc(ctx, n.s.db.Pool, func(tx pgx.Tx) error {
		targets := [][2]string{{enforce.ChannelInApp, enforce.ChannelInApp}}
		// E-mail goes to the users who chose the event and whose agency it reaches (a
		// token-file account, in no agency, as the first province's: messagesOf); a disabled
		// user gets none.
		rows, err := tx.Query(ctx, `SELECT coalesce(u.role, p.role), coalesce(u.uscc, p.uscc), p.email
			FROM notification_prefs p LEFT JOIN users u ON u.name = p.user_name
			WHERE $1 = ANY(p.email_events) AND p.email <> '' AND NOT coalesce(u.disabled, false)
				AND outbox_reaches(outbox_path($2, $3), coalesce(u.agency_id, CASE WHEN p.role <> 'enterprise' THEN first_province() END))
			ORDER BY p.user_name`, nt.Event, nt.USCC, nt.Subject)
		if err != nil {
			return err
		}
		var role, uscc, email string
		_, err = pgx.ForEachRow(rows, []any{&role, &uscc, &email}, func() error {
			if nt.Event.Reaches(nt.USCC, enforce.Role(role), uscc) {
				targets = append(targets, [2]string{enforce.ChannelEmail, email})
			}
			return nil
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT id FROM webhook_subscriptions
			WHERE active AND $1 = ANY(events) AND outbox_reaches(outbox_path($2, $3), agency_id) ORDER BY id`, nt.Event, nt.USCC, nt.Subject)
		if err != nil {
			return err
		}
		hooks, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, h := range hooks {
			targets = append(targets, [2]string{enforce.ChannelWebhook, fmt.Sprintf("webhook/%d", h)})
		}
		for _, t := range targets {
			if _, err := tx.Exec(ctx, `INSERT INTO notification_deliveries (outbox_id, channel, target) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, nt.ID, t[0], t[1]); err != nil {
				return err
			}
		}
		rows, err = tx.Query(ctx, `SELECT id, channel, target, attempts FROM notification_deliveries
			WHERE outbox_id = $1 AND delivered_at IS NULL AND failed_at IS NULL ORDER BY id`, nt.ID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*enforce.Delivery, error) {
			d := &enforce.Delivery{}
			return d, r.Scan(&d.ID, &d.Channel, &d.Target, &d.Attempts)
		})
		return err
	})
	return out, formatError(err)
}

// RecordDelivery records an attempt of delivery id: delivered when cause is nil. A failed
// attempt with giveUp set marks the delivery failed (when it first failed, kept) and, unless
// permanent (no retry can help), schedules its next try enforce.DeliveryRetryEvery later while
// that is within enforce.DeliveryRetryFor of when it failed.
func (n *NotifyService) RecordDelivery(ctx context.Context, id int64, cause error, giveUp, permanent bool) (err error) {
	defer derrors.Wrap(&err, "RecordDelivery(%d)", id)
	msg := ""
	if cause != nil {
		msg = cause.Error()
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		if msg == "" {
			msg = "failed"
		}
	}
	_, err = n.s.db.Pool.Exec(ctx, `UPDATE notification_deliveries SET attempts = attempts + 1, last_error = $2,
			delivered_at = CASE WHEN $2 = '' THEN now() END,
			failed_at = CASE WHEN $2 = '' THEN failed_at WHEN $3 THEN coalesce(failed_at, now()) END,
			retry_at = CASE WHEN $2 <> '' AND $3 AND NOT $4
				AND now() + make_interval(secs => $5) <= coalesce(failed_at, now()) + make_interval(secs => $6) THEN now() + make_interval(secs => $5) END
		WHERE id = $1 AND delivered_at IS NULL`,
		id, msg, giveUp || permanent, permanent, enforce.DeliveryRetryEvery.Seconds(), enforce.DeliveryRetryFor.Seconds())
	return formatError(err)
}

// DueRetries returns the failed deliveries whose next try is due at now, oldest first.
func (n *NotifyService) DueRetries(ctx context.Context, now time.Time, limit int) (_ []*enforce.Delivery, err error) {
	defer derrors.Wrap(&err, "DueRetries")
	rows, err := n.s.db.Pool.Query(ctx, `SELECT id, channel, target, attempts FROM notification_deliveries
		WHERE delivered_at IS NULL AND retry_at <= $1 ORDER BY retry_at, id LIMIT $2`, now, limit)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*enforce.Delivery, error) {
		d := &enforce.Delivery{}
		return d, r.Scan(&d.ID, &d.Channel, &d.Target, &d.Attempts)
	})
	return out, formatError(err)
}

// FindDueDelivery returns failed delivery id and its event when its next try is due at now;
// ErrNotFound when it is not (delivered, requeued and tried, or not failed).
func (n *NotifyService) FindDueDelivery(ctx context.Context, id int64, now time.Time) (_ *enforce.Notification, _ *enforce.Delivery, err error) {
	defer derrors.Wrap(&err, "FindDueDelivery(%d)", id)
	nt, d := &enforce.Notification{}, &enforce.Delivery{}
	err = n.s.db.Pool.QueryRow(ctx, `SELECT o.id, o.event, o.subject, o.uscc, o.title, o.body, o.title_message, o.body_message, o.created_at,
			d.id, d.channel, d.target, d.attempts
		FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id
		WHERE d.id = $1 AND d.delivered_at IS NULL AND d.retry_at <= $2`, id, now).
		Scan(&nt.ID, &nt.Event, &nt.Subject, &nt.USCC, &nt.Title, &nt.Body, &nt.TitleMessage, &nt.BodyMessage, &nt.At, &d.ID, &d.Channel, &d.Target, &d.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, offsite.NotFound("delivery %d due for a retry", id)
	}
	return nt, d, formatError(err)
}

const failedColumns = `d.id, o.id, o.event, o.subject, o.uscc, o.title, d.channel, d.target, d.attempts, d.last_error, d.failed_at, d.retry_at`

func scanFailed(r pgx.Row) (*enforce.FailedDelivery, error) {
	f := &enforce.FailedDelivery{}
	return f, r.Scan(&f.ID, &f.OutboxID, &f.Event, &f.Subject, &f.USCC, &f.Title, &f.Channel, &f.Target, &f.Attempts, &f.LastError, &f.FailedAt, &f.RetryAt)
}

// FindFailedDeliveries returns the failed deliveries not delivered since of the events that
// reach agency (0: all), newest failure first, and how many there are.
func (n *NotifyService) FindFailedDeliveries(ctx context.Context, agency int64, offset, limit int) (_ []*enforce.FailedDelivery, total int, err error) {
	defer derrors.Wrap(&err, "FindFailedDeliveries")
	rows, err := n.s.db.Pool.Query(ctx, `SELECT `+failedColumns+`, count(*) OVER ()
		FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id
		WHERE d.delivered_at IS NULL AND d.failed_at IS NOT NULL AND outbox_reaches(outbox_path(o.uscc, o.subject), $1)
		ORDER BY d.failed_at DESC, d.id DESC`+pageSQL(offset, limit), agency)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	out := []*enforce.FailedDelivery{}
	for rows.Next() {
		f := &enforce.FailedDelivery{}
		if err := rows.Scan(&f.ID, &f.OutboxID, &f.Event, &f.Subject, &f.USCC, &f.Title, &f.Channel, &f.Target, &f.Attempts, &f.LastError,
			&f.FailedAt, &f.RetryAt, &total); err != nil {
			return nil, 0, err
		}
		out = append(out, f)
	}
	return out, total, formatError(rows.Err())
}

// RequeueDelivery puts failed delivery id back to be tried at once (the worker's sweep queues
// it), starting its retry period again, and audits it.
func (n *NotifyService) RequeueDelivery(ctx context.Context, a enforce.Actor, id int64) (f *enforce.FailedDelivery, err error) {
	defer derrors.Wrap(&err, "RequeueDelivery(%d)", id)
	err = n.s.inTx(ctx, func(tx pgx.Tx) error {
		var delivered, failed bool
		err := tx.QueryRow(ctx, `SELECT delivered_at IS NOT NULL, failed_at IS NOT NULL FROM notification_deliveries WHERE id = $1 FOR UPDATE`, id).Scan(&delivered, &failed)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return offsite.NotFound("notification delivery %d", id)
		case err != nil:
			return err
		case delivered:
			return offsite.Conflict("notification delivery %d was delivered", id)
		case !failed:
			return offsite.Conflict("notification delivery %d has not failed: its retries are still under way", id)
		}
		if _, err := tx.Exec(ctx, `UPDATE notification_deliveries SET failed_at = now(), retry_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		if f, err = scanFailed(tx.QueryRow(ctx, `SELECT `+failedColumns+` FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.id = $1`, id)); err != nil {
			return err
		}
		return n.s.appendAudit(ctx, tx, a, enforce.AuditNotificationRequeue, enforce.DeliverySubject(id),
			map[string]any{"outbox_id": f.OutboxID, "event": f.Event, "channel": f.Channel, "target": f.Target, "attempts": f.Attempts, "last_error": f.LastError})
	})
	return f, formatError(err)
}

// notifyActor is who ends a subscription its receiver says is gone.
var notifyActor = enforce.Actor{Name: "notify", Role: enforce.RoleSystem}

// EndGoneWebhook ends subscription id, whose receiver answered answer (410 Gone), and audits
// it; a subscription already ended is left as it is.
func (n *NotifyService) EndGoneWebhook(ctx context.Context, id int64, answer string) (err error) {
	defer derrors.Wrap(&err, "EndGoneWebhook(%d)", id)
	return formatError(n.s.inTx(ctx, func(tx pgx.Tx) error {
		var url string
		err := tx.QueryRow(ctx, `UPDATE webhook_subscriptions SET active = false WHERE id = $1 AND active RETURNING url`, id).Scan(&url)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return n.s.appendAudit(ctx, tx, notifyActor, enforce.AuditWebhookGone, fmt.Sprintf("webhook/%d", id), map[string]any{"url": url, "answer": answer})
	}))
}

// MarkDispatched records that every delivery of the outbox row is done.
func (n *NotifyService) MarkDispatched(ctx context.Context, id int64) (err error) {
	defer derrors.Wrap(&err, "MarkDispatched(%d)", id)
	_, err = n.s.db.Pool.Exec(ctx, `UPDATE outbox SET dispatched_at = now() WHERE id = $1 AND dispatched_at IS NULL`, id)
	return formatError(err)
}

// DeliverInApp puts the event in the in-app messages of its audience, once.
func (n *NotifyService) DeliverInApp(ctx context.Context, nt *enforce.Notification) (err error) {
	defer derrors.Wrap(&err, "DeliverInApp(%d)", nt.ID)
	_, err = n.s.db.Pool.Exec(ctx, `INSERT INTO notification_messages (outbox_id, event, roles, uscc, subject, title, body, created_at, title_message, body_message)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (outbox_id) DO NOTHING`,
		nt.ID, nt.Event, enforce.Names(nt.Event.Audience()), nt.USCC, nt.Subject, nt.Title, nt.Body, nt.At, nt.TitleMessage, nt.BodyMessage)
	return formatError(err)
}

// NotifyDeadlines writes to the outbox, once each, the self-check requests whose deadline is
// within enforce.SelfCheckDueSoon of now (due soon) or has passed (overdue) without a report.
// It returns how many it wrote.
func (n *NotifyService) NotifyDeadlines(ctx context.Context, now time.Time) (written int, err error) {
	defer derrors.Wrap(&err, "NotifyDeadlines")
	err = pgx.BeginFunc(ctx, n.s.db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO outbox (event, subject, uscc, title, body, dedupe_key, title_message)
			SELECT CASE WHEN d.overdue THEN 'self_check.overdue' ELSE 'self_check.due_soon' END,
				'inspection/' || d.id, d.uscc,
				CASE WHEN d.overdue THEN 'Self-check overdue (inspection ' || d.id || '): the deadline ' || d.cst || ' CST has passed'
					ELSE 'Self-check due soon (inspection ' || d.id || '): report by ' || d.cst || ' CST' END,
				'',
				CASE WHEN d.overdue THEN 'self_check.overdue' ELSE 'self_check.due_soon' END || ':inspection/' || d.id || ':' || d.deadline_text,
				jsonb_build_object('code', CASE WHEN d.overdue THEN $3 ELSE $4 END::text,
					'args', jsonb_build_object('inspection', d.id::text, 'deadline', d.cst))
			FROM (SELECT id, uscc, doc->>'self_check_deadline' AS deadline_text,
					(doc->>'self_check_deadline')::timestamptz <= $1 AS overdue,
					to_char((doc->>'self_check_deadline')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS cst
				FROM inspections WHERE status = 'self_check_requested'
					AND (doc->>'self_check_deadline')::timestamptz <= $1 + make_interval(secs => $2)) d
			ON CONFLICT (dedupe_key) DO NOTHING`, now, enforce.SelfCheckDueSoon.Seconds(), string(msgs.NoteSelfCheckOverdue), string(msgs.NoteSelfCheckDueSoon))
		written = int(tag.RowsAffected())
		return err
	})
	return written, formatError(err)
}

// messagesOf is the condition selecting the in-app messages a user sees, over
// notification_messages m and notification_prefs p (LEFT JOINed on the user): addressed to
// its role, its own enterprise's for an enterprise, for staff of an agency only those whose
// agency it is or lies above (an enterprise's, a survey's queuing account's; an event of no
// agency, the provinces': outbox_reaches), and chosen in its preferences. An account of no
// agency (the fixed token table's) is scoped as the first province's, where the token file's
// accounts are seeded and its administrators' webhooks belong. The one place messages are
// scoped; e-mail and webhooks are scoped alike (PlanDeliveries).
func messagesOf(a enforce.Actor, w *sqlFilter) {
	w.add("$? = ANY(m.roles)", string(a.Role))
	if a.Role == enforce.RoleEnterprise {
		w.add("m.uscc = $?", a.USCC)
	}
	if a.Agency != 0 || a.Role != enforce.RoleEnterprise { // an enterprise's own are its own, whatever the agency
		w.add("outbox_reaches(outbox_path(m.uscc, m.subject), coalesce(nullif($?::bigint, 0), first_province()))", a.Agency)
	}
	w.conds = append(w.conds, "(p.inapp_events IS NULL OR m.event = ANY(p.inapp_events))")
}

// FindMessages returns a's in-app messages, newest first, the number of them and of the
// unread ones.
func (n *NotifyService) FindMessages(ctx context.Context, a enforce.Actor, unreadOnly bool, offset, limit int) (_ []*enforce.Message, total, unread int, err error) {
	defer derrors.Wrap(&err, "FindMessages(%s)", a.Name)
	w := sqlFilter{args: []any{a.Name}}
	messagesOf(a, &w)
	from := ` FROM notification_messages m LEFT JOIN notification_prefs p ON p.user_name = $1
		LEFT JOIN notification_reads r ON r.message_id = m.id AND r.user_name = $1 WHERE ` + w.cond()
	if err := n.s.db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE r.read_at IS NULL)`+from, w.args...).Scan(&total, &unread); err != nil {
		return nil, 0, 0, formatError(err)
	}
	q := `SELECT m.id, m.event, m.subject, m.uscc, m.title, m.body, m.title_message, m.body_message, m.created_at, r.read_at` + from
	if unreadOnly {
		q += " AND r.read_at IS NULL"
	}
	rows, err := n.s.db.Pool.Query(ctx, q+" ORDER BY m.id DESC"+pageSQL(offset, limit), w.args...)
	if err != nil {
		return nil, 0, 0, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*enforce.Message, error) {
		m := &enforce.Message{}
		return m, r.Scan(&m.ID, &m.Event, &m.Subject, &m.USCC, &m.Title, &m.Body, &m.TitleMessage, &m.BodyMessage, &m.At, &m.ReadAt)
	})
	if out == nil {
		out = []*enforce.Message{}
	}
	return out, total, unread, formatError(err)
}

// MarkRead marks a's messages ids read (all of a's messages when ids is nil) and returns how
// many were newly marked. Ids of messages a does not see are ignored.
func (n *NotifyService) MarkRead(ctx context.Context, a enforce.Actor, ids []int64) (marked int, err error) {
	defer derrors.Wrap(&err, "MarkRead(%s)", a.Name)
	w := sqlFilter{args: []any{a.Name}}
	messagesOf(a, &w)
	if ids != nil {
		w.add("m.id = ANY($?)", ids)
	}
	tag, err := n.s.db.Pool.Exec(ctx, `INSERT INTO notification_reads (message_id, user_name)
		SELECT m.id, $1 FROM notification_messages m LEFT JOIN notification_prefs p ON p.user_name = $1 WHERE `+w.cond()+`
		ON CONFLICT DO NOTHING`, w.args...)
	return int(tag.RowsAffected()), formatError(err)
}

// FindPrefs returns a's preferences; the defaults when a has saved none.
func (n *NotifyService) FindPrefs(ctx context.Context, a enforce.Actor) (_ *enforce.NotificationPrefs, err error) {
	defer derrors.Wrap(&err, "FindPrefs(%s)", a.Name)
	p := &enforce.NotificationPrefs{}
	var inapp, email []string
	err = n.s.db.Pool.QueryRow(ctx, `SELECT email, inapp_events, email_events FROM notification_prefs WHERE user_name = $1`, a.Name).Scan(&p.Email, &inapp, &email)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	p.InAppEvents, p.EmailEvents = toEvents(inapp), toEvents(email)
	return p, formatError(err)
}

func toEvents(s []string) []enforce.Event {
	if s == nil {
		return nil
	}
	out := make([]enforce.Event, len(s))
	for i, e := range s {
		out[i] = enforce.Event(e)
	}
	return out
}

// SavePrefs stores a's preferences (validated by the caller), with a's role and enterprise,
// which decide what reaches it. A new e-mail address (set, changed or removed) is audited
// (notification.email, subject notification-prefs/{name}): it is where the events go.
func (n *NotifyService) SavePrefs(ctx context.Context, a enforce.Actor, p *enforce.NotificationPrefs) (err error) {
	defer derrors.Wrap(&err, "SavePrefs(%s)", a.Name)
	var inapp, email []string
	if p.InAppEvents != nil {
		inapp = enforce.Names(p.InAppEvents)
	}
	if p.EmailEvents != nil {
		email = enforce.Names(p.EmailEvents)
	}
	return formatError(n.s.inTx(ctx, func(tx pgx.Tx) error {
		var before string
		err := tx.QueryRow(ctx, `SELECT email FROM notification_prefs WHERE user_name = $1 FOR UPDATE`, a.Name).Scan(&before)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO notification_prefs (user_name, role, uscc, email, inapp_events, email_events)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_name) DO UPDATE SET role = excluded.role, uscc = excluded.uscc,
				email = excluded.email, inapp_events = excluded.inapp_events, email_events = excluded.email_events, updated_at = now()`,
			a.Name, a.Role, a.USCC, p.Email, inapp, email); err != nil {
			return err
		}
		if p.Email == before {
			return nil
		}
		return n.s.appendAudit(ctx, tx, a, enforce.AuditNotificationEmail, "notification-prefs/"+a.Name,
			map[string]any{"email": p.Email, "previous": before})
	}))
}

// CreateWebhook stores a subscription with a new secret (returned in h.Secret) and audits it.
func (n *NotifyService) CreateWebhook(ctx context.Context, a enforce.Actor, h *enforce.Webhook) (err error) {
	defer derrors.Wrap(&err, "CreateWebhook")
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	h.Secret, h.CreatedBy, h.Active = hex.EncodeToString(b[:]), a.Name, true
	return formatError(n.s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO webhook_subscriptions (name, url, events, secret, created_by, agency_id)
			VALUES ($1, $2, $3, $4, $5, coalesce(nullif($6::bigint, 0), first_province()))
			RETURNING id, created_at, agency_id`, h.Name, h.URL, enforce.Names(h.Events), h.Secret, h.CreatedBy, a.Agency).Scan(&h.ID, &h.CreatedAt, &h.AgencyID); err != nil {
			return err
		}
		// The secret stays out of the audit log.
		return n.s.appendAudit(ctx, tx, a, enforce.AuditWebhookSubscribe, fmt.Sprintf("webhook/%d", h.ID), map[string]any{"name": h.Name, "url": h.URL, "events": h.Events, "agency_id": h.AgencyID})
	}))
}

// DeactivateWebhook ends a subscription (kept, with its deliveries) and audits it.
func (n *NotifyService) DeactivateWebhook(ctx context.Context, a enforce.Actor, id int64) (err error) {
	defer derrors.Wrap(&err, "DeactivateWebhook(%d)", id)
	return formatError(n.s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_subscriptions SET active = false WHERE id = $1 AND active`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return offsite.NotFound("active webhook subscription %d", id)
		}
		return n.s.appendAudit(ctx, tx, a, enforce.AuditWebhookUnsubscribe, fmt.Sprintf("webhook/%d", id), nil)
	}))
}

// FindWebhooks returns the subscriptions of agency and of those under it (0: all), without
// their secrets.
func (n *NotifyService) FindWebhooks(ctx context.Context, agency int64) (_ []*enforce.Webhook, err error) {
	defer derrors.Wrap(&err, "FindWebhooks")
	rows, err := n.s.db.Pool.Query(ctx, `SELECT w.id, w.name, w.url, w.events, w.active, w.created_by, w.created_at, w.agency_id
		FROM webhook_subscriptions w JOIN agencies ag ON ag.id = w.agency_id WHERE $1 = 0 OR $1 = ANY(ag.path) ORDER BY w.id`, agency)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*enforce.Webhook, error) {
		h := &enforce.Webhook{}
		var evs []string
		err := r.Scan(&h.ID, &h.Name, &h.URL, &evs, &h.Active, &h.CreatedBy, &h.CreatedAt, &h.AgencyID)
		h.Events = toEvents(evs)
		return h, err
	})
	if out == nil {
		out = []*enforce.Webhook{}
	}
	return out, formatError(err)
}

// FindWebhookSecret returns a subscription with its secret, for delivery.
func (n *NotifyService) FindWebhookSecret(ctx context.Context, id int64) (_ *enforce.Webhook, err error) {
	defer derrors.Wrap(&err, "FindWebhookSecret(%d)", id)
	h := &enforce.Webhook{}
	var evs []string
	err = n.s.db.Pool.QueryRow(ctx, `SELECT id, name, url, events, active, secret FROM webhook_subscriptions WHERE id = $1`, id).
		Scan(&h.ID, &h.Name, &h.URL, &evs, &h.Active, &h.Secret)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, offsite.NotFound("webhook subscription %d", id)
	}
	h.Events = toEvents(evs)
	return h, formatError(err)
}
