package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/testenv"
)

// TestMigrateCommand: `worker migrate` needs the owner's URL, applies the migrations with it,
// and refuses an application URL that connects as the owner.
func TestMigrateCommand(t *testing.T) {
	ctx := context.Background()
	pg := testenv.EmptyPostgres(t)
	t.Setenv("OFFSITE_DATABASE_URL", pg.URL)
	t.Setenv("OFFSITE_DATABASE_OWNER_URL", "")
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate"}, &out, &out); err == nil || !strings.Contains(err.Error(), "OFFSITE_DATABASE_OWNER_URL is required") {
		t.Errorf("without the owner's URL: %v", err)
	}
	// verify (like serve) does not migrate: the schema is not current.
	if err := run(ctx, []string{"verify"}, &out, &out); err == nil || !strings.Contains(err.Error(), "not applied") {
		t.Errorf("verify on an unmigrated database: %v", err)
	}
	t.Setenv("OFFSITE_DATABASE_OWNER_URL", pg.OwnerURL)
	if err := run(ctx, []string{"migrate"}, &out, &out); err != nil || !strings.Contains(out.String(), "schema current") {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	t.Setenv("OFFSITE_DATABASE_URL", pg.OwnerURL)
	if err := run(ctx, []string{"migrate"}, &out, &out); err == nil || !strings.Contains(err.Error(), "could rewrite the audit log") {
		t.Errorf("the owner as the application's role: %v", err)
	}
}
