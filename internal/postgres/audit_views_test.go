package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/testenv"
)

// appendViews appends n evidence views concurrently, as n requests would, and returns their
// errors.
func appendViews(s *EnforceService, n int) []error {
	st := NewEnterpriseStore(s)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.AppendView(context.Background(), enforce.Actor{Name: fmt.Sprintf("viewer-%d", i), Role: "inspector"},
				enforce.AuditEvidenceView, enforce.EnterpriseSubject(testUSCC), map[string]int{"parcels": 1})
		}()
	}
	wg.Wait()
	return errs
}

// TestViewsCheckpointedInBackground: views appended in group commits are chained like any
// entry, and the checkpoints they fall due for are written off the requests' path: the
// chain verifies against them, and entries deleted up to the checkpoint are found.
func TestViewsCheckpointedInBackground(t *testing.T) {
	f := newAuditFixture(t, 5)
	const n = 23
	for _, err := range appendViews(f.s, n) {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.s.WaitCheckpoints()
	rep := f.verify(t)
	if rep.FirstBroken != nil || rep.Checked != n || rep.Checkpoint == nil || rep.Checkpoint.Seq < 20 {
		t.Fatalf("after %d concurrent views: %+v (checkpoint %+v), want %d intact entries and a checkpoint at 20 or later", n, rep, rep.Checkpoint, n)
	}
	f.rewrite(t, `DELETE FROM audit_log WHERE seq >= $1`, rep.Checkpoint.Seq-1)
	if rep := f.verify(t); rep.FirstBroken == nil {
		t.Fatalf("entries %d.. deleted, yet the chain verifies: %+v", rep.Checkpoint.Seq-1, rep)
	}
}

// TestViewsFailWithoutKey: when the batch cannot be committed, every request in it gets the
// error (its answer is not sent) and nothing is appended.
func TestViewsFailWithoutKey(t *testing.T) {
	db := MustOpen(t)
	s := NewEnforceService(db, AuditConfig{})
	for i, err := range appendViews(s, 10) {
		if !errors.Is(err, enforce.ErrNoAuditKey) {
			t.Errorf("view %d: %v, want ErrNoAuditKey", i, err)
		}
	}
	if _, total, err := s.FindAudit(context.Background(), "", 0, 10); err != nil || total != 0 {
		t.Errorf("audit log after failed views: %d entries, %v", total, err)
	}
}

// TestViewsDurableWhereCommitsAreAsync: a group commit waits for the WAL flush even when the
// session turned synchronous_commit off.
func TestViewsDurableWhereCommitsAreAsync(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := mustEnforce(t, db)
	var setting string
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return err
		}
		if _, err := s.appendAuditsDue(ctx, tx, []*pendingAudit{{actor: admin, action: enforce.AuditEvidenceView, subject: "enterprise/x", detail: map[string]int{}}}); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT current_setting('synchronous_commit')").Scan(&setting)
	})
	if err != nil {
		t.Fatal(err)
	}
	if setting != "local" {
		t.Errorf("synchronous_commit in an appending transaction = %q, want local", setting)
	}
}

// TestViewsFromTwoProcesses: two services on one database (two API processes), each
// group-committing views while the other also appends single entries, keep one chain.
func TestViewsFromTwoProcesses(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		dbs[i] = db
	}
	a := mustEnforce(t, dbs[0])
	b := NewEnforceService(dbs[1], a.audit) // the same keys
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, s := range []*EnforceService{a, b} {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for _, err := range appendViews(s, 30) {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 5 {
				errs <- s.Audit(ctx, admin, enforce.AuditEvidenceView, "inspection/1", map[string]int{"i": i})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := a.VerifyAudit(ctx)
	if err != nil || rep.FirstBroken != nil || rep.Checked != 70 {
		t.Fatalf("chain after two processes' appends: %+v %v, want 70 intact entries", rep, err)
	}
}

// TestViewsFailedCommitLeavesNoTransaction: a group commit whose INSERT fails (here an action
// the vocabulary does not know) fails its requests, appends nothing, and gives its connection
// back to the pool idle, with no transaction open and the append lock released: the same
// connection then commits the next views, and the chain verifies.
func TestViewsFailedCommitLeavesNoTransaction(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, testenv.PostgresURL(t)+"&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	s := mustEnforce(t, db)
	watcher := MustOpen(t) // another session, looking at the first
	var pid int
	if err := db.Pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	st := NewEnterpriseStore(s)
	err = st.AppendView(ctx, admin, enforce.AuditAction("evidence.no-such-action"), enforce.EnterpriseSubject(testUSCC), map[string]int{"parcels": 1})
	if err == nil {
		t.Fatal("a view with an unknown action was appended")
	}
	var state string
	var locks int
	if err := watcher.Pool.QueryRow(ctx, `SELECT coalesce((SELECT state FROM pg_stat_activity WHERE pid = $1), 'gone'),
		(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $2 AND granted)`, pid, auditLockID).Scan(&state, &locks); err != nil {
		t.Fatal(err)
	}
	if state != "idle" || locks != 0 {
		t.Errorf("after the failed commit, the pool's session %d is %q and %d sessions hold the append lock; want idle and none", pid, state, locks)
	}
	for _, err := range appendViews(s, 5) {
		if err != nil {
			t.Fatalf("a view after the failed commit: %v", err)
		}
	}
	var after int
	if err := db.Pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != pid {
		t.Errorf("the pool replaced its connection (%d, now %d): the failed commit left it unusable", pid, after)
	}
	rep, err := s.VerifyAudit(ctx)
	if err != nil || rep.FirstBroken != nil || rep.Checked != 5 {
		t.Fatalf("chain after a failed and a good commit: %+v %v, want the 5 views intact", rep, err)
	}
}

// TestViewsSealedOntoKnownEnd: a group commit seals its views onto the end of the chain its
// appender's previous commit left (one round trip); when the chain grew since (an entry
// appended otherwise), the seq key refuses the group, which is sealed again onto the end read
// under the lock: nothing forks, nothing is lost, and the end is known again.
func TestViewsSealedOntoKnownEnd(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	for _, err := range appendViews(s, 3) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.views.last == nil || s.views.last.Seq != 3 {
		t.Fatalf("after 3 views the appender knows the chain's end as %+v, want entry 3", s.views.last)
	}
	if err := s.Audit(ctx, admin, enforce.AuditEvidenceView, "inspection/1", map[string]int{}); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for _, err := range appendViews(s, 3) {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	if s.views.last == nil || s.views.last.Seq != 10 {
		t.Fatalf("after 3 views, an entry and 6 views the appender knows the end as %+v, want entry 10", s.views.last)
	}
	rep, err := s.VerifyAudit(ctx)
	if err != nil || rep.FirstBroken != nil || rep.Checked != 10 {
		t.Fatalf("chain: %+v %v, want 10 intact entries", rep, err)
	}
}

// TestViewsSpacedCommits: group commits start at least AuditConfig.GroupSpacing apart: views
// arriving one by one within that time of a commit wait for the next and share it (one
// transaction), each returning once committed.
func TestViewsSpacedCommits(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	_, keys := testenv.AuditKey(t)
	s := NewEnforceService(db, AuditConfig{Keys: keys, GroupSpacing: 2 * time.Second})
	for _, err := range appendViews(s, 1) {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Ten views 50 ms apart: committed as they came, they would take several commits.
	st := NewEnterpriseStore(s)
	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			errs <- st.AppendView(ctx, enforce.Actor{Name: fmt.Sprintf("viewer-%d", i), Role: "inspector"},
				enforce.AuditEvidenceView, enforce.EnterpriseSubject(testUSCC), map[string]int{"parcels": 1})
		}()
		time.Sleep(50 * time.Millisecond)
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var commits, entries int
	if err := db.Pool.QueryRow(ctx, "SELECT count(DISTINCT xmin::text), count(*) FROM audit_log WHERE seq > 1").Scan(&commits, &entries); err != nil {
		t.Fatal(err)
	}
	if commits != 1 || entries != 10 {
		t.Errorf("10 views after a commit: %d entries in %d commits, want 10 in 1", entries, commits)
	}
	if rep, err := s.VerifyAudit(ctx); err != nil || rep.FirstBroken != nil || rep.Checked != 11 {
		t.Fatalf("chain: %+v %v, want 11 intact entries", rep, err)
	}
}
