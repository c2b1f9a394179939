// Package testenv gives tests the real services: a fresh PostgreSQL database with PostGIS,
// a Redis database flushed for the test, and buckets of their own in the S3 gateway.
//
// When a service is unreachable a test is skipped, except when CI=true: a green CI run must
// mean the tests ran. Addresses come from the same OFFSITE_* variables as the binaries.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/redis/go-redis/v9"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/postgres/migrations"
	"github.com/offsite/offsite/internal/s3"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// unavailable skips the test, or fails it on CI.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s (CI=true: services must be running; `make services` starts them)", msg)
	}
	tb.Skipf("%s; run `make services` to start it", msg)
}

// Suffix returns a short random lowercase suffix for names a test creates.
func Suffix() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// PostgresURL creates a database from the offsite_template database (which has PostGIS),
// migrates it as the owner, and returns the URL postgres.Open takes: the application's role
// (offsite_app) on it. The database is dropped when the test ends.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	return Postgres(tb).URL
}

// PostgresDB is a test database: URL connects as the application's role, OwnerURL as the role
// that owns the schema (and can do anything to it, as a database administrator could).
type PostgresDB struct {
	URL, OwnerURL string
}

// Postgres creates a migrated database of the test's own, as PostgresURL does, and returns
// both its URLs. The owner comes from OFFSITE_TEST_DATABASE_URL, the application's role
// from OFFSITE_TEST_DATABASE_APP_URL (their database names are replaced).
func Postgres(tb testing.TB) PostgresDB {
	tb.Helper()
	owner := createDatabase(tb)
	return PostgresDB{URL: MigrateURL(tb, owner), OwnerURL: owner}
}

// createDatabase creates a database from offsite_template, dropped when the test ends, and
// returns the owner's URL of it.
func createDatabase(tb testing.TB) string {
	tb.Helper()
	admin := env("OFFSITE_TEST_DATABASE_URL", "postgres://offsite:offsite@127.0.0.1:5432/offsite_test?sslmode=disable")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		unavailable(tb, "postgres at OFFSITE_TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	name := "offsite_t_" + Suffix()
	// Creating from a template fails while another session is connected to the template;
	// retry briefly when parallel tests collide.
	for i := 0; ; i++ {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE offsite_template")
		if err == nil || i == 20 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		unavailable(tb, "create test database from offsite_template: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		// The application's role's sessions end a moment after its pool is closed; without
		// membership in that role the owner cannot end them itself.
		for i := 0; ; i++ {
			_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			if err == nil || i == 50 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// MigrateURL applies the migrations to the database at ownerURL, as its owner, and returns the
// URL of the application's role (user and password of OFFSITE_TEST_DATABASE_APP_URL) on the
// same server and database.
func MigrateURL(tb testing.TB, ownerURL string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := migrations.ApplyURL(ctx, ownerURL); err != nil {
		tb.Fatalf("migrate test database: %v", err)
	}
	return appURL(tb, ownerURL)
}

// EmptyPostgres creates a database as Postgres does but leaves it unmigrated.
func EmptyPostgres(tb testing.TB) PostgresDB {
	tb.Helper()
	owner := createDatabase(tb)
	return PostgresDB{URL: appURL(tb, owner), OwnerURL: owner}
}

// appURL is ownerURL with the user and password of OFFSITE_TEST_DATABASE_APP_URL.
func appURL(tb testing.TB, ownerURL string) string {
	tb.Helper()
	app, err := url.Parse(env("OFFSITE_TEST_DATABASE_APP_URL", "postgres://offsite_app:offsite_app@127.0.0.1:5432/offsite_test?sslmode=disable"))
	if err != nil {
		tb.Fatalf("OFFSITE_TEST_DATABASE_APP_URL: %v", err)
	}
	u, err := url.Parse(ownerURL)
	if err != nil {
		tb.Fatal(err)
	}
	u.User = app.User
	return u.String()
}

// AuditKey returns a fresh audit key, as OFFSITE_AUDIT_KEY takes it, and parsed.
func AuditKey(tb testing.TB) (env string, keys *enforce.AuditKeys) {
	tb.Helper()
	env, err := enforce.NewAuditKey("test-" + Suffix())
	if err == nil {
		keys, err = enforce.ParseAuditKeys(env)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return env, keys
}

// Redis databases 1..15 are shared by test processes (go test runs packages in parallel): a
// test takes one by setting lockKey in it with NX, flushes it, and gives it back at cleanup.
// Database 0 is left to development.
const (
	lockKey = "offsite:testenv:lock"
	lockTTL = 30 * time.Minute
)

// Redis returns the connection options of a Redis database of this test's own, flushed.
func Redis(tb testing.TB) asynq.RedisClientOpt {
	tb.Helper()
	addr := env("OFFSITE_REDIS_ADDR", "127.0.0.1:6379")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token := Suffix() + Suffix()
	for {
		for db := 1; db <= 15; db++ {
			rc := redis.NewClient(&redis.Options{Addr: addr, DB: db})
			ok, err := rc.SetNX(ctx, lockKey, token, lockTTL).Result()
			if err != nil {
				rc.Close()
				unavailable(tb, "redis at %s: %v", addr, err)
			}
			if !ok {
				rc.Close()
				continue
			}
			// Flush everything but the lock.
			keys, err := rc.Keys(ctx, "*").Result()
			if err == nil {
				for _, k := range keys {
					if k != lockKey {
						if err = rc.Del(ctx, k).Err(); err != nil {
							break
						}
					}
				}
			}
			rc.Close()
			if err != nil {
				tb.Fatalf("flush redis db %d: %v", db, err)
			}
			tb.Cleanup(func() {
				rc := redis.NewClient(&redis.Options{Addr: addr, DB: db})
				defer rc.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if v, _ := rc.Get(ctx, lockKey).Result(); v == token {
					rc.Del(ctx, lockKey)
				}
			})
			return asynq.RedisClientOpt{Addr: addr, DB: db}
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("redis at %s: no free test database in 1..15 for 10s", addr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// S3Config returns the gateway's configuration with a captures, an evidence and a proofs
// bucket made for this test; all are emptied and removed when it ends.
func S3Config(tb testing.TB) s3.Config {
	tb.Helper()
	sfx := Suffix()
	cfg := s3.Config{
		Endpoint:       env("OFFSITE_S3_ENDPOINT", "127.0.0.1:7070"),
		AccessKey:      env("OFFSITE_S3_ACCESS_KEY", "offsite"),
		SecretKey:      env("OFFSITE_S3_SECRET_KEY", "offsite-secret"),
		Region:         env("OFFSITE_S3_REGION", "us-east-1"),
		CapturesBucket: "t-captures-" + sfx,
		EvidenceBucket: "t-evidence-" + sfx,
		ProofsBucket:   "t-proofs-" + sfx,
	}
	st, err := s3.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := st.Client.ListBuckets(ctx); err != nil {
		unavailable(tb, "S3 gateway at %s: %v", cfg.Endpoint, err)
	}
	if err := st.EnsureBuckets(ctx); err != nil {
		tb.Fatalf("create test buckets: %v", err)
	}
	tb.Cleanup(func() { RemoveBuckets(tb, st.Client, cfg.CapturesBucket, cfg.EvidenceBucket, cfg.ProofsBucket) })
	return cfg
}

// RemoveBuckets empties and removes buckets.
func RemoveBuckets(tb testing.TB, c *minio.Client, buckets ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, b := range buckets {
		for obj := range c.ListObjects(ctx, b, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err != nil {
				tb.Errorf("list %s: %v", b, obj.Err)
				break
			}
			if err := c.RemoveObject(ctx, b, obj.Key, minio.RemoveObjectOptions{}); err != nil {
				tb.Errorf("remove %s/%s: %v", b, obj.Key, err)
			}
		}
		if err := c.RemoveBucket(ctx, b); err != nil {
			tb.Errorf("remove bucket %s: %v", b, err)
		}
	}
}

// SharedData returns the absolute path of shared/data/rel (the project's read-only test data,
// beside the repository), found by walking up from the package directory. It skips the test
// when the data is absent, except under CI=true, where it fails.
func SharedData(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("shared data %s not found above the package directory", rel)
	}
	tb.Skipf("shared data %s not found; skipping", rel)
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago, for a server the test
// starts.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
