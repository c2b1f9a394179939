package enforce

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/msgs"
)

// Off-site inspection statuses (三.7–8). A warning opens an inspection (or joins the open
// one); the workflow is: request a self-check with a deadline → the enterprise uploads its
// report and proof → review → close, or request a site visit → approval → site visit with a
// checklist → close with a disposition.
type InspectionStatus string

// Inspection statuses.
const (
	InspOpen               InspectionStatus = "open"
	InspSelfCheckRequested InspectionStatus = "self_check_requested"
	InspReportSubmitted    InspectionStatus = "report_submitted"
	InspSiteVisitRequested InspectionStatus = "site_visit_requested"
	InspSiteVisitApproved  InspectionStatus = "site_visit_approved"
	InspSiteVisitDone      InspectionStatus = "site_visit_done"
	InspClosed             InspectionStatus = "closed"
)

// Trigger is what justifies a site visit (三.7).
type Trigger string

// Site visit triggers.
const (
	TriggerComplaint      Trigger = "complaint"       // 群众举报投诉
	TriggerMediaReport    Trigger = "media_report"    // 媒体曝光
	TriggerReferral       Trigger = "referral"        // 上级交办
	TriggerOffsiteAnomaly Trigger = "offsite_anomaly" // 非现场检查发现的问题, after the self-check
	TriggerRoutine        Trigger = "routine"         // only for enterprises not on the list
)

// Inspection modes of a draw target.
const (
	ModeOffsite = "offsite"
	ModeSite    = "site"
)

// Level is the level of the enforcement body that opens an inspection, for recognising
// inspections of one matter by another level instead of repeating them (二.5).
type Level string

// Enforcement levels.
const (
	LevelCounty   Level = "county"
	LevelCity     Level = "city"
	LevelProvince Level = "province"
	LevelNational Level = "national"
)

// Levels lists every enforcement level.
var Levels = []Level{LevelCounty, LevelCity, LevelProvince, LevelNational}

// Warning sources.
const (
	WarningFinding    = "finding"
	WarningMonitoring = "monitoring"
	// WarningSelfReport: an incident the enterprise reported itself (四.9 主动报告); ref is
	// incident/{id}.
	WarningSelfReport = "self_report"
	// The intake of the other site-visit triggers (三.7) warns with the trigger as source; ref
	// is intake-matter/{id}.
	WarningComplaint   = string(TriggerComplaint)
	WarningMediaReport = string(TriggerMediaReport)
	WarningReferral    = string(TriggerReferral)
)

// Warning is an early warning on an enterprise, from a finding or from monitoring data.
type Warning struct {
	ID       int64  `json:"id"`
	Source   string `json:"source"` // "finding" or "monitoring"
	Ref      string `json:"ref"`    // finding id or monitoring record
	Severity string `json:"severity,omitempty"`
	Message  string `json:"message"`
	// SummaryMessage is the summary a monitoring warning's message quotes, as a sentence of
	// the message catalog, for other languages.
	SummaryMessage *msgs.Message `json:"summary_message,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
	// Confirmations counts the later findings of the same matter (same parcel, kind and
	// class, overlapping) that raised this warning's confidence instead of adding warnings;
	// SeenIn lists their ids, LastSeenAt when the last one came.
	Confirmations int        `json:"confirmations,omitempty"`
	SeenIn        []string   `json:"seen_in,omitempty"`
	LastSeenAt    *time.Time `json:"last_seen_at,omitempty"`
}

// Validate checks a warning's fields.
func (w *Warning) Validate() error {
	if w.Source != WarningFinding && w.Source != WarningMonitoring {
		return offsite.Invalid("source", "must be %q or %q, got %q", WarningFinding, WarningMonitoring, w.Source)
	}
	if strings.TrimSpace(w.Ref) == "" {
		return offsite.Required("ref", "is required: the finding id or the monitoring record")
	}
	if strings.TrimSpace(w.Message) == "" && w.Source != WarningFinding {
		return offsite.Required("message", "is required (for a finding it defaults to the finding's kind and class)")
	}
	return nil
}

// Report is the enterprise's written self-check report with its proof (object keys of the
// uploaded documents).
type Report struct {
	Text        string    `json:"text"`
	ProofKeys   []string  `json:"proof_keys"`
	SubmittedBy string    `json:"submitted_by"`
	SubmittedAt time.Time `json:"submitted_at"`
	Late        bool      `json:"late"`
	// Amendments counts the times the enterprise amended the report before review; AmendedAt
	// is the last. The earlier texts are in the audit log.
	Amendments int        `json:"amendments,omitempty"`
	AmendedAt  *time.Time `json:"amended_at,omitempty"`
}

// ChecklistItem is one answered item of a site-visit checklist.
type ChecklistItem struct {
	Item   string `json:"item" openapi:"required"`
	Result string `json:"result" openapi:"required" enum:"compliant,non_compliant,not_applicable"`
	Note   string `json:"note,omitempty"`
}

// SiteVisit is the request, approval and record of a site visit.
type SiteVisit struct {
	Trigger     Trigger         `json:"trigger"`
	Reason      string          `json:"reason"`
	RequestedBy string          `json:"requested_by"`
	RequestedAt time.Time       `json:"requested_at"`
	ApprovedBy  string          `json:"approved_by,omitempty"`
	ApprovedAt  *time.Time      `json:"approved_at,omitempty"`
	Checklist   []ChecklistItem `json:"checklist,omitempty"`
	VisitedBy   string          `json:"visited_by,omitempty"`
	VisitedAt   *time.Time      `json:"visited_at,omitempty"`
}

// Inspection is an off-site inspection of one enterprise.
type Inspection struct {
	ID     int64            `json:"id"`
	USCC   string           `json:"uscc"`
	Level  Level            `json:"level"`
	Matter string           `json:"matter"` // what is inspected, e.g. the warning's ref
	Status InspectionStatus `json:"status"`
	// Listed records whether the enterprise was on the list when the inspection opened.
	Listed               bool       `json:"listed"`
	Warnings             []Warning  `json:"warnings"`
	SelfCheckRequestedAt *time.Time `json:"self_check_requested_at,omitempty"`
	SelfCheckDeadline    *time.Time `json:"self_check_deadline,omitempty"`
	// Extensions are the enterprise's requests for more time, oldest first; at most the last
	// is pending.
	Extensions []Extension `json:"extensions,omitempty"`
	// WithdrawnReports counts the reports the enterprise withdrew before review.
	WithdrawnReports int          `json:"withdrawn_reports,omitempty"`
	Report           *Report      `json:"report,omitempty"`
	ReviewNotes      string       `json:"review_notes,omitempty"`
	SiteVisit        *SiteVisit   `json:"site_visit,omitempty"`
	Disposition      *Disposition `json:"disposition,omitempty"`
	// LinkedTo is the inspection of the same matter by another level whose results this one
	// recognises instead of repeating it.
	LinkedTo  *int64     `json:"linked_to,omitempty"`
	CloseNote string     `json:"close_note,omitempty"`
	OpenedBy  string     `json:"opened_by"`
	OpenedAt  time.Time  `json:"opened_at"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	Version   int        `json:"version"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func inspStateError(action string, status InspectionStatus, allowed ...InspectionStatus) error {
	return offsite.Conflict("cannot %s an inspection that is %s (only when %s)", action, status, strings.Join(Names(allowed), " or "))
}

// CheckLevel checks an enforcement level.
func CheckLevel(level Level) error {
	if slices.Contains(Levels, level) {
		return nil
	}
	return offsite.Invalid("level", "must be one of county, city, province, national, got %q", level)
}

// RequestSelfCheck asks the enterprise to check itself and report by deadline.
func (in *Inspection) RequestSelfCheck(deadline, now time.Time) error {
	if in.Status != InspOpen {
		return inspStateError("request a self-check in", in.Status, InspOpen)
	}
	if !deadline.After(now) {
		return offsite.Invalid("deadline", "must be in the future")
	}
	in.Status, in.SelfCheckRequestedAt, in.SelfCheckDeadline, in.UpdatedAt = InspSelfCheckRequested, &now, &deadline, now
	return nil
}

// Confirm records that the finding ref, a later finding of the same matter, confirms warning
// i instead of adding a warning.
func (in *Inspection) Confirm(i int, ref string, now time.Time) {
	w := &in.Warnings[i]
	w.Confirmations++
	w.SeenIn = append(w.SeenIn, ref)
	w.LastSeenAt = &now
	in.UpdatedAt = now
}

// SubmitReport records the enterprise's written self-check report and its proof.
func (in *Inspection) SubmitReport(text string, proof []string, by string, now time.Time) error {
	if in.Status != InspSelfCheckRequested {
		return inspStateError("submit a self-check report to", in.Status, InspSelfCheckRequested)
	}
	if strings.TrimSpace(text) == "" {
		return offsite.Required("text", "is required: the written self-check report")
	}
	for i, k := range proof {
		if err := offsite.CheckObjectKey(k); err != nil {
			return offsite.Invalid("proof_keys["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
	if proof == nil {
		proof = []string{}
	}
	in.Report = &Report{Text: text, ProofKeys: proof, SubmittedBy: by, SubmittedAt: now, Late: now.After(*in.SelfCheckDeadline)}
	in.Status, in.UpdatedAt = InspReportSubmitted, now
	return nil
}

// Review outcomes.
const (
	ReviewClose     = "close"
	ReviewSiteVisit = "site_visit"
)

// Review reviews the self-check report: close the inspection, or request a site visit on the
// off-site anomaly (which then needs approval).
func (in *Inspection) Review(outcome, notes, by string, now time.Time) error {
	if in.Status != InspReportSubmitted {
		return inspStateError("review", in.Status, InspReportSubmitted)
	}
	if strings.TrimSpace(notes) == "" {
		return offsite.Required("notes", "is required: the reasons of the review")
	}
	switch outcome {
	case ReviewClose:
		in.ReviewNotes = notes
		in.Status, in.ClosedAt, in.CloseNote, in.UpdatedAt = InspClosed, &now, notes, now
		return nil
	case ReviewSiteVisit:
		in.ReviewNotes = notes
		return in.RequestSiteVisit(TriggerOffsiteAnomaly, notes, by, now)
	}
	return offsite.Invalid("outcome", "must be %q or %q, got %q", ReviewClose, ReviewSiteVisit, outcome)
}

// RequestSiteVisit asks for a site visit. For a listed enterprise it needs a typed trigger
// (三.7): a complaint, media report or referral from above at any open stage, or an off-site
// anomaly only after the enterprise's self-check report; approval follows. For other
// enterprises "routine" is also a trigger and no approval is needed.
func (in *Inspection) RequestSiteVisit(trigger Trigger, reason, by string, now time.Time) error {
	switch in.Status {
	case InspOpen, InspSelfCheckRequested, InspReportSubmitted:
	default:
		return inspStateError("request a site visit in", in.Status, InspOpen, InspSelfCheckRequested, InspReportSubmitted)
	}
	switch trigger {
	case TriggerComplaint, TriggerMediaReport, TriggerReferral:
	case TriggerOffsiteAnomaly:
		if in.Listed && in.Status != InspReportSubmitted {
			return offsite.Invalid("trigger", "an off-site anomaly justifies a site visit to a listed enterprise only after its self-check report has been reviewed (三.7); request a self-check first")
		}
	case TriggerRoutine:
		if in.Listed {
			return offsite.Invalid("trigger", "no proactive site visits to listed enterprises (三.6): the trigger must be complaint, media_report, referral or offsite_anomaly")
		}
	case "":
		return offsite.Required("trigger", "is required: complaint, media_report, referral or offsite_anomaly")
	default:
		return offsite.Invalid("trigger", "%q is not one of complaint, media_report, referral, offsite_anomaly, routine", trigger)
	}
	if strings.TrimSpace(reason) == "" {
		return offsite.Required("reason", "is required")
	}
	in.SiteVisit = &SiteVisit{Trigger: trigger, Reason: reason, RequestedBy: by, RequestedAt: now}
	in.Status, in.UpdatedAt = InspSiteVisitRequested, now
	if !in.Listed {
		in.Status = InspSiteVisitApproved
	}
	return nil
}

// ApproveSiteVisit records the approval of the head of the enforcement body: a user with the
// approver role who is not the requester.
func (in *Inspection) ApproveSiteVisit(by string, isApprover bool, now time.Time) error {
	if in.Status != InspSiteVisitRequested {
		return inspStateError("approve a site visit of", in.Status, InspSiteVisitRequested)
	}
	if !isApprover {
		return offsite.ErrForbidden
	}
	if by == in.SiteVisit.RequestedBy {
		return offsite.Conflict("the site visit was requested by %s, who cannot also approve it", by)
	}
	in.SiteVisit.ApprovedBy, in.SiteVisit.ApprovedAt = by, &now
	in.Status, in.UpdatedAt = InspSiteVisitApproved, now
	return nil
}

// RecordSiteVisit records the site visit with every item of the checklist answered.
func (in *Inspection) RecordSiteVisit(cfg Config, items []ChecklistItem, by string, now time.Time) error {
	if in.Status != InspSiteVisitApproved {
		if in.Status == InspSiteVisitRequested {
			return offsite.Conflict("the site visit has not been approved")
		}
		return inspStateError("record a site visit in", in.Status, InspSiteVisitApproved)
	}
	answered := map[string]bool{}
	for i, it := range items {
		known := false
		for _, c := range cfg.SiteChecklist {
			known = known || c == it.Item
		}
		if !known {
			return offsite.Invalid("checklist["+strconv.Itoa(i)+"].item", "%q is not on the checklist", it.Item)
		}
		if answered[it.Item] {
			return offsite.Invalid("checklist["+strconv.Itoa(i)+"].item", "%q is answered twice", it.Item)
		}
		switch it.Result {
		case "compliant", "non_compliant", "not_applicable":
		default:
			return offsite.Invalid("checklist["+strconv.Itoa(i)+"].result", "must be compliant, non_compliant or not_applicable, got %q", it.Result)
		}
		answered[it.Item] = true
	}
	for _, c := range cfg.SiteChecklist {
		if !answered[c] {
			return offsite.Invalid("checklist", "item %q is not answered", c)
		}
	}
	in.SiteVisit.Checklist, in.SiteVisit.VisitedBy, in.SiteVisit.VisitedAt = items, by, &now
	in.Status, in.UpdatedAt = InspSiteVisitDone, now
	return nil
}

// Close closes the inspection, with a disposition when a violation was found.
func (in *Inspection) Close(note string, d *Disposition, now time.Time) error {
	switch in.Status {
	case InspOpen, InspSelfCheckRequested, InspReportSubmitted, InspSiteVisitDone:
	default:
		return inspStateError("close", in.Status, InspOpen, InspSelfCheckRequested, InspReportSubmitted, InspSiteVisitDone)
	}
	if strings.TrimSpace(note) == "" {
		return offsite.Required("note", "is required")
	}
	in.Disposition, in.CloseNote = d, note
	in.Status, in.ClosedAt, in.UpdatedAt = InspClosed, &now, now
	return nil
}
