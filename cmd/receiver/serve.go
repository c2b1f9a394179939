package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/cmd/internal/cli"
	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/metrics"
	"github.com/offsite/offsite/internal/postgres"
)

// Environment variables of `receiver serve` (flags of the same meaning take precedence).
const (
	EnvReceiverAddr        = "OFFSITE_RECEIVER_ADDR"         // TCP address for data loggers, default 127.0.0.1:9212
	EnvReceiverMetricsAddr = "OFFSITE_RECEIVER_METRICS_ADDR" // /metrics and /healthz, default 127.0.0.1:9213; "off" disables
)

// Main is the receiver server.
type Main struct {
	DatabaseURL string
	// DatabaseOwnerURL, when set, is used to apply pending migrations at start.
	DatabaseOwnerURL string
	Logger           *slog.Logger
	Addr             string
	MetricsAddr      string
	Server           hj212.Config
	Batch            hj212.BatchConfig
	// Ready, when set, receives the listening address once the server accepts connections.
	Ready func(addr string)

	DB      *postgres.DB
	writeDB *postgres.DB // the batches' connections
}

// NewMain returns a Main with a default logger.
func NewMain() *Main { return &Main{Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil))} }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// ParseFlags reads the OFFSITE_* configuration and the flags.
func (m *Main) ParseFlags(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&m.Addr, "addr", envOr(EnvReceiverAddr, "127.0.0.1:9212"), "TCP address data loggers connect to ("+EnvReceiverAddr+")")
	fs.StringVar(&m.MetricsAddr, "metrics-addr", envOr(EnvReceiverMetricsAddr, "127.0.0.1:9213"), "address of /metrics and /healthz, or off ("+EnvReceiverMetricsAddr+")")
	fs.IntVar(&m.Server.MaxConns, "max-conns", 20000, "most connections at once")
	fs.IntVar(&m.Server.MaxConnsPerAddr, "max-conns-per-addr", 64, "most connections at once from one IP address")
	fs.IntVar(&m.Server.MaxFrame, "max-frame", hj212.DefaultMaxFrame, "largest frame in bytes")
	fs.DurationVar(&m.Server.IdleTimeout, "idle-timeout", 10*time.Minute, "close a connection silent this long")
	fs.IntVar(&m.Batch.Workers, "store-workers", 4, "database transactions in flight at once")
	fs.IntVar(&m.Batch.MaxBatch, "max-batch", 1000, "most frames per transaction")
	fs.IntVar(&m.Batch.MinBatch, "min-batch", 64, "a transaction with fewer frames waits up to -batch-linger for more while another is in flight")
	fs.DurationVar(&m.Batch.Linger, "batch-linger", 4*time.Millisecond, "longest wait for -min-batch frames (negative: none)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("serve: unexpected arguments %q", fs.Args())
	}
	if _, _, err := net.SplitHostPort(m.Addr); err != nil {
		return cli.Usagef("serve: -addr %q: %v", m.Addr, err)
	}
	if m.Server.MaxFrame < 64 || m.Server.MaxFrame > hj212.DefaultMaxFrame {
		return cli.Usagef("serve: -max-frame %d: between 64 and %d", m.Server.MaxFrame, hj212.DefaultMaxFrame)
	}
	logger, err := newLogger()
	if err != nil {
		return err
	}
	m.DatabaseURL, m.DatabaseOwnerURL, m.Logger = databaseURL(), os.Getenv(envDatabaseOwnerURL), logger
	return nil
}

// Run serves until ctx is done.
func (m *Main) Run(ctx context.Context) error {
	if m.DatabaseOwnerURL != "" {
		// As the api and worker do: migrations at start when the owner's URL is given.
		if err := postgres.Migrate(ctx, m.DatabaseOwnerURL); err != nil {
			return err
		}
	}
	db, err := postgres.Open(ctx, m.DatabaseURL)
	if err != nil {
		return err
	}
	m.DB = db
	store := postgres.NewMonitoringStore(db)
	if err := store.EnsureMonths(ctx, time.Now(), 1, 2); err != nil {
		return err
	}
	// The batch transactions have connections of their own, one per store worker: in one
	// pool (pgx's default: 4, the cores or more) the credential checks of loggers whose
	// answers expired waited behind the batches, and the batches behind a burst of checks
	// (10,000 loggers coming back at once), holding up every acknowledgement.
	wdb, err := postgres.Open(ctx, withPoolSize(m.DatabaseURL, m.Batch.Workers))
	if err != nil {
		return err
	}
	m.writeDB = wdb
	writer := postgres.NewMonitoringStore(wdb)
	met := metrics.NewReceiver()
	bctx, cancelBatch := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBatch()
	// Each MN-hour made durable queues its monitoring analysis (analysis.go).
	ropt, err := redisOpt()
	if err != nil {
		return err
	}
	queue := asynq.NewClient(ropt)
	defer queue.Close()
	analysis := &analysisStore{Store: writer, keys: make(chan analysisKey, 10000)}
	go queueAnalyses(bctx, analysis.keys, queue, m.Logger)
	batcher := hj212.NewBatcher(analysis, m.Batch, met)
	go batcher.Run(bctx)
	// Month partitions ahead of the data, daily.
	go every(ctx, 24*time.Hour, func() {
		if err := store.EnsureMonths(ctx, time.Now(), 0, 2); err != nil {
			m.Logger.Error("create month partitions", "err", err)
		}
	})
	creds := &credentials{
		// CheckPassword reads only; the enforcement service's audit configuration is not used.
		registry: postgres.NewMonitoringRegistry(postgres.NewEnforceService(db, postgres.AuditConfig{})),
		fallback: store,
	}
	if err := creds.refresh(ctx); err != nil {
		return err
	}
	go every(bctx, credentialRefresh, func() {
		if err := creds.refresh(bctx); err != nil {
			m.Logger.Warn("refresh credentials", "err", err)
		}
	})
	srv := &hj212.Server{Config: m.Server, Writer: batcher, Credentials: creds, Logger: m.Logger, Metrics: met, OnReply: recordReply(store, m.Logger)}
	go sendDataRequests(bctx, store, srv, requestPoll, requestOverTime, requestAttempts, m.Logger)
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Addr, err)
	}
	var hs *http.Server
	if m.MetricsAddr != "off" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", met.Handler())
		if os.Getenv("OFFSITE_RECEIVER_PPROF") == "1" {
			// Profiling for benchmarks (bench-monitoring): off unless asked for.
			mux.HandleFunc("GET /debug/pprof/", pprof.Index)
			mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		}
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			if err := db.Ping(ctx); err != nil {
				// Which dependency is down, never why (the error names internal addresses).
				m.Logger.Warn("health check failed", "check", "postgres", "err", err)
				http.Error(w, `{"status":"unavailable","checks":[{"name":"postgres","ok":false}]}`, http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"ok","checks":[{"name":"postgres","ok":true}]}`)
		})
		mln, err := net.Listen("tcp", m.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (%s): %w", m.MetricsAddr, EnvReceiverMetricsAddr, err)
		}
		hs = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := hs.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.Logger.Error("receiver http", "err", err)
			}
		}()
	}
	go releaseWhenIdle(ctx, srv.Handled, idleRelease)
	m.Logger.Info("receiver running", "version", offsite.Version, "addr", ln.Addr().String(), "metrics", m.MetricsAddr)
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	err = srv.Serve(ctx, ln)
	cancelBatch()
	if hs != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}
	m.Logger.Info("receiver stopped")
	return err
}

// gcPercent is the receiver's GOGC unless the environment sets one. Its live heap is small (the
// frames in flight and the connections' state) and its garbage many short-lived frames, so a
// collection every 4× the live heap instead of every 2× halves the CPU spent collecting under
// load for a few MB more at peak, which releaseWhenIdle gives back.
const gcPercent = 400

// idleRelease is how long the receiver reads no frame before it returns the memory freed
// since to the operating system.
const idleRelease = 10 * time.Second

// memoryLimit is the receiver's soft memory limit unless GOMEMLIMIT sets one: near it the
// runtime collects more often than gcPercent says, so that a backlog of frames under load
// does not grow the heap to five times its live size.
const memoryLimit = 256 << 20

// setGC applies gcPercent and memoryLimit unless GOGC and GOMEMLIMIT are set.
func setGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// releaseWhenIdle returns freed memory to the operating system once handled (the frames
// read so far) stays the same for idle after having changed: a collection then, and the
// runtime's pages released at once instead of over the following minutes, so that a receiver
// holding thousands of idle connections keeps near their own memory only.
func releaseWhenIdle(ctx context.Context, handled func() int64, idle time.Duration) {
	t := time.NewTicker(idle)
	defer t.Stop()
	w := idleWatch{last: handled(), released: true}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if w.tick(handled()) {
				debug.FreeOSMemory()
			}
		}
	}
}

// idleWatch tells, tick by tick, when the frames read stopped changing.
type idleWatch struct {
	last     int64
	released bool
}

// tick takes the frames read so far and reports whether to release memory now: the count did
// not change since the last tick but had changed before it.
func (w *idleWatch) tick(n int64) bool {
	if n != w.last {
		w.last, w.released = n, false
		return false
	}
	if w.released {
		return false
	}
	w.released = true
	return true
}

// The receiver reads the same variables as the api and worker for its database and logging,
// without their configuration package (which links GDAL, of no use here).
const (
	envDatabaseURL      = "OFFSITE_DATABASE_URL"
	envDatabaseOwnerURL = "OFFSITE_DATABASE_OWNER_URL"
	envLogLevel         = "OFFSITE_LOG_LEVEL"
)

func databaseURL() string {
	return envOr(envDatabaseURL, "postgres://offsite_app:offsite_app@127.0.0.1:5432/offsite?sslmode=disable")
}

func newLogger() (*slog.Logger, error) {
	var level slog.Level
	if v := os.Getenv(envLogLevel); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("config: %s: %q is not debug, info, warn or error", envLogLevel, v)
		}
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})), nil
}

// Close releases the database.
func (m *Main) Close() error {
	if m.DB != nil {
		m.DB.Close()
	}
	if m.writeDB != nil {
		m.writeDB.Close()
	}
	return nil
}

// withPoolSize returns the PostgreSQL URL u with pool_max_conns set to n (the batcher's
// workers), unless u sets it.
func withPoolSize(u string, n int) string {
	if n <= 0 {
		n = 4
	}
	if strings.Contains(u, "pool_max_conns=") {
		return u
	}
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		// A keyword/value connection string.
		return u + " pool_max_conns=" + strconv.Itoa(n)
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "pool_max_conns=" + strconv.Itoa(n)
}
