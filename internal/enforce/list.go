package enforce

import (
	"fmt"
	"strings"
	"time"

	"github.com/offsite/offsite"
)

// ListStatus is the status of a list entry. An entry moves proposed → notice → listed, and from there to removed
// or expired; renewing keeps it listed with a new validity. An upheld objection rejects it.
type ListStatus string

// List entry statuses.
const (
	ListProposed ListStatus = "proposed"
	ListNotice   ListStatus = "notice"
	ListListed   ListStatus = "listed"
	ListRemoved  ListStatus = "removed"
	ListExpired  ListStatus = "expired"
	ListRejected ListStatus = "rejected"
)

// ActiveListStatuses are the statuses of an entry that is still under way; an enterprise has
// at most one such entry.
var ActiveListStatuses = []ListStatus{ListProposed, ListNotice, ListListed}

// Removal categories. The first three bar re-admission for good (二.4).
const (
	RemovalMaliciousDischarge  = "malicious_discharge"
	RemovalFalsifiedRecords    = "falsified_records"
	RemovalEvadingSupervision  = "evading_supervision"
	RemovalNoLongerQualifies   = "no_longer_qualifies"
	RemovalStrictDisposition   = "strict_disposition" // removed by a disposition under 四.10
	RemovalEnterpriseRequested = "enterprise_requested"
)

// RemovalCategories lists every removal category.
var RemovalCategories = []string{RemovalMaliciousDischarge, RemovalFalsifiedRecords, RemovalEvadingSupervision,
	RemovalNoLongerQualifies, RemovalStrictDisposition, RemovalEnterpriseRequested}

// Barring reports whether a removal category bars re-admission for good.
func Barring(category string) bool {
	switch category {
	case RemovalMaliciousDischarge, RemovalFalsifiedRecords, RemovalEvadingSupervision:
		return true
	}
	return false
}

// Objection is an objection raised during the public notice.
type Objection struct {
	ID         int        `json:"id"`
	Text       string     `json:"text"`
	RaisedBy   string     `json:"raised_by"`
	RaisedAt   time.Time  `json:"raised_at"`
	Outcome    string     `json:"outcome,omitempty"` // "upheld" or "dismissed" once resolved
	Resolution string     `json:"resolution,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// ListEntry is one enterprise's passage through the positive list.
type ListEntry struct {
	ID          int64      `json:"id"`
	USCC        string     `json:"uscc"`
	Status      ListStatus `json:"status"`
	Admission   Evaluation `json:"admission"`
	NoticeStart *time.Time `json:"notice_start,omitempty"`
	NoticeEnd   *time.Time `json:"notice_end,omitempty"`
	// NoticePostedAt is the server's time when the notice was put up; the notice period is
	// counted from it or from NoticeStart, whichever is later.
	NoticePostedAt  *time.Time  `json:"notice_posted_at,omitempty"`
	Objections      []Objection `json:"objections"`
	ValidFrom       *time.Time  `json:"valid_from,omitempty"`
	ValidTo         *time.Time  `json:"valid_to,omitempty"`
	Renewals        int         `json:"renewals"`
	RemovalCategory string      `json:"removal_category,omitempty"`
	RemovalReason   string      `json:"removal_reason,omitempty"`
	// RemovedAt is when the entry was removed (published with its category when it had
	// been listed).
	RemovedAt *time.Time `json:"removed_at,omitempty"`
	// FiledAt is when the province last received a filing of the entry (its receipt).
	FiledAt *time.Time `json:"filed_at,omitempty"`
	// ToFile names the change of the list that awaits filing with the province: "admission"
	// once listed, "renewal" or "removal" once an adjustment takes effect; "" when filed.
	ToFile string `json:"to_file,omitempty"`
	// Filings are the entry's filings with the province, oldest first.
	Filings []Filing `json:"filings,omitempty"`
	// Adjustment is a renewal or removal of the listed entry under way: on public notice,
	// then applied (二.3: the list is adjusted after notice, and the adjustment filed).
	Adjustment *Adjustment `json:"adjustment,omitempty"`
	// Adjustments are the adjustments that took effect or were rejected, oldest first.
	Adjustments []Adjustment `json:"adjustments,omitempty"`
	// HealthCheck is the health-check visit status of the current validity (computed).
	HealthCheck string    `json:"health_check,omitempty"`
	Version     int       `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// EffectiveStatus is the status at now: a listed entry past its validity is expired.
func (e *ListEntry) EffectiveStatus(now time.Time) ListStatus {
	return EffectiveListStatus(e.Status, e.ValidTo, now)
}

// EffectiveListStatus is the status at now of an entry stored as status with validity ending
// at validTo: a listed entry past its validity is expired. The SQL function
// list_effective_status (migration 0022) is the same rule for queries; a test holds them equal.
func EffectiveListStatus(status ListStatus, validTo *time.Time, now time.Time) ListStatus {
	if status == ListListed && validTo != nil && !now.Before(*validTo) {
		return ListExpired
	}
	return status
}

func stateError(action string, status ListStatus, allowed ...ListStatus) error {
	return offsite.Conflict("cannot %s a list entry that is %s (only when %s)", action, status, strings.Join(Names(allowed), " or "))
}

// Propose starts a list entry for an enterprise after evaluating its admission. A barred
// enterprise or one that fails every admission path is refused with the reasons.
func Propose(ent *Enterprise, ev Evaluation, now time.Time) (*ListEntry, error) {
	if ent.Barred {
		return nil, offsite.Conflict("enterprise %s is barred from the positive list for good (%s)", ent.USCC, ent.BarredReason)
	}
	if !ev.Admitted {
		var failed []string
		for _, r := range ev.Reasons {
			if !r.Passed {
				failed = append(failed, r.Path+": "+r.Detail)
			}
		}
		return nil, offsite.Invalid("facts", "no admission path is met: %s", strings.Join(failed, "; "))
	}
	return &ListEntry{USCC: ent.USCC, Status: ListProposed, Admission: ev, Objections: []Objection{}, CreatedAt: now, UpdatedAt: now}, nil
}

// NoticeStartSkew is how far before the server's clock a notice may start: the clerk's clock
// and the moment a form submitted "now" reaches the server differ by that much at most.
const NoticeStartSkew = 5 * time.Minute

// StartNotice puts a proposed entry on public notice from start to end (二.3). The notice
// cannot be back-dated: it starts now or later (NoticeStartSkew allowed), and ends at least
// cfg.NoticeMinDays days after it starts. now is recorded as NoticePostedAt: List counts the
// period from the later of the two, by the server's clock.
func (e *ListEntry) StartNotice(cfg Config, start, end, now time.Time) error {
	if e.Status != ListProposed {
		return stateError("start the notice of", e.Status, ListProposed)
	}
	if earliest := now.Add(-NoticeStartSkew); start.Before(earliest) {
		return offsite.Invalid("notice_start", "%s is in the past (now is %s): a public notice starts now or later",
			start.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if !end.After(start) {
		return offsite.Invalid("notice_end", "must be after notice_start")
	}
	if min := start.AddDate(0, 0, cfg.NoticeMinDays); end.Before(min) {
		return offsite.Invalid("notice_end", "the notice lasts %.1f days; the minimum is %d days (notice_end >= %s)",
			end.Sub(start).Hours()/24, cfg.NoticeMinDays, min.Format(time.RFC3339))
	}
	e.Status, e.NoticeStart, e.NoticeEnd, e.NoticePostedAt, e.UpdatedAt = ListNotice, &start, &end, &now, now
	return nil
}

// NoticeOver is when the entry's notice has run its course: its end, and at least
// cfg.NoticeMinDays days after it was both posted and started, by the server's clock.
func (e *ListEntry) NoticeOver(cfg Config) time.Time {
	from := *e.NoticeStart
	if e.NoticePostedAt != nil && e.NoticePostedAt.After(from) {
		from = *e.NoticePostedAt
	}
	over := from.AddDate(0, 0, cfg.NoticeMinDays)
	if e.NoticeEnd.After(over) {
		over = *e.NoticeEnd
	}
	return over
}

// Object records an objection; objections are taken while the entry is on notice.
func (e *ListEntry) Object(text, by string, now time.Time) (*Objection, error) {
	if e.adjustmentOnNotice() {
		a := e.Adjustment
		if strings.TrimSpace(text) == "" {
			return nil, offsite.Required("text", "is required")
		}
		if now.Before(a.NoticeStart) || now.After(a.NoticeEnd) {
			return nil, offsite.Conflict("objections to the %s are taken during its notice period %s – %s", a.Kind, a.NoticeStart.Format(time.RFC3339), a.NoticeEnd.Format(time.RFC3339))
		}
		a.Objections = append(a.Objections, Objection{ID: len(a.Objections) + 1, Text: text, RaisedBy: by, RaisedAt: now})
		e.UpdatedAt = now
		return &a.Objections[len(a.Objections)-1], nil
	}
	if e.Status != ListNotice {
		return nil, stateError("object to", e.Status, ListNotice)
	}
	if strings.TrimSpace(text) == "" {
		return nil, offsite.Required("text", "is required")
	}
	if now.Before(*e.NoticeStart) || now.After(*e.NoticeEnd) {
		return nil, offsite.Conflict("objections are taken during the notice period %s – %s", e.NoticeStart.Format(time.RFC3339), e.NoticeEnd.Format(time.RFC3339))
	}
	o := Objection{ID: len(e.Objections) + 1, Text: text, RaisedBy: by, RaisedAt: now}
	e.Objections = append(e.Objections, o)
	e.UpdatedAt = now
	return &e.Objections[len(e.Objections)-1], nil
}

// Resolve resolves objection id as "upheld" (the entry is rejected) or "dismissed".
func (e *ListEntry) Resolve(id int, outcome, resolution, by string, now time.Time) error {
	if e.adjustmentOnNotice() {
		a := e.Adjustment
		if id < 1 || id > len(a.Objections) {
			return offsite.NotFound("objection %d to the %s of list entry %d", id, a.Kind, e.ID)
		}
		o := &a.Objections[id-1]
		if o.ResolvedAt != nil {
			return offsite.Conflict("objection %d is already resolved (%s)", id, o.Outcome)
		}
		if outcome != "upheld" && outcome != "dismissed" {
			return offsite.Invalid("outcome", "must be \"upheld\" or \"dismissed\", got %q", outcome)
		}
		if strings.TrimSpace(resolution) == "" {
			return offsite.Required("resolution", "is required: say how the objection was resolved")
		}
		o.Outcome, o.Resolution, o.ResolvedBy, o.ResolvedAt = outcome, resolution, by, &now
		if outcome == "upheld" { // the adjustment does not take effect
			done := *a
			done.Outcome, done.SettledAt = "rejected", &now
			e.Adjustments = append(e.Adjustments, done)
			e.Adjustment = nil
		}
		e.UpdatedAt = now
		return nil
	}
	if e.Status != ListNotice {
		return stateError("resolve an objection to", e.Status, ListNotice)
	}
	if id < 1 || id > len(e.Objections) {
		return offsite.NotFound("objection %d of list entry %d", id, e.ID)
	}
	o := &e.Objections[id-1]
	if o.ResolvedAt != nil {
		return offsite.Conflict("objection %d is already resolved (%s)", id, o.Outcome)
	}
	if outcome != "upheld" && outcome != "dismissed" {
		return offsite.Invalid("outcome", "must be \"upheld\" or \"dismissed\", got %q", outcome)
	}
	if strings.TrimSpace(resolution) == "" {
		return offsite.Required("resolution", "is required: say how the objection was resolved")
	}
	o.Outcome, o.Resolution, o.ResolvedBy, o.ResolvedAt = outcome, resolution, by, &now
	if outcome == "upheld" {
		e.Status = ListRejected
	}
	e.UpdatedAt = now
	return nil
}

// List publishes an entry whose notice has run its course (NoticeOver) with every objection
// resolved. validFrom defaults to now; the validity lasts cfg.ValidityYears.
func (e *ListEntry) List(cfg Config, validFrom, now time.Time) error {
	if e.Status != ListNotice {
		return stateError("list", e.Status, ListNotice)
	}
	if over := e.NoticeOver(cfg); now.Before(over) {
		return offsite.Conflict("the public notice runs until %s", over.Format(time.RFC3339))
	}
	for _, o := range e.Objections {
		if o.ResolvedAt == nil {
			return offsite.Conflict("objection %d is not resolved", o.ID)
		}
	}
	validFrom = validFrom.Truncate(time.Microsecond) // as the database keeps it
	to := validFrom.AddDate(cfg.ValidityYears, 0, 0)
	e.Status, e.ValidFrom, e.ValidTo, e.UpdatedAt = ListListed, &validFrom, &to, now
	e.ToFile = ChangeAdmission
	return nil
}

// Renew extends a listed (or expired) entry by another validity period after a fresh
// admission evaluation; it starts where the old one ends, or now if that has passed.
func (e *ListEntry) Renew(cfg Config, ent *Enterprise, ev Evaluation, now time.Time) error {
	st := e.EffectiveStatus(now)
	if st != ListListed && st != ListExpired {
		return stateError("renew", st, ListListed, ListExpired)
	}
	if ent.Barred {
		return offsite.Conflict("enterprise %s is barred from the positive list for good (%s)", ent.USCC, ent.BarredReason)
	}
	if !ev.Admitted {
		return offsite.Invalid("facts", "no admission path is met; the entry cannot be renewed")
	}
	from := *e.ValidTo
	if from.Before(now) {
		from = now
	}
	to := from.AddDate(cfg.ValidityYears, 0, 0)
	e.Status, e.ValidFrom, e.ValidTo, e.Admission, e.UpdatedAt = ListListed, &from, &to, ev, now
	e.Renewals++
	return nil
}

// Remove takes the entry off the list (or stops its procedure). It reports whether the
// removal bars the enterprise for good.
func (e *ListEntry) Remove(category, reason string, now time.Time) (barred bool, err error) {
	st := e.EffectiveStatus(now)
	if st != ListListed && st != ListNotice && st != ListProposed {
		return false, stateError("remove", st, ListProposed, ListNotice, ListListed)
	}
	known := false
	for _, c := range RemovalCategories {
		known = known || c == category
	}
	if !known {
		return false, offsite.Invalid("category", "must be one of %s, got %q", strings.Join(RemovalCategories, ", "), category)
	}
	if strings.TrimSpace(reason) == "" {
		return false, offsite.Required("reason", "is required")
	}
	e.Status, e.RemovalCategory, e.RemovalReason, e.UpdatedAt, e.RemovedAt = ListRemoved, category, reason, now, &now
	if e.ValidFrom != nil {
		e.ToFile = ChangeRemoval // a listed enterprise left the list: the province is told
	}
	e.Adjustment = nil
	return Barring(category), nil
}

// Expire marks a listed entry past its validity as expired; it reports whether it did.
func (e *ListEntry) Expire(now time.Time) bool {
	if e.Status == ListListed && e.EffectiveStatus(now) == ListExpired {
		e.Status, e.UpdatedAt = ListExpired, now
		return true
	}
	return false
}

// Health-check visit statuses of a listed entry's validity (二.4).
const (
	HealthDone    = "done"    // a visit took place within the validity
	HealthPending = "pending" // none yet, and the end of validity is still far
	HealthDue     = "due"     // none yet, and the validity ends within cfg.HealthCheckDueDays
	HealthOverdue = "overdue" // the validity ended without a visit
)

// HealthCheckStatus says whether the entry's validity has had its health-check visit, given
// the dates of the enterprise's visits. It is "" for an entry that was never listed.
func HealthCheckStatus(cfg Config, e *ListEntry, visits []time.Time, now time.Time) string {
	if e.ValidFrom == nil || e.ValidTo == nil {
		return ""
	}
	for _, v := range visits {
		if !v.Before(*e.ValidFrom) && v.Before(*e.ValidTo) {
			return HealthDone
		}
	}
	switch {
	case !now.Before(*e.ValidTo):
		return HealthOverdue
	case now.After(e.ValidTo.AddDate(0, 0, -cfg.HealthCheckDueDays)):
		return HealthDue
	}
	return HealthPending
}

// Publication is what the public list shows of a listed enterprise (二.3), and nothing more.
type Publication struct {
	Name             string    `json:"name"`
	Address          string    `json:"address"`
	USCC             string    `json:"uscc"`
	Industry         string    `json:"industry"`
	PermitNo         string    `json:"permit_no"`
	ValidFrom        time.Time `json:"valid_from"`
	ValidTo          time.Time `json:"valid_to"`
	ComplaintChannel string    `json:"complaint_channel"`
}

// PublicationCSVHeader is the header of the public list's CSV form.
var PublicationCSVHeader = []string{"name", "address", "uscc", "industry", "permit_no", "valid_from", "valid_to", "complaint_channel"}

// CSVRecord returns p as a CSV record in PublicationCSVHeader order.
func (p Publication) CSVRecord() []string {
	return []string{p.Name, p.Address, p.USCC, p.Industry, p.PermitNo, p.ValidFrom.Format("2006-01-02"), p.ValidTo.Format("2006-01-02"), p.ComplaintChannel}
}

// String is used in error messages.
func (e *ListEntry) String() string {
	return fmt.Sprintf("list entry %d (%s, %s)", e.ID, e.USCC, e.Status)
}

// Changes of the list that are filed with the province.
const (
	ChangeAdmission = "admission"
	ChangeRenewal   = "renewal"
	ChangeRemoval   = "removal"
)

// Filing is one filing of a change of the list with the provincial department (二.3): the
// city submits it, the province records its receipt.
type Filing struct {
	Change      string     `json:"change"`
	SubmittedAt time.Time  `json:"submitted_at"`
	SubmittedBy string     `json:"submitted_by"`
	Receipt     string     `json:"receipt,omitempty"`
	ReceivedAt  *time.Time `json:"received_at,omitempty"`
	ReceivedBy  string     `json:"received_by,omitempty"`
}

// SubmitFiling files the change that awaits filing (ToFile) with the province.
func (e *ListEntry) SubmitFiling(by string, now time.Time) (*Filing, error) {
	if e.ToFile == "" {
		return nil, offsite.Conflict("%s has no change awaiting filing", e)
	}
	if n := len(e.Filings); n > 0 && e.Filings[n-1].ReceivedAt == nil {
		return nil, offsite.Conflict("the filing of the %s submitted at %s awaits the province's receipt", e.Filings[n-1].Change, e.Filings[n-1].SubmittedAt.Format(time.RFC3339))
	}
	e.Filings = append(e.Filings, Filing{Change: e.ToFile, SubmittedAt: now, SubmittedBy: by})
	e.UpdatedAt = now
	return &e.Filings[len(e.Filings)-1], nil
}

// ReceiveFiling records the province's receipt of the submitted filing and sets FiledAt.
func (e *ListEntry) ReceiveFiling(receipt, by string, now time.Time) (*Filing, error) {
	receipt = strings.TrimSpace(receipt)
	if receipt == "" || len(receipt) > 200 {
		return nil, offsite.Required("receipt", "is required (the province's receipt number), at most 200 bytes")
	}
	n := len(e.Filings)
	if n == 0 || e.Filings[n-1].ReceivedAt != nil {
		return nil, offsite.Conflict("%s has no filing awaiting receipt", e)
	}
	f := &e.Filings[n-1]
	f.Receipt, f.ReceivedAt, f.ReceivedBy = receipt, &now, by
	e.FiledAt, e.ToFile, e.UpdatedAt = &now, "", now
	return f, nil
}

// Adjustment is a renewal or a removal of a listed entry, put on public notice before it takes
// effect.
type Adjustment struct {
	Kind string `json:"kind"` // ChangeRenewal or ChangeRemoval
	// Evaluation is the renewal's fresh admission evaluation.
	Evaluation *Evaluation `json:"evaluation,omitempty"`
	// Category and Reason are the removal's.
	Category       string      `json:"category,omitempty"`
	Reason         string      `json:"reason,omitempty"`
	ProposedBy     string      `json:"proposed_by"`
	ProposedAt     time.Time   `json:"proposed_at"`
	NoticeStart    time.Time   `json:"notice_start"`
	NoticeEnd      time.Time   `json:"notice_end"`
	NoticePostedAt time.Time   `json:"notice_posted_at"`
	Objections     []Objection `json:"objections"`
	// Outcome is "applied" or "rejected" (an objection upheld) once settled, at SettledAt.
	Outcome   string     `json:"outcome,omitempty"`
	SettledAt *time.Time `json:"settled_at,omitempty"`
}

// ProposeAdjustment puts a renewal or removal of the listed (or, for a renewal, expired)
// entry on public notice from start to end, under the notice rules of admissions
// (StartNotice). A renewal's evaluation must admit the enterprise; a removal names a
// category and a reason. The entry stays as it is until ApplyAdjustment.
func (e *ListEntry) ProposeAdjustment(cfg Config, ent *Enterprise, adj Adjustment, now time.Time) error {
	st := e.EffectiveStatus(now)
	if e.Adjustment != nil {
		return offsite.Conflict("%s already has a %s on notice until %s", e, e.Adjustment.Kind, e.Adjustment.NoticeEnd.Format(time.RFC3339))
	}
	switch adj.Kind {
	case ChangeRenewal:
		if st != ListListed && st != ListExpired {
			return stateError("renew", st, ListListed, ListExpired)
		}
		if ent.Barred {
			return offsite.Conflict("enterprise %s is barred from the positive list for good (%s)", ent.USCC, ent.BarredReason)
		}
		if adj.Evaluation == nil || !adj.Evaluation.Admitted {
			return offsite.Invalid("facts", "no admission path is met; the entry cannot be renewed")
		}
	case ChangeRemoval:
		if st != ListListed {
			return stateError("propose the removal of", st, ListListed)
		}
		if !slicesContains(RemovalCategories, adj.Category) {
			return offsite.Invalid("category", "must be one of %s, got %q", strings.Join(RemovalCategories, ", "), adj.Category)
		}
		if strings.TrimSpace(adj.Reason) == "" {
			return offsite.Required("reason", "is required")
		}
	default:
		return offsite.Invalid("kind", "must be renewal or removal, got %q", adj.Kind)
	}
	probe := ListEntry{Status: ListProposed}
	if err := probe.StartNotice(cfg, adj.NoticeStart, adj.NoticeEnd, now); err != nil {
		return err
	}
	adj.NoticeStart, adj.NoticeEnd, adj.NoticePostedAt = *probe.NoticeStart, *probe.NoticeEnd, now
	adj.ProposedAt, adj.Objections, adj.Outcome, adj.SettledAt = now, []Objection{}, "", nil
	e.Adjustment, e.UpdatedAt = &adj, now
	return nil
}

// ApplyAdjustment makes the adjustment on notice take effect once its notice has run its
// course (as NoticeOver) with every objection resolved; the change then awaits filing. It
// reports whether a removal bars the enterprise.
func (e *ListEntry) ApplyAdjustment(cfg Config, ent *Enterprise, now time.Time) (barred bool, err error) {
	a := e.Adjustment
	if a == nil {
		return false, offsite.Conflict("%s has no adjustment on notice", e)
	}
	probe := ListEntry{NoticeStart: &a.NoticeStart, NoticeEnd: &a.NoticeEnd, NoticePostedAt: &a.NoticePostedAt}
	if over := probe.NoticeOver(cfg); now.Before(over) {
		return false, offsite.Conflict("the public notice of the %s runs until %s", a.Kind, over.Format(time.RFC3339))
	}
	for _, o := range a.Objections {
		if o.ResolvedAt == nil {
			return false, offsite.Conflict("objection %d to the %s is not resolved", o.ID, a.Kind)
		}
	}
	done := *a
	switch a.Kind {
	case ChangeRenewal:
		if err := e.Renew(cfg, ent, *a.Evaluation, now); err != nil {
			return false, err
		}
		e.ToFile = ChangeRenewal
	case ChangeRemoval:
		if barred, err = e.Remove(a.Category, a.Reason, now); err != nil {
			return false, err
		}
	}
	done.Outcome, done.SettledAt = "applied", &now
	e.Adjustments = append(e.Adjustments, done)
	e.Adjustment = nil
	return barred, nil
}

// adjustmentOnNotice reports whether objections go to the adjustment under way rather than
// to the admission (which is on notice only while the entry's status is notice).
func (e *ListEntry) adjustmentOnNotice() bool {
	return e.Status != ListNotice && e.Adjustment != nil
}

func slicesContains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Removal is what the public sees of a listed enterprise's removal from the list: who, when
// and the category of the reason (not its text).
type Removal struct {
	Name      string    `json:"name"`
	USCC      string    `json:"uscc"`
	Category  string    `json:"category"`
	RemovedAt time.Time `json:"removed_at"`
}

// RemovalCSVHeader is the header of the public removals' CSV form.
var RemovalCSVHeader = []string{"name", "uscc", "category", "removed_at"}

// CSVRecord returns r as a CSV record in RemovalCSVHeader order.
func (r Removal) CSVRecord() []string {
	return []string{r.Name, r.USCC, r.Category, r.RemovedAt.In(NoticeZone).Format("2006-01-02")}
}
