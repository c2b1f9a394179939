package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/testenv"
)

// buildWorker compiles cmd/worker (once per test binary).
func buildWorker(t *testing.T) string { return buildCmd(t, "worker") }

// builds holds the commands compiled by buildCmd, shared by the tests; TestMain removes them.
var builds struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

// buildCmd compiles cmd/<name> once for all the tests of the package.
func buildCmd(t *testing.T, name string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if bin, ok := builds.bins[name]; ok {
		return bin
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if builds.dir == "" {
		if builds.dir, err = os.MkdirTemp("", "offsite-e2e-bin-"); err != nil {
			t.Fatal(err)
		}
		builds.bins = map[string]string{}
	}
	bin := filepath.Join(builds.dir, name)
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, b)
	}
	builds.bins[name] = bin
	return bin
}

// harness runs cmd/worker as a separate process on fresh services, so that tests can kill it
// or cut it off from object storage.
type harness struct {
	t        *testing.T
	bin      string
	env      []string
	logs     string
	s3cfg    s3.Config
	store    *s3.Store
	captures *postgres.CaptureService
	parcels  []*offsite.Parcel
	scene    string
	client   *asynq.Client
	insp     *asynq.Inspector
}

// newHarness prepares the services and 120 parcels on a 24 km square; register uploads a
// 2400x2400 scene over them (big enough that a capture takes a few seconds). s3Endpoint, when set, is where the worker reaches the
// gateway (a proxy in front of it).
func newHarness(t *testing.T, s3Endpoint func(real string) string) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a worker process through a fault and its recovery")
	}
	return newHarnessOn(t, s3Endpoint, testenv.PostgresURL(t))
}

// newHarnessOn is newHarness on the database at dbURL.
func newHarnessOn(t *testing.T, s3Endpoint func(real string) string, dbURL string) *harness {
	t.Helper()
	h := &harness{t: t, bin: buildWorker(t), logs: filepath.Join(t.TempDir(), "worker.log")}
	ctx := context.Background()
	redis := testenv.Redis(t)
	h.s3cfg = testenv.S3Config(t)
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if h.store, err = s3.New(h.s3cfg); err != nil {
		t.Fatal(err)
	}
	endpoint := h.s3cfg.Endpoint
	if s3Endpoint != nil {
		endpoint = s3Endpoint(endpoint)
	}
	auditKey, _ := testenv.AuditKey(t)
	h.env = append(os.Environ(),
		"OFFSITE_DATABASE_URL="+dbURL, "OFFSITE_AUDIT_KEY="+auditKey,
		"OFFSITE_REDIS_ADDR="+redis.Addr, "OFFSITE_REDIS_DB="+strconv.Itoa(redis.DB),
		"OFFSITE_S3_ENDPOINT="+endpoint, "OFFSITE_S3_ACCESS_KEY="+h.s3cfg.AccessKey,
		"OFFSITE_S3_SECRET_KEY="+h.s3cfg.SecretKey, "OFFSITE_S3_REGION="+h.s3cfg.Region,
		"OFFSITE_S3_BUCKET_CAPTURES="+h.s3cfg.CapturesBucket, "OFFSITE_S3_BUCKET_EVIDENCE="+h.s3cfg.EvidenceBucket, "OFFSITE_S3_BUCKET_PROOFS="+h.s3cfg.ProofsBucket,
		"OFFSITE_WORKER_METRICS_ADDR=off", "OFFSITE_WORKER_CONCURRENCY=1",
		"OFFSITE_RETRY_DELAY=1s", "OFFSITE_SHUTDOWN_TIMEOUT=5s", "OFFSITE_LOG_LEVEL=warn",
	)
	for i := range 120 {
		x := 500000 + float64(i%12)*1900 + 100
		y := 3500000 - 24000 + float64(i/12)*2300 + 100
		f, err := sample.RectParcel(sceneEPSG, fmt.Sprintf("p%03d", i), "", x, y, 700, 500)
		if err != nil {
			t.Fatal(err)
		}
		h.parcels = append(h.parcels, &offsite.Parcel{ID: f.Properties["parcel_id"].(string), Geometry: toPolygon(f.Geometry.Coordinates[0])})
	}
	if err := postgres.NewParcelService(db).UpsertParcels(ctx, h.parcels); err != nil {
		t.Fatal(err)
	}
	h.captures = postgres.NewCaptureService(db)
	h.client = asynq.NewClient(redis)
	t.Cleanup(func() { h.client.Close() })
	h.insp = asynq.NewInspector(redis)
	t.Cleanup(func() { h.insp.Close() })
	return h
}

// start runs a worker process; it is stopped when the test ends.
func (h *harness) start() *exec.Cmd { return h.run(h.logs, nil, h.bin, "serve") }

// run runs a process with the harness's environment plus env, logging to logs; it is
// stopped when the test ends.
func (h *harness) run(logs string, env []string, bin string, args ...string) *exec.Cmd {
	f, err := os.OpenFile(logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = append(slices.Clone(h.env), env...), f, f
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		f.Close()
	})
	return cmd
}

// register uploads the scene under key, registers it and queues its clip task.
func (h *harness) register(key string) *offsite.Capture {
	t, ctx := h.t, context.Background()
	if h.scene == "" {
		sc := sample.Scene{EPSG: sceneEPSG, X0: 500000, Y0: 3500000, Pixel: 10, Width: 2400, Height: 2400, Bands: 4}
		var err error
		if h.scene, err = sc.Write(t.TempDir(), "big.tif"); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(h.scene)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if err := h.store.PutCapture(ctx, key, f, st.Size()); err != nil {
		t.Fatal(err)
	}
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Now(), Bucket: h.s3cfg.CapturesBucket, Key: key}
	if err := h.captures.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	task, err := tasks.NewCaptureClipTask(c.ID, tasks.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	return c
}

// wait waits for the clip task of capture id to complete.
func (h *harness) wait(id int64, limit time.Duration) *asynq.TaskInfo {
	t := h.t
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		info, err := h.insp.GetTaskInfo(tasks.QueueDefault, tasks.CaptureClipTaskID(id))
		if err == nil && info.State == asynq.TaskStateCompleted {
			return info
		}
		if err == nil && info.State == asynq.TaskStateArchived {
			t.Fatalf("capture %d archived: %s", id, info.LastErr)
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(h.logs)
			t.Fatalf("capture %d not done after %v (%+v, %v); worker log:\n%s", id, limit, info, err, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitProcessing waits until the worker has started on capture id.
func (h *harness) waitProcessing(id int64) {
	t := h.t
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := h.captures.FindCaptureByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == offsite.CaptureProcessing {
			return
		}
		if c.Status == offsite.CaptureProcessed || time.Now().After(deadline) {
			t.Fatalf("capture %d reached %q before the fault could strike in the middle", id, c.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameClips checks that the disturbed capture got exactly the clips of the undisturbed one,
// and that the evidence bucket holds exactly the artifacts the clips record.
func (h *harness) sameClips(calm, hit int64) {
	t, ctx := h.t, context.Background()
	want, err := h.captures.FindClips(ctx, calm)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.captures.FindClips(ctx, hit)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != len(h.parcels) || len(got) != len(want) {
		t.Fatalf("clips: undisturbed %d, disturbed %d, parcels %d", len(want), len(got), len(h.parcels))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.ParcelID != g.ParcelID || w.Width != g.Width || w.Height != g.Height || w.ValidPixels != g.ValidPixels {
			t.Errorf("clip %d: undisturbed %+v, disturbed %+v", i, w, g)
		}
	}
	// A half-done run may have stored some artifacts before the fault: the same content under
	// the same keys, so nothing is stored that no clip records.
	keys := map[string]bool{}
	for _, c := range append(want, got...) {
		keys[c.COGKey], keys[c.QuickLookKey] = true, true
	}
	stored := (&system{store: h.store}).evidenceKeys(t)
	if len(stored) != len(keys) {
		t.Errorf("evidence bucket holds %d objects, the clips record %d", len(stored), len(keys))
	}
	for _, k := range stored {
		if !keys[k] {
			t.Errorf("stored artifact %s belongs to no clip", k)
		}
	}
}

// TestWorkerKilledMidTask kills the worker with SIGKILL while it processes a capture, starts
// a new one, and checks that the capture ends with exactly the clips of an undisturbed run:
// none lost, none twice, every artifact stored once under its hash.
func TestWorkerKilledMidTask(t *testing.T) {
	t.Parallel() // mostly waits (a lease to expire): alongside the other fault tests
	h := newHarness(t, nil)
	w := h.start()
	calm := h.register("calm.tif")
	h.wait(calm.ID, 3*time.Minute)

	hit := h.register("killed.tif")
	h.waitProcessing(hit.ID)
	time.Sleep(300 * time.Millisecond)
	if err := w.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Process.Wait()
	if c, _ := h.captures.FindCaptureByID(context.Background(), hit.ID); c.Status == offsite.CaptureProcessed {
		t.Fatal("the task finished before the kill; make the scene larger")
	}
	h.start()
	// asynq hands a dead worker's task to another once its lease has been expired for 30 s.
	h.wait(hit.ID, 4*time.Minute)
	h.sameClips(calm.ID, hit.ID)
}

// TestObjectStorageOutage cuts the worker off from object storage for 30 s in the middle of a
// capture: the task fails and is retried until storage is back, and ends with the clips of an
// undisturbed run.
func TestObjectStorageOutage(t *testing.T) {
	t.Parallel() // mostly waits (the outage): alongside the other fault tests
	var proxy *outageProxy
	h := newHarness(t, func(real string) string {
		proxy = newOutageProxy(t, real)
		return proxy.addr
	})
	h.start()
	calm := h.register("calm.tif")
	h.wait(calm.ID, 3*time.Minute)

	hit := h.register("outage.tif")
	h.waitProcessing(hit.ID)
	proxy.down(true)
	time.Sleep(30 * time.Second)
	proxy.down(false)
	info := h.wait(hit.ID, 3*time.Minute)
	if info.Retried == 0 {
		t.Errorf("the task was never retried: did the outage strike?")
	}
	h.sameClips(calm.ID, hit.ID)
}

// outageProxy forwards TCP connections to the gateway, or refuses them (and cuts the open
// ones) while down.
type outageProxy struct {
	addr string
	mu   sync.Mutex
	off  bool
	open map[net.Conn]bool
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProxy{addr: ln.Addr().String(), open: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			off := p.off
			if !off {
				p.open[c] = true
			}
			p.mu.Unlock()
			if off {
				c.Close()
				continue
			}
			go p.pipe(c, target)
		}
	}()
	return p
}

func (p *outageProxy) pipe(c net.Conn, target string) {
	defer func() {
		p.mu.Lock()
		delete(p.open, c)
		p.mu.Unlock()
		c.Close()
	}()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

func (p *outageProxy) down(off bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.off = off
	if off {
		for c := range p.open {
			c.Close()
		}
	}
}

func toPolygon(ring [][2]float64) orb.Polygon {
	r := make(orb.Ring, len(ring))
	for i, p := range ring {
		r[i] = orb.Point(p)
	}
	return orb.Polygon{r}
}
