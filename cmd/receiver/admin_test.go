package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/testenv"
)

func TestAdminCommands(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	t.Setenv(envDatabaseURL, url)
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(good, []byte("mn,datatime,cn,factor,avg,flag\nMN1,2024-05-01 13:00,hour,a21026,12.5,N\nMN1,2024-05-01,day,a21026,11,N\n"), 0o644)
	os.WriteFile(bad, []byte("mn,datatime,cn,factor,avg\nMN1,2024-05-01 14:00,hour,a21026,1\nMN1,2024-05-01 15:00,hour,a21026,x\n"), 0o644)
	var out, errb bytes.Buffer
	// A bad file among good ones: refused whole, naming the file and line; nothing written.
	err = run(ctx, []string{"import-csv", good, bad}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "bad.csv: line 3") || !strings.Contains(err.Error(), `Avg "x"`) {
		t.Fatalf("import of a bad file: %v", err)
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_values"); n != 0 {
		t.Errorf("%d values written from a refused import", n)
	}
	for range 2 {
		out.Reset()
		if err := run(ctx, []string{"import-csv", good}, nil, &out, &errb); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'MN1'"); n != 2 {
		t.Errorf("%d values after importing twice, want 2", n)
	}
	// Credentials from stdin; quarantine listing.
	if err := run(ctx, []string{"credentials", "MN1"}, strings.NewReader("123456\n"), &out, &errb); err != nil {
		t.Fatal(err)
	}
	if v, err := postgres.NewMonitoringStore(db).Check(ctx, "MN1", "123456"); err != nil || v != 0 {
		t.Errorf("Check after credentials = %v, %v", v, err)
	}
	if err := run(ctx, []string{"credentials", "MN1"}, strings.NewReader(""), &out, &errb); err == nil {
		t.Error("empty password accepted")
	}
	out.Reset()
	if err := run(ctx, []string{"quarantine"}, nil, &out, &errb); err != nil || out.Len() != 0 {
		t.Errorf("quarantine on an empty database: %q, %v", out.String(), err)
	}
}
