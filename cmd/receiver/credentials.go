package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/postgres"
)

// credentialRefresh is how often the receiver reads every logger's password hash. A changed
// password or a point removed takes effect within it (plus the server's CredentialTTL).
const credentialRefresh = 20 * time.Second

// credentials checks a logger's MN and PW against the registry of monitoring points
// (monitoring_points, managed through the API and audited) and, for an MN not registered
// there, against monitoring_credentials (set with `receiver credentials`).
//
// Both are read whole every credentialRefresh (one query each: 10,000 points take a few
// milliseconds) and frames are checked against that snapshot in memory: asked per MN, the
// answers of loggers that connected together expired together, and 10,000 loggers back after a
// restart meant 10,000 queries in two seconds while every frame waited for a handler. An MN in
// neither snapshot (a point registered since, or a stranger) is asked for, so a new point is
// accepted at once and a stranger is quarantined.
type credentials struct {
	registry *postgres.MonitoringRegistry
	fallback *postgres.MonitoringStore
	snap     atomic.Pointer[credentialSnapshot]
}

type credentialSnapshot struct {
	points, loggers map[string]string // MN → password hash
	at              time.Time
}

var _ hj212.Credentials = (*credentials)(nil)

// refresh reads both tables whole.
func (c *credentials) refresh(ctx context.Context) error {
	at := time.Now()
	points, err := c.registry.PasswordHashes(ctx)
	if err != nil {
		return err
	}
	loggers, err := c.fallback.CredentialHashes(ctx)
	if err != nil {
		return err
	}
	c.snap.Store(&credentialSnapshot{points: points, loggers: loggers, at: at})
	return nil
}

// Check implements hj212.Credentials: from the snapshot when it is fresh (younger than three
// refresh periods: a refresh failed twice, the database is asked) and holds mn.
func (c *credentials) Check(ctx context.Context, mn, pw string) (hj212.Verdict, error) {
	if s := c.snap.Load(); s != nil && time.Since(s.at) < 3*credentialRefresh {
		if h, ok := s.points[mn]; ok {
			return verdict(monitoring.VerifyPassword(h, pw)), nil
		}
		if h, ok := s.loggers[mn]; ok {
			return verdict(postgres.CredentialMatches(mn, pw, h)), nil
		}
	}
	known, ok, err := c.registry.CheckPassword(ctx, mn, pw)
	switch {
	case err != nil:
		return 0, err
	case known:
		return verdict(ok), nil
	}
	return c.fallback.Check(ctx, mn, pw)
}

func verdict(ok bool) hj212.Verdict {
	if ok {
		return hj212.VerdictOK
	}
	return hj212.VerdictWrongPW
}
