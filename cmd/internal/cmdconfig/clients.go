package cmdconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/s3"
)

// S3 returns the object storage configuration.
func (c *Config) S3() s3.Config {
	return s3.Config{
		Endpoint: c.S3Endpoint, AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey,
		Region: c.S3Region, UseTLS: c.S3UseTLS,
		CapturesBucket: c.CapturesBucket, EvidenceBucket: c.EvidenceBucket,
		ProofsBucket: c.ProofsBucket, SidecarPrefix: c.SidecarPrefix,
	}
}

// Raster returns the GDAL environment: the same object storage, and only the captures bucket
// may be opened.
func (c *Config) Raster() raster.Env {
	return raster.Env{
		S3: raster.S3Config{
			Endpoint: c.S3Endpoint, AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey,
			Region: c.S3Region, UseTLS: c.S3UseTLS,
		},
		AllowedBuckets: []string{c.CapturesBucket},
		Limits:         c.RasterLimits,
	}
}

// Redis returns the asynq connection options: through Sentinels (RedisSentinels) to the
// master RedisMaster, to a Redis Cluster (RedisCluster), or to the one server RedisAddr.
func (c *Config) Redis() asynq.RedisConnOpt {
	switch {
	case len(c.RedisSentinels) > 0:
		return asynq.RedisFailoverClientOpt{MasterName: c.RedisMaster, SentinelAddrs: c.RedisSentinels,
			SentinelPassword: c.RedisSentinelPassword, Password: c.RedisPassword, DB: c.RedisDB}
	case len(c.RedisCluster) > 0:
		return asynq.RedisClusterClientOpt{Addrs: c.RedisCluster, Password: c.RedisPassword}
	}
	return asynq.RedisClientOpt{Addr: c.RedisAddr, DB: c.RedisDB, Password: c.RedisPassword}
}

// RasterFor is Raster with the worker's scene cache directory (dir, "" for none) as a place
// whose files GDAL may open.
func (c *Config) RasterFor(dir string) raster.Env {
	env := c.Raster()
	if dir != "" {
		env.LocalDirs = []string{dir}
	}
	return env
}

// RedisPing checks that Redis answers.
func RedisPing(ctx context.Context, opt asynq.RedisConnOpt) error {
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	_, err := insp.Queues()
	return err
}

// AsynqLogger adapts slog to asynq.Logger.
type AsynqLogger struct{ L *slog.Logger }

func (a AsynqLogger) Debug(args ...any) { a.L.Debug(sprint(args)) }
func (a AsynqLogger) Info(args ...any)  { a.L.Info(sprint(args)) }
func (a AsynqLogger) Warn(args ...any)  { a.L.Warn(sprint(args)) }
func (a AsynqLogger) Error(args ...any) { a.L.Error(sprint(args)) }
func (a AsynqLogger) Fatal(args ...any) { a.L.Error(sprint(args), "fatal", true) }

func sprint(args []any) string {
	if len(args) == 1 {
		if s, ok := args[0].(string); ok {
			return s
		}
	}
	return fmt.Sprint(args...)
}

// Migrate applies pending migrations as the owner (DatabaseOwnerURL); without that URL it
// does nothing.
func (c *Config) Migrate(ctx context.Context) error {
	if c.DatabaseOwnerURL == "" {
		return nil
	}
	if err := postgres.Migrate(ctx, c.DatabaseOwnerURL); err != nil {
		return fmt.Errorf("migrate the database (%s): %w", EnvDatabaseOwnerURL, err)
	}
	return nil
}

// Audit returns how the enforcement service keys and checkpoints its audit chain: with the
// configured keys, heads in store's evidence bucket every AuditCheckpointEvery entries, and
// checkpoint failures logged. It fails when no key is configured.
func (c *Config) Audit(store *s3.Store, log *slog.Logger) (postgres.AuditConfig, error) {
	if c.AuditKeys == nil {
		return postgres.AuditConfig{}, fmt.Errorf("config: %s or %s is required: the audit log is sealed with a key kept outside the database (make one with: echo \"k1:$(openssl rand -hex 32)\" > audit.key)", EnvAuditKey, EnvAuditKeyFile)
	}
	return postgres.AuditConfig{
		Keys: c.AuditKeys, Heads: store, Every: int64(c.AuditCheckpointEvery),
		CheckpointFailed: func(err error) { log.Error("audit checkpoint", "err", err) },
	}, nil
}

// OpenStores connects to PostgreSQL and to object storage (creating the buckets when
// missing), as both binaries do at start. Pending migrations are applied as the owner when
// DatabaseOwnerURL is set; the connection it returns is the application's role's, refused if
// that role could rewrite the audit log.
func (c *Config) OpenStores(ctx context.Context) (*postgres.DB, *s3.Store, error) {
	if err := c.Migrate(ctx); err != nil {
		return nil, nil, err
	}
	db, err := postgres.Open(ctx, c.DatabaseURL)
	if errors.Is(err, postgres.ErrSchemaNotCurrent) {
		err = fmt.Errorf("%w; set %s to the owner's URL to apply them at start, or run `worker migrate` with it", err, EnvDatabaseOwnerURL)
	}
	if err == nil {
		if err = db.CheckAppRole(ctx); err != nil {
			db.Close()
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("database (%s): %w", EnvDatabaseURL, err)
	}
	store, err := s3.New(c.S3())
	if err == nil {
		err = store.EnsureBuckets(ctx)
	}
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("object storage at %s (%s): %w", c.S3Endpoint, EnvS3Endpoint, err)
	}
	return db, store, nil
}

// Province reads the province's enforcement configuration from ProvinceConfig; "" means the
// defaults documented in internal/enforce.
func (c *Config) Province() (enforce.Config, error) {
	if c.ProvinceConfig == "" {
		return enforce.DefaultConfig(), nil
	}
	f, err := os.Open(c.ProvinceConfig)
	if err != nil {
		return enforce.Config{}, fmt.Errorf("%s: %w", EnvProvinceConfig, err)
	}
	defer f.Close()
	cfg, err := enforce.ReadConfig(f)
	if err != nil {
		return enforce.Config{}, fmt.Errorf("%s: %w", EnvProvinceConfig, err)
	}
	return cfg, nil
}
