package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/msgs"
)

// NightlyService records nightly runs.
type NightlyService struct{ db *DB }

var _ offsite.NightlyService = (*NightlyService)(nil)

// NewNightlyService returns a NightlyService on db.
func NewNightlyService(db *DB) *NightlyService { return &NightlyService{db: db} }

// StartRun records a run as running and returns it with the start of the last finished run
// (the zero time when there was none).
func (s *NightlyService) StartRun(ctx context.Context) (_ *offsite.NightlyRun, lastOK time.Time, err error) {
	defer derrors.Wrap(&err, "StartRun")
	err = s.db.Pool.QueryRow(ctx, `SELECT coalesce(max(started_at), 'epoch') FROM nightly_runs WHERE status = 'finished'`).Scan(&lastOK)
	if err != nil {
		return nil, time.Time{}, formatError(err)
	}
	r := &offsite.NightlyRun{Status: offsite.NightlyRunning, Problems: []string{}}
	err = s.db.Pool.QueryRow(ctx, `INSERT INTO nightly_runs DEFAULT VALUES RETURNING id, started_at`).Scan(&r.ID, &r.StartedAt)
	if err != nil {
		return nil, time.Time{}, formatError(err)
	}
	return r, lastOK, nil
}

// FinishRun records the outcome of r: finished, or error when r.Error is set.
func (s *NightlyService) FinishRun(ctx context.Context, r *offsite.NightlyRun) (err error) {
	defer derrors.Wrap(&err, "FinishRun(%d)", r.ID)
	r.Status = offsite.NightlyFinished
	if r.Error != "" {
		r.Status = offsite.NightlyError
	}
	if r.Problems == nil {
		r.Problems = []string{}
	}
	return formatError(pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			UPDATE nightly_runs SET finished_at = now(), status = $2, scanned = $3, registered = $4, queued = $5,
				problems = $6, error = $7, expired = $8
			WHERE id = $1 RETURNING finished_at`,
			r.ID, r.Status, r.Scanned, r.Registered, r.Queued, r.Problems, r.Error, r.Expired).Scan(&r.FinishedAt); err != nil {
			return err
		}
		n := &enforce.Notification{Event: enforce.EventNightlyFinished, Subject: fmt.Sprintf("nightly-run/%d", r.ID)}
		id := strconv.FormatInt(r.ID, 10)
		n.Say(msgs.New(msgs.NoteNightlyFinished, "run", id, "scanned", strconv.Itoa(r.Scanned), "registered", strconv.Itoa(r.Registered),
			"queued", strconv.Itoa(r.Queued), "expired", strconv.Itoa(r.Expired), "problems", strconv.Itoa(len(r.Problems))))
		if r.Error != "" {
			n.Event, n.Body = enforce.EventNightlyFailed, r.Error
			n.Say(msgs.New(msgs.NoteNightlyFailed, "run", id))
		}
		return insertOutbox(ctx, tx, n, "")
	}))
}

// AddRunCapture records that run runID queued capture captureID with pipeline and marks the
// capture queued if it is still registered (a fast worker may have taken it already), in one
// transaction.
func (s *NightlyService) AddRunCapture(ctx context.Context, runID, captureID int64, pipeline string) (err error) {
	defer derrors.Wrap(&err, "AddRunCapture(%d, %d)", runID, captureID)
	return formatError(pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO nightly_run_captures (run_id, capture_id, pipeline) VALUES ($1, $2, $3)
			ON CONFLICT (run_id, capture_id) DO UPDATE SET pipeline = excluded.pipeline`, runID, captureID, pipeline)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE captures SET status = 'queued', updated_at = now() WHERE id = $1 AND status = 'registered'`, captureID)
		return err
	}))
}

// runColumns are the columns of a run with the outcome of its captures, over nightly_runs r.
const runColumns = `r.id, r.started_at, r.finished_at, r.status, r.scanned, r.registered, r.queued, r.expired, r.problems, r.error,
	coalesce(o.processed, 0), coalesce(o.failed, 0), coalesce(o.pending, 0)`

// runOutcome joins each run r with the counts of its captures by outcome.
const runOutcome = ` LEFT JOIN LATERAL (
		SELECT count(*) FILTER (WHERE c.status = 'processed') AS processed,
			count(*) FILTER (WHERE c.status = 'failed') AS failed,
			count(*) FILTER (WHERE c.status NOT IN ('processed', 'failed')) AS pending
		FROM nightly_run_captures rc JOIN captures c ON c.id = rc.capture_id
		WHERE rc.run_id = r.id) o ON true`

func scanRun(row pgx.Row) (*offsite.NightlyRun, error) {
	r := &offsite.NightlyRun{}
	err := row.Scan(&r.ID, &r.StartedAt, &r.FinishedAt, &r.Status, &r.Scanned, &r.Registered, &r.Queued, &r.Expired,
		&r.Problems, &r.Error, &r.Processed, &r.Failed, &r.Pending)
	return r, err
}

// FindRuns returns the runs that match f, newest first, and how many match.
func (s *NightlyService) FindRuns(ctx context.Context, f offsite.NightlyRunFilter) (_ []*offsite.NightlyRun, total int, err error) {
	defer derrors.Wrap(&err, "FindRuns(%+v)", f)
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	where, args := "", []any{}
	if f.Status != "" {
		where = " WHERE r.status = $1"
		args = append(args, f.Status)
	}
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM nightly_runs r`+where, args...).Scan(&total); err != nil {
		return nil, 0, formatError(err)
	}
	args = append(args, limit, f.Offset)
	rows, err := s.db.Pool.Query(ctx, `SELECT `+runColumns+` FROM nightly_runs r`+runOutcome+where+
		fmt.Sprintf(` ORDER BY r.id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*offsite.NightlyRun, error) { return scanRun(row) })
	if err != nil {
		return nil, 0, formatError(err)
	}
	return runs, total, nil
}

// FindRunByID returns run id.
func (s *NightlyService) FindRunByID(ctx context.Context, id int64) (_ *offsite.NightlyRun, err error) {
	defer derrors.Wrap(&err, "FindRunByID(%d)", id)
	r, err := scanRun(s.db.Pool.QueryRow(ctx, `SELECT `+runColumns+` FROM nightly_runs r`+runOutcome+` WHERE r.id = $1`, id))
	if err != nil {
		if err = formatError(err); err == offsite.ErrNotFound {
			return nil, offsite.NotFound("nightly run %d", id)
		}
		return nil, err
	}
	return r, nil
}

// FindRunCaptures returns the captures run id queued, by capture id; ErrNotFound when there
// is no such run.
func (s *NightlyService) FindRunCaptures(ctx context.Context, id int64) (_ []*offsite.NightlyRunCapture, err error) {
	defer derrors.Wrap(&err, "FindRunCaptures(%d)", id)
	var exists bool
	if err := s.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM nightly_runs WHERE id = $1)`, id).Scan(&exists); err != nil {
		return nil, formatError(err)
	}
	if !exists {
		return nil, offsite.NotFound("nightly run %d", id)
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT c.id, c.kind, c.key, c.acquired_at, rc.pipeline, rc.queued_at, c.status, c.error, c.failure
		FROM nightly_run_captures rc JOIN captures c ON c.id = rc.capture_id
		WHERE rc.run_id = $1 ORDER BY c.id`, id)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*offsite.NightlyRunCapture, error) {
		c := &offsite.NightlyRunCapture{}
		err := row.Scan(&c.CaptureID, &c.Kind, &c.Key, &c.AcquiredAt, &c.Pipeline, &c.QueuedAt, &c.Status, &c.Error, &c.Failure)
		return c, err
	})
	return out, formatError(err)
}

// LastRuns returns the most recent runs, newest first.
func (s *NightlyService) LastRuns(ctx context.Context, limit int) ([]*offsite.NightlyRun, error) {
	runs, _, err := s.FindRuns(ctx, offsite.NightlyRunFilter{Limit: limit})
	return runs, err
}
