package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/metrics"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/worker"
	"github.com/offsite/offsite/pipelines"
)

// shanghai is the time zone of the nightly schedule.
const shanghai = "Asia/Shanghai"

// Main is the worker server: asynq server, scheduler and a small HTTP endpoint for health.
type Main struct {
	Config *cmdconfig.Config
	Logger *slog.Logger
	DB     *postgres.DB
	Client *asynq.Client
}

// NewMain returns a Main with a default logger.
func NewMain() *Main { return &Main{Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil))} }

// ParseFlags reads the configuration; serve takes no flags.
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("serve: unexpected arguments %q: configure with OFFSITE_* environment variables (see README)", args)
	}
	cfg, err := cmdconfig.FromEnv()
	if err != nil {
		return err
	}
	m.Config, m.Logger = cfg, cfg.NewLogger()
	return nil
}

// Run serves tasks until ctx is done. On shutdown the asynq server stops taking tasks, waits
// up to OFFSITE_SHUTDOWN_TIMEOUT for running ones, and returns unfinished ones to the queue.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	db, store, err := cfg.OpenStores(ctx)
	if err != nil {
		return err
	}
	m.DB = db
	audit, err := cfg.Audit(store, m.Logger)
	if err != nil {
		return err
	}
	redis := cfg.Redis()
	m.Client = asynq.NewClient(redis)
	met := metrics.New()
	insp := asynq.NewInspector(redis)
	defer insp.Close()
	met.Registry.MustRegister(metrics.NewQueueCollector(insp))
	province, err := cfg.Province()
	if err != nil {
		return err
	}
	captures := postgres.NewCaptureService(db)
	enf := postgres.NewEnforceService(db, audit)
	pipes, err := pipelines.Builtin()
	if err != nil {
		return err
	}
	if err := worker.CheckNightlyPipelines(cfg.NightlyPipelines, pipes); err != nil {
		return fmt.Errorf("%s: %w", cmdconfig.EnvNightlyPipelines, err)
	}
	// Temporary files go in this process's own directory, removed at exit; directories of
	// workers killed before they could remove theirs are removed here.
	tmp, stale, err := worker.OpenTempDir(os.TempDir())
	if err != nil {
		return err
	}
	defer func() {
		if err := tmp.Close(); err != nil {
			m.Logger.Error("remove temporary directory", "path", tmp.Path, "err", err)
		}
	}()
	if len(stale) > 0 {
		m.Logger.Info("removed temporary directories of workers gone", "paths", stale)
	}
	// Local copies of captures that ingest fetched, read by this process's next tasks on
	// them; inside the temporary directory, so removed with it.
	scenes, err := worker.NewSceneCache(filepath.Join(tmp.Path, "scenes"), int64(cfg.SceneCacheMB)<<20)
	if err != nil {
		return err
	}
	deps := &worker.Deps{
		Parcels:        postgres.NewParcelService(db),
		Captures:       captures,
		Clips:          captures,
		Nightly:        postgres.NewNightlyService(db),
		Surveys:        postgres.NewSurveyService(db),
		ListExpirer:    &enforce.List{Store: postgres.NewListStore(enf), Config: province},
		Warnings:       &enforce.Inspections{Store: postgres.NewInspectionStore(enf), Config: province},
		WarningLevel:   province.Level,
		Audit:          enf,
		Findings:       postgres.NewFindingService(db),
		Pipelines:      pipes,
		EvidenceBucket: cfg.EvidenceBucket,
		Store:          store,
		Queue:          m.Client,
		Raster:         cfg.RasterFor(scenes.Dir()),
		Scenes:         scenes,
		CapturesBucket: cfg.CapturesBucket,
		SidecarPrefix:  cfg.SidecarPrefix,
		Logger:         m.Logger,
		Metrics:        met,
		TaskTimeout:    cfg.TaskTimeout,
		TempDir:        tmp.Path,
		// Nil (unset) takes worker.DefaultNightlyPipelines.
		NightlyPipelines: cfg.NightlyPipelines,
		Notify:           postgres.NewNotifyService(enf),
	}
	if cfg.SMTPAddr != "" {
		deps.Mailer = &worker.SMTPMailer{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword}
	}
	if len(cfg.WebhookHosts) > 0 {
		deps.Webhooks = worker.NewWebhookSender(cfg.WebhookHosts, 0)
	}
	// The monitoring analysis (issue 15): tasks queued by the HJ 212 receiver and the nightly run.
	deps.Monitoring = postgres.NewMonitoringRegistry(enf)
	deps.MonitoringConfig = monitoring.Config{ReportHours: province.MonitoringReportHours}
	srv := asynq.NewServer(redis, asynq.Config{
		Concurrency:     cfg.WorkerConcurrency,
		Queues:          tasks.Queues,
		ShutdownTimeout: cfg.ShutdownTimeout,
		RetryDelayFunc:  cfg.RetryDelayFunc,
		Logger:          cmdconfig.AsynqLogger{L: m.Logger},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			m.Logger.ErrorContext(ctx, "task failed", "task_id", id, "type", t.Type(), "err", err)
		}),
		// asynq sleeps 0.5–1.5 × this between polls of empty queues: the default 1 s
		// left a task waiting up to 1.5 s on an idle worker (bench-survey).
		TaskCheckInterval: 100 * time.Millisecond,
	})
	loc, err := time.LoadLocation(shanghai)
	if err != nil {
		return fmt.Errorf("load time zone %s: %w", shanghai, err)
	}
	sched := asynq.NewScheduler(redis, &asynq.SchedulerOpts{Location: loc, Logger: cmdconfig.AsynqLogger{L: m.Logger}})
	// Every worker process runs a scheduler, so each enqueues the nightly sweep. Unique
	// collapses the copies enqueued while one is pending, and the sweep itself is idempotent:
	// it enqueues clip tasks under deterministic ids, so a capture is processed once however
	// many sweeps run.
	if _, err := sched.Register(cfg.NightlyCron, tasks.NewNightlySweepTask(), asynq.Unique(time.Hour)); err != nil {
		return fmt.Errorf("%s %q: %w", cmdconfig.EnvNightlyCron, cfg.NightlyCron, err)
	}
	// The nightly checkpoint of the audit chain's head, besides the one every
	// OFFSITE_AUDIT_CHECKPOINT_EVERY entries; copies from several schedulers write the same
	// head.
	if _, err := sched.Register(cfg.NightlyCron, tasks.NewAuditCheckpointTask(), asynq.Unique(time.Hour)); err != nil {
		return fmt.Errorf("%s %q: %w", cmdconfig.EnvNightlyCron, cfg.NightlyCron, err)
	}
	// The nightly monitoring analysis of the previous day (the hourly one is queued by the
	// HJ 212 receiver as data arrive).
	if _, err := sched.Register(cfg.NightlyCron, tasks.NewMonitoringNightlyTask(), asynq.Unique(time.Hour)); err != nil {
		return fmt.Errorf("%s %q: %w", cmdconfig.EnvNightlyCron, cfg.NightlyCron, err)
	}

	// Notifications: the outbox is swept often; copies from several schedulers collapse
	// (Unique), and each row's delivery task has a deterministic id.
	if _, err := sched.Register("@every 15s", tasks.NewNotifySweepTask(), asynq.Unique(15*time.Second)); err != nil {
		return fmt.Errorf("notify sweep: %w", err)
	}

	if err := srv.Start(worker.NewServeMux(deps)); err != nil {
		return fmt.Errorf("start asynq server: %w", err)
	}
	// Each outbox row's delivery is queued as soon as it is committed (LISTEN/NOTIFY); the
	// sweep above stays for rows committed while no worker listened.
	listenCtx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	go db.ListenOutbox(listenCtx, postgres.OutboxListener{
		Written: func(ctx context.Context, id int64) {
			if err := deps.QueueDelivery(ctx, id); err != nil {
				m.Logger.WarnContext(ctx, "queue notification delivery; the sweep will", "outbox_id", id, "err", err)
			}
		},
		Lost: func(err error) { m.Logger.Warn("outbox listener lost its connection; dialling again", "err", err) },
	})
	if err := sched.Start(); err != nil {
		srv.Shutdown()
		return fmt.Errorf("start scheduler: %w", err)
	}
	var hs *http.Server
	if cfg.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", met.Handler())
		if os.Getenv("OFFSITE_WORKER_PPROF") == "1" {
			// Profiling for benchmarks (bench-survey): off unless asked for.
			mux.HandleFunc("GET /debug/pprof/", pprof.Index)
			mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		}
		mux.Handle("GET /healthz", healthz(m.Logger, db, redis))
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			sched.Shutdown()
			srv.Shutdown()
			return fmt.Errorf("listen on %s (%s): %w", cfg.MetricsAddr, cmdconfig.EnvMetricsAddr, err)
		}
		hs = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.Logger.Error("worker http", "err", err)
			}
		}()
	}
	m.Logger.Info("worker running", "version", offsite.Version, "concurrency", cfg.WorkerConcurrency, "nightly_cron", cfg.NightlyCron, "tz", shanghai)
	<-ctx.Done()
	m.Logger.Info("worker shutting down", "timeout", cfg.ShutdownTimeout.String())
	sched.Shutdown()
	srv.Shutdown()
	if hs != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			return err
		}
	}
	return nil
}

// healthz is the worker's public /healthz: PostgreSQL and Redis each up or down, the
// reason logged, never shown (it names internal addresses).
func healthz(logger *slog.Logger, db *postgres.DB, redis asynq.RedisConnOpt) http.Handler {
	return httpapi.HealthHandler(logger, []httpapi.Check{
		{Name: "postgres", Ping: db.Ping},
		{Name: "redis", Ping: func(ctx context.Context) error { return cmdconfig.RedisPing(ctx, redis) }},
	})
}

// Close releases the connections.
func (m *Main) Close() error {
	var err error
	if m.Client != nil {
		err = m.Client.Close()
	}
	if m.DB != nil {
		m.DB.Close()
	}
	return err
}
