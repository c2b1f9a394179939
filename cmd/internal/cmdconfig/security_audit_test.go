package cmdconfig

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/testenv"
)

func TestParseAuditKeys(t *testing.T) {
	env, _ := testenv.AuditKey(t)
	old, _ := testenv.AuditKey(t)
	file := filepath.Join(t.TempDir(), "audit.key")
	if err := os.WriteFile(file, []byte("# current first\n"+env+"\n"+old+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(env, ":")
	oldID, _, _ := strings.Cut(old, ":")
	for name, vars := range map[string]map[string]string{
		"variable": {EnvAuditKey: env + "," + old},
		"file":     {EnvAuditKeyFile: file},
	} {
		c, err := Parse(lookup(vars))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, ok := c.AuditKeys.Key(oldID); c.AuditKeys.Current.ID != id || !ok {
			t.Errorf("%s: current key %q, old key kept %v", name, c.AuditKeys.Current.ID, ok)
		}
	}
	_, err := Parse(lookup(map[string]string{EnvAuditKey: env, EnvAuditKeyFile: file}))
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both set: %v", err)
	}
	if _, err := (&Config{}).Audit(nil, slog.Default()); err == nil || !strings.Contains(err.Error(), EnvAuditKey) {
		t.Errorf("no key: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), env[len(id)+1:]) {
		t.Errorf("error %q shows the secret", err)
	}
}

// TestOpenStoresRoles: the binaries migrate only with the owner's URL, refuse a schema that is
// not current, and refuse to run as a role that could rewrite the audit log.
func TestOpenStoresRoles(t *testing.T) {
	ctx := context.Background()
	s3cfg := testenv.S3Config(t)
	pg := testenv.EmptyPostgres(t)
	cfg := &Config{DatabaseURL: pg.URL, S3Endpoint: s3cfg.Endpoint, S3AccessKey: s3cfg.AccessKey, S3SecretKey: s3cfg.SecretKey,
		S3Region: s3cfg.Region, CapturesBucket: s3cfg.CapturesBucket, EvidenceBucket: s3cfg.EvidenceBucket}
	if _, _, err := cfg.OpenStores(ctx); err == nil || !strings.Contains(err.Error(), EnvDatabaseOwnerURL) || !strings.Contains(err.Error(), "not applied") {
		t.Errorf("unmigrated, no owner URL: %v", err)
	}
	cfg.DatabaseOwnerURL = pg.OwnerURL
	db, _, err := cfg.OpenStores(ctx)
	if err != nil {
		t.Fatalf("with the owner's URL: %v", err)
	}
	db.Close()
	cfg.DatabaseURL = pg.OwnerURL
	if _, _, err := cfg.OpenStores(ctx); err == nil || !strings.Contains(err.Error(), "could rewrite the audit log") || !strings.Contains(err.Error(), EnvDatabaseURL) {
		t.Errorf("the owner as the application's role: %v", err)
	}
}
