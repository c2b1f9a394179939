package cmdconfig

import (
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/internal/raster"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestParseDefaults(t *testing.T) {
	got, err := Parse(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		ListenAddr:           "127.0.0.1:8080",
		MetricsAddr:          "127.0.0.1:9091",
		RedisAddr:            "127.0.0.1:6379",
		SceneCacheMB:         8192,
		DatabaseURL:          "postgres://offsite_app:offsite_app@127.0.0.1:5432/offsite?sslmode=disable",
		S3Endpoint:           "127.0.0.1:7070",
		S3AccessKey:          "offsite",
		S3SecretKey:          "offsite-secret",
		S3Region:             "us-east-1",
		CapturesBucket:       "offsite-captures",
		EvidenceBucket:       "offsite-evidence",
		ProofsBucket:         "offsite-proofs",
		SidecarPrefix:        "stac/",
		LogLevel:             slog.LevelInfo,
		WorkerConcurrency:    2,
		ShutdownTimeout:      30 * time.Second,
		TaskTimeout:          30 * time.Minute,
		RetryDelay:           15 * time.Second,
		NightlyCron:          "0 2 * * *",
		SeedTokenTTL:         30 * 24 * time.Hour,
		SurveyBatchSize:      200,
		AuditCheckpointEvery: 100,
		RasterLimits:         raster.Limits{MaxSide: 50000, MaxPixels: 1 << 30, MaxBands: 16},
		SMTPFrom:             "offsite@localhost",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestParseNotifications(t *testing.T) {
	got, err := Parse(lookup(map[string]string{EnvSMTPAddr: "mail.epb.example:587", EnvSMTPFrom: "noreply@epb.example",
		EnvWebhookHosts: " hooks.example.org, 10.0.0.5:8443 ,"}))
	if err != nil {
		t.Fatal(err)
	}
	if got.SMTPAddr != "mail.epb.example:587" || got.SMTPFrom != "noreply@epb.example" ||
		!cmp.Equal(got.WebhookHosts, []string{"hooks.example.org", "10.0.0.5:8443"}) {
		t.Errorf("parsed %q %q %q", got.SMTPAddr, got.SMTPFrom, got.WebhookHosts)
	}
	for name, v := range map[string]string{EnvSMTPAddr: "mail.epb.example", EnvWebhookHosts: "https://hooks.example.org/x"} {
		if _, err := Parse(lookup(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v", name, v, err)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := Parse(lookup(map[string]string{EnvTrustedProxies: " 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32, 10.1.2.3/16"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.1.0.0/16")}
	if !slices.Equal(got.TrustedProxies, want) {
		t.Errorf("parsed %v, want %v", got.TrustedProxies, want)
	}
	if _, err := Parse(lookup(map[string]string{EnvTrustedProxies: "10.0.0.0/8, proxy.local"})); err == nil || !strings.Contains(err.Error(), EnvTrustedProxies) || !strings.Contains(err.Error(), "proxy.local") {
		t.Errorf("a host name: %v", err)
	}
}

func TestParseValues(t *testing.T) {
	got, err := Parse(lookup(map[string]string{
		EnvListenAddr: ":9000", EnvRedisDB: "3", EnvS3UseTLS: "true", EnvLogLevel: "debug",
		EnvWorkerConcurrency: "8", EnvShutdownTimeout: "5s", EnvMetricsAddr: "off",
		EnvCapturesBucket: "my.captures", EnvDatabaseURL: "postgresql://u:p@db:5433/x",
		EnvNightlyPipelines: "sentinel2=sentinel2, drone-rgb=drone-rgb", EnvSurveyBatchSize: "50",
		EnvRasterMaxSide: "20000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got.ListenAddr != ":9000" || got.RedisDB != 3 || !got.S3UseTLS || got.LogLevel != slog.LevelDebug ||
		got.WorkerConcurrency != 8 || got.ShutdownTimeout != 5*time.Second || got.MetricsAddr != "" ||
		got.CapturesBucket != "my.captures" || got.DatabaseURL != "postgresql://u:p@db:5433/x" ||
		got.SurveyBatchSize != 50 || got.RasterLimits.MaxSide != 20000 || !cmp.Equal(got.NightlyPipelines, map[string]string{"sentinel2": "sentinel2", "drone-rgb": "drone-rgb"}) {
		t.Errorf("Parse = %+v", got)
	}
}

func TestRetryDelay(t *testing.T) {
	c := &Config{RetryDelay: 15 * time.Second}
	for n, want := range map[int]time.Duration{0: 15 * time.Second, 1: 30 * time.Second, 3: 2 * time.Minute, 6: 10 * time.Minute, 50: 10 * time.Minute} {
		if got := c.RetryDelayFunc(n, nil, nil); got != want {
			t.Errorf("retry %d: delay %v, want %v", n, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string // substrings of the error, each naming the variable
	}{
		{"listen not host:port", map[string]string{EnvListenAddr: "8080"}, []string{"OFFSITE_LISTEN_ADDR", `"8080" is not host:port`}},
		{"port out of range", map[string]string{EnvRedisAddr: "localhost:70000"}, []string{"OFFSITE_REDIS_ADDR", "1..65535"}},
		{"redis db", map[string]string{EnvRedisDB: "16"}, []string{"OFFSITE_REDIS_DB", "0..15"}},
		{"sentinels without master", map[string]string{EnvRedisSentinels: "s1:26379"}, []string{"OFFSITE_REDIS_MASTER", "required"}},
		{"master without sentinels", map[string]string{EnvRedisMaster: "mymaster"}, []string{"OFFSITE_REDIS_MASTER", "OFFSITE_REDIS_SENTINELS is not"}},
		{"sentinel not host:port", map[string]string{EnvRedisSentinels: "s1:26379, s2", EnvRedisMaster: "m"}, []string{"OFFSITE_REDIS_SENTINELS", `"s2" is not host:port`}},
		{"sentinels and cluster", map[string]string{EnvRedisSentinels: "s1:26379", EnvRedisMaster: "m", EnvRedisCluster: "c1:7000"}, []string{"OFFSITE_REDIS_CLUSTER", "not both"}},
		{"cluster with a db", map[string]string{EnvRedisCluster: "c1:7000", EnvRedisDB: "2"}, []string{"OFFSITE_REDIS_DB", "must be 0"}},
		{"scene cache negative", map[string]string{EnvSceneCacheMB: "-1"}, []string{"OFFSITE_WORKER_SCENE_CACHE_MB"}},
		{"nightly pipelines", map[string]string{EnvNightlyPipelines: "sentinel2"}, []string{"OFFSITE_NIGHTLY_PIPELINES", "kind=pipeline"}},
		{"batch size", map[string]string{EnvSurveyBatchSize: "0"}, []string{"OFFSITE_SURVEY_BATCH_SIZE", "1..100000"}},
		{"db url scheme", map[string]string{EnvDatabaseURL: "mysql://x@y/z"}, []string{"OFFSITE_DATABASE_URL", "postgres://"}},
		{"db url password redacted", map[string]string{EnvDatabaseURL: "http://u:secret@h/x"}, []string{"OFFSITE_DATABASE_URL", "xxxxx"}},
		{"bucket upper case", map[string]string{EnvCapturesBucket: "Captures"}, []string{"OFFSITE_S3_BUCKET_CAPTURES", "'C'"}},
		{"bucket too short", map[string]string{EnvEvidenceBucket: "ev"}, []string{"OFFSITE_S3_BUCKET_EVIDENCE", "3 to 63"}},
		{"same buckets", map[string]string{EnvCapturesBucket: "b-one", EnvEvidenceBucket: "b-one"}, []string{"OFFSITE_S3_BUCKET_EVIDENCE", "must differ"}},
		{"proofs share a bucket", map[string]string{EnvProofsBucket: "offsite-captures"}, []string{"OFFSITE_S3_BUCKET_PROOFS", "must differ from OFFSITE_S3_BUCKET_CAPTURES"}},
		{"sidecar prefix without slash", map[string]string{EnvSidecarPrefix: "stac"}, []string{"OFFSITE_SIDECAR_PREFIX", `must end with "/"`}},
		{"sidecar prefix under cog/", map[string]string{EnvSidecarPrefix: "cog/stac/"}, []string{"OFFSITE_SIDECAR_PREFIX", "only Offsite writes"}},
		{"sidecar prefix traversal", map[string]string{EnvSidecarPrefix: "../x/"}, []string{"OFFSITE_SIDECAR_PREFIX", "not a key prefix"}},
		{"tls not bool", map[string]string{EnvS3UseTLS: "yes please"}, []string{"OFFSITE_S3_USE_TLS", "boolean"}},
		{"empty key", map[string]string{EnvS3AccessKey: ""}, []string{"OFFSITE_S3_ACCESS_KEY", "empty"}},
		{"log level", map[string]string{EnvLogLevel: "loud"}, []string{"OFFSITE_LOG_LEVEL", "debug, info, warn, error"}},
		{"concurrency", map[string]string{EnvWorkerConcurrency: "0"}, []string{"OFFSITE_WORKER_CONCURRENCY", "1..256"}},
		{"duration", map[string]string{EnvShutdownTimeout: "30"}, []string{"OFFSITE_SHUTDOWN_TIMEOUT", "duration"}},
		{"cron", map[string]string{EnvNightlyCron: "0 2 * *"}, []string{"OFFSITE_NIGHTLY_CRON", "4 fields"}},
		{"owner url", map[string]string{EnvDatabaseOwnerURL: "owner@db/x"}, []string{"OFFSITE_DATABASE_OWNER_URL", "postgres://"}},
		{"audit key short", map[string]string{EnvAuditKey: "k1:abcd"}, []string{"OFFSITE_AUDIT_KEY", "at least 32 bytes"}},
		{"audit key without id", map[string]string{EnvAuditKey: "abcd"}, []string{"OFFSITE_AUDIT_KEY", "id:hex"}},
		{"audit key file missing", map[string]string{EnvAuditKeyFile: "/nonexistent/audit.key"}, []string{"OFFSITE_AUDIT_KEY_FILE", "no such file"}},
		{"checkpoint every", map[string]string{EnvAuditCheckpoint: "0"}, []string{"OFFSITE_AUDIT_CHECKPOINT_EVERY", "1..1000000"}},
		{"two problems at once", map[string]string{EnvRedisDB: "x", EnvLogLevel: "y"}, []string{"OFFSITE_REDIS_DB", "OFFSITE_LOG_LEVEL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(lookup(tc.env))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q leaks a password", err)
			}
		})
	}
}

// TestRedisOptions checks that the Sentinel and Cluster settings give asynq's failover and
// cluster options, and that neither gives the one server.
func TestRedisOptions(t *testing.T) {
	parse := func(env map[string]string) *Config {
		t.Helper()
		c, err := Parse(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	one, ok := parse(map[string]string{EnvRedisAddr: "r:6380", EnvRedisDB: "3"}).Redis().(asynq.RedisClientOpt)
	if !ok || one.Addr != "r:6380" || one.DB != 3 {
		t.Errorf("one server: %#v", one)
	}
	fo, ok := parse(map[string]string{EnvRedisSentinels: "s1:26379, s2:26379", EnvRedisMaster: "offsite",
		EnvRedisSentinelPass: "sp", EnvRedisPassword: "rp", EnvRedisDB: "2"}).Redis().(asynq.RedisFailoverClientOpt)
	if !ok || fo.MasterName != "offsite" || len(fo.SentinelAddrs) != 2 || fo.SentinelAddrs[1] != "s2:26379" ||
		fo.SentinelPassword != "sp" || fo.Password != "rp" || fo.DB != 2 {
		t.Errorf("sentinel: %#v", fo)
	}
	cl, ok := parse(map[string]string{EnvRedisCluster: "c1:7000,c2:7001,c3:7002", EnvRedisPassword: "rp"}).Redis().(asynq.RedisClusterClientOpt)
	if !ok || len(cl.Addrs) != 3 || cl.Addrs[2] != "c3:7002" || cl.Password != "rp" {
		t.Errorf("cluster: %#v", cl)
	}
}
