package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/ewkb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/verify"
)

// FindingService stores findings in the findings table.
type FindingService struct{ db *DB }

var (
	_ offsite.FindingService = (*FindingService)(nil)
	_ verify.Source          = (*FindingService)(nil)
)

// NewFindingService returns a FindingService on db.
func NewFindingService(db *DB) *FindingService { return &FindingService{db: db} }

// RecordFindings inserts findings in one transaction. A finding whose id is already stored
// is left as it was.
func (s *FindingService) RecordFindings(ctx context.Context, fs []*offsite.Finding) (err error) {
	defer derrors.Wrap(&err, "RecordFindings(%d findings)", len(fs))
	return formatError(pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		for _, f := range fs {
			g, err := geomParam(f.Geometry)
			if err != nil {
				return fmt.Errorf("finding %s: %w", f.ID, err)
			}
			props := f.Properties
			if props == nil {
				props = map[string]any{}
			}
			arts := f.Artifacts
			if arts == nil {
				arts = []offsite.Artifact{}
			}
			err = tx.QueryRow(ctx, `
				INSERT INTO findings (id, parcel_id, capture_ids, kind, class, status, score, area_m2, severity,
					geom, pipeline, pipeline_hash, detected_at, properties, provenance, artifacts, uscc)
				VALUES ($1, nullif($2, ''), $3, $4, $5, $6, $7, $8, $9, ST_GeomFromEWKB($10::bytea), $11, $12, $13, $14, $15, $16, nullif($17, ''))
				ON CONFLICT (id) DO NOTHING
				RETURNING created_at`,
				f.ID, f.ParcelID, f.CaptureIDs, f.Kind, f.Class, f.Status, f.Score, f.AreaM2, f.Severity,
				g, f.Pipeline, f.PipelineHash, f.DetectedAt, props, f.Provenance, arts, f.USCC).Scan(&f.CreatedAt)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // already recorded
			}
			if err != nil {
				return fmt.Errorf("finding %s of parcel %q: %w", f.ID, f.ParcelID, err)
			}
		}
		return nil
	}))
}

// findingOwnerOf is the enterprise of a row of findings named t: its parcel's, else its own
// uscc.
func findingOwnerOf(t string) string {
	return "coalesce((SELECT nullif(p.uscc, '') FROM parcels p WHERE p.id = " + t + ".parcel_id), " + t + ".uscc)"
}

// FindFindings returns findings matching filter, newest first, and the total count.
func (s *FindingService) FindFindings(ctx context.Context, filter offsite.FindingFilter) (_ []*offsite.Finding, _ int, err error) {
	defer derrors.Wrap(&err, "FindFindings")
	var w sqlFilter
	if filter.IDs != nil {
		w.add("id = ANY($?)", filter.IDs)
	}
	if filter.ParcelID != "" {
		w.add("parcel_id = $?", filter.ParcelID)
	}
	if filter.CaptureID != 0 {
		w.add("$? = ANY(capture_ids)", filter.CaptureID)
	}
	if filter.Kind != "" {
		w.add("kind = $?", filter.Kind)
	}
	if filter.Intersects != nil {
		b, err := geomParam(filter.Intersects)
		if err != nil {
			return nil, 0, err
		}
		w.add("ST_Intersects(geom, ST_GeomFromEWKB($?::bytea))", b)
	}
	if filter.Agency != 0 {
		w.add(ownedUnderOrUnowned(findingOwnerOf("findings")), filter.Agency)
	}
	q := `SELECT id, coalesce(parcel_id, ''), capture_ids, kind, class, status, score, area_m2, severity, ST_AsEWKB(geom),
		pipeline, pipeline_hash, detected_at, properties, provenance, artifacts, created_at, coalesce(uscc, ''), count(*) OVER ()
		FROM findings` + w.where() + " ORDER BY detected_at DESC, id" + pageSQL(filter.Offset, filter.Limit)
	rows, err := s.db.Pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*offsite.Finding
	total := 0
	for rows.Next() {
		f := &offsite.Finding{}
		var g []byte
		if err := rows.Scan(&f.ID, &f.ParcelID, &f.CaptureIDs, &f.Kind, &f.Class, &f.Status, &f.Score, &f.AreaM2,
			&f.Severity, &g, &f.Pipeline, &f.PipelineHash, &f.DetectedAt, &f.Properties, &f.Provenance,
			&f.Artifacts, &f.CreatedAt, &f.USCC, &total); err != nil {
			return nil, 0, err
		}
		if f.Geometry, _, err = ewkb.Unmarshal(g); err != nil {
			return nil, 0, fmt.Errorf("finding %s geometry: %w", f.ID, err)
		}
		out = append(out, f)
	}
	return out, total, formatError(rows.Err())
}

// ListArtifacts pages through the artifacts of every finding in id order; the cursor is the
// id of the last finding returned.
func (s *FindingService) ListArtifacts(ctx context.Context, after string, limit int) (_ []verify.Artifact, next string, err error) {
	defer derrors.Wrap(&err, "ListArtifacts(%q)", after)
	rows, err := s.db.Pool.Query(ctx, `SELECT id, coalesce(parcel_id, uscc), artifacts FROM findings WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, "", formatError(err)
	}
	defer rows.Close()
	var arts []verify.Artifact
	n := 0
	var id, parcel string
	for rows.Next() {
		var as []offsite.Artifact
		if err := rows.Scan(&id, &parcel, &as); err != nil {
			return nil, "", err
		}
		n++
		for _, a := range as {
			arts = append(arts, verify.Artifact{Key: a.Key, SHA256: a.SHA256, Owner: fmt.Sprintf("finding %s parcel %s %s", id, parcel, a.Name)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, "", formatError(err)
	}
	if n == limit {
		next = id
	}
	return arts, next, nil
}
