package enforce

import (
	"context"
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
func (c *List) update(ctx context.Context, a Actor, id int64, version int, action AuditAction, fn func(e *ListEntry, ent *Enterprise, now time.Time) (detail any, err error)) (out *ListEntry, err error) {
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

// Renew renews a listed or expired entry after evaluating admission on the facts again.
func (c *List) Renew(ctx context.Context, a Actor, id int64, version int, facts Facts) (*ListEntry, error) {
	return c.update(ctx, a, id, version, AuditListRenew, func(e *ListEntry, ent *Enterprise, now time.Time) (any, error) {
		ev := Evaluate(c.Config.Admission, facts)
		return ev, e.Renew(c.Config, ent, ev, now)
	})
}

// Remove takes the entry off the list; a barring category bars the enterprise for good
// (二.4).
func (c *List) Remove(ctx context.Context, a Actor, id int64, version int, category, reason string) (*ListEntry, error) {
	return c.update(ctx, a, id, version, AuditListRemove, func(e *ListEntry, ent *Enterprise, now time.Time) (any, error) {
		barred, err := e.Remove(category, reason, now)
		if barred {
			ent.Barred, ent.BarredReason = true, category+": "+reason
		}
		return map[string]any{"category": category, "reason": reason, "barred": barred}, err
	})
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
