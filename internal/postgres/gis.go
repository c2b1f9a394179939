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

// extentSQL are the geometry and time columns of each collection, and the condition that
// keeps an agency's rows (as the lists of the collection keep them; "" for the captures,
// which every agency shares).
var extentSQL = map[string]struct{ table, geom, time, agency string }{
	offsite.CollectionEnterprises: {"enterprises", "location", "updated_at", enterprisesUnder("uscc")},
	offsite.CollectionParcels:     {"parcels", "geom", "updated_at", ownedUnderOrUnowned("uscc")},
	offsite.CollectionFindings:    {"findings", "geom", "detected_at", ownedUnderOrUnowned(findingOwnerOf("findings"))},
	offsite.CollectionCaptures:    {"captures", "footprint", "acquired_at", ""},
	offsite.CollectionClips:       {clipsSQL + " JOIN captures k ON k.id = c.capture_id", "p.geom", "k.acquired_at", clipsOfAgency},
}

// clipsSQL are the clips (c) with their parcels (p); clipsOfAgency keeps those of parcels
// that an agency reaches, as the parcels list does.
const clipsSQL = "clips c JOIN parcels p ON p.id = c.parcel_id"

var clipsOfAgency = ownedUnderOrUnowned("p.uscc")

// Extent returns the bounding box and time span of a collection, of the rows agency reaches
// (0: all).
func (s *GISService) Extent(ctx context.Context, collection string, agency int64) (_ offsite.Extent, err error) {
	defer derrors.Wrap(&err, "Extent(%s, %d)", collection, agency)
	q, ok := extentSQL[collection]
	if !ok {
		return offsite.Extent{}, fmt.Errorf("unknown collection %q", collection)
	}
	var w sqlFilter
	if agency != 0 && q.agency != "" {
		w.add(q.agency, agency)
	}
	var minX, minY, maxX, maxY *float64
	var start, end *time.Time
	err = s.db.Pool.QueryRow(ctx, fmt.Sprintf(`
		SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b), t0, t1
		FROM (SELECT ST_Extent(%s)::geometry AS b, min(%s) AS t0, max(%s) AS t1 FROM %s%s) x`, q.geom, q.time, q.time, q.table, w.where()), w.args...).
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

// FindClipsBy returns the clips f selects by capture id and parcel id, and how many it
// selects.
func (s *GISService) FindClipsBy(ctx context.Context, f offsite.ClipFilter) (_ []*offsite.Clip, total int, err error) {
	defer derrors.Wrap(&err, "FindClipsBy(%+v)", f)
	var w sqlFilter
	if f.CaptureID != 0 {
		w.add("c.capture_id = $?", f.CaptureID)
	}
	if f.ParcelID != "" {
		w.add("c.parcel_id = $?", f.ParcelID)
	}
	if f.Agency != 0 {
		w.add(clipsOfAgency, f.Agency)
	}
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM `+clipsSQL+w.where(), w.args...).Scan(&total); err != nil {
		return nil, 0, formatError(err)
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT c.capture_id, c.parcel_id, c.cog_key, c.cog_sha256, c.cog_bytes, c.quicklook_key, c.quicklook_sha256,
			c.width, c.height, c.valid_pixels, c.created_at
		FROM `+clipsSQL+w.where()+` ORDER BY c.capture_id, c.parcel_id`+pageSQL(f.Offset, f.Limit), w.args...)
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
