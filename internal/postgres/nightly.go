package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
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
	r := &offsite.NightlyRun{Status: "running", Problems: []string{}}
	err = s.db.Pool.QueryRow(ctx, `INSERT INTO nightly_runs DEFAULT VALUES RETURNING id, started_at`).Scan(&r.ID, &r.StartedAt)
	if err != nil {
		return nil, time.Time{}, formatError(err)
	}
	return r, lastOK, nil
}

// FinishRun records the outcome of r: finished, or error when r.Error is set.
func (s *NightlyService) FinishRun(ctx context.Context, r *offsite.NightlyRun) (err error) {
	defer derrors.Wrap(&err, "FinishRun(%d)", r.ID)
	r.Status = "finished"
	if r.Error != "" {
		r.Status = "error"
	}
	if r.Problems == nil {
		r.Problems = []string{}
	}
	return formatError(s.db.Pool.QueryRow(ctx, `
		UPDATE nightly_runs SET finished_at = now(), status = $2, scanned = $3, registered = $4, queued = $5,
			problems = $6, error = $7, expired = $8
		WHERE id = $1 RETURNING finished_at`,
		r.ID, r.Status, r.Scanned, r.Registered, r.Queued, r.Problems, r.Error, r.Expired).Scan(&r.FinishedAt))
}

// LastRuns returns the most recent runs, newest first.
func (s *NightlyService) LastRuns(ctx context.Context, limit int) (_ []*offsite.NightlyRun, err error) {
	defer derrors.Wrap(&err, "LastRuns")
	rows, err := s.db.Pool.Query(ctx, `SELECT id, started_at, finished_at, status, scanned, registered, queued, expired, problems, error
		FROM nightly_runs ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, formatError(err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*offsite.NightlyRun, error) {
		r := &offsite.NightlyRun{}
		err := row.Scan(&r.ID, &r.StartedAt, &r.FinishedAt, &r.Status, &r.Scanned, &r.Registered, &r.Queued, &r.Expired, &r.Problems, &r.Error)
		return r, err
	})
	return runs, formatError(err)
}
