package hj212

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// registry is a table of credentials that counts its lookups.
type registry struct {
	mu      sync.Mutex
	verdict Verdict
	err     error
	calls   int
}

func (r *registry) Check(ctx context.Context, mn, pw string) (Verdict, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	return r.verdict, r.err
}

func (r *registry) set(v Verdict, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verdict, r.err = v, err
}

func (r *registry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// TestCredentialCache: an answer is used for less than 1.1 TTL and never after; in the last
// quarter of its life the first frame renews it in the background and is answered from the
// cache; a renewal brings a changed verdict; expiries of loggers that connected together are
// spread.
func TestCredentialCache(t *testing.T) {
	const ttl = time.Minute
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	now := t0
	reg := &registry{verdict: VerdictOK}
	s := &Server{Config: Config{CredentialTTL: ttl}, Credentials: reg, Now: func() time.Time { return now }}
	s.start()
	check := func(want Verdict) {
		t.Helper()
		v, err := s.check(ctx, "MN1", "pw")
		if err != nil || v != want {
			t.Fatalf("at %v: check = %v, %v; want %v", now.Sub(t0), v, err, want)
		}
	}
	check(VerdictOK)
	if reg.count() != 1 {
		t.Fatalf("first check: %d lookups, want 1", reg.count())
	}
	now = t0.Add(ttl / 2)
	check(VerdictOK)
	if reg.count() != 1 {
		t.Fatalf("within the TTL: %d lookups, want 1 (cached)", reg.count())
	}
	// The PW is changed in the registry; past 0.85 TTL the entry is in its last quarter
	// whatever its jitter: this frame is answered from the cache, and renews it.
	reg.set(VerdictWrongPW, nil)
	now = t0.Add(ttl * 86 / 100)
	check(VerdictOK)
	s.wg.Wait()
	if reg.count() != 2 {
		t.Fatalf("in the last quarter: %d lookups, want 2 (one renewal)", reg.count())
	}
	check(VerdictWrongPW)
	if reg.count() != 2 {
		t.Fatalf("after the renewal: %d lookups, want 2", reg.count())
	}
	// The registry fails; more than 1.1 TTL after the renewal the answer is not used.
	reg.set(VerdictOK, errors.New("registry down"))
	now = now.Add(ttl * 111 / 100)
	if _, err := s.check(ctx, "MN1", "pw"); err == nil {
		t.Fatalf("at %v: an answer older than 1.1 TTL was used", now.Sub(t0))
	}

	// 1,000 loggers checked in the same instant do not all expire in the same second.
	reg.set(VerdictOK, nil)
	for i := range 1000 {
		if _, err := s.check(ctx, "MN"+string(rune('A'+i%26))+string(rune('A'+i/26)), "pw"); err != nil {
			t.Fatal(err)
		}
	}
	seconds := map[int64]int{}
	s.mu.Lock()
	for k, e := range s.cache {
		if k != "MN1\x00pw" {
			seconds[e.expires.Unix()]++
		}
	}
	s.mu.Unlock()
	most := 0
	for _, n := range seconds {
		most = max(most, n)
	}
	// Spread evenly over the 12 s of ±10% of a minute: some 83 a second.
	if most > 200 || len(seconds) < 10 {
		t.Fatalf("1,000 answers expire in %d distinct seconds, %d in the same (want them spread over ±10%% of %v)", len(seconds), most, ttl)
	}
}
