package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
	catalog "github.com/offsite/offsite/internal/msgs"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/testenv"
	"github.com/offsite/offsite/internal/worker"
)

// smtpSink is a minimal SMTP server that keeps every message it is given.
type smtpSink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []sunkMail
}

type sunkMail struct {
	From, To string
	Data     string // headers and the decoded body
}

func startSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	reply := func(code int, msg string) { _ = tp.PrintfLine("%d %s", code, msg) }
	reply(220, "sink ESMTP")
	var m sunkMail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch {
		case verb == "EHLO" || verb == "HELO":
			_ = tp.PrintfLine("250-sink")
			reply(250, "HELP")
		case strings.HasPrefix(strings.ToUpper(line), "MAIL FROM:"):
			from, _, _ := strings.Cut(line[len("MAIL FROM:"):], ">")
			m = sunkMail{From: strings.Trim(from, "< ")}
			reply(250, "ok")
		case strings.HasPrefix(strings.ToUpper(line), "RCPT TO:"):
			to, _, _ := strings.Cut(line[len("RCPT TO:"):], ">")
			m.To = strings.Trim(to, "< ")
			reply(250, "ok")
		case verb == "DATA":
			reply(354, "go on")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			head, body, _ := bytes.Cut(data, []byte("\n\n")) // ReadDotBytes turns CRLF into LF
			if dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err == nil {
				body = dec
			}
			m.Data = string(head) + "\n\n" + string(body)
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			reply(250, "queued")
		case verb == "RSET" || verb == "NOOP":
			reply(250, "ok")
		case verb == "QUIT":
			reply(221, "bye")
			return
		default:
			reply(502, "not implemented")
		}
	}
}

func (s *smtpSink) mail() []sunkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunkMail(nil), s.msgs...)
}

// hookReceiver is a webhook endpoint that verifies each delivery's signature, refuses the
// first delivery with 500 (so that a retry is needed) and keeps the verified ones.
type hookReceiver struct {
	mu       sync.Mutex
	secret   string
	calls    int
	bad      []string
	received []map[string]any
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.calls == 1 {
		http.Error(w, "not now", http.StatusInternalServerError)
		return
	}
	ts, err := strconv.ParseInt(r.Header.Get(enforce.WebhookTimestampHeader), 10, 64)
	sig := r.Header.Get(enforce.WebhookSignatureHeader)
	if err != nil || sig != enforce.SignWebhook(h.secret, ts, body) || time.Since(time.Unix(ts, 0)) > 5*time.Minute {
		h.bad = append(h.bad, fmt.Sprintf("ts %q sig %q", r.Header.Get(enforce.WebhookTimestampHeader), sig))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var v map[string]any
	_ = json.Unmarshal(body, &v)
	v["header_event"] = r.Header.Get(enforce.WebhookEventHeader)
	h.received = append(h.received, v)
}

func (h *hookReceiver) events() ([]string, []string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var evs []string
	for _, v := range h.received {
		evs = append(evs, fmt.Sprint(v["event"]))
	}
	return evs, h.bad, h.calls
}

// notifyEnv is the API and a worker delivering notifications through real Redis/asynq and
// PostgreSQL, to a local SMTP sink and a webhook receiver; its accounts are token-file ones.
// The worker queues deliveries as the outbox listener hears of rows; the tests' sweeps are
// the fallback the scheduler runs.
type notifyEnv struct {
	db     *postgres.DB
	notify *postgres.NotifyService
	client *asynq.Client
	sink   *smtpSink
	hooks  *httptest.Server
	hs     *httptest.Server
}

const (
	adminTok, analystTok, inspectorTok, approverTok, entTok = "n-admin-0123456789", "n-analyst-0123456789", "n-inspector-0123456789", "n-approver-0123456789", "n-enterprise-0123456789"
	notifyUSCC                                              = "91110000600037341L"
)

// startNotifyEnv starts the API and a worker whose tasks are retried after 200 ms, with
// receiver behind the one allowed webhook host.
func startNotifyEnv(t *testing.T, receiver http.Handler) *notifyEnv {
	ctx := context.Background()
	pg := testenv.Postgres(t)
	db, err := postgres.Open(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	redis := testenv.Redis(t)
	client := asynq.NewClient(redis)
	t.Cleanup(func() { client.Close() })
	_, keys := testenv.AuditKey(t)
	enf := postgres.NewEnforceService(db, postgres.AuditConfig{Keys: keys})
	notify := postgres.NewNotifyService(enf)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	sink := startSMTPSink(t)
	hooks := httptest.NewServer(receiver)
	t.Cleanup(hooks.Close)
	hookHost := strings.TrimPrefix(hooks.URL, "http://")

	deps := &worker.Deps{Queue: client, Logger: logger, Notify: notify,
		Mailer:   &worker.SMTPMailer{Addr: sink.ln.Addr().String(), From: "offsite@example.org"},
		Webhooks: worker.NewWebhookSender([]string{hookHost}, 5*time.Second)}
	srv := asynq.NewServer(redis, asynq.Config{
		Concurrency: 2, Queues: tasks.Queues, ShutdownTimeout: 5 * time.Second,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond },
		DelayedTaskCheckInterval: 200 * time.Millisecond,
		LogLevel:                 asynq.ErrorLevel,
	})
	if err := srv.Start(worker.NewServeMux(deps)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	// The outbox listener, as cmd/worker runs it.
	lctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	listening := make(chan struct{}, 1)
	go db.ListenOutbox(lctx, postgres.OutboxListener{
		Written: func(ctx context.Context, id int64) {
			if err := deps.QueueDelivery(ctx, id); err != nil {
				t.Errorf("queue delivery of outbox %d: %v", id, err)
			}
		},
		Listening: func() {
			select {
			case listening <- struct{}{}:
			default:
			}
		},
	})
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		t.Fatal("the outbox listener is not listening after 30 s")
	}

	tokens, err := httpapi.NewTokens([]httpapi.TokenEntry{
		{Token: adminTok, Name: "admin", Role: httpapi.RoleAdmin}, {Token: analystTok, Name: "analyst", Role: httpapi.RoleAnalyst},
		{Token: inspectorTok, Name: "officer-li", Role: httpapi.RoleInspector}, {Token: approverTok, Name: "head-wang", Role: httpapi.RoleApprover},
		{Token: entTok, Name: "ehs-manager", Role: httpapi.RoleEnterprise, USCC: notifyUSCC}})
	if err != nil {
		t.Fatal(err)
	}
	api := &httpapi.Server{Enforce: enf, EnterpriseStore: postgres.NewEnterpriseStore(enf), InspectionStore: postgres.NewInspectionStore(enf),
		ListStore: postgres.NewListStore(enf), DrawStore: postgres.NewDrawStore(enf), Work: postgres.NewWorkService(db), Notify: notify,
		WebhookHosts: []string{hookHost}, Tokens: tokens, Logger: logger}
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(hs.Close)
	return &notifyEnv{db: db, notify: notify, client: client, sink: sink, hooks: hooks, hs: hs}
}

// do sends body as JSON with token and decodes the answer into out when non-nil; it
// returns the status.
func (e *notifyEnv) do(t *testing.T, token, method, path string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.hs.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// call is do that fails the test unless the answer is 2xx.
func (e *notifyEnv) call(t *testing.T, token, method, path string, body, out any) {
	t.Helper()
	if code := e.do(t, token, method, path, body, out); code/100 != 2 {
		t.Fatalf("%s %s: %d", method, path, code)
	}
}

// sweepUntil enqueues the worker's sweep (as its scheduler does) until done holds, for at
// most 60 s; it reports whether done held.
func (e *notifyEnv) sweepUntil(t *testing.T, done func() bool) bool {
	t.Helper()
	for start := time.Now(); time.Since(start) < 60*time.Second; time.Sleep(300 * time.Millisecond) {
		if _, err := e.client.Enqueue(tasks.NewNotifySweepTask()); err != nil {
			t.Fatal(err)
		}
		if done() {
			return true
		}
	}
	return false
}

// openWarning records the enterprise and a warning on it, as the analyst and the officer.
func (e *notifyEnv) openWarning(t *testing.T) enforce.Inspection {
	t.Helper()
	e.call(t, analystTok, "POST", "/api/v1/enterprises", map[string]any{"uscc": notifyUSCC, "name": "Harbour Steel", "industry": "C3120", "address": "1 Quay", "complaint_channel": "12369"}, nil)
	var opened struct {
		Inspection enforce.Inspection `json:"inspection"`
	}
	e.call(t, inspectorTok, "POST", "/api/v1/warnings", map[string]any{"uscc": notifyUSCC, "source": "monitoring", "ref": "cems-7", "message": "NOx over the limit for 3 hours"}, &opened)
	return opened.Inspection
}

// TestNotificationsEndToEnd: events written to the outbox by the API's commands reach the
// users who chose them, in the app and by e-mail through a local SMTP sink, and a webhook
// receiver, signed and retried, through real Redis/asynq and PostgreSQL.
func TestNotificationsEndToEnd(t *testing.T) {
	ctx := context.Background()
	recv := &hookReceiver{}
	e := startNotifyEnv(t, recv)
	db, notify, sink, hooks, uscc := e.db, e.notify, e.sink, e.hooks, notifyUSCC
	call := func(token, method, path string, body, out any) {
		t.Helper()
		e.call(t, token, method, path, body, out)
	}

	// Who wants what: the enterprise by e-mail its self-check events, the officer new
	// warnings; the approver keeps the defaults (in-app, everything of its role).
	call(entTok, "PUT", "/api/v1/notifications/preferences", map[string]any{"email": "ehs@example.org",
		"email_events": []string{"self_check.requested", "self_check.due_soon"}}, nil)
	call(inspectorTok, "PUT", "/api/v1/notifications/preferences", map[string]any{"email": "li@epb.example.org",
		"email_events": []string{"warning.new"}, "inapp_events": []string{"extension.requested"}}, nil)
	var hook enforce.Webhook
	call(adminTok, "POST", "/api/v1/webhooks", map[string]any{"name": "province platform", "url": hooks.URL + "/offsite",
		"events": []string{"warning.new", "self_check.requested"}}, &hook)
	recv.mu.Lock()
	recv.secret = hook.Secret
	recv.mu.Unlock()

	opened := e.openWarning(t)
	var in enforce.Inspection
	deadline := time.Now().Add(48 * time.Hour) // within the reminder's reach: due soon at once
	call(inspectorTok, "POST", fmt.Sprintf("/api/v1/inspections/%d/self-check", opened.ID),
		map[string]any{"version": opened.Version, "deadline": deadline.Format(time.RFC3339)}, &in)

	// The worker's sweep (the scheduler's, here enqueued by the test) delivers.
	var evs, bad []string
	var calls int
	var mails []sunkMail
	if !e.sweepUntil(t, func() bool {
		evs, bad, calls = recv.events()
		mails = sink.mail()
		return len(evs) == 2 && len(mails) == 3
	}) {
		t.Fatalf("after 60 s: webhook events %v (bad %v, %d calls), %d mails: %+v", evs, bad, calls, len(mails), mails)
	}
	if len(bad) != 0 || calls != 3 {
		t.Errorf("webhook: %d calls (want the first refused, then two), bad signatures %v", calls, bad)
	}
	to := map[string][]string{}
	for _, m := range mails {
		subj := ""
		head, _, _ := strings.Cut(m.Data, "\n\n")
		for _, l := range strings.Split(head, "\n") {
			if v, ok := strings.CutPrefix(l, "Subject: "); ok {
				// Q-encoded (the Chinese title first, then the English).
				var err error
				if subj, err = new(mime.WordDecoder).DecodeHeader(v); err != nil {
					t.Errorf("subject %q: %v", v, err)
				}
				if !regexp.MustCompile(`^\[Offsite\] .*\p{Han}.* / [A-Z]`).MatchString(subj) {
					t.Errorf("subject %q: want the Chinese title, then the English", subj)
				}
			}
		}
		to[m.To] = append(to[m.To], subj)
		if m.From != "offsite@example.org" || !strings.Contains(m.Data, "Content-Type: text/plain; charset=utf-8") {
			t.Errorf("mail to %s: from %s: %s", m.To, m.From, m.Data)
		}
	}
	if got := to["li@epb.example.org"]; len(got) != 1 || !strings.Contains(got[0], "New warning") {
		t.Errorf("officer's mail: %v", got)
	}
	if got := strings.Join(to["ehs@example.org"], " | "); len(to["ehs@example.org"]) != 2 || !strings.Contains(got, "Self-check requested") || !strings.Contains(got, "Self-check due soon") {
		t.Errorf("enterprise's mail: %v", got)
	}

	// In the app: each sees what reaches its role and what it chose.
	type msgs struct {
		Messages []enforce.Message `json:"messages"`
		Unread   int               `json:"unread"`
	}
	var ent, officer, head msgs
	call(entTok, "GET", "/api/v1/notifications", nil, &ent)
	call(inspectorTok, "GET", "/api/v1/notifications", nil, &officer)
	call(approverTok, "GET", "/api/v1/notifications", nil, &head)
	entEvents := map[enforce.Event]bool{}
	for _, m := range ent.Messages {
		entEvents[m.Event] = true
		if m.USCC != uscc {
			t.Errorf("enterprise sees %+v", m)
		}
		// Each title is a sentence of the message catalog (the deadline sweep's written in
		// SQL too), whose English is the title and whose Chinese the inbox shows.
		if m.TitleMessage == nil || m.TitleMessage.Text(catalog.EN) != m.Title || !regexp.MustCompile(`\p{Han}`).MatchString(m.TitleMessage.Text(catalog.ZH)) {
			t.Errorf("%s: title %q, title_message %+v", m.Event, m.Title, m.TitleMessage)
		}
	}
	if !entEvents[enforce.EventSelfCheckRequested] || !entEvents[enforce.EventSelfCheckDueSoon] || entEvents[enforce.EventWarningNew] || ent.Unread != len(ent.Messages) {
		t.Errorf("enterprise's messages: %+v", ent)
	}
	if len(officer.Messages) != 0 || len(head.Messages) != 0 {
		t.Errorf("the officer chose only extension requests in the app, the approver has nothing to approve: %+v / %+v", officer, head)
	}
	var marked struct {
		Marked int `json:"marked"`
	}
	call(entTok, "POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{ent.Messages[0].ID}}, &marked)
	call(entTok, "GET", "/api/v1/notifications?unread=true", nil, &ent)
	if marked.Marked != 1 || ent.Unread != len(entEvents)-1 {
		t.Errorf("after reading one: marked %d, %+v", marked.Marked, ent)
	}
	var counts struct {
		UnreadMessages int `json:"unread_messages"`
		Total          int `json:"total"`
	}
	call(entTok, "GET", "/api/v1/inbox/counts", nil, &counts)
	if counts.UnreadMessages != ent.Unread || counts.Total != 1 {
		t.Errorf("counts: %+v", counts)
	}

	// Every outbox row dispatched; the webhook's first delivery took two attempts.
	var pending, retried int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox WHERE dispatched_at IS NULL),
		(SELECT count(*) FROM notification_deliveries WHERE channel = 'webhook' AND attempts = 2 AND delivered_at IS NOT NULL)`).Scan(&pending, &retried); err != nil {
		t.Fatal(err)
	}
	if pending != 0 || retried != 1 {
		t.Errorf("outbox rows pending %d, webhook deliveries retried %d", pending, retried)
	}
	// The sweep does not remind twice.
	n, err := notify.NotifyDeadlines(ctx, time.Now())
	if err != nil || n != 0 {
		t.Errorf("second reminder sweep wrote %d, %v", n, err)
	}
}
