package enforce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/msgs"
)

// Event names what a notification tells: "<resource>.<what happened>".
type Event string

// Events people may be told of.
const (
	EventWarningNew         Event = "warning.new"                   // a new warning on an enterprise
	EventSelfCheckRequested Event = "self_check.requested"          // the enterprise is asked to check itself
	EventSelfCheckDueSoon   Event = "self_check.due_soon"           // its deadline is near
	EventSelfCheckOverdue   Event = "self_check.overdue"            // its deadline passed without a report
	EventApprovalRequested  Event = "site_visit.approval_requested" // a site visit waits for approval
	EventExtensionRequested Event = "extension.requested"           // the enterprise asks for more time
	EventExtensionDecided   Event = "extension.decided"             // granted or refused
	EventIncidentReported   Event = "incident.reported"             // the enterprise reported an incident itself
	EventIntakeReceived     Event = "intake.received"               // a complaint, media report or referral
	EventSurveyFinished     Event = "survey.finished"
	EventSurveyFailed       Event = "survey.failed"
	EventNightlyFinished    Event = "nightly.finished"
	EventNightlyFailed      Event = "nightly.failed"
)

// SelfCheckDueSoon is how near a self-check deadline is when the enterprise is reminded of it.
const SelfCheckDueSoon = 3 * 24 * time.Hour

// Events lists every event.
var Events = []Event{EventWarningNew, EventSelfCheckRequested, EventSelfCheckDueSoon, EventSelfCheckOverdue,
	EventApprovalRequested, EventExtensionRequested, EventExtensionDecided, EventIncidentReported, EventIntakeReceived,
	EventSurveyFinished, EventSurveyFailed, EventNightlyFinished, EventNightlyFailed}

// audiences are the roles each event reaches. An event with a USCC reaches the enterprise role
// only for that enterprise.
var audiences = map[Event][]Role{
	EventWarningNew:         {RoleInspector, RoleAdmin},
	EventSelfCheckRequested: {RoleEnterprise},
	EventSelfCheckDueSoon:   {RoleEnterprise},
	EventSelfCheckOverdue:   {RoleEnterprise, RoleInspector},
	EventApprovalRequested:  {RoleApprover},
	EventExtensionRequested: {RoleInspector},
	EventExtensionDecided:   {RoleEnterprise},
	EventIncidentReported:   {RoleInspector},
	EventIntakeReceived:     {RoleInspector},
	EventSurveyFinished:     {RoleAnalyst},
	EventSurveyFailed:       {RoleAnalyst, RoleAdmin},
	EventNightlyFinished:    {RoleAdmin, RoleAnalyst},
	EventNightlyFailed:      {RoleAdmin, RoleAnalyst},
}

// Audience returns the roles e reaches.
func (e Event) Audience() []Role { return audiences[e] }

// Reaches reports whether a notification of e about enterprise uscc ("" for none) reaches a
// user of role speaking for userUSCC: the role must be in e's audience, and an enterprise
// hears only of itself.
func (e Event) Reaches(uscc string, role Role, userUSCC string) bool {
	if !slices.Contains(audiences[e], role) {
		return false
	}
	return role != RoleEnterprise || (uscc != "" && uscc == userUSCC)
}

// EventsFor lists the events that can reach role.
func EventsFor(role Role) []Event {
	var out []Event
	for _, e := range Events {
		if slices.Contains(audiences[e], role) {
			out = append(out, e)
		}
	}
	return out
}

// Notification is an event to tell people of. Commands write it to the outbox in the
// transaction of the event; the workers deliver it.
type Notification struct {
	ID      int64  `json:"id"`
	Event   Event  `json:"event"`
	Subject string `json:"subject"` // an audit subject: inspection/12, survey/3 ...
	USCC    string `json:"uscc,omitempty"`
	Title   string `json:"title"`
	Body    string `json:"body,omitempty"`
	// TitleMessage and BodyMessage are Title and Body as sentences of the message catalog,
	// for other languages than English; nil where the text has no fixed form (a person's).
	TitleMessage *msgs.Message `json:"title_message,omitempty"`
	BodyMessage  *msgs.Message `json:"body_message,omitempty"`
	At           time.Time     `json:"at"`
}

// Say sets n's title from a sentence of the message catalog: its English text is Title.
func (n *Notification) Say(title msgs.Message) *Notification {
	n.Title, n.TitleMessage = title.Text(msgs.EN), &title
	return n
}

// SayBody sets n's body from a sentence of the message catalog.
func (n *Notification) SayBody(body msgs.Message) *Notification {
	n.Body, n.BodyMessage = body.Text(msgs.EN), &body
	return n
}

// transitionNotice is the notification an inspection's move from status before to its
// present status gives, nil for none.
func transitionNotice(before InspectionStatus, in *Inspection) *Notification {
	if in.Status == before {
		return nil
	}
	n := &Notification{Subject: InspectionSubject(in.ID), USCC: in.USCC, At: in.UpdatedAt}
	switch in.Status {
	case InspSelfCheckRequested:
		if before != InspOpen {
			return nil // a report withdrawn: the request stands as it was
		}
		n.Event = EventSelfCheckRequested
		n.Say(msgs.New(msgs.NoteSelfCheckRequested, "inspection", strconv.FormatInt(in.ID, 10), "deadline", in.SelfCheckDeadline.Format(time.RFC3339)))
		n.SayBody(msgs.New(msgs.NoteSelfCheckRequestedBody))
	case InspSiteVisitRequested:
		n.Event = EventApprovalRequested
		n.Say(msgs.New(msgs.NoteApprovalRequested, "inspection", strconv.FormatInt(in.ID, 10), "uscc", in.USCC))
		n.SayBody(msgs.New(msgs.NoteApprovalRequestedBody, "trigger", string(in.SiteVisit.Trigger), "reason", in.SiteVisit.Reason, "by", in.SiteVisit.RequestedBy))
	default:
		return nil
	}
	return n
}

// NotificationPrefs are the events a user chooses to be told of, per channel. Nil InApp means
// every event of the role; nil Email means none.
type NotificationPrefs struct {
	Email       string  `json:"email"`
	InAppEvents []Event `json:"inapp_events"`
	EmailEvents []Event `json:"email_events"`
}

// Validate checks the preferences of a user of role: known events that can reach the role,
// and an e-mail address when events are to be e-mailed.
func (p *NotificationPrefs) Validate(role Role) error {
	for name, evs := range map[string][]Event{"inapp_events": p.InAppEvents, "email_events": p.EmailEvents} {
		for i, e := range evs {
			switch {
			case !slices.Contains(Events, e):
				return offsite.Invalid(fmt.Sprintf("%s[%d]", name, i), "%q is not one of %s", e, strings.Join(Names(Events), ", "))
			case !slices.Contains(audiences[e], role):
				return offsite.Invalid(fmt.Sprintf("%s[%d]", name, i), "%s never reaches the %s role (it may choose among %s)", e, role, strings.Join(Names(EventsFor(role)), ", "))
			}
		}
	}
	p.Email = strings.TrimSpace(p.Email)
	if p.Email != "" {
		a, err := mail.ParseAddress(p.Email)
		if err != nil || a.Address != p.Email || strings.ContainsAny(p.Email, "\r\n") {
			return offsite.Invalid("email", "%q is not a plain e-mail address (name@example.org)", p.Email)
		}
	}
	if len(p.EmailEvents) > 0 && p.Email == "" {
		return offsite.Required("email", "is required to e-mail events")
	}
	return nil
}

// WantsInApp reports whether the preferences let e through in the app.
func (p *NotificationPrefs) WantsInApp(e Event) bool {
	return p.InAppEvents == nil || slices.Contains(p.InAppEvents, e)
}

// Webhook is a subscription of an outside system (a provincial platform, a messaging gateway)
// to events, delivered as signed POSTs.
type Webhook struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Events    []Event   `json:"events"`
	Active    bool      `json:"active"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// AgencyID is the agency the subscription belongs to (its creator's): it receives the
	// events of that agency and of those under it.
	AgencyID int64 `json:"agency_id"`
	// Secret signs the deliveries; shown once, when the subscription is made.
	Secret string `json:"secret,omitempty"`
}

// Validate checks a subscription against the hosts webhooks may be sent to: a delivery goes
// only to a configured host (host or host:port), never to one a request names, so that a
// subscription cannot reach the services on the API's network (SSRF).
func (h *Webhook) Validate(allowedHosts []string) error {
	if strings.TrimSpace(h.Name) == "" || len(h.Name) > 200 {
		return offsite.Required("name", "is required, at most 200 bytes")
	}
	if err := CheckWebhookURL(h.URL, allowedHosts); err != nil {
		return err
	}
	if len(h.Events) == 0 {
		return offsite.Required("events", "is required: the events to deliver (%s)", strings.Join(Names(Events), ", "))
	}
	for i, e := range h.Events {
		if !slices.Contains(Events, e) {
			return offsite.Invalid(fmt.Sprintf("events[%d]", i), "%q is not one of %s", e, strings.Join(Names(Events), ", "))
		}
	}
	return nil
}

// CheckWebhookURL checks that raw is an http(s) URL without credentials whose host (with its
// port, when one is given) is one of allowedHosts.
func CheckWebhookURL(raw string, allowedHosts []string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return offsite.Invalid("url", "is not a URL: %v", err)
	case u.Scheme != "https" && u.Scheme != "http":
		return offsite.Invalid("url", "must be an https (or http) URL, got scheme %q", u.Scheme)
	case u.User != nil:
		return offsite.Invalid("url", "must not carry credentials")
	case u.Host == "":
		return offsite.Invalid("url", "has no host")
	}
	if !WebhookHostAllowed(u.Host, allowedHosts) {
		if len(allowedHosts) == 0 {
			return offsite.Invalid("url", "no webhook hosts are configured (OFFSITE_WEBHOOK_HOSTS): webhooks go only to configured hosts")
		}
		return offsite.Invalid("url", "host %q is not one of the configured webhook hosts (%s)", u.Host, strings.Join(allowedHosts, ", "))
	}
	return nil
}

// WebhookHostAllowed reports whether hostport (host or host:port) is allowed: listed as is,
// or its host listed without a port.
func WebhookHostAllowed(hostport string, allowedHosts []string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	for _, a := range allowedHosts {
		if strings.EqualFold(a, hostport) || strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

// Webhook delivery headers.
const (
	WebhookEventHeader     = "X-Offsite-Event"
	WebhookDeliveryHeader  = "X-Offsite-Delivery"
	WebhookTimestampHeader = "X-Offsite-Timestamp"
	WebhookSignatureHeader = "X-Offsite-Signature"
)

// SignWebhook is the signature of a delivery: "sha256=" and the hex HMAC-SHA256, keyed by the
// subscription's secret, of the timestamp (Unix seconds, as in WebhookTimestampHeader), a dot
// and the body. A receiver recomputes it and refuses old timestamps (replays).
func SignWebhook(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", timestamp)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Message is an in-app message as one user sees it: the notification, and when the user read
// it. Its JSON is the notification's object with read_at beside its fields.
type Message struct {
	Notification
	ReadAt *time.Time `json:"read_at,omitempty"`
}

// Channels of a delivery.
const (
	ChannelInApp   = "inapp"
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// Delivery is one delivery of an outbox event on one channel to one target: "inapp", an
// e-mail address, or "webhook/{id}".
type Delivery struct {
	ID       int64
	Channel  string
	Target   string
	Attempts int
}

// A delivery is tried by its outbox row's task, retried with backoff (tasks.NewNotifyDeliverTask);
// when the last retry fails too it is marked failed, and then tried again every
// DeliveryRetryEvery until DeliveryRetryFor after it failed; an administrator sees it in the
// inbox (InboxDeliveryFailed) and may requeue it, which starts the period again. A delivery no
// retry can make (no mail server, a subscription ended or gone) fails at once and is not
// retried unless requeued.
const (
	DeliveryRetryEvery = 6 * time.Hour
	DeliveryRetryFor   = 8 * 24 * time.Hour
)

// FailedDelivery is a delivery given up on, with its event, as administrators see it.
type FailedDelivery struct {
	ID        int64      `json:"id"`
	OutboxID  int64      `json:"outbox_id"`
	Event     Event      `json:"event"`
	Subject   string     `json:"subject"`
	USCC      string     `json:"uscc,omitempty"`
	Title     string     `json:"title"`
	Channel   string     `json:"channel"`
	Target    string     `json:"target"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error"`
	FailedAt  time.Time  `json:"failed_at"`
	RetryAt   *time.Time `json:"retry_at,omitempty"` // the next automatic try; none when the period is over or no retry can help
}

// DeliverySubject is the audit subject of a delivery.
func DeliverySubject(id int64) string { return fmt.Sprintf("notification-delivery/%d", id) }
