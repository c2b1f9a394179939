package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

const findingColumns = `f.id, coalesce(f.parcel_id, ''), f.capture_ids, f.kind, f.class, f.status, f.score, f.area_m2, f.severity,
	ST_AsEWKB(f.geom), f.pipeline, f.pipeline_hash, f.detected_at, f.properties, f.provenance, f.artifacts, f.created_at, coalesce(f.uscc, '')`

func scanFinding(row pgx.Row, extra ...any) (*offsite.Finding, error) {
	f := &offsite.Finding{}
	var g, props, prov, arts []byte
	if err := row.Scan(append([]any{&f.ID, &f.ParcelID, &f.CaptureIDs, &f.Kind, &f.Class, &f.Status, &f.Score, &f.AreaM2,
		&f.Severity, &g, &f.Pipeline, &f.PipelineHash, &f.DetectedAt, &props, &prov,
		&arts, &f.CreatedAt, &f.USCC}, extra...)...); err != nil {
		return nil, err
	}
	// The stored JSON as it is (a json.RawMessage destination had encoding/json check and copy
	// what PostgreSQL wrote).
	f.Provenance = prov
	var err error
	if f.Properties, err = decodeProperties(props); err != nil {
		return nil, fmt.Errorf("finding %s properties: %w", f.ID, err)
	}
	if f.Artifacts, err = decodeArtifacts(arts); err != nil {
		return nil, fmt.Errorf("finding %s artifacts: %w", f.ID, err)
	}
	if f.Geometry, err = unmarshalEWKB(g); err != nil {
		return nil, fmt.Errorf("finding %s geometry: %w", f.ID, err)
	}
	return f, nil
}

// FindFindingFeatures returns findings intersecting f.Bbox detected within [f.UpdatedFrom,
// f.UpdatedTo], ordered by id, and their total count.
func (s *EnforceService) FindFindingFeatures(ctx context.Context, f enforce.EnterpriseFilter) (_ []*offsite.Finding, total int, err error) {
	defer derrors.Wrap(&err, "FindFindingFeatures")
	cond, args := timeBoxCondition(f, "f.geom", "f.detected_at", findingOwnerOf("f"))
	if err := s.db.Pool.QueryRow(ctx, "SELECT count(*) FROM findings f WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, formatError(err)
	}
	rows, err := s.db.Pool.Query(ctx, "SELECT "+findingColumns+" FROM findings f WHERE "+cond+" ORDER BY f.id"+pageSQL(f.Offset, f.Limit), args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*offsite.Finding
	for rows.Next() {
		x, err := scanFinding(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, x)
	}
	return out, total, formatError(rows.Err())
}

// timeBoxCondition is the SQL condition of an OGC bbox and datetime filter on the named
// geometry and time columns, and of f.Agency on owner, the SQL of a row's enterprise: as the
// lists of the API, an agency reaches its enterprises', those under it and no enterprise's.
func timeBoxCondition(f enforce.EnterpriseFilter, geomCol, timeCol, owner string) (string, []any) {
	var w sqlFilter
	if f.Bbox != nil {
		w.add(fmt.Sprintf("%[1]s && ST_MakeEnvelope(($?::float8[])[1], ($?::float8[])[2], ($?::float8[])[3], ($?::float8[])[4], 4326) AND ST_Intersects(%[1]s, ST_MakeEnvelope(($?::float8[])[1], ($?::float8[])[2], ($?::float8[])[3], ($?::float8[])[4], 4326))", geomCol),
			[]float64{f.Bbox.Min[0], f.Bbox.Min[1], f.Bbox.Max[0], f.Bbox.Max[1]})
	}
	if f.UpdatedFrom != nil {
		w.add(timeCol+" >= $?", *f.UpdatedFrom)
	}
	if f.UpdatedTo != nil {
		w.add(timeCol+" <= $?", *f.UpdatedTo)
	}
	if f.IDs != nil {
		w.add("id = ANY($?)", f.IDs)
	}
	if f.Agency != 0 {
		w.add(ownedUnderOrUnowned(owner), f.Agency)
	}
	return w.cond(), w.args
}

// FindParcelFeatures returns the parcels not retired within f.Bbox updated within
// [f.UpdatedFrom, f.UpdatedTo], ordered by id, and their total count. Other filter fields are
// ignored.
func (s *EnforceService) FindParcelFeatures(ctx context.Context, f enforce.EnterpriseFilter) (_ []*offsite.Parcel, total int, err error) {
	defer derrors.Wrap(&err, "FindParcelFeatures")
	cond, args := timeBoxCondition(f, "geom", "updated_at", "uscc")
	cond += " AND retired_at IS NULL"
	if err := s.db.Pool.QueryRow(ctx, "SELECT count(*) FROM parcels WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, formatError(err)
	}
	ps, err := findParcels(ctx, s.db.Pool, cond, pageSQL(f.Offset, f.Limit), args...)
	return ps, total, formatError(err)
}

// findParcels reads parcels matching a condition on the parcels table;
// tail follows the ORDER BY (a LIMIT and OFFSET).
func findParcels(ctx context.Context, q querier, cond, tail string, args ...any) ([]*offsite.Parcel, error) {
	rows, err := q.Query(ctx, `SELECT id, uscc, name, ST_AsEWKB(geom), created_at, updated_at FROM parcels WHERE `+cond+` ORDER BY id`+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*offsite.Parcel
	for rows.Next() {
		p := &offsite.Parcel{}
		var g []byte
		if err := rows.Scan(&p.ID, &p.EnterpriseUSCC, &p.Name, &g, &p.CreatedAt, &p.UpdatedAt); err != nil {
			return nil, err
		}
		if p.Geometry, err = unmarshalEWKB(g); err != nil {
			return nil, fmt.Errorf("parcel %q geometry: %w", p.ID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
