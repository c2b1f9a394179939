package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/account"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/testenv"
)

// authProcess is one API process's services on the test database, caching auth while its
// CacheAuth runs.
type authProcess struct {
	s    *EnforceService
	st   *AccountStore
	stop func() // ends CacheAuth and waits for it
}

func newAuthProcess(t *testing.T, url string, a AuditConfig) *authProcess {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	s := NewEnforceService(db, a)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.CacheAuth(ctx, func(err error) { t.Logf("auth cache: %v", err) })
	}()
	p := &authProcess{s: s, st: NewAccountStore(s), stop: func() { cancel(); <-done }}
	t.Cleanup(p.stop)
	p.waitLive(t, true)
	return p
}

// waitLive waits until the process's cache is listening (or, live false, has stopped).
func (p *authProcess) waitLive(t *testing.T, live bool) {
	t.Helper()
	eventually(t, "the auth cache listening: "+map[bool]string{true: "yes", false: "no"}[live], func() bool {
		p.s.auth.mu.Lock()
		defer p.s.auth.mu.Unlock()
		return p.s.auth.alive.IsZero() != live
	})
}

// eventually waits for cond, which a notification from another session makes true, for up to
// 20 seconds (a bound for a stalled machine, not a measure of speed).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("still not so after 20 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *authProcess) gen() uint64 {
	p.s.auth.mu.Lock()
	defer p.s.auth.mu.Unlock()
	return p.s.auth.gen
}

// heard waits until each process has heard of a change made after it gave generation gens.
func heard(t *testing.T, gens map[*authProcess]uint64) {
	t.Helper()
	for p, g := range gens {
		eventually(t, "the change's notification reaching a process", func() bool { return p.gen() > g })
	}
}

func (p *authProcess) valid(hash [32]byte) (bool, error) {
	_, err := p.st.UserByToken(context.Background(), hash, time.Now())
	if errors.Is(err, offsite.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// TestAuthCacheHonoursChanges: two API processes keep tokens' principals and enterprises'
// agencies in memory, and a change made anywhere (another process, the database owner by hand)
// reaches both: a revoked token, a disabled user, an enterprise moved to another agency are
// refused or seen by the next lookup once the commit's notification arrives; a change this
// process commits at once. Without its listening connection a process caches nothing.
func TestAuthCacheHonoursChanges(t *testing.T) {
	ctx := context.Background()
	pg := testenv.Postgres(t)
	owner, err := pgx.Connect(ctx, pg.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close(context.Background()) })
	ownerExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := owner.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// quietly runs sql with the notifications of api_tokens, users and enterprises off: a
	// change no cache hears of, to show what a process answers from memory.
	quietly := func(sql string, args ...any) {
		t.Helper()
		for _, tr := range []string{"api_tokens", "users", "enterprises"} {
			ownerExec("ALTER TABLE " + tr + " DISABLE TRIGGER " + tr + "_auth_changed")
		}
		ownerExec(sql, args...)
		for _, tr := range []string{"api_tokens", "users", "enterprises"} {
			ownerExec("ALTER TABLE " + tr + " ENABLE TRIGGER " + tr + "_auth_changed")
		}
	}
	_, keys := testenv.AuditKey(t)
	a := newAuthProcess(t, pg.URL, AuditConfig{Keys: keys})
	b := newAuthProcess(t, pg.URL, AuditConfig{Keys: keys})
	accounts := &account.Accounts{Store: a.st}
	tokA, tokB := sha256.Sum256([]byte("token-of-alice-0123456789")), sha256.Sum256([]byte("token-of-bob-0123456789"))
	if _, err := accounts.Seed(ctx, []account.SeedEntry{{Name: "alice", Role: enforce.RoleInspector, SHA256: tokA},
		{Name: "bob", Role: enforce.RoleInspector, SHA256: tokB}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*authProcess{a, b} {
		if ok, err := p.valid(tokA); !ok {
			t.Fatalf("alice's token before any change: %v", err)
		}
	}

	// Answered from memory: a change no one is told of is not seen...
	quietly("UPDATE api_tokens SET revoked_at = now() WHERE token_sha256 = $1", tokA[:])
	if ok, err := b.valid(tokA); !ok {
		t.Fatalf("the cache was not used: alice's token, revoked unannounced, is refused (%v)", err)
	}
	// ...but every change announced is: another process's, or the owner's by hand.
	ownerExec("UPDATE api_tokens SET revoked_at = now() WHERE token_sha256 = $1", tokA[:])
	for name, p := range map[string]*authProcess{"a": a, "b": b} {
		eventually(t, "process "+name+" refuses the revoked token", func() bool { ok, _ := p.valid(tokA); return !ok })
	}
	if ok, err := b.valid(tokB); !ok {
		t.Fatalf("bob's token after alice's was revoked: %v", err)
	}
	ownerExec("UPDATE users SET disabled = true WHERE name = 'bob'")
	eventually(t, "process b refuses the token of a disabled user", func() bool { ok, _ := b.valid(tokB); return !ok })

	// A change this process commits is seen by its next lookup, notified or not.
	gens := map[*authProcess]uint64{a: a.gen(), b: b.gen()}
	ownerExec("UPDATE users SET disabled = false WHERE name = 'bob'")
	heard(t, gens) // and no later notification empties a's cache
	if ok, err := a.valid(tokB); !ok {
		t.Fatalf("bob's token once his account is enabled again: %v", err)
	}
	var bobToken int64
	if err := owner.QueryRow(ctx, "SELECT id FROM api_tokens WHERE token_sha256 = $1", tokB[:]).Scan(&bobToken); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []string{"api_tokens", "users"} {
		ownerExec("ALTER TABLE " + tr + " DISABLE TRIGGER " + tr + "_auth_changed")
	}
	if _, err := accounts.RevokeToken(ctx, admin, bobToken); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.valid(tokB); ok {
		t.Error("the process that revoked bob's token still accepts it (the change is unannounced: it was to empty its own cache)")
	}
	for _, tr := range []string{"api_tokens", "users"} {
		ownerExec("ALTER TABLE " + tr + " ENABLE TRIGGER " + tr + "_auth_changed")
	}

	// An enterprise's agency, asked on every route naming it.
	MustEnterprise(t, a.s, testUSCC, "north")
	var first, second int64
	if err := owner.QueryRow(ctx, "SELECT agency_id FROM enterprises WHERE uscc = $1", testUSCC).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if err := owner.QueryRow(ctx, "SELECT nextval('agencies_id_seq')").Scan(&second); err != nil {
		t.Fatal(err)
	}
	ownerExec(`INSERT INTO agencies (id, name, level, parent_id, path) SELECT $2, 'city', 'city', id, path || $2::bigint
		FROM agencies WHERE id = $1`, first, second)
	pathOf := func(p *authProcess) []int64 {
		t.Helper()
		path, err := p.s.AgencyPathOf(ctx, "enterprise", testUSCC)
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	before := pathOf(b)
	if before[len(before)-1] != first {
		t.Fatalf("agency path %v, want it to end with %d", before, first)
	}
	quietly("UPDATE enterprises SET agency_id = $2 WHERE uscc = $1", testUSCC, second)
	if got := pathOf(b); !slices.Equal(got, before) {
		t.Fatalf("the cache was not used: agency path %v after an unannounced move, want %v", got, before)
	}
	ownerExec("UPDATE enterprises SET agency_id = $2 WHERE uscc = $1", testUSCC, second)
	eventually(t, "process b sees the enterprise's new agency", func() bool { p := pathOf(b); return p[len(p)-1] == second })

	// The listening connection is cut: nothing is cached until it listens again.
	b.stop()
	b.waitLive(t, false)
	quietly("UPDATE enterprises SET agency_id = $2 WHERE uscc = $1", testUSCC, first)
	if p := pathOf(b); p[len(p)-1] != first {
		t.Fatalf("a process that no longer listens answered from memory: %v", p)
	}
	ownerExec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", authListenerName)
	a.waitLive(t, false)
	a.waitLive(t, true) // it listens again
}

// TestAuthCacheSilentListener: entries are not used once the listening connection has not
// answered for authLiveFor (a connection that hangs may have missed notifications), nor past
// their token's expiry or authCacheTTL, nor kept when a change came between the read and the
// keeping.
func TestAuthCacheSilentListener(t *testing.T) {
	now := time.Now()
	hash := sha256.Sum256([]byte("t"))
	u := &account.User{ID: 1, Name: "u"}
	for _, tc := range []struct {
		name      string
		alive     time.Time
		expires   time.Time
		lookAt    time.Time
		answering bool // the listener answered until lookAt
		changed   bool // a change between begin and put
		wantHit   bool
	}{
		{"live", now, now.Add(time.Hour), now.Add(time.Second), true, false, true},
		{"never listened", time.Time{}, now.Add(time.Hour), now, false, false, false},
		{"listener silent since", now, now.Add(time.Hour), now.Add(authLiveFor), false, false, false},
		{"token expired since", now, now.Add(time.Second), now.Add(time.Second), true, false, false},
		{"kept too long", now, now.Add(time.Hour), now.Add(authCacheTTL), true, false, false},
		{"changed while read", now, now.Add(time.Hour), now, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &authCache{alive: tc.alive}
			g := c.begin()
			if tc.changed {
				c.invalidate()
			}
			c.putToken(g, hash, u, tc.expires, now)
			c.putAgencyPath(g, "uscc", []int64{1}, now)
			if tc.answering {
				c.answered(tc.lookAt)
			}
			_, hit := c.token(hash, tc.lookAt)
			if hit != tc.wantHit {
				t.Errorf("token: hit %v, want %v", hit, tc.wantHit)
			}
			if tc.name != "token expired since" {
				if _, hit := c.agencyPath("uscc", tc.lookAt); hit != tc.wantHit {
					t.Errorf("agency path: hit %v, want %v", hit, tc.wantHit)
				}
			}
		})
	}
}
