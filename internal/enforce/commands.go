package enforce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/msgs"
)

// The commands of the enforcement procedure. Each loads what it needs under the store's row
// locks (the enterprise first, then its records), applies the pure transition of this
// package at the injected clock's time, saves, and appends the audit entry, in one
// transaction. Adapters store and decide nothing; handlers decode, call one command and
// encode.

// InspectionStore runs inspection commands in transactions.
type InspectionStore interface {
	// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
	InTx(ctx context.Context, fn func(InspectionTx) error) error
}

// FindingFacts are what a warning from a finding takes from the finding.
type FindingFacts struct {
	USCC     string // the enterprise of the finding's parcel; "" for none
	Severity string
	Kind     string
	Class    string
}

// InspectionTx is what the inspection commands load, lock, save and append in a transaction.
type InspectionTx interface {
	// FindFinding returns the facts of a recorded finding; offsite.ErrNotFound when there is
	// no such finding.
	FindFinding(ctx context.Context, id string) (FindingFacts, error)
	// SameMatter reports whether findings a and b are on the same parcel, of the same kind and
	// class, overlapping, from other captures.
	SameMatter(ctx context.Context, a, b string) (bool, error)
	// LockEnterprise locks and returns the enterprise, with its effective list status.
	LockEnterprise(ctx context.Context, uscc string) (*Enterprise, error)
	// LockInspection locks the inspection's enterprise, then the inspection.
	LockInspection(ctx context.Context, id int64) (*Inspection, *Enterprise, error)
	// LockOpenInspection locks the enterprise's open inspection; nil when it has none.
	LockOpenInspection(ctx context.Context, uscc string) (*Inspection, error)
	// LockClosedInspections locks the enterprise's closed inspections at level, newest first.
	LockClosedInspections(ctx context.Context, uscc string, level Level) ([]*Inspection, error)
	// FindOtherLevelInspection returns the newest closed, unlinked inspection of the matter by
	// a level other than level; nil when there is none.
	FindOtherLevelInspection(ctx context.Context, uscc, matter string, level Level) (*Inspection, error)
	// CreateInspection stores a new inspection, setting its ID and Version.
	CreateInspection(ctx context.Context, in *Inspection) error
	// AddWarning stores w on the inspection, setting its ID and CreatedAt, and appends it to
	// in.Warnings.
	AddWarning(ctx context.Context, in *Inspection, w *Warning) error
	// SaveInspection stores the inspection, setting its new Version.
	SaveInspection(ctx context.Context, in *Inspection) error
	// SaveEnterpriseFlags stores the enterprise's barred and special supervision flags.
	SaveEnterpriseFlags(ctx context.Context, ent *Enterprise) error
	// LockActiveListEntry locks the enterprise's list entry under way, with its status at
	// now; nil when none.
	LockActiveListEntry(ctx context.Context, uscc string, now time.Time) (*ListEntry, error)
	// SaveListEntry stores the list entry.
	SaveListEntry(ctx context.Context, e *ListEntry) error
	// Append chains an audit entry to the log.
	Append(ctx context.Context, a Actor, action AuditAction, subject string, detail any) error
	// Notify writes n to the outbox, setting its ID.
	Notify(ctx context.Context, n *Notification) error

	// CreateIncident stores an incident the enterprise reported, setting its ID.
	CreateIncident(ctx context.Context, inc *Incident) error
	// LockOpenMatter locks the enterprise's intake matter whose inspection is open; nil when
	// none.
	LockOpenMatter(ctx context.Context, uscc string) (*Matter, error)
	// LockMatter locks an intake matter; offsite.ErrNotFound when there is none.
	LockMatter(ctx context.Context, id int64) (*Matter, error)
	// CreateMatter stores a new matter, setting its ID.
	CreateMatter(ctx context.Context, m *Matter) error
	// AddIntakeReport stores a report on its matter, setting its ID; a report of the same
	// source and reference recorded before is offsite.ErrConflict.
	AddIntakeReport(ctx context.Context, r *IntakeReport) error
}

// Audit subjects.
func EnterpriseSubject(uscc string) string { return "enterprise/" + uscc }
func ListSubject(id int64) string          { return fmt.Sprintf("list-entry/%d", id) }
func InspectionSubject(id int64) string    { return fmt.Sprintf("inspection/%d", id) }

// Inspections are the commands of off-site inspections (三.7–8, 四.9–10).
type Inspections struct {
	Store  InspectionStore
	Config Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Inspections) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// mayActOn refuses an enterprise actor acting on another enterprise's records.
func (a Actor) mayActOn(uscc string) error {
	if a.Role == RoleEnterprise && a.USCC != uscc {
		return fmt.Errorf("an enterprise token reaches only its own records: %w", offsite.ErrForbidden)
	}
	return nil
}

// OpenWarning records a warning on an enterprise (二.5, 三.8) at the given level: it joins
// the open inspection; or it repeats a matter this level has inspected and closed, whose
// result is recognised; or, when another level has closed an inspection of the same matter, a
// closed record linked to it is made; or it opens an inspection.
//
// A warning from a finding names the finding in w.Ref; uscc may then be "", and is taken from
// the finding's parcel. A finding on another enterprise's parcel is refused.
func (c *Inspections) OpenWarning(ctx context.Context, a Actor, uscc string, level Level, w *Warning) (out *Inspection, outcome string, err error) {
	if err := CheckLevel(level); err != nil {
		return nil, "", err
	}
	err = c.Store.InTx(ctx, func(tx InspectionTx) error {
		out, outcome, err = c.openWarning(ctx, tx, a, uscc, level, w)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return out, outcome, nil
}

// openWarning is OpenWarning in the transaction tx. A new early warning (from a finding or
// monitoring, opened or joined) is notified; incidents and intake have events of their own.
func (c *Inspections) openWarning(ctx context.Context, tx InspectionTx, a Actor, uscc string, level Level, w *Warning) (out *Inspection, outcome string, err error) {
	// body is the notification's body as a catalog sentence, where the warning's message has
	// a fixed form: the one given to a finding's warning here, or a monitoring summary.
	body := w.SummaryMessage
	defer func() {
		early := w.Source == WarningFinding || w.Source == WarningMonitoring
		if err == nil && early && (outcome == WarningOpened || outcome == WarningJoined) {
			n := &Notification{Event: EventWarningNew, Subject: InspectionSubject(out.ID), USCC: out.USCC, At: w.CreatedAt, Body: w.Message, BodyMessage: body}
			err = tx.Notify(ctx, n.Say(msgs.New(msgs.NoteWarningNew, "uscc", out.USCC, "inspection", strconv.FormatInt(out.ID, 10), "outcome", outcome)))
		}
	}()
	err = func() error {
		if w.Source == WarningFinding {
			f, err := tx.FindFinding(ctx, w.Ref)
			switch {
			case errors.Is(err, offsite.ErrNotFound):
				return offsite.Invalid("ref", "finding %q is not recorded", w.Ref)
			case err != nil:
				return err
			case f.USCC == "":
				return offsite.Invalid("ref", "finding %q is on a parcel of no enterprise", w.Ref)
			case uscc == "":
				uscc = f.USCC
			case uscc != f.USCC:
				return offsite.Invalid("ref", "finding %q is on a parcel of enterprise %s, not %s", w.Ref, f.USCC, uscc)
			}
			if w.Severity == "" {
				w.Severity = f.Severity
			}
			if w.Message == "" {
				m := msgs.New(msgs.NoteWarningFinding, "ref", w.Ref, "kind", f.Kind, "cls", f.Class)
				w.Message, body = m.Text(msgs.EN), &m
			}
		}
		if uscc == "" {
			return offsite.Required("uscc", "is required")
		}
		ent, err := tx.LockEnterprise(ctx, uscc)
		if err != nil {
			return err
		}
		if err := a.Reach(ent); err != nil {
			return err
		}
		now := c.now()
		in, err := tx.LockOpenInspection(ctx, uscc)
		if err != nil {
			return err
		}
		if in != nil {
			if outcome, err = c.repeat(ctx, tx, a, in, w, level, false, now); err != nil || outcome != "" {
				out = in
				return err
			}
			if err := tx.AddWarning(ctx, in, w); err != nil {
				return err
			}
			in.UpdatedAt = now
			if err := tx.SaveInspection(ctx, in); err != nil {
				return err
			}
			out, outcome = in, WarningJoined
			return tx.Append(ctx, a, AuditInspectionWarningJoined, InspectionSubject(in.ID), map[string]any{"warning": w, "level": level})
		}
		// This level's closed inspections: a matter already inspected is not inspected again
		// (二.5); the repeat is recorded on the earlier inspection.
		closed, err := tx.LockClosedInspections(ctx, uscc, level)
		if err != nil {
			return err
		}
		for _, prev := range closed {
			if outcome, err = c.repeat(ctx, tx, a, prev, w, level, true, now); err != nil || outcome != "" {
				out = prev
				return err
			}
		}
		other, err := tx.FindOtherLevelInspection(ctx, uscc, w.Ref, level)
		if err != nil {
			return err
		}
		in = &Inspection{USCC: uscc, Level: level, Matter: w.Ref, Status: InspOpen,
			Listed: ent.ListStatus == ListListed, Warnings: []Warning{}, OpenedBy: a.Name, OpenedAt: now, UpdatedAt: now}
		action := AuditInspectionOpened
		outcome = WarningOpened
		if other != nil {
			in.Status, in.LinkedTo, in.ClosedAt = InspClosed, &other.ID, &now
			in.CloseNote = fmt.Sprintf("the %s-level inspection %d of the same matter is recognised (二.5): not repeated", other.Level, other.ID)
			outcome, action = WarningLinked, AuditInspectionLinked
		}
		if err := tx.CreateInspection(ctx, in); err != nil {
			return err
		}
		if err := tx.AddWarning(ctx, in, w); err != nil {
			return err
		}
		if err := tx.SaveInspection(ctx, in); err != nil {
			return err
		}
		out = in
		return tx.Append(ctx, a, action, InspectionSubject(in.ID), map[string]any{"warning": w, "level": level, "linked_to": in.LinkedTo})
	}()
	if err != nil {
		return nil, "", err
	}
	return out, outcome, nil
}

// repeat handles w when it repeats a warning of in: a warning already recorded there (a
// re-delivered task) changes nothing; a later finding of the same matter raises the earlier
// warning's confirmations. It reports the outcome, or "" when w repeats nothing of in. Only
// warnings from findings are matched, unless anySource, when a warning of the same source and
// ref is known too.
func (c *Inspections) repeat(ctx context.Context, tx InspectionTx, a Actor, in *Inspection, w *Warning, level Level, anySource bool, now time.Time) (string, error) {
	i, known, err := sameMatter(ctx, tx, in, w, anySource)
	switch {
	case err != nil:
		return "", err
	case known:
		*w = in.Warnings[i]
		return WarningKnown, nil
	case i < 0:
		return "", nil
	}
	in.Confirm(i, w.Ref, now)
	if err := tx.SaveInspection(ctx, in); err != nil {
		return "", err
	}
	*w = in.Warnings[i]
	return WarningConfirmed, tx.Append(ctx, a, AuditInspectionWarningConfirmed, InspectionSubject(in.ID), map[string]any{"warning": w, "level": level})
}

// sameMatter finds the warning of in that w repeats: known says w is already recorded there;
// otherwise i >= 0 is a warning of a finding of the same matter (tx.SameMatter); -1 when
// there is none.
func sameMatter(ctx context.Context, tx InspectionTx, in *Inspection, w *Warning, anySource bool) (i int, known bool, err error) {
	for i, prev := range in.Warnings {
		switch {
		case prev.Source != w.Source:
			continue
		case w.Source != WarningFinding:
			if anySource && prev.Ref == w.Ref {
				return i, true, nil
			}
			continue
		case prev.Ref == w.Ref || slices.Contains(prev.SeenIn, w.Ref):
			return i, true, nil
		}
		same, err := tx.SameMatter(ctx, w.Ref, prev.Ref)
		if err != nil {
			return -1, false, err
		}
		if same {
			return i, false, nil
		}
	}
	return -1, false, nil
}

// anyVersion runs a transition at whatever version the inspection is at: for commands that
// name the inspection through another record (an intake matter), never from a client.
const anyVersion = 0

// update runs a transition on inspection id at version under the store's locks and audits it
// as action with fn's detail; a disposition the transition sets takes effect in the same
// transaction (applyDisposition).
func (c *Inspections) update(ctx context.Context, a Actor, id int64, version int, action AuditAction, fn func(in *Inspection, ent *Enterprise, now time.Time) (detail any, err error)) (out *Inspection, err error) {
	return c.updateWith(ctx, a, id, version, action, fn, nil)
}

// updateWith is update that also writes the notification notice returns (nil for none) after
// fn has run.
func (c *Inspections) updateWith(ctx context.Context, a Actor, id int64, version int, action AuditAction, fn func(in *Inspection, ent *Enterprise, now time.Time) (detail any, err error), notice func() *Notification) (out *Inspection, err error) {
	err = c.Store.InTx(ctx, func(tx InspectionTx) error {
		in, ent, err := tx.LockInspection(ctx, id)
		if err != nil {
			return err
		}
		if err := a.Reach(ent); err != nil {
			return err
		}
		if version != anyVersion && in.Version != version {
			return offsite.Conflict("inspection %d is at version %d, not %d: it changed since it was read", id, in.Version, version)
		}
		if err := a.mayActOn(in.USCC); err != nil {
			return err
		}
		hadDisposition, before := in.Disposition != nil, in.Status
		now := c.now()
		detail, err := fn(in, ent, now)
		if err != nil {
			return err
		}
		if err := tx.SaveInspection(ctx, in); err != nil {
			return err
		}
		if err := tx.Append(ctx, a, action, InspectionSubject(id), map[string]any{"status": in.Status, "version": in.Version, "detail": detail}); err != nil {
			return err
		}
		if d := in.Disposition; d != nil && !hadDisposition {
			if err := applyDisposition(ctx, tx, a, in, ent, d, now); err != nil {
				return err
			}
		}
		ns := []*Notification{transitionNotice(before, in)}
		if notice != nil {
			ns = append(ns, notice())
		}
		for _, n := range ns {
			if n == nil {
				continue
			}
			if err := tx.Notify(ctx, n); err != nil {
				return err
			}
		}
		out = in
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyDisposition gives a disposition its effects: audit entries for a waived or strict
// penalty, the bar (二.4), special supervision, and removal from the list (四.10).
func applyDisposition(ctx context.Context, tx InspectionTx, a Actor, in *Inspection, ent *Enterprise, d *Disposition, now time.Time) error {
	if d.Waived {
		if err := tx.Append(ctx, a, AuditDispositionWaived, InspectionSubject(in.ID), d); err != nil {
			return err
		}
	}
	if d.Penalty == PenaltyStrict {
		if err := tx.Append(ctx, a, AuditDispositionStrict, InspectionSubject(in.ID), d); err != nil {
			return err
		}
	}
	if d.Bars() && !ent.Barred {
		ent.Barred, ent.BarredReason = true, fmt.Sprintf("%s: inspection %d: %s", RemovalStrictDisposition, in.ID, d.Rule)
		if err := tx.SaveEnterpriseFlags(ctx, ent); err != nil {
			return err
		}
		if err := tx.Append(ctx, a, AuditEnterpriseBarred, EnterpriseSubject(ent.USCC), map[string]any{"inspection": in.ID, "rule": d.Rule}); err != nil {
			return err
		}
	}
	if d.SpecialSupervision && !ent.SpecialSupervision {
		ent.SpecialSupervision = true
		if err := tx.SaveEnterpriseFlags(ctx, ent); err != nil {
			return err
		}
		if err := tx.Append(ctx, a, AuditEnterpriseSpecialSupervision, EnterpriseSubject(ent.USCC), map[string]any{"inspection": in.ID, "rule": d.Rule}); err != nil {
			return err
		}
	}
	if !d.RemoveFromList {
		return nil
	}
	e, err := tx.LockActiveListEntry(ctx, ent.USCC, now)
	if err != nil || e == nil { // nil: no longer on the list
		return err
	}
	if _, err := e.Remove(RemovalStrictDisposition, fmt.Sprintf("inspection %d: %s", in.ID, d.Rule), now); err != nil {
		return err
	}
	if err := tx.SaveListEntry(ctx, e); err != nil {
		return err
	}
	return tx.Append(ctx, a, AuditListRemove, ListSubject(e.ID), map[string]any{"category": e.RemovalCategory, "reason": e.RemovalReason, "inspection": in.ID})
}

// RequestSelfCheck asks the enterprise to check itself and report by deadline; nil means
// Config.SelfCheckDays from now.
func (c *Inspections) RequestSelfCheck(ctx context.Context, a Actor, id int64, version int, deadline *time.Time) (*Inspection, error) {
	return c.update(ctx, a, id, version, AuditInspectionRequestSelfCheck, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		d := now.AddDate(0, 0, c.Config.SelfCheckDays)
		if deadline != nil {
			d = *deadline
		}
		return map[string]any{"deadline": d}, in.RequestSelfCheck(d, now)
	})
}

// AmendReport replaces the enterprise's self-check report before it is reviewed; its proof
// keys must be under the inspection's ProofPrefix.
func (c *Inspections) AmendReport(ctx context.Context, a Actor, id int64, version int, text string, proofKeys []string) (*Inspection, error) {
	return c.update(ctx, a, id, version, AuditInspectionAmendReport, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		if err := checkProofKeys(in, proofKeys); err != nil {
			return nil, err
		}
		return map[string]any{"text": text, "proof_keys": proofKeys}, in.AmendReport(text, proofKeys, a.Name, now)
	})
}

// WithdrawReport withdraws the enterprise's self-check report before it is reviewed.
func (c *Inspections) WithdrawReport(ctx context.Context, a Actor, id int64, version int, reason string) (*Inspection, error) {
	return c.update(ctx, a, id, version, AuditInspectionWithdrawReport, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		withdrawn := in.Report
		return map[string]any{"reason": reason, "withdrawn": withdrawn}, in.WithdrawReport(now)
	})
}

// RequestExtension records the enterprise's request for a later self-check deadline; the
// staff are told.
func (c *Inspections) RequestExtension(ctx context.Context, a Actor, id int64, version int, until time.Time, reason string) (*Inspection, error) {
	return c.notifying(ctx, a, id, version, AuditInspectionRequestExtension, func(in *Inspection, now time.Time) (any, *Notification, error) {
		if err := in.RequestExtension(until, reason, a.Name, now); err != nil {
			return nil, nil, err
		}
		n := &Notification{Event: EventExtensionRequested, Subject: InspectionSubject(in.ID), USCC: in.USCC, At: now, Body: reason}
		return map[string]any{"until": until, "reason": reason},
			n.Say(msgs.New(msgs.NoteExtensionRequested, "uscc", in.USCC, "inspection", strconv.FormatInt(in.ID, 10), "until", until.Format(time.RFC3339))), nil
	})
}

// DecideExtension grants or refuses the pending extension request; the enterprise is told.
func (c *Inspections) DecideExtension(ctx context.Context, a Actor, id int64, version int, grant bool, note string) (*Inspection, error) {
	return c.notifying(ctx, a, id, version, AuditInspectionDecideExtension, func(in *Inspection, now time.Time) (any, *Notification, error) {
		if err := in.DecideExtension(grant, note, a.Name, now); err != nil {
			return nil, nil, err
		}
		e := in.Extensions[len(in.Extensions)-1]
		n := &Notification{Event: EventExtensionDecided, Subject: InspectionSubject(in.ID), USCC: in.USCC, At: now, Body: note}
		return map[string]any{"decision": e.Decision, "note": note, "until": e.Until, "deadline": in.SelfCheckDeadline},
			n.Say(msgs.New(msgs.NoteExtensionDecided, "decision", e.Decision, "inspection", strconv.FormatInt(in.ID, 10), "deadline", in.SelfCheckDeadline.Format(time.RFC3339))), nil
	})
}

// notifying is update for a transition that also tells someone.
func (c *Inspections) notifying(ctx context.Context, a Actor, id int64, version int, action AuditAction, fn func(in *Inspection, now time.Time) (any, *Notification, error)) (*Inspection, error) {
	var n *Notification
	return c.updateWith(ctx, a, id, version, action, func(in *Inspection, _ *Enterprise, now time.Time) (detail any, err error) {
		detail, n, err = fn(in, now)
		return detail, err
	}, func() *Notification { return n })
}

// ProofPrefix is where the proof documents of an inspection's self-check are stored.
func ProofPrefix(uscc string, id int64) string { return fmt.Sprintf("selfcheck/%s/%d/", uscc, id) }

// SubmitReport records the enterprise's self-check report; its proof keys must be under the
// inspection's ProofPrefix.
func (c *Inspections) SubmitReport(ctx context.Context, a Actor, id int64, version int, text string, proofKeys []string) (*Inspection, error) {
	return c.update(ctx, a, id, version, AuditInspectionSubmitReport, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		if err := checkProofKeys(in, proofKeys); err != nil {
			return nil, err
		}
		return map[string]any{"proof_keys": proofKeys}, in.SubmitReport(text, proofKeys, a.Name, now)
	})
}

// checkProofKeys refuses proof keys outside the inspection's ProofPrefix.
func checkProofKeys(in *Inspection, proofKeys []string) error {
	prefix := ProofPrefix(in.USCC, in.ID)
	for i, k := range proofKeys {
		if !strings.HasPrefix(k, prefix) {
			return offsite.Invalid(fmt.Sprintf("proof_keys[%d]", i), "must be a key under %s (from proof-uploads)", prefix)
		}
	}
	return nil
}

// Review reviews the self-check report (ReviewClose or ReviewSiteVisit).
func (c *Inspections) Review(ctx context.Context, a Actor, id int64, version int, outcome, notes string) (*Inspection, error) {
	return c.update(ctx, a, id, version, AuditInspectionReview, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		return map[string]any{"outcome": outcome, "notes": notes}, in.Review(outcome, notes, a.Name, now)
	})
}

// RequestSiteVisit asks for a site visit with a typed trigger.
func (c *Inspections) RequestSiteVisit(ctx context.Context, a Actor, id int64, version int, trigger Trigger, reason string) (*Inspection, error) {
	return c.update(ctx, a, id, version, AuditInspectionRequestSiteVisit, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		return map[string]any{"trigger": trigger, "reason": reason}, in.RequestSiteVisit(trigger, reason, a.Name, now)
	})
}

// ApproveSiteVisit approves the requested site visit; only an approver who did not request it
// may.
func (c *Inspections) ApproveSiteVisit(ctx context.Context, a Actor, id int64, version int) (*Inspection, error) {
	return c.update(ctx, a, id, version, AuditInspectionApproveSiteVisit, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		return nil, in.ApproveSiteVisit(a.Name, a.Role == RoleApprover, now)
	})
}

// RecordSiteVisit records the approved site visit with its checklist.
func (c *Inspections) RecordSiteVisit(ctx context.Context, a Actor, id int64, version int, items []ChecklistItem) (*Inspection, error) {
	return c.update(ctx, a, id, version, AuditInspectionRecordSiteVisit, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		return map[string]any{"checklist": items}, in.RecordSiteVisit(c.Config, items, a.Name, now)
	})
}

// Close closes the inspection; a violation, when one was found, is decided (Decide) and the
// disposition takes effect.
func (c *Inspections) Close(ctx context.Context, a Actor, id int64, version int, note string, v *Violation) (*Inspection, error) {
	return c.update(ctx, a, id, version, AuditInspectionClose, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		var d *Disposition
		if v != nil {
			facts := *v
			// 主动报告 is a fact of the record, not the closer's to assert or forget.
			facts.SelfReported = facts.SelfReported || in.SelfReported()
			if facts.SelfReported && facts.UnreportedExceedance && in.SelfReported() {
				return nil, offsite.Invalid("violation.unreported_exceedance", "contradicts the record: the enterprise reported the incident itself (inspection %d began with its report)", in.ID)
			}
			var err error
			if d, err = Decide(in.Listed, facts, a.Name, now); err != nil {
				return nil, err
			}
		}
		return map[string]any{"note": note, "disposition": d}, in.Close(note, d, now)
	})
}
