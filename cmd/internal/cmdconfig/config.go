// Package cmdconfig reads the configuration shared by cmd/api and cmd/worker from environment
// variables and builds the clients both binaries need.
package cmdconfig

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/s3"
)

// Config is Offsite's configuration. Every field is read from the environment variable named
// in its doc comment; the default matches the local services that `scripts/services.sh` starts.
type Config struct {
	// ListenAddr is where cmd/api serves HTTP. OFFSITE_LISTEN_ADDR, default "127.0.0.1:8080".
	ListenAddr string
	// MetricsAddr is where cmd/worker serves /metrics and /healthz. OFFSITE_WORKER_METRICS_ADDR,
	// default "127.0.0.1:9091"; "off" disables it.
	MetricsAddr string
	// RedisAddr is the Redis host:port used by asynq. OFFSITE_REDIS_ADDR, default "127.0.0.1:6379".
	RedisAddr string
	// RedisDB is the Redis database number. OFFSITE_REDIS_DB, default 0.
	RedisDB int
	// RedisPassword is the Redis password. OFFSITE_REDIS_PASSWORD, default empty.
	RedisPassword string
	// RedisSentinels are the host:port addresses of Redis Sentinels, comma-separated; when
	// set, asynq finds the master named RedisMaster through them (and follows a failover)
	// instead of using RedisAddr. OFFSITE_REDIS_SENTINELS, default empty.
	RedisSentinels []string
	// RedisMaster is the Sentinel master name. OFFSITE_REDIS_MASTER, required with
	// OFFSITE_REDIS_SENTINELS.
	RedisMaster string
	// RedisSentinelPassword authenticates to the Sentinels. OFFSITE_REDIS_SENTINEL_PASSWORD,
	// default empty.
	RedisSentinelPassword string
	// RedisCluster are the host:port addresses of Redis Cluster nodes, comma-separated; when
	// set, asynq uses the cluster instead of RedisAddr (OFFSITE_REDIS_DB must then be 0).
	// OFFSITE_REDIS_CLUSTER, default empty.
	RedisCluster []string
	// SceneCacheMB is how many MiB of local copies of captures a worker keeps for its next
	// tasks on the same captures (clipping on arrival, then the pipeline run). 0 turns the
	// cache off. OFFSITE_WORKER_SCENE_CACHE_MB, default 8192.
	SceneCacheMB int
	// DatabaseURL is the PostgreSQL connection URL of the application's role (offsite_app:
	// it may only read and append to the audit log; a role that could rewrite it is refused).
	// OFFSITE_DATABASE_URL, default
	// "postgres://offsite_app:offsite_app@127.0.0.1:5432/offsite?sslmode=disable".
	DatabaseURL string
	// DatabaseOwnerURL is the URL of the role that owns the schema, used only to apply pending
	// migrations at start (or by `worker migrate`). OFFSITE_DATABASE_OWNER_URL, default "":
	// nothing is migrated, and a schema that is not current stops the binary.
	DatabaseOwnerURL string
	// AuditKeys seal the audit chain: HMAC-SHA256 keys kept outside the database, as "id:hex"
	// (at least 32 bytes) separated by commas or newlines, the current key first and older
	// ones after it for verifying what they sealed. OFFSITE_AUDIT_KEY, or the file named by
	// OFFSITE_AUDIT_KEY_FILE (one key a line; not both). No default: the api and `worker
	// serve` refuse to start without one.
	AuditKeys *enforce.AuditKeys
	// AuditCheckpointEvery is how many audit entries may follow a signed head of the chain in
	// the evidence bucket before the next is written (also nightly). Entries deleted from the
	// end of the chain after its last head go unnoticed, so this bounds them.
	// OFFSITE_AUDIT_CHECKPOINT_EVERY, default 100.
	AuditCheckpointEvery int
	// S3Endpoint is the S3 API host:port. OFFSITE_S3_ENDPOINT, default "127.0.0.1:7070".
	S3Endpoint string
	// S3AccessKey is the S3 access key. OFFSITE_S3_ACCESS_KEY, default "offsite".
	S3AccessKey string
	// S3SecretKey is the S3 secret key. OFFSITE_S3_SECRET_KEY, default "offsite-secret".
	S3SecretKey string
	// S3Region is the S3 region. OFFSITE_S3_REGION, default "us-east-1".
	S3Region string
	// S3UseTLS selects https for S3. OFFSITE_S3_USE_TLS, default false.
	S3UseTLS bool
	// CapturesBucket holds raw uploads. OFFSITE_S3_BUCKET_CAPTURES, default "offsite-captures".
	CapturesBucket string
	// EvidenceBucket holds artifacts. OFFSITE_S3_BUCKET_EVIDENCE, default "offsite-evidence".
	EvidenceBucket string
	// ProofsBucket holds the enterprises' self-check proofs, which no pipeline reads.
	// OFFSITE_S3_BUCKET_PROOFS, default "offsite-proofs".
	ProofsBucket string
	// SidecarPrefix is the prefix of the captures bucket under which the nightly sweep reads
	// STAC sidecars (only admins may upload there through the API). OFFSITE_SIDECAR_PREFIX,
	// default "stac/".
	SidecarPrefix string
	// LogLevel is debug, info, warn or error. OFFSITE_LOG_LEVEL, default "info".
	LogLevel slog.Level
	// WorkerConcurrency is the number of tasks a worker runs at once.
	// OFFSITE_WORKER_CONCURRENCY, default 2.
	WorkerConcurrency int
	// ShutdownTimeout bounds graceful shutdown. OFFSITE_SHUTDOWN_TIMEOUT, default "30s".
	ShutdownTimeout time.Duration
	// TaskTimeout bounds one task. OFFSITE_TASK_TIMEOUT, default "30m".
	TaskTimeout time.Duration
	// RetryDelay is the wait before a failed task's first retry; it doubles with each further
	// retry, up to 10 minutes. OFFSITE_RETRY_DELAY, default "15s".
	RetryDelay time.Duration
	// NightlyCron is the nightly schedule (cron syntax, Asia/Shanghai). OFFSITE_NIGHTLY_CRON,
	// default "0 2 * * *".
	NightlyCron string
	// TokensFile is a JSON array of API tokens with their roles (see httpapi.TokenEntry; give
	// each token's sha256 rather than the token). cmd/api reads it only to seed the first
	// accounts (normally one admin): each entry whose name no account has yet becomes a user
	// of the first province with that token as its API token, valid for SeedTokenTTL; an
	// existing account is never changed. OFFSITE_API_TOKENS_FILE, default "".
	TokensFile string
	// SeedTokenTTL is how long the seeded tokens stay valid. OFFSITE_SEED_TOKEN_TTL,
	// default "720h" (30 days).
	SeedTokenTTL time.Duration
	// SecureCookie marks the session cookie Secure on plain HTTP too, for an API behind a
	// proxy that ends TLS (over TLS it is Secure regardless). OFFSITE_SECURE_COOKIE, default
	// false.
	SecureCookie bool
	// TrustedProxies are the reverse proxies (addresses or CIDR prefixes, comma-separated)
	// whose X-Forwarded-For the API believes when one is a request's peer: failed sign-ins
	// are then counted against the rightmost address in it that is not a trusted proxy.
	// OFFSITE_TRUSTED_PROXIES, default "": the peer's address counts.
	TrustedProxies []netip.Prefix
	// ProvinceConfig is the province's enforcement configuration as JSON (enforce.Config:
	// admission conditions, notice period, validity, draw ratios, site checklist).
	// OFFSITE_PROVINCE_CONFIG, default "": the defaults documented in internal/enforce.
	ProvinceConfig string
	// NightlyPipelines maps a capture kind to the pipeline the nightly schedule runs on its new
	// captures, as "kind=pipeline,kind=pipeline". OFFSITE_NIGHTLY_PIPELINES, default "": each
	// kind gets the built-in pipeline made for it (sentinel2, landsat, drone-rgb, drone-ms,
	// boat-track, vehicle-track); "off": nightly captures are only clipped. Nil means default.
	NightlyPipelines map[string]string
	// SurveyBatchSize is how many parcels of one capture a survey part runs at most; a
	// capture's parcels are split into batches of nearby parcels. OFFSITE_SURVEY_BATCH_SIZE,
	// default 200.
	SurveyBatchSize int
	// RasterLimits bound the scenes workers accept, checked from each file's header before
	// any pixel is read: OFFSITE_RASTER_MAX_SIDE (width or height, default 50000),
	// OFFSITE_RASTER_MAX_PIXELS (width × height, default 1073741824) and
	// OFFSITE_RASTER_MAX_BANDS (default 16); the other limits keep raster's defaults.
	RasterLimits raster.Limits
	// SMTPAddr is the mail server (host:port) the worker sends e-mail notifications through.
	// OFFSITE_SMTP_ADDR, default "": no e-mail (in-app messages and webhooks still go).
	// OFFSITE_SMTP_FROM (default "offsite@localhost"), OFFSITE_SMTP_USERNAME and
	// OFFSITE_SMTP_PASSWORD (PLAIN, over STARTTLS) go with it.
	SMTPAddr, SMTPFrom, SMTPUsername, SMTPPassword string
	// WebhookHosts are the only hosts (host or host:port) webhook subscriptions may name and
	// deliveries may connect to, comma-separated. OFFSITE_WEBHOOK_HOSTS, default "": no webhooks.
	WebhookHosts []string
}

// Variable names, in the order the README lists them.
const (
	EnvListenAddr        = "OFFSITE_LISTEN_ADDR"
	EnvMetricsAddr       = "OFFSITE_WORKER_METRICS_ADDR"
	EnvRedisAddr         = "OFFSITE_REDIS_ADDR"
	EnvRedisDB           = "OFFSITE_REDIS_DB"
	EnvRedisPassword     = "OFFSITE_REDIS_PASSWORD"
	EnvRedisSentinels    = "OFFSITE_REDIS_SENTINELS"
	EnvRedisMaster       = "OFFSITE_REDIS_MASTER"
	EnvRedisSentinelPass = "OFFSITE_REDIS_SENTINEL_PASSWORD"
	EnvRedisCluster      = "OFFSITE_REDIS_CLUSTER"
	EnvDatabaseURL       = "OFFSITE_DATABASE_URL"
	EnvDatabaseOwnerURL  = "OFFSITE_DATABASE_OWNER_URL"
	EnvAuditKey          = "OFFSITE_AUDIT_KEY"
	EnvAuditKeyFile      = "OFFSITE_AUDIT_KEY_FILE"
	EnvAuditCheckpoint   = "OFFSITE_AUDIT_CHECKPOINT_EVERY"
	EnvS3Endpoint        = "OFFSITE_S3_ENDPOINT"
	EnvS3AccessKey       = "OFFSITE_S3_ACCESS_KEY"
	EnvS3SecretKey       = "OFFSITE_S3_SECRET_KEY"
	EnvS3Region          = "OFFSITE_S3_REGION"
	EnvS3UseTLS          = "OFFSITE_S3_USE_TLS"
	EnvCapturesBucket    = "OFFSITE_S3_BUCKET_CAPTURES"
	EnvEvidenceBucket    = "OFFSITE_S3_BUCKET_EVIDENCE"
	EnvProofsBucket      = "OFFSITE_S3_BUCKET_PROOFS"
	EnvSidecarPrefix     = "OFFSITE_SIDECAR_PREFIX"
	EnvLogLevel          = "OFFSITE_LOG_LEVEL"
	EnvWorkerConcurrency = "OFFSITE_WORKER_CONCURRENCY"
	EnvSceneCacheMB      = "OFFSITE_WORKER_SCENE_CACHE_MB"
	EnvShutdownTimeout   = "OFFSITE_SHUTDOWN_TIMEOUT"
	EnvTaskTimeout       = "OFFSITE_TASK_TIMEOUT"
	EnvRetryDelay        = "OFFSITE_RETRY_DELAY"
	EnvNightlyCron       = "OFFSITE_NIGHTLY_CRON"
	EnvTokensFile        = "OFFSITE_API_TOKENS_FILE"
	EnvSeedTokenTTL      = "OFFSITE_SEED_TOKEN_TTL"
	EnvSecureCookie      = "OFFSITE_SECURE_COOKIE"
	EnvTrustedProxies    = "OFFSITE_TRUSTED_PROXIES"
	EnvProvinceConfig    = "OFFSITE_PROVINCE_CONFIG"
	EnvNightlyPipelines  = "OFFSITE_NIGHTLY_PIPELINES"
	EnvSurveyBatchSize   = "OFFSITE_SURVEY_BATCH_SIZE"
	EnvRasterMaxSide     = "OFFSITE_RASTER_MAX_SIDE"
	EnvRasterMaxPixels   = "OFFSITE_RASTER_MAX_PIXELS"
	EnvRasterMaxBands    = "OFFSITE_RASTER_MAX_BANDS"
	EnvSMTPAddr          = "OFFSITE_SMTP_ADDR"
	EnvSMTPFrom          = "OFFSITE_SMTP_FROM"
	EnvSMTPUsername      = "OFFSITE_SMTP_USERNAME"
	EnvSMTPPassword      = "OFFSITE_SMTP_PASSWORD"
	EnvWebhookHosts      = "OFFSITE_WEBHOOK_HOSTS"
)

// FromEnv reads the configuration from the process environment.
func FromEnv() (*Config, error) { return Parse(os.LookupEnv) }

// Parse reads the configuration through lookup (os.LookupEnv in production). All problems are
// reported together, each naming its variable.
func Parse(lookup func(string) (string, bool)) (*Config, error) {
	p := parser{lookup: lookup}
	c := &Config{
		ListenAddr:            p.hostPort(EnvListenAddr, "127.0.0.1:8080"),
		RedisAddr:             p.hostPort(EnvRedisAddr, "127.0.0.1:6379"),
		RedisDB:               p.intRange(EnvRedisDB, 0, 0, 15),
		RedisPassword:         p.str(EnvRedisPassword, ""),
		DatabaseURL:           p.dbURL(EnvDatabaseURL, "postgres://offsite_app:offsite_app@127.0.0.1:5432/offsite?sslmode=disable"),
		S3Endpoint:            p.hostPort(EnvS3Endpoint, "127.0.0.1:7070"),
		S3AccessKey:           p.nonEmpty(EnvS3AccessKey, "offsite"),
		S3SecretKey:           p.nonEmpty(EnvS3SecretKey, "offsite-secret"),
		S3Region:              p.nonEmpty(EnvS3Region, "us-east-1"),
		S3UseTLS:              p.boolean(EnvS3UseTLS, false),
		CapturesBucket:        p.bucket(EnvCapturesBucket, "offsite-captures"),
		EvidenceBucket:        p.bucket(EnvEvidenceBucket, "offsite-evidence"),
		ProofsBucket:          p.bucket(EnvProofsBucket, "offsite-proofs"),
		SidecarPrefix:         p.sidecarPrefix(EnvSidecarPrefix, s3.DefaultSidecarPrefix),
		LogLevel:              p.level(EnvLogLevel, slog.LevelInfo),
		WorkerConcurrency:     p.intRange(EnvWorkerConcurrency, 2, 1, 256),
		SceneCacheMB:          p.intRange(EnvSceneCacheMB, 8192, 0, 1<<24),
		RedisSentinels:        p.hostPorts(EnvRedisSentinels),
		RedisMaster:           p.str(EnvRedisMaster, ""),
		RedisSentinelPassword: p.str(EnvRedisSentinelPass, ""),
		RedisCluster:          p.hostPorts(EnvRedisCluster),
		ShutdownTimeout:       p.duration(EnvShutdownTimeout, 30*time.Second),
		TaskTimeout:           p.duration(EnvTaskTimeout, 30*time.Minute),
		RetryDelay:            p.duration(EnvRetryDelay, 15*time.Second),
		NightlyCron:           p.cron(EnvNightlyCron, "0 2 * * *"),
		TokensFile:            p.file(EnvTokensFile),
		SeedTokenTTL:          p.duration(EnvSeedTokenTTL, 30*24*time.Hour),
		SecureCookie:          p.boolean(EnvSecureCookie, false),
		ProvinceConfig:        p.file(EnvProvinceConfig),
		NightlyPipelines:      p.kindMap(EnvNightlyPipelines),
		SurveyBatchSize:       p.intRange(EnvSurveyBatchSize, 200, 1, 100000),
		AuditKeys:             p.auditKeys(),
		AuditCheckpointEvery:  p.intRange(EnvAuditCheckpoint, 100, 1, 1000000),
		RasterLimits: raster.Limits{
			MaxSide:   p.intRange(EnvRasterMaxSide, raster.DefaultMaxSide, 1, 1<<20),
			MaxPixels: int64(p.intRange(EnvRasterMaxPixels, raster.DefaultMaxPixels, 1, 1<<40)),
			MaxBands:  p.intRange(EnvRasterMaxBands, raster.DefaultMaxBands, 1, 1024),
		},
	}
	if v := p.str(EnvSMTPAddr, ""); v != "" {
		c.SMTPAddr = p.checkHostPort(EnvSMTPAddr, v)
	}
	c.SMTPFrom, c.SMTPUsername, c.SMTPPassword = p.str(EnvSMTPFrom, "offsite@localhost"), p.str(EnvSMTPUsername, ""), p.str(EnvSMTPPassword, "")
	for _, h := range strings.Split(p.str(EnvWebhookHosts, ""), ",") {
		if h = strings.TrimSpace(h); h != "" {
			if strings.ContainsAny(h, "/@ ") {
				p.fail(EnvWebhookHosts, "%q is not a host or host:port", h)
			}
			c.WebhookHosts = append(c.WebhookHosts, h)
		}
	}
	for _, v := range strings.Split(p.str(EnvTrustedProxies, ""), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if a, err := netip.ParseAddr(v); err == nil {
			c.TrustedProxies = append(c.TrustedProxies, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		} else if pf, err := netip.ParsePrefix(v); err == nil {
			c.TrustedProxies = append(c.TrustedProxies, pf.Masked())
		} else {
			p.fail(EnvTrustedProxies, "%q is not an IP address or CIDR prefix (10.0.0.0/8)", v)
		}
	}
	if v := p.str(EnvDatabaseOwnerURL, ""); v != "" {
		c.DatabaseOwnerURL = p.dbURL(EnvDatabaseOwnerURL, v)
	}
	if v := p.str(EnvMetricsAddr, "127.0.0.1:9091"); v != "off" {
		c.MetricsAddr = p.checkHostPort(EnvMetricsAddr, v)
	}
	switch {
	case len(c.RedisSentinels) > 0 && len(c.RedisCluster) > 0:
		p.fail(EnvRedisCluster, "give either %s (Sentinel) or %s (Cluster), not both", EnvRedisSentinels, EnvRedisCluster)
	case len(c.RedisSentinels) > 0 && c.RedisMaster == "":
		p.fail(EnvRedisMaster, "is required with %s: the name of the master the Sentinels watch", EnvRedisSentinels)
	case len(c.RedisSentinels) == 0 && c.RedisMaster != "":
		p.fail(EnvRedisMaster, "is set but %s is not", EnvRedisSentinels)
	case len(c.RedisCluster) > 0 && c.RedisDB != 0:
		p.fail(EnvRedisDB, "must be 0 with %s: Redis Cluster has one database", EnvRedisCluster)
	}
	if c.CapturesBucket != "" && c.CapturesBucket == c.EvidenceBucket {
		p.fail(EnvEvidenceBucket, "must differ from %s (%q)", EnvCapturesBucket, c.CapturesBucket)
	}
	for _, other := range []struct{ env, bucket string }{{EnvCapturesBucket, c.CapturesBucket}, {EnvEvidenceBucket, c.EvidenceBucket}} {
		if c.ProofsBucket != "" && c.ProofsBucket == other.bucket {
			p.fail(EnvProofsBucket, "must differ from %s (%q): no pipeline may read proofs", other.env, other.bucket)
		}
	}
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	return c, nil
}

type parser struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("config: %s: %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) str(name, def string) string {
	if v, ok := p.lookup(name); ok {
		return strings.TrimSpace(v)
	}
	return def
}

func (p *parser) nonEmpty(name, def string) string {
	v := p.str(name, def)
	if v == "" {
		p.fail(name, "must not be empty")
	}
	return v
}

func (p *parser) hostPort(name, def string) string {
	return p.checkHostPort(name, p.str(name, def))
}

func (p *parser) checkHostPort(name, v string) string {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		p.fail(name, "%q is not host:port", v)
		return v
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		p.fail(name, "port %q in %q is not a number in 1..65535", port, v)
	}
	return v
}

// hostPorts reads a comma-separated list of host:port addresses; empty gives nil.
func (p *parser) hostPorts(name string) []string {
	var out []string
	for _, v := range strings.Split(p.str(name, ""), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, p.checkHostPort(name, v))
		}
	}
	return out
}

func (p *parser) intRange(name string, def, lo, hi int) int {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		p.fail(name, "%q is not an integer in %d..%d", v, lo, hi)
		return def
	}
	return n
}

func (p *parser) boolean(name string, def bool) bool {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		p.fail(name, "%q is not a boolean (true or false)", v)
		return def
	}
	return b
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		p.fail(name, "%q is not a positive duration such as 30s or 5m", v)
		return def
	}
	return d
}

func (p *parser) level(name string, def slog.Level) slog.Level {
	v, ok := p.lookup(name)
	if !ok {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(v))); err != nil {
		p.fail(name, "%q is not one of debug, info, warn, error", v)
		return def
	}
	return l
}

// auditKeys reads OFFSITE_AUDIT_KEY or the file OFFSITE_AUDIT_KEY_FILE names (nil when
// neither is set).
func (p *parser) auditKeys() *enforce.AuditKeys {
	v, name := p.str(EnvAuditKey, ""), EnvAuditKey
	if f := p.file(EnvAuditKeyFile); f != "" {
		if v != "" {
			p.fail(EnvAuditKeyFile, "set either %s or %s, not both", EnvAuditKey, EnvAuditKeyFile)
			return nil
		}
		b, err := os.ReadFile(f)
		if err != nil {
			p.fail(EnvAuditKeyFile, "%v", err)
			return nil
		}
		v, name = string(b), EnvAuditKeyFile
	}
	if v == "" {
		return nil
	}
	ks, err := enforce.ParseAuditKeys(v)
	if err != nil {
		p.fail(name, "%v", err)
	}
	return ks
}

func (p *parser) dbURL(name, def string) string {
	v := p.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		p.fail(name, "%q is not a postgres:// URL with a host", redactURL(v))
	}
	return v
}

// bucket checks S3 bucket naming rules: 3–63 characters of lowercase letters, digits, dots
// and hyphens, starting and ending with a letter or digit.
func (p *parser) bucket(name, def string) string {
	v := p.str(name, def)
	if err := CheckBucketName(v); err != nil {
		p.fail(name, "%v", err)
	}
	return v
}

// sidecarPrefix reads a key prefix ending in "/" outside the prefixes only Offsite writes.
func (p *parser) sidecarPrefix(name, def string) string {
	v := p.str(name, def)
	switch {
	case !strings.HasSuffix(v, "/"):
		p.fail(name, "%q must end with \"/\"", v)
	case offsite.CheckObjectKey(strings.TrimSuffix(v, "/")) != nil:
		p.fail(name, "%q is not a key prefix: %v", v, offsite.CheckObjectKey(strings.TrimSuffix(v, "/")))
	case s3.AppPrefix(v) != "":
		p.fail(name, "%q is under %s, which only Offsite writes", v, strings.Join(s3.AppPrefixes, ", "))
	}
	return v
}

// CheckBucketName reports whether name is a valid S3 bucket name.
func CheckBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("bucket name %q must be 3 to 63 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.'
		if !ok {
			return fmt.Errorf("bucket name %q has %q at position %d: only a-z, 0-9, '-' and '.' are allowed", name, r, i)
		}
	}
	if first, last := name[0], name[len(name)-1]; first == '-' || first == '.' || last == '-' || last == '.' {
		return fmt.Errorf("bucket name %q must start and end with a letter or digit", name)
	}
	return nil
}

// file reads an optional path to a readable regular file.
func (p *parser) file(name string) string {
	v := p.str(name, "")
	if v == "" {
		return ""
	}
	if st, err := os.Stat(v); err != nil {
		p.fail(name, "%v", err)
	} else if !st.Mode().IsRegular() {
		p.fail(name, "%q is not a regular file", v)
	}
	return v
}

func (p *parser) cron(name, def string) string {
	v := p.str(name, def)
	if n := len(strings.Fields(v)); n != 5 {
		p.fail(name, "%q has %d fields; want 5 (minute hour day month weekday)", v, n)
	}
	return v
}

// kindMap reads "key=value,key=value" (nil when unset or empty, an empty map for "off").
// Which keys and values exist is checked by the binary that knows them.
func (p *parser) kindMap(name string) map[string]string {
	v := p.str(name, "")
	switch v {
	case "":
		return nil
	case "off":
		return map[string]string{}
	}
	m := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" {
			p.fail(name, "%q is not kind=pipeline", kv)
			continue
		}
		if _, dup := m[k]; dup {
			p.fail(name, "kind %q is given twice", k)
		}
		m[k] = val
	}
	return m
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// RetryDelayFunc is the asynq retry policy: RetryDelay, doubled with each retry, at most
// 10 minutes.
func (c *Config) RetryDelayFunc(n int, _ error, _ *asynq.Task) time.Duration {
	d := c.RetryDelay
	for i := 0; i < n && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// NewLogger builds the process logger: JSON to stderr at the configured level.
func (c *Config) NewLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: c.LogLevel}))
}
