package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
)

// ParcelService stores parcels in the parcels table.
type ParcelService struct{ db *DB }

var _ offsite.ParcelService = (*ParcelService)(nil)

// NewParcelService returns a ParcelService on db.
func NewParcelService(db *DB) *ParcelService { return &ParcelService{db: db} }

// toMulti turns a Polygon into a one-member MultiPolygon, the column's type.
func toMulti(g orb.Geometry) (orb.MultiPolygon, error) {
	switch g := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}, nil
	case orb.MultiPolygon:
		return g, nil
	default:
		return nil, fmt.Errorf("geometry type %T is not a Polygon or MultiPolygon: %w", g, offsite.ErrInvalid)
	}
}

func geomParam(g orb.Geometry) ([]byte, error) {
	return ewkb.Marshal(g, 4326)
}

// UpsertParcels inserts parcels or replaces existing ones, in one transaction.
func (s *ParcelService) UpsertParcels(ctx context.Context, parcels []*offsite.Parcel) (err error) {
	defer derrors.Wrap(&err, "UpsertParcels(%d parcels)", len(parcels))
	return formatError(pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		for i, p := range parcels {
			if err := upsertParcel(ctx, tx, i, p); err != nil {
				return err
			}
		}
		return nil
	}))
}

// upsertParcel inserts p, the i-th parcel of a request, or replaces the parcel of its ID,
// and sets its CreatedAt and UpdatedAt.
func upsertParcel(ctx context.Context, tx pgx.Tx, i int, p *offsite.Parcel) error {
	mp, err := toMulti(p.Geometry)
	if err != nil {
		return fmt.Errorf("parcel %d (%q): %w", i, p.ID, err)
	}
	b, err := geomParam(mp)
	if err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO parcels (id, uscc, name, geom)
		VALUES ($1, $2, $3, ST_GeomFromEWKB($4::bytea))
		ON CONFLICT (id) DO UPDATE
		SET uscc = EXCLUDED.uscc, name = EXCLUDED.name, geom = EXCLUDED.geom, updated_at = now(), retired_at = NULL
		RETURNING created_at, updated_at`,
		p.ID, p.EnterpriseUSCC, p.Name, b).Scan(&p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return fmt.Errorf("parcel %d (%q): %w", i, p.ID, formatError(err))
	}
	return nil
}

// FindParcelByID returns the parcel with id, retired or not.
func (s *ParcelService) FindParcelByID(ctx context.Context, id string) (_ *offsite.Parcel, err error) {
	defer derrors.Wrap(&err, "FindParcelByID(%q)", id)
	ps, _, err := s.FindParcels(ctx, offsite.ParcelFilter{IDs: []string{id}, Retired: true})
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, offsite.NotFound("parcel %q", id)
	}
	return ps[0], nil
}

// FindParcels returns parcels matching filter, ordered by id, and the total count of matches.
func (s *ParcelService) FindParcels(ctx context.Context, filter offsite.ParcelFilter) (_ []*offsite.Parcel, _ int, err error) {
	defer derrors.Wrap(&err, "FindParcels")
	var w sqlFilter
	if filter.IDs != nil {
		w.add("id = ANY($?)", filter.IDs)
	}
	if !filter.Retired {
		w.conds = append(w.conds, "retired_at IS NULL")
	}
	if filter.Intersects != nil {
		b, err := geomParam(filter.Intersects)
		if err != nil {
			return nil, 0, err
		}
		w.add("ST_Intersects(geom, ST_GeomFromEWKB($?::bytea))", b)
	}
	if filter.Agency != 0 {
		w.add(ownedUnderOrUnowned("uscc"), filter.Agency)
	}
	q := `SELECT id, uscc, name, ST_AsEWKB(geom), created_at, updated_at, retired_at, count(*) OVER () FROM parcels` +
		w.where() + " ORDER BY id" + pageSQL(filter.Offset, filter.Limit)
	rows, err := s.db.Pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*offsite.Parcel
	total := 0
	for rows.Next() {
		p := &offsite.Parcel{}
		var g []byte
		if err := rows.Scan(&p.ID, &p.EnterpriseUSCC, &p.Name, &g, &p.CreatedAt, &p.UpdatedAt, &p.RetiredAt, &total); err != nil {
			return nil, 0, err
		}
		if p.Geometry, _, err = ewkb.Unmarshal(g); err != nil {
			return nil, 0, fmt.Errorf("parcel %q geometry: %w", p.ID, err)
		}
		// Stored as MultiPolygon; a parcel of one polygon comes back as a Polygon.
		if mp, ok := p.Geometry.(orb.MultiPolygon); ok && len(mp) == 1 {
			p.Geometry = mp[0]
		}
		out = append(out, p)
	}
	return out, total, formatError(rows.Err())
}
