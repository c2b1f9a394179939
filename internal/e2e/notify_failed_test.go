package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/internal/enforce"
)

// flakyReceiver answers each path with the status set for it (200 when none) and counts the
// calls per path.
type flakyReceiver struct {
	mu     sync.Mutex
	status map[string]int
	calls  map[string]int
}

func (f *flakyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[r.URL.Path]++
	if code := f.status[r.URL.Path]; code != 0 {
		http.Error(w, http.StatusText(code), code)
	}
}

func (f *flakyReceiver) set(path string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[path] = code
}

func (f *flakyReceiver) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

// delivery is a webhook delivery's state as stored; zero before it is planned.
type delivery struct {
	ID                int64
	Attempts          int
	Delivered, Failed bool
	RetryIn           *time.Duration // from now to retry_at
}

func webhookDelivery(t *testing.T, e *notifyEnv, hook int64) delivery {
	t.Helper()
	var d delivery
	var retry *float64
	err := e.db.Pool.QueryRow(context.Background(), `SELECT id, attempts, delivered_at IS NOT NULL, failed_at IS NOT NULL,
		extract(epoch FROM retry_at - now())::float8 FROM notification_deliveries WHERE target = $1`, fmt.Sprintf("webhook/%d", hook)).
		Scan(&d.ID, &d.Attempts, &d.Delivered, &d.Failed, &retry)
	if errors.Is(err, pgx.ErrNoRows) {
		return d // not planned yet
	}
	if err != nil {
		t.Fatal(err)
	}
	if retry != nil {
		in := time.Duration(*retry * float64(time.Second))
		d.RetryIn = &in
	}
	return d
}

func subscribe(t *testing.T, e *notifyEnv, path string) int64 {
	t.Helper()
	var h enforce.Webhook
	e.call(t, adminTok, "POST", "/api/v1/webhooks", map[string]any{"name": path, "url": e.hooks.URL + path, "events": []string{"warning.new"}}, &h)
	return h.ID
}

// TestFailedDeliveries: a webhook that keeps failing is tried by the delivery task and its
// 12 retries, then marked failed, shown to the administrator (inbox and list) and tried again
// every 6 hours until 8 days after it failed; a receiver answering 410 Gone is tried once,
// and its subscription ended and audited.
func TestFailedDeliveries(t *testing.T) {
	ctx := context.Background()
	recv := &flakyReceiver{status: map[string]int{"/down": 503, "/gone": 410}, calls: map[string]int{}}
	e := startNotifyEnv(t, recv)
	down, gone := subscribe(t, e, "/down"), subscribe(t, e, "/gone")
	e.openWarning(t)

	dispatched := func() bool {
		var pending int
		if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE dispatched_at IS NULL`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		return pending == 0
	}
	if !e.sweepUntil(t, dispatched) {
		t.Fatalf("the warning's outbox row is not dispatched after 60 s: %+v", webhookDelivery(t, e, down))
	}
	d := webhookDelivery(t, e, down)
	if d.Attempts != 13 || d.Delivered || !d.Failed || recv.count("/down") != 13 {
		t.Errorf("the failing webhook: %+v after %d calls, want failed after the first try and 12 retries", d, recv.count("/down"))
	}
	if d.RetryIn == nil || *d.RetryIn < enforce.DeliveryRetryEvery-time.Minute || *d.RetryIn > enforce.DeliveryRetryEvery {
		t.Errorf("next try of the failed delivery in %v, want %v", d.RetryIn, enforce.DeliveryRetryEvery)
	}
	g := webhookDelivery(t, e, gone)
	if g.Attempts != 1 || !g.Failed || g.RetryIn != nil || recv.count("/gone") != 1 {
		t.Errorf("the gone webhook: %+v after %d calls, want failed once and never retried", g, recv.count("/gone"))
	}
	var hooks struct{ Webhooks []enforce.Webhook }
	e.call(t, adminTok, "GET", "/api/v1/webhooks", nil, &hooks)
	for _, h := range hooks.Webhooks {
		if h.Active != (h.ID == down) {
			t.Errorf("webhook %d (%s) active %v", h.ID, h.Name, h.Active)
		}
	}
	var audit struct {
		Entries []struct{ Action, Actor string } `json:"entries"`
	}
	e.call(t, adminTok, "GET", fmt.Sprintf("/api/v1/audit?subject=webhook/%d", gone), nil, &audit)
	if n := len(audit.Entries); n != 2 || audit.Entries[0].Action != "webhook.gone" && audit.Entries[1].Action != "webhook.gone" {
		t.Errorf("audit of the gone webhook: %+v", audit.Entries)
	}

	// The administrator sees both, in the inbox and the list; the officer does not.
	var box struct {
		Items []enforce.InboxItem `json:"items"`
	}
	e.call(t, adminTok, "GET", "/api/v1/inbox", nil, &box)
	failedItems := 0
	for _, it := range box.Items {
		if it.Kind == enforce.InboxDeliveryFailed {
			failedItems++
			if it.USCC != notifyUSCC || it.Name == "" || !strings.Contains(it.Note, "warning.new") {
				t.Errorf("inbox item %+v", it)
			}
		}
	}
	var list struct {
		Deliveries []enforce.FailedDelivery `json:"deliveries"`
		Total      int                      `json:"total"`
	}
	e.call(t, adminTok, "GET", "/api/v1/notification-deliveries/failed", nil, &list)
	if failedItems != 2 || list.Total != 2 || len(list.Deliveries) != 2 {
		t.Errorf("failed deliveries: %d inbox items, listed %+v", failedItems, list)
	}
	if code := e.do(t, inspectorTok, "GET", "/api/v1/notification-deliveries/failed", nil, nil); code != 403 {
		t.Errorf("the officer lists failed deliveries: %d", code)
	}

	// A due retry is tried once by the sweep and scheduled 6 hours on.
	retryNow := func(failedAgo time.Duration) {
		if _, err := e.db.Pool.Exec(ctx, `UPDATE notification_deliveries SET retry_at = now() - interval '1 second',
			failed_at = now() - make_interval(secs => $2) WHERE id = $1`, d.ID, failedAgo.Seconds()); err != nil {
			t.Fatal(err)
		}
	}
	retryNow(time.Hour)
	if !e.sweepUntil(t, func() bool { return webhookDelivery(t, e, down).Attempts == 14 }) {
		t.Fatalf("the due retry was not tried: %+v", webhookDelivery(t, e, down))
	}
	if d := webhookDelivery(t, e, down); d.RetryIn == nil || *d.RetryIn < enforce.DeliveryRetryEvery-time.Minute || recv.count("/down") != 14 {
		t.Errorf("after the retry: %+v, %d calls", d, recv.count("/down"))
	}
	// Near the end of the 8 days, a failed retry schedules none.
	retryNow(enforce.DeliveryRetryFor - time.Hour)
	if !e.sweepUntil(t, func() bool { return webhookDelivery(t, e, down).Attempts == 15 }) {
		t.Fatalf("the last retry was not tried: %+v", webhookDelivery(t, e, down))
	}
	if d := webhookDelivery(t, e, down); d.RetryIn != nil || !d.Failed {
		t.Errorf("after the retry period: %+v, want failed with no next try", d)
	}
	// Swept again: nothing more is tried.
	e.sweepUntil(t, func() bool { return true })
	time.Sleep(time.Second)
	if n := recv.count("/down"); n != 15 || recv.count("/gone") != 1 {
		t.Errorf("calls after the period: %d to the failing webhook, %d to the gone one", n, recv.count("/gone"))
	}
}

// TestFailedDeliveryRequeue: an administrator requeues a failed delivery, audited; the
// worker delivers it at once; a delivered or unfailed delivery cannot be requeued.
func TestFailedDeliveryRequeue(t *testing.T) {
	ctx := context.Background()
	recv := &flakyReceiver{status: map[string]int{"/platform": 500}, calls: map[string]int{}}
	e := startNotifyEnv(t, recv)
	hook := subscribe(t, e, "/platform")
	e.openWarning(t)
	if !e.sweepUntil(t, func() bool { return webhookDelivery(t, e, hook).Failed }) {
		t.Fatalf("not failed after 60 s: %+v", webhookDelivery(t, e, hook))
	}
	d := webhookDelivery(t, e, hook)
	var inapp int64
	if err := e.db.Pool.QueryRow(ctx, `SELECT id FROM notification_deliveries WHERE channel = 'inapp'`).Scan(&inapp); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		token string
		id    int64
		want  int
	}{{adminTok, inapp, 409}, {adminTok, 999999, 404}, {inspectorTok, d.ID, 403}} {
		if code := e.do(t, tc.token, "POST", fmt.Sprintf("/api/v1/notification-deliveries/%d/requeue", tc.id), nil, nil); code != tc.want {
			t.Errorf("requeue %d: %d, want %d", tc.id, code, tc.want)
		}
	}

	recv.set("/platform", 0) // the platform is back
	var requeued enforce.FailedDelivery
	e.call(t, adminTok, "POST", fmt.Sprintf("/api/v1/notification-deliveries/%d/requeue", d.ID), nil, &requeued)
	if requeued.ID != d.ID || requeued.RetryAt == nil || requeued.Target != fmt.Sprintf("webhook/%d", hook) {
		t.Errorf("requeued: %+v", requeued)
	}
	if !e.sweepUntil(t, func() bool { return webhookDelivery(t, e, hook).Delivered }) {
		t.Fatalf("the requeued delivery was not delivered: %+v", webhookDelivery(t, e, hook))
	}
	if n := recv.count("/platform"); n != 14 {
		t.Errorf("%d calls, want 13 failed and 1 delivered", n)
	}
	var list struct{ Total int }
	e.call(t, adminTok, "GET", "/api/v1/notification-deliveries/failed", nil, &list)
	if list.Total != 0 {
		t.Errorf("%d failed deliveries left", list.Total)
	}
	if code := e.do(t, adminTok, "POST", fmt.Sprintf("/api/v1/notification-deliveries/%d/requeue", d.ID), nil, nil); code != 409 {
		t.Errorf("requeue a delivered delivery: %d, want 409", code)
	}
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
			Actor  string `json:"actor"`
		} `json:"entries"`
	}
	e.call(t, adminTok, "GET", fmt.Sprintf("/api/v1/audit?subject=notification-delivery/%d", d.ID), nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Action != "notification.requeue" || audit.Entries[0].Actor != "admin" {
		t.Errorf("audit of the requeue: %+v", audit.Entries)
	}
}

// TestDeliveryWithoutSweep: the outbox listener queues a delivery as soon as its event is
// committed; no sweep runs.
func TestDeliveryWithoutSweep(t *testing.T) {
	ctx := context.Background()
	recv := &flakyReceiver{status: map[string]int{}, calls: map[string]int{}}
	e := startNotifyEnv(t, recv)
	subscribe(t, e, "/platform")
	e.openWarning(t)
	for start := time.Now(); recv.count("/platform") == 0; time.Sleep(100 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatal("the webhook is not called within 30 s without a sweep")
		}
	}
	var dispatched bool
	for start := time.Now(); !dispatched && time.Since(start) < 30*time.Second; time.Sleep(100 * time.Millisecond) {
		if err := e.db.Pool.QueryRow(ctx, `SELECT bool_and(dispatched_at IS NOT NULL) FROM outbox`).Scan(&dispatched); err != nil {
			t.Fatal(err)
		}
	}
	if !dispatched {
		t.Error("the outbox is not dispatched without a sweep")
	}
}
