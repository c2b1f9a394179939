package enforce

import (
	"context"
	"fmt"
	"time"

	"github.com/offsite/offsite"
)

// ListStore runs positive-list commands in transactions.
type ListStore interface {
	// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
	InTx(ctx context.Context, fn func(ListTx) error) error
}

// ListTx is what the positive-list commands load, lock, save and append in a transaction.
type ListTx interface {
	// LockEnterprise locks and returns the enterprise, with its effective list status.
	LockEnterprise(ctx context.Context, uscc string) (*Enterprise, error)
	// LockListEntry locks the entry, then its enterprise; the entry has its effective status
	// and health-check status at now.
	LockListEntry(ctx context.Context, id int64, now time.Time) (*ListEntry, *Enterprise, error)
	// LockListedUntil locks the listed entries whose validity ends at or before t, by id;
	// their Status is as stored.
	LockListedUntil(ctx context.Context, t time.Time) ([]*ListEntry, error)
	// CreateListEntry stores a new entry, setting its ID, Version and times.
	CreateListEntry(ctx context.Context, e *ListEntry) error
	// SaveListEntry stores the entry, setting its new Version.
	SaveListEntry(ctx context.Context, e *ListEntry) error
	// SaveEnterpriseFlags stores the enterprise's barred and special supervision flags.
	SaveEnterpriseFlags(ctx context.Context, ent *Enterprise) error
	// Append chains an audit entry to the log.
	Append(ctx context.Context, a Actor, action AuditAction, subject string, detail any) error
}

// List holds the commands of the positive list (二.2–4).
type List struct {
	Store  ListStore
	Config Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *List) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// Propose evaluates the enterprise's admission against the facts and starts its list entry.
// A refusal (barred, or no admission path met) is audited as list.refused and reported.
func (c *List) Propose(ctx context.Context, a Actor, uscc string, facts Facts) (*ListEntry, error) {
	var out *ListEntry
	var refusal error
	err := c.Store.InTx(ctx, func(tx ListTx) error {
		ent, err := tx.LockEnterprise(ctx, uscc)
		if err != nil {
			return err
		}
		if err := a.Reach(ent); err != nil {
			return err
		}
		switch ent.ListStatus {
		case ListProposed, ListNotice, ListListed:
			return offsite.Conflict("enterprise %s already has a list entry that is %s", uscc, ent.ListStatus)
		}
		ev := Evaluate(c.Config.Admission, facts)
		e, err := Propose(ent, ev, c.now())
		if err != nil {
			// The refusal is part of the record: commit its audit entry, then report it.
			refusal = err
			return tx.Append(ctx, a, AuditListRefused, EnterpriseSubject(uscc), map[string]any{"reason": err.Error(), "evaluation": ev})
		}
		if err := tx.CreateListEntry(ctx, e); err != nil {
			return err
		}
		out = e
		return tx.Append(ctx, a, AuditListPropose, ListSubject(e.ID), e)
	})
	if err == nil && refusal != nil {
		return nil, refusal
	}
	return out, err
}

// update runs a transition on entry id at version under the store's locks, saves the entry
// (and its enterprise's flags when the transition changed them) and audits it as action with
// fn's detail.
// updateGuard lets a command decline, after the locks, to change and audit anything.
type updateGuard func(e *ListEntry, now time.Time) bool

func onlyIf(g updateGuard) updateGuard { return g }

func (c *List) update(ctx context.Context, a Actor, id int64, version int, action AuditAction, fn func(e *ListEntry, ent *Enterprise, now time.Time) (detail any, err error), guards ...updateGuard) (out *ListEntry, err error) {
	err = c.Store.InTx(ctx, func(tx ListTx) error {
		now := c.now()
		e, ent, err := tx.LockListEntry(ctx, id, now)
		if err != nil {
			return err
		}
		if err := a.Reach(ent); err != nil {
			return err
		}
		if e.Version != version {
			return offsite.Conflict("list entry %d is at version %d, not %d: it changed since it was read", id, e.Version, version)
		}
		for _, g := range guards {
			if !g(e, now) {
				out = e
				_, err := fn(e, ent, now) // tells the caller what it found; changes nothing
				return err
			}
		}
		barred, special := ent.Barred, ent.SpecialSupervision
		detail, err := fn(e, ent, now)
		if err != nil {
			return err
		}
		if err := tx.SaveListEntry(ctx, e); err != nil {
			return err
		}
		if ent.Barred != barred || ent.SpecialSupervision != special {
			if err := tx.SaveEnterpriseFlags(ctx, ent); err != nil {
				return err
			}
		}
		out = e
		return tx.Append(ctx, a, action, ListSubject(id), map[string]any{"status": e.Status, "version": e.Version, "detail": detail})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NoticeZone is the time zone of dates in the procedure (China Standard Time).
var NoticeZone = time.FixedZone("CST", 8*3600)

// Notice puts a proposed entry on public notice from start to end (二.3). startIsDate says
// start was given as a date: today's date then means from now, when the notice is posted.
func (c *List) Notice(ctx context.Context, a Actor, id int64, version int, start time.Time, startIsDate bool, end time.Time) (*ListEntry, error) {
	return c.update(ctx, a, id, version, AuditListNotice, func(e *ListEntry, _ *Enterprise, now time.Time) (any, error) {
		if startIsDate && start.Format(time.DateOnly) == now.In(NoticeZone).Format(time.DateOnly) {
			start = now
		}
		return map[string]any{"notice_start": start, "notice_end": end}, e.StartNotice(c.Config, start, end, now)
	})
}

// Object records an objection raised during the notice.
func (c *List) Object(ctx context.Context, a Actor, id int64, version int, text, raisedBy string) (*ListEntry, error) {
	return c.update(ctx, a, id, version, AuditListObjection, func(e *ListEntry, _ *Enterprise, now time.Time) (any, error) {
		return e.Object(text, raisedBy, now)
	})
}

// Resolve resolves objection n as "upheld" (the entry is rejected) or "dismissed".
func (c *List) Resolve(ctx context.Context, a Actor, id int64, version int, n int, outcome, resolution string) (*ListEntry, error) {
	return c.update(ctx, a, id, version, AuditListObjectionResolve, func(e *ListEntry, _ *Enterprise, now time.Time) (any, error) {
		return map[string]any{"objection": n, "outcome": outcome}, e.Resolve(n, outcome, resolution, a.Name, now)
	})
}

// Publish lists an entry whose notice is over, valid from validFrom (nil: now).
func (c *List) Publish(ctx context.Context, a Actor, id int64, version int, validFrom *time.Time) (*ListEntry, error) {
	return c.update(ctx, a, id, version, AuditListList, func(e *ListEntry, _ *Enterprise, now time.Time) (any, error) {
		from := now
		if validFrom != nil {
			from = *validFrom
		}
		return map[string]any{"valid_from": from}, e.List(c.Config, from, now)
	})
}

// NoticePeriod is the public notice period of an adjustment; StartIsDate says Start was given as
// a date (today's date then means now).
type NoticePeriod struct {
	Start, End  time.Time
	StartIsDate bool
}

func (n NoticePeriod) start(now time.Time) time.Time {
	if n.StartIsDate && n.Start.Format(time.DateOnly) == now.In(NoticeZone).Format(time.DateOnly) {
		return now
	}
	return n.Start
}

// Renew puts the renewal of a listed or expired entry on public notice after evaluating
// admission on the facts again (二.3: the list is adjusted after notice); ApplyAdjustment
// renews it once the notice is over.
func (c *List) Renew(ctx context.Context, a Actor, id int64, version int, facts Facts, n NoticePeriod) (*ListEntry, error) {
	return c.update(ctx, a, id, version, AuditListAdjustmentNotice, func(e *ListEntry, ent *Enterprise, now time.Time) (any, error) {
		ev := Evaluate(c.Config.Admission, facts)
		adj := Adjustment{Kind: ChangeRenewal, Evaluation: &ev, ProposedBy: a.Name, NoticeStart: n.start(now), NoticeEnd: n.End}
		return map[string]any{"kind": adj.Kind, "evaluation": ev, "notice_start": adj.NoticeStart, "notice_end": adj.NoticeEnd},
			e.ProposeAdjustment(c.Config, ent, adj, now)
	})
}

// Remove takes an entry off the list. A listed entry's removal is an adjustment of the list:
// it goes on public notice (n) and takes effect with ApplyAdjustment. An entry not yet listed
// (proposed or on notice) leaves the procedure at once. A barring category bars the
// enterprise for good (二.4) when the removal takes effect.
func (c *List) Remove(ctx context.Context, a Actor, id int64, version int, category, reason string, n *NoticePeriod) (*ListEntry, error) {
	var listed bool
	out, err := c.update(ctx, a, id, version, AuditListRemove, func(e *ListEntry, ent *Enterprise, now time.Time) (any, error) {
		if listed = e.EffectiveStatus(now) == ListListed; listed {
			return nil, nil // decided below, as an adjustment
		}
		barred, err := e.Remove(category, reason, now)
		if barred {
			ent.Barred, ent.BarredReason = true, category+": "+reason
		}
		return map[string]any{"category": category, "reason": reason, "barred": barred}, err
	}, onlyIf(func(e *ListEntry, now time.Time) bool { return e.EffectiveStatus(now) != ListListed }))
	if err != nil || !listed {
		return out, err
	}
	if n == nil {
		return nil, offsite.Invalid("notice_start", "the removal of a listed enterprise goes on public notice first: give notice_start and notice_end")
	}
	return c.update(ctx, a, id, version, AuditListAdjustmentNotice, func(e *ListEntry, ent *Enterprise, now time.Time) (any, error) {
		adj := Adjustment{Kind: ChangeRemoval, Category: category, Reason: reason, ProposedBy: a.Name, NoticeStart: n.start(now), NoticeEnd: n.End}
		return map[string]any{"kind": adj.Kind, "category": category, "reason": reason, "notice_start": adj.NoticeStart, "notice_end": adj.NoticeEnd},
			e.ProposeAdjustment(c.Config, ent, adj, now)
	})
}

// ApplyAdjustment makes the renewal or removal on notice take effect once its notice is over
// and every objection resolved; it is audited as list.renew or list.remove, and the change
// then awaits filing with the province.
func (c *List) ApplyAdjustment(ctx context.Context, a Actor, id int64, version int) (*ListEntry, error) {
	var kind string
	err := c.Store.InTx(ctx, func(tx ListTx) error {
		e, _, err := tx.LockListEntry(ctx, id, c.now())
		if err != nil {
			return err
		}
		if e.Adjustment != nil {
			kind = e.Adjustment.Kind
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	action := AuditListRenew
	if kind == ChangeRemoval {
		action = AuditListRemove
	}
	return c.update(ctx, a, id, version, action, func(e *ListEntry, ent *Enterprise, now time.Time) (any, error) {
		adj := e.Adjustment
		barred, err := e.ApplyAdjustment(c.Config, ent, now)
		if err != nil {
			return nil, err
		}
		if barred {
			ent.Barred, ent.BarredReason = true, adj.Category+": "+adj.Reason
		}
		return map[string]any{"kind": adj.Kind, "category": adj.Category, "barred": barred, "valid_to": e.ValidTo}, nil
	})
}

// SubmitFiling files the entry's change awaiting filing with the province (二.3).
func (c *List) SubmitFiling(ctx context.Context, a Actor, id int64, version int) (*ListEntry, error) {
	return c.update(ctx, a, id, version, AuditListFilingSubmit, func(e *ListEntry, _ *Enterprise, now time.Time) (any, error) {
		return e.SubmitFiling(a.Name, now)
	})
}

// ReceiveFiling records the province's receipt of a submitted filing, setting FiledAt. Only
// the province the enterprise's agency lies under receives it (an actor of that province's
// own agency, or one who reaches every agency).
func (c *List) ReceiveFiling(ctx context.Context, a Actor, id int64, version int, receipt string) (*ListEntry, error) {
	return c.update(ctx, a, id, version, AuditListFilingReceipt, func(e *ListEntry, ent *Enterprise, now time.Time) (any, error) {
		if a.Agency != 0 && (len(ent.AgencyPath) == 0 || ent.AgencyPath[0] != a.Agency) {
			return nil, fmt.Errorf("the filing is received by the province (agency %v), not by agency %d: %w", firstOf(ent.AgencyPath), a.Agency, offsite.ErrForbidden)
		}
		return e.ReceiveFiling(receipt, a.Name, now)
	})
}

func firstOf(path []int64) any {
	if len(path) == 0 {
		return "unknown"
	}
	return path[0]
}

// Expire marks the listed entries past their validity as expired, each audited, and reports
// how many.
func (c *List) Expire(ctx context.Context, a Actor) (n int, err error) {
	now := c.now()
	err = c.Store.InTx(ctx, func(tx ListTx) error {
		es, err := tx.LockListedUntil(ctx, now)
		if err != nil {
			return err
		}
		for _, e := range es {
			if !e.Expire(now) {
				continue
			}
			if err := tx.SaveListEntry(ctx, e); err != nil {
				return err
			}
			if err := tx.Append(ctx, a, AuditListExpire, ListSubject(e.ID), map[string]any{"valid_to": e.ValidTo}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
