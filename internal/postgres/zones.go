package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/ewkb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
)

// ZoneService stores named zones.
type ZoneService struct{ db *DB }

var _ offsite.ZoneService = (*ZoneService)(nil)

// NewZoneService returns a ZoneService on db.
func NewZoneService(db *DB) *ZoneService { return &ZoneService{db: db} }

const zoneColumns = `id, name, ST_AsEWKB(geom), created_by, created_at`

func scanZone(row pgx.Row) (*offsite.Zone, error) {
	z := &offsite.Zone{}
	var g []byte
	if err := row.Scan(&z.ID, &z.Name, &g, &z.CreatedBy, &z.CreatedAt); err != nil {
		return nil, err
	}
	var err error
	if z.Geometry, _, err = ewkb.Unmarshal(g); err != nil {
		return nil, fmt.Errorf("zone %d geometry: %w", z.ID, err)
	}
	return z, nil
}

// CreateZone stores z and fills in its id and creation time. A name already taken is
// offsite.ErrConflict.
func (s *ZoneService) CreateZone(ctx context.Context, z *offsite.Zone) (err error) {
	defer derrors.Wrap(&err, "CreateZone(%q)", z.Name)
	mp, err := toMulti(z.Geometry)
	if err != nil {
		return err
	}
	g, err := geomParam(mp)
	if err != nil {
		return err
	}
	got, err := scanZone(s.db.Pool.QueryRow(ctx, `INSERT INTO zones (name, geom, created_by)
		VALUES ($1, ST_GeomFromEWKB($2::bytea), $3) RETURNING `+zoneColumns, z.Name, g, z.CreatedBy))
	if err != nil {
		return formatError(err)
	}
	*z = *got
	return nil
}

// FindZoneByID returns zone id.
func (s *ZoneService) FindZoneByID(ctx context.Context, id int64) (_ *offsite.Zone, err error) {
	defer derrors.Wrap(&err, "FindZoneByID(%d)", id)
	return s.findZone(ctx, "id = $1", id, "zone %d", id)
}

// FindZoneByName returns the zone named name.
func (s *ZoneService) FindZoneByName(ctx context.Context, name string) (_ *offsite.Zone, err error) {
	defer derrors.Wrap(&err, "FindZoneByName(%q)", name)
	return s.findZone(ctx, "name = $1", name, "zone %q", name)
}

func (s *ZoneService) findZone(ctx context.Context, where string, arg any, format string, v any) (*offsite.Zone, error) {
	z, err := scanZone(s.db.Pool.QueryRow(ctx, `SELECT `+zoneColumns+` FROM zones WHERE `+where, arg))
	if err = formatError(err); err == offsite.ErrNotFound {
		return nil, offsite.NotFound(format, v)
	}
	return z, err
}

// FindZones returns every zone by name.
func (s *ZoneService) FindZones(ctx context.Context) (_ []*offsite.Zone, err error) {
	defer derrors.Wrap(&err, "FindZones")
	rows, err := s.db.Pool.Query(ctx, `SELECT `+zoneColumns+` FROM zones ORDER BY name`)
	if err != nil {
		return nil, formatError(err)
	}
	zs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*offsite.Zone, error) { return scanZone(r) })
	return zs, formatError(err)
}
