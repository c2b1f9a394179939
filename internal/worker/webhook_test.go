package worker

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/enforce"
)

// TestWebhookSenderStaysOnAllowedHosts: a delivery goes only to a configured host: not to a
// URL stored before the configuration changed, not through a redirect to another host.
func TestWebhookSenderStaysOnAllowedHosts(t *testing.T) {
	var inner atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner.Add(1) }))
	defer internal.Close()
	var got atomic.Int32
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, internal.URL+"/admin", http.StatusTemporaryRedirect)
			return
		}
		got.Add(1)
	}))
	defer allowed.Close()
	host := strings.TrimPrefix(allowed.URL, "http://")
	s := NewWebhookSender([]string{host}, 5*time.Second)
	n := &enforce.Notification{ID: 1, Event: enforce.EventWarningNew, Subject: "inspection/1", Title: "t", At: time.Now()}
	ctx := context.Background()

	if err := s.Post(ctx, &enforce.Webhook{ID: 1, URL: allowed.URL + "/ok", Secret: "k"}, n); err != nil || got.Load() != 1 {
		t.Fatalf("allowed host: %v, %d deliveries", err, got.Load())
	}
	err := s.Post(ctx, &enforce.Webhook{ID: 2, URL: internal.URL + "/admin", Secret: "k"}, n)
	if !errors.Is(err, errUndeliverable) || inner.Load() != 0 {
		t.Errorf("stored URL of a host no longer allowed: %v, %d requests reached it", err, inner.Load())
	}
	err = s.Post(ctx, &enforce.Webhook{ID: 3, URL: allowed.URL + "/redirect", Secret: "k"}, n)
	if err == nil || inner.Load() != 0 {
		t.Errorf("redirect to another host: %v, %d requests reached it", err, inner.Load())
	}
	// The dialer itself refuses a host not allowed, whatever the URL check said.
	other := NewWebhookSender([]string{"hooks.example.org"}, time.Second)
	if _, err := other.client.Get(allowed.URL); err == nil || !errors.Is(err, errUndeliverable) {
		t.Errorf("dial of a host not allowed: %v", err)
	}
}

// TestMailMessage: the subject never breaks the header, the body is quoted-printable UTF-8.
func TestMailMessage(t *testing.T) {
	m := &SMTPMailer{From: "offsite@example.org"}
	b, err := m.message("li@example.org", "自查逾期\r\nBcc: x@evil.org", "第一行\n= second")
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := strings.Cut(string(b), "\r\n\r\n")
	if strings.Contains(head, "\r\nBcc:") || !strings.Contains(head, "Subject: =?utf-8?q?") || !strings.Contains(head, "Content-Transfer-Encoding: quoted-printable") {
		t.Errorf("headers:\n%s", head)
	}
	if !strings.Contains(body, "=3D second") || strings.Contains(body, "第") {
		t.Errorf("body is not quoted-printable: %q", body)
	}
	if err := m.Send(context.Background(), "a@b.org\r\nRCPT TO:<x@y.org>", "s", "b"); !errors.Is(err, errUndeliverable) {
		t.Errorf("recipient with a line break: %v", err)
	}
}
