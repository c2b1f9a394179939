package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/testenv"
)

// ownPostgres is a PostgreSQL cluster of the test's own on a free loopback port: the shared
// cluster serves other test packages at the same time, so it must not be restarted.
type ownPostgres struct {
	t        *testing.T
	bin, dir string
	port     int
	owner    *user.User // the cluster's owner when the test runs as root (postgres refuses root)
}

// startOwnPostgres initialises and starts a cluster with PostgreSQL's binaries in
// /usr/lib/postgresql/<major>/bin (the newest major installed; scripts/deps.sh installs
// PostGIS for it). It is stopped and removed when the test ends.
func startOwnPostgres(t *testing.T) *ownPostgres {
	t.Helper()
	ctls, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(ctls) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no /usr/lib/postgresql/*/bin/pg_ctl: install PostgreSQL (make deps)")
		}
		t.Skip("no /usr/lib/postgresql/*/bin/pg_ctl")
	}
	major := func(p string) int { n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p)))); return n }
	slices.SortFunc(ctls, func(a, b string) int { return major(a) - major(b) })
	dir, err := os.MkdirTemp("", "offsite-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &ownPostgres{t: t, bin: filepath.Dir(ctls[len(ctls)-1]), dir: dir, port: testenv.FreePort(t)}
	if os.Geteuid() == 0 {
		if p.owner, err = user.Lookup("postgres"); err != nil {
			t.Fatalf("running as root, and no postgres user to own the test cluster: %v", err)
		}
		uid, _ := strconv.Atoi(p.owner.Uid)
		gid, _ := strconv.Atoi(p.owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	p.pg("initdb", "-D", p.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	p.start()
	t.Cleanup(func() { _ = p.cmd("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop").Run() })
	// As the shared cluster's template database has it: postgres.Open checks for PostGIS.
	conn, err := pgx.Connect(context.Background(), p.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CREATE EXTENSION postgis"); err != nil {
		t.Fatalf("create PostGIS in the test cluster: %v", err)
	}
	return p
}

func (p *ownPostgres) data() string { return filepath.Join(p.dir, "data") }

// URL is the cluster's postgres database, as its superuser.
func (p *ownPostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *ownPostgres) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	var c *exec.Cmd
	if p.owner != nil {
		c = exec.Command("runuser", append([]string{"-u", p.owner.Username, "--", path}, args...)...)
	} else {
		c = exec.Command(path, args...)
	}
	c.Dir = p.dir
	return c
}

func (p *ownPostgres) pg(name string, args ...string) {
	p.t.Helper()
	if out, err := p.cmd(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		p.t.Fatalf("%s %s: %v\n%s\nserver log:\n%s", name, strings.Join(args, " "), err, out, log)
	}
}

func (p *ownPostgres) start() {
	p.pg("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "server.log"), "-w", "-t", "60", "-o",
		fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", p.port, p.dir), "start")
}

func (p *ownPostgres) stop() { p.pg("pg_ctl", "-D", p.data(), "-m", "fast", "-w", "stop") }

// apiProcess is cmd/api run as a process, with an analyst token.
type apiProcess struct {
	t     *testing.T
	base  string
	token string
}

func (h *harness) startAPI() *apiProcess {
	t := h.t
	t.Helper()
	a := &apiProcess{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), token: "e2e-analyst-token"}
	sum := sha256.Sum256([]byte(a.token))
	tokens := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(tokens, []byte(`[{"sha256":"`+hex.EncodeToString(sum[:])+`","name":"e2e","role":"analyst"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildCmd(t, "api")
	h.run(filepath.Join(t.TempDir(), "api.log"), []string{"OFFSITE_LISTEN_ADDR=" + strings.TrimPrefix(a.base, "http://"),
		"OFFSITE_API_TOKENS_FILE=" + tokens}, bin)
	deadline := time.Now().Add(time.Minute)
	for a.call("GET", "/healthz", nil, nil) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the API process did not become healthy")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return a
}

// call sends a JSON request and decodes the answer into out; it returns the status, or 0
// when the request failed.
func (a *apiProcess) call(method, path string, body, out any) int {
	var r *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// TestPostgresRestart runs a survey (the sentinel2 pipeline on a pair, in batches of four
// parcels) through cmd/api and cmd/worker processes on a PostgreSQL cluster of its own, once
// undisturbed and once with the cluster stopped for 10 s and started again in the middle:
// the second survey ends with exactly the clips and findings of the first, no part failed
// and no task archived.
func TestPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a PostgreSQL cluster under api and worker processes")
	}
	t.Parallel() // mostly waits (builds, the restart): alongside the other fault tests
	start := time.Now()
	phase := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	pg := startOwnPostgres(t)
	phase("own cluster started")
	h := newHarnessOn(t, nil, testenv.MigrateURL(t, pg.URL()))
	phase("harness ready")
	api := h.startAPI()
	h.start()
	phase("api and worker started")

	// Two dates of a 12 km Sentinel-2-like scene with new roofs on two of the harness's parcels.
	roofs := []sample.Rect{{R0: 750, C0: 400, R1: 770, C1: 420}, {R0: 520, C0: 780, R1: 540, C1: 800}}
	var ids []int64
	for i, after := range []bool{false, true} {
		key := fmt.Sprintf("pg-restart/%d.tif", i)
		putSentinel2(t, h.store, key, 1200, after, roofs)
		var c offsite.Capture
		if code := api.call("POST", "/api/v1/captures", map[string]string{
			"kind": "sentinel2", "acquired_at": fmt.Sprintf("2026-0%d-01T02:30:00Z", 3+i), "key": key}, &c); code != 201 {
			t.Fatalf("POST capture: %d", code)
		}
		ids = append(ids, c.ID)
	}
	phase("captures registered")
	for _, id := range ids {
		h.wait(id, 3*time.Minute) // ingested and clipped, so that the surveys are planned in batches
	}
	phase("captures clipped")
	ring, err := toLonLatRing(t, [][2]float64{{500000, 3488000}, {512000, 3488000}, {512000, 3500000}, {500000, 3500000}})
	if err != nil {
		t.Fatal(err)
	}
	req := map[string]any{"zone": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}}, "batch_size": 4,
		"start": "2026-01-01T00:00:00Z", "end": "2026-12-31T00:00:00Z", "kinds": []string{"sentinel2"}, "pipeline": "sentinel2"}
	survey := func() surveyResponse {
		var sv surveyResponse
		if code := api.call("POST", "/api/v1/surveys", req, &sv); code != 201 || sv.Progress.Total < 6 {
			t.Fatalf("POST survey: %d %+v", code, sv)
		}
		return sv
	}
	// wait polls the survey until until says so; requests failing while the database is
	// down are polled again.
	wait := func(id int64, limit time.Duration, until func(surveyResponse) bool) surveyResponse {
		deadline := time.Now().Add(limit)
		for {
			var sv surveyResponse
			if api.call("GET", fmt.Sprintf("/api/v1/surveys/%d", id), nil, &sv) == 200 && until(sv) {
				return sv
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(h.logs)
				t.Fatalf("survey %d: %+v after %v; worker log:\n%s", id, sv, limit, b)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ended := func(sv surveyResponse) bool {
		return sv.Status == offsite.SurveyFinished || sv.Status == offsite.SurveyError || sv.Status == offsite.SurveyCanceled
	}
	findings := func() []string {
		var out struct {
			Features []struct {
				Properties struct {
					ID string `json:"finding_id"`
				} `json:"properties"`
			} `json:"features"`
		}
		if code := api.call("GET", "/api/v1/findings?limit=1000", nil, &out); code != 200 {
			t.Fatalf("GET findings: %d", code)
		}
		var ids []string
		for _, f := range out.Features {
			ids = append(ids, f.Properties.ID)
		}
		slices.Sort(ids)
		return ids
	}

	calm := wait(survey().ID, 3*time.Minute, ended)
	if calm.Status != offsite.SurveyFinished || calm.Progress.Failed != 0 || calm.Progress.Findings == 0 {
		t.Fatalf("undisturbed survey = %+v", calm)
	}
	want := findings()
	phase(fmt.Sprintf("undisturbed survey: %+v", calm.Progress))

	hit := survey()
	if sv := wait(hit.ID, 3*time.Minute, func(sv surveyResponse) bool { return sv.Progress.Done >= 2 || ended(sv) }); ended(sv) {
		t.Fatalf("the survey ended before the restart: %+v; give it more parts", sv)
	}
	logged, _ := os.ReadFile(h.logs)
	pg.stop()
	var during surveyResponse
	if api.call("GET", fmt.Sprintf("/api/v1/surveys/%d", hit.ID), nil, &during) == 200 {
		t.Fatal("the API answered with the database stopped")
	}
	phase("cluster stopped")
	time.Sleep(10 * time.Second)
	pg.start()
	phase("cluster started again")
	done := wait(hit.ID, 4*time.Minute, ended)
	phase(fmt.Sprintf("survey through the restart: %+v", done.Progress))
	if done.Status != offsite.SurveyFinished || done.Progress.Done != done.Progress.Total || done.Progress.Failed != 0 ||
		done.Progress.Clips != calm.Progress.Clips || done.Progress.Findings != calm.Progress.Findings {
		t.Errorf("survey through the restart = %+v; undisturbed %+v", done.Progress, calm.Progress)
	}
	if got := findings(); !slices.Equal(got, want) {
		t.Errorf("findings after the restart: %d %v; undisturbed %d %v", len(got), got, len(want), want)
	}
	for _, q := range []string{tasks.QueueCritical, tasks.QueueDefault} {
		if archived, err := h.insp.ListArchivedTasks(q); err != nil || len(archived) != 0 {
			t.Errorf("archived tasks on %s: %v, %v", q, archived, err)
		}
	}
	// The restart struck running work: the worker logged failed attempts after it.
	after, _ := os.ReadFile(h.logs)
	if !strings.Contains(string(after[len(logged):]), "task failed") {
		t.Errorf("no task failed while the database was down: did the restart strike mid-survey?\n%s", after[len(logged):])
	}
}
