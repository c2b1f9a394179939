package enforce

import (
	"context"
	"time"
)

// InboxKind is a kind of work waiting in someone's inbox.
type InboxKind string

// Inbox kinds.
const (
	// InboxOpenWarning: an open inspection waits for its first step (a self-check request or
	// closing).
	InboxOpenWarning InboxKind = "open_warning"
	// InboxReportToReview: the enterprise's self-check report waits for review.
	InboxReportToReview InboxKind = "report_to_review"
	// InboxSiteVisitToRecord: an approved site visit waits to be made and recorded.
	InboxSiteVisitToRecord InboxKind = "site_visit_to_record"
	// InboxExtensionToDecide: the enterprise asked for more time for its self-check.
	InboxExtensionToDecide InboxKind = "extension_to_decide"
	// InboxSelfCheckOverdue: a self-check request whose deadline passed without a report
	// (for the staff: decide what follows).
	InboxSelfCheckOverdue InboxKind = "self_check_overdue"
	// InboxHealthVisitDue: a listed enterprise whose validity ends within the configured days
	// (or ended) without its health-check visit (二.4).
	InboxHealthVisitDue InboxKind = "health_visit_due"
	// InboxIntakeMatter: a complaint, media report or referral whose matter is still open and
	// has no site visit yet.
	InboxIntakeMatter InboxKind = "intake_matter"
	// InboxSiteVisitToApprove: a site visit waits for the approver.
	InboxSiteVisitToApprove InboxKind = "site_visit_to_approve"
	// InboxSelfCheckRequested: the enterprise is asked to check itself and report by a
	// deadline.
	InboxSelfCheckRequested InboxKind = "self_check_requested"
	// InboxListEntryToFile: a listed entry not yet filed with the province (二.3).
	InboxListEntryToFile InboxKind = "list_entry_to_file"
	// InboxDeliveryFailed: a notification that could not be delivered (an e-mail, a
	// webhook) after its retries; an administrator looks into it and may requeue it.
	InboxDeliveryFailed InboxKind = "delivery_failed"
)

// InboxKinds lists every inbox kind.
var InboxKinds = []InboxKind{InboxOpenWarning, InboxReportToReview, InboxSiteVisitToRecord, InboxExtensionToDecide,
	InboxSelfCheckOverdue, InboxHealthVisitDue, InboxIntakeMatter, InboxSiteVisitToApprove, InboxSelfCheckRequested,
	InboxListEntryToFile, InboxDeliveryFailed}

// Inbox says what work waits for an actor of a role: the kinds it sees and, with
// OverdueOnly, the kinds of which it sees only the overdue items (the province's and
// admin's view of what others left undone).
type Inbox struct {
	Kinds       []InboxKind
	OverdueOnly []InboxKind
	// OwnOnly limits the items to the actor's own enterprise.
	OwnOnly bool
}

// InboxOf returns what the inbox of an actor of role holds. An analyst has none.
func InboxOf(role Role) Inbox {
	switch role {
	case RoleInspector:
		return Inbox{Kinds: []InboxKind{InboxOpenWarning, InboxReportToReview, InboxSiteVisitToRecord, InboxExtensionToDecide,
			InboxSelfCheckOverdue, InboxHealthVisitDue, InboxIntakeMatter}}
	case RoleApprover:
		return Inbox{Kinds: []InboxKind{InboxSiteVisitToApprove}}
	case RoleEnterprise:
		return Inbox{Kinds: []InboxKind{InboxSelfCheckRequested}, OwnOnly: true}
	case RoleAdmin:
		return Inbox{Kinds: []InboxKind{InboxListEntryToFile, InboxSelfCheckOverdue, InboxHealthVisitDue, InboxDeliveryFailed},
			OverdueOnly: []InboxKind{InboxHealthVisitDue}}
	}
	return Inbox{}
}

// InboxItem is one piece of waiting work.
type InboxItem struct {
	Kind    InboxKind `json:"kind"`
	Subject string    `json:"subject"` // inspection/12, list-entry/3, intake-matter/4, notification-delivery/5
	USCC    string    `json:"uscc"`
	Name    string    `json:"name"` // the enterprise's
	Status  string    `json:"status,omitempty"`
	Since   time.Time `json:"since"`
	// DueAt is the deadline, when the work has one; Overdue says it has passed.
	DueAt   *time.Time `json:"due_at,omitempty"`
	Overdue bool       `json:"overdue"`
	Note    string     `json:"note,omitempty"`
}

// InboxCounts counts an inbox's items, overall and by kind.
type InboxCounts struct {
	Total   int               `json:"total"`
	Overdue int               `json:"overdue"`
	ByKind  map[InboxKind]int `json:"by_kind"`
}

// InboxQuery is what the inbox of an actor is read with: everything the actor may see at now.
// The postgres implementation is the one place the inbox is selected (and scoped).
type InboxQuery interface {
	FindInbox(ctx context.Context, a Actor, cfg Config, now time.Time, offset, limit int) ([]*InboxItem, int, error)
	CountInbox(ctx context.Context, a Actor, cfg Config, now time.Time) (*InboxCounts, error)
}
