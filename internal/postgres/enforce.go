package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/ewkb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func enterpriseSubject(uscc string) string { return "enterprise/" + uscc }
func listSubject(id int64) string          { return fmt.Sprintf("list-entry/%d", id) }
func inspectionSubject(id int64) string    { return fmt.Sprintf("inspection/%d", id) }

// ---------------------------------------------------------------- enterprises

const enterpriseColumns = `e.uscc, e.name, e.industry, e.permit_no, e.key_discharger, e.address, e.zone,
	ST_X(e.location), ST_Y(e.location), e.complaint_channel, e.legacy_uscc, e.barred, e.barred_reason,
	e.special_supervision, e.version, e.created_at, e.updated_at, COALESCE(l.eff, '')`

// currentEntryJoin joins each enterprise's latest list entry with its effective status.
const currentEntryJoin = `LEFT JOIN LATERAL (
	SELECT list_effective_status(status, valid_to, now()) AS eff
	FROM list_entries WHERE uscc = e.uscc ORDER BY id DESC LIMIT 1) l ON true`

func scanEnterprise(row pgx.Row, extra ...any) (*enforce.Enterprise, error) {
	e := &enforce.Enterprise{}
	var x, y *float64
	dest := append([]any{&e.USCC, &e.Name, &e.Industry, &e.PermitNo, &e.KeyDischarger, &e.Address, &e.Zone,
		&x, &y, &e.ComplaintChannel, &e.LegacyUSCC, &e.Barred, &e.BarredReason, &e.SpecialSupervision,
		&e.Version, &e.CreatedAt, &e.UpdatedAt, &e.ListStatus}, extra...)
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
		complaint_channel, legacy_uscc)
	VALUES ($1, $2, $3, $4, $5, $6, $7,
		CASE WHEN $8::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($8, $9::float8), 4326) END, $10, $11)`

func enterpriseArgs(e *enforce.Enterprise) []any {
	lon, lat := locationArgs(e)
	return []any{e.USCC, e.Name, e.Industry, e.PermitNo, e.KeyDischarger, e.Address, e.Zone, lon, lat, e.ComplaintChannel, e.LegacyUSCC}
}

func (s *EnforceService) auditOverride(ctx context.Context, tx pgx.Tx, a enforce.Actor, e *enforce.Enterprise) error {
	if !e.LegacyUSCC {
		return nil
	}
	want, _ := enforce.USCCCheckChar(e.USCC[:17])
	return s.appendAudit(ctx, tx, a, enforce.AuditEnterpriseUSCCOverride, enterpriseSubject(e.USCC), map[string]any{
		"uscc": e.USCC, "check_character": string(e.USCC[17]), "expected": string(want),
		"note": "legacy code admitted by explicit override of the GB 32100 check",
	})
}

// CreateEnterprise inserts a validated enterprise.
func (s *EnforceService) CreateEnterprise(ctx context.Context, a enforce.Actor, e *enforce.Enterprise) (err error) {
	defer derrors.Wrap(&err, "CreateEnterprise(%q)", e.USCC)
	return formatError(s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, upsertEnterpriseSQL+" RETURNING version, created_at, updated_at", enterpriseArgs(e)...).
			Scan(&e.Version, &e.CreatedAt, &e.UpdatedAt); err != nil {
			if fe := formatError(err); errors.Is(fe, offsite.ErrConflict) {
				return offsite.Conflict("enterprise %s exists", e.USCC)
			} else if fe != err {
				return fe
			}
			return err
		}
		if err := s.auditOverride(ctx, tx, a, e); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, a, enforce.AuditEnterpriseCreate, enterpriseSubject(e.USCC), e)
	}))
}

// UpdateEnterprise replaces the enterprise's attributes if its version is e.Version.
func (s *EnforceService) UpdateEnterprise(ctx context.Context, a enforce.Actor, e *enforce.Enterprise) (err error) {
	defer derrors.Wrap(&err, "UpdateEnterprise(%q)", e.USCC)
	err = formatError(s.inTx(ctx, func(tx pgx.Tx) error {
		var cur int
		if err := tx.QueryRow(ctx, "SELECT version FROM enterprises WHERE uscc = $1 FOR UPDATE", e.USCC).Scan(&cur); err != nil {
			if err == pgx.ErrNoRows {
				return offsite.NotFound("enterprise %s", e.USCC)
			}
			return err
		}
		if cur != e.Version {
			return offsite.Conflict("enterprise %s is at version %d, not %d: reload and retry", e.USCC, cur, e.Version)
		}
		lon, lat := locationArgs(e)
		err := tx.QueryRow(ctx, `UPDATE enterprises SET name = $2, industry = $3, permit_no = $4, key_discharger = $5,
			address = $6, zone = $7, location = CASE WHEN $8::float8 IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint($8, $9::float8), 4326) END,
			complaint_channel = $10, legacy_uscc = $11, version = version + 1, updated_at = now()
			WHERE uscc = $1 RETURNING version, created_at, updated_at`,
			e.USCC, e.Name, e.Industry, e.PermitNo, e.KeyDischarger, e.Address, e.Zone, lon, lat, e.ComplaintChannel, e.LegacyUSCC).
			Scan(&e.Version, &e.CreatedAt, &e.UpdatedAt)
		if err != nil {
			return err
		}
		if err := s.auditOverride(ctx, tx, a, e); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, a, enforce.AuditEnterpriseUpdate, enterpriseSubject(e.USCC), e)
	}))
	s.public.invalidate()
	return err
}

// ImportEnterprises creates or updates every enterprise in one transaction. A row the
// database refuses is reported as an *enforce.ImportError naming it.
func (s *EnforceService) ImportEnterprises(ctx context.Context, a enforce.Actor, es []*enforce.Enterprise) (err error) {
	defer derrors.Wrap(&err, "ImportEnterprises(%d)", len(es))
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		usccs := make([]string, len(es))
		for i, e := range es {
			usccs[i] = e.USCC
			_, err := tx.Exec(ctx, upsertEnterpriseSQL+`
				ON CONFLICT (uscc) DO UPDATE SET name = EXCLUDED.name, industry = EXCLUDED.industry,
				permit_no = EXCLUDED.permit_no, key_discharger = EXCLUDED.key_discharger, address = EXCLUDED.address,
				zone = EXCLUDED.zone, location = EXCLUDED.location, complaint_channel = EXCLUDED.complaint_channel,
				legacy_uscc = EXCLUDED.legacy_uscc, version = enterprises.version + 1, updated_at = now()`, enterpriseArgs(e)...)
			if err != nil {
				if fe := formatError(err); fe != err {
					return &enforce.ImportError{Rows: []enforce.ImportRowError{{Row: i + 1, USCC: e.USCC, Field: "row", Problem: fe.Error()}}}
				}
				return err
			}
			if err := s.auditOverride(ctx, tx, a, e); err != nil {
				return err
			}
		}
		return s.appendAudit(ctx, tx, a, enforce.AuditEnterpriseImport, "enterprise/*", map[string]any{"count": len(es), "uscc": usccs})
	})
	s.public.invalidate()
	return err
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
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
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
	if f.Bbox != nil {
		add("e.location && ST_MakeEnvelope(($?::float8[])[1], ($?::float8[])[2], ($?::float8[])[3], ($?::float8[])[4], 4326)", []float64{f.Bbox.Min[0], f.Bbox.Min[1], f.Bbox.Max[0], f.Bbox.Max[1]})
	}
	if f.UpdatedFrom != nil {
		add("e.updated_at >= $?", *f.UpdatedFrom)
	}
	if f.UpdatedTo != nil {
		add("e.updated_at <= $?", *f.UpdatedTo)
	}
	q := "SELECT " + enterpriseColumns + ", count(*) OVER () FROM enterprises e " + currentEntryJoin
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY e.uscc"
	q += pageSQL(f.Offset, f.Limit)
	rows, err := s.db.Pool.Query(ctx, q, args...)
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
		cq := "SELECT count(*) FROM enterprises e " + currentEntryJoin
		if len(where) > 0 {
			cq += " WHERE " + strings.Join(where, " AND ")
		}
		if err := s.db.Pool.QueryRow(ctx, cq, args...).Scan(&total); err != nil {
			return nil, 0, formatError(err)
		}
	}
	return out, total, nil
}

func pageSQL(offset, limit int) string {
	q := ""
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	if offset > 0 {
		q += fmt.Sprintf(" OFFSET %d", offset)
	}
	return q
}

// SetEnterpriseParcels stores parcels as the enterprise's, all or none.
func (s *EnforceService) SetEnterpriseParcels(ctx context.Context, a enforce.Actor, uscc string, parcels []*offsite.Parcel) (err error) {
	defer derrors.Wrap(&err, "SetEnterpriseParcels(%q, %d)", uscc, len(parcels))
	return formatError(s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, "SELECT 1 FROM enterprises WHERE uscc = $1 FOR UPDATE", uscc).Scan(&one); err != nil {
			if err == pgx.ErrNoRows {
				return offsite.NotFound("enterprise %s", uscc)
			}
			return err
		}
		ids := make([]string, len(parcels))
		for i, p := range parcels {
			p.EnterpriseUSCC = uscc
			ids[i] = p.ID
			mp, err := toMulti(p.Geometry)
			if err != nil {
				return fmt.Errorf("parcel %d (%q): %w", i, p.ID, err)
			}
			b, err := geomParam(mp)
			if err != nil {
				return err
			}
			err = tx.QueryRow(ctx, `
				INSERT INTO parcels (id, uscc, name, geom) VALUES ($1, $2, $3, ST_GeomFromEWKB($4::bytea))
				ON CONFLICT (id) DO UPDATE SET uscc = EXCLUDED.uscc, name = EXCLUDED.name, geom = EXCLUDED.geom, updated_at = now()
				RETURNING created_at, updated_at`, p.ID, uscc, p.Name, b).Scan(&p.CreatedAt, &p.UpdatedAt)
			if err != nil {
				return fmt.Errorf("parcel %d (%q): %w", i, p.ID, formatError(err))
			}
		}
		return s.appendAudit(ctx, tx, a, enforce.AuditEnterpriseParcels, enterpriseSubject(uscc), map[string]any{"parcel_ids": ids})
	}))
}

// EnterpriseEvidence returns the enterprise's parcels with their clips, newest first, and
// records the view in the audit log.
func (s *EnforceService) EnterpriseEvidence(ctx context.Context, a enforce.Actor, uscc string) (_ []enforce.EvidenceParcel, err error) {
	defer derrors.Wrap(&err, "EnterpriseEvidence(%q)", uscc)
	// Parcels with clips, and findings: two queries in one round trip.
	batch := &pgx.Batch{}
	batch.Queue(`SELECT p.id, p.name, ST_AsEWKB(p.geom), p.created_at, p.updated_at,
		c.capture_id, c.cog_key, c.cog_sha256, c.cog_bytes, c.quicklook_key, c.quicklook_sha256, c.width, c.height,
		c.valid_pixels, c.created_at
		FROM enterprises e LEFT JOIN parcels p ON p.uscc = e.uscc LEFT JOIN clips c ON c.parcel_id = p.id
		WHERE e.uscc = $1 ORDER BY p.id, c.created_at DESC, c.capture_id DESC`, uscc)
	batch.Queue(`SELECT `+findingColumns+` FROM findings f JOIN parcels p ON p.id = f.parcel_id
		WHERE p.uscc = $1 ORDER BY f.parcel_id, f.detected_at DESC, f.id`, uscc)
	br := s.db.Pool.SendBatch(ctx, batch)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, formatError(err)
	}
	out := []enforce.EvidenceParcel{}
	idx := map[string]int{}
	found := false
	for rows.Next() {
		found = true
		var (
			pid, pname                   *string
			g                            []byte
			pcreated, pupdated, ccreated *time.Time
			capID, cogBytes, validPixels *int64
			cogKey, cogSHA, qlKey, qlSHA *string
			width, height                *int
		)
		if err := rows.Scan(&pid, &pname, &g, &pcreated, &pupdated, &capID, &cogKey, &cogSHA, &cogBytes, &qlKey, &qlSHA,
			&width, &height, &validPixels, &ccreated); err != nil {
			rows.Close()
			return nil, err
		}
		if pid == nil {
			continue // an enterprise without parcels
		}
		if len(out) == 0 || out[len(out)-1].Parcel.ID != *pid {
			geom, err := unmarshalEWKB(g)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("parcel %q geometry: %w", *pid, err)
			}
			idx[*pid] = len(out)
			out = append(out, enforce.EvidenceParcel{Parcel: &offsite.Parcel{ID: *pid, EnterpriseUSCC: uscc, Name: *pname,
				Geometry: geom, CreatedAt: *pcreated, UpdatedAt: *pupdated}, Clips: []*offsite.Clip{}, Findings: []*offsite.Finding{}})
		}
		if capID != nil {
			ep := &out[len(out)-1]
			ep.Clips = append(ep.Clips, &offsite.Clip{CaptureID: *capID, ParcelID: *pid, COGKey: *cogKey, COGSHA256: *cogSHA,
				COGBytes: *cogBytes, QuickLookKey: *qlKey, QuickLookSHA256: *qlSHA, Width: *width, Height: *height,
				ValidPixels: *validPixels, CreatedAt: *ccreated})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, formatError(err)
	}
	if !found {
		return nil, offsite.NotFound("enterprise %s", uscc)
	}
	rows, err = br.Query()
	if err != nil {
		return nil, formatError(err)
	}
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := idx[f.ParcelID]; ok {
			out[i].Findings = append(out[i].Findings, f)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, formatError(err)
	}
	if err := br.Close(); err != nil {
		return nil, formatError(err)
	}
	// The view is part of the record (issue 6 item 8): committed before the answer, in a
	// group commit with the views of concurrent requests.
	if err := s.views.append(ctx, s, a, enforce.AuditEvidenceView, enterpriseSubject(uscc), map[string]any{"parcels": len(out)}); err != nil {
		return nil, err
	}
	return out, nil
}

const findingColumns = `f.id, f.parcel_id, f.capture_ids, f.kind, f.class, f.status, f.score, f.area_m2, f.severity,
	ST_AsEWKB(f.geom), f.pipeline, f.pipeline_hash, f.detected_at, f.properties, f.provenance, f.artifacts, f.created_at`

func scanFinding(row pgx.Row, extra ...any) (*offsite.Finding, error) {
	f := &offsite.Finding{}
	var g []byte
	if err := row.Scan(append([]any{&f.ID, &f.ParcelID, &f.CaptureIDs, &f.Kind, &f.Class, &f.Status, &f.Score, &f.AreaM2,
		&f.Severity, &g, &f.Pipeline, &f.PipelineHash, &f.DetectedAt, &f.Properties, &f.Provenance,
		&f.Artifacts, &f.CreatedAt}, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if f.Geometry, err = unmarshalEWKB(g); err != nil {
		return nil, fmt.Errorf("finding %s geometry: %w", f.ID, err)
	}
	return f, nil
}

// FindFindingFeatures returns findings intersecting f.Bbox detected within [f.UpdatedFrom,
// f.UpdatedTo], ordered by id, and their total count.
func (s *EnforceService) FindFindingFeatures(ctx context.Context, f enforce.EnterpriseFilter) (_ []*offsite.Finding, total int, err error) {
	defer derrors.Wrap(&err, "FindFindingFeatures")
	cond, args := timeBoxCondition(f, "f.geom", "f.detected_at")
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
// geometry and time columns.
func timeBoxCondition(f enforce.EnterpriseFilter, geomCol, timeCol string) (string, []any) {
	var where []string
	var args []any
	if f.Bbox != nil {
		args = append(args, f.Bbox.Min[0], f.Bbox.Min[1], f.Bbox.Max[0], f.Bbox.Max[1])
		where = append(where, fmt.Sprintf("%[1]s && ST_MakeEnvelope($1, $2, $3, $4, 4326) AND ST_Intersects(%[1]s, ST_MakeEnvelope($1, $2, $3, $4, 4326))", geomCol))
	}
	if f.UpdatedFrom != nil {
		args = append(args, *f.UpdatedFrom)
		where = append(where, fmt.Sprintf("%s >= $%d", timeCol, len(args)))
	}
	if f.UpdatedTo != nil {
		args = append(args, *f.UpdatedTo)
		where = append(where, fmt.Sprintf("%s <= $%d", timeCol, len(args)))
	}
	if f.IDs != nil {
		args = append(args, f.IDs)
		where = append(where, fmt.Sprintf("id = ANY($%d)", len(args)))
	}
	if len(where) == 0 {
		return "true", nil
	}
	return strings.Join(where, " AND "), args
}

// FindParcelFeatures returns parcels within f.Bbox updated within [f.UpdatedFrom,
// f.UpdatedTo], ordered by id, and their total count. Other filter fields are ignored.
func (s *EnforceService) FindParcelFeatures(ctx context.Context, f enforce.EnterpriseFilter) (_ []*offsite.Parcel, total int, err error) {
	defer derrors.Wrap(&err, "FindParcelFeatures")
	cond, args := timeBoxCondition(f, "geom", "updated_at")
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

// ---------------------------------------------------------------- positive list

func marshalDoc(v any) ([]byte, error) { return json.Marshal(v) }

const listColumns = `l.id, l.uscc, l.status, l.doc, l.version, l.created_at, l.updated_at,
	COALESCE((SELECT array_agg(visited_at ORDER BY visited_at) FROM health_visits h WHERE h.uscc = l.uscc), '{}')`

func scanListEntry(row pgx.Row, cfg enforce.Config, now time.Time, extra ...any) (*enforce.ListEntry, error) {
	var doc []byte
	var id int64
	var uscc, status string
	var version int
	var created, updated time.Time
	var visits []time.Time
	if err := row.Scan(append([]any{&id, &uscc, &status, &doc, &version, &created, &updated, &visits}, extra...)...); err != nil {
		return nil, err
	}
	e := &enforce.ListEntry{}
	if err := json.Unmarshal(doc, e); err != nil {
		return nil, fmt.Errorf("list entry %d doc: %w", id, err)
	}
	e.ID, e.USCC, e.Status, e.Version, e.CreatedAt, e.UpdatedAt = id, uscc, enforce.ListStatus(status), version, created, updated
	if e.Objections == nil {
		e.Objections = []enforce.Objection{}
	}
	e.Status = e.EffectiveStatus(now)
	e.HealthCheck = enforce.HealthCheckStatus(cfg, e, visits, now)
	return e, nil
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

func insertListEntry(ctx context.Context, tx pgx.Tx, e *enforce.ListEntry) error {
	doc, err := marshalDoc(e)
	if err != nil {
		return err
	}
	return tx.QueryRow(ctx, `INSERT INTO list_entries (uscc, status, doc) VALUES ($1, $2, $3)
		RETURNING id, version, created_at, updated_at`, e.USCC, e.Status, doc).Scan(&e.ID, &e.Version, &e.CreatedAt, &e.UpdatedAt)
}

func saveListEntry(ctx context.Context, tx pgx.Tx, e *enforce.ListEntry) error {
	doc, err := marshalDoc(e)
	if err != nil {
		return err
	}
	return tx.QueryRow(ctx, `UPDATE list_entries SET status = $2, notice_start = $3, notice_end = $4, valid_from = $5,
		valid_to = $6, doc = $7, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version, updated_at`,
		e.ID, e.Status, e.NoticeStart, e.NoticeEnd, e.ValidFrom, e.ValidTo, doc).Scan(&e.Version, &e.UpdatedAt)
}

// FindListEntryByID returns one list entry with its health-check status.
func (s *EnforceService) FindListEntryByID(ctx context.Context, cfg enforce.Config, id int64) (_ *enforce.ListEntry, err error) {
	defer derrors.Wrap(&err, "FindListEntryByID(%d)", id)
	e, err := scanListEntry(s.db.Pool.QueryRow(ctx, "SELECT "+listColumns+" FROM list_entries l WHERE l.id = $1", id), cfg, time.Now())
	if err == pgx.ErrNoRows {
		return nil, offsite.NotFound("list entry %d", id)
	}
	return e, formatError(err)
}

// FindListEntries returns list entries, newest first.
func (s *EnforceService) FindListEntries(ctx context.Context, cfg enforce.Config, f enforce.ListFilter) (_ []*enforce.ListEntry, _ int, err error) {
	defer derrors.Wrap(&err, "FindListEntries")
	var where []string
	var args []any
	if f.USCC != "" {
		args = append(args, f.USCC)
		where = append(where, fmt.Sprintf("l.uscc = $%d", len(args)))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("list_effective_status(l.status, l.valid_to, now()) = $%d", len(args)))
	}
	q := "SELECT " + listColumns + ", count(*) OVER () FROM list_entries l"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY l.id DESC" + pageSQL(f.Offset, f.Limit)
	rows, err := s.db.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	now := time.Now()
	var out []*enforce.ListEntry
	total := 0
	for rows.Next() {
		e, err := scanListEntry(rows, cfg, now, &total)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, total, formatError(rows.Err())
}

// publicCacheTTL bounds how stale the public list may be when another API process changed
// the list; changes made through this process invalidate the cache at once.
const publicCacheTTL = 5 * time.Second

// publicCache holds the published list as last read.
type publicCache struct {
	mu       sync.Mutex
	at       time.Time // when read; zero when invalid
	list     []enforce.Publication
	firstEnd time.Time // the earliest end of validity in list
}

func (c *publicCache) invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.list = nil
	c.mu.Unlock()
}

// PublicList returns what the public may see of the listed enterprises, ordered by USCC: a
// page of it when limit > 0, and the number listed. The list is read at most every
// publicCacheTTL; entries whose validity ends meanwhile are dropped on the way out.
func (s *EnforceService) PublicList(ctx context.Context, now time.Time, offset, limit int) (_ []enforce.Publication, total int, err error) {
	defer derrors.Wrap(&err, "PublicList")
	c := &s.public
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) > publicCacheTTL || now.Before(c.at) {
		list, err := s.readPublicList(ctx, now)
		if err != nil {
			return nil, 0, err
		}
		c.at, c.list = now, list
		c.firstEnd = time.Now().Add(100 * 365 * 24 * time.Hour)
		for _, p := range list {
			if p.ValidTo.Before(c.firstEnd) {
				c.firstEnd = p.ValidTo
			}
		}
	}
	all := c.list
	if !c.firstEnd.After(now) {
		valid := make([]enforce.Publication, 0, len(all))
		for _, p := range all {
			if p.ValidTo.After(now) {
				valid = append(valid, p)
			}
		}
		all = valid
	}
	total = len(all)
	if limit <= 0 {
		return all, total, nil
	}
	offset = min(offset, total)
	return all[offset:min(offset+limit, total)], total, nil
}

// PublicNotices returns the entries whose public notice runs at now, ending soonest first.
func (s *EnforceService) PublicNotices(ctx context.Context, now time.Time) (_ []enforce.Notice, err error) {
	defer derrors.Wrap(&err, "PublicNotices")
	rows, err := s.db.Pool.Query(ctx, `SELECT l.id, e.name, e.address, e.uscc, e.industry, e.permit_no,
		COALESCE(l.doc->'admission'->>'path', ''), l.notice_start, l.notice_end, e.complaint_channel
		FROM list_entries l JOIN enterprises e ON e.uscc = l.uscc
		WHERE l.status = 'notice' AND l.notice_start <= $1 AND l.notice_end > $1 ORDER BY l.notice_end, l.id`, now)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []enforce.Notice{}
	for rows.Next() {
		var n enforce.Notice
		if err := rows.Scan(&n.EntryID, &n.Name, &n.Address, &n.USCC, &n.Industry, &n.PermitNo, &n.AdmissionPath,
			&n.NoticeStart, &n.NoticeEnd, &n.ComplaintChannel); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, formatError(rows.Err())
}

// PublicDraw returns the public view of a draw (enforce.StoredDraw.Publish) with the names
// of the enterprises drawn.
func (s *EnforceService) PublicDraw(ctx context.Context, id int64) (_ *enforce.PublicDraw, err error) {
	defer derrors.Wrap(&err, "PublicDraw(%d)", id)
	d, err := s.FindDrawByID(ctx, id)
	if err != nil {
		return nil, err
	}
	usccs := make([]string, len(d.Result.Targets))
	for i, t := range d.Result.Targets {
		usccs[i] = t.USCC
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT uscc, name FROM enterprises WHERE uscc = ANY($1)`, usccs)
	if err != nil {
		return nil, formatError(err)
	}
	names := map[string]string{}
	var uscc, name string
	if _, err := pgx.ForEachRow(rows, []any{&uscc, &name}, func() error { names[uscc] = name; return nil }); err != nil {
		return nil, formatError(err)
	}
	return d.Publish(names)
}

func (s *EnforceService) readPublicList(ctx context.Context, now time.Time) ([]enforce.Publication, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT e.name, e.address, e.uscc, e.industry, e.permit_no, l.valid_from, l.valid_to, e.complaint_channel
		FROM list_entries l JOIN enterprises e ON e.uscc = l.uscc
		WHERE l.status = 'listed' AND list_effective_status(l.status, l.valid_to, $1) = 'listed' ORDER BY l.uscc`, now)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	out := []enforce.Publication{}
	for rows.Next() {
		var p enforce.Publication
		if err := rows.Scan(&p.Name, &p.Address, &p.USCC, &p.Industry, &p.PermitNo, &p.ValidFrom, &p.ValidTo, &p.ComplaintChannel); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, formatError(rows.Err())
}

// ---------------------------------------------------------------- health-check visits

// RecordHealthVisit records a health-check visit.
func (s *EnforceService) RecordHealthVisit(ctx context.Context, a enforce.Actor, v *enforce.HealthVisit) (err error) {
	defer derrors.Wrap(&err, "RecordHealthVisit(%q)", v.USCC)
	return formatError(s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockEnterprise(ctx, tx, v.USCC); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO health_visits (uscc, visited_at, inspector, notes) VALUES ($1, $2, $3, $4)
			RETURNING id, created_at`, v.USCC, v.VisitedAt, v.Inspector, v.Notes).Scan(&v.ID, &v.CreatedAt); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, a, enforce.AuditHealthVisitRecord, enterpriseSubject(v.USCC), v)
	}))
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
