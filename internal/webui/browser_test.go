package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/internal/apiclient"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/testenv"
	"github.com/offsite/offsite/internal/webui"
)

// adminToken is the token the token file seeds the first administrator ("ui-admin") with;
// the test then makes every other account through the API, each with a password, and the
// browser signs in with name and password as a person does.
const adminToken = "ui-admin-token-0123456789"

// uiRoles are the roles the browser signs in as; the user of role r is "ui-"+r with
// password uiPassword(r).
var uiRoles = []string{"admin", "analyst", "inspector", "approver", "enterprise"}

func uiPassword(role string) string { return "pw of the " + role + " 0123" }

// enterpriseUSCC is the seeded enterprise's unified social credit code, with its check
// character.
func enterpriseUSCC(t *testing.T) string {
	t.Helper()
	check, err := enforce.USCCCheckChar("91320594MA1W6K2Q3")
	if err != nil {
		t.Fatal(err)
	}
	return "91320594MA1W6K2Q3" + string(check)
}

const chromium = "/usr/bin/chromium"

// missing fails under CI and skips elsewhere: a green CI must mean the browser ran.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// repoRoot is the module's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// TestBrowser runs the web interface in headless Chromium against the real api and worker
// processes on the real services: web/tests/ui.mjs signs in, opens an enterprise, finds
// its finding on the map, queues a survey and watches it finish, and tries what the role
// forbids. On failure it saves screenshots in .state/ui-screenshots/.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the api and the worker and a browser")
	}
	root := repoRoot(t)
	if !webui.Built() {
		missing(t, "the web bundle is not built: run scripts/web.sh (make test does)")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing(t, "%s not found: scripts/deps.sh installs the chromium package", chromium)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node not found: scripts/deps.sh installs nodejs")
	}
	if _, err := os.Stat(filepath.Join(root, "web/node_modules/playwright-core")); err != nil {
		missing(t, "web/node_modules/playwright-core is missing: run scripts/web.sh (npm ci)")
	}

	bin := t.TempDir()
	for _, c := range []string{"api", "worker"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, c), "./cmd/"+c)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/%s: %v\n%s", c, err, out)
		}
	}

	// The services, as the api and worker processes see them.
	redis := testenv.Redis(t)
	s3cfg := testenv.S3Config(t)
	tokensFile := filepath.Join(t.TempDir(), "tokens.json")
	b, _ := json.Marshal([]map[string]string{{"token": adminToken, "name": "ui-admin", "role": "admin"}})
	if err := os.WriteFile(tokensFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db := testenv.Postgres(t)
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	auditKey, _ := testenv.AuditKey(t)
	env := append(os.Environ(),
		"OFFSITE_DATABASE_URL="+db.URL, "OFFSITE_AUDIT_KEY="+auditKey,
		"OFFSITE_REDIS_ADDR="+redis.Addr, "OFFSITE_REDIS_DB="+strconv.Itoa(redis.DB),
		"OFFSITE_S3_ENDPOINT="+s3cfg.Endpoint, "OFFSITE_S3_ACCESS_KEY="+s3cfg.AccessKey,
		"OFFSITE_S3_SECRET_KEY="+s3cfg.SecretKey, "OFFSITE_S3_REGION="+s3cfg.Region,
		"OFFSITE_S3_BUCKET_CAPTURES="+s3cfg.CapturesBucket, "OFFSITE_S3_BUCKET_EVIDENCE="+s3cfg.EvidenceBucket, "OFFSITE_S3_BUCKET_PROOFS="+s3cfg.ProofsBucket,
		"OFFSITE_LISTEN_ADDR="+addr, "OFFSITE_API_TOKENS_FILE="+tokensFile, "OFFSITE_BASEMAP_URL=",
		"OFFSITE_WORKER_METRICS_ADDR=off", "OFFSITE_WORKER_CONCURRENCY=2", "OFFSITE_RETRY_DELAY=1s",
		"OFFSITE_SHUTDOWN_TIMEOUT=5s", "OFFSITE_LOG_LEVEL=warn",
	)
	logs := t.TempDir()
	start(t, filepath.Join(bin, "worker"), []string{"serve"}, env, filepath.Join(logs, "worker.log"))
	start(t, filepath.Join(bin, "api"), nil, env, filepath.Join(logs, "api.log"))
	base := "http://" + addr
	waitHealthy(t, base, logs)

	admin := apiclient.New(base, adminToken)
	uscc := seed(t, admin)
	onNotice := seedOnNotice(t, admin, db.OwnerURL)
	overdue := seedOverdue(t, admin, db.OwnerURL)
	seedQuarantine(t, db.URL)
	actx, stopAnalysis := context.WithCancel(context.Background())
	defer stopAnalysis()
	go analyseWhenReleased(actx, t, db.URL, redis)
	accounts(t, admin, uscc)
	var city struct {
		ID int64 `json:"id"`
	}
	if err := admin.Do(context.Background(), "POST", "/api/v1/agencies", map[string]any{"name": "某市生态环境局", "parent_id": 1}, &city); err != nil {
		t.Fatalf("a city agency: %v", err)
	}

	shots := filepath.Join(root, ".state", "ui-screenshots", time.Now().UTC().Format("20060102T150405"))
	node := exec.Command("node", "web/tests/ui.mjs")
	node.Dir = root
	node.Env = append(os.Environ(), "OFFSITE_UI_URL="+base, "OFFSITE_UI_USCC="+uscc, "OFFSITE_UI_USCC_NOTICE="+onNotice, "OFFSITE_UI_USCC_OVERDUE="+overdue, "OFFSITE_UI_AGENCY_CITY="+strconv.FormatInt(city.ID, 10), "OFFSITE_UI_SCREENSHOTS="+shots,
		"OFFSITE_UI_CHROMIUM="+chromium, "OFFSITE_UI_QUARANTINE_MN="+quarantineMN, "OFFSITE_UI_QUARANTINE_PW="+quarantinePW)
	for _, role := range uiRoles {
		node.Env = append(node.Env, "OFFSITE_UI_PASSWORD_"+strings.ToUpper(role)+"="+uiPassword(role))
	}
	started := time.Now()
	out, err := node.CombinedOutput()
	t.Logf("node web/tests/ui.mjs (%s):\n%s", time.Since(started).Round(time.Millisecond), out)
	if err != nil {
		for _, f := range []string{"api.log", "worker.log"} {
			if b, _ := os.ReadFile(filepath.Join(logs, f)); len(b) > 0 {
				t.Logf("%s (tail):\n%s", f, tail(b, 4000))
			}
		}
		t.Fatalf("browser test failed: %v; screenshots in %s", err, shots)
	}
}

// accounts gives the seeded administrator a password and makes the other roles' users, the
// enterprise's bound to uscc, through the admin API.
func accounts(t *testing.T, admin *apiclient.Client, uscc string) {
	t.Helper()
	ctx := context.Background()
	var users struct {
		Users []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"users"`
	}
	if err := admin.Do(ctx, "GET", "/api/v1/users", nil, &users); err != nil || len(users.Users) != 1 {
		t.Fatalf("users after seeding: %+v %v", users, err)
	}
	if err := admin.Do(ctx, "POST", fmt.Sprintf("/api/v1/users/%d/password", users.Users[0].ID), map[string]any{"password": uiPassword("admin")}, nil); err != nil {
		t.Fatal(err)
	}
	for _, role := range uiRoles[1:] {
		u := map[string]any{"name": "ui-" + role, "role": role, "agency_id": 1, "password": uiPassword(role)}
		if role == "enterprise" {
			u["uscc"], u["agency_id"] = uscc, 0
		}
		if err := admin.Do(ctx, "POST", "/api/v1/users", u, nil); err != nil {
			t.Fatalf("create ui-%s: %v", role, err)
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// start runs a process until the test ends.
func start(t *testing.T, path string, args, env []string, log string) {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		f.Close()
	})
}

func waitHealthy(t *testing.T, base, logs string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(logs, "api.log"))
			t.Fatalf("api at %s not healthy after 30 s: %v\n%s", base, err, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const sceneEPSG = 32650

// seed registers, through the API, an enterprise owning parcel "site" (with a new roof in
// the later capture), a parcel "quiet" and a named zone over them, uploads and registers two Sentinel-2-like
// captures a month apart, waits for the worker to clip them, and runs the sentinel2 pipeline
// on the pair, so that the enterprise has a finding, its artifacts and an open inspection.
// It returns the enterprise's USCC.
func seed(t *testing.T, c *apiclient.Client) string {
	t.Helper()
	ctx := context.Background()
	uscc := enterpriseUSCC(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Do(ctx, "POST", "/api/v1/enterprises", map[string]any{"uscc": uscc, "name": "某精细化工有限公司", "industry": "C2614",
		"permit_no": uscc + "001P", "address": "苏州工业园区 1 号", "zone": "east", "location": []float64{117.0, 31.6}, "complaint_channel": "12369"}, nil))
	var feats []sample.Feature
	for _, p := range []struct {
		id      string
		x, y, w float64
	}{{"site", 500500, 3499150, 400}, {"quiet", 501200, 3498600, 200}} {
		f, err := sample.RectParcel(sceneEPSG, p.id, "", p.x, p.y, p.w, p.w)
		must(err)
		if p.id == "site" {
			f.Properties["uscc"] = uscc
		}
		feats = append(feats, f)
	}
	fc, err := sample.FeatureCollection(feats)
	must(err)
	must(c.Do(ctx, "POST", "/api/v1/parcels", fc, nil))

	// A named zone over the scene, for picking instead of drawing.
	corner, err := sample.ToLonLat(sceneEPSG, [][2]float64{{500000, 3498400}, {501600, 3498400}, {501600, 3500000}, {500000, 3500000}})
	must(err)
	must(c.Do(ctx, "POST", "/api/v1/zones", map[string]any{"name": "东区工业园",
		"geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{append(corner, corner[0])}}}, nil))

	dir := t.TempDir()
	var ids []int64
	for i, after := range []bool{false, true} {
		sc := sample.Sentinel2(sceneEPSG, 500000, 3500000, 160, 160, after, []sample.Rect{{R0: 60, C0: 60, R1: 76, C1: 76}})
		path, err := sc.Write(dir, fmt.Sprintf("s2-%d.tif", i))
		must(err)
		data, err := os.ReadFile(path)
		must(err)
		key := fmt.Sprintf("s2/ui-%d.tif", i)
		var up apiclient.Upload
		must(c.Do(ctx, "POST", "/api/v1/uploads", map[string]string{"key": key}, &up))
		must(c.Put(ctx, up, data))
		var capt struct {
			ID int64 `json:"id"`
		}
		at := time.Now().UTC().AddDate(0, 0, -60+30*i).Format(time.RFC3339)
		must(c.Do(ctx, "POST", "/api/v1/captures", map[string]string{"kind": "sentinel2", "acquired_at": at, "sensor": "S2B", "key": key}, &capt))
		ids = append(ids, capt.ID)
	}
	for _, id := range ids {
		poll(t, fmt.Sprintf("capture %d processed", id), func() bool {
			var cp struct {
				Status string `json:"status"`
				Error  string `json:"error"`
			}
			must(c.Do(ctx, "GET", fmt.Sprintf("/api/v1/captures/%d", id), nil, &cp))
			if cp.Status == "failed" {
				t.Fatalf("capture %d failed: %s", id, cp.Error)
			}
			return cp.Status == "processed"
		})
	}
	must(c.Do(ctx, "POST", "/api/v1/pipeline-runs", map[string]any{"pipeline": "sentinel2", "before_id": ids[0], "after_id": ids[1]}, nil))
	poll(t, "an open inspection from the finding", func() bool {
		var ins struct {
			Inspections []struct {
				Status string `json:"status"`
			} `json:"inspections"`
		}
		must(c.Do(ctx, "GET", "/api/v1/inspections?uscc="+uscc, nil, &ins))
		return len(ins.Inspections) > 0
	})
	return uscc
}

// quarantineMN is the MN of a data logger no point is registered for, whose frames the
// receiver kept in quarantine (seedQuarantine); quarantinePW is the password most of them carry.
const (
	quarantineMN = "UIQ000000000000000000001"
	quarantinePW = "q-pw-5150"
)

// seedQuarantine stores, as the HJ 212 receiver does for an MN it does not know, five hour
// uploads of SO2 from the last hours carrying quarantinePW, with three hours missing between
// them, and one carrying another password, all kept in quarantine.
func seedQuarantine(t *testing.T, dbURL string) {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := postgres.NewMonitoringStore(db)
	now := time.Now()
	if err := store.EnsureMonths(ctx, now, 1, 2); err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	var recs []*hj212.Record
	for i, ago := range []int{11, 10, 9, 5, 4, 3} {
		pw := quarantinePW
		if ago == 3 {
			pw = "another-pw"
		}
		at := now.Add(-time.Duration(ago) * time.Hour).Truncate(time.Hour).In(cst).Format("20060102150405")
		f := hj212.Parse(hj212.Encode(fmt.Sprintf("QN=%s00%d;ST=31;CN=2061;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;a21026-Avg=%d.5,a21026-Flag=N&&", at, i, pw, quarantineMN, at, 30+7*i)))
		if !f.Valid {
			t.Fatalf("seed frame: %s", f.Reason)
		}
		r := hj212.NewRecord(f, "192.0.2.7:5000", now)
		r.Quarantine = hj212.VerdictUnknownMN.Quarantine()
		recs = append(recs, r)
	}
	if err := store.WriteBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// analyseWhenReleased waits until the values of quarantineMN are released into its point's
// series (by the browser, as the administrator), then queues the analysis of the point's day
// as the nightly run does, which finds the gap in them: so the enterprise's gap event appears
// after the steps that count its warnings, for the browser to ask the logger for the gap's data.
func analyseWhenReleased(ctx context.Context, t *testing.T, dbURL string, redis asynq.RedisClientOpt) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close(context.Background())
	for {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM monitoring_values WHERE mn = $1", quarantineMN).Scan(&n); err != nil {
			if ctx.Err() == nil {
				t.Error(err)
			}
			return
		}
		if n > 0 {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
	q := asynq.NewClient(redis)
	defer q.Close()
	task, err := tasks.NewMonitoringNightlyAnalyzeTask(quarantineMN, time.Now().Truncate(time.Hour).Add(time.Hour))
	if err == nil {
		_, err = q.EnqueueContext(ctx, task)
	}
	if err != nil {
		t.Errorf("queue the analysis of the released values: %v", err)
	}
}

// seedOnNotice registers a second enterprise, proposes it for the positive list and puts it
// on public notice through the API, then moves the notice 10 days back in the database (the
// days cannot pass in a test) as the database's owner, so that the approver may list it. It
// returns its USCC.
func seedOnNotice(t *testing.T, c *apiclient.Client, dbURL string) string {
	t.Helper()
	uscc, _ := proposeOnNotice(t, c, dbURL, "91320506MA1X8B7C4", "某纸业有限公司", "苏州市吴中区 8 号")
	return uscc
}

// seedOverdue lists a third enterprise whose validity ended in 2023 without a health-check
// visit (二.4): proposed and on notice as seedOnNotice does, listed through the API, then its
// validity moved back in the database. It returns its USCC.
func seedOverdue(t *testing.T, c *apiclient.Client, dbURL string) string {
	t.Helper()
	ctx := context.Background()
	uscc, entry := proposeOnNotice(t, c, dbURL, "91320507MA1Y9C8D5", "某印染有限公司", "苏州市相城区 3 号")
	if err := c.Do(ctx, "POST", fmt.Sprintf("/api/v1/positive-list/%d/list", entry.ID), map[string]any{"version": entry.Version}, nil); err != nil {
		t.Fatalf("listing entry %d: %v", entry.ID, err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	from, to := time.Date(2020, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)
	tag, err := conn.Exec(ctx, `UPDATE list_entries SET valid_from = $2, valid_to = $3,
		doc = doc || jsonb_build_object('valid_from', $2::timestamptz, 'valid_to', $3::timestamptz) WHERE id = $1 AND status = 'listed'`, entry.ID, from, to)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("moving the validity of entry %d back: %v (%d rows)", entry.ID, err, tag.RowsAffected())
	}
	return uscc
}

// listEntryRef is an entry as the positive-list routes answer it, by id and version.
type listEntryRef struct {
	ID      int64 `json:"id"`
	Version int   `json:"version"`
}

// proposeOnNotice registers the enterprise of the USCC's first 17 characters, proposes it and
// puts it on notice, and moves the notice 10 days back in the database.
func proposeOnNotice(t *testing.T, c *apiclient.Client, dbURL, usccBase, name, address string) (string, listEntryRef) {
	t.Helper()
	ctx := context.Background()
	check, err := enforce.USCCCheckChar(usccBase)
	if err != nil {
		t.Fatal(err)
	}
	uscc := usccBase + string(check)
	var entry listEntryRef
	facts := map[string]any{"equipment_level": "advanced", "discharge_compliant": true, "total_emissions_within_permit": true,
		"monitoring_connected": true, "risk_management": true, "information_disclosed": true, "credit_rating": "A", "rectification_complete": true}
	day := func(d int) string {
		return time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, d).Format("2006-01-02")
	}
	for _, call := range []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/enterprises", map[string]any{"uscc": uscc, "name": name, "industry": "C2221", "permit_no": uscc + "001P",
			"address": address, "zone": "south", "location": []float64{117.01, 31.61}, "complaint_channel": "12369"}},
		{"/api/v1/positive-list", map[string]any{"uscc": uscc, "facts": facts}},
		{"notice", nil},
	} {
		path, body := call.path, call.body
		if path == "notice" {
			path, body = fmt.Sprintf("/api/v1/positive-list/%d/notice", entry.ID), map[string]any{"version": entry.Version, "notice_start": day(0), "notice_end": day(8)}
		}
		if err := c.Do(ctx, "POST", path, body, &entry); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// The columns and the entry's document (which the API reads) alike.
	tag, err := conn.Exec(ctx, `UPDATE list_entries SET notice_start = notice_start - interval '10 days', notice_end = notice_end - interval '10 days',
		doc = doc || jsonb_build_object('notice_start', notice_start - interval '10 days', 'notice_end', notice_end - interval '10 days',
			'notice_posted_at', (doc->>'notice_posted_at')::timestamptz - interval '10 days')
		WHERE id = $1 AND status = 'notice'`, entry.ID)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("moving the notice of entry %d back: %v (%d rows)", entry.ID, err, tag.RowsAffected())
	}
	return uscc, entry
}

func poll(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 2 minutes for %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
