// Command benchmonitoring measures the HJ 212 receiver (make bench-monitoring): simulated data
// loggers over real TCP against a `receiver serve` process of its own, on a fresh database.
//
// It prints, in one run:
//   - connections held: C loggers connected at once (target 10,000);
//   - receiver RSS per idle connection: (RSS with C idle loggers − RSS before) / C (< 20 KB);
//   - sustained frames/s acknowledged (so durable) at an offered open-loop rate (≥ 5,000), with
//     the p50/p99 ack latency (< 100 ms), minute and real-time frames of 10 factors;
//   - ingest rows/s with every logger sending as fast as acks come back, beside PostgreSQL
//     COPY of the same rows into a table of the same columns and primary key, in the same run
//     (ratio ≥ 0.5);
//   - a check that the database holds exactly the values of the frames acknowledged.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/cmd/internal/proccpu"
	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/hj212/hj212test"
	"github.com/offsite/offsite/internal/postgres"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchmonitoring:", err)
		os.Exit(1)
	}
}

type bench struct {
	receiver, ownerURL, appURL, dbName, addr string
	conns, rate, factors                     int
	duration, saturate, idleWait             time.Duration
	workers, maxBatch                        int
	logDir, metricsAddr, profile, trace      string
	linger                                   string
	seconds                                  *secondMax // the open-loop phase's, while it runs

	proc    *exec.Cmd
	pg      *pgx.Conn // to the benchmark's database: its backends' process ids
	loggers []*hj212test.Logger
	seq     []atomic.Int64 // next frame number per logger
	acked   atomic.Int64
}

func run(ctx context.Context, args []string) error {
	b := &bench{}
	fs := flag.NewFlagSet("benchmonitoring", flag.ContinueOnError)
	fs.StringVar(&b.receiver, "receiver", "bin/receiver", "the receiver binary")
	fs.StringVar(&b.ownerURL, "owner-url", os.Getenv("OFFSITE_DATABASE_OWNER_URL"), "PostgreSQL URL of the schema owner (its database is replaced by -db)")
	fs.StringVar(&b.appURL, "app-url", os.Getenv("OFFSITE_DATABASE_URL"), "PostgreSQL URL of the application's role (database replaced by -db)")
	fs.StringVar(&b.dbName, "db", "offsite_bench_monitoring", "the benchmark's own database (offsite_bench...), created from offsite_template and dropped at the end")
	fs.StringVar(&b.addr, "addr", "127.0.0.1:19212", "receiver address")
	fs.IntVar(&b.conns, "conns", 10000, "loggers connected at once")
	fs.IntVar(&b.rate, "rate", 5000, "offered frames per second in the sustained phase")
	fs.IntVar(&b.factors, "factors", 10, "factors per frame")
	fs.DurationVar(&b.duration, "duration", 30*time.Second, "sustained phase")
	fs.DurationVar(&b.idleWait, "idle-wait", 130*time.Second, "idle time before RSS is read after every logger sent a frame")
	fs.DurationVar(&b.saturate, "saturate", 15*time.Second, "saturation phase")
	fs.IntVar(&b.workers, "store-workers", 4, "receiver -store-workers")
	fs.IntVar(&b.maxBatch, "max-batch", 1000, "receiver -max-batch")
	fs.StringVar(&b.linger, "batch-linger", "", "receiver -batch-linger (empty: its default)")
	fs.StringVar(&b.metricsAddr, "metrics-addr", "127.0.0.1:19213", "receiver -metrics-addr (batch sizes are read from it)")
	fs.StringVar(&b.profile, "profile", "", "write a CPU profile of the receiver during the saturation phase to this file")
	fs.StringVar(&b.trace, "trace", "", "write a 5 s execution trace of the receiver (go tool trace) from the middle of the sustained phase to this file")
	fs.StringVar(&b.logDir, "dir", ".state/bench-monitoring", "receiver log directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if b.ownerURL == "" || b.appURL == "" {
		return errors.New("-owner-url and -app-url (or OFFSITE_DATABASE_OWNER_URL and OFFSITE_DATABASE_URL) are required")
	}
	if !strings.HasPrefix(b.dbName, "offsite_bench") {
		// The benchmark drops and creates its database: never one of the application's.
		return fmt.Errorf("-db %q: the benchmark's database name must begin with offsite_bench", b.dbName)
	}
	adminURL := b.ownerURL
	if err := b.freshDB(ctx); err != nil {
		return err
	}
	defer func() {
		if err := dropDB(context.WithoutCancel(ctx), adminURL, b.dbName); err != nil {
			fmt.Fprintln(os.Stderr, "benchmonitoring: drop", b.dbName+":", err)
		}
	}()
	if err := b.start(ctx); err != nil {
		return err
	}
	defer b.stop()
	return b.measure(ctx)
}

// dropDB drops the benchmark's database, connected to the server by adminURL.
func dropDB(ctx context.Context, adminURL, name string) error {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

func withDB(raw, name string, extra string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	if extra != "" {
		q := u.Query()
		k, v, _ := strings.Cut(extra, "=")
		q.Set(k, v)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func (b *bench) freshDB(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, b.ownerURL)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	ident := pgx.Identifier{b.dbName}.Sanitize()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE offsite_template"); err != nil {
		return err
	}
	if b.ownerURL, err = withDB(b.ownerURL, b.dbName, ""); err != nil {
		return err
	}
	if b.appURL, err = withDB(b.appURL, b.dbName, "pool_max_conns="+strconv.Itoa(b.workers+4)); err != nil {
		return err
	}
	if err := postgres.Migrate(ctx, b.ownerURL); err != nil {
		return err
	}
	// The loggers' passwords, as the registry would hold them.
	db, err := postgres.Open(ctx, b.ownerURL)
	if err != nil {
		return err
	}
	defer db.Close()
	rows := make([][]any, b.conns)
	for i := range rows {
		mn := mnOf(i)
		rows[i] = []any{mn, postgres.CredentialHash(mn, "123456")}
	}
	_, err = db.Pool.CopyFrom(ctx, pgx.Identifier{"monitoring_credentials"}, []string{"mn", "pw_hash"}, pgx.CopyFromRows(rows))
	return err
}

func mnOf(i int) string { return fmt.Sprintf("BENCH%08d", i) }

func (b *bench) start(ctx context.Context) error {
	if err := os.MkdirAll(b.logDir, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(b.logDir + "/receiver.log")
	if err != nil {
		return err
	}
	b.proc = exec.Command(b.receiver, "serve", "-addr", b.addr, "-metrics-addr", b.metricsAddr,
		"-max-conns", strconv.Itoa(b.conns+100), "-max-conns-per-addr", strconv.Itoa(b.conns+100),
		"-store-workers", strconv.Itoa(b.workers), "-max-batch", strconv.Itoa(b.maxBatch))
	if b.linger != "" {
		b.proc.Args = append(b.proc.Args, "-batch-linger", b.linger)
	}
	b.proc.Env = append(os.Environ(), "OFFSITE_DATABASE_URL="+b.appURL, "OFFSITE_DATABASE_OWNER_URL=", "OFFSITE_LOG_LEVEL=warn", "OFFSITE_RECEIVER_PPROF=1")
	b.proc.Stdout, b.proc.Stderr = logf, logf
	if err := b.proc.Start(); err != nil {
		return err
	}
	for range 300 {
		if c, err := net.Dial("tcp", b.addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("receiver did not start; see %s/receiver.log", b.logDir)
}

func (b *bench) stop() {
	if b.proc != nil && b.proc.Process != nil {
		b.proc.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { b.proc.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			b.proc.Process.Kill()
		}
	}
}

// rssKB reads VmRSS of the receiver.
func (b *bench) rssKB() (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", b.proc.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, errors.New("no VmRSS")
}

// frame returns logger i's frame number k: real-time (2011) and minute (2051) data in turn,
// DataTimes distinct per logger and command.
var base = time.Date(time.Now().Year(), time.Now().Month(), 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

func (b *bench) frame(i int, k int) string {
	cn := hj212.CNRealTime
	t := base.Add(time.Duration(k/2) * 30 * time.Second)
	if k%2 == 1 {
		cn = hj212.CNMinute
		t = base.Add(time.Duration(k/2) * time.Minute)
	}
	return hj212test.Frame(mnOf(i), "123456", cn, t, k, b.factors, i+k)
}

func (b *bench) measure(ctx context.Context) error {
	time.Sleep(time.Second)
	rss0, err := b.rssKB()
	if err != nil {
		return err
	}
	// Phase 1: C loggers connect and stay idle.
	b.loggers = make([]*hj212test.Logger, b.conns)
	b.seq = make([]atomic.Int64, b.conns)
	start := time.Now()
	if b.pg, err = pgx.Connect(ctx, b.ownerURL); err != nil {
		return err
	}
	defer b.pg.Close(context.WithoutCancel(ctx))
	m0 := b.mark(ctx)
	for i := range b.loggers {
		l := &hj212test.Logger{Addr: b.addr, MN: mnOf(i), PW: "123456", AckTimeout: 10 * time.Second}
		if err := l.Connect(ctx); err != nil {
			return fmt.Errorf("connection %d: %w (raise ulimit -n)", i, err)
		}
		b.loggers[i] = l
	}
	connectTime := time.Since(start)
	connectCPU := b.cpuLine(ctx, m0, 0)
	time.Sleep(3 * time.Second)
	rssIdle, err := b.rssKB()
	if err != nil {
		return err
	}
	// Every logger sends one frame, so that each connection has read and answered once
	// (its buffer allocated), then all idle again.
	if _, err := b.phase(ctx, 0, 0, true, b.conns); err != nil {
		return err
	}
	// The frames leave garbage on the receiver's heap until a collection, which an idle Go
	// process runs at the latest every 2 minutes, its memory then returned to the system in
	// the background: wait for that steady state (-idle-wait), taking the lowest RSS seen.
	rss1 := 0
	for waited := time.Duration(0); waited < b.idleWait || rss1 == 0; waited += 5 * time.Second {
		time.Sleep(5 * time.Second)
		r, err := b.rssKB()
		if err != nil {
			return err
		}
		if rss1 == 0 || r < rss1 {
			rss1 = r
		}
	}
	held := 0
	for _, l := range b.loggers {
		if l.Reconnects == 0 {
			held++
		}
	}
	fmt.Printf("connections held:           %d of %d (connected in %.1f s; target 10,000)\n", held, b.conns, connectTime.Seconds())
	fmt.Printf("receiver RSS:               %d KB before, %d KB with %d loggers connected, %d KB after each sent a frame (lowest in %v idle)\n", rss0, rssIdle, b.conns, rss1, b.idleWait)
	fmt.Printf("RSS per idle connection:    %.1f KB connected; %.1f KB after a frame each (target < 20 KB)\n",
		float64(rssIdle-rss0)/float64(b.conns), float64(rss1-rss0)/float64(b.conns))
	fmt.Println(connectCPU + " (while connecting)")

	// Phase 2: open loop at the offered rate.
	ackBefore, _ := b.buckets("offsite_receiver_ack_seconds")
	batchBefore, _ := b.buckets("offsite_receiver_batch_seconds")
	w0, werr := b.walMark(ctx)
	m2 := b.mark(ctx)
	traceDone := make(chan error, 1)
	if b.trace != "" {
		go func() {
			time.Sleep(b.duration / 2)
			traceDone <- b.fetch("/debug/pprof/trace?seconds=5", b.trace)
		}()
	} else {
		traceDone <- nil
	}
	stopWaits, waitsDone := make(chan struct{}), make(chan string, 1)
	go func() { waitsDone <- b.sampleWaits(ctx, stopWaits) }()
	b.seconds = newSecondMax(b.duration)
	lat, err := b.phase(ctx, b.rate, b.duration, false, 0)
	close(stopWaits)
	waits := <-waitsDone
	seconds := b.seconds
	b.seconds = nil
	if err != nil {
		return err
	}
	if err := <-traceDone; err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	sustainedCPU := b.cpuLine(ctx, m2, len(lat))
	walLine := ""
	if w1, err := b.walMark(ctx); werr == nil && err == nil {
		walLine = w0.line(w1)
	}
	ackAfter, _ := b.buckets("offsite_receiver_ack_seconds")
	batchAfter, _ := b.buckets("offsite_receiver_batch_seconds")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fps := float64(len(lat)) / b.duration.Seconds()
	fmt.Printf("sustained:                  %.0f frames/s acknowledged durable of %d offered, %d factors (target >= 5,000)\n", fps, b.rate, b.factors)
	fmt.Printf("ack latency:                p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 100 ms)\n",
		ms(pct(lat, 0.50)), ms(pct(lat, 0.99)), ms(pct(lat, 1)))
	if len(ackAfter) > 0 {
		fmt.Printf("  as the receiver sees it:  p50 <= %s, p99 <= %s (last byte read to reply written; histogram bucket bounds)\n",
			quantile(ackBefore, ackAfter, 0.50), quantile(ackBefore, ackAfter, 0.99))
	}
	fmt.Println(seconds.line(100 * time.Millisecond))
	if len(batchAfter) > 0 {
		fmt.Printf("  transactions:             p50 <= %s, p99 <= %s (one batch's WriteBatch; histogram bucket bounds)\n",
			quantile(batchBefore, batchAfter, 0.50), quantile(batchBefore, batchAfter, 0.99))
	}
	fmt.Println(sustainedCPU)
	if walLine != "" {
		fmt.Println(walLine)
	}
	fmt.Println(waits)
	rss2, _ := b.rssKB()
	fmt.Printf("receiver RSS under load:    %d KB\n", rss2)

	// Phase 3: saturation (closed loop: each logger sends its next frame when acknowledged).
	db, err := postgres.Open(ctx, b.ownerURL)
	if err != nil {
		return err
	}
	defer db.Close()
	var before int64
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM monitoring_values").Scan(&before); err != nil {
		return err
	}
	satStart := time.Now()
	m4 := b.mark(ctx)
	profDone := make(chan error, 1)
	if b.profile != "" {
		go func() {
			profDone <- b.fetch(fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(b.saturate.Seconds()*2/3)), b.profile)
		}()
	} else {
		profDone <- nil
	}
	sat, err := b.phase(ctx, 0, b.saturate, false, 0)
	if err != nil {
		return err
	}
	satDur := time.Since(satStart)
	satCPU := b.cpuLine(ctx, m4, len(sat))
	if err := <-profDone; err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	var after int64
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM monitoring_values").Scan(&after); err != nil {
		return err
	}
	ingest := float64(after-before) / satDur.Seconds()
	fmt.Printf("saturation:                 %.0f frames/s acknowledged, %.0f rows/s ingested (%d rows in %.1f s)\n",
		float64(len(sat))/satDur.Seconds(), ingest, after-before, satDur.Seconds())
	fmt.Println(satCPU)

	if m, err := b.metric("offsite_receiver_batch_frames"); err == nil {
		fmt.Printf("receiver batches:           %.0f transactions, %.1f frames each on average (whole run)\n", m[1], m[0]/max(m[1], 1))
	}

	// The same rows by COPY into a table of the same columns and primary key.
	plainRate, n, err := copyBaseline(ctx, db, before, false)
	if err != nil {
		return err
	}
	copyRate, _, err := copyBaseline(ctx, db, before, true)
	if err != nil {
		return err
	}
	fmt.Printf("load average after COPY:    %s\n", proccpu.LoadAverage())
	fmt.Printf("PostgreSQL COPY, same rows: %.0f rows/s into a table partitioned as monitoring_values, %.0f rows/s into one plain table (%d rows, same primary key)\n", copyRate, plainRate, n)
	fmt.Printf("ingest / COPY:              %.2f of the partitioned, %.2f of the plain (target >= 0.5; ingest also stores each frame's bytes)\n", ingest/copyRate, ingest/plainRate)

	// Nothing lost, nothing doubled: one value per factor of every acknowledged frame.
	var frames, values int64
	if err := db.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM monitoring_frames WHERE valid), (SELECT count(*) FROM monitoring_values)").Scan(&frames, &values); err != nil {
		return err
	}
	acked := b.acked.Load()
	fmt.Printf("check:                      %d frames acknowledged, %d stored, %d values (want %d)\n", acked, frames, values, acked*int64(b.factors))
	if frames != acked || values != acked*int64(b.factors) {
		return fmt.Errorf("stored data does not match the frames acknowledged")
	}
	return nil
}

// fetch GETs path from the receiver's metrics address into file.
func (b *bench) fetch(path, file string) error {
	resp, err := http.Get("http://" + b.metricsAddr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// metric returns the _sum and _count of histogram name from the receiver's /metrics.
func (b *bench) metric(name string) ([2]float64, error) {
	var out [2]float64
	resp, err := http.Get("http://" + b.metricsAddr + "/metrics")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	s := bufio.NewScanner(resp.Body)
	for s.Scan() {
		line := s.Text()
		for i, suffix := range []string{"_sum ", "_count "} {
			if v, ok := strings.CutPrefix(line, name+suffix); ok {
				out[i], _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	return out, s.Err()
}

// bucket is one cumulative histogram bucket.
type bucket struct {
	le    string
	count float64
}

// buckets reads the cumulative buckets of histogram name from the receiver's /metrics.
func (b *bench) buckets(name string) ([]bucket, error) {
	resp, err := http.Get("http://" + b.metricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []bucket
	s := bufio.NewScanner(resp.Body)
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), name+`_bucket{le="`)
		if !ok {
			continue
		}
		le, v, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		out = append(out, bucket{le, n})
	}
	return out, s.Err()
}

// quantile returns the upper bound (seconds, as text) of the bucket holding quantile q of the
// observations made between two readings.
func quantile(before, after []bucket, q float64) string {
	if len(after) == 0 {
		return "?"
	}
	total := after[len(after)-1].count
	if len(before) == len(after) {
		total -= before[len(before)-1].count
	}
	for i, a := range after {
		n := a.count
		if len(before) == len(after) {
			n -= before[i].count
		}
		if n >= q*total {
			if a.le == "+Inf" {
				return "beyond the last bucket"
			}
			v, _ := strconv.ParseFloat(a.le, 64)
			return fmt.Sprintf("%.1f ms", v*1000)
		}
	}
	return "?"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := int(p * float64(len(s)-1))
	return s[i]
}

// phase runs every logger for d: at rate frames/s in all (open loop, each logger on its own
// schedule, latency from the frame's send), or closed loop when rate is 0. With once, each
// of the first n loggers sends one frame.
func (b *bench) phase(ctx context.Context, rate int, d time.Duration, once bool, n int) ([]time.Duration, error) {
	var mu sync.Mutex
	var lats []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	interval := time.Duration(0)
	if rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(len(b.loggers)) / float64(rate))
	}
	for i, l := range b.loggers {
		if once && i >= n {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			next := time.Now()
			if interval > 0 {
				// Spread the loggers' schedules over one interval.
				next = next.Add(time.Duration(int64(interval) * int64(i) / int64(len(b.loggers))))
			}
			for {
				if !once && !time.Now().Before(deadline) {
					break
				}
				if interval > 0 {
					if w := time.Until(next); w > 0 {
						time.Sleep(w)
					}
					if !next.Before(deadline) {
						break
					}
					next = next.Add(interval)
				}
				k := int(b.seq[i].Add(1)) - 1
				sent := time.Now()
				lat, err := l.Send(ctx, b.frame(i, k))
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("logger %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				b.acked.Add(1)
				local = append(local, lat)
				if b.seconds != nil {
					b.seconds.add(sent, lat)
				}
				if once {
					break
				}
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lats, firstErr
}

// copyBaseline copies the rows ingested after the first skip rows, by COPY, into a fresh
// table with monitoring_values' columns and primary key — partitioned like it when
// partitioned, one plain table otherwise — and returns rows/s.
func copyBaseline(ctx context.Context, db *postgres.DB, skip int64, partitioned bool) (float64, int64, error) {
	ddl := `DROP TABLE IF EXISTS bench_copy;
		CREATE TABLE bench_copy (LIKE monitoring_values INCLUDING DEFAULTS INCLUDING INDEXES)`
	if partitioned {
		ddl += " PARTITION BY RANGE (data_time)"
	}
	if _, err := db.Pool.Exec(ctx, ddl); err != nil {
		return 0, 0, err
	}
	if partitioned {
		rs, err := db.Pool.Query(ctx, `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
			JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'monitoring_values'::regclass`)
		if err != nil {
			return 0, 0, err
		}
		type part struct{ name, bound string }
		parts, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) (part, error) {
			var p part
			return p, r.Scan(&p.name, &p.bound)
		})
		if err != nil {
			return 0, 0, err
		}
		for _, p := range parts {
			name := pgx.Identifier{"bench_copy" + strings.TrimPrefix(p.name, "monitoring_values")}.Sanitize()
			if _, err := db.Pool.Exec(ctx, "CREATE TABLE "+name+" PARTITION OF bench_copy "+p.bound); err != nil {
				return 0, 0, err
			}
		}
	}
	cols := []string{"mn", "cn", "data_time", "factor", "rtd", "avg", "min", "max", "cou", "zs_rtd", "zs_avg", "zs_min", "zs_max", "flag", "extra", "frame_sha256", "received_at"}
	rs, err := db.Pool.Query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM monitoring_values ORDER BY received_at OFFSET $1", skip)
	if err != nil {
		return 0, 0, err
	}
	rows, err := pgx.CollectRows(rs, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	n, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"bench_copy"}, cols, pgx.CopyFromRows(rows))
	if err != nil {
		return 0, 0, err
	}
	el := time.Since(start)
	if _, err := db.Pool.Exec(ctx, "DROP TABLE bench_copy"); err != nil {
		return 0, 0, err
	}
	return float64(n) / el.Seconds(), n, nil
}

// walMark is what PostgreSQL's server reports of its WAL and checkpoints at one time: a
// checkpoint's writes and fsyncs during a phase hold up every commit, so the phase's tail latency
// depends on whether one fell inside it (see the README on the checkpoint settings).
type walMark struct {
	checkpoints               int64
	lsn                       int64 // bytes
	maxWAL, timeout, compress string
}

func (b *bench) walMark(ctx context.Context) (walMark, error) {
	var m walMark
	err := b.pg.QueryRow(ctx, `SELECT checkpoints_timed + checkpoints_req, (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint,
		current_setting('max_wal_size'), current_setting('checkpoint_timeout'), current_setting('wal_compression')
		FROM pg_stat_bgwriter`).Scan(&m.checkpoints, &m.lsn, &m.maxWAL, &m.timeout, &m.compress)
	return m, err
}

func (m walMark) line(to walMark) string {
	return fmt.Sprintf("  PostgreSQL server:        %d checkpoint(s) began during the phase, %.0f MB of WAL written (max_wal_size %s, checkpoint_timeout %s, wal_compression %s)",
		to.checkpoints-m.checkpoints, float64(to.lsn-m.lsn)/(1<<20), to.maxWAL, to.timeout, to.compress)
}
