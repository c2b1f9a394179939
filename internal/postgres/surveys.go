package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/ewkb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/msgs"
)

// SurveyService stores surveys and their parts.
type SurveyService struct{ db *DB }

var _ offsite.SurveyService = (*SurveyService)(nil)

// NewSurveyService returns a SurveyService on db.
func NewSurveyService(db *DB) *SurveyService { return &SurveyService{db: db} }

const surveyColumns = `s.id, s.name, ST_AsEWKB(s.zone), s.window_start, s.window_end, s.kinds, s.pipeline, s.status,
	s.parcels, s.error, s.created_by, s.created_at, s.updated_at, s.started_at, s.finished_at, s.zone_id, s.batch_size,
	count(p.capture_id), count(*) FILTER (WHERE p.status = 'queued'), count(*) FILTER (WHERE p.status = 'running'),
	count(*) FILTER (WHERE p.status = 'done'), count(*) FILTER (WHERE p.status = 'failed'),
	count(*) FILTER (WHERE p.status = 'canceled'), coalesce(sum(p.clips), 0), coalesce(sum(p.findings), 0)`

func scanSurvey(row pgx.Row) (*offsite.Survey, error) {
	s := &offsite.Survey{}
	var zone []byte
	pr := &s.Progress
	err := row.Scan(&s.ID, &s.Name, &zone, &s.WindowStart, &s.WindowEnd, &s.Kinds, &s.Pipeline, &s.Status,
		&s.Parcels, &s.Error, &s.CreatedBy, &s.CreatedAt, &s.UpdatedAt, &s.StartedAt, &s.FinishedAt, &s.ZoneID, &s.BatchSize,
		&pr.Total, &pr.Queued, &pr.Running, &pr.Done, &pr.Failed, &pr.Canceled, &pr.Clips, &pr.Findings)
	if err != nil {
		return nil, err
	}
	if s.Zone, _, err = ewkb.Unmarshal(zone); err != nil {
		return nil, fmt.Errorf("survey %d zone: %w", s.ID, err)
	}
	return s, nil
}

// CreateSurvey plans and stores s in one transaction; see offsite.SurveyService.
func (s *SurveyService) CreateSurvey(ctx context.Context, sv *offsite.Survey) (_ []*offsite.SurveyPart, err error) {
	defer derrors.Wrap(&err, "CreateSurvey")
	mp, err := toMulti(sv.Zone)
	if err != nil {
		return nil, err
	}
	zone, err := geomParam(mp)
	if err != nil {
		return nil, err
	}
	var parts []*offsite.SurveyPart
	err = pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		// The survey's parcels: those in the zone, and only those, whatever else lies under
		// its captures. Each carries the geohash of its centroid: sorted by it, nearby
		// parcels are neighbours (Z-order), so that a batch reads a compact window.
		if _, err := tx.Exec(ctx, `
			CREATE TEMPORARY TABLE survey_parcels ON COMMIT DROP AS
			SELECT p.id, p.geom, ST_GeoHash(ST_Centroid(p.geom), 16) AS gh FROM parcels p
			WHERE p.retired_at IS NULL AND ST_Intersects(p.geom, ST_GeomFromEWKB($1::bytea))`, zone); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE INDEX ON survey_parcels USING gist (geom); ANALYZE survey_parcels`); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO surveys (name, zone, window_start, window_end, kinds, pipeline, created_by, parcels, status, zone_id, batch_size)
			VALUES ($1, ST_GeomFromEWKB($2::bytea), $3, $4, $5, $6, $7, (SELECT count(*) FROM survey_parcels), 'queued', $8, $9)
			RETURNING id`,
			sv.Name, zone, sv.WindowStart, sv.WindowEnd, sv.Kinds, sv.Pipeline, sv.CreatedBy, sv.ZoneID, sv.BatchSize).Scan(&id)
		if err != nil {
			return err
		}
		// The survey's captures: those whose footprint intersects the zone, or is not known yet.
		_, err = tx.Exec(ctx, `
			CREATE TEMPORARY TABLE survey_captures ON COMMIT DROP AS
			SELECT c.id, c.footprint, c.acquired_at FROM captures c
			WHERE c.kind = ANY($1) AND c.acquired_at >= $2 AND c.acquired_at < $3 AND c.status <> 'failed'
				AND (c.footprint IS NULL OR ST_Intersects(c.footprint, ST_GeomFromEWKB($4::bytea)))`,
			sv.Kinds, sv.WindowStart, sv.WindowEnd, zone)
		if err != nil {
			return err
		}
		// Each capture's parcels (the survey's parcels under its footprint; all of them when
		// the footprint is not known: the worker keeps those under it once it is) in batches
		// of at most BatchSize (one batch when it is not positive), planned in one statement.
		if _, err = tx.Exec(ctx, `
			INSERT INTO survey_parts (survey_id, capture_id, batch, parcel_ids)
			SELECT $1, capture_id, batch, array_agg(parcel_id ORDER BY ord) FROM (
				SELECT capture_id, parcel_id, row_number() OVER w AS ord,
					CASE WHEN $2 > 0 THEN (row_number() OVER w - 1) / $2 ELSE 0 END AS batch
				FROM (
					SELECT c.id AS capture_id, p.id AS parcel_id, p.gh
					FROM survey_captures c JOIN survey_parcels p ON ST_Intersects(p.geom, c.footprint)
					UNION ALL
					SELECT c.id, p.id, p.gh FROM survey_captures c CROSS JOIN survey_parcels p WHERE c.footprint IS NULL
				) m
				WINDOW w AS (PARTITION BY capture_id ORDER BY gh, parcel_id)) b
			GROUP BY capture_id, batch`, id, sv.BatchSize); err != nil {
			return err
		}
		// A capture over the zone with none of its parcels under it is still ingested and
		// clipped, with no parcel of its own to detect on.
		if _, err = tx.Exec(ctx, `
			INSERT INTO survey_parts (survey_id, capture_id, parcel_ids)
			SELECT $1, c.id, '{}' FROM survey_captures c
			WHERE NOT EXISTS (SELECT 1 FROM survey_parts p WHERE p.survey_id = $1 AND p.capture_id = c.id)`, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+partColumns+` FROM survey_parts p JOIN captures c ON c.id = p.capture_id
			WHERE p.survey_id = $1 ORDER BY c.acquired_at, c.id, p.batch`, id)
		if err != nil {
			return err
		}
		if parts, err = collectParts(rows); err != nil {
			return err
		}
		if len(parts) == 0 {
			if _, err := tx.Exec(ctx, `UPDATE surveys SET status = 'finished', finished_at = now() WHERE id = $1`, id); err != nil {
				return err
			}
			if err := notifySurveyEnd(ctx, tx, id, "finished", 0, 0); err != nil {
				return err
			}
		}
		got, err := scanSurvey(tx.QueryRow(ctx, `SELECT `+surveyColumns+` FROM surveys s
			LEFT JOIN survey_parts p ON p.survey_id = s.id WHERE s.id = $1 GROUP BY s.id`, id))
		if err != nil {
			return err
		}
		*sv = *got
		return nil
	})
	return parts, formatError(err)
}

const partColumns = `p.survey_id, p.capture_id, p.batch, p.parcel_ids, p.status, p.error, p.clips, p.findings, p.updated_at`

func scanPart(r pgx.Row) (*offsite.SurveyPart, error) {
	p := &offsite.SurveyPart{}
	err := r.Scan(&p.SurveyID, &p.CaptureID, &p.Batch, &p.ParcelIDs, &p.Status, &p.Error, &p.Clips, &p.Findings, &p.UpdatedAt)
	return p, err
}

func collectParts(rows pgx.Rows) ([]*offsite.SurveyPart, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*offsite.SurveyPart, error) { return scanPart(r) })
}

// FindSurveyByID returns the survey with its progress.
func (s *SurveyService) FindSurveyByID(ctx context.Context, id int64) (_ *offsite.Survey, err error) {
	defer derrors.Wrap(&err, "FindSurveyByID(%d)", id)
	sv, err := scanSurvey(s.db.Pool.QueryRow(ctx, `SELECT `+surveyColumns+` FROM surveys s
		LEFT JOIN survey_parts p ON p.survey_id = s.id WHERE s.id = $1 GROUP BY s.id`, id))
	if err != nil {
		if err = formatError(err); err == offsite.ErrNotFound {
			return nil, offsite.NotFound("survey %d", id)
		}
		return nil, err
	}
	return sv, nil
}

// FindSurveys returns surveys newest first, with their progress, and how many match;
// status, when not "", keeps only surveys in that status.
func (s *SurveyService) FindSurveys(ctx context.Context, status string, offset, limit int) (_ []*offsite.Survey, total int, err error) {
	defer derrors.Wrap(&err, "FindSurveys(%q, %d, %d)", status, offset, limit)
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM surveys WHERE $1 = '' OR status = $1`, status).Scan(&total); err != nil {
		return nil, 0, formatError(err)
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+surveyColumns+` FROM surveys s
		LEFT JOIN survey_parts p ON p.survey_id = s.id WHERE $1 = '' OR s.status = $1
		GROUP BY s.id ORDER BY s.id DESC OFFSET $2 LIMIT $3`, status, offset, limit)
	if err != nil {
		return nil, 0, formatError(err)
	}
	svs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*offsite.Survey, error) { return scanSurvey(r) })
	if err != nil {
		return nil, 0, formatError(err)
	}
	return svs, total, nil
}

// FindSurveyParts returns the parts of a survey in capture order.
func (s *SurveyService) FindSurveyParts(ctx context.Context, id int64) (_ []*offsite.SurveyPart, err error) {
	defer derrors.Wrap(&err, "FindSurveyParts(%d)", id)
	rows, err := s.db.Pool.Query(ctx, `SELECT `+partColumns+`
		FROM survey_parts p WHERE survey_id = $1 ORDER BY capture_id, batch`, id)
	if err != nil {
		return nil, formatError(err)
	}
	parts, err := collectParts(rows)
	return parts, formatError(err)
}

// StartPart marks a part running; see offsite.SurveyService.
func (s *SurveyService) StartPart(ctx context.Context, surveyID, captureID int64, batch int) (part *offsite.SurveyPart, err error) {
	defer derrors.Wrap(&err, "StartPart(%d, %d, %d)", surveyID, captureID, batch)
	err = pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM surveys WHERE id = $1 FOR UPDATE`, surveyID).Scan(&status); err != nil {
			return err
		}
		if status == offsite.SurveyCanceled {
			_, err := tx.Exec(ctx, `UPDATE survey_parts SET status = 'canceled', updated_at = now()
				WHERE survey_id = $1 AND capture_id = $2 AND batch = $3 AND status IN ('queued', 'running')`, surveyID, captureID, batch)
			return err
		}
		var err error
		part, err = scanPart(tx.QueryRow(ctx, `UPDATE survey_parts p SET status = 'running', error = '', updated_at = now()
			WHERE survey_id = $1 AND capture_id = $2 AND batch = $3 RETURNING `+partColumns, surveyID, captureID, batch))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE surveys SET status = 'running', updated_at = now(),
			started_at = coalesce(started_at, now()) WHERE id = $1 AND status IN ('queued', 'running')`, surveyID)
		return err
	})
	return part, formatError(err)
}

// EndPart records the outcome of a part and ends the survey when nothing is left to run.
func (s *SurveyService) EndPart(ctx context.Context, surveyID, captureID int64, batch, clips, findings int, errMsg string) (err error) {
	defer derrors.Wrap(&err, "EndPart(%d, %d, %d)", surveyID, captureID, batch)
	status := offsite.PartDone
	if errMsg != "" {
		status = offsite.PartFailed
	}
	return formatError(pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM surveys WHERE id = $1 FOR UPDATE`, surveyID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE survey_parts SET status = $3, error = $4, clips = $5, findings = $6, updated_at = now()
			WHERE survey_id = $1 AND capture_id = $2 AND batch = $7 AND status <> 'canceled'`, surveyID, captureID, status, errMsg, clips, findings, batch); err != nil {
			return err
		}
		var ended string
		var done, failed int
		err := tx.QueryRow(ctx, `
			UPDATE surveys s SET status = CASE WHEN c.done = 0 AND c.failed > 0 THEN 'error' ELSE 'finished' END,
				error = CASE WHEN c.done = 0 AND c.failed > 0 THEN 'every part failed' ELSE '' END,
				finished_at = now(), updated_at = now()
			FROM (SELECT count(*) FILTER (WHERE status IN ('queued', 'running')) AS open,
					count(*) FILTER (WHERE status = 'done') AS done,
					count(*) FILTER (WHERE status = 'failed') AS failed
				FROM survey_parts WHERE survey_id = $1) c
			WHERE s.id = $1 AND c.open = 0 AND s.status IN ('queued', 'running') RETURNING s.status, c.done, c.failed`, surveyID).Scan(&ended, &done, &failed)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // parts still running
		}
		if err != nil {
			return err
		}
		return notifySurveyEnd(ctx, tx, surveyID, ended, done, failed)
	}))
}

// notifySurveyEnd writes the end of survey id, in status ended, to the outbox.
func notifySurveyEnd(ctx context.Context, tx pgx.Tx, id int64, ended string, done, failed int) error {
	n := &enforce.Notification{Event: enforce.EventSurveyFinished, Subject: fmt.Sprintf("survey/%d", id)}
	n.Say(msgs.New(msgs.NoteSurveyFinished, "survey", strconv.FormatInt(id, 10), "done", strconv.Itoa(done), "failed", strconv.Itoa(failed)))
	if ended == "error" {
		n.Event = enforce.EventSurveyFailed
		n.Say(msgs.New(msgs.NoteSurveyFailed, "survey", strconv.FormatInt(id, 10), "failed", strconv.Itoa(failed)))
	}
	return insertOutbox(ctx, tx, n, "")
}

// CancelSurvey cancels a survey that has not ended.
func (s *SurveyService) CancelSurvey(ctx context.Context, id int64) (_ []*offsite.SurveyPart, err error) {
	defer derrors.Wrap(&err, "CancelSurvey(%d)", id)
	var parts []*offsite.SurveyPart
	err = pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM surveys WHERE id = $1 FOR UPDATE`, id).Scan(&status); err != nil {
			if err == pgx.ErrNoRows {
				return offsite.NotFound("survey %d", id)
			}
			return err
		}
		if status != offsite.SurveyQueued && status != offsite.SurveyRunning && status != offsite.SurveyCreated {
			return offsite.Conflict("survey %d is %s; only a queued or running survey can be canceled", id, status)
		}
		rows, err := tx.Query(ctx, `UPDATE survey_parts p SET status = 'canceled', updated_at = now()
			WHERE survey_id = $1 AND status = 'queued' RETURNING `+partColumns, id)
		if err != nil {
			return err
		}
		if parts, err = collectParts(rows); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE surveys SET status = 'canceled', finished_at = now(), updated_at = now() WHERE id = $1`, id)
		return err
	})
	return parts, formatError(err)
}

// RetrySurvey requeues the failed parts of an ended survey.
func (s *SurveyService) RetrySurvey(ctx context.Context, id int64) (_ []*offsite.SurveyPart, err error) {
	defer derrors.Wrap(&err, "RetrySurvey(%d)", id)
	var parts []*offsite.SurveyPart
	err = pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM surveys WHERE id = $1 FOR UPDATE`, id).Scan(&status); err != nil {
			if err == pgx.ErrNoRows {
				return offsite.NotFound("survey %d", id)
			}
			return err
		}
		if status == offsite.SurveyCanceled {
			return offsite.Conflict("survey %d was canceled", id)
		}
		rows, err := tx.Query(ctx, `UPDATE survey_parts p SET status = 'queued', error = '', updated_at = now()
			WHERE survey_id = $1 AND status = 'failed' RETURNING `+partColumns, id)
		if err != nil {
			return err
		}
		if parts, err = collectParts(rows); err != nil {
			return err
		}
		if len(parts) == 0 {
			return offsite.Conflict("survey %d has no failed parts", id)
		}
		_, err = tx.Exec(ctx, `UPDATE surveys SET status = 'queued', error = '', finished_at = NULL, updated_at = now() WHERE id = $1`, id)
		return err
	})
	return parts, formatError(err)
}
