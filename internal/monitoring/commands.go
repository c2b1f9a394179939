package monitoring

import (
	"context"
	"fmt"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// The commands of the registry: each validates, then loads, saves and appends its audit
// entry in one transaction of the store, at the injected clock's time.

// Store runs registry commands in transactions.
type Store interface {
	// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
	InTx(ctx context.Context, fn func(Tx) error) error
}

// Tx is what the registry commands load, lock, save and append in a transaction.
type Tx interface {
	// LockPoint locks and returns a point; offsite.ErrNotFound when there is none.
	LockPoint(ctx context.Context, mn string) (*Point, error)
	// CreatePoint stores a new point, setting its Version and times; offsite.ErrConflict when
	// its MN is registered, offsite.ErrInvalid when its enterprise does not exist.
	CreatePoint(ctx context.Context, p *Point) error
	// SavePoint stores the point's attributes and password hash, setting its new Version.
	SavePoint(ctx context.Context, p *Point) error
	// SetLimit creates or replaces the limit of its enterprise, outlet and pollutant, setting
	// its UpdatedAt; it reports whether one was replaced.
	SetLimit(ctx context.Context, l *Limit) (replaced bool, err error)
	// DeleteLimit removes a limit; offsite.ErrNotFound when there is none.
	DeleteLimit(ctx context.Context, uscc, outlet, pollutant string) error
	// CreateSelfReport stores a report, setting its ID and ReportedAt, and marks the pending
	// exceedances it covers (SelfReport.Covers) reported; it returns their finding ids.
	CreateSelfReport(ctx context.Context, r *SelfReport) ([]string, error)
	// ReleaseQuarantine stores the values of mn's quarantined frames whose PW accept takes and
	// marks those frames released; the others stay in quarantine. It returns how many frames
	// were released and how many kept.
	ReleaseQuarantine(ctx context.Context, mn string, accept func(pw string) bool) (released, kept int, err error)
	// CreateDataRequest stores a data request, setting its ID.
	CreateDataRequest(ctx context.Context, r *DataRequest) error
	// Append chains an audit entry to the log.
	Append(ctx context.Context, a enforce.Actor, action enforce.AuditAction, subject string, detail any) error
}

// PointSubject is the audit subject of a monitoring point.
func PointSubject(mn string) string { return "monitoring-point/" + mn }

// Registry holds the registry's commands.
type Registry struct {
	Store Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Registry) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// CreatePoint registers a monitoring point with its HJ 212 access password.
func (c *Registry) CreatePoint(ctx context.Context, a enforce.Actor, p *Point, password string) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	p.PasswordHash = hash
	return c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreatePoint(ctx, p); err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditMonitoringPointCreate, PointSubject(p.MN),
			map[string]any{"uscc": p.USCC, "outlet": p.Outlet, "name": p.Name, "location": []float64{p.Lon, p.Lat}})
	})
}

// UpdatePoint changes a point's outlet, name and location, and its password when password is
// not "", at the version read. Its enterprise cannot change: register the MN anew instead
// (its data and findings stay the old enterprise's).
func (c *Registry) UpdatePoint(ctx context.Context, a enforce.Actor, p *Point, password string) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Version < 1 {
		return offsite.Required("version", "is required: the version of the point as read")
	}
	if password != "" {
		if err := CheckPassword(password); err != nil {
			return err
		}
	}
	return c.Store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.LockPoint(ctx, p.MN)
		if err != nil {
			return err
		}
		if cur.Version != p.Version {
			return offsite.Conflict("point %s is at version %d, not %d: it changed since it was read", p.MN, cur.Version, p.Version)
		}
		if cur.USCC != p.USCC {
			return offsite.Invalid("uscc", "point %s belongs to %s; a point does not change enterprise", p.MN, cur.USCC)
		}
		p.PasswordHash = cur.PasswordHash
		if password != "" {
			if p.PasswordHash, err = HashPassword(password); err != nil {
				return err
			}
		}
		p.CreatedAt = cur.CreatedAt
		if err := tx.SavePoint(ctx, p); err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditMonitoringPointUpdate, PointSubject(p.MN), map[string]any{
			"outlet": p.Outlet, "name": p.Name, "location": []float64{p.Lon, p.Lat}, "password_changed": password != "", "version": p.Version})
	})
}

// SetLimit sets a permit limit.
func (c *Registry) SetLimit(ctx context.Context, a enforce.Actor, l *Limit) error {
	if err := l.Validate(); err != nil {
		return err
	}
	return c.Store.InTx(ctx, func(tx Tx) error {
		replaced, err := tx.SetLimit(ctx, l)
		if err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditMonitoringLimitSet, enforce.EnterpriseSubject(l.USCC), map[string]any{"limit": l, "replaced": replaced})
	})
}

// DeleteLimit removes a permit limit.
func (c *Registry) DeleteLimit(ctx context.Context, a enforce.Actor, uscc, outlet, pollutant string) error {
	return c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeleteLimit(ctx, uscc, outlet, pollutant); err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditMonitoringLimitDelete, enforce.EnterpriseSubject(uscc),
			map[string]any{"outlet": outlet, "pollutant": pollutant})
	})
}

// QuarantinedMN summarises the frames of one MN kept in quarantine for one reason: an MN
// that no point registers ("unknown MN"), or a PW that is not its point's ("wrong PW").
type QuarantinedMN struct {
	MN         string    `json:"mn"`
	Reason     string    `json:"reason"`
	Frames     int64     `json:"frames"`
	First      time.Time `json:"first_received_at"`
	Last       time.Time `json:"last_received_at"`
	RemoteAddr string    `json:"last_remote_addr"`
	// USCC is the enterprise of the MN's point when one is registered now: its frames can be
	// released into its series.
	USCC string `json:"uscc,omitempty"`
}

// Release is what releasing a point's quarantine did.
type Release struct {
	MN       string `json:"mn"`
	Released int    `json:"released"` // frames whose values joined the point's series
	Kept     int    `json:"kept"`     // frames left in quarantine: their PW is not the point's
}

// ReleaseQuarantine releases into the series of the registered point mn the frames kept in
// quarantine under its MN (sent before it was registered, or while its password was
// changing) that carry the point's password; frames with any other PW stay in quarantine,
// since whoever sent them is not known to be the point's logger.
func (c *Registry) ReleaseQuarantine(ctx context.Context, a enforce.Actor, mn string) (*Release, error) {
	if err := CheckMN(mn); err != nil {
		return nil, err
	}
	out := &Release{MN: mn}
	err := c.Store.InTx(ctx, func(tx Tx) error {
		p, err := tx.LockPoint(ctx, mn)
		if err != nil {
			return err
		}
		out.Released, out.Kept, err = tx.ReleaseQuarantine(ctx, mn, func(pw string) bool { return VerifyPassword(p.PasswordHash, pw) })
		if err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditMonitoringPointReleaseQuarantine, PointSubject(mn),
			map[string]any{"uscc": p.USCC, "released": out.Released, "kept": out.Kept})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReportExceedance records an enterprise's own report of an exceedance at one of its points
// (四.10) and returns the exceedance findings it covers in time. An enterprise actor reports
// only for itself.
func (c *Registry) ReportExceedance(ctx context.Context, a enforce.Actor, r *SelfReport) ([]string, error) {
	if a.Role == enforce.RoleEnterprise && a.USCC != r.USCC {
		return nil, fmt.Errorf("an enterprise token reports only for its own points: %w", offsite.ErrForbidden)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	r.ReportedBy, r.ReportedAt = a.Name, c.now()
	var covered []string
	err := c.Store.InTx(ctx, func(tx Tx) error {
		p, err := tx.LockPoint(ctx, r.MN)
		if err != nil {
			return err
		}
		if p.USCC != r.USCC {
			if a.Role == enforce.RoleEnterprise {
				return fmt.Errorf("point %s is not one of the enterprise's: %w", r.MN, offsite.ErrForbidden)
			}
			return offsite.Invalid("mn", "point %s belongs to %s, not %s", r.MN, p.USCC, r.USCC)
		}
		if covered, err = tx.CreateSelfReport(ctx, r); err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditMonitoringSelfReport, PointSubject(r.MN), map[string]any{"report": r, "covers": covered})
	})
	return covered, err
}
