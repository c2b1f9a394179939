package enforce

import (
	"strings"
	"time"

	"github.com/offsite/offsite"
)

// The enterprise's side of a self-check (issue 16 part 5): it may amend or withdraw its report
// until the report is reviewed, and ask for more time, which the staff grant or refuse.

// MaxExtension is the most a single extension may add to a self-check deadline.
const MaxExtension = 30 * 24 * time.Hour

// Extension decisions.
const (
	ExtensionPending = "pending"
	ExtensionGranted = "granted"
	ExtensionRefused = "refused"
)

// Extension is the enterprise's request for a later self-check deadline and its decision.
type Extension struct {
	Until       time.Time  `json:"until"`
	Reason      string     `json:"reason"`
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	Decision    string     `json:"decision"`
	Note        string     `json:"note,omitempty"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
}

// PendingExtension returns the extension request waiting for a decision, nil when none.
func (in *Inspection) PendingExtension() *Extension {
	if n := len(in.Extensions); n > 0 && in.Extensions[n-1].Decision == ExtensionPending {
		return &in.Extensions[n-1]
	}
	return nil
}

// AmendReport replaces the text and proof of the submitted report before it is reviewed.
func (in *Inspection) AmendReport(text string, proof []string, by string, now time.Time) error {
	if in.Status != InspReportSubmitted {
		return inspStateError("amend the self-check report of", in.Status, InspReportSubmitted)
	}
	prev := *in.Report
	in.Status = InspSelfCheckRequested // SubmitReport's checks, as for a first report
	if err := in.SubmitReport(text, proof, by, now); err != nil {
		in.Status = InspReportSubmitted
		return err
	}
	// Lateness is the first submission's: amending does not make a timely report late.
	in.Report.SubmittedAt, in.Report.Late = prev.SubmittedAt, prev.Late
	in.Report.Amendments, in.Report.AmendedAt = prev.Amendments+1, &now
	return nil
}

// WithdrawReport withdraws the submitted report before review: the self-check request stands
// with its deadline, and a new report may be submitted.
func (in *Inspection) WithdrawReport(now time.Time) error {
	if in.Status != InspReportSubmitted {
		return inspStateError("withdraw the self-check report of", in.Status, InspReportSubmitted)
	}
	in.Report, in.WithdrawnReports = nil, in.WithdrawnReports+1
	in.Status, in.UpdatedAt = InspSelfCheckRequested, now
	return nil
}

// RequestExtension asks for the self-check deadline to move to until, for reason: only while
// the self-check is requested, one request at a time, and by at most MaxExtension.
func (in *Inspection) RequestExtension(until time.Time, reason, by string, now time.Time) error {
	if in.Status != InspSelfCheckRequested {
		return inspStateError("ask for an extension of", in.Status, InspSelfCheckRequested)
	}
	if in.PendingExtension() != nil {
		return offsite.Conflict("an extension request of inspection %d is already waiting for a decision", in.ID)
	}
	if strings.TrimSpace(reason) == "" {
		return offsite.Required("reason", "is required: why the self-check needs more time")
	}
	switch {
	case !until.After(*in.SelfCheckDeadline):
		return offsite.Invalid("until", "must be after the present deadline %s", in.SelfCheckDeadline.Format(time.RFC3339))
	case until.Sub(*in.SelfCheckDeadline) > MaxExtension:
		return offsite.Invalid("until", "may extend the deadline by at most %d days", int(MaxExtension.Hours()/24))
	}
	in.Extensions = append(in.Extensions, Extension{Until: until, Reason: reason, RequestedBy: by, RequestedAt: now, Decision: ExtensionPending})
	in.UpdatedAt = now
	return nil
}

// DecideExtension grants or refuses the pending extension request; a grant moves the deadline.
// A report submitted meanwhile leaves nothing to extend: the request is then refused.
func (in *Inspection) DecideExtension(grant bool, note, by string, now time.Time) error {
	e := in.PendingExtension()
	if e == nil {
		return offsite.Conflict("inspection %d has no extension request waiting for a decision", in.ID)
	}
	if grant && in.Status != InspSelfCheckRequested {
		return inspStateError("grant an extension of", in.Status, InspSelfCheckRequested)
	}
	if !grant && strings.TrimSpace(note) == "" {
		return offsite.Required("note", "is required: why the extension is refused")
	}
	e.Decision, e.Note, e.DecidedBy, e.DecidedAt = ExtensionRefused, note, by, &now
	if grant {
		e.Decision = ExtensionGranted
		until := e.Until
		in.SelfCheckDeadline = &until
	}
	in.UpdatedAt = now
	return nil
}

// SelfReported reports whether the inspection began with the enterprise's own report of the
// incident (主动报告, 四.9): its first warning is a self-report. A self-report joining an
// inspection already opened by a finding or monitoring came after the matter was found, and
// does not count.
func (in *Inspection) SelfReported() bool {
	return len(in.Warnings) > 0 && in.Warnings[0].Source == WarningSelfReport
}
