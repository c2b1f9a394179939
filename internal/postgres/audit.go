package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// EnforceService stores the enforcement records (internal/enforce) and their audit log.
type EnforceService struct {
	db     *DB
	audit  AuditConfig
	views  groupAudit  // evidence views, appended in group commits
	public publicCache // the published list
	auth   authCache   // principals of tokens and agencies of enterprises (CacheAuth)

	headMu   sync.Mutex
	lastHead *enforce.AuditHead // the latest head this service wrote or read
}

var _ enforce.Service = (*EnforceService)(nil)

// AuditConfig is how an EnforceService keys and checkpoints its audit chain.
type AuditConfig struct {
	// Keys seal new entries and heads and verify old ones. Without keys every audited
	// operation fails with enforce.ErrNoAuditKey.
	Keys *enforce.AuditKeys
	// Heads keeps signed checkpoints of the chain outside the database. Nil: none are written
	// and verification cannot find entries deleted from the end of the chain.
	Heads enforce.AuditHeadStore
	// Every is how many entries may follow a checkpoint before the next is written: a head is
	// written after committing an entry whose seq is a multiple of Every (and after the first
	// keyed entry). Entries deleted from the end of the chain after its last checkpoint are not
	// found, so at most Every-1 (plus those since the nightly checkpoint) can go unnoticed.
	// Default 100.
	Every int64
	// CheckpointFailed is told of a head that could not be written after its entries were
	// committed (the operation itself succeeded; the next checkpoint covers them). Nil: ignored.
	CheckpointFailed func(error)
	// GroupSpacing is the least time between the starts of two group commits of evidence
	// views (groupAudit): a commit due sooner waits for the rest, and commits the views that
	// arrived meanwhile with it. Each view still returns only once committed. A commit costs
	// the database far more than an entry (make bench-api: 0.15 ms of the backends' CPU per
	// view at 1,000 views/s in commits of four), so under load fewer, larger commits cost
	// less; a view that finds no commit in the last GroupSpacing is committed at once. Default
	// DefaultGroupSpacing; negative: none.
	GroupSpacing time.Duration
}

// DefaultGroupSpacing is AuditConfig.GroupSpacing's default.
const DefaultGroupSpacing = 10 * time.Millisecond

// DefaultCheckpointEvery is AuditConfig.Every's default.
const DefaultCheckpointEvery = 100

// NewEnforceService returns an EnforceService on db whose audit chain is keyed and
// checkpointed as audit says.
func NewEnforceService(db *DB, audit AuditConfig) *EnforceService {
	if audit.Every <= 0 {
		audit.Every = DefaultCheckpointEvery
	}
	if audit.GroupSpacing == 0 {
		audit.GroupSpacing = DefaultGroupSpacing
	}
	return &EnforceService{db: db, audit: audit}
}

// auditLockID is the transaction-level advisory lock that serialises appends to the audit
// log, so that each entry is chained to the one committed before it.
const auditLockID = 0x0FF5A0D1

// checkpointTimeout bounds the checkpoint written after a commit.
const checkpointTimeout = 10 * time.Second

// auditTx is the transaction inTx hands to its function: appends note in it that a
// checkpoint is due once the transaction commits.
type auditTx struct {
	pgx.Tx
	checkpoint bool
}

// inTx runs fn in a transaction and, once it has committed, writes the chain's head when an
// entry fn appended is due for a checkpoint.
func (s *EnforceService) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	at := &auditTx{}
	err := pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		at.Tx = tx
		return fn(at)
	})
	if err == nil && at.checkpoint && s.audit.Heads != nil {
		// The operation has committed: the checkpoint neither fails it nor holds it up for
		// long when object storage is slow or down (the next one covers these entries).
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkpointTimeout)
		defer cancel()
		if _, cerr := s.CheckpointAudit(cctx); cerr != nil && s.audit.CheckpointFailed != nil {
			s.audit.CheckpointFailed(cerr)
		}
	}
	return err
}

// appendAudit chains an entry to the log inside tx.
func (s *EnforceService) appendAudit(ctx context.Context, tx pgx.Tx, a enforce.Actor, action enforce.AuditAction, subject string, detail any) error {
	return s.appendAudits(ctx, tx, []*pendingAudit{{actor: a, action: action, subject: subject, detail: detail}})
}

// appendAudits chains entries to the log inside tx, in order, under the lock that
// serialises appends, sealed with the current key.
func (s *EnforceService) appendAudits(ctx context.Context, tx pgx.Tx, items []*pendingAudit) error {
	due, err := s.appendAuditsDue(ctx, tx, items)
	if at, ok := tx.(*auditTx); ok && due {
		at.checkpoint = true
	}
	return err
}

// appendAuditsDue is appendAudits, reporting whether a checkpoint is due once tx commits.
func (s *EnforceService) appendAuditsDue(ctx context.Context, tx pgx.Tx, items []*pendingAudit) (due bool, _ error) {
	entries, err := s.newAuditEntries(items)
	if err != nil {
		return false, err
	}
	// The lock and the chain's last entry in one round trip (lockAndLast).
	b := &pgx.Batch{}
	b.Queue(auditLockSQL, auditLockID)
	b.Queue(auditLastSQL)
	prev, keyed, err := readLast(tx.SendBatch(ctx, b))
	if err != nil {
		return false, err
	}
	due = s.sealAudits(prev, keyed, entries)
	if len(entries) == 1 {
		e := entries[0]
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, role, action, subject, detail, key_id, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, e.Seq, e.At, e.Actor, e.Role, e.Action, e.Subject, e.Detail, e.KeyID, e.PrevHash, e.Hash)
		return due, err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"audit_log"}, []string{"seq", "at", "actor", "role", "action", "subject", "detail", "key_id", "prev_hash", "hash"},
		pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) {
			e := entries[i]
			return []any{e.Seq, e.At, e.Actor, e.Role, e.Action, e.Subject, e.Detail, e.KeyID, e.PrevHash, e.Hash}, nil
		}))
	return due, err
}

// The statements of an append. The lock, and a commit that waits for the WAL flush even where
// the server or the role turned synchronous_commit off ('local'; stronger settings are
// kept): an entry is durable before the operation it records is answered. Then the chain's
// last entry, in the same round trip: each statement of a pipeline takes its snapshot when it
// starts, after the lock is held, so it sees the entries of whoever held the lock before (and
// were it stale, the seq primary key would refuse the duplicate rather than fork the chain).
const (
	auditLockSQL = `SELECT pg_advisory_xact_lock($1), set_config('synchronous_commit',
		CASE current_setting('synchronous_commit') WHEN 'off' THEN 'local' ELSE current_setting('synchronous_commit') END, true)`
	auditLastSQL = "SELECT seq, hash, key_id FROM audit_log ORDER BY seq DESC LIMIT 1"
	// auditInsertSQL inserts entries given as one array per column.
	auditInsertSQL = `INSERT INTO audit_log (seq, at, actor, role, action, subject, detail, key_id, prev_hash, hash)
		SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])`
)

// newAuditEntries returns the entries of items, not yet sealed.
func (s *EnforceService) newAuditEntries(items []*pendingAudit) ([]*enforce.AuditEntry, error) {
	if s.audit.Keys == nil {
		return nil, enforce.ErrNoAuditKey
	}
	entries := make([]*enforce.AuditEntry, len(items))
	for i, it := range items {
		d, err := enforce.CompactDetail(it.detail)
		if err != nil {
			return nil, fmt.Errorf("audit detail: %w", err)
		}
		entries[i] = &enforce.AuditEntry{At: time.Now(), Actor: it.actor.Name, Role: it.actor.Role, Action: it.action, Subject: it.subject, Detail: d}
	}
	return entries, nil
}

// readLast reads the results of a batch whose last two statements are auditLockSQL and
// auditLastSQL (anything before them returns no rows to read), and closes it: the chain's
// last entry (nil when the log is empty) and whether it was keyed.
func readLast(br pgx.BatchResults) (prev *enforce.AuditEntry, keyed bool, err error) {
	var p enforce.AuditEntry
	var keyID *string
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&p.Seq, &p.Hash, &keyID)
	}
	if cerr := br.Close(); err == nil || err == pgx.ErrNoRows && cerr != nil {
		err = cerr
	}
	switch {
	case err == nil:
		return &p, keyID != nil, nil
	case err == pgx.ErrNoRows:
		return nil, false, nil
	}
	return nil, false, err
}

// sealAudits chains entries after prev with the current key and reports whether a checkpoint
// falls due with them.
func (s *EnforceService) sealAudits(prev *enforce.AuditEntry, keyed bool, entries []*enforce.AuditEntry) (due bool) {
	// The first keyed entry seals the unkeyed ones before it: checkpoint it at once.
	due = !keyed
	for _, e := range entries {
		e.Seal(prev, s.audit.Keys.Current)
		prev = e
		due = due || e.Seq%s.audit.Every == 0
	}
	return due
}

// commitGroup appends the entries of items in a transaction of its own and reports whether a
// checkpoint is due. When the appender knows the chain's last entry (its own previous group
// commit's), it seals the entries onto it and sends BEGIN, the lock, one INSERT of every entry
// (a column per array) and COMMIT in one round trip: should another process (or another
// command of this one) have appended since, the seq primary key refuses the first entry, and
// the group is sealed again onto the last entry read under the lock, in two round trips where
// BEGIN, the statements of appendAuditsDue and COMMIT took five: BEGIN, the lock and the
// chain's last entry in one; then the INSERT and COMMIT. A failure rolls back: the connection
// goes back to the pool with no transaction open and the lock released.
func (s *EnforceService) commitGroup(ctx context.Context, items []*pendingAudit) (due bool, err error) {
	entries, err := s.newAuditEntries(items)
	if err != nil {
		return false, err
	}
	conn, err := s.db.Pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	defer func() {
		if err != nil && conn.Conn().PgConn().TxStatus() != 'I' && !conn.Conn().IsClosed() {
			// The transaction is open, or failed and open: end it. Should even that fail, the
			// pool drops the connection on release (it is not idle).
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_, _ = conn.Exec(rctx, "ROLLBACK")
		}
	}()
	g := &s.views
	if last := g.last; last != nil {
		g.last = nil // known again once this commit is
		due = s.sealAudits(last, true, entries)
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue(auditLockSQL, auditLockID)
		queueAuditInsert(b, entries)
		b.Queue("COMMIT")
		err = conn.SendBatch(ctx, b).Close()
		if err == nil {
			g.last = entries[len(entries)-1]
			return due, nil
		}
		if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "23505" || pe.ConstraintName != "audit_log_pkey" {
			return false, err
		}
		// The chain grew since: read its end under the lock, as below.
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
			return false, err
		}
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(auditLockSQL, auditLockID)
	b.Queue(auditLastSQL)
	br := conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return false, err
	}
	prev, keyed, err := readLast(br)
	if err != nil {
		return false, err
	}
	due = s.sealAudits(prev, keyed, entries)
	b = &pgx.Batch{}
	queueAuditInsert(b, entries)
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return false, err
	}
	g.last = entries[len(entries)-1]
	return due, nil
}

// queueAuditInsert queues the INSERT of sealed entries, a column per array.
func queueAuditInsert(b *pgx.Batch, entries []*enforce.AuditEntry) {
	n := len(entries)
	var (
		seqs                                                         = make([]int64, n)
		ats                                                          = make([]time.Time, n)
		actors, roles, actions, subjects, details, keyIDs, prevs, hs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	)
	for i, e := range entries {
		seqs[i], ats[i], actors[i], roles[i], actions[i] = e.Seq, e.At, e.Actor, string(e.Role), string(e.Action)
		subjects[i], details[i], keyIDs[i], prevs[i], hs[i] = e.Subject, e.Detail, e.KeyID, e.PrevHash, e.Hash
	}
	b.Queue(auditInsertSQL, seqs, ats, actors, roles, actions, subjects, details, keyIDs, prevs, hs)
}

// groupAudit appends the audit entries of many concurrent requests in group commits: each
// request queues its entry and waits; one appender goroutine (started when the queue fills
// from empty, gone when it is empty again) takes everything queued, seals it onto the chain
// and commits it in one transaction, then wakes those requests. A request returns only once
// its entry is committed (synchronously: the commit waits for the WAL flush), so a view is
// durable before its answer is sent, and an answer whose view failed is an error. Requests
// never flush for each other: while one batch commits, the next one gathers, so the batch
// grows with the load and a request waits at most for the commit in progress and its own.
type groupAudit struct {
	mu       sync.Mutex
	pending  []*pendingAudit
	flushing bool
	// last is the entry the appender's latest group commit ended the chain with (nil: not
	// known), to seal the next group onto; started is when that commit started
	// (AuditConfig.GroupSpacing). Only the appender, one at a time, uses them.
	last    *enforce.AuditEntry
	started time.Time
	// check is the checkpoint run after commits, one at a time, off the appender's path.
	check singleFlight
}

type pendingAudit struct {
	actor   enforce.Actor
	action  enforce.AuditAction
	subject string
	detail  any
	done    chan error
}

// maxGroupBatch bounds the entries of one group commit.
const maxGroupBatch = 1000

// groupCommitTimeout bounds one group commit: past it (the database hangs) its requests fail
// and the appender goes on with the next batch.
const groupCommitTimeout = 30 * time.Second

func (g *groupAudit) append(ctx context.Context, s *EnforceService, a enforce.Actor, action enforce.AuditAction, subject string, detail any) error {
	p := &pendingAudit{actor: a, action: action, subject: subject, detail: detail, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, p)
	start := !g.flushing
	g.flushing = true
	g.mu.Unlock()
	if start {
		// The batch carries other requests' entries: no request's cancellation aborts it.
		go g.flush(context.WithoutCancel(ctx), s)
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// The entry may still be committed: the view is recorded and its answer not sent.
		return ctx.Err()
	}
}

// flush commits batches until the queue is empty, starting them at least
// AuditConfig.GroupSpacing apart.
func (g *groupAudit) flush(ctx context.Context, s *EnforceService) {
	for {
		if wait := s.audit.GroupSpacing - time.Since(g.started); wait > 0 {
			time.Sleep(wait) // the views arriving meanwhile join this commit
		}
		g.mu.Lock()
		batch := g.pending
		if len(batch) == 0 {
			g.flushing = false
			g.mu.Unlock()
			return
		}
		if len(batch) > maxGroupBatch {
			batch = batch[:maxGroupBatch:maxGroupBatch]
			g.pending = g.pending[maxGroupBatch:]
		} else {
			g.pending = nil
		}
		g.mu.Unlock()
		g.started = time.Now()
		bctx, cancel := context.WithTimeout(ctx, groupCommitTimeout)
		due, err := s.commitGroup(bctx, batch)
		cancel()
		err = formatError(err)
		// The checkpoint starts before the requests are woken, so that whoever waits for the
		// checkpoints (WaitCheckpoints) once its view is answered also waits for this one.
		if err == nil && due && s.audit.Heads != nil {
			g.check.run(func() {
				cctx, cancel := context.WithTimeout(ctx, checkpointTimeout)
				defer cancel()
				if _, cerr := s.CheckpointAudit(cctx); cerr != nil && s.audit.CheckpointFailed != nil {
					s.audit.CheckpointFailed(cerr)
				}
			})
		}
		for _, q := range batch {
			q.done <- err
		}
	}
}

// singleFlight runs a function in the background, one run at a time: a call while one runs
// makes it run once more when it is done.
type singleFlight struct {
	mu      sync.Mutex
	running bool
	again   bool
	wg      sync.WaitGroup
}

func (f *singleFlight) run(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		f.again = true
		return
	}
	f.running = true
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			fn()
			f.mu.Lock()
			if !f.again {
				f.running = false
				f.mu.Unlock()
				return
			}
			f.again = false
			f.mu.Unlock()
		}
	}()
}

// WaitCheckpoints waits for the checkpoints that group commits of evidence views started in
// the background.
func (s *EnforceService) WaitCheckpoints() { s.views.check.wg.Wait() }

// Audit appends an entry on its own.
func (s *EnforceService) Audit(ctx context.Context, a enforce.Actor, action enforce.AuditAction, subject string, detail any) (err error) {
	defer derrors.Wrap(&err, "Audit(%s)", action)
	return formatError(s.inTx(ctx, func(tx pgx.Tx) error {
		return s.appendAudit(ctx, tx, a, action, subject, detail)
	}))
}

// likeEscaper escapes LIKE's wildcards (the default escape character is the backslash).
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

const auditColumns = "seq, at, actor, role, action, subject, detail, COALESCE(key_id, ''), prev_hash, hash"

func scanAudit(row pgx.Row, extra ...any) (*enforce.AuditEntry, error) {
	e := &enforce.AuditEntry{}
	err := row.Scan(append([]any{&e.Seq, &e.At, &e.Actor, &e.Role, &e.Action, &e.Subject, &e.Detail, &e.KeyID, &e.PrevHash, &e.Hash}, extra...)...)
	return e, err
}

// FindAudit returns entries whose subject starts with subject (all when empty), newest first.
func (s *EnforceService) FindAudit(ctx context.Context, subject string, offset, limit int) (_ []*enforce.AuditEntry, _ int, err error) {
	return s.FindAuditIn(ctx, 0, subject, offset, limit)
}

// auditUnder is the condition that an audit entry's subject belongs to the agency $2 or one
// under it: the enterprise it names or the one its list entry, inspection, intake matter,
// incident, parcel, monitoring point or draw belongs to; a notification delivery's event
// (outbox_reaches); a user's notification e-mail its user's agency. Subjects of no enterprise
// (users, agencies, tokens, captures, the nightly runs) are left in. The one place the audit
// log is scoped.
const auditUnder = `(CASE split_part(subject, '/', 1)
	WHEN 'enterprise' THEN split_part(subject, '/', 2) IN (SELECT e.uscc FROM enterprises e JOIN agencies ag ON ag.id = e.agency_id WHERE $2 = ANY(ag.path))
	WHEN 'list-entry' THEN EXISTS (SELECT 1 FROM list_entries x JOIN enterprises e ON e.uscc = x.uscc JOIN agencies ag ON ag.id = e.agency_id
		WHERE x.id::text = split_part(subject, '/', 2) AND $2 = ANY(ag.path))
	WHEN 'inspection' THEN EXISTS (SELECT 1 FROM inspections x JOIN enterprises e ON e.uscc = x.uscc JOIN agencies ag ON ag.id = e.agency_id
		WHERE x.id::text = split_part(subject, '/', 2) AND $2 = ANY(ag.path))
	WHEN 'intake-matter' THEN EXISTS (SELECT 1 FROM intake_matters x JOIN enterprises e ON e.uscc = x.uscc JOIN agencies ag ON ag.id = e.agency_id
		WHERE x.id::text = split_part(subject, '/', 2) AND $2 = ANY(ag.path))
	WHEN 'incident' THEN EXISTS (SELECT 1 FROM incidents x JOIN enterprises e ON e.uscc = x.uscc JOIN agencies ag ON ag.id = e.agency_id
		WHERE x.id::text = split_part(subject, '/', 2) AND $2 = ANY(ag.path))
	WHEN 'parcel' THEN EXISTS (SELECT 1 FROM parcels x JOIN enterprises e ON e.uscc = x.uscc JOIN agencies ag ON ag.id = e.agency_id
		WHERE x.id = substr(subject, 8) AND $2 = ANY(ag.path))
	WHEN 'monitoring-point' THEN EXISTS (SELECT 1 FROM monitoring_points x JOIN enterprises e ON e.uscc = x.uscc JOIN agencies ag ON ag.id = e.agency_id
		WHERE x.mn = split_part(subject, '/', 2) AND $2 = ANY(ag.path))
	WHEN 'draw' THEN EXISTS (SELECT 1 FROM draws x JOIN users u ON u.name = x.created_by JOIN agencies ag ON ag.id = u.agency_id
		WHERE x.id::text = split_part(subject, '/', 2) AND $2 = ANY(ag.path))
	WHEN 'notification-delivery' THEN EXISTS (SELECT 1 FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id
		WHERE d.id::text = split_part(subject, '/', 2) AND outbox_reaches(outbox_path(o.uscc, o.subject), $2))
	WHEN 'notification-prefs' THEN NOT EXISTS (SELECT 1 FROM users u JOIN agencies ag ON ag.id = u.agency_id
		WHERE u.name = substr(subject, 20) AND NOT $2 = ANY(ag.path))
	ELSE true END)`

// FindAuditIn is FindAudit leaving out the entries whose subject belongs to an enterprise
// (or a draw) outside agency and the agencies under it; 0 leaves out none.
func (s *EnforceService) FindAuditIn(ctx context.Context, agency int64, subject string, offset, limit int) (_ []*enforce.AuditEntry, _ int, err error) {
	defer derrors.Wrap(&err, "FindAuditIn(%d, %q)", agency, subject)
	rows, err := s.db.Pool.Query(ctx, "SELECT "+auditColumns+", count(*) OVER () FROM audit_log WHERE subject LIKE $1 AND ($2::bigint = 0 OR "+auditUnder+") ORDER BY seq DESC"+pageSQL(offset, limit),
		likeEscaper.Replace(subject)+"%", agency)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*enforce.AuditEntry
	total := 0
	for rows.Next() {
		e, err := scanAudit(rows, &total)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, total, formatError(rows.Err())
}

// legacyUntil reads the chain's anchor: the last unkeyed entry.
func (s *EnforceService) legacyUntil(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.Pool.QueryRow(ctx, "SELECT legacy_until FROM audit_anchor").Scan(&n)
	if err == pgx.ErrNoRows {
		return 0, fmt.Errorf("audit_anchor has no row: the chain's anchor was deleted")
	}
	return n, err
}

// CheckpointAudit writes the signed head of the chain's newest entry to the head store and
// returns it (nil when the log is empty). It refuses to vouch for a newest entry that does not
// verify, and to write a head when the latest one already written does not fit the database:
// signed by no key of ours, another anchor, or a seq the chain no longer reaches.
func (s *EnforceService) CheckpointAudit(ctx context.Context) (_ *enforce.AuditHead, err error) {
	defer derrors.Wrap(&err, "CheckpointAudit")
	if s.audit.Heads == nil {
		return nil, fmt.Errorf("no audit head store configured")
	}
	legacy, err := s.legacyUntil(ctx)
	if err != nil {
		return nil, formatError(err)
	}
	e, err := scanAudit(s.db.Pool.QueryRow(ctx, "SELECT "+auditColumns+" FROM audit_log ORDER BY seq DESC LIMIT 1"))
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, formatError(err)
	}
	// The latest head this process knows of: read from the store once, then the one it wrote
	// last (other processes' later heads are checked by VerifyAudit).
	s.headMu.Lock()
	defer s.headMu.Unlock()
	last := s.lastHead
	if last == nil {
		if last, err = s.audit.Heads.LatestAuditHead(ctx); err != nil {
			return nil, err
		}
	}
	if last != nil && last.Seq == e.Seq && last.Hash == e.Hash {
		return last, nil
	}
	if last != nil {
		v := enforce.ChainVerifier{Keys: s.audit.Keys, LegacyUntil: legacy, Head: last}
		if b := v.CheckHead(); b != nil {
			return nil, fmt.Errorf("latest checkpoint does not fit the database: %s", b.Reason)
		}
		if last.Seq > e.Seq {
			return nil, fmt.Errorf("the chain ends at entry %d but the latest checkpoint recorded entry %d: entries were deleted", e.Seq, last.Seq)
		}
	}
	h, err := enforce.NewAuditHead(s.audit.Keys, e, legacy)
	if err != nil {
		return nil, err
	}
	if err := s.audit.Heads.PutAuditHead(ctx, h); err != nil {
		return nil, err
	}
	s.lastHead = h
	return h, nil
}

// VerifyAudit recomputes the whole chain in seq order, in batches, against the keys, the
// anchor and the latest checkpoint in the head store, and reports the first break.
func (s *EnforceService) VerifyAudit(ctx context.Context) (_ *enforce.AuditReport, err error) {
	defer derrors.Wrap(&err, "VerifyAudit")
	legacy, err := s.legacyUntil(ctx)
	if err != nil {
		return nil, formatError(err)
	}
	v := enforce.ChainVerifier{Keys: s.audit.Keys, LegacyUntil: legacy}
	if s.audit.Heads != nil {
		if v.Head, err = s.audit.Heads.LatestAuditHead(ctx); err != nil {
			return nil, fmt.Errorf("read the latest checkpoint: %w", err)
		}
	}
	rep := &enforce.AuditReport{LegacyUntil: legacy, Checkpoint: v.Head}
	done := func(b *enforce.ChainBreak) (*enforce.AuditReport, error) {
		rep.Checked, rep.FirstBroken = v.Checked, b
		return rep, nil
	}
	if b := v.CheckHead(); b != nil {
		return done(b)
	}
	after := int64(-1)
	const batch = 5000
	for {
		rows, err := s.db.Pool.Query(ctx, "SELECT "+auditColumns+" FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2", after, batch)
		if err != nil {
			return nil, formatError(err)
		}
		n := 0
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			n++
			after = e.Seq
			if b := v.Next(e); b != nil {
				rows.Close()
				return done(b)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, formatError(err)
		}
		if n < batch {
			return done(v.Finish())
		}
	}
}
