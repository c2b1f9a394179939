package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// CreateDraw draws from the current pool (every enterprise; listed ones and special
// supervision targets as such) and stores and audits the result.
func (s *EnforceService) CreateDraw(ctx context.Context, a enforce.Actor, cfg enforce.DrawConfig, seed uint64, inspectors []enforce.Inspector) (_ *enforce.StoredDraw, err error) {
	defer derrors.Wrap(&err, "CreateDraw")
	out := &enforce.StoredDraw{CreatedBy: a.Name}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT e.uscc, COALESCE(l.eff, '') = 'listed', e.special_supervision FROM enterprises e "+currentEntryJoin)
		if err != nil {
			return err
		}
		pool, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (enforce.Candidate, error) {
			var c enforce.Candidate
			err := r.Scan(&c.USCC, &c.Listed, &c.SpecialSupervision)
			return c, err
		})
		if err != nil {
			return err
		}
		inspectors, err := withLastConflicts(ctx, tx, inspectors)
		if err != nil {
			return err
		}
		res, err := enforce.Draw(cfg, seed, pool, inspectors)
		if err != nil {
			return offsite.Invalid("inspectors", "%v", err)
		}
		out.Result = res
		doc, err := marshalDoc(res)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "INSERT INTO draws (seed, result, created_by) VALUES ($1, $2, $3) RETURNING id, created_at",
			res.Seed, doc, a.Name).Scan(&out.ID, &out.CreatedAt); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, a, enforce.AuditDrawCreate, fmt.Sprintf("draw/%d", out.ID), map[string]any{
			"seed": res.Seed, "pool_size": res.PoolSize, "groups": res.Groups, "targets": len(res.Targets), "inspectors": inspectors})
	})
	if err != nil {
		return nil, formatError(err)
	}
	return out, nil
}

// withLastConflicts adds to each inspector's conflicts the enterprises they were drawn for in
// the latest draw that included each enterprise: the same inspector does not inspect the
// same enterprise twice running.
func withLastConflicts(ctx context.Context, tx pgx.Tx, inspectors []enforce.Inspector) ([]enforce.Inspector, error) {
	rows, err := tx.Query(ctx, `WITH latest AS (
			SELECT DISTINCT ON (t->>'uscc') t->>'uscc' AS uscc, t->'inspectors' AS ins
			FROM draws d, jsonb_array_elements(d.result->'targets') t
			ORDER BY t->>'uscc', d.id DESC)
		SELECT uscc, jsonb_array_elements_text(ins) FROM latest`)
	if err != nil {
		return nil, err
	}
	last := map[string][]string{} // inspector → enterprises
	for rows.Next() {
		var uscc, ins string
		if err := rows.Scan(&uscc, &ins); err != nil {
			rows.Close()
			return nil, err
		}
		last[ins] = append(last[ins], uscc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]enforce.Inspector, len(inspectors))
	for i, in := range inspectors {
		out[i] = enforce.Inspector{ID: in.ID, Conflicts: append(append([]string(nil), in.Conflicts...), last[in.ID]...)}
	}
	return out, nil
}

func scanDraw(row pgx.Row, extra ...any) (*enforce.StoredDraw, error) {
	d := &enforce.StoredDraw{}
	var doc []byte
	if err := row.Scan(append([]any{&d.ID, &doc, &d.CreatedBy, &d.CreatedAt}, extra...)...); err != nil {
		return nil, err
	}
	d.Result = &enforce.DrawResult{}
	return d, json.Unmarshal(doc, d.Result)
}

// FindDrawByID returns one draw.
func (s *EnforceService) FindDrawByID(ctx context.Context, id int64) (_ *enforce.StoredDraw, err error) {
	defer derrors.Wrap(&err, "FindDrawByID(%d)", id)
	d, err := scanDraw(s.db.Pool.QueryRow(ctx, "SELECT id, result, created_by, created_at FROM draws WHERE id = $1", id))
	if err == pgx.ErrNoRows {
		return nil, offsite.NotFound("draw %d", id)
	}
	return d, formatError(err)
}

// FindDraws returns draws, newest first.
func (s *EnforceService) FindDraws(ctx context.Context, offset, limit int) (_ []*enforce.StoredDraw, _ int, err error) {
	defer derrors.Wrap(&err, "FindDraws")
	rows, err := s.db.Pool.Query(ctx, "SELECT id, result, created_by, created_at, count(*) OVER () FROM draws ORDER BY id DESC"+pageSQL(offset, limit))
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*enforce.StoredDraw
	total := 0
	for rows.Next() {
		d, err := scanDraw(rows, &total)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, total, formatError(rows.Err())
}
