package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/internal/postgres"
)

// runMigrate is `worker migrate`: apply pending migrations as the schema's owner
// (OFFSITE_DATABASE_OWNER_URL), then check that the application's role (OFFSITE_DATABASE_URL)
// sees a current schema and cannot rewrite the audit log. A deployment runs it once per
// release, so that the api and workers never hold the owner's password.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: worker migrate\n\nApplies pending schema migrations as the schema's owner (%s), then checks that the\napplication's role (%s) sees a current schema and cannot rewrite the audit log.\n", cmdconfig.EnvDatabaseOwnerURL, cmdconfig.EnvDatabaseURL)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected arguments %q", fs.Args())
	}
	cfg, err := cmdconfig.FromEnv()
	if err != nil {
		return err
	}
	if cfg.DatabaseOwnerURL == "" {
		return fmt.Errorf("migrate: %s is required: the URL of the role that owns the schema", cmdconfig.EnvDatabaseOwnerURL)
	}
	if err := cfg.Migrate(ctx); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err == nil {
		err = db.CheckAppRole(ctx)
		db.Close()
	}
	if err != nil {
		return fmt.Errorf("migrated, but the application's role (%s): %w", cmdconfig.EnvDatabaseURL, err)
	}
	fmt.Fprintln(stdout, "migrate: schema current; the application's role may read and append to the audit log, not rewrite it")
	return nil
}
