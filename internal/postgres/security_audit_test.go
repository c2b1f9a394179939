package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/minio/minio-go/v7"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/testenv"
)

// mustEnforce returns an EnforceService on db with a fresh audit key and no head store.
func mustEnforce(tb testing.TB, db *DB) *EnforceService {
	tb.Helper()
	_, keys := testenv.AuditKey(tb)
	return NewEnforceService(db, AuditConfig{Keys: keys})
}

// auditFixture is a migrated database with both roles' connections and an EnforceService
// whose heads go to a test bucket every `every` entries.
type auditFixture struct {
	db    *DB       // the application's role
	owner *pgx.Conn // the schema's owner: what a database administrator can do
	s     *EnforceService
	heads *s3.Store
	keys  *enforce.AuditKeys
}

func newAuditFixture(t *testing.T, every int64) *auditFixture {
	t.Helper()
	ctx := context.Background()
	pg := testenv.Postgres(t)
	db, err := Open(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	owner, err := pgx.Connect(ctx, pg.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close(context.Background()) })
	store, err := s3.New(testenv.S3Config(t))
	if err != nil {
		t.Fatal(err)
	}
	_, keys := testenv.AuditKey(t)
	var failed []error
	t.Cleanup(func() {
		for _, err := range failed {
			t.Errorf("checkpoint: %v", err)
		}
	})
	s := NewEnforceService(db, AuditConfig{Keys: keys, Heads: store, Every: every, CheckpointFailed: func(err error) { failed = append(failed, err) }})
	return &auditFixture{db: db, owner: owner, s: s, heads: store, keys: keys}
}

func (f *auditFixture) append(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := f.s.Audit(context.Background(), admin, enforce.AuditEvidenceView, "inspection/1", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
}

// ownerExec runs statements as the schema's owner, which may disable the triggers and grant
// itself anything on the table it owns.
func (f *auditFixture) ownerExec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.owner.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// rewrite runs fn as the owner with audit_log's triggers disabled.
func (f *auditFixture) rewrite(t *testing.T, sql string, args ...any) {
	t.Helper()
	f.ownerExec(t, `GRANT UPDATE, DELETE ON audit_log TO CURRENT_USER`)
	f.ownerExec(t, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
	f.ownerExec(t, sql, args...)
	f.ownerExec(t, `ALTER TABLE audit_log ENABLE TRIGGER USER`)
}

func (f *auditFixture) verify(t *testing.T) *enforce.AuditReport {
	t.Helper()
	rep, err := f.s.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestAppRoleCannotRewriteAudit probes audit_log as the application's role: everything but
// reading and appending is refused for want of privilege (SQLSTATE 42501), and the entries
// are the same afterwards.
func TestAppRoleCannotRewriteAudit(t *testing.T) {
	ctx := context.Background()
	f := newAuditFixture(t, 100)
	f.append(t, 5)
	if err := f.db.CheckAppRole(ctx); err != nil {
		t.Fatalf("the application's role is refused: %v", err)
	}
	for _, q := range []string{
		"UPDATE audit_log SET actor = 'mallory' WHERE seq = 3",
		"DELETE FROM audit_log WHERE seq = 5",
		"TRUNCATE audit_log",
		"ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
		"ALTER TABLE audit_log DISABLE TRIGGER USER",
		"DROP TRIGGER audit_log_no_update ON audit_log",
		"ALTER TABLE audit_log OWNER TO CURRENT_USER",
		"DROP TABLE audit_log",
		"CREATE TRIGGER sneak BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
		"UPDATE audit_anchor SET legacy_until = 1000",
		"DELETE FROM schema_migrations",
		"SET ROLE offsite",
		"CREATE TABLE public.audit_log_copy (x int)",
	} {
		t.Run(q, func(t *testing.T) {
			_, err := f.db.Pool.Exec(ctx, q)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42501" {
				t.Errorf("err = %v, want permission denied (42501)", err)
			}
		})
	}
	// GRANT by a role holding no grant option grants nothing (PostgreSQL only warns), so the
	// role still cannot update afterwards.
	t.Run("GRANT UPDATE, DELETE, TRUNCATE then UPDATE", func(t *testing.T) {
		conn, err := f.db.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		_, gerr := conn.Exec(ctx, "GRANT UPDATE, DELETE, TRUNCATE ON audit_log TO CURRENT_USER")
		var can bool
		if err := conn.QueryRow(ctx, "SELECT has_table_privilege('audit_log', 'UPDATE, DELETE, TRUNCATE')").Scan(&can); err != nil {
			t.Fatal(err)
		}
		_, uerr := conn.Exec(ctx, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
		var pe *pgconn.PgError
		if can || !errors.As(uerr, &pe) || pe.Code != "42501" {
			t.Errorf("after GRANT (err %v): privilege %v, update err %v; want none and 42501", gerr, can, uerr)
		}
	})
	if rep := f.verify(t); rep.FirstBroken != nil || rep.Checked != 5 {
		t.Errorf("after the probes: %+v, want 5 intact entries", rep)
	}
}

// TestCheckAppRoleRefusesOwner: a service given the owner's URL as its own refuses to run.
func TestCheckAppRoleRefusesOwner(t *testing.T) {
	ctx := context.Background()
	pg := testenv.Postgres(t)
	db, err := Open(ctx, pg.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CheckAppRole(ctx); err == nil || !strings.Contains(err.Error(), "owns audit_log") {
		t.Errorf("CheckAppRole as the owner: %v", err)
	}
}

// TestAuditTamperFound rewrites the chain as the owner would (triggers disabled, privileges
// granted to itself): each way is found by VerifyAudit.
func TestAuditTamperFound(t *testing.T) {
	const every = 10
	for _, tc := range []struct {
		name   string
		n      int // entries appended first
		tamper func(t *testing.T, f *auditFixture)
		seq    int64
		reason string
	}{
		{"edit a row", 25, func(t *testing.T, f *auditFixture) {
			f.rewrite(t, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 7`)
		}, 7, "was changed or its hash recomputed without the key"},
		{"edit and recompute the chain with plain SHA-256", 25, func(t *testing.T, f *auditFixture) {
			f.rewrite(t, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 7`)
			recomputeSHA256(t, f, 7, 1<<62, false)
		}, 7, "was changed or its hash recomputed without the key"},
		{"edit, recompute as unkeyed entries and move the anchor", 25, func(t *testing.T, f *auditFixture) {
			f.rewrite(t, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 7`)
			recomputeSHA256(t, f, 1, 1<<62, true)
			f.ownerExec(t, `UPDATE audit_anchor SET legacy_until = (SELECT max(seq) FROM audit_log)`)
		}, 1, "anchor was moved"},
		{"delete the last rows beyond a checkpoint", 25, func(t *testing.T, f *auditFixture) {
			f.rewrite(t, `DELETE FROM audit_log WHERE seq > 15`)
		}, 16, "entries 16 to 20 were deleted"},
		// The bound: entries after the last checkpoint (20) can be deleted unnoticed.
		{"delete the last rows after the last checkpoint", 25, func(t *testing.T, f *auditFixture) {
			f.rewrite(t, `DELETE FROM audit_log WHERE seq > 20`)
		}, 0, ""},
		{"truncate", 25, func(t *testing.T, f *auditFixture) {
			f.rewrite(t, `DELETE FROM audit_log`)
		}, 1, "entries 1 to 20 were deleted"},
		{"delete a row in the middle and renumber", 25, func(t *testing.T, f *auditFixture) {
			f.rewrite(t, `DELETE FROM audit_log WHERE seq = 12`)
			f.rewrite(t, `UPDATE audit_log SET seq = seq - 1 WHERE seq > 12`)
		}, 12, "prev_hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAuditFixture(t, every)
			f.append(t, tc.n)
			if rep := f.verify(t); rep.FirstBroken != nil || rep.Checked != int64(tc.n) || rep.Checkpoint == nil || rep.Checkpoint.Seq != 20 {
				t.Fatalf("before tampering: %+v (checkpoint %+v), want %d intact entries checked against the head of entry 20", rep, rep.Checkpoint, tc.n)
			}
			tc.tamper(t, f)
			b := f.verify(t).FirstBroken
			if tc.seq == 0 {
				if b != nil {
					t.Errorf("break = %+v, want none", b)
				}
				return
			}
			if b == nil || b.Seq != tc.seq || !strings.Contains(b.Reason, tc.reason) {
				t.Errorf("break = %+v, want seq %d with %q", b, tc.seq, tc.reason)
			}
		})
	}
}

func testAt(i int) time.Time { return time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC) }

// recomputeSHA256 rewrites the entries from seq `from` to `to` with the unkeyed hash,
// chained, as someone without the key would (unkeyed also clears their key ids), and links
// the later ones to them, which is all that can be done to those without the key.
func recomputeSHA256(t *testing.T, f *auditFixture, from, to int64, unkeyed bool) {
	t.Helper()
	ctx := context.Background()
	rows, err := f.owner.Query(ctx, "SELECT "+auditColumns+" FROM audit_log ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	var es []*enforce.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		if e.Seq < from {
			continue
		}
		if i > 0 {
			e.PrevHash = es[i-1].Hash
		}
		if e.Seq <= to {
			if unkeyed {
				e.KeyID = ""
			}
			e.Hash = e.ComputeHash()
		}
		f.rewrite(t, `UPDATE audit_log SET prev_hash = $2, hash = $3, key_id = NULLIF($4, '') WHERE seq = $1`, e.Seq, e.PrevHash, e.Hash, e.KeyID)
	}
}

// TestAuditLegacyChainAnchored: entries written unkeyed before the migration stay valid; the
// first keyed entry chains to them and is checkpointed at once, so rewriting them afterwards,
// even with their hashes recomputed, is found.
func TestAuditLegacyChainAnchored(t *testing.T) {
	ctx := context.Background()
	f := newAuditFixture(t, 100)
	// Three entries as the unkeyed code wrote them, and the anchor the migration would record.
	var prev *enforce.AuditEntry
	for i := 1; i <= 3; i++ {
		e := &enforce.AuditEntry{Seq: int64(i), At: testAt(i), Actor: "old", Role: "admin", Action: "legacy", Subject: "s", Detail: "{}", PrevHash: enforce.GenesisHash}
		if prev != nil {
			e.PrevHash = prev.Hash
		}
		e.Hash = e.ComputeHash()
		f.ownerExec(t, `INSERT INTO audit_log (seq, at, actor, role, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.Seq, e.At, e.Actor, e.Role, e.Action, e.Subject, e.Detail, e.PrevHash, e.Hash)
		prev = e
	}
	f.ownerExec(t, `UPDATE audit_anchor SET legacy_until = 3`)
	if rep := f.verify(t); rep.FirstBroken != nil || rep.Checked != 3 || rep.Checkpoint != nil {
		t.Fatalf("legacy chain: %+v", rep)
	}
	f.append(t, 2)
	rep := f.verify(t)
	if rep.FirstBroken != nil || rep.Checked != 5 || rep.Checkpoint == nil || rep.Checkpoint.Seq != 4 || rep.Checkpoint.LegacyUntil != 3 {
		t.Fatalf("after the first keyed entries: %+v (checkpoint %+v)", rep, rep.Checkpoint)
	}
	f.rewrite(t, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`)
	recomputeSHA256(t, f, 2, 3, true)
	if b := f.verify(t).FirstBroken; b == nil || b.Seq != 4 {
		t.Errorf("legacy entry rewritten and rehashed: break %+v, want at entry 4 (its HMAC covers the old head)", b)
	}
	var n int
	if err := f.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE key_id IS NOT NULL").Scan(&n); err != nil || n != 2 {
		t.Errorf("keyed entries: %d, %v", n, err)
	}
}

// TestAuditCheckpoints: a head is written on the first entry and every `every` entries, never
// overwritten, and one checkpoint is refused when the chain no longer reaches the last one.
func TestAuditCheckpoints(t *testing.T) {
	ctx := context.Background()
	f := newAuditFixture(t, 4)
	f.append(t, 9)
	var keys []string
	for obj := range f.heads.Client.ListObjects(ctx, f.heads.Evidence, minio.ListObjectsOptions{Prefix: s3.AuditHeadPrefix}) {
		keys = append(keys, strings.TrimPrefix(obj.Key, s3.AuditHeadPrefix))
	}
	want := []string{fmt.Sprintf("%020d.json", 1), fmt.Sprintf("%020d.json", 4), fmt.Sprintf("%020d.json", 8)}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("heads %v, want %v", keys, want)
	}
	// The nightly checkpoint: the newest entry.
	h, err := f.s.CheckpointAudit(ctx)
	if err != nil || h == nil || h.Seq != 9 || enforce.CheckAuditHead(f.keys, h) != "" {
		t.Fatalf("CheckpointAudit = %+v, %v", h, err)
	}
	// A head differing from the stored one is refused.
	forged := *h
	forged.Hash = strings.Repeat("0", 64)
	if err := f.heads.PutAuditHead(ctx, &forged); err == nil {
		t.Error("a different head of entry 9 overwrote the stored one")
	}
	// After a deletion past the last head, no new head covers it up.
	f.rewrite(t, `DELETE FROM audit_log WHERE seq > 6`)
	if _, err := f.s.CheckpointAudit(ctx); err == nil || !strings.Contains(err.Error(), "entries were deleted") {
		t.Errorf("checkpoint after deletion: %v", err)
	}
	// A head signed with another key is not ours.
	_, other := testenv.AuditKey(t)
	e := &enforce.AuditEntry{At: testAt(1), Actor: "x", Role: "admin", Action: "x", Subject: "x", Detail: "{}"}
	e.Seal(&enforce.AuditEntry{Seq: 49, Hash: enforce.GenesisHash}, other.Current)
	fake, err := enforce.NewAuditHead(other, e, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.heads.PutAuditHead(ctx, fake); err != nil {
		t.Fatal(err)
	}
	if b := f.verify(t).FirstBroken; b == nil || !strings.Contains(b.Reason, "unknown audit key") {
		t.Errorf("head signed with a foreign key: break %+v", b)
	}
}
