package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

const enterpriseColumns = `e.uscc, e.name, e.industry, e.permit_no, e.key_discharger, e.address, e.zone,
	ST_X(e.location), ST_Y(e.location), e.complaint_channel, e.legacy_uscc, e.barred, e.barred_reason,
	e.special_supervision, e.version, e.created_at, e.updated_at, COALESCE(l.eff, ''),
	e.agency_id, (SELECT ag.path FROM agencies ag WHERE ag.id = e.agency_id)`

// currentEntryJoin joins each enterprise's latest list entry with its effective status.
const currentEntryJoin = `LEFT JOIN LATERAL (
	SELECT list_effective_status(status, valid_to, now()) AS eff
	FROM list_entries WHERE uscc = e.uscc ORDER BY id DESC LIMIT 1) l ON true`

func scanEnterprise(row pgx.Row, extra ...any) (*enforce.Enterprise, error) {
	e := &enforce.Enterprise{}
	var x, y *float64
	dest := append([]any{&e.USCC, &e.Name, &e.Industry, &e.PermitNo, &e.KeyDischarger, &e.Address, &e.Zone,
		&x, &y, &e.ComplaintChannel, &e.LegacyUSCC, &e.Barred, &e.BarredReason, &e.SpecialSupervision,
		&e.Version, &e.CreatedAt, &e.UpdatedAt, &e.ListStatus, &e.AgencyID, &e.AgencyPath}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if x != nil && y != nil {
		e.Location = &orb.Point{*x, *y}
	}
	return e, nil
}

func locationArgs(e *enforce.Enterprise) (lon, lat *float64) {
	if e.Location == nil {
		return nil, nil
	}
	return &e.Location[0], &e.Location[1]
}

const upsertEnterpriseSQL = `
	INSERT INTO enterprises (uscc, name, industry, permit_no, key_discharger, address, zone, location,
		complaint_channel, legacy_uscc, agency_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7,
		CASE WHEN $8::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($8, $9::float8), 4326) END, $10, $11,
		COALESCE(NULLIF($12::bigint, 0), first_province()))`

func enterpriseArgs(e *enforce.Enterprise) []any {
	lon, lat := locationArgs(e)
	return []any{e.USCC, e.Name, e.Industry, e.PermitNo, e.KeyDischarger, e.Address, e.Zone, lon, lat, e.ComplaintChannel, e.LegacyUSCC, e.AgencyID}
}

func (t *enforceTx) CreateEnterprise(ctx context.Context, e *enforce.Enterprise) error {
	err := t.tx.QueryRow(ctx, upsertEnterpriseSQL+" RETURNING version, created_at, updated_at, agency_id, (SELECT path FROM agencies WHERE id = agency_id)", enterpriseArgs(e)...).
		Scan(&e.Version, &e.CreatedAt, &e.UpdatedAt, &e.AgencyID, &e.AgencyPath)
	if fe := formatError(err); errors.Is(fe, offsite.ErrConflict) {
		return offsite.Conflict("enterprise %s exists", e.USCC)
	}
	return err
}

func (t *enforceTx) SaveEnterprise(ctx context.Context, e *enforce.Enterprise) error {
	lon, lat := locationArgs(e)
	return t.tx.QueryRow(ctx, `UPDATE enterprises SET name = $2, industry = $3, permit_no = $4, key_discharger = $5,
		address = $6, zone = $7, location = CASE WHEN $8::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($8, $9::float8), 4326) END,
		complaint_channel = $10, legacy_uscc = $11, agency_id = COALESCE(NULLIF($12::bigint, 0), agency_id),
		version = version + 1, updated_at = now()
		WHERE uscc = $1 RETURNING version, created_at, updated_at, agency_id, (SELECT path FROM agencies WHERE id = agency_id)`,
		e.USCC, e.Name, e.Industry, e.PermitNo, e.KeyDischarger, e.Address, e.Zone, lon, lat, e.ComplaintChannel, e.LegacyUSCC, e.AgencyID).
		Scan(&e.Version, &e.CreatedAt, &e.UpdatedAt, &e.AgencyID, &e.AgencyPath)
}

func (t *enforceTx) ImportEnterprise(ctx context.Context, row int, e *enforce.Enterprise) error {
	_, err := t.tx.Exec(ctx, upsertEnterpriseSQL+`
		ON CONFLICT (uscc) DO UPDATE SET name = EXCLUDED.name, industry = EXCLUDED.industry,
		permit_no = EXCLUDED.permit_no, key_discharger = EXCLUDED.key_discharger, address = EXCLUDED.address,
		zone = EXCLUDED.zone, location = EXCLUDED.location, complaint_channel = EXCLUDED.complaint_channel,
		legacy_uscc = EXCLUDED.legacy_uscc, agency_id = COALESCE(NULLIF($12::bigint, 0), enterprises.agency_id),
		version = enterprises.version + 1, updated_at = now()`, enterpriseArgs(e)...)
	if fe := formatError(err); fe != err {
		return &enforce.ImportError{Rows: []enforce.ImportRowError{{Row: row, USCC: e.USCC, Field: "row", Problem: fe.Error()}}}
	}
	return err
}

func (t *enforceTx) AgencyPath(ctx context.Context, id int64) ([]int64, error) {
	var path []int64
	err := t.tx.QueryRow(ctx, "SELECT path FROM agencies WHERE id = COALESCE(NULLIF($1::bigint, 0), first_province())", id).Scan(&path)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, offsite.Invalid("agency_id", "agency %d does not exist", id)
	}
	return path, err
}

func (t *enforceTx) SaveParcel(ctx context.Context, i int, p *offsite.Parcel) error {
	return upsertParcel(ctx, t.tx, i, p)
}

func (t *enforceTx) RetireParcel(ctx context.Context, uscc, id string, at time.Time) error {
	tag, err := t.tx.Exec(ctx, `UPDATE parcels SET retired_at = $3 WHERE id = $1 AND uscc = $2 AND retired_at IS NULL`, id, uscc, at)
	if err != nil {
		return formatError(err)
	}
	if tag.RowsAffected() == 0 {
		return offsite.NotFound("parcel %q of enterprise %s (or retired already)", id, uscc)
	}
	return nil
}

func (t *enforceTx) CreateHealthVisit(ctx context.Context, v *enforce.HealthVisit) error {
	return t.tx.QueryRow(ctx, `INSERT INTO health_visits (uscc, visited_at, inspector, notes) VALUES ($1, $2, $3, $4)
		RETURNING id, created_at`, v.USCC, v.VisitedAt, v.Inspector, v.Notes).Scan(&v.ID, &v.CreatedAt)
}

// FindEnterpriseByUSCC returns one enterprise.
func (s *EnforceService) FindEnterpriseByUSCC(ctx context.Context, uscc string) (_ *enforce.Enterprise, err error) {
	defer derrors.Wrap(&err, "FindEnterpriseByUSCC(%q)", uscc)
	e, err := scanEnterprise(s.db.Pool.QueryRow(ctx, "SELECT "+enterpriseColumns+" FROM enterprises e "+currentEntryJoin+" WHERE e.uscc = $1", uscc))
	if err == pgx.ErrNoRows {
		return nil, offsite.NotFound("enterprise %s", uscc)
	}
	return e, formatError(err)
}

// FindEnterprises returns the enterprises matching f, ordered by USCC, and their total count.
func (s *EnforceService) FindEnterprises(ctx context.Context, f enforce.EnterpriseFilter) (_ []*enforce.Enterprise, _ int, err error) {
	defer derrors.Wrap(&err, "FindEnterprises")
	var w sqlFilter
	add := w.add
	if len(f.IDs) > 0 {
		add("e.uscc = ANY($?)", f.IDs)
	}
	if f.Query != "" {
		add("(e.name ILIKE '%' || $? || '%' OR e.uscc LIKE $? || '%')", f.Query)
	}
	if f.Zone != "" {
		add("e.zone = $?", f.Zone)
	}
	if f.Industry != "" {
		add("e.industry LIKE $? || '%'", f.Industry)
	}
	if f.ListStatus != "" {
		add("COALESCE(l.eff, 'none') = $?", f.ListStatus)
	}
	if f.Agency != 0 {
		add("e.agency_id IN (SELECT id FROM agencies WHERE $? = ANY(path))", f.Agency)
	}
	if f.Bbox != nil {
		add("e.location && ST_MakeEnvelope(($?::float8[])[1], ($?::float8[])[2], ($?::float8[])[3], ($?::float8[])[4], 4326)", []float64{f.Bbox.Min[0], f.Bbox.Min[1], f.Bbox.Max[0], f.Bbox.Max[1]})
	}
	if f.UpdatedFrom != nil {
		add("e.updated_at >= $?", *f.UpdatedFrom)
	}
	if f.UpdatedTo != nil {
		add("e.updated_at <= $?", *f.UpdatedTo)
	}
	q := "SELECT " + enterpriseColumns + ", count(*) OVER () FROM enterprises e " + currentEntryJoin + w.where() + " ORDER BY e.uscc" + pageSQL(f.Offset, f.Limit)
	rows, err := s.db.Pool.Query(ctx, q, w.args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*enforce.Enterprise
	total := 0
	for rows.Next() {
		e, err := scanEnterprise(rows, &total)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, formatError(err)
	}
	if len(out) == 0 && f.Offset > 0 {
		// Past the end: count without the window.
		if err := s.db.Pool.QueryRow(ctx, "SELECT count(*) FROM enterprises e "+currentEntryJoin+w.where(), w.args...).Scan(&total); err != nil {
			return nil, 0, formatError(err)
		}
	}
	return out, total, nil
}

// The evidence of an enterprise: two statements in one round trip, each a generic plan (a
// prepared statement, planned once per connection: the partial index parcels_uscc_idx could not
// serve a parameter, so every execution was planned again, two fifths of the backends' CPU
// under load) and neither sorting. The first also reads the enterprise's agency once (an
// InitPlan), whom the evidence is in reach of: the route's agency check, a statement and a
// round trip of its own before, comes with the evidence. Parcels come in id order from
// parcels_uscc_id_idx (0110); the clips and findings of each parcel are put in their order
// here, by time and number. Which retired parcels are left out (those without evidence) is
// decided here too, from the rows both statements return, where two subplans per parcel
// (EXISTS on clips and on findings) were set up on every execution.
const (
	// evidenceClipsSQL: the path of the enterprise's agency (NULL when there is no such
	// enterprise) and its parcels, retired or not, each joined with its clips.
	evidenceClipsSQL = `SELECT (SELECT ag.path FROM enterprises e JOIN agencies ag ON ag.id = e.agency_id WHERE e.uscc = $1),
		p.id, p.name, ST_AsEWKB(p.geom), p.created_at, p.updated_at, p.retired_at,
		c.capture_id, c.cog_key, c.cog_sha256, c.cog_bytes, c.quicklook_key, c.quicklook_sha256, c.width, c.height,
		c.valid_pixels, c.created_at
		FROM parcels p LEFT JOIN clips c ON c.parcel_id = p.id
		WHERE p.uscc = $1
		ORDER BY p.id`
	// evidenceFindingsSQL: the findings on the enterprise's parcels, in no order.
	evidenceFindingsSQL = `SELECT ` + findingColumns + ` FROM parcels p JOIN findings f ON f.parcel_id = p.id WHERE p.uscc = $1`
	// evidenceAgencySQL: the path of the enterprise's agency, for an enterprise without
	// parcels (the statements above return no row); none when there is no such enterprise.
	evidenceAgencySQL = `SELECT ag.path FROM enterprises e JOIN agencies ag ON ag.id = e.agency_id WHERE e.uscc = $1`
)

// FindEvidence returns the path of the enterprise's agency and its parcels in id order with
// their clips and findings, newest first (clips of one time by capture, highest first;
// findings of one time by id); a retired parcel only when evidence was made on it (a clip or a
// finding), with RetiredAt.
func (st *EnterpriseStore) FindEvidence(ctx context.Context, uscc string) (_ []int64, _ []enforce.EvidenceParcel, err error) {
	defer derrors.Wrap(&err, "FindEvidence(%q)", uscc)
	batch := &pgx.Batch{}
	batch.Queue(evidenceClipsSQL, uscc)
	batch.Queue(evidenceFindingsSQL, uscc)
	path, out, err := readEvidence(st.s.db.Pool.SendBatch(ctx, batch), uscc)
	if err != nil {
		return nil, nil, err
	}
	if path == nil {
		// No parcel: an enterprise without any, or none at all.
		if err := st.s.db.Pool.QueryRow(ctx, evidenceAgencySQL, uscc).Scan(&path); err != nil {
			return nil, nil, notFound(err, "enterprise %s", uscc)
		}
	}
	for _, ep := range out {
		slices.SortFunc(ep.Clips, func(a, b *offsite.Clip) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return cmp.Compare(b.CaptureID, a.CaptureID)
		})
		// Finding ids are lowercase hex (a CHECK of findings): byte order is every collation's.
		slices.SortFunc(ep.Findings, func(a, b *offsite.Finding) int {
			if c := b.DetectedAt.Compare(a.DetectedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
	}
	return path, out, nil
}

// readEvidence reads the results of evidenceClipsSQL and evidenceFindingsSQL and closes br:
// the path of the enterprise's agency (nil when there is no row: no parcel, or no enterprise)
// and its parcels with their evidence, the retired ones without any left out.
func readEvidence(br pgx.BatchResults, uscc string) (path []int64, _ []enforce.EvidenceParcel, err error) {
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = formatError(cerr)
		}
	}()
	rows, err := br.Query()
	if err != nil {
		return nil, nil, formatError(err)
	}
	out := []enforce.EvidenceParcel{}
	idx := map[string]int{}
	// The clip's columns, NULL for a parcel without clips: value types, which scanning does
	// not allocate (pointers to values did, ten a row).
	var (
		pid, pname                   string
		g                            []byte
		pcreated, pupdated           time.Time
		pretired                     *time.Time
		capID, cogBytes, validPixels pgtype.Int8
		cogKey, cogSHA, qlKey, qlSHA pgtype.Text
		width, height                pgtype.Int4
		ccreated                     pgtype.Timestamptz
	)
	dest := []any{&path, &pid, &pname, &g, &pcreated, &pupdated, &pretired, &capID, &cogKey, &cogSHA, &cogBytes, &qlKey, &qlSHA,
		&width, &height, &validPixels, &ccreated}
	for rows.Next() {
		pretired = nil
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, nil, err
		}
		dest[0] = nil // the agency's path is the same on every row: read once
		if len(out) == 0 || out[len(out)-1].Parcel.ID != pid {
			geom, err := unmarshalEWKB(g)
			if err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("parcel %q geometry: %w", pid, err)
			}
			idx[pid] = len(out)
			out = append(out, enforce.EvidenceParcel{Parcel: &offsite.Parcel{ID: pid, EnterpriseUSCC: uscc, Name: pname,
				Geometry: geom, CreatedAt: pcreated, UpdatedAt: pupdated, RetiredAt: pretired}, Clips: []*offsite.Clip{}, Findings: []*offsite.Finding{}})
		}
		if capID.Valid {
			ep := &out[len(out)-1]
			ep.Clips = append(ep.Clips, &offsite.Clip{CaptureID: capID.Int64, ParcelID: pid, COGKey: cogKey.String, COGSHA256: cogSHA.String,
				COGBytes: cogBytes.Int64, QuickLookKey: qlKey.String, QuickLookSHA256: qlSHA.String, Width: int(width.Int32), Height: int(height.Int32),
				ValidPixels: validPixels.Int64, CreatedAt: ccreated.Time})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, formatError(err)
	}
	if len(out) > 0 && path == nil {
		// Parcels of no enterprise: parcels.uscc references enterprises, so this is not so.
		return nil, nil, fmt.Errorf("parcels of enterprise %s, which has no agency", uscc)
	}
	if rows, err = br.Query(); err != nil {
		return nil, nil, formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, nil, err
		}
		// A parcel stored between the two statements' snapshots has no line here.
		if i, ok := idx[f.ParcelID]; ok {
			out[i].Findings = append(out[i].Findings, f)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, formatError(err)
	}
	// A retired parcel is there for the evidence made on it, if any.
	out = slices.DeleteFunc(out, func(ep enforce.EvidenceParcel) bool {
		return ep.Parcel.RetiredAt != nil && len(ep.Clips) == 0 && len(ep.Findings) == 0
	})
	return path, out, nil
}

// AppendView chains the audit entry of a view, in a group commit with the views of
// concurrent requests.
func (st *EnterpriseStore) AppendView(ctx context.Context, a enforce.Actor, action enforce.AuditAction, subject string, detail any) (err error) {
	defer derrors.Wrap(&err, "AppendView(%q)", subject)
	return st.s.views.append(ctx, st.s, a, action, subject, detail)
}

func lockEnterprise(ctx context.Context, tx pgx.Tx, uscc string) (*enforce.Enterprise, error) {
	e, err := scanEnterprise(tx.QueryRow(ctx, "SELECT "+enterpriseColumns+" FROM enterprises e "+currentEntryJoin+" WHERE e.uscc = $1 FOR UPDATE OF e", uscc))
	if err == pgx.ErrNoRows {
		return nil, offsite.NotFound("enterprise %s", uscc)
	}
	return e, err
}

func saveEnterpriseFlags(ctx context.Context, tx pgx.Tx, e *enforce.Enterprise) error {
	_, err := tx.Exec(ctx, `UPDATE enterprises SET barred = $2, barred_reason = $3, special_supervision = $4,
		version = version + 1, updated_at = now() WHERE uscc = $1`, e.USCC, e.Barred, e.BarredReason, e.SpecialSupervision)
	return err
}

// FindHealthVisits returns the enterprise's visits, oldest first.
func (s *EnforceService) FindHealthVisits(ctx context.Context, uscc string) (_ []*enforce.HealthVisit, err error) {
	defer derrors.Wrap(&err, "FindHealthVisits(%q)", uscc)
	rows, err := s.db.Pool.Query(ctx, `SELECT id, uscc, visited_at, inspector, notes, created_at FROM health_visits WHERE uscc = $1 ORDER BY visited_at, id`, uscc)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []*enforce.HealthVisit{}
	for rows.Next() {
		v := &enforce.HealthVisit{}
		if err := rows.Scan(&v.ID, &v.USCC, &v.VisitedAt, &v.Inspector, &v.Notes, &v.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, formatError(rows.Err())
}

func unmarshalEWKB(b []byte) (orb.Geometry, error) {
	g, _, err := ewkb.Unmarshal(b)
	return g, err
}
