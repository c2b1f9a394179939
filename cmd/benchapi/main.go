// Command benchapi drives `make bench-api` (scripts/bench-api.sh):
//
//	benchapi seed -admin-url URL -db NAME [-enterprises 20000] [-captures 10] [-fresh]
//	    creates database NAME from offsite_template (unless it exists and is seeded),
//	    migrates it and fills it: enterprises with valid USCCs and locations, one parcel
//	    each, a finding and a clip for every capture and parcel (200,000 of each by
//	    default), every third enterprise listed; prints the database URL and writes the
//	    USCCs to -uscc-out
//	benchapi load -url URL -token T -path-template /api/v1/enterprises/%s/evidence
//	    -uscc FILE [-rate 500] [-duration 20s] [-cpu-pid PID] [-pg-url URL -pg-db NAME]
//	    an open-loop load at a constant rate: request i is due at start + i/rate and its
//	    latency is counted from that moment (no coordinated omission); prints one JSON
//	    line with p50, p90, p99, max, the achieved rate, the errors, the load average and
//	    the CPU time per request of the API (-cpu-pid), of the PostgreSQL backends connected
//	    to database NAME (-pg-url lists them) and of the load generator itself
//	benchapi verify -db-url URL -audit-key-file FILE
//	    recomputes the audit chain of the bench database (every evidence view the runs
//	    appended) with the API's key and prints how many entries were checked; exits 1 when
//	    the chain is broken
//	benchapi table [-p99 50ms] [-max 500ms] < results.jsonl
//	    prints load's JSON lines side by side, each against the first (the baseline), and
//	    whether each meets the targets; then their CPU times per request with ratios
//
// The seeded rows bypass the API (and so the audit log): they are load, not records.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/cmd/internal/proccpu"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/postgres"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchapi seed|load|verify|table [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "seed":
		err = runSeed(ctx, os.Args[2:])
	case "load":
		err = runLoad(ctx, os.Args[2:])
	case "verify":
		err = runVerify(ctx, os.Args[2:])
	case "table":
		err = runTable(os.Stdin, os.Stdout, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchapi:", err)
		os.Exit(1)
	}
}

// benchUSCC returns the i-th synthetic USCC: 91 (enterprise), division 320500 (Suzhou), a
// 9-digit organisation code and the GB 32100 check character.
func benchUSCC(i int) string {
	head := fmt.Sprintf("91320500%09d", i)
	c, err := enforce.USCCCheckChar(head)
	if err != nil {
		panic(err)
	}
	return head + string(c)
}

func runSeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	adminURL := fs.String("admin-url", os.Getenv("OFFSITE_TEST_DATABASE_URL"), "URL of a database on the server, to create the bench database from; its role owns and migrates the bench database")
	appURL := fs.String("app-url", os.Getenv("OFFSITE_TEST_DATABASE_APP_URL"), "URL whose user and password are the application's role's (offsite_app); printed for the API with the bench database")
	name := fs.String("db", "offsite_bench", "bench database name")
	n := fs.Int("enterprises", 20000, "enterprises")
	nCaptures := fs.Int("captures", 10, "captures; each has a clip of every parcel")
	fresh := fs.Bool("fresh", false, "drop and recreate the database")
	usccOut := fs.String("uscc-out", "", "write the USCCs here, one a line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *adminURL == "" || *appURL == "" {
		return fmt.Errorf("-admin-url (or OFFSITE_TEST_DATABASE_URL) and -app-url (or OFFSITE_TEST_DATABASE_APP_URL) are required")
	}
	u, err := url.Parse(*adminURL)
	if err != nil {
		return err
	}
	app, err := url.Parse(*appURL)
	if err != nil {
		return fmt.Errorf("-app-url: %w", err)
	}
	admin, err := pgx.Connect(ctx, *adminURL)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	ident := pgx.Identifier{*name}.Sanitize()
	if *fresh {
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", *name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE offsite_template"); err != nil {
			return err
		}
	}
	u.Path = "/" + *name
	// Seeding (COPY, VACUUM) runs as the owner; the API is given the application's role.
	if err := postgres.Migrate(ctx, u.String()); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	app.Path = u.Path
	usccs := make([]string, *n)
	for i := range usccs {
		usccs[i] = benchUSCC(i + 1)
	}
	if *usccOut != "" {
		if err := os.WriteFile(*usccOut, []byte(strings.Join(usccs, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	var have, haveFindings int
	if err := db.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM enterprises), (SELECT count(*) FROM findings)").Scan(&have, &haveFindings); err != nil {
		return err
	}
	start := time.Now()
	if have >= *n && haveFindings >= *n**nCaptures {
		fmt.Println(app.String())
		fmt.Fprintf(os.Stderr, "benchapi: %s already has %d enterprises and %d findings; -fresh to reseed\n", *name, have, haveFindings)
		return nil
	}
	if have < *n {
		if err := seedEnterprises(ctx, db, usccs, *nCaptures); err != nil {
			return err
		}
	}
	// Findings: one per capture and parcel, a small square inside the parcel.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO findings (id, parcel_id, capture_ids, kind, class, score, area_m2, severity, geom,
			pipeline, pipeline_hash, detected_at, properties, provenance, artifacts)
		SELECT encode(sha256((c.id || '/' || p.id || '/finding')::bytea), 'hex'), p.id, ARRAY[c.id],
		       (ARRAY['change', 'hotspot', 'plume', 'exceedance'])[1 + (c.id % 4)],
		       (ARRAY['new_structure', 'thermal_anomaly', 'water_plume', 'voc_exceedance'])[1 + (c.id % 4)],
		       0.5 + (c.id % 5) * 0.1, 400, (ARRAY['low', 'medium', 'high'])[1 + (c.id % 3)],
		       ST_Expand(ST_Centroid(p.geom), 0.0002), 'sentinel2', encode(sha256('pipeline'::bytea), 'hex'), c.acquired_at,
		       '{}'::jsonb,
		       jsonb_build_object('type', 'Feature', 'stac_version', '1.0.0', 'id', 'finding',
		         'links', jsonb_build_array(jsonb_build_object('rel', 'derived_from', 'href', 'captures/' || c.id))),
		       jsonb_build_array(jsonb_build_object('name', 'after.png', 'key', 'sha256/' || encode(sha256((c.id || p.id)::bytea), 'hex') || '.png',
		         'sha256', encode(sha256((c.id || p.id)::bytea), 'hex'), 'size', 2048, 'media_type', 'image/png'))
		FROM captures c CROSS JOIN parcels p
		WHERE c.key LIKE 'bench/%' AND p.id LIKE 'bench-%'
		ON CONFLICT (id) DO NOTHING`); err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	if _, err := db.Pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}
	var counts [5]int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM enterprises), (SELECT count(*) FROM parcels),
		(SELECT count(*) FROM clips), (SELECT count(*) FROM findings), (SELECT count(*) FROM list_entries)`).Scan(&counts[0], &counts[1], &counts[2], &counts[3], &counts[4]); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "benchapi: seeded %d enterprises, %d parcels, %d clips, %d findings, %d list entries in %s\n",
		counts[0], counts[1], counts[2], counts[3], counts[4], time.Since(start).Round(time.Millisecond))
	fmt.Println(app.String())
	return nil
}

// seedEnterprises inserts the enterprises, their parcels, the captures, the clips and the
// list entries.
func seedEnterprises(ctx context.Context, db *postgres.DB, usccs []string, nCaptures int) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "CREATE TEMP TABLE bench_ent (i int, uscc text) ON COMMIT DROP"); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_ent"}, []string{"i", "uscc"}, pgx.CopyFromSlice(len(usccs), func(i int) ([]any, error) {
			return []any{i, usccs[i]}, nil
		})); err != nil {
			return err
		}
		for _, q := range []string{
			// Enterprises spread over a 1° × 1° box around Suzhou, in 8 zones.
			`INSERT INTO enterprises (uscc, name, industry, permit_no, key_discharger, address, zone, location, complaint_channel)
			 SELECT uscc, 'Bench enterprise ' || i, 'C' || (2600 + i % 400), uscc || '001P', i % 7 = 0,
			        'No. ' || i || ' Industrial Road', 'zone-' || (i % 8),
			        ST_SetSRID(ST_MakePoint(120.0 + (i % 200) * 0.005, 31.0 + (i / 200) * 0.005), 4326), '12369'
			 FROM bench_ent`,
			`INSERT INTO parcels (id, uscc, name, geom)
			 SELECT 'bench-' || e.uscc, e.uscc, e.name, ST_Multi(ST_Expand(e.location, 0.001)) FROM enterprises e`,
			fmt.Sprintf(`INSERT INTO captures (kind, acquired_at, sensor, bucket, key, status, crs, width, height, bands, checksum, footprint)
			 SELECT 'sentinel2', now() - (k || ' days')::interval, 'MSI', 'offsite-captures', 'bench/scene-' || k || '.tif', 'processed',
			        'EPSG:32651', 10980, 10980, 4, encode(sha256(('scene' || k)::bytea), 'hex'),
			        ST_MakeEnvelope(119.9, 30.9, 121.1, 32.1, 4326)
			 FROM generate_series(1, %d) k`, nCaptures),
			`INSERT INTO clips (capture_id, parcel_id, cog_key, cog_sha256, cog_bytes, quicklook_key, quicklook_sha256, width, height, valid_pixels)
			 SELECT c.id, p.id, 'sha256/' || h.cog || '.tif', h.cog, 40000 + length(p.id), 'sha256/' || h.ql || '.png', h.ql, 24, 22, 528
			 FROM captures c CROSS JOIN parcels p
			 CROSS JOIN LATERAL (SELECT encode(sha256((c.id || '/' || p.id || '/cog')::bytea), 'hex') AS cog,
			                            encode(sha256((c.id || '/' || p.id || '/ql')::bytea), 'hex') AS ql) h
			 WHERE c.key LIKE 'bench/%' AND p.id LIKE 'bench-%'`,
			// Every third enterprise is listed for three years from a year ago.
			`INSERT INTO list_entries (uscc, status, valid_from, valid_to, doc)
			 SELECT uscc, 'listed', now() - interval '1 year', now() + interval '2 years',
			        jsonb_build_object('uscc', uscc, 'status', 'listed',
			          'admission', jsonb_build_object('admitted', true, 'path', 'standard', 'reasons', '[]'::jsonb, 'facts', '{}'::jsonb),
			          'objections', '[]'::jsonb, 'renewals', 0,
			          'valid_from', to_jsonb(now() - interval '1 year'), 'valid_to', to_jsonb(now() + interval '2 years'))
			 FROM bench_ent WHERE i % 3 = 0`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%.60s...: %w", strings.TrimSpace(q), err)
			}
		}
		return nil
	})
}

type loadResult struct {
	Label     string  `json:"label,omitempty"`
	Path      string  `json:"path"`
	Rate      float64 `json:"target_rps"`
	Achieved  float64 `json:"achieved_rps"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMS     float64 `json:"max_ms"`
	Seconds   float64 `json:"seconds"`
	FirstErr  string  `json:"first_error,omitempty"`
	MeanBytes int64   `json:"mean_bytes"`
	// LoadBefore and LoadAfter are the machine's 1-minute load average when the run started
	// and ended (/proc/loadavg): the machine is shared, so read the latencies with them.
	LoadBefore float64 `json:"load1_before"`
	LoadAfter  float64 `json:"load1_after"`
	// APICPUms is the API process's CPU time (user + system) per request, with -cpu-pid.
	APICPUms float64 `json:"api_cpu_ms_per_request,omitempty"`
	// PGCPUms is the CPU time per request of the PostgreSQL backends connected to the
	// database -pg-db names (the API's connections), with -pg-url; PGGone counts backends
	// that ended during the run (their time is missing).
	PGCPUms float64 `json:"pg_cpu_ms_per_request,omitempty"`
	PGGone  int     `json:"pg_backends_gone,omitempty"`
	// LoadGenCPUms is this load generator's own CPU time per request.
	LoadGenCPUms float64 `json:"loadgen_cpu_ms_per_request,omitempty"`
}

// backends returns the process ids of the PostgreSQL backends connected to database db, but
// for conn's own.
func backends(ctx context.Context, conn *pgx.Conn, db string) ([]int, error) {
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// loadAvg returns the 1-minute load average, or -1 where /proc/loadavg cannot be read.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var l float64
	if _, err := fmt.Sscan(string(b), &l); err != nil {
		return -1
	}
	return l
}

func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "API base URL")
	token := fs.String("token", "", "bearer token")
	tmpl := fs.String("path-template", "/api/v1/enterprises/%s/evidence", "request path; %s is replaced by a random USCC, %d by a random offset")
	usccFile := fs.String("uscc", "", "file of USCCs, one a line (for %s)")
	maxOffset := fs.Int("max-offset", 6000, "offsets for %d are drawn from [0, max-offset)")
	rate := fs.Float64("rate", 500, "requests per second")
	dur := fs.Duration("duration", 20*time.Second, "duration")
	conc := fs.Int("max-inflight", 2000, "maximum requests in flight")
	label := fs.String("label", "", "label printed with the result (e.g. the build under test)")
	cpuPID := fs.Int("cpu-pid", 0, "the API's process id: its CPU time per request is reported (machine-independent, unlike latency on a shared machine)")
	pgURL := fs.String("pg-url", "", "a PostgreSQL URL to list the backends of -pg-db with (pg_stat_activity): their CPU time per request is reported")
	pgDB := fs.String("pg-db", "", "the database the API uses (with -pg-url)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var pg *pgx.Conn
	var pgStart *proccpu.Group
	if *pgURL != "" {
		var err error
		if pg, err = pgx.Connect(ctx, *pgURL); err != nil {
			return err
		}
		defer pg.Close(context.WithoutCancel(ctx))
		pids, err := backends(ctx, pg, *pgDB)
		if err != nil {
			return err
		}
		pgStart = proccpu.Watch(pids)
	}
	loadBefore := loadAvg()
	cpuBefore, cpuErr := proccpu.Process(*cpuPID)
	selfBefore, selfErr := proccpu.Self()
	var usccs []string
	if strings.Contains(*tmpl, "%s") {
		f, err := os.Open(*usccFile)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if t := strings.TrimSpace(sc.Text()); t != "" {
				usccs = append(usccs, t)
			}
		}
		f.Close()
		if len(usccs) == 0 {
			return fmt.Errorf("no USCCs in %s", *usccFile)
		}
	}
	tr := &http.Transport{MaxIdleConns: *conc, MaxIdleConnsPerHost: *conc, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	n := int(*rate * dur.Seconds())
	lat := make([]time.Duration, n)
	var errs, bytesTotal atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, *conc)
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	interval := time.Duration(float64(time.Second) / *rate)
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		path := *tmpl
		if before, after, ok := strings.Cut(path, "%s"); ok {
			path = before + usccs[rng.IntN(len(usccs))] + after
		}
		if before, after, ok := strings.Cut(path, "%d"); ok {
			path = before + fmt.Sprint(rng.IntN(*maxOffset)) + after
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, due time.Time, path string) {
			defer func() { <-sem; wg.Done() }()
			req, _ := http.NewRequestWithContext(ctx, "GET", *base+path, nil)
			if *token != "" {
				req.Header.Set("Authorization", "Bearer "+*token)
			}
			resp, err := client.Do(req)
			if err == nil {
				var nb int64
				nb, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				bytesTotal.Add(nb)
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("%s: status %d", path, resp.StatusCode)
				}
			}
			lat[i] = time.Since(due)
			if err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}(i, due, path)
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(n-1))].Microseconds()) / 1000 }
	res := loadResult{Label: *label, LoadBefore: loadBefore, LoadAfter: loadAvg(), Path: *tmpl, Rate: *rate, Achieved: float64(n) / elapsed.Seconds(), Requests: n, Errors: int(errs.Load()),
		P50ms: q(0.50), P90ms: q(0.90), P99ms: q(0.99), MaxMS: q(1), Seconds: elapsed.Seconds(), MeanBytes: bytesTotal.Load() / int64(n)}
	if e, ok := firstErr.Load().(string); ok {
		res.FirstErr = e
	}
	perRequest := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	if cpuAfter, err := proccpu.Process(*cpuPID); cpuErr == nil && err == nil {
		res.APICPUms = perRequest(cpuAfter - cpuBefore)
	}
	if selfAfter, err := proccpu.Self(); selfErr == nil && err == nil {
		res.LoadGenCPUms = perRequest(selfAfter - selfBefore)
	}
	if pg != nil {
		pids, err := backends(context.WithoutCancel(ctx), pg, *pgDB)
		if err != nil {
			return err
		}
		used, gone := pgStart.Used(pids)
		res.PGCPUms, res.PGGone = perRequest(used), gone
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// runVerify checks the audit chain the load appended to.
func runVerify(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	dbURL := fs.String("db-url", "", "the bench database's URL")
	keyFile := fs.String("audit-key-file", "", "the API's audit keys, one a line (OFFSITE_AUDIT_KEY_FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	keys, err := enforce.ParseAuditKeys(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", *keyFile, err)
	}
	db, err := postgres.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	rep, err := postgres.NewEnforceService(db, postgres.AuditConfig{Keys: keys}).VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if rep.FirstBroken != nil {
		return fmt.Errorf("audit chain broken after %d entries: entry %d: %s", rep.Checked, rep.FirstBroken.Seq, rep.FirstBroken.Reason)
	}
	fmt.Printf("audit chain: %d entries checked in %s, unbroken (no checkpoint store: entries deleted from its end would not show)\n",
		rep.Checked, time.Since(start).Round(time.Millisecond))
	return nil
}

// runTable prints load results (JSON lines on in) side by side: latencies, the ratio of
// each p99 and max to the first line's, and the targets met.
func runTable(in io.Reader, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	p99 := fs.Duration("p99", 50*time.Millisecond, "p99 target")
	maxT := fs.Duration("max", 500*time.Millisecond, "maximum latency target")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var rs []loadResult
	dec := json.NewDecoder(in)
	for {
		var r loadResult
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("read results: %w", err)
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return fmt.Errorf("no results")
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Fprintf(out, "%-28s %8s %8s %9s %9s %9s %6s %9s %9s %s\n", "build", "rps", "achieved", "p50 ms", "p99 ms", "max ms", "errors", "p99/base", "max/base", "load avg (start→end)")
	for _, r := range rs {
		verdict := "meets"
		if r.P99ms >= ms(*p99) || r.MaxMS >= ms(*maxT) || r.Errors > 0 || r.Achieved < 0.95*r.Rate {
			verdict = "misses"
		}
		fmt.Fprintf(out, "%-28s %8.0f %8.0f %9.1f %9.1f %9.1f %6d %8.3fx %8.3fx %.2f→%.2f  %s p99 < %v, max < %v\n",
			r.Label, r.Rate, r.Achieved, r.P50ms, r.P99ms, r.MaxMS, r.Errors, r.P99ms/rs[0].P99ms, r.MaxMS/rs[0].MaxMS,
			r.LoadBefore, r.LoadAfter, verdict, *p99, *maxT)
	}
	// CPU time per request moves far less with the machine's other load than latency does.
	ratio := func(v, base float64) string {
		if v <= 0 || base <= 0 {
			return "   -   "
		}
		return fmt.Sprintf("%6.3fx", v/base)
	}
	fmt.Fprintf(out, "\nCPU time per request, ms (API: the API process; PG: the PostgreSQL backends serving it; ratios to the first line):\n%-28s %9s %8s %9s %8s %9s %8s %9s\n",
		"build", "API", "ratio", "PG", "ratio", "API+PG", "ratio", "load gen")
	for _, r := range rs {
		gone := ""
		if r.PGGone > 0 {
			gone = fmt.Sprintf("  (%d backends ended during the run: their time is missing)", r.PGGone)
		}
		fmt.Fprintf(out, "%-28s %9.3f %8s %9.3f %8s %9.3f %8s %9.3f%s\n", r.Label,
			r.APICPUms, ratio(r.APICPUms, rs[0].APICPUms), r.PGCPUms, ratio(r.PGCPUms, rs[0].PGCPUms),
			r.APICPUms+r.PGCPUms, ratio(r.APICPUms+r.PGCPUms, rs[0].APICPUms+rs[0].PGCPUms), r.LoadGenCPUms, gone)
	}
	return nil
}
