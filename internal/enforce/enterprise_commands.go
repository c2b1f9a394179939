package enforce

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/offsite/offsite"
)

// EnterpriseStore runs enterprise commands in transactions, reads an enterprise's evidence
// and records views of it.
type EnterpriseStore interface {
	// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
	InTx(ctx context.Context, fn func(EnterpriseTx) error) error
	// FindEvidence returns the path of the enterprise's agency and its parcels with their
	// clips and findings, newest first; offsite.ErrNotFound when there is no such enterprise.
	FindEvidence(ctx context.Context, uscc string) (agencyPath []int64, _ []EvidenceParcel, _ error)
	// AppendView chains the audit entry of a view to the log and returns once it is
	// committed; the views of concurrent requests may share one commit.
	AppendView(ctx context.Context, a Actor, action AuditAction, subject string, detail any) error
}

// EnterpriseTx is what the enterprise commands load, lock, save and append in a transaction.
type EnterpriseTx interface {
	// LockEnterprise locks and returns the enterprise, with its effective list status.
	LockEnterprise(ctx context.Context, uscc string) (*Enterprise, error)
	// CreateEnterprise stores a new enterprise, setting its Version and times;
	// offsite.ErrConflict when its USCC is stored.
	CreateEnterprise(ctx context.Context, e *Enterprise) error
	// SaveEnterprise stores the enterprise's attributes (not its flags), setting its new
	// Version and times.
	SaveEnterprise(ctx context.Context, e *Enterprise) error
	// ImportEnterprise creates e, row of an import, or replaces the attributes of the stored
	// enterprise of its USCC; a row the store refuses is an *ImportError naming it.
	ImportEnterprise(ctx context.Context, row int, e *Enterprise) error
	// AgencyPath returns the path of agency id (0: the first province); an unknown agency is
	// offsite.ErrInvalid naming agency_id.
	AgencyPath(ctx context.Context, id int64) ([]int64, error)
	// SaveParcel stores p, the i-th parcel of a request, as its EnterpriseUSCC's, replacing the
	// parcel of its ID, and sets its times.
	SaveParcel(ctx context.Context, i int, p *offsite.Parcel) error
	// RetireParcel marks parcel id of enterprise uscc retired at; offsite.ErrNotFound when
	// the enterprise has no such parcel not yet retired.
	RetireParcel(ctx context.Context, uscc, id string, at time.Time) error
	// CreateHealthVisit stores a visit, setting its ID and CreatedAt.
	CreateHealthVisit(ctx context.Context, v *HealthVisit) error
	// Append chains an audit entry to the log.
	Append(ctx context.Context, a Actor, action AuditAction, subject string, detail any) error
}

// Enterprises holds the commands of the enterprise register: attributes, parcels and
// health-check visits.
type Enterprises struct {
	Store EnterpriseStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Enterprises) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// auditOverride records that e was admitted with a legacy USCC whose check character the
// GB 32100 check refuses.
func auditOverride(ctx context.Context, tx EnterpriseTx, a Actor, e *Enterprise) error {
	if !e.LegacyUSCC {
		return nil
	}
	want, _ := USCCCheckChar(e.USCC[:17])
	return tx.Append(ctx, a, AuditEnterpriseUSCCOverride, EnterpriseSubject(e.USCC), map[string]any{
		"uscc": e.USCC, "check_character": string(e.USCC[17]), "expected": string(want),
		"note": "legacy code admitted by explicit override of the GB 32100 check",
	})
}

// place puts e in the actor's agency when it names none, and refuses an agency the actor
// does not reach.
func place(ctx context.Context, tx EnterpriseTx, a Actor, e *Enterprise) error {
	if e.AgencyID == 0 {
		e.AgencyID = a.Agency
	}
	path, err := tx.AgencyPath(ctx, e.AgencyID)
	if err != nil {
		return err
	}
	if !a.Reaches(path) {
		return fmt.Errorf("agency %d is outside %s's: %w", e.AgencyID, a.Name, offsite.ErrForbidden)
	}
	e.AgencyPath = path
	return nil
}

// Create stores a validated enterprise in an agency the actor reaches (its own by default).
func (c *Enterprises) Create(ctx context.Context, a Actor, e *Enterprise) error {
	return c.Store.InTx(ctx, func(tx EnterpriseTx) error {
		if err := place(ctx, tx, a, e); err != nil {
			return err
		}
		if err := tx.CreateEnterprise(ctx, e); err != nil {
			return err
		}
		if err := auditOverride(ctx, tx, a, e); err != nil {
			return err
		}
		return tx.Append(ctx, a, AuditEnterpriseCreate, EnterpriseSubject(e.USCC), e)
	})
}

// Update replaces the attributes of a validated enterprise if it is at e.Version.
func (c *Enterprises) Update(ctx context.Context, a Actor, e *Enterprise) error {
	return c.Store.InTx(ctx, func(tx EnterpriseTx) error {
		cur, err := tx.LockEnterprise(ctx, e.USCC)
		if err != nil {
			return err
		}
		if err := a.Reach(cur); err != nil {
			return err
		}
		if cur.Version != e.Version {
			return offsite.Conflict("enterprise %s is at version %d, not %d: reload and retry", e.USCC, cur.Version, e.Version)
		}
		if e.AgencyID == 0 {
			e.AgencyID = cur.AgencyID
		}
		if e.AgencyID != cur.AgencyID {
			if err := place(ctx, tx, a, e); err != nil {
				return err
			}
		}
		if err := tx.SaveEnterprise(ctx, e); err != nil {
			return err
		}
		if err := auditOverride(ctx, tx, a, e); err != nil {
			return err
		}
		return tx.Append(ctx, a, AuditEnterpriseUpdate, EnterpriseSubject(e.USCC), e)
	})
}

// Import creates or updates all the validated enterprises, or none.
func (c *Enterprises) Import(ctx context.Context, a Actor, es []*Enterprise) error {
	return c.Store.InTx(ctx, func(tx EnterpriseTx) error {
		usccs := make([]string, len(es))
		for i, e := range es {
			usccs[i] = e.USCC
			cur, err := tx.LockEnterprise(ctx, e.USCC)
			switch {
			case err == nil:
				if err := a.Reach(cur); err != nil {
					return &ImportError{Rows: []ImportRowError{{Row: i + 1, USCC: e.USCC, Field: "uscc", Problem: err.Error()}}}
				}
				if e.AgencyID == 0 {
					e.AgencyID = cur.AgencyID
				}
			case !errors.Is(err, offsite.ErrNotFound):
				return err
			}
			if err := place(ctx, tx, a, e); err != nil {
				if errors.Is(err, offsite.ErrForbidden) || errors.Is(err, offsite.ErrInvalid) {
					return &ImportError{Rows: []ImportRowError{{Row: i + 1, USCC: e.USCC, Field: "agency_id", Problem: err.Error()}}}
				}
				return err
			}
			if err := tx.ImportEnterprise(ctx, i+1, e); err != nil {
				return err
			}
			if err := auditOverride(ctx, tx, a, e); err != nil {
				return err
			}
		}
		return tx.Append(ctx, a, AuditEnterpriseImport, "enterprise/*", map[string]any{"count": len(es), "uscc": usccs})
	})
}

// SetParcels stores parcels (WGS84) as the enterprise's, all or none.
func (c *Enterprises) SetParcels(ctx context.Context, a Actor, uscc string, parcels []*offsite.Parcel) error {
	return c.Store.InTx(ctx, func(tx EnterpriseTx) error {
		ent, err := tx.LockEnterprise(ctx, uscc)
		if err != nil {
			return err
		}
		if err := a.Reach(ent); err != nil {
			return err
		}
		ids := make([]string, len(parcels))
		for i, p := range parcels {
			p.EnterpriseUSCC = uscc
			ids[i] = p.ID
			if err := tx.SaveParcel(ctx, i, p); err != nil {
				return err
			}
		}
		return tx.Append(ctx, a, AuditEnterpriseParcels, EnterpriseSubject(uscc), map[string]any{"parcel_ids": ids})
	})
}

// RetireParcel retires the enterprise's parcel id: it leaves the lists, the OGC collections
// and clipping, and stays in the evidence already made on it. Audited.
func (c *Enterprises) RetireParcel(ctx context.Context, a Actor, uscc, id string) (time.Time, error) {
	now := c.now()
	return now, c.Store.InTx(ctx, func(tx EnterpriseTx) error {
		ent, err := tx.LockEnterprise(ctx, uscc)
		if err != nil {
			return err
		}
		if err := a.Reach(ent); err != nil {
			return err
		}
		if err := tx.RetireParcel(ctx, uscc, id, now); err != nil {
			return err
		}
		return tx.Append(ctx, a, AuditEnterpriseParcelRetire, EnterpriseSubject(uscc), map[string]any{"parcel_id": id})
	})
}

// RecordHealthVisit records a health-check visit (二.4); a visit more than an hour ahead of
// the clock is refused.
func (c *Enterprises) RecordHealthVisit(ctx context.Context, a Actor, v *HealthVisit) error {
	if v.VisitedAt.After(c.now().Add(time.Hour)) {
		return offsite.Invalid("visited_at", "is in the future")
	}
	return c.Store.InTx(ctx, func(tx EnterpriseTx) error {
		ent, err := tx.LockEnterprise(ctx, v.USCC)
		if err != nil {
			return err
		}
		if err := a.Reach(ent); err != nil {
			return err
		}
		if err := tx.CreateHealthVisit(ctx, v); err != nil {
			return err
		}
		return tx.Append(ctx, a, AuditHealthVisitRecord, EnterpriseSubject(v.USCC), v)
	})
}

// Evidence returns the enterprise's parcels with their clips and findings. The view is part
// of the record (issue 6 item 8): it is audited, and committed before the evidence is
// returned. An actor the enterprise is out of reach of (Actor.Reach) is refused, unaudited:
// the agency comes with the evidence, so the route need not look it up before.
func (c *Enterprises) Evidence(ctx context.Context, a Actor, uscc string) ([]EvidenceParcel, error) {
	path, ev, err := c.Store.FindEvidence(ctx, uscc)
	if err != nil {
		return nil, err
	}
	if err := a.Reach(&Enterprise{USCC: uscc, AgencyPath: path}); err != nil {
		return nil, err
	}
	if err := c.Store.AppendView(ctx, a, AuditEvidenceView, EnterpriseSubject(uscc), map[string]any{"parcels": len(ev)}); err != nil {
		return nil, err
	}
	return ev, nil
}
