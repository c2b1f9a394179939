package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/offsite/offsite/internal/account"
)

// Every API request with a token looked the token up (with its user and agency) and, on a
// route naming an enterprise, that enterprise's agency: two round trips before the request's
// own work, a third of the evidence route's database time. authCache keeps both answers in
// the process for a short while, and only while a connection of its own is listening on the
// channel that migration 0085's triggers notify at the commit of every change to tokens,
// users, agencies and enterprises' agencies: such a change empties the cache of every API
// process. A revoked token is refused by the next request; a listening connection that breaks
// stops the caching within authLiveFor.

// authChannel is the channel migration 0085's triggers notify.
const authChannel = "offsite_auth"

// authListenerName is the application_name of the listening connection (pg_stat_activity).
const authListenerName = "offsite auth cache"

const (
	// authCacheTTL bounds how long an answer is kept. Noting a token's use (at most once a
	// minute) happens when its answer is looked up again.
	authCacheTTL = 30 * time.Second
	// authPingEvery is how long the listening connection may stay silent before it is
	// checked, and how long the check may take: it answers at least every 2×authPingEvery.
	authPingEvery = 2 * time.Second
	// authLiveFor is how long after its listening connection last answered the cache is used:
	// a change whose notification a broken connection lost is honoured within it.
	authLiveFor = 5 * time.Second
	// authCacheMax bounds the entries of each map; past it the map starts again empty.
	authCacheMax = 20000
)

type authCache struct {
	mu sync.Mutex
	// alive is when the listening connection last answered (zero: not listening): the cache
	// is used until alive+authLiveFor.
	alive time.Time
	// gen counts the changes notified: an answer read before one is not kept after it.
	gen      uint64
	tokens   map[[32]byte]cachedToken
	agencies map[string]cachedPath // enterprise USCC → its agency's path
}

type cachedToken struct {
	user    account.User
	expires time.Time // the token's own expiry
	kept    time.Time
}

type cachedPath struct {
	path []int64
	kept time.Time
}

// begin returns the generation to give put once the answer is read.
func (c *authCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// usable reports whether entries may be used or kept now. c.mu is held.
func (c *authCache) usable(now time.Time) bool {
	return !c.alive.IsZero() && now.Sub(c.alive) < authLiveFor
}

// token returns a copy of the user of the token hash when it is cached, not expired and the
// cache is live.
func (c *authCache) token(hash [32]byte, now time.Time) (*account.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[hash]
	if !ok || !c.usable(now) || !now.Before(t.expires) || now.Sub(t.kept) >= authCacheTTL {
		return nil, false
	}
	u := t.user
	return &u, true
}

func (c *authCache) putToken(gen uint64, hash [32]byte, u *account.User, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || !c.usable(now) {
		return
	}
	if c.tokens == nil || len(c.tokens) >= authCacheMax {
		c.tokens = map[[32]byte]cachedToken{}
	}
	c.tokens[hash] = cachedToken{user: *u, expires: expires, kept: now}
}

func (c *authCache) agencyPath(uscc string, now time.Time) ([]int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.agencies[uscc]
	if !ok || !c.usable(now) || now.Sub(p.kept) >= authCacheTTL {
		return nil, false
	}
	return p.path, true
}

func (c *authCache) putAgencyPath(gen uint64, uscc string, path []int64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || !c.usable(now) {
		return
	}
	if c.agencies == nil || len(c.agencies) >= authCacheMax {
		c.agencies = map[string]cachedPath{}
	}
	c.agencies[uscc] = cachedPath{path: path, kept: now}
}

// changed empties the cache and notes the listening connection alive at now (zero: the
// connection is gone; nothing is cached until it listens again).
func (c *authCache) changed(alive time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.emptyLocked()
	c.alive = alive
}

// invalidate empties the cache after this process committed a change that may bear on it:
// its requests see the change at once, not when its notification arrives.
func (c *authCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.emptyLocked()
}

// emptyLocked drops every entry and starts a new generation, so that an answer read before
// now is not kept. c.mu is held.
func (c *authCache) emptyLocked() {
	c.gen++
	c.tokens, c.agencies = nil, nil
}

// answered notes the listening connection alive at now.
func (c *authCache) answered(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.alive.IsZero() {
		c.alive = now
	}
}

// CacheAuth keeps the principals of API tokens and the agencies of enterprises in memory
// while it runs (until ctx is done), listening (Listen) on a connection of its own for the
// changes that empty the cache. When that connection fails, nothing is cached until it
// listens again; failed is told of each failure (nil: ignored) and the connection is dialled
// again with backoff. Without CacheAuth every lookup reads the database.
func (s *EnforceService) CacheAuth(ctx context.Context, failed func(error)) {
	s.db.Listen(ctx, Listener{
		Channels:  []string{authChannel},
		AppName:   authListenerName,
		PingEvery: authPingEvery,
		// Whatever was read before the connection listens may predate a change: start empty.
		Listening: func() { s.auth.changed(time.Now()) },
		Notified:  func(context.Context, *pgconn.Notification) { s.auth.changed(time.Now()) },
		Answered:  func() { s.auth.answered(time.Now()) },
		Lost: func(err error) {
			s.auth.changed(time.Time{})
			if failed != nil {
				failed(fmt.Errorf("auth cache off until the database notifies again: %w", err))
			}
		},
	})
	s.auth.changed(time.Time{})
}
