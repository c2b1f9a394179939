package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

func marshalDoc(v any) ([]byte, error) { return json.Marshal(v) }

const listColumns = `l.id, l.uscc, l.status, l.doc, l.version, l.created_at, l.updated_at,
	COALESCE((SELECT array_agg(visited_at ORDER BY visited_at) FROM health_visits h WHERE h.uscc = l.uscc), '{}')`

func scanListEntry(row pgx.Row, cfg enforce.Config, now time.Time, extra ...any) (*enforce.ListEntry, error) {
	var doc []byte
	var id int64
	var uscc, status string
	var version int
	var created, updated time.Time
	var visits []time.Time
	if err := row.Scan(append([]any{&id, &uscc, &status, &doc, &version, &created, &updated, &visits}, extra...)...); err != nil {
		return nil, err
	}
	e := &enforce.ListEntry{}
	if err := json.Unmarshal(doc, e); err != nil {
		return nil, fmt.Errorf("list entry %d doc: %w", id, err)
	}
	e.ID, e.USCC, e.Status, e.Version, e.CreatedAt, e.UpdatedAt = id, uscc, enforce.ListStatus(status), version, created, updated
	if e.Objections == nil {
		e.Objections = []enforce.Objection{}
	}
	e.Status = e.EffectiveStatus(now)
	e.HealthCheck = enforce.HealthCheckStatus(cfg, e, visits, now)
	return e, nil
}

func insertListEntry(ctx context.Context, tx pgx.Tx, e *enforce.ListEntry) error {
	doc, err := marshalDoc(e)
	if err != nil {
		return err
	}
	return tx.QueryRow(ctx, `INSERT INTO list_entries (uscc, status, doc) VALUES ($1, $2, $3)
		RETURNING id, version, created_at, updated_at`, e.USCC, e.Status, doc).Scan(&e.ID, &e.Version, &e.CreatedAt, &e.UpdatedAt)
}

func saveListEntry(ctx context.Context, tx pgx.Tx, e *enforce.ListEntry) error {
	doc, err := marshalDoc(e)
	if err != nil {
		return err
	}
	return tx.QueryRow(ctx, `UPDATE list_entries SET status = $2, notice_start = $3, notice_end = $4, valid_from = $5,
		valid_to = $6, doc = $7, filed_at = $8, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version, updated_at`,
		e.ID, e.Status, e.NoticeStart, e.NoticeEnd, e.ValidFrom, e.ValidTo, doc, e.FiledAt).Scan(&e.Version, &e.UpdatedAt)
}

// FindListEntryByID returns one list entry with its effective status and health-check status
// at now.
func (s *EnforceService) FindListEntryByID(ctx context.Context, cfg enforce.Config, now time.Time, id int64) (_ *enforce.ListEntry, err error) {
	defer derrors.Wrap(&err, "FindListEntryByID(%d)", id)
	e, err := scanListEntry(s.db.Pool.QueryRow(ctx, "SELECT "+listColumns+" FROM list_entries l WHERE l.id = $1", id), cfg, now)
	if err == pgx.ErrNoRows {
		return nil, offsite.NotFound("list entry %d", id)
	}
	return e, formatError(err)
}

// FindListEntries returns list entries, newest first, with their effective status and
// health-check status at now.
func (s *EnforceService) FindListEntries(ctx context.Context, cfg enforce.Config, now time.Time, f enforce.ListFilter) (_ []*enforce.ListEntry, _ int, err error) {
	defer derrors.Wrap(&err, "FindListEntries")
	var w sqlFilter
	if f.USCC != "" {
		w.add("l.uscc = $?", f.USCC)
	}
	if f.Agency != 0 {
		w.add(enterprisesUnder("l.uscc"), f.Agency)
	}
	if f.Status != "" {
		w.add("list_effective_status(l.status, l.valid_to, "+w.param(now)+") = $?", f.Status)
	}
	q := "SELECT " + listColumns + ", count(*) OVER () FROM list_entries l" + w.where() + " ORDER BY l.id DESC" + pageSQL(f.Offset, f.Limit)
	rows, err := s.db.Pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*enforce.ListEntry
	total := 0
	for rows.Next() {
		e, err := scanListEntry(rows, cfg, now, &total)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, total, formatError(rows.Err())
}

// enterprisesUnder is the condition that the enterprise whose USCC is in column belongs to
// the agency $? or one under it.
func enterprisesUnder(column string) string {
	return column + " IN (SELECT e.uscc FROM enterprises e JOIN agencies ag ON ag.id = e.agency_id WHERE $? = ANY(ag.path))"
}

// ownedUnderOrUnowned is enterprisesUnder for records an enterprise may own or not (parcels,
// findings): one owned by no enterprise (a parcel of an industrial zone not yet attributed) is
// shared by every agency, like captures and zones, so analysts anywhere can survey it.
func ownedUnderOrUnowned(column string) string {
	return "(nullif(" + column + ", '') IS NULL OR " + enterprisesUnder(column) + ")"
}
