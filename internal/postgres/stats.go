package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// Stats computes the supervisors' statistics for [from, to).
func (s *EnforceService) Stats(ctx context.Context, agency int64, from, to time.Time) (_ *enforce.Stats, err error) {
	defer derrors.Wrap(&err, "Stats(%d)", agency)
	st := &enforce.Stats{From: from, To: to, Warnings: []enforce.ZoneMonthCount{}, Findings: []enforce.ZoneMonthCount{}, ListStatus: map[enforce.ListStatus]int{}}
	q := s.db.Pool
	if err := q.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE listed AND site_visited_at >= $1 AND site_visited_at < $2),
		count(*) FILTER (WHERE waived AND closed_at >= $1 AND closed_at < $2)
		FROM inspections WHERE $1::timestamptz IS NOT NULL AND $2::timestamptz IS NOT NULL AND `+statsUnder("uscc"), from, to, agency).Scan(&st.ListedSiteInspections, &st.WaivedPenalties); err != nil {
		return nil, formatError(err)
	}
	if st.Warnings, err = zoneMonthCounts(ctx, q, `SELECT e.zone, to_char(w.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*)
		FROM inspection_warnings w JOIN enterprises e ON e.uscc = w.uscc
		WHERE w.created_at >= $1 AND w.created_at < $2 AND `+statsUnder("w.uscc")+` GROUP BY 1, 2 ORDER BY 1, 2`, from, to, agency); err != nil {
		return nil, err
	}
	if st.Findings, err = zoneMonthCounts(ctx, q, `SELECT e.zone, to_char(f.detected_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*)
		FROM findings f JOIN parcels p ON p.id = f.parcel_id JOIN enterprises e ON e.uscc = p.uscc
		WHERE f.detected_at >= $1 AND f.detected_at < $2 AND `+statsUnder("p.uscc")+` GROUP BY 1, 2 ORDER BY 1, 2`, from, to, agency); err != nil {
		return nil, err
	}
	var med, p90 *float64
	if err := q.QueryRow(ctx, `SELECT count(*), count(report_submitted_at),
		count(*) FILTER (WHERE (doc->'report'->>'late')::boolean),
		count(*) FILTER (WHERE report_submitted_at IS NULL AND status = 'self_check_requested' AND (doc->>'self_check_deadline')::timestamptz < now()),
		percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM report_submitted_at - self_check_requested_at) / 3600),
		percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM report_submitted_at - self_check_requested_at) / 3600)
		FROM inspections WHERE self_check_requested_at >= $1 AND self_check_requested_at < $2 AND `+statsUnder("uscc"), from, to, agency).
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
		FROM list_entries WHERE $1::timestamptz IS NOT NULL AND $2::timestamptz IS NOT NULL AND `+statsUnder("uscc")+` GROUP BY 1`, from, to, agency)
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

// AgencyStats counts by month what the enterprises under agency gave rise to in [from, to),
// each enterprise counted under the child of agency on its agency's path (agency itself for
// its own enterprises; the province for 0).
func (s *EnforceService) AgencyStats(ctx context.Context, agency int64, from, to time.Time) (_ []enforce.AgencyMonth, err error) {
	defer derrors.Wrap(&err, "AgencyStats(%d)", agency)
	rows, err := s.db.Pool.Query(ctx, `
		WITH depth AS (SELECT coalesce((SELECT cardinality(path) FROM agencies WHERE id = $3), 0) AS d),
		ent AS (
			SELECT e.uscc, coalesce(ag.path[(SELECT d FROM depth) + 1], ag.id) AS grp
			FROM enterprises e JOIN agencies ag ON ag.id = e.agency_id WHERE `+statsUnder("e.uscc")+`),
		ev AS (
			SELECT ent.grp, w.created_at AS at, 'w' AS k FROM inspection_warnings w JOIN ent ON ent.uscc = w.uscc
			UNION ALL
			SELECT ent.grp, f.detected_at, 'f' FROM findings f LEFT JOIN parcels p ON p.id = f.parcel_id
				JOIN ent ON ent.uscc = coalesce(nullif(p.uscc, ''), f.uscc)
			UNION ALL
			SELECT ent.grp, i.self_check_requested_at, 's' FROM inspections i JOIN ent ON ent.uscc = i.uscc
			UNION ALL
			SELECT ent.grp, i.site_visited_at, 'v' FROM inspections i JOIN ent ON ent.uscc = i.uscc
			UNION ALL
			SELECT ent.grp, i.closed_at, 'x' FROM inspections i JOIN ent ON ent.uscc = i.uscc WHERE i.waived)
		SELECT ag.id, ag.name, ag.level, to_char(ev.at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
			count(*) FILTER (WHERE k = 'w'), count(*) FILTER (WHERE k = 'f'), count(*) FILTER (WHERE k = 's'),
			count(*) FILTER (WHERE k = 'v'), count(*) FILTER (WHERE k = 'x')
		FROM ev JOIN agencies ag ON ag.id = ev.grp
		WHERE ev.at >= $1 AND ev.at < $2
		GROUP BY ag.id, ag.name, ag.level, month ORDER BY month, ag.id`, from, to, agency)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (enforce.AgencyMonth, error) {
		var m enforce.AgencyMonth
		err := row.Scan(&m.AgencyID, &m.Agency, &m.Level, &m.Month, &m.Warnings, &m.Findings, &m.SelfChecks, &m.SiteVisits, &m.Waived)
		return m, err
	})
	if err != nil {
		return nil, formatError(err)
	}
	if out == nil {
		out = []enforce.AgencyMonth{}
	}
	return out, nil
}

// zoneMonthCounts runs a (zone, month, count) query over [from, to).
func zoneMonthCounts(ctx context.Context, q *pgxpool.Pool, sql string, from, to time.Time, agency int64) ([]enforce.ZoneMonthCount, error) {
	rows, err := q.Query(ctx, sql, from, to, agency)
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

// statsUnder is the condition that the enterprise in column col is of the agency in the
// query's parameter $3 or of one under it (0: every enterprise): the one place the
// statistics are scoped.
func statsUnder(col string) string {
	return "($3::bigint = 0 OR " + strings.ReplaceAll(enterprisesUnder(col), "$?", "$3") + ")"
}
