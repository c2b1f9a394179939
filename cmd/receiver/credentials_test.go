package main

import (
	"context"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/testenv"
)

// TestCredentialSnapshot: after a refresh, registered points and loggers are checked from
// memory (a row deleted meanwhile still answers, until the next refresh); an MN not in the
// snapshot is asked for (a point registered since is accepted at once, a stranger unknown).
func TestCredentialSnapshot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pg := testenv.Postgres(t)
	db, err := postgres.Open(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owner, err := postgres.Open(ctx, pg.OwnerURL) // deletes what the application's role may not
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	store := postgres.NewMonitoringStore(db)
	c := &credentials{registry: postgres.NewMonitoringRegistry(postgres.NewEnforceService(db, postgres.AuditConfig{})), fallback: store}
	addPoint := func(mn, pw string) {
		t.Helper()
		hash, err := monitoring.HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO enterprises (uscc, name, industry) VALUES ('91320500MA1N2B3C4L', 'plant', 'steel') ON CONFLICT DO NOTHING`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO monitoring_points (mn, uscc, outlet, geom, pw_hash)
			VALUES ($1, '91320500MA1N2B3C4L', 'DA00'||length($1), ST_SetSRID(ST_MakePoint(120.6, 31.3), 4326), $2)`, mn, hash); err != nil {
			t.Fatal(err)
		}
	}
	addPoint("SNAP001", "654321")
	if err := store.SetCredential(ctx, "SNAPLOG1", "111111"); err != nil {
		t.Fatal(err)
	}
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// Gone from the database, still in the snapshot: answered from memory.
	if _, err := owner.Pool.Exec(ctx, `DELETE FROM monitoring_points WHERE mn = 'SNAP001'; DELETE FROM monitoring_credentials WHERE mn = 'SNAPLOG1'`); err != nil {
		t.Fatal(err)
	}
	addPoint("SNAP0002", "222222") // registered after the refresh
	check := func(mn, pw string, want hj212.Verdict) {
		t.Helper()
		v, err := c.Check(ctx, mn, pw)
		if err != nil || v != want {
			t.Errorf("Check(%s, %s) = %v, %v; want %v", mn, pw, v, err, want)
		}
	}
	check("SNAP001", "654321", hj212.VerdictOK)
	check("SNAP001", "000000", hj212.VerdictWrongPW)
	check("SNAPLOG1", "111111", hj212.VerdictOK)
	check("SNAPLOG1", "000000", hj212.VerdictWrongPW)
	check("SNAP0002", "222222", hj212.VerdictOK)
	check("SNAP0002", "000000", hj212.VerdictWrongPW)
	check("STRANGER", "000000", hj212.VerdictUnknownMN)
	// The next refresh sees the deletions.
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	check("SNAP001", "654321", hj212.VerdictUnknownMN)
	check("SNAPLOG1", "111111", hj212.VerdictUnknownMN)
	check("SNAP0002", "222222", hj212.VerdictOK)
}
