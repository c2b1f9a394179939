package postgres

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/monitoring"
)

// MonitoringStore stores what the HJ 212 receiver reads: frames in monitoring_frames, values
// in monitoring_values (partitioned by month), and checks loggers' passwords against
// monitoring_credentials.
type MonitoringStore struct {
	db *DB

	// BatchTimeout bounds one batch's transaction, so that a database that stops answering
	// fails the batch (the loggers retransmit) instead of holding it. Default 15 s.
	BatchTimeout time.Duration

	mu     sync.Mutex
	months map[string]bool // partitions known to exist
}

var (
	_ hj212.Store       = (*MonitoringStore)(nil)
	_ hj212.Credentials = (*MonitoringStore)(nil)
)

// NewMonitoringStore returns a MonitoringStore on db.
func NewMonitoringStore(db *DB) *MonitoringStore {
	return &MonitoringStore{db: db, BatchTimeout: 15 * time.Second, months: map[string]bool{}}
}

// shanghai is the zone of partition months (DataTime is China Standard Time).
var shanghai = time.FixedZone("CST", 8*3600)

// EnsureMonths creates the month partitions of monitoring_values for the months from
// before to after months around now (the receiver calls it at start and daily).
func (s *MonitoringStore) EnsureMonths(ctx context.Context, now time.Time, before, after int) (err error) {
	defer derrors.Wrap(&err, "EnsureMonths")
	t := now.In(shanghai)
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, shanghai)
	for i := -before; i <= after; i++ {
		if err := s.ensureMonth(ctx, first.AddDate(0, i, 0)); err != nil {
			return err
		}
	}
	return nil
}

// ensureMonth creates the partition of t's month unless known to exist. Months more than
// two years back or a month ahead are left to the default partition: a logger's clock gone
// wrong must not make the receiver create tables without bound.
func (s *MonitoringStore) ensureMonth(ctx context.Context, t time.Time) error {
	t = t.In(shanghai)
	key := t.Format("2006-01")
	s.mu.Lock()
	known := s.months[key]
	s.mu.Unlock()
	if known {
		return nil
	}
	if _, err := s.db.Pool.Exec(ctx, "SELECT monitoring_values_ensure_month($1::date)", t.Format("2006-01-02")); err != nil {
		return err
	}
	s.mu.Lock()
	s.months[key] = true
	s.mu.Unlock()
	return nil
}

func (s *MonitoringStore) ensureRowMonths(ctx context.Context, rows []hj212.Row) error {
	for _, t := range rowMonths(rows, time.Now()) {
		if err := s.ensureMonth(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// rowMonths returns a time in each month of the rows' values that gets a partition of its own:
// months more than two years back or over a month ahead are left to the default partition (a
// logger's clock gone wrong must not make the receiver create tables without bound).
func rowMonths(rows []hj212.Row, now time.Time) []time.Time {
	var out []time.Time
	seen := map[string]bool{}
	for i := range rows {
		t := rows[i].Time
		if t.Before(now.AddDate(-2, 0, 0)) || t.After(now.AddDate(0, 1, 0)) {
			continue
		}
		key := t.In(shanghai).Format("2006-01")
		if !seen[key] {
			seen[key] = true
			out = append(out, t)
		}
	}
	return out
}

// WriteBatch implements hj212.Store: every record's frame, and the values of valid uploads not
// in quarantine, in one transaction; frames already stored (same SHA-256) and values already
// stored (same MN, CN, DataTime, factor) are left as they are. Sub-packets are stored as
// frames; once all of a message's packets are stored, its values are.
func (s *MonitoringStore) WriteBatch(ctx context.Context, recs []*hj212.Record) (err error) {
	defer derrors.Wrap(&err, "WriteBatch(%d frames)", len(recs))
	ctx, cancel := context.WithTimeout(ctx, s.BatchTimeout)
	defer cancel()
	var months []hj212.Row
	for _, r := range recs {
		if f := r.Frame; f.Valid && r.Quarantine == "" && hj212.IsUpload(f.CN) && !f.Time.IsZero() {
			// Partitions are made before the transaction, which must not wait on ATTACH
			// PARTITION (a sub-packet with DataTime names its message's month).
			months = append(months, hj212.Row{Time: f.Time})
		}
	}
	if err := s.ensureRowMonths(ctx, months); err != nil {
		return err
	}
	// The fast way first: the batch's frames (each once) and their values go in by COPY,
	// without asking what is stored already. Should a frame be stored already (a logger
	// sending again what was stored but not acknowledged), a value (sent again in another
	// frame), or another transaction store one of the same meanwhile (a retransmission racing
	// its original), COPY fails on the unique index and the batch is written again the safe
	// way, INSERT ... ON CONFLICT DO NOTHING. Asking first cost PostgreSQL more than the COPYs
	// themselves, for what a receiver meets only after a failure.
	err = s.write(ctx, recs, true)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		err = s.write(ctx, recs, false)
	}
	return err
}

type message struct {
	mn, qn string
	pnum   int
}

// write writes the batch in one transaction: fast, by COPY straight into the tables (failing
// on any frame or value stored already); otherwise through temporary tables and INSERT ... ON
// CONFLICT DO NOTHING.
func (s *MonitoringStore) write(ctx context.Context, recs []*hj212.Record, fast bool) error {
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	c := copyBuffers.Get().(*copyBinary)
	defer copyBuffers.Put(c)
	if fast {
		recs = uniqueFrames(recs)
	}
	if err := insertFrames(ctx, tx, c, recs, fast); err != nil {
		return err
	}
	c.reset()
	var nums [16]float64
	split := map[message]bool{}
	n := 0
	for _, r := range recs {
		f := r.Frame
		if !f.Valid || r.Quarantine != "" {
			continue
		}
		if f.Split() {
			if hj212.IsUpload(f.CN) {
				split[message{f.MN, f.QN, f.PNUM}] = true
			}
			continue
		}
		if !f.HasRows() {
			continue
		}
		for i := range f.Values {
			row, _ := f.FactorRow(i, r.SHA256, nums[:0])
			if err := valueTuple(c, &row); err != nil {
				return err
			}
			n++
		}
	}
	for m := range split {
		rows, err := assemble(ctx, tx, m.mn, m.qn, m.pnum)
		if err != nil {
			return err
		}
		for i := range rows {
			if err := valueTuple(c, &rows[i]); err != nil {
				return err
			}
			n++
		}
	}
	if n > 0 {
		if err := copyValues(ctx, tx, c, fast); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// uniqueFrames returns recs with each frame (by SHA-256) once, the first kept.
func uniqueFrames(recs []*hj212.Record) []*hj212.Record {
	seen := make(map[string]bool, len(recs))
	out := recs[:0:0]
	for _, r := range recs {
		if !seen[r.SHA256] {
			seen[r.SHA256] = true
			out = append(out, r)
		}
	}
	return out
}

// frameColumns are monitoring_frames' columns that insertFrames fills.
var frameColumns = []string{"received_at", "remote_addr", "sha256", "raw", "valid", "reason", "version", "qn",
	"st", "cn", "mn", "data_time", "deviations", "quarantined", "quarantine_reason", "pnum", "pno"}

// insertFrames adds the records' frames to monitoring_frames. fast: by COPY, which fails on a
// frame stored already; otherwise COPY into a temporary table and one INSERT ... ON CONFLICT
// DO NOTHING, leaving those already there (same SHA-256).
func insertFrames(ctx context.Context, tx pgx.Tx, c *copyBinary, recs []*hj212.Record, fast bool) error {
	c.reset()
	for _, r := range recs {
		frameTuple(c, r)
	}
	if fast {
		return c.copyIn(ctx, tx, "monitoring_frames", frameColumns)
	}
	cols := strings.Join(frameColumns, ", ")
	// The stage has only these columns: no id drawing on the frames' sequence.
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS monitoring_frames_stage ON COMMIT DELETE ROWS AS SELECT "+
		cols+" FROM monitoring_frames WITH NO DATA"); err != nil {
		return err
	}
	if err := c.copyIn(ctx, tx, "monitoring_frames_stage", frameColumns); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "INSERT INTO monitoring_frames ("+cols+") SELECT "+cols+
		" FROM monitoring_frames_stage ON CONFLICT (sha256) DO NOTHING")
	return err
}

// frameTuple writes the record's frame as a COPY tuple of frameColumns.
func frameTuple(c *copyBinary, r *hj212.Record) {
	f := r.Frame
	c.tuple(len(frameColumns))
	c.timestamptz(r.ReceivedAt)
	c.text(r.RemoteAddr)
	c.text(r.SHA256)
	c.bytea(f.Raw)
	c.bool(f.Valid)
	c.text(f.Reason)
	c.text(f.Version)
	c.text(f.QN)
	c.text(f.ST)
	c.text(f.CN)
	c.text(f.MN)
	c.timestamptz(f.Time)
	c.textArray(f.Deviations)
	c.bool(r.Quarantine != "")
	c.text(r.Quarantine)
	if f.PNUM > 0 {
		c.int4(f.PNUM)
		c.int4(f.PNO)
	} else {
		c.null()
		c.null()
	}
}

// valueColumns are monitoring_values' columns that insertRows fills.
var valueColumns = []string{"mn", "cn", "data_time", "factor", "rtd", "avg", "min", "max", "cou",
	"zs_rtd", "zs_avg", "zs_min", "zs_max", "flag", "extra", "frame_sha256"}

// insertRows adds rows to monitoring_values, leaving those already there (unless fast); it is
// called at most once per transaction (the stage is emptied at commit).
func insertRows(ctx context.Context, tx pgx.Tx, rows []hj212.Row, fast bool) error {
	if len(rows) == 0 {
		return nil
	}
	c := copyBuffers.Get().(*copyBinary)
	defer copyBuffers.Put(c)
	c.reset()
	for i := range rows {
		if err := valueTuple(c, &rows[i]); err != nil {
			return err
		}
	}
	return copyValues(ctx, tx, c, fast)
}

// copyValues sends the value tuples written to c into monitoring_values: fast, by COPY, which
// fails on a value stored already; otherwise COPY into a temporary table, then one INSERT ...
// SELECT ... ON CONFLICT DO NOTHING (COPY cannot skip conflicts itself, and this measured
// faster than an INSERT over unnest()ed arrays).
func copyValues(ctx context.Context, tx pgx.Tx, c *copyBinary, fast bool) error {
	if fast {
		return c.copyIn(ctx, tx, "monitoring_values", valueColumns)
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS monitoring_values_stage
		(LIKE monitoring_values INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	if err := c.copyIn(ctx, tx, "monitoring_values_stage", valueColumns); err != nil {
		return err
	}
	cols := strings.Join(valueColumns, ", ")
	_, err := tx.Exec(ctx, "INSERT INTO monitoring_values ("+cols+") SELECT "+cols+
		" FROM monitoring_values_stage ON CONFLICT DO NOTHING")
	return err
}

// valueTuple writes a row as a COPY tuple of valueColumns.
func valueTuple(c *copyBinary, r *hj212.Row) error {
	c.tuple(len(valueColumns))
	c.text(r.MN)
	c.text(r.CN)
	c.timestamptz(r.Time)
	c.text(r.Factor)
	c.float8(r.Rtd)
	c.float8(r.Avg)
	c.float8(r.Min)
	c.float8(r.Max)
	c.float8(r.Cou)
	c.float8(r.ZsRtd)
	c.float8(r.ZsAvg)
	c.float8(r.ZsMin)
	c.float8(r.ZsMax)
	c.textOrNull(r.Flag)
	if len(r.Extra) == 0 {
		c.jsonb(emptyJSON)
	} else {
		b, err := json.Marshal(r.Extra)
		if err != nil {
			return err
		}
		c.jsonb(b)
	}
	c.text(r.FrameSHA)
	return nil
}

var emptyJSON = []byte("{}")

// assemble returns the values of the message (mn, qn) sent in pnum sub-packets when all are
// stored (and not in quarantine), or none yet. The values cite the last packet's hash.
func assemble(ctx context.Context, tx pgx.Tx, mn, qn string, pnum int) ([]hj212.Row, error) {
	rs, err := tx.Query(ctx, `SELECT DISTINCT ON (pno) raw, sha256 FROM monitoring_frames
		WHERE mn = $1 AND qn = $2 AND pnum = $3 AND valid AND NOT quarantined ORDER BY pno, id`, mn, qn, pnum)
	if err != nil {
		return nil, err
	}
	var parts []*hj212.Frame
	last := ""
	for rs.Next() {
		var raw []byte
		if err := rs.Scan(&raw, &last); err != nil {
			rs.Close()
			return nil, err
		}
		parts = append(parts, hj212.Parse(raw))
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if len(parts) < pnum {
		return nil, nil
	}
	msg, err := hj212.Combine(parts)
	if err != nil {
		// Packets that parse but do not fit together stay stored as frames; nothing to add.
		return nil, nil
	}
	return msg.Rows(last), nil
}

// credentialHash is how monitoring_credentials keeps a password.
func credentialHash(mn, pw string) string {
	h := sha256.Sum256([]byte(mn + ":" + pw))
	return hex.EncodeToString(h[:])
}

// CredentialHashes returns the stored hash of every logger set with SetCredential, by MN
// (see CredentialMatches).
func (s *MonitoringStore) CredentialHashes(ctx context.Context) (_ map[string]string, err error) {
	defer derrors.Wrap(&err, "CredentialHashes")
	return hashesByMN(ctx, s.db, "SELECT mn, pw_hash FROM monitoring_credentials")
}

// CredentialMatches reports whether pw is the password of mn whose stored hash (from
// CredentialHashes) is stored, in constant time.
func CredentialMatches(mn, pw, stored string) bool {
	return subtle.ConstantTimeCompare([]byte(stored), []byte(credentialHash(mn, pw))) == 1
}

// Check implements hj212.Credentials against monitoring_credentials.
func (s *MonitoringStore) Check(ctx context.Context, mn, pw string) (_ hj212.Verdict, err error) {
	defer derrors.Wrap(&err, "Check(%q)", mn)
	var stored string
	err = s.db.Pool.QueryRow(ctx, "SELECT pw_hash FROM monitoring_credentials WHERE mn = $1", mn).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return hj212.VerdictUnknownMN, nil
	}
	if err != nil {
		return 0, err
	}
	if !CredentialMatches(mn, pw, stored) {
		return hj212.VerdictWrongPW, nil
	}
	return hj212.VerdictOK, nil
}

// SetCredential registers (or changes) the password of the logger mn.
func (s *MonitoringStore) SetCredential(ctx context.Context, mn, pw string) (err error) {
	defer derrors.Wrap(&err, "SetCredential(%q)", mn)
	_, err = s.db.Pool.Exec(ctx, `INSERT INTO monitoring_credentials (mn, pw_hash) VALUES ($1, $2)
		ON CONFLICT (mn) DO UPDATE SET pw_hash = EXCLUDED.pw_hash, updated_at = now()`, mn, credentialHash(mn, pw))
	return formatError(err)
}

// ListQuarantine returns the MNs with frames in quarantine (unknown MN or wrong PW), most
// recent first: the administrators' view of loggers that are sending but not registered.
func (s *MonitoringStore) ListQuarantine(ctx context.Context, limit int) (_ []monitoring.QuarantinedMN, err error) {
	defer derrors.Wrap(&err, "ListQuarantine")
	return findQuarantine(ctx, s.db, 0, limit)
}

// findQuarantine lists the quarantined frames by MN and reason, with the enterprise of the MN's
// point when it is registered; agency (0: all) leaves out the registered points of
// enterprises outside it and the agencies under it (an MN of no point is no agency's).
func findQuarantine(ctx context.Context, db *DB, agency int64, limit int) ([]monitoring.QuarantinedMN, error) {
	rows, err := db.Pool.Query(ctx, `SELECT q.mn, q.reason, q.frames, q.first, q.last, q.addr, coalesce(p.uscc, '')
		FROM (SELECT mn, quarantine_reason AS reason, count(*) AS frames, min(received_at) AS first, max(received_at) AS last,
				(array_agg(remote_addr ORDER BY received_at DESC))[1] AS addr
			FROM monitoring_frames WHERE quarantined GROUP BY mn, quarantine_reason) q
		LEFT JOIN monitoring_points p ON p.mn = q.mn
		WHERE $1 = 0 OR p.mn IS NULL OR p.uscc IN (SELECT e.uscc FROM enterprises e JOIN agencies ag ON ag.id = e.agency_id WHERE $1 = ANY(ag.path))
		ORDER BY q.last DESC, q.mn, q.reason LIMIT $2`, agency, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (monitoring.QuarantinedMN, error) {
		var q monitoring.QuarantinedMN
		err := r.Scan(&q.MN, &q.Reason, &q.Frames, &q.First, &q.Last, &q.RemoteAddr, &q.USCC)
		return q, err
	})
}

// releaseQuarantine stores, in tx, the values of mn's quarantined frames whose PW accept takes
// and marks those frames released; frames with another PW stay in quarantine. It returns the
// numbers of frames released and kept.
func releaseQuarantine(ctx context.Context, tx pgx.Tx, mn string, accept func(pw string) bool) (released, kept int, err error) {
	rs, err := tx.Query(ctx, `SELECT id, raw, sha256 FROM monitoring_frames WHERE mn = $1 AND quarantined ORDER BY id FOR UPDATE`, mn)
	if err != nil {
		return 0, 0, err
	}
	type message struct {
		qn   string
		pnum int
	}
	var (
		ids   []int64
		all   []hj212.Row
		split = map[message]bool{}
		pws   = map[string]bool{} // accept's answer by PW: a frame's PW is checked once
	)
	for rs.Next() {
		var id int64
		var raw []byte
		var sha string
		if err := rs.Scan(&id, &raw, &sha); err != nil {
			rs.Close()
			return 0, 0, err
		}
		f := hj212.Parse(raw)
		ok, seen := pws[f.PW]
		if !seen {
			ok = accept(f.PW)
			pws[f.PW] = ok
		}
		if !ok {
			kept++
			continue
		}
		ids = append(ids, id)
		if f.Split() {
			split[message{f.QN, f.PNUM}] = true
			continue
		}
		all = append(all, f.Rows(sha)...)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, 0, err
	}
	if len(ids) == 0 {
		return 0, kept, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE monitoring_frames SET quarantined = false, released_at = now() WHERE id = ANY($1)`, ids); err != nil {
		return 0, 0, err
	}
	for m := range split {
		rows, err := assemble(ctx, tx, mn, m.qn, m.pnum)
		if err != nil {
			return 0, 0, err
		}
		all = append(all, rows...)
	}
	for _, t := range rowMonths(all, time.Now()) {
		if _, err := tx.Exec(ctx, "SELECT monitoring_values_ensure_month($1::date)", t.In(shanghai).Format("2006-01-02")); err != nil {
			return 0, 0, err
		}
	}
	if err := insertRows(ctx, tx, all, false); err != nil {
		return 0, 0, err
	}
	return len(ids), kept, nil
}

// CredentialHash is how monitoring_credentials keeps the password pw of mn (for tools that
// load credentials in bulk).
func CredentialHash(mn, pw string) string { return credentialHash(mn, pw) }
