// Command benchsurvey measures the service path against local mode: the sentinel2 pipeline
// on a pair of large scenes and their parcels, once with `worker process` on the files and
// once from the upload of the first capture through the API, asynq, a worker, S3 and
// PostgreSQL to the last finding recorded (arrival to evidence), side by side; then a survey
// of the later capture's parcels with one worker process and with two, in parcels/s.
//
//	benchsurvey -api http://127.0.0.1:18081 -worker bin/worker -dir .state/bench-survey
//
// It starts the worker processes itself (the environment is theirs: OFFSITE_*), and the API
// token comes from OFFSITE_DEMO_TOKEN. scripts/bench-survey.sh starts everything else.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/cmd/internal/proccpu"
	"github.com/offsite/offsite/internal/apiclient"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/sample"
	"github.com/redis/go-redis/v9"
)

const epsg = 32651

func main() {
	// Interrupted, it still stops the worker processes it started (run's defer).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "benchsurvey:", err)
		os.Exit(1)
	}
}

// The scene sits on a lattice spot of its own, away from the demo's: the Sentinel-2-sized
// pair (10980 px, 110 km a side) at x0, y0 with parcels bench-NNN; smaller pairs 200 km
// south of it with parcels bench-<size>-NNN, so that neither run's parcels lie under the
// other's scenes (the service takes every parcel under a capture) and two runs can go at
// once.
const x0, y0 = 700000.0, 3300000.0

// spot is where a pair of size pixels lies, what its parcel ids start with and what its
// files' names end with.
func spot(size int) (y float64, idPrefix, fileTag string) {
	if size >= 10000 {
		return y0, "bench-", ""
	}
	return y0 - 200000, fmt.Sprintf("bench-%d-", size), "-south"
}

type bench struct {
	api         *apiclient.Client
	workerBin   string
	dir         string
	metricsPort int
	workers     []*exec.Cmd
}

func run(ctx context.Context) error {
	api := flag.String("api", "http://127.0.0.1:18081", "API base URL")
	worker := flag.String("worker", "bin/worker", "worker binary: local mode, and the worker processes this starts")
	dir := flag.String("dir", ".state/bench-survey", "where the scenes and parcels are generated (kept between runs)")
	size := flag.Int("size", 3000, "scene side in pixels (10 m)")
	n := flag.Int("parcels", 500, "parcels")
	bands := flag.Int("bands", 8, "bands: 8 (those the pipeline reads) or 10 (with B05 and B06, as a Sentinel-2 tile's 10 m and 20 m bands)")
	port := flag.Int("metrics-port", 19092, "the first worker's metrics port; the second takes the next")
	batch := flag.Int("batch", 0, "parcels per survey part in the scale-out rows (0: parcels/10)")
	scale := flag.Bool("scale", true, "measure the survey with one and two worker processes")
	prepare := flag.Bool("prepare", false, "only generate the pair and the parcels (kept in -dir), then exit")
	flag.Parse()
	if *bands != 8 && *bands != 10 {
		return fmt.Errorf("-bands must be 8 or 10, got %d", *bands)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	b := &bench{api: apiclient.New(*api, os.Getenv("OFFSITE_DEMO_TOKEN")), workerBin: *worker, dir: *dir, metricsPort: *port}
	defer b.stopWorkers()
	roofs, parcels := layout(*size, *n)
	sy, idPrefix, fileTag := spot(*size)
	var scenes [2]string
	for i, after := range []bool{false, true} {
		p := filepath.Join(*dir, fmt.Sprintf("%s-%d%s.tif", []string{"before", "after"}[i], *size, fileTag))
		if *bands == 10 {
			p = filepath.Join(*dir, fmt.Sprintf("%s-%d%s-b10.tif", []string{"before", "after"}[i], *size, fileTag))
		}
		if _, err := os.Stat(p); err != nil {
			start := time.Now()
			sc := sample.Sentinel2(epsg, x0, sy, *size, *size, after, roofs)
			if *bands == 10 {
				sc = withRedEdge(sc)
			}
			if _, err := sc.Write(*dir, filepath.Base(p)); err != nil {
				return err
			}
			fmt.Printf("generated %s in %.1fs (load %s)\n", p, time.Since(start).Seconds(), proccpu.LoadAverage())
		}
		scenes[i] = p
	}
	// Every parcel's corners to lon/lat in one gdaltransform (sample.RectParcel runs one per
	// parcel: 10,000 of them took longer than generating the Sentinel-2-sized pair).
	corners := make([][2]float64, 0, 4*len(parcels))
	for _, r := range parcels {
		x, y, w, h := x0+float64(r.C0)*10, sy-float64(r.R1)*10, float64(r.C1-r.C0)*10, float64(r.R1-r.R0)*10
		corners = append(corners, [2]float64{x, y}, [2]float64{x + w, y}, [2]float64{x + w, y + h}, [2]float64{x, y + h})
	}
	ll, err := sample.ToLonLat(epsg, corners)
	if err != nil {
		return err
	}
	feats := make([]sample.Feature, len(parcels))
	for i := range parcels {
		f := &feats[i]
		f.Type, f.Properties = "Feature", map[string]any{"parcel_id": fmt.Sprintf("%s%03d", idPrefix, i)}
		f.Geometry.Type = "Polygon"
		f.Geometry.Coordinates = [][][2]float64{append(append([][2]float64{}, ll[4*i:4*i+4]...), ll[4*i])}
	}
	fc, err := sample.FeatureCollection(feats)
	if err != nil {
		return err
	}
	parcelsPath := filepath.Join(*dir, fmt.Sprintf("parcels-%d-%d.geojson", *size, *n))
	if err := os.WriteFile(parcelsPath, fc, 0o644); err != nil {
		return err
	}

	if *prepare {
		return nil
	}

	// Local mode on the files that are uploaded.
	loadLocal := proccpu.LoadAverage()
	local, localPhases, localFindings, err := runLocal(ctx, *worker, scenes, parcelsPath, filepath.Join(*dir, fmt.Sprintf("local-out-%d", *size)))
	if err != nil {
		return err
	}

	// Arrival to evidence: one worker process as configured (two tasks at once by default),
	// the two captures uploaded and registered (each queued for ingest and clipping on
	// arrival), and the pipeline run on the pair asked for as soon as both are registered, as
	// a client that wants the pair's findings does: the run waits for the worker's ingest of
	// the captures (it does not ingest them again) and runs while their clips are made. Timed
	// from the first upload to the worker's count of completed runs going up (findings alone
	// would not tell: ids derive from the inputs' content, so a re-run on the same files
	// records none anew), and to both captures processed (every clip on arrival recorded).
	if err := clearQueue(ctx); err != nil {
		return err
	}
	if err := b.startWorkers(ctx, 1, ""); err != nil {
		return err
	}
	if err := b.api.Do(ctx, "POST", "/api/v1/parcels", fc, nil); err != nil {
		return err
	}
	stamp := time.Now().UTC()
	// Acquisition times of this run's own, a minute apart: earlier runs' captures are all
	// before them, so the survey below pairs this run's later capture with its earlier one.
	acquired := [2]time.Time{stamp.Truncate(time.Second), stamp.Truncate(time.Second).Add(time.Minute)}
	m0, err := scrape(ctx, b.metricsURL(0))
	if err != nil {
		return err
	}
	loadService := proccpu.LoadAverage()
	startArrival := time.Now()
	var ids [2]int64
	var keys [2]string
	var uploaded time.Duration
	for i, p := range scenes {
		key := fmt.Sprintf("bench-survey/%s/%s", stamp.Format("20060102T150405"), filepath.Base(p))
		keys[i] = key
		var up apiclient.Upload
		if err := b.api.Do(ctx, "POST", "/api/v1/uploads", map[string]string{"key": key}, &up); err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		t := time.Now()
		if err := b.api.Put(ctx, up, data); err != nil {
			return err
		}
		uploaded += time.Since(t)
		var capture struct {
			ID int64 `json:"id"`
		}
		if err := b.api.Do(ctx, "POST", "/api/v1/captures", map[string]string{"kind": "sentinel2", "acquired_at": acquired[i].Format(time.RFC3339), "key": key}, &capture); err != nil {
			return err
		}
		ids[i] = capture.ID
	}
	if err := b.api.Do(ctx, "POST", "/api/v1/pipeline-runs", map[string]any{"pipeline": "sentinel2", "before_id": ids[0], "after_id": ids[1]}, nil); err != nil {
		return err
	}
	arr, err := b.waitArrival(ctx, startArrival, ids, m0[runsOK]+1)
	if err != nil {
		return err
	}
	m2 := arr.metrics
	arrival := arr.findings
	service := time.Duration((m2[taskSum] - m0[taskSum]) * float64(time.Second))
	cogKeys := arr.cogKeys
	var fcOut struct {
		NumberMatched int `json:"numberMatched"`
	}
	if err := b.api.Do(ctx, "GET", fmt.Sprintf("/api/v1/findings?capture_id=%d&limit=1", ids[1]), nil, &fcOut); err != nil {
		return err
	}
	var ingests [2]struct {
		Ingest *struct {
			Conversion     string  `json:"conversion"`
			FetchedBytes   int64   `json:"fetched_bytes"`
			ConvertedBytes int64   `json:"converted_bytes"`
			ConvertSeconds float64 `json:"convert_seconds"`
		} `json:"ingest"`
	}
	for i, id := range ids {
		if err := b.api.Do(ctx, "GET", fmt.Sprintf("/api/v1/captures/%d", id), nil, &ingests[i]); err != nil {
			return err
		}
	}

	// Local mode again, after the service path: on the COGs the service read when ingest
	// wrote them, else on the same files. On a shared machine one run of either moves by a
	// quarter with the others' load: the ratios are taken against the mean of the two.
	localCOG, cogPhases := local, localPhases
	againFiles := scenes
	if cogKeys != keys {
		for i, key := range cogKeys {
			if againFiles[i], err = download(ctx, key, *dir); err != nil {
				return err
			}
		}
	}
	if localCOG, cogPhases, _, err = runLocal(ctx, *worker, againFiles, parcelsPath, filepath.Join(*dir, fmt.Sprintf("local-cog-out-%d", *size))); err != nil {
		return err
	}
	localMean := (local + localCOG) / 2
	b.stopWorkers()

	// Scale out: a survey of the later capture's parcels in parts, with one worker process
	// and then two, each taking one task at a time (as one core each would).
	type scaleRow struct {
		took  time.Duration
		parts int
		load  string
	}
	var rows []scaleRow
	if *scale {
		bs := *batch
		if bs <= 0 {
			bs = max(1, *n/10)
		}
		for procs := 1; procs <= 2; procs++ {
			if err := b.startWorkers(ctx, procs, "1"); err != nil {
				return err
			}
			load := proccpu.LoadAverage()
			took, parts, err := b.survey(ctx, *size, acquired[1], bs)
			if err != nil {
				return err
			}
			b.stopWorkers()
			rows = append(rows, scaleRow{took, parts, load})
		}
	}

	fmt.Printf("\nbench-survey: %d parcels, sentinel2 pair %dx%d px (%d bands, 10 m), %d injected changes; 2 cores; load average (1, 5, 15 min) beside each row\n", *n, *size, *size, *bands, len(roofs))
	fmt.Printf("%-52s %9s %11s %9s   %s\n", "", "wall s", "parcels/s", "findings", "load before")
	fmt.Printf("%-52s %9.2f %11.1f %9d   %s\n", "local mode (worker process, the uploaded files)", local.Seconds(), float64(*n)/local.Seconds(), localFindings, loadLocal)
	againName := "local mode again, after the service (the same files)"
	if cogKeys != keys {
		againName = "local mode again, on the COGs the service reads"
	}
	fmt.Printf("%-52s %9.2f %11.1f   CPU %.2f s and %.2f s\n", againName, localCOG.Seconds(), float64(*n)/localCOG.Seconds(), localPhases["cpu"], cogPhases["cpu"])
	fmt.Printf("%-52s %9.2f %11.1f %9d\n", "service: the pipeline run task (worker, from start)", service.Seconds(), float64(*n)/service.Seconds(), fcOut.NumberMatched)
	fmt.Printf("%-52s %9.2f %11.1f %9s   %s\n", "arrival to evidence (first upload -> last finding)", arrival.Seconds(), float64(*n)/arrival.Seconds(), "", loadService)
	fmt.Printf("%-52s %9.2f %11.1f\n", "arrival to clips (first upload -> last clip recorded)", arr.clips.Seconds(), float64(*n)/arr.clips.Seconds())
	fmt.Printf("(findings: those recorded for the later capture; 0 on a re-run over the same files, whose finding ids exist already)\n")
	fmt.Printf("arrival-to-evidence / local mode: %.2f× (target ≤ 1.5×%s; against the mean of the two local runs, %.2f× and %.2f× against each)\n",
		arrival.Seconds()/localMean.Seconds(), map[bool]string{true: "; ≤ 2× for a Sentinel-2-sized pair", false: ""}[*size >= 10000],
		arrival.Seconds()/local.Seconds(), arrival.Seconds()/localCOG.Seconds())
	fmt.Printf("pipeline run / local mode: %.2f× (the mean of the two local runs)\n", service.Seconds()/localMean.Seconds())
	fmt.Printf("arrival: uploads %.2fs; from the first upload: both captures ingested %.2fs, clipped on arrival %.2fs, pipeline run task started %.2fs, ended %.2fs\n",
		uploaded.Seconds(), arr.ingested.Seconds(), arr.clips.Seconds(), (arrival - service).Seconds(), arrival.Seconds())
	for i, in := range ingests {
		if in.Ingest != nil {
			conv := in.Ingest.Conversion
			if conv == "" {
				conv = "none (used as uploaded)"
			}
			fmt.Printf("  capture %d: fetched %.1f MB once; conversion %s, %.1f MB in %.2fs\n", ids[i],
				float64(in.Ingest.FetchedBytes)/1e6, conv, float64(in.Ingest.ConvertedBytes)/1e6, in.Ingest.ConvertSeconds)
		}
	}
	fmt.Printf("CPU s (user and system): local mode %.2f (first run); the worker process from the first upload to the last clip and finding %.2f (ingest, clipping on arrival, the pipeline run)\n",
		localPhases["cpu"], m2[cpuSeconds]-m0[cpuSeconds])
	fmt.Printf("  per-capture stages, both captures, s (worker metrics offsite_capture_stage_seconds):")
	for _, st := range []string{"fetch", "inspect", "convert", "store", "clip", "record"} {
		k := `offsite_capture_stage_seconds_sum{stage="` + st + `"}`
		fmt.Printf(" %s %.2f", st, m2[k]-m0[k])
	}
	fmt.Println()
	if len(rows) == 2 {
		fmt.Printf("\nscale-out: a survey of the later capture's %d parcels in %d parts, each worker process taking one task at a time\n", *n, rows[0].parts)
		for i, r := range rows {
			fmt.Printf("  %d worker process%-2s %9.2f s %9.1f parcels/s   load before %s\n", i+1, map[bool]string{true: "es", false: ""}[i > 0], r.took.Seconds(), float64(*n)/r.took.Seconds(), r.load)
		}
		fmt.Printf("  2 processes / 1: %.2f× (parcels/s)\n", rows[0].took.Seconds()/rows[1].took.Seconds())
	}

	// Where the pipeline run's time went: local mode's phases as `worker process` reports
	// them, the service's from the worker's metrics (differences over the run).
	svc := func(phase string) float64 {
		k := `offsite_pipeline_phase_seconds_total{phase="` + phase + `"}`
		return m2[k] - m0[k]
	}
	task := m2[taskSum] - m0[taskSum]
	fmt.Printf("\n%-58s %9s %9s %9s\n", "pipeline run, wall s", "local", "again", "service")
	row := func(name string, l, c, s float64) {
		f := func(v float64) string {
			if v < 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f", v)
		}
		fmt.Printf("  %-56s %9s %9s %9s\n", name, f(l), f(c), f(s))
	}
	var lsum, csum, ssum float64
	phases := []struct{ key, name string }{
		{"load", "load captures and parcels (PostGIS)"},
		{"hash", "hash inputs (service: checksums from ingest)"},
		{"read", "read bands of both dates (files / S3)"},
		{"detect", "detectors and attribution"},
		{"clips", "clips and quick-looks of parcels with findings"},
		{"store", "finding files, findings.geojson, manifest"},
		{"uploads", "wait for evidence uploads (S3)"},
		{"record", "record findings and warnings (PostgreSQL)"},
	}
	for _, ph := range phases {
		l, ok := localPhases[ph.key]
		c := cogPhases[ph.key]
		if !ok {
			l, c = -1, -1
		} else {
			lsum += l
			csum += c
		}
		ssum += svc(ph.key)
		row(ph.name, l, c, svc(ph.key))
	}
	row("rest (local: start, parcels file; service: task)", local.Seconds()-lsum, localCOG.Seconds()-csum, task-ssum)
	row("API, queue wait, polling for the end", -1, -1, service.Seconds()-task)
	row("total", local.Seconds(), localCOG.Seconds(), service.Seconds())
	return nil
}

// withRedEdge adds B05 and B06 to a Sentinel2 scene: ten bands, as a tile's 10 m and 20 m
// bands resampled to 10 m.
func withRedEdge(sc sample.Scene) sample.Scene {
	values, n := sc.Values, sc.Bands
	sc.Bands = n + 2
	sc.Names = append(append([]string{}, sc.Names...), "B05", "B06")
	sc.Values = func(b, r, c int) uint16 {
		if b > n {
			return values(4, r, c)/2 + values(3, r, c)/2 // between red and NIR
		}
		return values(b, r, c)
	}
	return sc
}

// clearQueue empties the Redis database the run's workers use (OFFSITE_REDIS_DB, one of
// the bench's own), before the first worker starts: an interrupted run leaves its tasks
// there, and the worker would work them off first (a run once began with a previous run's
// clipping of the Sentinel-2-sized pair). Database 0, the demo's, is never cleared.
func clearQueue(ctx context.Context) error {
	cfg, err := cmdconfig.FromEnv()
	if err != nil {
		return err
	}
	if cfg.RedisDB == 0 {
		return errors.New("OFFSITE_REDIS_DB is 0, the demo's database: the bench clears its database at start, so it needs one of its own (scripts/bench-survey.sh sets it)")
	}
	rc, ok := cfg.Redis().MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return errors.New("no Redis client for the queue's database")
	}
	defer rc.Close()
	n, err := rc.DBSize(ctx).Result()
	if err != nil {
		return fmt.Errorf("redis database %d: %w", cfg.RedisDB, err)
	}
	if err := rc.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("clear redis database %d: %w", cfg.RedisDB, err)
	}
	if n > 0 {
		fmt.Printf("cleared Redis database %d: %d keys left by an earlier run\n", cfg.RedisDB, n)
	}
	return nil
}

func (b *bench) metricsURL(i int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", b.metricsPort+i)
}

// startWorkers starts n worker processes (`worker serve`), each with a metrics port of its
// own, concurrency tasks at a time ("" for the configured default), logging to
// dir/worker-<i>.log, and waits until each answers.
func (b *bench) startWorkers(ctx context.Context, n int, concurrency string) error {
	for i := range n {
		log, err := os.OpenFile(filepath.Join(b.dir, fmt.Sprintf("worker-%d.log", b.metricsPort+i)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		cmd := exec.Command(b.workerBin, "serve")
		cmd.Env = append(os.Environ(), fmt.Sprintf("OFFSITE_WORKER_METRICS_ADDR=127.0.0.1:%d", b.metricsPort+i))
		if concurrency != "" {
			cmd.Env = append(cmd.Env, "OFFSITE_WORKER_CONCURRENCY="+concurrency)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			log.Close()
			return err
		}
		log.Close()
		b.workers = append(b.workers, cmd)
	}
	for i := range n {
		deadline := time.Now().Add(60 * time.Second)
		for {
			if _, err := scrape(ctx, b.metricsURL(i)); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("worker %d did not answer on %s in 60s (see %s/worker-%d.log)", i, b.metricsURL(i), b.dir, b.metricsPort+i)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// stopWorkers stops the worker processes (SIGTERM: they finish their tasks) and waits.
func (b *bench) stopWorkers() {
	for _, cmd := range b.workers {
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, cmd := range b.workers {
		_ = cmd.Wait()
	}
	b.workers = nil
}

// arrival is when each step of a pair's arrival was first seen done, from the first upload.
type arrival struct {
	ingested time.Duration // both captures ingested
	clips    time.Duration // both captures processed: every clip on arrival recorded
	findings time.Duration // the pipeline run completed: its findings recorded
	cogKeys  [2]string     // the keys the captures' pixels are read from
	metrics  map[string]float64
}

// waitArrival polls worker 0's metrics and the captures ids until both are processed and
// the worker has completed runs pipeline runs, and returns when each was first seen.
func (b *bench) waitArrival(ctx context.Context, start time.Time, ids [2]int64, runs float64) (*arrival, error) {
	a := &arrival{}
	deadline := start.Add(2 * time.Hour)
	var ingested, processed [2]bool
	for {
		now := time.Since(start)
		for i, id := range ids {
			if processed[i] {
				continue
			}
			var got struct {
				Status, Error string
				COGKey        string     `json:"cog_key"`
				IngestedAt    *time.Time `json:"ingested_at"`
			}
			if err := b.api.Do(ctx, "GET", fmt.Sprintf("/api/v1/captures/%d", id), nil, &got); err != nil {
				return nil, err
			}
			if got.Status == "failed" {
				return nil, fmt.Errorf("capture %d failed: %s", id, got.Error)
			}
			ingested[i] = got.IngestedAt != nil
			processed[i] = got.Status == "processed"
			a.cogKeys[i] = got.COGKey
		}
		if a.ingested == 0 && ingested[0] && ingested[1] {
			a.ingested = now
		}
		if a.clips == 0 && processed[0] && processed[1] {
			a.clips = now
		}
		if a.findings == 0 {
			m, err := scrape(ctx, b.metricsURL(0))
			if err != nil {
				return nil, err
			}
			if m[runsFailed] > 0 {
				return nil, errors.New("the pipeline run failed: see the worker's log")
			}
			if m[runsOK] >= runs {
				a.findings, a.metrics = now, m
			}
		}
		if a.clips > 0 && a.findings > 0 {
			// The stages of clipping that ended after the run are in the metrics too.
			m, err := scrape(ctx, b.metricsURL(0))
			a.metrics = m
			return a, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the pair did not arrive in 2 hours: clipped %v, run done %v", processed, a.findings > 0)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// survey runs the sentinel2 pipeline as a survey over the scene on the captures acquired
// within a second of at (this run's later capture), in parts of batch parcels, and returns
// its wall time and its number of parts.
func (b *bench) survey(ctx context.Context, size int, at time.Time, batch int) (time.Duration, int, error) {
	side := float64(size) * 10
	sy, _, _ := spot(size)
	ll, err := sample.ToLonLat(epsg, [][2]float64{{x0, sy - side}, {x0 + side, sy - side}, {x0 + side, sy}, {x0, sy}})
	if err != nil {
		return 0, 0, err
	}
	req := map[string]any{"zone": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{append(ll, ll[0])}}, "batch_size": batch,
		"start": at.Add(-time.Second).Format(time.RFC3339), "end": at.Add(time.Second).Format(time.RFC3339), "kinds": []string{"sentinel2"}, "pipeline": "sentinel2"}
	type progress struct {
		Total, Done, Failed int
	}
	var sv struct {
		ID       int64    `json:"id"`
		Status   string   `json:"status"`
		Progress progress `json:"progress"`
	}
	start := time.Now()
	if err := b.api.Do(ctx, "POST", "/api/v1/surveys", req, &sv); err != nil {
		return 0, 0, err
	}
	for sv.Status != "finished" {
		if sv.Status == "error" || sv.Status == "canceled" || sv.Progress.Failed > 0 {
			return 0, 0, fmt.Errorf("survey %d: %s, %+v", sv.ID, sv.Status, sv.Progress)
		}
		if time.Since(start) > 2*time.Hour {
			return 0, 0, fmt.Errorf("survey %d not finished in 2 hours: %+v", sv.ID, sv.Progress)
		}
		time.Sleep(50 * time.Millisecond)
		if err := b.api.Do(ctx, "GET", fmt.Sprintf("/api/v1/surveys/%d", sv.ID), nil, &sv); err != nil {
			return 0, 0, err
		}
	}
	return time.Since(start), sv.Progress.Total, nil
}

// runLocal runs `worker process` on a pair and returns its wall time, its phases (and
// "cpu": its CPU time, user and system) and the number of findings.
func runLocal(ctx context.Context, worker string, scenes [2]string, parcels, out string) (time.Duration, map[string]float64, int, error) {
	os.RemoveAll(out)
	start := time.Now()
	cmd := exec.CommandContext(ctx, worker, "process", "--pipeline", "sentinel2", "--before", scenes[0], "--after", scenes[1],
		"--parcels", parcels, "--out", out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return 0, nil, 0, fmt.Errorf("worker process: %v\n%s", err, b)
	}
	took := time.Since(start)
	phases := parsePhases(string(b))
	phases["cpu"] = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	n, err := countFindings(filepath.Join(out, "findings.geojson"))
	return took, phases, n, err
}

// download copies an object of the captures bucket into dir (once) and returns its path.
func download(ctx context.Context, key, dir string) (string, error) {
	p := filepath.Join(dir, "cog-"+filepath.Base(key))
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	cfg, err := cmdconfig.FromEnv()
	if err != nil {
		return "", err
	}
	st, err := s3.New(cfg.S3())
	if err != nil {
		return "", err
	}
	data, err := st.GetCapture(ctx, key, -1)
	if err != nil {
		return "", err
	}
	return p, os.WriteFile(p, data, 0o644)
}

// Metric keys read from the worker.
const (
	runsOK     = `offsite_tasks_total{outcome="ok",type="pipeline:run"}`
	runsFailed = `offsite_tasks_total{outcome="failed",type="pipeline:run"}`
	taskSum    = `offsite_task_duration_seconds_sum{type="pipeline:run"}`
	cpuSeconds = `process_cpu_seconds_total`
)

// parsePhases reads the "process: phases: hash 0.31s, read 3.90s, ..." line of `worker process`.
func parsePhases(out string) map[string]float64 {
	m := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "process: phases: ")
		if !ok {
			continue
		}
		for _, part := range strings.Split(rest, ", ") {
			var name string
			var v float64
			if _, err := fmt.Sscanf(part, "%s %fs", &name, &v); err == nil {
				m[name] = v
			}
		}
	}
	return m
}

// layout places n parcels of 1–4 ha on a grid over the scene and a new roof in every tenth.
func layout(size, n int) ([]sample.Rect, []sample.Rect) {
	rng := rand.New(rand.NewPCG(1, 2))
	cols := 1
	for cols*cols < n {
		cols++
	}
	cell := size / cols
	var roofs, parcels []sample.Rect
	for i := range n {
		r0, c0 := (i/cols)*cell+2, (i%cols)*cell+2
		h, w := 10+rng.IntN(10), 10+rng.IntN(10)
		parcels = append(parcels, sample.Rect{R0: r0, C0: c0, R1: r0 + h, C1: c0 + w})
		if i%10 == 0 {
			roofs = append(roofs, sample.Rect{R0: r0 + 2, C0: c0 + 2, R1: r0 + h - 2, C1: c0 + w - 2})
		}
	}
	return roofs, parcels
}

func countFindings(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return 0, err
	}
	return len(fc.Features), nil
}

// scrape reads the worker's metrics: value by series ("name{labels}").
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[i+1:], &v); err == nil {
			m[line[:i]] = v
		}
	}
	return m, nil
}
