package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/internal/enforce"
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
