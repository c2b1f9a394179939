// Command benchsurvey measures the cost of the queue and the database over local mode: the
// sentinel2 pipeline on a pair of large scenes and 500 parcels, once with `worker process`
// on files and once through the API, asynq and a worker on the local services, side by side.
//
//	benchsurvey -api http://127.0.0.1:18081 -worker bin/worker -dir .state/bench-survey
//
// The API token comes from OFFSITE_DEMO_TOKEN. scripts/bench-survey.sh starts everything.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/internal/apiclient"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/sample"
)

const epsg = 32651

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "benchsurvey:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	api := flag.String("api", "http://127.0.0.1:18081", "API base URL")
	worker := flag.String("worker", "bin/worker", "worker binary, for local mode")
	dir := flag.String("dir", ".state/bench-survey", "where the scenes and parcels are generated (kept between runs)")
	size := flag.Int("size", 3000, "scene side in pixels (10 m)")
	n := flag.Int("parcels", 500, "parcels")
	metrics := flag.String("metrics", "http://127.0.0.1:19092/metrics", "the worker's metrics endpoint")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	// The scene sits on a lattice spot of its own per size, away from the demo's.
	x0, y0 := 700000.0, 3300000.0
	roofs, parcels := layout(*size, *n)
	var scenes [2]string
	for i, after := range []bool{false, true} {
		p := filepath.Join(*dir, fmt.Sprintf("%s-%d.tif", []string{"before", "after"}[i], *size))
		if _, err := os.Stat(p); err != nil {
			start := time.Now()
			if _, err := sample.Sentinel2(epsg, x0, y0, *size, *size, after, roofs).Write(*dir, filepath.Base(p)); err != nil {
				return err
			}
			fmt.Printf("generated %s in %.1fs\n", p, time.Since(start).Seconds())
		}
		scenes[i] = p
	}
	var feats []sample.Feature
	for i, r := range parcels {
		f, err := sample.RectParcel(epsg, fmt.Sprintf("bench-%03d", i), "", x0+float64(r.C0)*10, y0-float64(r.R1)*10, float64(r.C1-r.C0)*10, float64(r.R1-r.R0)*10)
		if err != nil {
			return err
		}
		feats = append(feats, f)
	}
	fc, err := sample.FeatureCollection(feats)
	if err != nil {
		return err
	}
	parcelsPath := filepath.Join(*dir, fmt.Sprintf("parcels-%d-%d.geojson", *size, *n))
	if err := os.WriteFile(parcelsPath, fc, 0o644); err != nil {
		return err
	}

	// Local mode.
	local, localPhases, localFindings, err := runLocal(ctx, *worker, scenes, parcelsPath, filepath.Join(*dir, "local-out"))
	if err != nil {
		return err
	}

	// Through the API, the queue and a worker: parcels, two captures (ingested and clipped
	// first, as they are on arrival), then the pipeline run on the pair, timed.
	c := apiclient.New(*api, os.Getenv("OFFSITE_DEMO_TOKEN"))
	if err := c.Do(ctx, "POST", "/api/v1/parcels", fc, nil); err != nil {
		return err
	}
	stamp := time.Now().UTC().Format("20060102T150405")
	var ids [2]int64
	startIngest := time.Now()
	for i, p := range scenes {
		key := fmt.Sprintf("bench-survey/%s/%s", stamp, filepath.Base(p))
		var up apiclient.Upload
		if err := c.Do(ctx, "POST", "/api/v1/uploads", map[string]string{"key": key}, &up); err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := c.Put(ctx, up, data); err != nil {
			return err
		}
		var capture struct {
			ID int64 `json:"id"`
		}
		at := time.Date(2026, time.Month(3+i), 1, 2, 30, 0, 0, time.UTC)
		if err := c.Do(ctx, "POST", "/api/v1/captures", map[string]string{"kind": "sentinel2", "acquired_at": at.Format(time.RFC3339), "key": key}, &capture); err != nil {
			return err
		}
		ids[i] = capture.ID
	}
	var cogKeys [2]string
	for i, id := range ids {
		for {
			var got struct {
				Status, Error string
				COGKey        string `json:"cog_key"`
			}
			if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/captures/%d", id), nil, &got); err != nil {
				return err
			}
			if got.Status == "failed" {
				return fmt.Errorf("capture %d failed: %s", id, got.Error)
			}
			if got.Status == "processed" {
				cogKeys[i] = got.COGKey
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ingest := time.Since(startIngest)
	// The run is timed from the request to the worker's count of completed pipeline runs
	// going up (findings alone would not tell: ids derive from the inputs' content, so a
	// re-run on the same files records none anew).
	m0, err := scrape(ctx, *metrics)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := c.Do(ctx, "POST", "/api/v1/pipeline-runs", map[string]any{"pipeline": "sentinel2", "before_id": ids[0], "after_id": ids[1]}, nil); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Minute)
	var m1 map[string]float64
	for {
		if m1, err = scrape(ctx, *metrics); err != nil {
			return err
		}
		if m1[runsOK] > m0[runsOK] {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the pipeline run did not finish in 30 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var fcOut struct {
		NumberMatched int `json:"numberMatched"`
	}
	if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/findings?capture_id=%d&limit=1", ids[1]), nil, &fcOut); err != nil {
		return err
	}
	service := time.Since(start)

	// Local mode again, on the COGs the service read (ingest wrote them): the same files.
	var cogs [2]string
	for i, key := range cogKeys {
		if cogs[i], err = download(ctx, key, *dir); err != nil {
			return err
		}
	}
	localCOG, cogPhases, _, err := runLocal(ctx, *worker, cogs, parcelsPath, filepath.Join(*dir, "local-cog-out"))
	if err != nil {
		return err
	}

	fmt.Printf("\nbench-survey: %d parcels, sentinel2 pair %dx%d px (8 bands, 10 m), %d injected changes; 2 cores\n", *n, *size, *size, len(roofs))
	fmt.Printf("%-44s %9s %11s %9s\n", "", "wall s", "parcels/s", "findings")
	fmt.Printf("%-44s %9.2f %11.1f %9d\n", "local mode (worker process, files)", local.Seconds(), float64(*n)/local.Seconds(), localFindings)
	fmt.Printf("%-44s %9.2f %11.1f\n", "local mode on the COGs the service reads", localCOG.Seconds(), float64(*n)/localCOG.Seconds())
	fmt.Printf("%-44s %9.2f %11.1f %9d\n", "service (API -> asynq -> worker -> S3 + PG)", service.Seconds(), float64(*n)/service.Seconds(), fcOut.NumberMatched)
	fmt.Printf("(findings: those recorded for the later capture; 0 on a re-run over the same files, whose finding ids exist already)\n")
	fmt.Printf("queue + database + object storage overhead: %+.1f%% (target < 10%%); %+.1f%% over local mode on the same COGs\n",
		100*(service.Seconds()/local.Seconds()-1), 100*(service.Seconds()/localCOG.Seconds()-1))
	fmt.Printf("(not in either: ingest and clipping of both captures on arrival, %.2fs; the service reads the COGs\n", ingest.Seconds())
	fmt.Printf(" ingest wrote to the captures bucket, with overviews and DEFLATE's predictor; local mode reads the uploaded files)\n")

	// Where the time went: local mode's phases as `worker process` reports them, the
	// service's from the worker's metrics (differences over the run).
	svc := func(phase string) float64 {
		k := `offsite_pipeline_phase_seconds_total{phase="` + phase + `"}`
		return m1[k] - m0[k]
	}
	task := m1[taskSum] - m0[taskSum]
	fmt.Printf("\n%-58s %9s %9s %9s\n", "breakdown, wall s", "local", "local COG", "service")
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

// runLocal runs `worker process` on a pair and returns its wall time, its phases and the
// number of findings.
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
	n, err := countFindings(filepath.Join(out, "findings.geojson"))
	return took, parsePhases(string(b)), n, err
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
	runsOK  = `offsite_tasks_total{outcome="ok",type="pipeline:run"}`
	taskSum = `offsite_task_duration_seconds_sum{type="pipeline:run"}`
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
