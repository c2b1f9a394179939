package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
)

// GISService reads extents, parcel owners and pages of captures and clips for the GIS
// exports, the OGC API collections and the STAC API.
type GISService struct {
	db *DB
}

var _ offsite.GISService = (*GISService)(nil)

// NewGISService returns a GISService on db.
func NewGISService(db *DB) *GISService { return &GISService{db: db} }

// extentSQL are the geometry and time columns of each collection.
var extentSQL = map[string]struct{ table, geom, time string }{
	offsite.CollectionEnterprises: {"enterprises", "location", "updated_at"},
	offsite.CollectionParcels:     {"parcels", "geom", "updated_at"},
	offsite.CollectionFindings:    {"findings", "geom", "detected_at"},
	offsite.CollectionCaptures:    {"captures", "footprint", "acquired_at"},
	offsite.CollectionClips:       {"clips c JOIN parcels p ON p.id = c.parcel_id JOIN captures k ON k.id = c.capture_id", "p.geom", "k.acquired_at"},
}

// Extent returns the bounding box and time span of a collection.
func (s *GISService) Extent(ctx context.Context, collection string) (_ offsite.Extent, err error) {
	defer derrors.Wrap(&err, "Extent(%s)", collection)
	q, ok := extentSQL[collection]
	if !ok {
		return offsite.Extent{}, fmt.Errorf("unknown collection %q", collection)
	}
	var minX, minY, maxX, maxY *float64
	var start, end *time.Time
	err = s.db.Pool.QueryRow(ctx, fmt.Sprintf(`
		SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b), t0, t1
		FROM (SELECT ST_Extent(%s)::geometry AS b, min(%s) AS t0, max(%s) AS t1 FROM %s) x`, q.geom, q.time, q.time, q.table)).
		Scan(&minX, &minY, &maxX, &maxY, &start, &end)
	if err != nil {
		return offsite.Extent{}, formatError(err)
	}
	var ext offsite.Extent
	if minX != nil {
		ext.Bbox = &orb.Bound{Min: orb.Point{*minX, *minY}, Max: orb.Point{*maxX, *maxY}}
	}
	ext.Start, ext.End = start, end
	return ext, nil
}

// ParcelOwners returns the enterprise (USCC and name) of each parcel that has one.
func (s *GISService) ParcelOwners(ctx context.Context, parcelIDs []string) (_ map[string]offsite.Owner, err error) {
	defer derrors.Wrap(&err, "ParcelOwners(%d)", len(parcelIDs))
	out := map[string]offsite.Owner{}
	if len(parcelIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT p.id, p.uscc, coalesce(e.name, '')
		FROM parcels p LEFT JOIN enterprises e ON e.uscc = p.uscc
		WHERE p.id = ANY($1) AND p.uscc <> ''`, parcelIDs)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var o offsite.Owner
		if err := rows.Scan(&id, &o.USCC, &o.Name); err != nil {
			return nil, formatError(err)
		}
		out[id] = o
	}
	return out, formatError(rows.Err())
}

// FindAllClips returns clips by capture and parcel and how many there are.
func (s *GISService) FindAllClips(ctx context.Context, offset, limit int) (_ []*offsite.Clip, total int, err error) {
	defer derrors.Wrap(&err, "FindAllClips(%d, %d)", offset, limit)
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM clips`).Scan(&total); err != nil {
		return nil, 0, formatError(err)
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT capture_id, parcel_id, cog_key, cog_sha256, cog_bytes, quicklook_key, quicklook_sha256,
			width, height, valid_pixels, created_at
		FROM clips ORDER BY capture_id, parcel_id`+pageSQL(offset, limit))
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*offsite.Clip
	for rows.Next() {
		c := &offsite.Clip{}
		if err := rows.Scan(&c.CaptureID, &c.ParcelID, &c.COGKey, &c.COGSHA256, &c.COGBytes, &c.QuickLookKey, &c.QuickLookSHA256,
			&c.Width, &c.Height, &c.ValidPixels, &c.CreatedAt); err != nil {
			return nil, 0, formatError(err)
		}
		out = append(out, c)
	}
	return out, total, formatError(rows.Err())
}
