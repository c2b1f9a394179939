package enforce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/offsite/offsite"
)

var w0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// requested is an inspection whose self-check is due in 10 days.
func requested() *Inspection {
	in := &Inspection{ID: 7, USCC: "91110000600037341L", Status: InspOpen, Warnings: []Warning{{Source: WarningMonitoring}}}
	if err := in.RequestSelfCheck(w0.Add(10*24*time.Hour), w0); err != nil {
		panic(err)
	}
	return in
}

func TestExtension(t *testing.T) {
	deadline := w0.Add(10 * 24 * time.Hour)
	for _, tc := range []struct {
		name   string
		setup  func(in *Inspection)
		until  time.Time
		reason string
		want   error // category; nil for success
		field  string
	}{
		{"granted later", nil, deadline.Add(5 * 24 * time.Hour), "lab", nil, ""},
		{"exactly the most", nil, deadline.Add(MaxExtension), "lab", nil, ""},
		{"too long", nil, deadline.Add(MaxExtension + time.Second), "lab", offsite.ErrInvalid, "until"},
		{"not later", nil, deadline, "lab", offsite.ErrInvalid, "until"},
		{"no reason", nil, deadline.Add(time.Hour), " ", offsite.ErrInvalid, "reason"},
		{"one waiting", func(in *Inspection) { _ = in.RequestExtension(deadline.Add(time.Hour), "x", "e", w0) }, deadline.Add(2 * time.Hour), "y", offsite.ErrConflict, ""},
		{"report submitted", func(in *Inspection) { _ = in.SubmitReport("done", nil, "e", w0) }, deadline.Add(time.Hour), "x", offsite.ErrConflict, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := requested()
			if tc.setup != nil {
				tc.setup(in)
			}
			err := in.RequestExtension(tc.until, tc.reason, "ehs", w0.Add(time.Hour))
			if !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			var fe *offsite.FieldError
			if tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
				t.Errorf("err %v, want field %s", err, tc.field)
			}
			if err != nil {
				return
			}
			if err := in.DecideExtension(false, "", "li", w0.Add(2*time.Hour)); !errors.Is(err, offsite.ErrInvalid) {
				t.Errorf("refusal without a note: %v", err)
			}
			if err := in.DecideExtension(true, "", "li", w0.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if !in.SelfCheckDeadline.Equal(tc.until) || in.PendingExtension() != nil || in.Extensions[0].Decision != ExtensionGranted {
				t.Errorf("after grant: deadline %v, %+v", in.SelfCheckDeadline, in.Extensions)
			}
			if err := in.DecideExtension(true, "", "li", w0.Add(3*time.Hour)); !errors.Is(err, offsite.ErrConflict) {
				t.Errorf("second decision: %v", err)
			}
		})
	}
}

func TestAmendAndWithdraw(t *testing.T) {
	in := requested()
	if err := in.AmendReport("x", nil, "e", w0); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("amend before a report: %v", err)
	}
	if err := in.SubmitReport("first", []string{"selfcheck/a.pdf"}, "e", w0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	late := w0.Add(20 * 24 * time.Hour) // after the deadline: the first submission was on time
	if err := in.AmendReport("", nil, "e", late); !errors.Is(err, offsite.ErrInvalid) || in.Status != InspReportSubmitted || in.Report.Text != "first" {
		t.Errorf("empty amendment: %v, %s %+v", err, in.Status, in.Report)
	}
	if err := in.AmendReport("second", nil, "e", late); err != nil {
		t.Fatal(err)
	}
	if in.Report.Text != "second" || in.Report.Late || in.Report.Amendments != 1 || !in.Report.SubmittedAt.Equal(w0.Add(time.Hour)) || len(in.Report.ProofKeys) != 0 {
		t.Errorf("amended: %+v", in.Report)
	}
	if err := in.WithdrawReport(late); err != nil {
		t.Fatal(err)
	}
	if in.Status != InspSelfCheckRequested || in.Report != nil || in.WithdrawnReports != 1 {
		t.Errorf("withdrawn: %s %+v", in.Status, in)
	}
	if err := in.WithdrawReport(late); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("withdraw twice: %v", err)
	}
	if err := in.SubmitReport("third", nil, "e", late); err != nil || !in.Report.Late {
		t.Errorf("resubmitted late: %v %+v", err, in.Report)
	}
	if n := transitionNotice(InspReportSubmitted, &Inspection{ID: 1, Status: InspSelfCheckRequested}); n != nil {
		t.Errorf("a withdrawal notified %+v", n)
	}
}

func TestSelfReported(t *testing.T) {
	for _, tc := range []struct {
		sources []string
		want    bool
	}{
		{nil, false},
		{[]string{WarningSelfReport}, true},
		{[]string{WarningSelfReport, WarningFinding}, true},
		{[]string{WarningMonitoring, WarningSelfReport}, false},
		{[]string{WarningComplaint}, false},
	} {
		in := &Inspection{}
		for _, s := range tc.sources {
			in.Warnings = append(in.Warnings, Warning{Source: s})
		}
		if got := in.SelfReported(); got != tc.want {
			t.Errorf("%v: SelfReported %v, want %v", tc.sources, got, tc.want)
		}
	}
}

func TestEventReachesAndPrefs(t *testing.T) {
	const a, b = "91110000600037341L", "91320000134780001D"
	for _, tc := range []struct {
		e        Event
		uscc     string
		role     Role
		userUSCC string
		want     bool
	}{
		{EventSelfCheckRequested, a, RoleEnterprise, a, true},
		{EventSelfCheckRequested, a, RoleEnterprise, b, false},
		{EventSelfCheckRequested, a, RoleInspector, "", false},
		{EventWarningNew, a, RoleEnterprise, a, false},
		{EventWarningNew, a, RoleInspector, "", true},
		{EventApprovalRequested, a, RoleApprover, "", true},
		{EventNightlyFailed, "", RoleAdmin, "", true},
		{EventNightlyFailed, "", RoleEnterprise, "", false},
	} {
		if got := tc.e.Reaches(tc.uscc, tc.role, tc.userUSCC); got != tc.want {
			t.Errorf("%s of %s reaches %s of %s: %v, want %v", tc.e, tc.uscc, tc.role, tc.userUSCC, got, tc.want)
		}
	}
	for _, e := range Events {
		if len(e.Audience()) == 0 {
			t.Errorf("%s reaches nobody", e)
		}
	}
	for _, tc := range []struct {
		name  string
		role  Role
		p     NotificationPrefs
		field string
	}{
		{"defaults", RoleInspector, NotificationPrefs{}, ""},
		{"nothing in app", RoleInspector, NotificationPrefs{InAppEvents: []Event{}}, ""},
		{"email", RoleEnterprise, NotificationPrefs{Email: "a@b.org", EmailEvents: []Event{EventSelfCheckOverdue}}, ""},
		{"not the role's", RoleEnterprise, NotificationPrefs{InAppEvents: []Event{EventWarningNew}}, "inapp_events[0]"},
		{"unknown", RoleAdmin, NotificationPrefs{EmailEvents: []Event{"x.y"}, Email: "a@b.org"}, "email_events[0]"},
		{"no address", RoleAdmin, NotificationPrefs{EmailEvents: []Event{EventNightlyFailed}}, "email"},
		{"display name", RoleAdmin, NotificationPrefs{Email: "Li <li@b.org>"}, "email"},
		{"header injection", RoleAdmin, NotificationPrefs{Email: "li@b.org\nBcc: x@y.org"}, "email"},
	} {
		err := tc.p.Validate(tc.role)
		var fe *offsite.FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: %v, want field %s", tc.name, err, tc.field)
		}
	}
	if !(&NotificationPrefs{}).WantsInApp(EventWarningNew) || (&NotificationPrefs{InAppEvents: []Event{}}).WantsInApp(EventWarningNew) {
		t.Error("WantsInApp")
	}
}

func TestWebhookURLAndSignature(t *testing.T) {
	allowed := []string{"hooks.example.org", "127.0.0.1:9000"}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.org/x", true},
		{"https://hooks.example.org:8443/x", true}, // the host is allowed on any port
		{"http://127.0.0.1:9000/hook", true},
		{"http://127.0.0.1:9001/hook", false}, // only that port
		{"http://127.0.0.1/hook", false},
		{"https://hooks.example.org.evil.net/", false},
		{"https://evil.net/?hooks.example.org", false},
		{"https://u:p@hooks.example.org/", false},
		{"ftp://hooks.example.org/", false},
		{"gopher://127.0.0.1:9000/", false},
		{"/relative", false},
	} {
		err := CheckWebhookURL(tc.url, allowed)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok %v", tc.url, err, tc.ok)
		}
	}
	if err := CheckWebhookURL("https://hooks.example.org/", nil); err == nil || !strings.Contains(err.Error(), "OFFSITE_WEBHOOK_HOSTS") {
		t.Errorf("no hosts configured: %v", err)
	}
	body := []byte(`{"id":1}`)
	m := hmac.New(sha256.New, []byte("s3cret"))
	m.Write([]byte("1700000000." + string(body)))
	if got, want := SignWebhook("s3cret", 1700000000, body), "sha256="+hex.EncodeToString(m.Sum(nil)); got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
	if SignWebhook("s3cret", 1700000001, body) == SignWebhook("s3cret", 1700000000, body) {
		t.Error("the timestamp is not signed")
	}
}

func TestInboxOf(t *testing.T) {
	for _, r := range TokenRoles {
		box := InboxOf(r)
		for _, k := range append(slices.Clone(box.Kinds), box.OverdueOnly...) {
			if !slices.Contains(InboxKinds, k) {
				t.Errorf("%s: unknown kind %s", r, k)
			}
		}
		for _, k := range box.OverdueOnly {
			if !slices.Contains(box.Kinds, k) {
				t.Errorf("%s: overdue-only %s is not among its kinds", r, k)
			}
		}
	}
	if !InboxOf(RoleEnterprise).OwnOnly || InboxOf(RoleInspector).OwnOnly {
		t.Error("OwnOnly")
	}
}

func TestIntakeReportValidate(t *testing.T) {
	ok := func() IntakeReport {
		return IntakeReport{Source: TriggerReferral, SourceRef: " 省厅交办 2026-17 ", Summary: "s", USCC: " 91110000600037341l ", ReceivedAt: w0}
	}
	r := ok()
	if err := r.Validate(w0); err != nil || r.SourceRef != "省厅交办 2026-17" || r.USCC != "91110000600037341L" {
		t.Errorf("valid: %v %+v", err, r)
	}
	for field, mod := range map[string]func(*IntakeReport){
		"source":      func(r *IntakeReport) { r.Source = TriggerOffsiteAnomaly },
		"source_ref":  func(r *IntakeReport) { r.SourceRef = " " },
		"summary":     func(r *IntakeReport) { r.Summary = "" },
		"uscc":        func(r *IntakeReport) { r.USCC = "" },
		"received_at": func(r *IntakeReport) { r.ReceivedAt = w0.Add(time.Minute) },
	} {
		r := ok()
		mod(&r)
		var fe *offsite.FieldError
		if err := r.Validate(w0); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}
