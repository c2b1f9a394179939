package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// ---------------------------------------------------------------- inspections

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

// sameMatter finds the warning of inspection in that w repeats: known says w is already
// recorded there (a re-delivered task: nothing to do); otherwise i >= 0 is a warning of a
// finding on the same parcel, of the same kind and class, overlapping it, from other
// captures; -1 when there is none. Only warnings from findings are matched, unless anySource,
// when a warning of the same source and ref is known too.
func sameMatter(ctx context.Context, tx pgx.Tx, in *enforce.Inspection, w *enforce.Warning, anySource bool) (i int, known bool, err error) {
	if w.Source != enforce.WarningFinding {
		if anySource {
			for i, prev := range in.Warnings {
				if prev.Source == w.Source && prev.Ref == w.Ref {
					return i, true, nil
				}
			}
		}
		return -1, false, nil
	}
	for i, prev := range in.Warnings {
		if prev.Source != enforce.WarningFinding {
			continue
		}
		if prev.Ref == w.Ref || slices.Contains(prev.SeenIn, w.Ref) {
			return i, true, nil
		}
		var same bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM findings a, findings b
			WHERE a.id = $1 AND b.id = $2 AND a.parcel_id = b.parcel_id AND a.kind = b.kind AND a.class = b.class
				AND a.capture_ids <> b.capture_ids AND ST_Intersects(a.geom, b.geom))`, w.Ref, prev.Ref).Scan(&same)
		if err != nil {
			return -1, false, err
		}
		if same {
			return i, false, nil
		}
	}
	return -1, false, nil
}

// repeatWarning handles w when it repeats a warning of in (sameMatter): a known one changes
// nothing; another finding of the same matter raises the earlier warning's confirmations. It
// reports the outcome, or "" when w repeats nothing of in.
func (s *EnforceService) repeatWarning(ctx context.Context, tx pgx.Tx, a enforce.Actor, in *enforce.Inspection, w *enforce.Warning, level enforce.Level, anySource bool, now time.Time) (string, error) {
	i, known, err := sameMatter(ctx, tx, in, w, anySource)
	switch {
	case err != nil:
		return "", err
	case known:
		*w = in.Warnings[i]
		return enforce.WarningKnown, nil
	case i < 0:
		return "", nil
	}
	prev := &in.Warnings[i]
	prev.Confirmations++
	prev.SeenIn = append(prev.SeenIn, w.Ref)
	prev.LastSeenAt = &now
	in.UpdatedAt = now
	if err := saveInspection(ctx, tx, in); err != nil {
		return "", err
	}
	*w = *prev
	return enforce.WarningConfirmed, s.appendAudit(ctx, tx, a, enforce.AuditInspectionWarningConfirmed, inspectionSubject(in.ID), map[string]any{"warning": w, "level": level})
}

// OpenWarning records a warning on an enterprise (二.5, 三.8): it joins the open inspection;
// or, when another level has already closed an inspection of the same matter, a closed record
// linked to it is made (its results are recognised, not repeated); or it opens an inspection.
//
// A warning from a finding names the finding in w.Ref; uscc may then be "", and is taken from
// the finding's parcel. A finding on another enterprise's parcel is refused.
func (s *EnforceService) OpenWarning(ctx context.Context, a enforce.Actor, uscc string, level enforce.Level, w *enforce.Warning) (_ *enforce.Inspection, outcome string, err error) {
	defer derrors.Wrap(&err, "OpenWarning(%q)", uscc)
	if err := enforce.CheckLevel(level); err != nil {
		return nil, "", err
	}
	var out *enforce.Inspection
	if w.Source == enforce.WarningFinding {
		var owner string
		var severity, kind, class string
		err := s.db.Pool.QueryRow(ctx, `SELECT p.uscc, f.severity, f.kind, f.class FROM findings f JOIN parcels p ON p.id = f.parcel_id
			WHERE f.id = $1`, w.Ref).Scan(&owner, &severity, &kind, &class)
		switch {
		case err == pgx.ErrNoRows:
			return nil, "", offsite.Invalid("ref", "finding %q is not recorded", w.Ref)
		case err != nil:
			return nil, "", formatError(err)
		case owner == "":
			return nil, "", offsite.Invalid("ref", "finding %q is on a parcel of no enterprise", w.Ref)
		case uscc == "":
			uscc = owner
		case uscc != owner:
			return nil, "", offsite.Invalid("ref", "finding %q is on a parcel of enterprise %s, not %s", w.Ref, owner, uscc)
		}
		if w.Severity == "" {
			w.Severity = severity
		}
		if w.Message == "" {
			w.Message = fmt.Sprintf("finding %s: %s %s", w.Ref, kind, class)
		}
	}
	if uscc == "" {
		return nil, "", offsite.Invalid("uscc", "is required")
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		ent, err := lockEnterprise(ctx, tx, uscc)
		if err != nil {
			return err
		}
		now := time.Now()
		in, err := scanInspection(tx.QueryRow(ctx, "SELECT "+inspectionColumns+" FROM inspections WHERE uscc = $1 AND status <> 'closed' FOR UPDATE", uscc))
		switch {
		case err == nil:
			if outcome, err = s.repeatWarning(ctx, tx, a, in, w, level, false, now); err != nil || outcome != "" {
				out = in
				return err
			}
			if err := addWarning(ctx, tx, in, w); err != nil {
				return err
			}
			in.UpdatedAt = now
			if err := saveInspection(ctx, tx, in); err != nil {
				return err
			}
			out, outcome = in, enforce.WarningJoined
			return s.appendAudit(ctx, tx, a, enforce.AuditInspectionWarningJoined, inspectionSubject(in.ID), map[string]any{"warning": w, "level": level})
		case err != pgx.ErrNoRows:
			return err
		}
		// This level's closed inspections: a matter already inspected is not inspected again
		// (二.5); the repeat is recorded on the earlier inspection.
		rows, err := tx.Query(ctx, "SELECT "+inspectionColumns+" FROM inspections WHERE uscc = $1 AND level = $2 AND status = 'closed' ORDER BY id DESC FOR UPDATE", uscc, level)
		if err != nil {
			return err
		}
		closed, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*enforce.Inspection, error) { return scanInspection(r) })
		if err != nil {
			return err
		}
		for _, c := range closed {
			if outcome, err = s.repeatWarning(ctx, tx, a, c, w, level, true, now); err != nil || outcome != "" {
				out = c
				return err
			}
		}
		var prevID int64
		var prevLevel enforce.Level
		err = tx.QueryRow(ctx, `SELECT id, level FROM inspections WHERE uscc = $1 AND matter = $2 AND level <> $3
			AND status = 'closed' AND linked_to IS NULL ORDER BY id DESC LIMIT 1`, uscc, w.Ref, level).Scan(&prevID, &prevLevel)
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		in = &enforce.Inspection{USCC: uscc, Level: level, Matter: w.Ref, Status: enforce.InspOpen,
			Listed: ent.ListStatus == enforce.ListListed, Warnings: []enforce.Warning{}, OpenedBy: a.Name, OpenedAt: now, UpdatedAt: now}
		outcome = enforce.WarningOpened
		if err == nil {
			in.Status, in.LinkedTo, in.ClosedAt = enforce.InspClosed, &prevID, &now
			in.CloseNote = fmt.Sprintf("the %s-level inspection %d of the same matter is recognised (二.5): not repeated", prevLevel, prevID)
			outcome = enforce.WarningLinked
		}
		if err := insertInspection(ctx, tx, in); err != nil {
			return err
		}
		if err := addWarning(ctx, tx, in, w); err != nil {
			return err
		}
		if err := saveInspection(ctx, tx, in); err != nil {
			return err
		}
		out = in
		action := enforce.AuditInspectionOpened
		if outcome == enforce.WarningLinked {
			action = enforce.AuditInspectionLinked
		}
		return s.appendAudit(ctx, tx, a, action, inspectionSubject(in.ID), map[string]any{"warning": w, "level": level, "linked_to": in.LinkedTo})
	})
	return out, outcome, formatError(err)
}

// UpdateInspection applies fn under row locks on the inspection and its enterprise. A
// disposition that fn sets takes effect in the same transaction: removal from the list,
// special supervision, and an audit entry for a waived penalty.
func (s *EnforceService) UpdateInspection(ctx context.Context, a enforce.Actor, id int64, version int, action enforce.AuditAction, fn func(*enforce.Inspection, *enforce.Enterprise) (any, error)) (_ *enforce.Inspection, err error) {
	defer derrors.Wrap(&err, "UpdateInspection(%d, %s)", id, action)
	var out *enforce.Inspection
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var uscc string
		if err := tx.QueryRow(ctx, "SELECT uscc FROM inspections WHERE id = $1", id).Scan(&uscc); err != nil {
			if err == pgx.ErrNoRows {
				return offsite.NotFound("inspection %d", id)
			}
			return err
		}
		ent, err := lockEnterprise(ctx, tx, uscc) // enterprise first, as OpenWarning does
		if err != nil {
			return err
		}
		in, err := scanInspection(tx.QueryRow(ctx, "SELECT "+inspectionColumns+" FROM inspections WHERE id = $1 FOR UPDATE", id))
		if err != nil {
			return err
		}
		if in.Version != version {
			return offsite.Conflict("inspection %d is at version %d, not %d: it changed since it was read", id, in.Version, version)
		}
		hadDisposition := in.Disposition != nil
		detail, err := fn(in, ent)
		if err != nil {
			return err
		}
		if err := saveInspection(ctx, tx, in); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, a, action, inspectionSubject(id), map[string]any{"status": in.Status, "version": in.Version, "detail": detail}); err != nil {
			return err
		}
		if d := in.Disposition; d != nil && !hadDisposition {
			if err := s.applyDisposition(ctx, tx, a, in, ent, d); err != nil {
				return err
			}
		}
		out = in
		return nil
	})
	s.public.invalidate() // a disposition may have removed the enterprise from the list
	return out, formatError(err)
}

func (s *EnforceService) applyDisposition(ctx context.Context, tx pgx.Tx, a enforce.Actor, in *enforce.Inspection, ent *enforce.Enterprise, d *enforce.Disposition) error {
	if d.Waived {
		if err := s.appendAudit(ctx, tx, a, enforce.AuditDispositionWaived, inspectionSubject(in.ID), d); err != nil {
			return err
		}
	}
	if d.Penalty == enforce.PenaltyStrict {
		if err := s.appendAudit(ctx, tx, a, enforce.AuditDispositionStrict, inspectionSubject(in.ID), d); err != nil {
			return err
		}
	}
	if d.Bars() && !ent.Barred {
		ent.Barred, ent.BarredReason = true, fmt.Sprintf("%s: inspection %d: %s", enforce.RemovalStrictDisposition, in.ID, d.Rule)
		if err := saveEnterpriseFlags(ctx, tx, ent); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, a, enforce.AuditEnterpriseBarred, enterpriseSubject(ent.USCC), map[string]any{"inspection": in.ID, "rule": d.Rule}); err != nil {
			return err
		}
	}
	if d.SpecialSupervision && !ent.SpecialSupervision {
		ent.SpecialSupervision = true
		if err := saveEnterpriseFlags(ctx, tx, ent); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, a, enforce.AuditEnterpriseSpecialSupervision, enterpriseSubject(ent.USCC), map[string]any{"inspection": in.ID, "rule": d.Rule}); err != nil {
			return err
		}
	}
	if !d.RemoveFromList {
		return nil
	}
	e, err := scanListEntry(tx.QueryRow(ctx, "SELECT "+listColumns+" FROM list_entries l WHERE l.uscc = $1 AND l.status IN ('proposed', 'notice', 'listed') FOR UPDATE", ent.USCC), enforce.Config{}, time.Now())
	if err == pgx.ErrNoRows {
		return nil // no longer on the list
	}
	if err != nil {
		return err
	}
	if _, err := e.Remove(enforce.RemovalStrictDisposition, fmt.Sprintf("inspection %d: %s", in.ID, d.Rule), time.Now()); err != nil {
		return err
	}
	if err := saveListEntry(ctx, tx, e); err != nil {
		return err
	}
	return s.appendAudit(ctx, tx, a, enforce.AuditListRemove, listSubject(e.ID), map[string]any{"category": e.RemovalCategory, "reason": e.RemovalReason, "inspection": in.ID})
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
	var where []string
	var args []any
	if f.USCC != "" {
		args = append(args, f.USCC)
		where = append(where, fmt.Sprintf("uscc = $%d", len(args)))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	q := "SELECT " + inspectionColumns + ", count(*) OVER () FROM inspections"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC" + pageSQL(f.Offset, f.Limit)
	rows, err := s.db.Pool.Query(ctx, q, args...)
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

// ---------------------------------------------------------------- double random

// CreateDraw draws from the current pool (every enterprise; listed ones and special
// supervision targets as such) and stores and audits the result.
func (s *EnforceService) CreateDraw(ctx context.Context, a enforce.Actor, cfg enforce.DrawConfig, seed uint64, inspectors []enforce.Inspector) (_ *enforce.StoredDraw, err error) {
	defer derrors.Wrap(&err, "CreateDraw")
	out := &enforce.StoredDraw{CreatedBy: a.Name}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT e.uscc, COALESCE(l.eff, '') = 'listed', e.special_supervision FROM enterprises e "+currentEntryJoin)
		if err != nil {
			return err
		}
		pool, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (enforce.Candidate, error) {
			var c enforce.Candidate
			err := r.Scan(&c.USCC, &c.Listed, &c.SpecialSupervision)
			return c, err
		})
		if err != nil {
			return err
		}
		inspectors, err := withLastConflicts(ctx, tx, inspectors)
		if err != nil {
			return err
		}
		res, err := enforce.Draw(cfg, seed, pool, inspectors)
		if err != nil {
			return offsite.Invalid("inspectors", "%v", err)
		}
		out.Result = res
		doc, err := marshalDoc(res)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "INSERT INTO draws (seed, result, created_by) VALUES ($1, $2, $3) RETURNING id, created_at",
			res.Seed, doc, a.Name).Scan(&out.ID, &out.CreatedAt); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, a, enforce.AuditDrawCreate, fmt.Sprintf("draw/%d", out.ID), map[string]any{
			"seed": res.Seed, "pool_size": res.PoolSize, "groups": res.Groups, "targets": len(res.Targets), "inspectors": inspectors})
	})
	if err != nil {
		return nil, formatError(err)
	}
	return out, nil
}

// withLastConflicts adds to each inspector's conflicts the enterprises they were drawn for in
// the latest draw that included each enterprise: the same inspector does not inspect the
// same enterprise twice running.
func withLastConflicts(ctx context.Context, tx pgx.Tx, inspectors []enforce.Inspector) ([]enforce.Inspector, error) {
	rows, err := tx.Query(ctx, `WITH latest AS (
			SELECT DISTINCT ON (t->>'uscc') t->>'uscc' AS uscc, t->'inspectors' AS ins
			FROM draws d, jsonb_array_elements(d.result->'targets') t
			ORDER BY t->>'uscc', d.id DESC)
		SELECT uscc, jsonb_array_elements_text(ins) FROM latest`)
	if err != nil {
		return nil, err
	}
	last := map[string][]string{} // inspector → enterprises
	for rows.Next() {
		var uscc, ins string
		if err := rows.Scan(&uscc, &ins); err != nil {
			rows.Close()
			return nil, err
		}
		last[ins] = append(last[ins], uscc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]enforce.Inspector, len(inspectors))
	for i, in := range inspectors {
		out[i] = enforce.Inspector{ID: in.ID, Conflicts: append(append([]string(nil), in.Conflicts...), last[in.ID]...)}
	}
	return out, nil
}

func scanDraw(row pgx.Row, extra ...any) (*enforce.StoredDraw, error) {
	d := &enforce.StoredDraw{}
	var doc []byte
	if err := row.Scan(append([]any{&d.ID, &doc, &d.CreatedBy, &d.CreatedAt}, extra...)...); err != nil {
		return nil, err
	}
	d.Result = &enforce.DrawResult{}
	return d, json.Unmarshal(doc, d.Result)
}

// FindDrawByID returns one draw.
func (s *EnforceService) FindDrawByID(ctx context.Context, id int64) (_ *enforce.StoredDraw, err error) {
	defer derrors.Wrap(&err, "FindDrawByID(%d)", id)
	d, err := scanDraw(s.db.Pool.QueryRow(ctx, "SELECT id, result, created_by, created_at FROM draws WHERE id = $1", id))
	if err == pgx.ErrNoRows {
		return nil, offsite.NotFound("draw %d", id)
	}
	return d, formatError(err)
}

// FindDraws returns draws, newest first.
func (s *EnforceService) FindDraws(ctx context.Context, offset, limit int) (_ []*enforce.StoredDraw, _ int, err error) {
	defer derrors.Wrap(&err, "FindDraws")
	rows, err := s.db.Pool.Query(ctx, "SELECT id, result, created_by, created_at, count(*) OVER () FROM draws ORDER BY id DESC"+pageSQL(offset, limit))
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*enforce.StoredDraw
	total := 0
	for rows.Next() {
		d, err := scanDraw(rows, &total)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, total, formatError(rows.Err())
}

// PublicDisclosures returns the dispositions with public disclosure, newest first.
func (s *EnforceService) PublicDisclosures(ctx context.Context, offset, limit int) (_ []enforce.Disclosure, total int, err error) {
	defer derrors.Wrap(&err, "PublicDisclosures")
	rows, err := s.db.Pool.Query(ctx, `SELECT i.id, i.uscc, e.name, i.doc->'disposition', count(*) OVER ()
		FROM inspections i JOIN enterprises e ON e.uscc = i.uscc
		WHERE (i.doc->'disposition'->>'public_disclosure')::boolean
		ORDER BY i.closed_at DESC, i.id DESC`+pageSQL(offset, limit))
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	out := []enforce.Disclosure{}
	for rows.Next() {
		var d enforce.Disclosure
		var disp enforce.Disposition
		if err := rows.Scan(&d.InspectionID, &d.USCC, &d.Name, &disp, &total); err != nil {
			return nil, 0, err
		}
		d.Rule, d.Penalty, d.RemovedFromList, d.SpecialSupervision, d.PoliceReferral, d.DecidedAt =
			disp.Rule, disp.Penalty, disp.RemoveFromList, disp.SpecialSupervision, disp.PoliceReferral, disp.DecidedAt
		out = append(out, d)
	}
	return out, total, formatError(rows.Err())
}

// ---------------------------------------------------------------- statistics

// Stats computes the supervisors' statistics for [from, to).
func (s *EnforceService) Stats(ctx context.Context, from, to time.Time) (_ *enforce.Stats, err error) {
	defer derrors.Wrap(&err, "Stats")
	st := &enforce.Stats{From: from, To: to, Warnings: []enforce.ZoneMonthCount{}, Findings: []enforce.ZoneMonthCount{}, ListStatus: map[enforce.ListStatus]int{}}
	q := s.db.Pool
	if err := q.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE listed AND site_visited_at >= $1 AND site_visited_at < $2),
		count(*) FILTER (WHERE waived AND closed_at >= $1 AND closed_at < $2)
		FROM inspections`, from, to).Scan(&st.ListedSiteInspections, &st.WaivedPenalties); err != nil {
		return nil, formatError(err)
	}
	if st.Warnings, err = zoneMonthCounts(ctx, q, `SELECT e.zone, to_char(w.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*)
		FROM inspection_warnings w JOIN enterprises e ON e.uscc = w.uscc
		WHERE w.created_at >= $1 AND w.created_at < $2 GROUP BY 1, 2 ORDER BY 1, 2`, from, to); err != nil {
		return nil, err
	}
	if st.Findings, err = zoneMonthCounts(ctx, q, `SELECT e.zone, to_char(f.detected_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*)
		FROM findings f JOIN parcels p ON p.id = f.parcel_id JOIN enterprises e ON e.uscc = p.uscc
		WHERE f.detected_at >= $1 AND f.detected_at < $2 GROUP BY 1, 2 ORDER BY 1, 2`, from, to); err != nil {
		return nil, err
	}
	var med, p90 *float64
	if err := q.QueryRow(ctx, `SELECT count(*), count(report_submitted_at),
		count(*) FILTER (WHERE (doc->'report'->>'late')::boolean),
		count(*) FILTER (WHERE report_submitted_at IS NULL AND status = 'self_check_requested' AND (doc->>'self_check_deadline')::timestamptz < now()),
		percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM report_submitted_at - self_check_requested_at) / 3600),
		percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM report_submitted_at - self_check_requested_at) / 3600)
		FROM inspections WHERE self_check_requested_at >= $1 AND self_check_requested_at < $2`, from, to).
		Scan(&st.SelfCheck.Requested, &st.SelfCheck.Answered, &st.SelfCheck.Late, &st.SelfCheck.Overdue, &med, &p90); err != nil {
		return nil, formatError(err)
	}
	if med != nil {
		st.SelfCheck.MedianHours = *med
	}
	if p90 != nil {
		st.SelfCheck.P90Hours = *p90
	}
	rows, err := q.Query(ctx, `SELECT list_effective_status(status, valid_to, now()), count(*)
		FROM list_entries GROUP BY 1`)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k enforce.ListStatus
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		st.ListStatus[k] = n
	}
	return st, formatError(rows.Err())
}

// zoneMonthCounts runs a (zone, month, count) query over [from, to).
func zoneMonthCounts(ctx context.Context, q *pgxpool.Pool, sql string, from, to time.Time) ([]enforce.ZoneMonthCount, error) {
	rows, err := q.Query(ctx, sql, from, to)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (enforce.ZoneMonthCount, error) {
		var z enforce.ZoneMonthCount
		err := row.Scan(&z.Zone, &z.Month, &z.Count)
		return z, err
	})
	if err != nil {
		return nil, formatError(err)
	}
	return out, nil
}
