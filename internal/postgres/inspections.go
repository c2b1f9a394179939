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

const inspectionColumns = `id, uscc, status, doc, version, opened_at, updated_at`

func scanInspection(row pgx.Row, extra ...any) (*enforce.Inspection, error) {
	var doc []byte
	var id int64
	var uscc, status string
	var version int
	var opened, updated time.Time
	if err := row.Scan(append([]any{&id, &uscc, &status, &doc, &version, &opened, &updated}, extra...)...); err != nil {
		return nil, err
	}
	in := &enforce.Inspection{}
	if err := json.Unmarshal(doc, in); err != nil {
		return nil, fmt.Errorf("inspection %d doc: %w", id, err)
	}
	in.ID, in.USCC, in.Status, in.Version, in.OpenedAt, in.UpdatedAt = id, uscc, enforce.InspectionStatus(status), version, opened, updated
	if in.Warnings == nil {
		in.Warnings = []enforce.Warning{}
	}
	return in, nil
}

func insertInspection(ctx context.Context, tx pgx.Tx, in *enforce.Inspection) error {
	doc, err := marshalDoc(in)
	if err != nil {
		return err
	}
	return tx.QueryRow(ctx, `INSERT INTO inspections (uscc, level, matter, status, listed, linked_to, doc, opened_at, closed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, version, updated_at`,
		in.USCC, in.Level, in.Matter, in.Status, in.Listed, in.LinkedTo, doc, in.OpenedAt, in.ClosedAt).Scan(&in.ID, &in.Version, &in.UpdatedAt)
}

func saveInspection(ctx context.Context, tx pgx.Tx, in *enforce.Inspection) error {
	doc, err := marshalDoc(in)
	if err != nil {
		return err
	}
	var reportAt, visitedAt *time.Time
	if in.Report != nil {
		reportAt = &in.Report.SubmittedAt
	}
	if in.SiteVisit != nil {
		visitedAt = in.SiteVisit.VisitedAt
	}
	waived := in.Disposition != nil && in.Disposition.Waived
	return tx.QueryRow(ctx, `UPDATE inspections SET status = $2, self_check_requested_at = $3, report_submitted_at = $4,
		site_visited_at = $5, waived = $6, doc = $7, closed_at = $8, version = version + 1, updated_at = now()
		WHERE id = $1 RETURNING version, updated_at`,
		in.ID, in.Status, in.SelfCheckRequestedAt, reportAt, visitedAt, waived, doc, in.ClosedAt).Scan(&in.Version, &in.UpdatedAt)
}

func addWarning(ctx context.Context, tx pgx.Tx, in *enforce.Inspection, w *enforce.Warning) error {
	if err := tx.QueryRow(ctx, `INSERT INTO inspection_warnings (inspection_id, uscc, source, ref, severity, message)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`, in.ID, in.USCC, w.Source, w.Ref, w.Severity, w.Message).
		Scan(&w.ID, &w.CreatedAt); err != nil {
		return err
	}
	in.Warnings = append(in.Warnings, *w)
	return nil
}

// FindInspectionByID returns one inspection.
func (s *EnforceService) FindInspectionByID(ctx context.Context, id int64) (_ *enforce.Inspection, err error) {
	defer derrors.Wrap(&err, "FindInspectionByID(%d)", id)
	in, err := scanInspection(s.db.Pool.QueryRow(ctx, "SELECT "+inspectionColumns+" FROM inspections WHERE id = $1", id))
	if err == pgx.ErrNoRows {
		return nil, offsite.NotFound("inspection %d", id)
	}
	return in, formatError(err)
}

// FindInspections returns inspections, newest first.
func (s *EnforceService) FindInspections(ctx context.Context, f enforce.InspectionFilter) (_ []*enforce.Inspection, _ int, err error) {
	defer derrors.Wrap(&err, "FindInspections")
	var w sqlFilter
	if f.USCC != "" {
		w.add("uscc = $?", f.USCC)
	}
	if f.Agency != 0 {
		w.add(enterprisesUnder("uscc"), f.Agency)
	}
	if f.Status != "" {
		w.add("status = $?", f.Status)
	}
	q := "SELECT " + inspectionColumns + ", count(*) OVER () FROM inspections" + w.where() + " ORDER BY id DESC" + pageSQL(f.Offset, f.Limit)
	rows, err := s.db.Pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*enforce.Inspection
	total := 0
	for rows.Next() {
		in, err := scanInspection(rows, &total)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, in)
	}
	return out, total, formatError(rows.Err())
}
