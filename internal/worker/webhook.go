package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/offsite/offsite/internal/enforce"
)

// WebhookSender posts signed events to subscriptions, only ever to the configured hosts: the
// URL is checked again at each delivery, the connection may dial only an allowed host:port,
// no proxy is used and redirects are not followed (SSRF).
type WebhookSender struct {
	AllowedHosts []string
	client       *http.Client
}

// NewWebhookSender returns a sender to allowedHosts with a per-delivery timeout.
func NewWebhookSender(allowedHosts []string, timeout time.Duration) *WebhookSender {
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	s := &WebhookSender{AllowedHosts: allowedHosts}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !enforce.WebhookHostAllowed(addr, s.AllowedHosts) {
				return nil, fmt.Errorf("webhook: %s is not a configured webhook host: %w", addr, errUndeliverable)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	s.client = &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return s
}

// webhookBody is what a delivery posts.
type webhookBody struct {
	ID      int64         `json:"id"`
	Event   enforce.Event `json:"event"`
	Subject string        `json:"subject"`
	USCC    string        `json:"uscc,omitempty"`
	Title   string        `json:"title"`
	Body    string        `json:"body,omitempty"`
	At      time.Time     `json:"at"`
}

// Post delivers n to h; a status other than 2xx is an error (retried).
func (s *WebhookSender) Post(ctx context.Context, h *enforce.Webhook, n *enforce.Notification) error {
	if err := enforce.CheckWebhookURL(h.URL, s.AllowedHosts); err != nil {
		return fmt.Errorf("webhook %d: %v: %w", h.ID, err, errUndeliverable)
	}
	body, err := json.Marshal(webhookBody{ID: n.ID, Event: n.Event, Subject: n.Subject, USCC: n.USCC, Title: n.Title, Body: n.Body, At: n.At})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %d: %v: %w", h.ID, err, errUndeliverable)
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "offsite-webhook/1")
	req.Header.Set(enforce.WebhookEventHeader, string(n.Event))
	req.Header.Set(enforce.WebhookDeliveryHeader, strconv.FormatInt(n.ID, 10))
	req.Header.Set(enforce.WebhookTimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(enforce.WebhookSignatureHeader, enforce.SignWebhook(h.Secret, ts, body))
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %d: %w", h.ID, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusGone {
		return fmt.Errorf("webhook %d: %s answered %s: %w", h.ID, req.URL.Host, resp.Status, errWebhookGone)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %d: %s answered %s", h.ID, req.URL.Host, resp.Status)
	}
	return nil
}
