package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// The stores and reads of issue 16 parts 3, 5 and 6: incidents, intake matters, the outbox
// write of the inspection commands, and the inbox.

func (t *enforceTx) Notify(ctx context.Context, n *enforce.Notification) error {
	return insertOutbox(ctx, t.tx, n, "")
}

// insertOutbox writes n to the outbox in tx; a dedupe key already there writes nothing.
func insertOutbox(ctx context.Context, tx pgx.Tx, n *enforce.Notification, dedupe string) error {
	var key *string
	if dedupe != "" {
		key = &dedupe
	}
	err := tx.QueryRow(ctx, `INSERT INTO outbox (event, subject, uscc, title, body, dedupe_key, title_message, body_message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, created_at`,
		n.Event, n.Subject, n.USCC, n.Title, n.Body, key, n.TitleMessage, n.BodyMessage).Scan(&n.ID, &n.At)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // told before
	}
	return err
}

func (t *enforceTx) CreateIncident(ctx context.Context, inc *enforce.Incident) error {
	return t.tx.QueryRow(ctx, `INSERT INTO incidents (uscc, occurred_at, description, measures, inspection_id, reported_by, reported_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		inc.USCC, inc.OccurredAt, inc.Description, inc.Measures, inc.InspectionID, inc.ReportedBy, inc.ReportedAt).Scan(&inc.ID)
}

const matterColumns = `m.id, m.uscc, m.trigger, m.summary, m.inspection_id, m.opened_by, m.opened_at, i.status`

func scanMatter(row pgx.Row) (*enforce.Matter, error) {
	m := &enforce.Matter{}
	err := row.Scan(&m.ID, &m.USCC, &m.Trigger, &m.Summary, &m.InspectionID, &m.OpenedBy, &m.OpenedAt, &m.InspectionStatus)
	return m, err
}

func (t *enforceTx) LockOpenMatter(ctx context.Context, uscc string) (*enforce.Matter, error) {
	m, err := scanMatter(t.tx.QueryRow(ctx, `SELECT `+matterColumns+` FROM intake_matters m JOIN inspections i ON i.id = m.inspection_id
		WHERE m.uscc = $1 AND i.status <> 'closed' ORDER BY m.id DESC LIMIT 1 FOR UPDATE OF m`, uscc))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return m, err
}

func (t *enforceTx) LockMatter(ctx context.Context, id int64) (*enforce.Matter, error) {
	m, err := scanMatter(t.tx.QueryRow(ctx, `SELECT `+matterColumns+` FROM intake_matters m JOIN inspections i ON i.id = m.inspection_id
		WHERE m.id = $1 FOR UPDATE OF m`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, offsite.NotFound("intake matter %d", id)
	}
	return m, err
}

func (t *enforceTx) CreateMatter(ctx context.Context, m *enforce.Matter) error {
	return t.tx.QueryRow(ctx, `INSERT INTO intake_matters (uscc, trigger, summary, inspection_id, opened_by, opened_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, m.USCC, m.Trigger, m.Summary, m.InspectionID, m.OpenedBy, m.OpenedAt).Scan(&m.ID)
}

func (t *enforceTx) AddIntakeReport(ctx context.Context, r *enforce.IntakeReport) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO intake_reports (matter_id, source, source_ref, reporter, summary, received_at, recorded_by, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (source, source_ref) DO NOTHING RETURNING id`,
		r.MatterID, r.Source, r.SourceRef, r.Reporter, r.Summary, r.ReceivedAt, r.RecordedBy, r.RecordedAt).Scan(&r.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return offsite.Conflict("a %s with source_ref %q is recorded already", r.Source, r.SourceRef)
	}
	return err
}

// WorkService reads the inbox, intake matters and incidents.
type WorkService struct{ db *DB }

var _ enforce.InboxQuery = (*WorkService)(nil)

// NewWorkService returns a WorkService on db.
func NewWorkService(db *DB) *WorkService { return &WorkService{db: db} }

// scopeEnterprises limits q's rows, whose enterprise is in column col, to what a may see: an
// enterprise only itself; staff the enterprises of their agency and of those under it. The
// one place the reads of this file are scoped, but for the inbox, which lets items of no
// enterprise through to be scoped by their branch (inboxSQL).
func scopeEnterprises(a enforce.Actor, w *sqlFilter, col string) {
	if a.Role == enforce.RoleEnterprise {
		w.add(col+" = $?", a.USCC)
	}
	if a.Agency != 0 {
		w.add(enterprisesUnder(col), a.Agency)
	}
}

// inboxBranches are the selects of each inbox kind, in the columns kind, subject, uscc,
// status, since, due_at, overdue, note; $1 is now and $2 the health-check due days.
var inboxBranches = map[enforce.InboxKind]string{
	enforce.InboxOpenWarning: `SELECT 'open_warning', 'inspection/' || i.id, i.uscc, i.status, i.opened_at, NULL::timestamptz, false,
		(SELECT w.message FROM inspection_warnings w WHERE w.inspection_id = i.id ORDER BY w.id DESC LIMIT 1)
		FROM inspections i WHERE i.status = 'open'`,
	enforce.InboxReportToReview: `SELECT 'report_to_review', 'inspection/' || i.id, i.uscc, i.status, i.report_submitted_at, NULL::timestamptz, false, ''
		FROM inspections i WHERE i.status = 'report_submitted'`,
	enforce.InboxSiteVisitToRecord: `SELECT 'site_visit_to_record', 'inspection/' || i.id, i.uscc, i.status, i.updated_at, NULL::timestamptz, false,
		coalesce(i.doc->'site_visit'->>'trigger', '')
		FROM inspections i WHERE i.status = 'site_visit_approved'`,
	enforce.InboxExtensionToDecide: `SELECT 'extension_to_decide', 'inspection/' || i.id, i.uscc, i.status, (i.doc->'extensions'->-1->>'requested_at')::timestamptz,
		(i.doc->>'self_check_deadline')::timestamptz, (i.doc->>'self_check_deadline')::timestamptz <= $1, i.doc->'extensions'->-1->>'reason'
		FROM inspections i WHERE i.status = 'self_check_requested' AND i.doc->'extensions'->-1->>'decision' = 'pending'`,
	enforce.InboxSelfCheckOverdue: `SELECT 'self_check_overdue', 'inspection/' || i.id, i.uscc, i.status, i.self_check_requested_at,
		(i.doc->>'self_check_deadline')::timestamptz, true, ''
		FROM inspections i WHERE i.status = 'self_check_requested' AND (i.doc->>'self_check_deadline')::timestamptz <= $1`,
	enforce.InboxSelfCheckRequested: `SELECT 'self_check_requested', 'inspection/' || i.id, i.uscc, i.status, i.self_check_requested_at,
		(i.doc->>'self_check_deadline')::timestamptz, (i.doc->>'self_check_deadline')::timestamptz <= $1,
		coalesce(i.doc->'extensions'->-1->>'decision', '')
		FROM inspections i WHERE i.status = 'self_check_requested'`,
	enforce.InboxSiteVisitToApprove: `SELECT 'site_visit_to_approve', 'inspection/' || i.id, i.uscc, i.status, (i.doc->'site_visit'->>'requested_at')::timestamptz,
		NULL::timestamptz, false, (i.doc->'site_visit'->>'trigger') || ': ' || (i.doc->'site_visit'->>'reason')
		FROM inspections i WHERE i.status = 'site_visit_requested'`,
	enforce.InboxIntakeMatter: `SELECT 'intake_matter', 'intake-matter/' || m.id, m.uscc, i.status, m.opened_at, NULL::timestamptz, false, m.trigger || ': ' || m.summary
		FROM intake_matters m JOIN inspections i ON i.id = m.inspection_id
		WHERE i.status IN ('open', 'self_check_requested', 'report_submitted')`,
	// 二.4: a listed entry whose validity ends within the due days without a visit in it;
	// overdue once the validity has ended (until the nightly sweep expires the entry).
	enforce.InboxHealthVisitDue: `SELECT 'health_visit_due', 'list-entry/' || l.id, l.uscc, list_effective_status(l.status, l.valid_to, $1), l.valid_from,
		l.valid_to, l.valid_to <= $1, ''
		FROM list_entries l WHERE l.status = 'listed' AND l.valid_to - make_interval(days => $2::int) < $1
			AND NOT EXISTS (SELECT 1 FROM health_visits h WHERE h.uscc = l.uscc AND h.visited_at >= l.valid_from AND h.visited_at < l.valid_to)`,
	// 二.3: listed and not yet filed with the province.
	enforce.InboxListEntryToFile: `SELECT 'list_entry_to_file', 'list-entry/' || l.id, l.uscc, list_effective_status(l.status, l.valid_to, $1), l.valid_from,
		NULL::timestamptz, false, ''
		FROM list_entries l WHERE list_effective_status(l.status, l.valid_to, $1) = 'listed' AND l.doc->>'filed_at' IS NULL`,
	// A delivery given up on, of an event that reaches the actor's agency ($3; an event of
	// no enterprise has uscc '' and is scoped here only). Due: its next automatic try.
	enforce.InboxDeliveryFailed: `SELECT 'delivery_failed', 'notification-delivery/' || d.id, o.uscc, '', d.failed_at, d.retry_at, false,
		o.event || ' → ' || d.channel || ' ' || d.target || ': ' || d.last_error
		FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id
		WHERE d.delivered_at IS NULL AND d.failed_at IS NOT NULL AND outbox_reaches(outbox_path(o.uscc, o.subject), $3)`,
}

// inboxSQL is the inbox of a at now as one select over x (kind, subject, uscc, name, status,
// since, due_at, overdue, note), scoped; "" when a's role has no inbox. Without names (for the
// counts) the enterprises are not joined and name is "".
func inboxSQL(a enforce.Actor, cfg enforce.Config, now time.Time, names bool) (string, []any) {
	box := enforce.InboxOf(a.Role)
	if len(box.Kinds) == 0 {
		return "", nil
	}
	branches := make([]string, len(box.Kinds))
	for i, k := range box.Kinds {
		branches[i] = inboxBranches[k]
	}
	w := sqlFilter{args: []any{now, cfg.HealthCheckDueDays, a.Agency}}
	// Typed even where no branch uses them.
	w.conds = append(w.conds, "$1::timestamptz IS NOT NULL", "$2::int IS NOT NULL", "$3::bigint IS NOT NULL")
	if len(box.OverdueOnly) > 0 {
		w.add("(x.kind <> ALL($?) OR x.overdue)", enforce.Names(box.OverdueOnly))
	}
	if a.Role == enforce.RoleEnterprise {
		w.add("x.uscc = $?", a.USCC)
	}
	if a.Agency != 0 {
		// Items of no enterprise (failed deliveries of a survey's or nightly run's event) are
		// scoped by their branch.
		w.add("(x.uscc = '' OR "+enterprisesUnder("x.uscc")+")", a.Agency)
	}
	name, join := "''", ""
	if names {
		name, join = "coalesce(e.name, '')", " LEFT JOIN enterprises e ON e.uscc = x.uscc"
	}
	return `SELECT x.kind, x.subject, x.uscc, ` + name + `, x.status, x.since, x.due_at, x.overdue, coalesce(x.note, '')
		FROM (` + strings.Join(branches, "\nUNION ALL\n") + `) x (kind, subject, uscc, status, since, due_at, overdue, note)` +
		join + ` WHERE ` + w.cond(), w.args
}

// FindInbox returns the work waiting for a at now: overdue items first, then by deadline and
// age; and how many there are.
func (s *WorkService) FindInbox(ctx context.Context, a enforce.Actor, cfg enforce.Config, now time.Time, offset, limit int) (_ []*enforce.InboxItem, total int, err error) {
	defer derrors.Wrap(&err, "FindInbox(%s)", a.Role)
	q, args := inboxSQL(a, cfg, now, true)
	if q == "" {
		return []*enforce.InboxItem{}, 0, nil
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT y.*, count(*) OVER () FROM (`+q+`) y
		ORDER BY y.overdue DESC, y.due_at NULLS LAST, y.since, y.subject`+pageSQL(offset, limit), args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	out := []*enforce.InboxItem{}
	for rows.Next() {
		it := &enforce.InboxItem{}
		if err := rows.Scan(&it.Kind, &it.Subject, &it.USCC, &it.Name, &it.Status, &it.Since, &it.DueAt, &it.Overdue, &it.Note, &total); err != nil {
			return nil, 0, err
		}
		out = append(out, it)
	}
	return out, total, formatError(rows.Err())
}

// CountInbox counts the work waiting for a at now, in one query.
func (s *WorkService) CountInbox(ctx context.Context, a enforce.Actor, cfg enforce.Config, now time.Time) (_ *enforce.InboxCounts, err error) {
	defer derrors.Wrap(&err, "CountInbox(%s)", a.Role)
	c := &enforce.InboxCounts{ByKind: map[enforce.InboxKind]int{}}
	q, args := inboxSQL(a, cfg, now, false)
	if q == "" {
		return c, nil
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT y.kind, count(*), count(*) FILTER (WHERE y.overdue) FROM (`+q+`) y GROUP BY y.kind`, args...)
	if err != nil {
		return nil, formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k enforce.InboxKind
		var n, overdue int
		if err := rows.Scan(&k, &n, &overdue); err != nil {
			return nil, err
		}
		c.ByKind[k], c.Total, c.Overdue = n, c.Total+n, c.Overdue+overdue
	}
	return c, formatError(rows.Err())
}

// FindMatters returns intake matters, newest first, with their reports; open limits them to
// those whose inspection is not closed.
func (s *WorkService) FindMatters(ctx context.Context, a enforce.Actor, uscc string, open bool, offset, limit int) (_ []*enforce.Matter, total int, err error) {
	defer derrors.Wrap(&err, "FindMatters")
	var w sqlFilter
	if uscc != "" {
		w.add("m.uscc = $?", uscc)
	}
	if open {
		w.add("i.status <> $?", enforce.InspClosed)
	}
	return s.findMatters(ctx, a, w, offset, limit)
}

func (s *WorkService) findMatters(ctx context.Context, a enforce.Actor, w sqlFilter, offset, limit int) (_ []*enforce.Matter, total int, err error) {
	scopeEnterprises(a, &w, "m.uscc")
	rows, err := s.db.Pool.Query(ctx, `SELECT `+matterColumns+`, count(*) OVER () FROM intake_matters m JOIN inspections i ON i.id = m.inspection_id`+
		w.where()+` ORDER BY m.id DESC`+pageSQL(offset, limit), w.args...)
	if err != nil {
		return nil, 0, formatError(err)
	}
	out := []*enforce.Matter{}
	byID := map[int64]*enforce.Matter{}
	ids := []int64{}
	for rows.Next() {
		m := &enforce.Matter{Reports: []*enforce.IntakeReport{}}
		if err := rows.Scan(&m.ID, &m.USCC, &m.Trigger, &m.Summary, &m.InspectionID, &m.OpenedBy, &m.OpenedAt, &m.InspectionStatus, &total); err != nil {
			rows.Close()
			return nil, 0, err
		}
		out, byID[m.ID], ids = append(out, m), m, append(ids, m.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return out, total, formatError(err)
	}
	rows, err = s.db.Pool.Query(ctx, `SELECT r.id, r.matter_id, r.source, r.source_ref, r.reporter, r.summary, m.uscc, r.received_at, r.recorded_by, r.recorded_at
		FROM intake_reports r JOIN intake_matters m ON m.id = r.matter_id WHERE r.matter_id = ANY($1) ORDER BY r.id`, ids)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	for rows.Next() {
		r := &enforce.IntakeReport{}
		if err := rows.Scan(&r.ID, &r.MatterID, &r.Source, &r.SourceRef, &r.Reporter, &r.Summary, &r.USCC, &r.ReceivedAt, &r.RecordedBy, &r.RecordedAt); err != nil {
			return nil, 0, err
		}
		byID[r.MatterID].Reports = append(byID[r.MatterID].Reports, r)
	}
	return out, total, formatError(rows.Err())
}

// FindMatterByID returns one intake matter with its reports.
func (s *WorkService) FindMatterByID(ctx context.Context, a enforce.Actor, id int64) (_ *enforce.Matter, err error) {
	defer derrors.Wrap(&err, "FindMatterByID(%d)", id)
	var w sqlFilter
	w.add("m.id = $?", id)
	ms, _, err := s.findMatters(ctx, a, w, 0, 1)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, offsite.NotFound("intake matter %d", id)
	}
	return ms[0], nil
}

// FindIncidents returns the incidents an enterprise reported, newest first.
func (s *WorkService) FindIncidents(ctx context.Context, a enforce.Actor, uscc string) (_ []*enforce.Incident, err error) {
	defer derrors.Wrap(&err, "FindIncidents(%q)", uscc)
	var w sqlFilter
	if uscc != "" {
		w.add("uscc = $?", uscc)
	}
	scopeEnterprises(a, &w, "uscc")
	rows, err := s.db.Pool.Query(ctx, `SELECT id, uscc, occurred_at, description, measures, inspection_id, reported_by, reported_at
		FROM incidents`+w.where()+` ORDER BY id DESC LIMIT 1000`, w.args...)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*enforce.Incident, error) {
		inc := &enforce.Incident{}
		err := r.Scan(&inc.ID, &inc.USCC, &inc.OccurredAt, &inc.Description, &inc.Measures, &inc.InspectionID, &inc.ReportedBy, &inc.ReportedAt)
		return inc, err
	})
	if out == nil {
		out = []*enforce.Incident{}
	}
	return out, formatError(err)
}
