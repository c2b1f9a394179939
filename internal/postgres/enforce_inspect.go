package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// ---------------------------------------------------------------- double random

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

// PublicDisclosures returns the dispositions with public disclosure, newest first.
func (s *EnforceService) PublicDisclosures(ctx context.Context, offset, limit int) (_ []enforce.Disclosure, total int, err error) {
	defer derrors.Wrap(&err, "PublicDisclosures")
	rows, err := s.db.Pool.Query(ctx, `SELECT i.id, i.uscc, e.name, i.doc->'disposition', count(*) OVER ()
		FROM inspections i JOIN enterprises e ON e.uscc = i.uscc
		WHERE (i.doc->'disposition'->>'public_disclosure')::boolean
		ORDER BY i.closed_at DESC, i.id DESC`+pageSQL(offset, limit))
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	out := []enforce.Disclosure{}
	for rows.Next() {
		var d enforce.Disclosure
		var disp enforce.Disposition
		if err := rows.Scan(&d.InspectionID, &d.USCC, &d.Name, &disp, &total); err != nil {
			return nil, 0, err
		}
		d.Rule, d.Penalty, d.RemovedFromList, d.SpecialSupervision, d.PoliceReferral, d.DecidedAt =
			disp.Rule, disp.Penalty, disp.RemoveFromList, disp.SpecialSupervision, disp.PoliceReferral, disp.DecidedAt
		out = append(out, d)
	}
	return out, total, formatError(rows.Err())
}

// ---------------------------------------------------------------- statistics

// Stats computes the supervisors' statistics for [from, to).
func (s *EnforceService) Stats(ctx context.Context, from, to time.Time) (_ *enforce.Stats, err error) {
	defer derrors.Wrap(&err, "Stats")
	st := &enforce.Stats{From: from, To: to, Warnings: []enforce.ZoneMonthCount{}, Findings: []enforce.ZoneMonthCount{}, ListStatus: map[enforce.ListStatus]int{}}
	q := s.db.Pool
	if err := q.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE listed AND site_visited_at >= $1 AND site_visited_at < $2),
		count(*) FILTER (WHERE waived AND closed_at >= $1 AND closed_at < $2)
		FROM inspections`, from, to).Scan(&st.ListedSiteInspections, &st.WaivedPenalties); err != nil {
		return nil, formatError(err)
	}
	if st.Warnings, err = zoneMonthCounts(ctx, q, `SELECT e.zone, to_char(w.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*)
		FROM inspection_warnings w JOIN enterprises e ON e.uscc = w.uscc
		WHERE w.created_at >= $1 AND w.created_at < $2 GROUP BY 1, 2 ORDER BY 1, 2`, from, to); err != nil {
		return nil, err
	}
	if st.Findings, err = zoneMonthCounts(ctx, q, `SELECT e.zone, to_char(f.detected_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*)
		FROM findings f JOIN parcels p ON p.id = f.parcel_id JOIN enterprises e ON e.uscc = p.uscc
		WHERE f.detected_at >= $1 AND f.detected_at < $2 GROUP BY 1, 2 ORDER BY 1, 2`, from, to); err != nil {
		return nil, err
	}
	var med, p90 *float64
	if err := q.QueryRow(ctx, `SELECT count(*), count(report_submitted_at),
		count(*) FILTER (WHERE (doc->'report'->>'late')::boolean),
		count(*) FILTER (WHERE report_submitted_at IS NULL AND status = 'self_check_requested' AND (doc->>'self_check_deadline')::timestamptz < now()),
		percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM report_submitted_at - self_check_requested_at) / 3600),
		percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM report_submitted_at - self_check_requested_at) / 3600)
		FROM inspections WHERE self_check_requested_at >= $1 AND self_check_requested_at < $2`, from, to).
		Scan(&st.SelfCheck.Requested, &st.SelfCheck.Answered, &st.SelfCheck.Late, &st.SelfCheck.Overdue, &med, &p90); err != nil {
		return nil, formatError(err)
	}
	if med != nil {
		st.SelfCheck.MedianHours = *med
	}
	if p90 != nil {
		st.SelfCheck.P90Hours = *p90
	}
	rows, err := q.Query(ctx, `SELECT list_effective_status(status, valid_to, now()), count(*)
		FROM list_entries GROUP BY 1`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k enforce.ListStatus
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		st.ListStatus[k] = n
	}
	return st, formatError(rows.Err())
}

// zoneMonthCounts runs a (zone, month, count) query over [from, to).
func zoneMonthCounts(ctx context.Context, q *pgxpool.Pool, sql string, from, to time.Time) ([]enforce.ZoneMonthCount, error) {
	rows, err := q.Query(ctx, sql, from, to)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (enforce.ZoneMonthCount, error) {
		var z enforce.ZoneMonthCount
		err := row.Scan(&z.Zone, &z.Month, &z.Count)
		return z, err
	})
	if err != nil {
		return nil, formatError(err)
	}
	return out, nil
}
