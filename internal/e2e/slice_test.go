package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/minio/minio-go/v7"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/testenv"
	"github.com/offsite/offsite/internal/verify"
	"github.com/offsite/offsite/internal/worker"
	"github.com/offsite/offsite/pipelines"
)

// system is the API and a worker on real services.
type system struct {
	api      *httptest.Server
	store    *s3.Store
	captures *postgres.CaptureService
	nightly  *postgres.NightlyService
	inspect  *asynq.Inspector
	client   *asynq.Client
}

// startSystem starts the API (httptest) and an asynq worker server on fresh databases and
// buckets, and stops both when the test ends.
func startSystem(t *testing.T) *system {
	t.Helper()
	if _, err := exec.LookPath("gdal_translate"); err != nil {
		t.Fatal("gdal_translate not found: install gdal-bin (make deps)")
	}
	ctx := context.Background()
	redis := testenv.Redis(t)
	s3cfg := testenv.S3Config(t)
	db, err := postgres.Open(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	store, err := s3.New(s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	client := asynq.NewClient(redis)
	t.Cleanup(func() { client.Close() })
	captures := postgres.NewCaptureService(db)
	parcels := postgres.NewParcelService(db)
	nightly := postgres.NewNightlyService(db)
	surveys := postgres.NewSurveyService(db)
	pipes, err := pipelines.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	_, keys := testenv.AuditKey(t)
	enf := postgres.NewEnforceService(db, postgres.AuditConfig{Keys: keys, Heads: store})
	deps := &worker.Deps{
		Parcels: parcels, Captures: captures, Clips: captures, Store: store, Queue: client,
		Nightly: nightly, Surveys: surveys, ListExpirer: &enforce.List{Store: postgres.NewListStore(enf)},
		Warnings: &enforce.Inspections{Store: postgres.NewInspectionStore(enf)}, WarningLevel: enforce.LevelCounty, Audit: enf, Findings: postgres.NewFindingService(db),
		Pipelines: pipes, EvidenceBucket: s3cfg.EvidenceBucket,
		Raster: raster.Env{
			S3:             raster.S3Config{Endpoint: s3cfg.Endpoint, AccessKey: s3cfg.AccessKey, SecretKey: s3cfg.SecretKey, Region: s3cfg.Region},
			AllowedBuckets: []string{s3cfg.CapturesBucket},
		},
		CapturesBucket: s3cfg.CapturesBucket,
		Logger:         logger,
	}
	srv := asynq.NewServer(redis, asynq.Config{
		Concurrency: 2, Queues: tasks.Queues, ShutdownTimeout: 10 * time.Second,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond },
		// Retries wait 200 ms, not the 5 s between asynq's default checks for due retries.
		DelayedTaskCheckInterval: 200 * time.Millisecond,
		LogLevel:                 asynq.WarnLevel,
	})
	if err := srv.Start(worker.NewServeMux(deps)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	tokens, err := httpapi.NewTokens([]httpapi.TokenEntry{{Token: adminToken, Name: "e2e-admin", Role: httpapi.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(redis)
	t.Cleanup(func() { insp.Close() })
	api := &httpapi.Server{
		Parcels: parcels, Captures: captures, Clips: captures, Artifacts: verify.Join(captures, postgres.NewFindingService(db)), Findings: postgres.NewFindingService(db), Queue: client,
		Surveys: surveys, Zones: postgres.NewZoneService(db), Nightly: nightly, Inspector: insp, KnownPipeline: func(n string) bool { _, ok := pipes[n]; return ok }, Store: store,
		CapturesBucket: s3cfg.CapturesBucket, Logger: logger,
		Enforce: enf, EnterpriseStore: postgres.NewEnterpriseStore(enf), InspectionStore: postgres.NewInspectionStore(enf), ListStore: postgres.NewListStore(enf), DrawStore: postgres.NewDrawStore(enf), Tokens: tokens,
		Checks: []httpapi.Check{{Name: "postgres", Ping: db.Ping}, {Name: "s3", Ping: store.Ping}},
	}
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(hs.Close)
	return &system{api: hs, store: store, captures: captures, nightly: nightly, inspect: insp, client: client}
}

// call sends a JSON request and decodes the JSON answer into out (when non-nil). It returns
// the status code.
func (s *system) call(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.api.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

const sceneEPSG = 32650

// adminToken is the API token of the tests' admin.
const adminToken = "e2e-admin-token-0123456789"

// writeScene makes a 4-band UInt16 scene of w x h 30 m pixels with its upper-left corner at
// (500000, 3500000) in UTM 50N and returns its bytes.
func writeScene(t *testing.T, w, h int) []byte {
	t.Helper()
	return sceneBytes(t, sample.Scene{EPSG: sceneEPSG, X0: 500000, Y0: 3500000, Pixel: 30, Width: w, Height: h, Bands: 4})
}

// sceneBytes writes sc as a GeoTIFF and returns its bytes.
func sceneBytes(t *testing.T, sc sample.Scene) []byte {
	t.Helper()
	path, err := sc.Write(t.TempDir(), "scene.tif")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parcels returns a FeatureCollection of square parcels: id → lower-left corner and side, in
// UTM 50N metres.
func parcels(t *testing.T, squares map[string][3]float64) []byte {
	t.Helper()
	var fs []sample.Feature
	for id, sq := range squares {
		f, err := sample.RectParcel(sceneEPSG, id, "parcel "+id, sq[0], sq[1], sq[2], sq[2])
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	b, err := sample.FeatureCollection(fs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upload puts a file into the captures bucket through a presigned URL from the API.
func (s *system) upload(t *testing.T, key string, data []byte) {
	t.Helper()
	var up struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	if code := s.call(t, "POST", "/api/v1/uploads", map[string]string{"key": key}, &up); code != 200 {
		t.Fatalf("POST /api/v1/uploads: status %d", code)
	}
	req, err := http.NewRequest("PUT", up.URL, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range up.Headers { // signed into the URL
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT presigned %s: %d %s", key, resp.StatusCode, body)
	}
}

func (s *system) register(t *testing.T, key string) offsite.Capture {
	t.Helper()
	var c offsite.Capture
	code := s.call(t, "POST", "/api/v1/captures", map[string]string{
		"kind": "sentinel2", "acquired_at": "2026-05-01T02:30:00Z", "key": key,
	}, &c)
	if code != http.StatusCreated {
		t.Fatalf("POST /api/v1/captures %s: status %d", key, code)
	}
	return c
}

// waitTask waits until the clip task of capture id reaches state.
func (s *system) waitTask(t *testing.T, id int64, state asynq.TaskState) *asynq.TaskInfo {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		info, err := s.inspect.GetTaskInfo(tasks.QueueDefault, tasks.CaptureClipTaskID(id))
		if err == nil && info.State == state {
			return info
		}
		if err == nil && state == asynq.TaskStateCompleted && info.State == asynq.TaskStateArchived {
			t.Fatalf("capture %d: task archived: %s", id, info.LastErr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture %d: task not %v after 90s (last: %+v, %v)", id, state, info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type clipsResponse struct {
	Status string `json:"status"`
	Clips  []struct {
		offsite.Clip
		COGURL string `json:"cog_url"`
	} `json:"clips"`
}

func (s *system) evidenceKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	for obj := range s.store.Client.ListObjects(context.Background(), s.store.Evidence, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys
}

func TestSlice(t *testing.T) {
	s := startSystem(t)
	tif := writeScene(t, 300, 200)

	// Three parcels inside the scene, one straddling its east edge, one far away.
	fc := parcels(t, map[string][3]float64{
		"p-a":    {501000, 3496000, 600},
		"p-b":    {503000, 3497000, 900},
		"p-c":    {505000, 3495000, 300},
		"p-edge": {508700, 3496000, 600},
		"p-far":  {560000, 3400000, 500},
	})
	var stored struct {
		Stored int `json:"stored"`
	}
	if code := s.call(t, "POST", "/api/v1/parcels", fc, &stored); code != 200 || stored.Stored != 5 {
		t.Fatalf("POST /api/v1/parcels: status %d, stored %d", code, stored.Stored)
	}

	s.upload(t, "sentinel2/demo/scene.tif", tif)
	c := s.register(t, "sentinel2/demo/scene.tif")
	if c.Status != offsite.CaptureQueued {
		t.Errorf("registered capture status = %q, want %q", c.Status, offsite.CaptureQueued)
	}
	s.waitTask(t, c.ID, asynq.TaskStateCompleted)

	var got offsite.Capture
	s.call(t, "GET", "/api/v1/captures/"+strconv.FormatInt(c.ID, 10), nil, &got)
	if got.Status != offsite.CaptureProcessed || got.Width != 300 || got.Height != 200 || got.Bands != 4 {
		t.Fatalf("capture after processing = %+v, want processed 300x200x4", got)
	}
	// Ingest recorded the source checksum and statistics, fetched the object once, and reads
	// the tiled GeoTIFF as it was uploaded: no conversion, no copy.
	sum := sha256.Sum256(tif)
	if got.Checksum != hex.EncodeToString(sum[:]) || got.SizeBytes != int64(len(tif)) {
		t.Errorf("checksum %s size %d, want %x %d", got.Checksum, got.SizeBytes, sum, len(tif))
	}
	if got.COGKey != got.Key || got.IngestedAt == nil || got.Ingest == nil || got.Ingest.Conversion != "" ||
		got.Ingest.FetchedBytes != int64(len(tif)) || got.Ingest.ConvertedBytes != 0 {
		t.Errorf("cog key %q (key %q), ingested at %v, ingest %+v; want the upload read as it is, fetched once", got.COGKey, got.Key, got.IngestedAt, got.Ingest)
	}
	if len(got.BandStats) != 4 || got.BandStats[0].Min < 1 || got.BandStats[0].Max <= got.BandStats[0].Min {
		t.Errorf("band stats %+v", got.BandStats)
	}
	var cr clipsResponse
	s.call(t, "GET", fmt.Sprintf("/api/v1/captures/%d/clips", c.ID), nil, &cr)
	// Like gdalwarp -crop_to_cutline, a clip covers the parcel's whole extent: p-edge
	// straddles the east edge, so half of its 20x20 window is outside the scene (nodata).
	want := map[string][2]int{"p-a": {20, 20}, "p-b": {30, 30}, "p-c": {10, 10}, "p-edge": {20, 20}}
	if len(cr.Clips) != len(want) {
		t.Fatalf("got %d clips, want %d: %+v", len(cr.Clips), len(want), cr.Clips)
	}
	for _, cl := range cr.Clips {
		size, ok := want[cl.ParcelID]
		if !ok {
			t.Errorf("unexpected clip of parcel %q", cl.ParcelID)
			continue
		}
		// A parcel reprojected from WGS84 is not exactly square on the UTM grid: allow one
		// pixel either way.
		if abs(cl.Width-size[0]) > 1 || abs(cl.Height-size[1]) > 1 {
			t.Errorf("clip %s is %dx%d, want about %dx%d", cl.ParcelID, cl.Width, cl.Height, size[0], size[1])
		}
		inside := int64(cl.Width * cl.Height)
		if cl.ParcelID == "p-edge" {
			inside /= 2
		}
		// Pixels whose centre lies in the (slightly rotated) square: all but a rim.
		if cl.ValidPixels < inside*8/10 || cl.ValidPixels > inside {
			t.Errorf("clip %s: %d valid pixels of %dx%d, want about %d", cl.ParcelID, cl.ValidPixels, cl.Width, cl.Height, inside)
		}
		checkArtifact(t, s, cl.COGKey, cl.COGSHA256)
		checkArtifact(t, s, cl.QuickLookKey, cl.QuickLookSHA256)
		checkCOG(t, cl.COGURL, cl.Width, cl.Height)
	}
	before := s.evidenceKeys(t)
	if len(before) != 2*len(want) {
		t.Errorf("evidence bucket has %d objects, want %d", len(before), 2*len(want))
	}

	// Queueing the same capture again, twice, changes nothing.
	for range 2 {
		if code := s.call(t, "POST", fmt.Sprintf("/api/v1/captures/%d/process", c.ID), nil, nil); code != http.StatusAccepted {
			t.Fatalf("POST process: status %d", code)
		}
	}
	// Force a real second run: delete the retained task and enqueue again.
	if err := s.inspect.DeleteTask(tasks.QueueDefault, tasks.CaptureClipTaskID(c.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.captures.UpdateCapture(context.Background(), c.ID, offsite.CaptureUpdate{Status: ptr(offsite.CaptureQueued)}); err != nil {
		t.Fatal(err)
	}
	task, err := tasks.NewCaptureClipTask(c.ID, tasks.QueueDefault)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	s.waitTask(t, c.ID, asynq.TaskStateCompleted)
	var again clipsResponse
	s.call(t, "GET", fmt.Sprintf("/api/v1/captures/%d/clips", c.ID), nil, &again)
	if len(again.Clips) != len(cr.Clips) {
		t.Errorf("after re-run: %d clips, want %d", len(again.Clips), len(cr.Clips))
	}
	for i := range again.Clips {
		if again.Clips[i].COGSHA256 != cr.Clips[i].COGSHA256 || !again.Clips[i].CreatedAt.Equal(cr.Clips[i].CreatedAt) {
			t.Errorf("clip %s changed on re-run", again.Clips[i].ParcelID)
		}
	}
	if after := s.evidenceKeys(t); len(after) != len(before) {
		t.Errorf("evidence objects: %d before re-run, %d after", len(before), len(after))
	}

	// Every artifact re-hashes to the digest it was recorded with.
	var rep struct {
		Checked  int   `json:"checked"`
		OK       int   `json:"ok"`
		Problems []any `json:"problems"`
	}
	if code := s.call(t, "POST", "/api/v1/evidence/verify", nil, &rep); code != 200 || rep.Checked != 2*len(want) || rep.OK != rep.Checked || len(rep.Problems) != 0 {
		t.Errorf("evidence verify: status %d, %+v", code, rep)
	}
}

func ptr[T any](v T) *T { return &v }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// checkArtifact re-hashes an evidence object and checks its key is derived from the hash.
func checkArtifact(t *testing.T, s *system, key, sum string) {
	t.Helper()
	data, err := s.store.GetEvidence(context.Background(), key)
	if err != nil {
		t.Errorf("artifact %s: %v", key, err)
		return
	}
	h := sha256.Sum256(data)
	if got := hex.EncodeToString(h[:]); got != sum || !strings.Contains(key, sum) {
		t.Errorf("artifact %s: sha256 %s, recorded %s", key, got, sum)
	}
}

// checkCOG downloads a clip through its presigned URL and checks it with gdalinfo: a COG of
// the recorded size with four UInt16 bands and nodata 0.
func checkCOG(t *testing.T, url string, w, h int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("download clip: status %d", resp.StatusCode)
	}
	f := filepath.Join(t.TempDir(), "clip.tif")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("gdalinfo", "-json", f).Output()
	if err != nil {
		t.Fatalf("gdalinfo: %v", err)
	}
	var info struct {
		Size     []int `json:"size"`
		Metadata map[string]map[string]string
		Bands    []struct {
			Type        string   `json:"type"`
			NoDataValue *float64 `json:"noDataValue"`
			Block       []int    `json:"block"`
			Description string   `json:"description"`
		} `json:"bands"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Size) != 2 || info.Size[0] != w || info.Size[1] != h {
		t.Errorf("clip size %v, recorded %dx%d", info.Size, w, h)
	}
	if len(info.Bands) != 4 {
		t.Fatalf("clip has %d bands, want 4", len(info.Bands))
	}
	for i, b := range info.Bands {
		if b.Type != "UInt16" || b.NoDataValue == nil || *b.NoDataValue != 0 {
			t.Errorf("band %d: type %s nodata %v, want UInt16 nodata 0", i+1, b.Type, b.NoDataValue)
		}
	}
	if layout := info.Metadata["IMAGE_STRUCTURE"]["LAYOUT"]; layout != "COG" {
		t.Errorf("clip layout %q, want COG", layout)
	}
}

func TestSceneOutsideAllParcels(t *testing.T) {
	s := startSystem(t)
	tif := writeScene(t, 50, 50)
	fc := parcels(t, map[string][3]float64{"far": {600000, 3300000, 500}})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	s.upload(t, "s/x.tif", tif)
	c := s.register(t, "s/x.tif")
	s.waitTask(t, c.ID, asynq.TaskStateCompleted)
	var cr clipsResponse
	s.call(t, "GET", fmt.Sprintf("/api/v1/captures/%d/clips", c.ID), nil, &cr)
	if cr.Status != offsite.CaptureProcessed || len(cr.Clips) != 0 {
		t.Errorf("status %q with %d clips, want processed with none", cr.Status, len(cr.Clips))
	}
	if keys := s.evidenceKeys(t); len(keys) != 0 {
		t.Errorf("evidence written for a scene without parcels: %v", keys)
	}
}

// TestPermanentFailures: a capture whose object disappeared and a corrupt TIFF each end with
// the task archived, the capture failed with a clear error, and nothing recorded or stored.
func TestPermanentFailures(t *testing.T) {
	s := startSystem(t)
	tif := writeScene(t, 64, 64)
	fc := parcels(t, map[string][3]float64{"p": {500300, 3498500, 600}})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}

	// Corrupt: a real TIFF header and directory, compressed tile data overwritten with garbage.
	corrupt := append([]byte(nil), tif...)
	for i := len(corrupt) / 3; i < len(corrupt); i++ {
		corrupt[i] = byte(i * 7)
	}
	// Gone: registered, then deleted from the bucket before the worker gets to it.
	cases := []struct {
		name, key string
		data      []byte
		remove    bool
		wantErr   string
	}{
		{"corrupt tiff", "s/corrupt.tif", corrupt, false, "s/corrupt.tif"},
		{"truncated tiff", "s/truncated.tif", tif[:200], false, "s/truncated.tif"},
		{"missing object", "s/gone.tif", tif, true, "does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.upload(t, tc.key, tc.data)
			var c offsite.Capture
			if tc.remove {
				// Register directly and remove the object, so the worker meets a missing key.
				c = offsite.Capture{Kind: "sentinel2", AcquiredAt: time.Now(), Bucket: s.store.Captures, Key: tc.key}
				if err := s.captures.CreateCapture(context.Background(), &c); err != nil {
					t.Fatal(err)
				}
				if err := s.store.Client.RemoveObject(context.Background(), s.store.Captures, tc.key, minio.RemoveObjectOptions{}); err != nil {
					t.Fatal(err)
				}
				task, err := tasks.NewCaptureClipTask(c.ID, tasks.QueueDefault)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.client.Enqueue(task); err != nil {
					t.Fatal(err)
				}
			} else {
				c = s.register(t, tc.key)
			}
			info := s.waitTask(t, c.ID, asynq.TaskStateArchived)
			if info.Retried != 0 {
				t.Errorf("task retried %d times; a permanent failure must not be retried (last error: %s)", info.Retried, info.LastErr)
			}
			got, err := s.captures.FindCaptureByID(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != offsite.CaptureFailed || !strings.Contains(got.Error, tc.wantErr) {
				t.Errorf("capture: status %q error %q; want failed with %q", got.Status, got.Error, tc.wantErr)
			}
			clips, err := s.captures.FindClips(context.Background(), c.ID)
			if err != nil || len(clips) != 0 {
				t.Errorf("clips recorded for a failed capture: %v %v", clips, err)
			}
		})
	}
	if keys := s.evidenceKeys(t); len(keys) != 0 {
		t.Errorf("evidence written by failed captures: %v", keys)
	}
}
