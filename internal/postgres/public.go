package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

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

// PublicRemovals returns the removals of entries that had been listed, newest first.
func (s *EnforceService) PublicRemovals(ctx context.Context, offset, limit int) (_ []enforce.Removal, total int, err error) {
	defer derrors.Wrap(&err, "PublicRemovals")
	rows, err := s.db.Pool.Query(ctx, `SELECT e.name, l.uscc, COALESCE(l.doc->>'removal_category', ''),
			COALESCE((l.doc->>'removed_at')::timestamptz, l.updated_at) AS removed_at, count(*) OVER ()
		FROM list_entries l JOIN enterprises e ON e.uscc = l.uscc
		WHERE l.status = 'removed' AND l.valid_from IS NOT NULL
		ORDER BY removed_at DESC, l.id DESC`+pageSQL(offset, limit))
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	out := []enforce.Removal{}
	for rows.Next() {
		var r enforce.Removal
		if err := rows.Scan(&r.Name, &r.USCC, &r.Category, &r.RemovedAt, &total); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, formatError(rows.Err())
}
