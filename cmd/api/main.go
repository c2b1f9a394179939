// Command api serves Offsite's HTTP API.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/internal/account"
	"github.com/offsite/offsite/internal/casefile"
	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/metrics"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/verify"
	"github.com/offsite/offsite/internal/webui"
	"github.com/offsite/offsite/pipelines"
)

// defaultGCPercent is the garbage collector's target (GOGC) unless the GOGC variable sets
// one: with Go's default of 100 and the API's small live heap, collections ran so often that
// marking took a tenth of its CPU time on the evidence route (make bench-api, pprof); 400 lets
// the heap grow to five times what is live, a few tens of megabytes, before collecting.
const defaultGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(2)
	}
	err := m.Run(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		m.Logger.Error("api stopped", "err", err)
		os.Exit(1)
	}
}

// Main is the api program.
type Main struct {
	Config    *cmdconfig.Config
	Logger    *slog.Logger
	DB        *postgres.DB
	Queue     *asynq.Client
	Inspector *asynq.Inspector
	Basemap   cmdconfig.Basemap // the web interface's optional base map
	// CaseFileFont is the TrueType CJK font of the PDF case files. OFFSITE_CASEFILE_FONT,
	// default casefile.DefaultFontPath.
	CaseFileFont string
	// CORSOrigins may call the API from browser scripts (EnvCORSOrigins); default none.
	CORSOrigins []string
	// PprofAddr is a loopback address to serve the Go profiler on (EnvPprofAddr); "": none.
	PprofAddr string
}

// EnvPprofAddr is a loopback host:port on which the API serves net/http/pprof's profiles
// (/debug/pprof/), apart from the API's own address; unset: no profiler.
const EnvPprofAddr = "OFFSITE_API_PPROF_ADDR"

// EnvCaseFileFont names the case files' font.
const EnvCaseFileFont = "OFFSITE_CASEFILE_FONT"

// EnvCORSOrigins lists the origins (scheme://host[:port], or *) whose browser scripts may call
// the API, separated by commas; unset: none (no CORS headers).
const EnvCORSOrigins = "OFFSITE_CORS_ORIGINS"

// NewMain returns a Main with a default logger.
func NewMain() *Main {
	return &Main{Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil))}
}

// ParseFlags reads the configuration. The api takes no flags: everything is in OFFSITE_*
// environment variables.
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q: configure with OFFSITE_* environment variables (see README)", args)
	}
	cfg, err := cmdconfig.FromEnv()
	if err != nil {
		return err
	}
	m.Config = cfg
	m.Logger = cfg.NewLogger()
	if m.Basemap, err = cmdconfig.BasemapFromEnv(); err != nil {
		return err
	}
	m.CaseFileFont = os.Getenv(EnvCaseFileFont)
	if m.CORSOrigins, err = httpapi.ParseCORSOrigins(os.Getenv(EnvCORSOrigins)); err != nil {
		return fmt.Errorf("%s: %w", EnvCORSOrigins, err)
	}
	if m.PprofAddr = os.Getenv(EnvPprofAddr); m.PprofAddr != "" {
		if err := checkLoopback(m.PprofAddr); err != nil {
			return fmt.Errorf("%s: %w", EnvPprofAddr, err)
		}
	}
	return nil
}

// Run connects to the services, migrates the database when given the owner's URL, and serves until ctx is done, then
// shuts down gracefully.
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
	m.Queue = asynq.NewClient(cfg.Redis())
	m.Inspector = asynq.NewInspector(cfg.Redis())
	captures := postgres.NewCaptureService(db)
	findings := postgres.NewFindingService(db)
	pipes, err := pipelines.Builtin()
	if err != nil {
		return err
	}
	tokens, err := loadTokens(cfg.TokensFile)
	if err != nil {
		return fmt.Errorf("%s: %w", cmdconfig.EnvTokensFile, err)
	}
	province, err := cfg.Province()
	if err != nil {
		return err
	}
	if !webui.Built() {
		m.Logger.Warn("the web interface was not built into this binary: /ui/ says so; build with make build")
	}
	pipeNames := make([]string, 0, len(pipes))
	for name := range pipes {
		pipeNames = append(pipeNames, name)
	}
	slices.Sort(pipeNames)
	enf := postgres.NewEnforceService(db, audit)
	// Tokens' principals and enterprises' agencies kept in memory, emptied by the database's
	// notification of every change to them (and off while it cannot listen).
	go enf.CacheAuth(ctx, func(err error) { m.Logger.Warn("auth cache", "err", err) })
	accounts := &account.Accounts{Store: postgres.NewAccountStore(enf)}
	// The token file seeds accounts whose names are not taken (the first admin), and nothing
	// else: it never changes an account, and authenticates no request itself.
	switch n, err := accounts.Seed(ctx, tokens.SeedEntries(), cfg.SeedTokenTTL); {
	case err != nil:
		return fmt.Errorf("%s: seeding the first accounts: %w", cmdconfig.EnvTokensFile, err)
	case n > 0:
		m.Logger.Info("seeded the first accounts from the token file; sign in and give them passwords, then revoke the seeded tokens",
			"accounts", n, "tokens_valid_for", cfg.SeedTokenTTL.String())
	case cfg.TokensFile != "":
		m.Logger.Info("every account of the token file exists: nothing seeded", "variable", cmdconfig.EnvTokensFile)
	default:
		m.Logger.Info("no token file: accounts are managed with /api/v1/users")
	}
	caseFiles := casefile.NewRenderer(casefile.Config{FontPath: m.CaseFileFont})
	if err := caseFiles.Check(); err != nil {
		m.Logger.Warn("PDF case files will fail until the font is there", "variable", EnvCaseFileFont, "err", err)
	}
	srv := &httpapi.Server{
		Parcels:         postgres.NewParcelService(db),
		Captures:        captures,
		Clips:           captures,
		Findings:        findings,
		Surveys:         postgres.NewSurveyService(db),
		Zones:           postgres.NewZoneService(db),
		Nightly:         postgres.NewNightlyService(db),
		KnownPipeline:   func(name string) bool { _, ok := pipes[name]; return ok },
		Artifacts:       verify.Join(captures, findings),
		Inspector:       m.Inspector,
		Metrics:         metrics.New(),
		Queue:           m.Queue,
		Store:           store,
		CapturesBucket:  cfg.CapturesBucket,
		SidecarPrefix:   cfg.SidecarPrefix,
		Logger:          m.Logger,
		Enforce:         enf,
		InspectionStore: postgres.NewInspectionStore(enf),
		EnterpriseStore: postgres.NewEnterpriseStore(enf),
		ListStore:       postgres.NewListStore(enf),
		DrawStore:       postgres.NewDrawStore(enf),
		Work:            postgres.NewWorkService(db),
		Notify:          postgres.NewNotifyService(enf),
		WebhookHosts:    cfg.WebhookHosts,
		EnforceConfig:   province,
		Accounts:        accounts,
		Agencies:        enf,
		SecureCookie:    cfg.SecureCookie,
		TrustedProxies:  cfg.TrustedProxies,
		CaseFiles:       &httpapi.CaseFiles{Renderer: caseFiles, Store: store},
		UI: webui.Handler(webui.Config{BasemapURL: m.Basemap.URL, BasemapAttribution: m.Basemap.Attribution,
			BasemapCRS: m.Basemap.CRS, TiandituKey: m.Basemap.TiandituKey,
			Pipelines: pipeNames, CaptureKinds: offsite.CaptureKinds}),
		Checks: []httpapi.Check{
			{Name: "postgres", Ping: db.Ping},
			{Name: "redis", Ping: func(ctx context.Context) error { return cmdconfig.RedisPing(ctx, cfg.Redis()) }},
			{Name: "s3", Ping: store.Ping},
		},
	}
	srv.SurveyBatchSize = cfg.SurveyBatchSize
	mon := postgres.NewMonitoringRegistry(enf)
	srv.Monitoring, srv.MonitoringStore = mon, mon
	srv.GIS, srv.CaptureDownloads = postgres.NewGISService(db), store
	srv.CORSOrigins = m.CORSOrigins
	// The routes of srv set their own read and write deadlines (httpapi's ReadTimeout,
	// HandlerTimeout, StreamTimeout); these bound what runs outside them: request headers,
	// the web interface's files, unmatched paths, idle keep-alive connections.
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       httpapi.DefaultReadTimeout,
		WriteTimeout:      httpapi.DefaultHandlerTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if m.PprofAddr != "" {
		_, stop, err := servePprof(m.PprofAddr, m.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (%s): %w", cfg.ListenAddr, cmdconfig.EnvListenAddr, err)
	}
	m.Logger.Info("api listening", "addr", ln.Addr().String(), "version", offsite.Version)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	m.Logger.Info("api shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loadTokens reads the API tokens file; "" means no tokens.
func loadTokens(path string) (*httpapi.Tokens, error) {
	if path == "" {
		return httpapi.NewTokens(nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return httpapi.ReadTokens(f)
}

// Close releases the connections.
func (m *Main) Close() error {
	var err error
	if m.Queue != nil {
		err = m.Queue.Close()
	}
	if m.Inspector != nil {
		if cerr := m.Inspector.Close(); err == nil {
			err = cerr
		}
	}
	if m.DB != nil {
		m.DB.Close()
	}
	return err
}
