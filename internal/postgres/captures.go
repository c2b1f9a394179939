package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/ewkb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/verify"
)

// CaptureService stores captures and their clips.
type CaptureService struct{ db *DB }

var (
	_ offsite.CaptureService = (*CaptureService)(nil)
	_ offsite.ClipService    = (*CaptureService)(nil)
	_ verify.Source          = (*CaptureService)(nil)
	_ verify.CaptureLister   = (*CaptureService)(nil)
)

// NewCaptureService returns a CaptureService on db.
func NewCaptureService(db *DB) *CaptureService { return &CaptureService{db: db} }

const captureColumns = `id, kind, acquired_at, sensor, bucket, key, status, error, crs, width, height, bands,
	checksum, size_bytes, ST_AsEWKB(footprint), cog_key, band_stats, ingested_at, failure, band_scales, warnings,
	ingest, created_at, updated_at`

func scanCapture(row pgx.Row) (*offsite.Capture, error) {
	c := &offsite.Capture{}
	var fp []byte // NULL until ingest
	err := row.Scan(&c.ID, &c.Kind, &c.AcquiredAt, &c.Sensor, &c.Bucket, &c.Key, &c.Status, &c.Error,
		&c.CRS, &c.Width, &c.Height, &c.Bands, &c.Checksum, &c.SizeBytes, &fp, &c.COGKey, &c.BandStats,
		&c.IngestedAt, &c.Failure, &c.BandScales, &c.Warnings, &c.Ingest, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if fp != nil {
		if c.Footprint, _, err = ewkb.Unmarshal(fp); err != nil {
			return nil, fmt.Errorf("capture %d footprint: %w", c.ID, err)
		}
	}
	return c, nil
}

// CreateCapture inserts c and sets its ID, status and timestamps. A capture for the same
// object (bucket, key) already registered is a conflict.
func (s *CaptureService) CreateCapture(ctx context.Context, c *offsite.Capture) (err error) {
	defer derrors.Wrap(&err, "CreateCapture(%s/%s)", c.Bucket, c.Key)
	row := s.db.Pool.QueryRow(ctx, `
		INSERT INTO captures (kind, acquired_at, sensor, bucket, key, band_scales)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING `+captureColumns, c.Kind, c.AcquiredAt, c.Sensor, c.Bucket, c.Key, c.BandScales)
	got, err := scanCapture(row)
	if err != nil {
		return formatError(err)
	}
	*c = *got
	return nil
}

// FindCaptureByID returns the capture with id.
func (s *CaptureService) FindCaptureByID(ctx context.Context, id int64) (_ *offsite.Capture, err error) {
	defer derrors.Wrap(&err, "FindCaptureByID(%d)", id)
	c, err := scanCapture(s.db.Pool.QueryRow(ctx, `SELECT `+captureColumns+` FROM captures WHERE id = $1`, id))
	if err != nil {
		if err = formatError(err); err == offsite.ErrNotFound {
			return nil, offsite.NotFound("capture %d", id)
		}
		return nil, err
	}
	return c, nil
}

// FindCaptures returns a page of the captures filter selects and how many it selects.
func (s *CaptureService) FindCaptures(ctx context.Context, filter offsite.CaptureFilter) (_ []*offsite.Capture, total int, err error) {
	defer derrors.Wrap(&err, "FindCaptures(%+v)", filter)
	var w sqlFilter
	if filter.IDs != nil {
		w.add("id = ANY($?)", filter.IDs)
	}
	if filter.Kind != "" {
		w.add("kind = $?", filter.Kind)
	}
	if filter.Status != "" {
		w.add("status = $?", filter.Status)
	}
	if filter.USCC != "" {
		w.add("id IN (SELECT cl.capture_id FROM clips cl JOIN parcels p ON p.id = cl.parcel_id WHERE p.uscc = $?)", filter.USCC)
	}
	if !filter.AcquiredFrom.IsZero() {
		w.add("acquired_at >= $?", filter.AcquiredFrom)
	}
	if !filter.AcquiredTo.IsZero() {
		w.add("acquired_at < $?", filter.AcquiredTo)
	}
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM captures`+w.where(), w.args...).Scan(&total); err != nil {
		return nil, 0, formatError(err)
	}
	order := " ORDER BY id"
	if filter.NewestFirst {
		order += " DESC"
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT `+captureColumns+` FROM captures`+w.where()+order+pageSQL(filter.Offset, filter.Limit), w.args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*offsite.Capture, error) { return scanCapture(r) })
	return out, total, formatError(err)
}

// UpdateCapture sets the non-nil fields of upd and returns the updated capture.
func (s *CaptureService) UpdateCapture(ctx context.Context, id int64, upd offsite.CaptureUpdate) (_ *offsite.Capture, err error) {
	defer derrors.Wrap(&err, "UpdateCapture(%d)", id)
	sets := []string{"updated_at = now()"}
	args := []any{id}
	add := func(col string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	if upd.Status != nil {
		add("status", *upd.Status)
	}
	if upd.Error != nil {
		add("error", *upd.Error)
	}
	if upd.CRS != nil {
		add("crs", *upd.CRS)
	}
	if upd.Width != nil {
		add("width", *upd.Width)
	}
	if upd.Height != nil {
		add("height", *upd.Height)
	}
	if upd.Bands != nil {
		add("bands", *upd.Bands)
	}
	if upd.Checksum != nil {
		add("checksum", *upd.Checksum)
	}
	if upd.SizeBytes != nil {
		add("size_bytes", *upd.SizeBytes)
	}
	if upd.COGKey != nil {
		add("cog_key", *upd.COGKey)
	}
	if upd.BandStats != nil {
		add("band_stats", upd.BandStats)
	}
	if upd.Ingest != nil {
		add("ingest", upd.Ingest)
	}
	if upd.Warnings != nil {
		add("warnings", upd.Warnings)
	}
	if upd.Ingested {
		sets = append(sets, "ingested_at = now()")
	}
	switch {
	case upd.Failure != nil && upd.ClearFailure:
		return nil, fmt.Errorf("postgres: both Failure and ClearFailure: %w", offsite.ErrInvalid)
	case upd.Failure != nil:
		add("failure", upd.Failure)
	case upd.ClearFailure:
		sets = append(sets, "failure = NULL")
	}
	if upd.Footprint != nil {
		b, err := geomParam(upd.Footprint)
		if err != nil {
			return nil, err
		}
		args = append(args, b)
		sets = append(sets, fmt.Sprintf("footprint = ST_GeomFromEWKB($%d::bytea)", len(args)))
	}
	c, err := scanCapture(s.db.Pool.QueryRow(ctx,
		`UPDATE captures SET `+strings.Join(sets, ", ")+` WHERE id = $1 RETURNING `+captureColumns, args...))
	if err != nil {
		if err = formatError(err); err == offsite.ErrNotFound {
			return nil, offsite.NotFound("capture %d", id)
		}
		return nil, err
	}
	return c, nil
}

// RecordClips stores the clips of one capture in one transaction. A clip already recorded for
// the same (capture, parcel) is kept as it was: re-delivered tasks change nothing.
func (s *CaptureService) RecordClips(ctx context.Context, clips []*offsite.Clip) (err error) {
	defer derrors.Wrap(&err, "RecordClips(%d clips)", len(clips))
	return formatError(pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		for _, c := range clips {
			_, err := tx.Exec(ctx, `
				INSERT INTO clips (capture_id, parcel_id, cog_key, cog_sha256, cog_bytes, quicklook_key,
					quicklook_sha256, width, height, valid_pixels)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (capture_id, parcel_id) DO NOTHING`,
				c.CaptureID, c.ParcelID, c.COGKey, c.COGSHA256, c.COGBytes, c.QuickLookKey,
				c.QuickLookSHA256, c.Width, c.Height, c.ValidPixels)
			if err != nil {
				return fmt.Errorf("clip of parcel %q: %w", c.ParcelID, err)
			}
		}
		return nil
	}))
}

// FindClips returns the clips of a capture ordered by parcel id.
func (s *CaptureService) FindClips(ctx context.Context, captureID int64) (_ []*offsite.Clip, err error) {
	defer derrors.Wrap(&err, "FindClips(%d)", captureID)
	rows, err := s.db.Pool.Query(ctx, `
		SELECT capture_id, parcel_id, cog_key, cog_sha256, cog_bytes, quicklook_key, quicklook_sha256,
			width, height, valid_pixels, created_at
		FROM clips WHERE capture_id = $1 ORDER BY parcel_id`, captureID)
	if err != nil {
		return nil, formatError(err)
	}
	clips, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*offsite.Clip, error) {
		c := &offsite.Clip{}
		err := r.Scan(&c.CaptureID, &c.ParcelID, &c.COGKey, &c.COGSHA256, &c.COGBytes, &c.QuickLookKey,
			&c.QuickLookSHA256, &c.Width, &c.Height, &c.ValidPixels, &c.CreatedAt)
		return c, err
	})
	return clips, formatError(err)
}

// FindCaptureIDsByStatus returns up to limit capture ids with status, oldest first.
func (s *CaptureService) FindCaptureIDsByStatus(ctx context.Context, status string, limit int) (_ []int64, err error) {
	defer derrors.Wrap(&err, "FindCaptureIDsByStatus(%q)", status)
	rows, err := s.db.Pool.Query(ctx, `SELECT id FROM captures WHERE status = $1 ORDER BY id LIMIT $2`, status, limit)
	if err != nil {
		return nil, formatError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, formatError(err)
}

// ListArtifacts pages through the artifacts of every clip (COG and quick-look) in
// (capture, parcel) order. The cursor is "captureID/parcelID" of the last clip returned.
func (s *CaptureService) ListArtifacts(ctx context.Context, after string, limit int) (_ []verify.Artifact, next string, err error) {
	defer derrors.Wrap(&err, "ListArtifacts(%q)", after)
	var afterCapture int64
	afterParcel := ""
	if after != "" {
		c, p, ok := strings.Cut(after, "/")
		if afterCapture, err = strconv.ParseInt(c, 10, 64); !ok || err != nil {
			return nil, "", offsite.Invalid("after", "cursor %q is not capture/parcel", after)
		}
		afterParcel = p
	}
	rows, err := s.db.Pool.Query(ctx, `
		SELECT capture_id, parcel_id, cog_key, cog_sha256, quicklook_key, quicklook_sha256
		FROM clips WHERE (capture_id, parcel_id) > ($1, $2)
		ORDER BY capture_id, parcel_id LIMIT $3`, afterCapture, afterParcel, limit)
	if err != nil {
		return nil, "", formatError(err)
	}
	defer rows.Close()
	var arts []verify.Artifact
	n := 0
	var capture int64
	var parcel, cogKey, cogSum, qlKey, qlSum string
	for rows.Next() {
		if err := rows.Scan(&capture, &parcel, &cogKey, &cogSum, &qlKey, &qlSum); err != nil {
			return nil, "", err
		}
		n++
		owner := fmt.Sprintf("capture %d parcel %s", capture, parcel)
		arts = append(arts,
			verify.Artifact{Key: cogKey, SHA256: cogSum, Owner: owner + " cog"},
			verify.Artifact{Key: qlKey, SHA256: qlSum, Owner: owner + " quicklook"})
	}
	if err := rows.Err(); err != nil {
		return nil, "", formatError(err)
	}
	if n == limit {
		next = fmt.Sprintf("%d/%s", capture, parcel)
	}
	return arts, next, nil
}

// CaptureKeyRegistered reports whether key of bucket is the source or the COG of a
// registered capture.
func (s *CaptureService) CaptureKeyRegistered(ctx context.Context, bucket, key string) (_ bool, err error) {
	defer derrors.Wrap(&err, "CaptureKeyRegistered(%s/%s)", bucket, key)
	var ok bool
	err = s.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM captures WHERE bucket = $1 AND (key = $2 OR cog_key = $2))`, bucket, key).Scan(&ok)
	return ok, formatError(err)
}

// ListIngestedCaptures pages through the captures whose source was hashed at ingest, in id
// order after afterID.
func (s *CaptureService) ListIngestedCaptures(ctx context.Context, afterID int64, limit int) (_ []verify.IngestedCapture, err error) {
	defer derrors.Wrap(&err, "ListIngestedCaptures(%d)", afterID)
	rows, err := s.db.Pool.Query(ctx, `SELECT id, bucket, key, checksum, cog_key FROM captures
		WHERE id > $1 AND checksum <> '' ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, formatError(err)
	}
	cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (verify.IngestedCapture, error) {
		var c verify.IngestedCapture
		err := row.Scan(&c.ID, &c.Bucket, &c.Key, &c.Checksum, &c.COGKey)
		return c, err
	})
	return cs, formatError(err)
}

// FindEarlierCapture returns the latest capture of c's kind acquired before c that a pipeline
// reading bands can pair c with: not failed, and either ingested with a valid-data footprint
// covering at least minOverlap of c's and every one of bands, or not ingested yet (the caller
// ingests it and asks again). nil when there is none. A band is found as raster.ReadBands
// finds it: by the description of a band, by its 1-based number, or, in a one-band file, by
// the file's name (its stem, or what follows the stem's last '_'); a capture ingested before
// band descriptions were recorded is taken to have the named ones.
func (s *CaptureService) FindEarlierCapture(ctx context.Context, c *offsite.Capture, minOverlap float64, bands []string) (_ *offsite.Capture, err error) {
	defer derrors.Wrap(&err, "FindEarlierCapture(%d)", c.ID)
	if c.Footprint == nil {
		return nil, nil
	}
	fp, err := geomParam(c.Footprint)
	if err != nil {
		return nil, err
	}
	if bands == nil {
		bands = []string{}
	}
	got, err := scanCapture(s.db.Pool.QueryRow(ctx, `
		WITH c AS (SELECT *, regexp_replace(regexp_replace(cog_key, '^.*/', ''), '\.[^.]*$', '') AS stem FROM captures
			WHERE kind = $1 AND acquired_at < $2 AND id <> $3 AND status <> 'failed')
		SELECT `+captureColumns+` FROM c
		WHERE ingested_at IS NULL
			OR footprint IS NOT NULL AND ST_Intersects(footprint, ST_GeomFromEWKB($4::bytea))
				AND ST_Area(ST_Intersection(footprint, ST_GeomFromEWKB($4::bytea))) >= $5 * ST_Area(ST_GeomFromEWKB($4::bytea))
				AND NOT EXISTS (SELECT 1 FROM unnest($6::text[]) AS need(name) WHERE NOT (
					CASE WHEN need.name ~ '^[0-9]{1,9}$' THEN need.name::int BETWEEN 1 AND c.bands ELSE false END
					OR EXISTS (SELECT 1 FROM jsonb_array_elements(c.band_stats) b WHERE lower(btrim(b->>'description')) = lower(need.name))
					OR c.bands = 1 AND lower(need.name) IN (lower(c.stem), lower(coalesce(substring(c.stem FROM '_([^_]+)$'), c.stem)))
					OR jsonb_array_length(c.band_stats) = 0 AND need.name !~ '^[0-9]{1,9}$'))
		ORDER BY acquired_at DESC, id DESC LIMIT 1`, c.Kind, c.AcquiredAt, c.ID, fp, minOverlap, bands))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return got, formatError(err)
}
