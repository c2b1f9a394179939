package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/monitoring"
)

// MonitoringRegistry stores the monitoring registry (points, limits, self-reports), reads the
// values the HJ 212 receiver stored (monitoring_values, migration 0030) and records whether
// exceedances were reported. It decides nothing: internal/monitoring does.
type MonitoringRegistry struct{ s *EnforceService }

var _ monitoring.Store = (*MonitoringRegistry)(nil)

// NewMonitoringRegistry returns the monitoring store of s's database and audit chain.
func NewMonitoringRegistry(s *EnforceService) *MonitoringRegistry { return &MonitoringRegistry{s: s} }

// InTx runs fn in a transaction with the audit chain's locks.
func (st *MonitoringRegistry) InTx(ctx context.Context, fn func(monitoring.Tx) error) (err error) {
	defer derrors.Wrap(&err, "MonitoringRegistry.InTx")
	return formatError(st.s.inTx(ctx, func(tx pgx.Tx) error { return fn(&monitoringTx{s: st.s, tx: tx}) }))
}

type monitoringTx struct {
	s  *EnforceService
	tx pgx.Tx
}

const pointColumns = `mn, uscc, outlet, name, ST_X(geom), ST_Y(geom), pw_hash, version, created_at, updated_at`

func scanPoint(row pgx.Row) (*monitoring.Point, error) {
	p := &monitoring.Point{}
	err := row.Scan(&p.MN, &p.USCC, &p.Outlet, &p.Name, &p.Lon, &p.Lat, &p.PasswordHash, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return nil, err
	}
	p.Medium = monitoring.OutletMedium(p.Outlet)
	return p, nil
}

func (t *monitoringTx) LockPoint(ctx context.Context, mn string) (*monitoring.Point, error) {
	p, err := scanPoint(t.tx.QueryRow(ctx, "SELECT "+pointColumns+" FROM monitoring_points WHERE mn = $1 FOR UPDATE", mn))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, offsite.NotFound("monitoring point %s", mn)
	}
	return p, err
}

func (t *monitoringTx) CreatePoint(ctx context.Context, p *monitoring.Point) error {
	var exists bool
	if err := t.tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM enterprises WHERE uscc = $1)", p.USCC).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return offsite.Invalid("uscc", "enterprise %s is not registered", p.USCC)
	}
	err := t.tx.QueryRow(ctx, `INSERT INTO monitoring_points (mn, uscc, outlet, name, geom, pw_hash)
		VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($5, $6), 4326), $7) ON CONFLICT (mn) DO NOTHING
		RETURNING version, created_at, updated_at`, p.MN, p.USCC, p.Outlet, p.Name, p.Lon, p.Lat, p.PasswordHash).
		Scan(&p.Version, &p.CreatedAt, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return offsite.Conflict("monitoring point %s is registered", p.MN)
	}
	return err
}

func (t *monitoringTx) SavePoint(ctx context.Context, p *monitoring.Point) error {
	return t.tx.QueryRow(ctx, `UPDATE monitoring_points SET outlet = $2, name = $3, geom = ST_SetSRID(ST_MakePoint($4, $5), 4326),
		pw_hash = $6, version = version + 1, updated_at = now() WHERE mn = $1 RETURNING version, updated_at`,
		p.MN, p.Outlet, p.Name, p.Lon, p.Lat, p.PasswordHash).Scan(&p.Version, &p.UpdatedAt)
}

func (t *monitoringTx) SetLimit(ctx context.Context, l *monitoring.Limit) (bool, error) {
	var exists bool
	if err := t.tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM enterprises WHERE uscc = $1)", l.USCC).Scan(&exists); err != nil {
		return false, err
	}
	if !exists {
		return false, offsite.Invalid("uscc", "enterprise %s is not registered", l.USCC)
	}
	var inserted bool
	err := t.tx.QueryRow(ctx, `INSERT INTO monitoring_limits (uscc, outlet, pollutant, hourly, daily, o2_ref, load_kg_day, basis)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (uscc, outlet, pollutant) DO UPDATE SET hourly = $4, daily = $5, o2_ref = $6, load_kg_day = $7, basis = $8, updated_at = now()
		RETURNING updated_at, xmax = 0`, l.USCC, l.Outlet, l.Pollutant, l.Hourly, l.Daily, l.O2Ref, l.LoadKgDay, l.Basis).Scan(&l.UpdatedAt, &inserted)
	return !inserted, err
}

func (t *monitoringTx) DeleteLimit(ctx context.Context, uscc, outlet, pollutant string) error {
	tag, err := t.tx.Exec(ctx, "DELETE FROM monitoring_limits WHERE uscc = $1 AND outlet = $2 AND pollutant = $3", uscc, outlet, pollutant)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return offsite.NotFound("limit of %s at %s outlet %s", pollutant, uscc, outlet)
	}
	return nil
}

// coversSQL is monitoring.SelfReport.Covers over r (monitoring_self_reports) and e
// (monitoring_exceedances); a test holds the two equal.
const coversSQL = `r.mn = e.mn AND (r.pollutant = '' OR r.pollutant = e.pollutant) AND r.reported_at <= e.report_due
	AND r.started_at <= e.ended_at AND (r.ended_at IS NULL OR r.ended_at >= e.started_at)`

func (t *monitoringTx) CreateSelfReport(ctx context.Context, r *monitoring.SelfReport) ([]string, error) {
	err := t.tx.QueryRow(ctx, `INSERT INTO monitoring_self_reports (uscc, mn, pollutant, started_at, ended_at, text, reported_by, reported_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, r.USCC, r.MN, r.Pollutant, r.Start, r.End, r.Text, r.ReportedBy, r.ReportedAt).Scan(&r.ID)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(ctx, `UPDATE monitoring_exceedances e SET status = 'reported', report_id = r.id, decided_at = r.reported_at
		FROM monitoring_self_reports r WHERE r.id = $1 AND e.status = 'pending' AND `+coversSQL+` RETURNING e.finding_id`, r.ID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if ids == nil {
		ids = []string{}
	}
	return ids, err
}

func (t *monitoringTx) ReleaseQuarantine(ctx context.Context, mn string, accept func(pw string) bool) (int, int, error) {
	return releaseQuarantine(ctx, t.tx, mn, accept)
}

// FindQuarantine lists the MNs with frames in quarantine, most recent first; agency (0: all)
// leaves out the points of enterprises outside it.
func (st *MonitoringRegistry) FindQuarantine(ctx context.Context, agency int64, limit int) (_ []monitoring.QuarantinedMN, err error) {
	defer derrors.Wrap(&err, "FindQuarantine(%d)", agency)
	return findQuarantine(ctx, st.s.db, agency, limit)
}

func (t *monitoringTx) Append(ctx context.Context, a enforce.Actor, action enforce.AuditAction, subject string, detail any) error {
	return t.s.appendAudit(ctx, t.tx, a, action, subject, detail)
}

// FindPoint returns a point; offsite.ErrNotFound when there is none.
func (st *MonitoringRegistry) FindPoint(ctx context.Context, mn string) (_ *monitoring.Point, err error) {
	defer derrors.Wrap(&err, "FindPoint(%q)", mn)
	p, err := scanPoint(st.s.db.Pool.QueryRow(ctx, "SELECT "+pointColumns+" FROM monitoring_points WHERE mn = $1", mn))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, offsite.NotFound("monitoring point %s", mn)
	}
	return p, formatError(err)
}

// FindPoints returns the points of an enterprise ("" : all), by outlet and MN.
func (st *MonitoringRegistry) FindPoints(ctx context.Context, uscc string) (_ []*monitoring.Point, err error) {
	defer derrors.Wrap(&err, "FindPoints(%q)", uscc)
	rows, err := st.s.db.Pool.Query(ctx, "SELECT "+pointColumns+" FROM monitoring_points WHERE $1 = '' OR uscc = $1 ORDER BY uscc, outlet, mn", uscc)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*monitoring.Point, error) { return scanPoint(r) })
	if out == nil {
		out = []*monitoring.Point{}
	}
	return out, formatError(err)
}

// CheckPassword is the check the HJ 212 receiver makes on each frame: known reports whether
// mn is a registered monitoring point, ok whether pw is its access password. An unknown MN
// is (false, false, nil): the receiver quarantines its frames.
func (st *MonitoringRegistry) CheckPassword(ctx context.Context, mn, pw string) (known, ok bool, err error) {
	defer derrors.Wrap(&err, "CheckPassword(%q)", mn)
	var hash string
	err = st.s.db.Pool.QueryRow(ctx, "SELECT pw_hash FROM monitoring_points WHERE mn = $1", mn).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, formatError(err)
	}
	return true, monitoring.VerifyPassword(hash, pw), nil
}

// PasswordHashes returns the access password hash of every registered monitoring point, by
// MN: the receiver checks frames against this snapshot, taken every few seconds, instead of
// asking for each logger whose answer expired (monitoring.VerifyPassword checks a password).
func (st *MonitoringRegistry) PasswordHashes(ctx context.Context) (_ map[string]string, err error) {
	defer derrors.Wrap(&err, "PasswordHashes")
	return hashesByMN(ctx, st.s.db, "SELECT mn, pw_hash FROM monitoring_points")
}

// hashesByMN returns the (mn, hash) rows of query as a map.
func hashesByMN(ctx context.Context, db *DB, query string) (map[string]string, error) {
	rows, err := db.Pool.Query(ctx, query)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := map[string]string{}
	var mn, hash string
	_, err = pgx.ForEachRow(rows, []any{&mn, &hash}, func() error {
		out[mn] = hash
		return nil
	})
	return out, formatError(err)
}

// FindLimits returns the limits of an enterprise, by outlet and pollutant.
func (st *MonitoringRegistry) FindLimits(ctx context.Context, uscc string) (_ []monitoring.Limit, err error) {
	defer derrors.Wrap(&err, "FindLimits(%q)", uscc)
	rows, err := st.s.db.Pool.Query(ctx, `SELECT uscc, outlet, pollutant, hourly, daily, o2_ref, load_kg_day, basis, updated_at
		FROM monitoring_limits WHERE uscc = $1 ORDER BY outlet, pollutant`, uscc)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (monitoring.Limit, error) {
		var l monitoring.Limit
		err := r.Scan(&l.USCC, &l.Outlet, &l.Pollutant, &l.Hourly, &l.Daily, &l.O2Ref, &l.LoadKgDay, &l.Basis, &l.UpdatedAt)
		return l, err
	})
	if out == nil {
		out = []monitoring.Limit{}
	}
	return out, formatError(err)
}

// maxSamples bounds the values read for one point and window (a day of real-time values of
// 20 factors every 30 s is 58 000).
const maxSamples = 500000

// FindSamples returns the values of point mn with DataTime in [from, to) from real-time,
// minute, hour and day uploads, by pollutant (factor codes of both versions mapped through
// monitoring.Factors; unknown factors are left out), with their flags and the SHA-256 of
// their frames. Values of quarantined frames are left out.
func (st *MonitoringRegistry) FindSamples(ctx context.Context, mn string, from, to time.Time) (_ map[string][]monitoring.Sample, err error) {
	defer derrors.Wrap(&err, "FindSamples(%q)", mn)
	rows, err := st.s.db.Pool.Query(ctx, `SELECT v.cn, v.data_time, v.factor, v.rtd, v.avg, v.zs_rtd, v.zs_avg, coalesce(v.flag, ''), v.frame_sha256
		FROM monitoring_values v
		WHERE v.mn = $1 AND v.data_time >= $2 AND v.data_time < $3 AND v.cn IN ('2011', '2051', '2061', '2031')
			AND NOT EXISTS (SELECT 1 FROM monitoring_frames f WHERE f.sha256 = v.frame_sha256 AND f.quarantined)
		ORDER BY v.data_time LIMIT $4`, mn, from, to, maxSamples+1)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := map[string][]monitoring.Sample{}
	n := 0
	for rows.Next() {
		if n++; n > maxSamples {
			return nil, offsite.Invalid("to", "more than %d values of %s from %s to %s: take a shorter period", maxSamples, mn, from.Format(time.RFC3339), to.Format(time.RFC3339))
		}
		var s monitoring.Sample
		var factor string
		var rtd, avg, zsRtd, zsAvg *float64
		if err := rows.Scan(&s.CN, &s.Time, &factor, &rtd, &avg, &zsRtd, &zsAvg, &s.Flag, &s.Frame); err != nil {
			return nil, err
		}
		f, ok := monitoring.LookupFactor(factor)
		if !ok {
			continue
		}
		v, zs := avg, zsAvg
		if s.CN == monitoring.CNRealtime {
			v, zs = rtd, zsRtd
		}
		if v == nil {
			continue
		}
		s.Value = *v * f.Scale
		if zs != nil {
			c := *zs * f.Scale
			s.Converted = &c
		}
		out[f.Pollutant] = append(out[f.Pollutant], s)
	}
	return out, formatError(rows.Err())
}

// FindRunStates returns the running states of point mn's facilities reported with DataTime in
// [from, to) (CN 2021, "SBn-RS" fields: 1 running, 0 stopped; other codes are left out), by
// time. Values of quarantined frames are left out.
func (st *MonitoringRegistry) FindRunStates(ctx context.Context, mn string, from, to time.Time) (_ []monitoring.RunState, err error) {
	defer derrors.Wrap(&err, "FindRunStates(%q)", mn)
	rows, err := st.s.db.Pool.Query(ctx, `SELECT v.data_time, v.factor, v.extra->>'RS', v.frame_sha256
		FROM monitoring_values v
		WHERE v.mn = $1 AND v.cn = '2021' AND v.data_time >= $2 AND v.data_time < $3 AND v.extra->>'RS' IN ('0', '1')
			AND NOT EXISTS (SELECT 1 FROM monitoring_frames f WHERE f.sha256 = v.frame_sha256 AND f.quarantined)
		ORDER BY v.data_time, v.factor LIMIT $4`, mn, from, to, maxSamples)
	if err != nil {
		return nil, formatError(err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (monitoring.RunState, error) {
		var s monitoring.RunState
		var rs string
		if err := r.Scan(&s.Time, &s.Facility, &rs, &s.Frame); err != nil {
			return s, err
		}
		s.Running, _ = monitoring.RunStateOf(rs)
		return s, nil
	})
}

// FindRunTimes returns the daily running times of point mn's pollution-control facilities
// reported with DataTime in [from, to) (CN 2041, "SBn-RT" fields, hours; a value that is not a
// number is left out), by day and facility. Values of quarantined frames are left out.
func (st *MonitoringRegistry) FindRunTimes(ctx context.Context, mn string, from, to time.Time) (_ []monitoring.RunTime, err error) {
	defer derrors.Wrap(&err, "FindRunTimes(%q)", mn)
	rows, err := st.s.db.Pool.Query(ctx, `SELECT v.data_time, v.factor, v.extra->>'RT', v.frame_sha256
		FROM monitoring_values v
		WHERE v.mn = $1 AND v.cn = '2041' AND v.data_time >= $2 AND v.data_time < $3 AND v.extra ? 'RT'
			AND NOT EXISTS (SELECT 1 FROM monitoring_frames f WHERE f.sha256 = v.frame_sha256 AND f.quarantined)
		ORDER BY v.data_time, v.factor LIMIT $4`, mn, from, to, maxSamples)
	if err != nil {
		return nil, formatError(err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (monitoring.RunTime, error) {
		var s monitoring.RunTime
		var rt string
		if err := r.Scan(&s.Day, &s.Facility, &rt, &s.Frame); err != nil {
			return s, err
		}
		v, ok := hj212.ParseNumber(rt)
		if !ok {
			v = math.NaN()
		}
		s.Hours = v
		return s, nil
	})
	if err != nil {
		return nil, formatError(err)
	}
	out := all[:0]
	for _, s := range all {
		if !math.IsNaN(s.Hours) {
			out = append(out, s)
		}
	}
	return out, nil
}

// RecordExceedances records exceedance findings (already stored) with the time the
// enterprise has to report each, and marks reported those a self-report filed in time
// covers. An exceedance recorded before is left as it was.
func (st *MonitoringRegistry) RecordExceedances(ctx context.Context, es []*monitoring.Exceedance) (err error) {
	defer derrors.Wrap(&err, "RecordExceedances(%d)", len(es))
	return formatError(pgx.BeginFunc(ctx, st.s.db.Pool, func(tx pgx.Tx) error {
		for _, e := range es {
			if _, err := tx.Exec(ctx, `INSERT INTO monitoring_exceedances (finding_id, uscc, mn, pollutant, started_at, ended_at, report_due)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (finding_id) DO NOTHING`,
				e.FindingID, e.USCC, e.MN, e.Pollutant, e.Start, e.End, e.ReportDue); err != nil {
				return fmt.Errorf("exceedance %s: %w", e.FindingID, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE monitoring_exceedances e SET status = 'reported', report_id = r.id, decided_at = r.reported_at
				FROM (SELECT r.* FROM monitoring_self_reports r, monitoring_exceedances e WHERE e.finding_id = $1 AND `+coversSQL+`
					ORDER BY r.reported_at, r.id LIMIT 1) r
				WHERE e.finding_id = $1 AND e.status = 'pending'`, e.FindingID); err != nil {
				return fmt.Errorf("exceedance %s: %w", e.FindingID, err)
			}
		}
		return nil
	}))
}

// DecideUnreported marks unreported the pending exceedances whose time to report ran out
// before now, and returns how many.
func (st *MonitoringRegistry) DecideUnreported(ctx context.Context, now time.Time) (_ int, err error) {
	defer derrors.Wrap(&err, "DecideUnreported")
	tag, err := st.s.db.Pool.Exec(ctx, `UPDATE monitoring_exceedances SET status = 'unreported', decided_at = $1
		WHERE status = 'pending' AND report_due < $1`, now)
	if err != nil {
		return 0, formatError(err)
	}
	return int(tag.RowsAffected()), nil
}

// FindExceedances returns exceedances, newest first.
func (st *MonitoringRegistry) FindExceedances(ctx context.Context, f monitoring.ExceedanceFilter) (_ []*monitoring.Exceedance, err error) {
	defer derrors.Wrap(&err, "FindExceedances")
	var w sqlFilter
	if f.USCC != "" {
		w.add("uscc = $?", f.USCC)
	}
	if f.FindingIDs != nil {
		w.add("finding_id = ANY($?)", f.FindingIDs)
	}
	rows, err := st.s.db.Pool.Query(ctx, `SELECT finding_id, uscc, mn, pollutant, started_at, ended_at, report_due, status, report_id, decided_at
		FROM monitoring_exceedances`+w.where()+` ORDER BY started_at DESC, finding_id LIMIT 1000`, w.args...)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*monitoring.Exceedance, error) {
		e := &monitoring.Exceedance{}
		err := r.Scan(&e.FindingID, &e.USCC, &e.MN, &e.Pollutant, &e.Start, &e.End, &e.ReportDue, &e.Status, &e.ReportID, &e.DecidedAt)
		return e, err
	})
	if out == nil {
		out = []*monitoring.Exceedance{}
	}
	return out, formatError(err)
}

// FindSelfReports returns an enterprise's self-reports, newest first.
func (st *MonitoringRegistry) FindSelfReports(ctx context.Context, uscc string) (_ []*monitoring.SelfReport, err error) {
	defer derrors.Wrap(&err, "FindSelfReports(%q)", uscc)
	rows, err := st.s.db.Pool.Query(ctx, `SELECT id, uscc, mn, pollutant, started_at, ended_at, text, reported_by, reported_at
		FROM monitoring_self_reports WHERE uscc = $1 ORDER BY reported_at DESC, id DESC LIMIT 1000`, uscc)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*monitoring.SelfReport, error) {
		x := &monitoring.SelfReport{}
		err := r.Scan(&x.ID, &x.USCC, &x.MN, &x.Pollutant, &x.Start, &x.End, &x.Text, &x.ReportedBy, &x.ReportedAt)
		return x, err
	})
	if out == nil {
		out = []*monitoring.SelfReport{}
	}
	return out, formatError(err)
}

// FindMonitoringFindings returns the monitoring findings of an enterprise, newest first.
func (st *MonitoringRegistry) FindMonitoringFindings(ctx context.Context, uscc string, limit int) (_ []*offsite.Finding, err error) {
	defer derrors.Wrap(&err, "FindMonitoringFindings(%q)", uscc)
	rows, err := st.s.db.Pool.Query(ctx, "SELECT "+findingColumns+` FROM findings f WHERE f.uscc = $1 AND f.kind = 'monitoring'
		ORDER BY f.detected_at DESC, f.id LIMIT $2`, uscc, limit)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*offsite.Finding, error) { return scanFinding(r) })
	if out == nil {
		out = []*offsite.Finding{}
	}
	return out, formatError(err)
}

// StoreUpload writes parsed values as the HJ 212 receiver does (monitoring_values, with the
// frame in monitoring_frames), for the demo's simulated loggers and tests while the receiver
// is not there: one frame and its values in one transaction, a frame stored before (same
// SHA-256) and values stored before ((mn, cn, DataTime, factor)) left as they were.
func (st *MonitoringRegistry) StoreUpload(ctx context.Context, fr *LoggerUpload) (err error) {
	defer derrors.Wrap(&err, "StoreUpload(%q)", fr.MN)
	return formatError(pgx.BeginFunc(ctx, st.s.db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO monitoring_frames (remote_addr, sha256, raw, valid, version, qn, st, cn, mn, data_time)
			VALUES ($1, $2, $3, true, $4, $5, $6, $7, $8, $9) ON CONFLICT (sha256) DO NOTHING`,
			fr.RemoteAddr, fr.SHA256, fr.Raw, fr.Version, fr.QN, fr.ST, fr.CN, fr.MN, fr.DataTime); err != nil {
			return err
		}
		for _, v := range fr.Values {
			if _, err := tx.Exec(ctx, `INSERT INTO monitoring_values (mn, cn, data_time, factor, rtd, avg, zs_rtd, zs_avg, flag, frame_sha256)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''), $10) ON CONFLICT DO NOTHING`,
				fr.MN, fr.CN, fr.DataTime, v.Factor, v.Rtd, v.Avg, v.ZsRtd, v.ZsAvg, v.Flag, fr.SHA256); err != nil {
				return fmt.Errorf("factor %s: %w", v.Factor, err)
			}
		}
		return nil
	}))
}

// LoggerUpload is a valid data upload and its values, as StoreUpload writes them.
type LoggerUpload struct {
	RemoteAddr, SHA256, Version, QN, ST, CN, MN string
	Raw                                         []byte
	DataTime                                    time.Time
	Values                                      []LoggerValue
}

// LoggerValue is one factor of a data upload.
type LoggerValue struct {
	Factor                 string
	Rtd, Avg, ZsRtd, ZsAvg *float64
	Flag                   string
}
