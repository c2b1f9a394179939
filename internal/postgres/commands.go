package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// The stores of the enforcement commands (internal/enforce): they load, lock and save records
// and append audit entries in one transaction, and decide nothing.

// InspectionStore is the store of the inspection commands (enforce.Inspections): it loads,
// locks and saves inspections and their effects, and decides nothing.
type InspectionStore struct{ s *EnforceService }

var _ enforce.InspectionStore = (*InspectionStore)(nil)

// NewInspectionStore returns the inspection store of s's database and audit chain.
func NewInspectionStore(s *EnforceService) *InspectionStore { return &InspectionStore{s: s} }

// InTx runs fn in a transaction with the audit chain's locks.
func (st *InspectionStore) InTx(ctx context.Context, fn func(enforce.InspectionTx) error) (err error) {
	defer derrors.Wrap(&err, "InspectionStore.InTx")
	err = st.s.inTx(ctx, func(tx pgx.Tx) error { return fn(&enforceTx{s: st.s, tx: tx}) })
	st.s.public.invalidate() // a disposition may have removed an enterprise from the list
	return formatError(err)
}

// enforceTx implements enforce.InspectionTx, enforce.ListTx and enforce.EnterpriseTx in one
// transaction.
type enforceTx struct {
	s  *EnforceService
	tx pgx.Tx
}

func (t *enforceTx) FindFinding(ctx context.Context, id string) (enforce.FindingFacts, error) {
	var f enforce.FindingFacts
	var owner *string
	err := t.tx.QueryRow(ctx, `SELECT coalesce(p.uscc, f.uscc), f.severity, f.kind, f.class FROM findings f
		LEFT JOIN parcels p ON p.id = f.parcel_id WHERE f.id = $1`, id).Scan(&owner, &f.Severity, &f.Kind, &f.Class)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, offsite.NotFound("finding %q", id)
	}
	if owner != nil {
		f.USCC = *owner
	}
	return f, err
}

func (t *enforceTx) SameMatter(ctx context.Context, a, b string) (bool, error) {
	var same bool
	err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM findings a, findings b
		WHERE a.id = $1 AND b.id = $2 AND a.kind = b.kind AND a.class = b.class AND (
			a.parcel_id = b.parcel_id AND a.capture_ids <> b.capture_ids AND ST_Intersects(a.geom, b.geom)
			-- monitoring: the same rule on the same point and pollutant (internal/monitoring)
			OR a.kind = 'monitoring' AND a.uscc = b.uscc AND a.properties->>'mn' = b.properties->>'mn'
				AND a.properties->>'pollutant' = b.properties->>'pollutant'))`, a, b).Scan(&same)
	return same, err
}

func (t *enforceTx) LockEnterprise(ctx context.Context, uscc string) (*enforce.Enterprise, error) {
	return lockEnterprise(ctx, t.tx, uscc)
}

func (t *enforceTx) LockInspection(ctx context.Context, id int64) (*enforce.Inspection, *enforce.Enterprise, error) {
	var uscc string
	if err := t.tx.QueryRow(ctx, "SELECT uscc FROM inspections WHERE id = $1", id).Scan(&uscc); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil, offsite.NotFound("inspection %d", id)
		}
		return nil, nil, err
	}
	ent, err := lockEnterprise(ctx, t.tx, uscc) // the enterprise first, as every command does
	if err != nil {
		return nil, nil, err
	}
	in, err := scanInspection(t.tx.QueryRow(ctx, "SELECT "+inspectionColumns+" FROM inspections WHERE id = $1 FOR UPDATE", id))
	return in, ent, err
}

func (t *enforceTx) LockOpenInspection(ctx context.Context, uscc string) (*enforce.Inspection, error) {
	in, err := scanInspection(t.tx.QueryRow(ctx, "SELECT "+inspectionColumns+" FROM inspections WHERE uscc = $1 AND status <> 'closed' FOR UPDATE", uscc))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return in, err
}

func (t *enforceTx) LockClosedInspections(ctx context.Context, uscc string, level enforce.Level) ([]*enforce.Inspection, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+inspectionColumns+" FROM inspections WHERE uscc = $1 AND level = $2 AND status = 'closed' ORDER BY id DESC FOR UPDATE", uscc, level)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*enforce.Inspection, error) { return scanInspection(r) })
}

func (t *enforceTx) FindOtherLevelInspection(ctx context.Context, uscc, matter string, level enforce.Level) (*enforce.Inspection, error) {
	in, err := scanInspection(t.tx.QueryRow(ctx, "SELECT "+inspectionColumns+` FROM inspections WHERE uscc = $1 AND matter = $2 AND level <> $3
		AND status = 'closed' AND linked_to IS NULL ORDER BY id DESC LIMIT 1`, uscc, matter, level))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return in, err
}

func (t *enforceTx) CreateInspection(ctx context.Context, in *enforce.Inspection) error {
	return insertInspection(ctx, t.tx, in)
}

func (t *enforceTx) AddWarning(ctx context.Context, in *enforce.Inspection, w *enforce.Warning) error {
	return addWarning(ctx, t.tx, in, w)
}

func (t *enforceTx) SaveInspection(ctx context.Context, in *enforce.Inspection) error {
	return saveInspection(ctx, t.tx, in)
}

func (t *enforceTx) SaveEnterpriseFlags(ctx context.Context, ent *enforce.Enterprise) error {
	return saveEnterpriseFlags(ctx, t.tx, ent)
}

func (t *enforceTx) LockActiveListEntry(ctx context.Context, uscc string, now time.Time) (*enforce.ListEntry, error) {
	e, err := scanListEntry(t.tx.QueryRow(ctx, "SELECT "+listColumns+" FROM list_entries l WHERE l.uscc = $1 AND l.status IN ('proposed', 'notice', 'listed') FOR UPDATE", uscc), enforce.Config{}, now)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return e, err
}

func (t *enforceTx) SaveListEntry(ctx context.Context, e *enforce.ListEntry) error {
	return saveListEntry(ctx, t.tx, e)
}

func (t *enforceTx) Append(ctx context.Context, a enforce.Actor, action enforce.AuditAction, subject string, detail any) error {
	return t.s.appendAudit(ctx, t.tx, a, action, subject, detail)
}

// EnterpriseStore is the store of the enterprise commands (enforce.Enterprises).
type EnterpriseStore struct{ s *EnforceService }

var _ enforce.EnterpriseStore = (*EnterpriseStore)(nil)

// NewEnterpriseStore returns the enterprise store of s's database and audit chain.
func NewEnterpriseStore(s *EnforceService) *EnterpriseStore { return &EnterpriseStore{s: s} }

// InTx runs fn in a transaction with the audit chain's locks.
func (st *EnterpriseStore) InTx(ctx context.Context, fn func(enforce.EnterpriseTx) error) (err error) {
	defer derrors.Wrap(&err, "EnterpriseStore.InTx")
	err = st.s.inTx(ctx, func(tx pgx.Tx) error { return fn(&enforceTx{s: st.s, tx: tx}) })
	st.s.public.invalidate() // the public list shows enterprises' names and addresses
	st.s.auth.invalidate()   // an enterprise may have moved to another agency
	return formatError(err)
}

// ListStore is the store of the positive-list commands (enforce.List).
type ListStore struct{ s *EnforceService }

var _ enforce.ListStore = (*ListStore)(nil)

// NewListStore returns the positive-list store of s's database and audit chain.
func NewListStore(s *EnforceService) *ListStore { return &ListStore{s: s} }

// InTx runs fn in a transaction with the audit chain's locks.
func (st *ListStore) InTx(ctx context.Context, fn func(enforce.ListTx) error) (err error) {
	defer derrors.Wrap(&err, "ListStore.InTx")
	err = st.s.inTx(ctx, func(tx pgx.Tx) error { return fn(&enforceTx{s: st.s, tx: tx}) })
	st.s.public.invalidate()
	return formatError(err)
}

func (t *enforceTx) LockListEntry(ctx context.Context, id int64, now time.Time) (*enforce.ListEntry, *enforce.Enterprise, error) {
	e, err := scanListEntry(t.tx.QueryRow(ctx, "SELECT "+listColumns+" FROM list_entries l WHERE l.id = $1 FOR UPDATE", id), enforce.Config{}, now)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, offsite.NotFound("list entry %d", id)
	}
	if err != nil {
		return nil, nil, err
	}
	ent, err := lockEnterprise(ctx, t.tx, e.USCC)
	return e, ent, err
}

func (t *enforceTx) LockListedUntil(ctx context.Context, until time.Time) ([]*enforce.ListEntry, error) {
	rows, err := t.tx.Query(ctx, "SELECT "+listColumns+" FROM list_entries l WHERE l.status = 'listed' AND list_effective_status(l.status, l.valid_to, $1) = 'expired' ORDER BY l.id FOR UPDATE", until)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*enforce.ListEntry, error) {
		e, err := scanListEntry(r, enforce.Config{}, until)
		if err != nil {
			return nil, err
		}
		e.Status = enforce.ListListed // as stored; scanListEntry reports the effective status
		return e, nil
	})
}

func (t *enforceTx) CreateListEntry(ctx context.Context, e *enforce.ListEntry) error {
	return insertListEntry(ctx, t.tx, e)
}
