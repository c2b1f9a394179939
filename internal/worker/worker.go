// Package worker holds the asynq task handlers of cmd/worker.
package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/metrics"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/stac"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/pipelines"
)

// ObjectStore is the part of object storage the handlers use.
type ObjectStore interface {
	StatCapture(ctx context.Context, key string) (offsite.ObjectInfo, error)
	PutNewCapture(ctx context.Context, key string, r io.Reader, size int64) error
	ListCaptureObjects(ctx context.Context, prefix, suffix string, since time.Time) ([]s3.Object, error)
	GetCapture(ctx context.Context, key string, limit int64) ([]byte, error)
	PutEvidence(ctx context.Context, data []byte, ext, contentType string) (key, sum string, err error)
}

// Enqueuer puts tasks on the queue.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Deps are what the handlers need.
type Deps struct {
	Parcels  offsite.ParcelService
	Captures offsite.CaptureService
	Clips    offsite.ClipService
	Nightly  offsite.NightlyService
	Surveys  offsite.SurveyService
	// ListExpirer, when set, stores the expiry of positive-list entries past their validity
	// during the nightly sweep (enforce.Service implements it).
	ListExpirer ListExpirer
	Store       ObjectStore
	Queue       Enqueuer
	// Raster is the GDAL environment; its AllowedBuckets must contain the captures bucket.
	Raster         raster.Env
	CapturesBucket string
	EvidenceBucket string
	// SidecarPrefix is where the nightly sweep reads STAC sidecars in the captures bucket;
	// "" means s3.DefaultSidecarPrefix. Nothing outside it is read as a sidecar.
	SidecarPrefix string
	Logger        *slog.Logger
	// Pipelines are the loaded pipelines by name, for pipeline runs.
	Pipelines map[string]*pipelines.Pipeline
	// Findings stores what pipeline runs find.
	Findings offsite.FindingService
	// Warnings, when set, opens an off-site inspection for each finding of high or medium
	// severity on a parcel of an enterprise.
	Warnings WarningOpener
	// WarningLevel is the level of the enforcement body the pipeline's warnings are opened for
	// (the province configuration's level); "" means enforce.DefaultConfig().Level.
	WarningLevel enforce.Level
	// Audit, when set, checkpoints the audit chain's head on the nightly schedule.
	Audit AuditCheckpointer
	// Scenes, when set, keeps the local copies ingest fetched, for the tasks of this process
	// that read the same captures next; Raster.LocalDirs must contain its Dir.
	Scenes *SceneCache
	// Metrics, when set, counts tasks and raster reads.
	Metrics *metrics.Metrics
	// TaskTimeout, when positive, bounds each task's context.
	TaskTimeout time.Duration
	// TempDir is where tasks write temporary files: the process's own directory
	// (OpenTempDir), so that what a killed worker leaves behind is removed by the next.
	// Empty: the system's temporary directory.
	TempDir string
	// Monitoring, when set, is the store of the monitoring analysis (MonitoringHandler);
	// MonitoringConfig and MonitoringParams configure it (zero: the defaults).
	Monitoring       MonitoringStore
	MonitoringConfig monitoring.Config
	MonitoringParams monitoring.Params
	// NightlyPipelines maps a capture kind to the pipeline the nightly schedule runs on its
	// captures after clipping them; a kind not in the map is only clipped. Nil: each kind
	// gets the pipeline of Pipelines made for it (DefaultNightlyPipelines).
	NightlyPipelines map[string]string
	// Notify, when set, delivers the outbox (notify.go): in-app always, by e-mail through
	// Mailer and to webhooks through Webhooks when those are set.
	Notify   NotifyStore
	Mailer   Mailer
	Webhooks WebhookPoster

	// ingesting are this process's ingests in progress (ingestOnce).
	ingesting ingestFlights
}

// CheckNightlyPipelines reports a kind in m that is no capture kind, or a pipeline that does
// not exist in pipes or is made for another kind.
func CheckNightlyPipelines(m map[string]string, pipes map[string]*pipelines.Pipeline) error {
	for kind, name := range m {
		p, ok := pipes[name]
		switch {
		case !offsite.ValidCaptureKind(kind):
			return fmt.Errorf("%q is not one of %v", kind, offsite.CaptureKinds)
		case !ok:
			return fmt.Errorf("%s: no pipeline %q", kind, name)
		case p.Kind != kind:
			return fmt.Errorf("%s: pipeline %q is for %s captures", kind, name, p.Kind)
		}
	}
	return nil
}

// DefaultNightlyPipelines maps each capture kind to the pipeline for it in pipes: the one
// named after the kind when there are several.
func DefaultNightlyPipelines(pipes map[string]*pipelines.Pipeline) map[string]string {
	m := map[string]string{}
	for name, p := range pipes {
		if cur, ok := m[p.Kind]; !ok || name == p.Kind || cur != p.Kind && name < cur {
			m[p.Kind] = name
		}
	}
	return m
}

// NewServeMux registers every handler on a new asynq.ServeMux.
func NewServeMux(d *Deps) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	if d.Metrics != nil {
		mux.Use(d.Metrics.Middleware)
	}
	if d.TaskTimeout > 0 {
		mux.Use(func(next asynq.Handler) asynq.Handler {
			return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
				ctx, cancel := context.WithTimeout(ctx, d.TaskTimeout)
				defer cancel()
				return next.ProcessTask(ctx, t)
			})
		})
	}
	mux.Handle(tasks.TypeCaptureClip, &ClipHandler{d})
	mux.Handle(tasks.TypeNightlySweep, &SweepHandler{d})
	mux.Handle(tasks.TypeSurveyPart, &SurveyPartHandler{d})
	mux.Handle(tasks.TypePipelineRun, &PipelineHandler{d})
	if d.Audit != nil {
		mux.Handle(tasks.TypeAuditCheckpoint, &AuditCheckpointHandler{d})
	}
	if d.Monitoring != nil {
		mux.Handle(tasks.TypeMonitoringAnalyze, &MonitoringHandler{d})
		mux.Handle(tasks.TypeMonitoringNightly, &MonitoringNightlyHandler{d})
	}
	if d.Notify != nil {
		mux.Handle(tasks.TypeNotifySweep, &NotifySweepHandler{d})
		mux.Handle(tasks.TypeNotifyDeliver, &NotifyDeliverHandler{d})
		mux.Handle(tasks.TypeNotifyRetry, &NotifyRetryHandler{d})
	}
	return mux
}

// permanent marks err as not worth retrying: asynq archives the task at once.
func permanent(err error) error { return fmt.Errorf("%w: %w", err, asynq.SkipRetry) }

// ClipHandler clips one capture to every parcel it intersects, stores a COG and a quick-look
// per parcel in the evidence bucket and records the clips, then runs the task's pipeline on
// it when it names one (the nightly schedule's tasks, and a failed one queued again). It is
// idempotent: artifacts are content-addressed and clips are keyed by (capture, parcel).
//
// A failure for good (asynq.SkipRetry, or the last attempt) is recorded on the capture:
// status failed, the message, and where (offsite.CaptureFailure); a later successful run
// clears it. Clips and findings already recorded stay.
type ClipHandler struct{ *Deps }

// ProcessTask implements asynq.Handler.
func (h *ClipHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseCaptureClip(t)
	if err != nil {
		return permanent(err)
	}
	if _, err = h.processCapture(ctx, p.CaptureID, p.Pipeline); err != nil || p.Pipeline == "" {
		return err
	}
	if err := h.runPipeline(ctx, p); err != nil {
		if forGood(ctx, err) {
			if rerr := h.recordFailure(ctx, p.CaptureID, offsite.StagePipeline, p.Pipeline, err); rerr != nil {
				return rerr
			}
		}
		return err
	}
	return nil
}

// runPipeline runs the task's pipeline on its capture, clipped already, and marks the capture
// processed, clearing any failure recorded before.
func (h *ClipHandler) runPipeline(ctx context.Context, p tasks.CaptureClipPayload) error {
	pipe, ok := h.Pipelines[p.Pipeline]
	if !ok {
		return permanent(fmt.Errorf("worker: unknown pipeline %q", p.Pipeline))
	}
	c, err := h.Captures.FindCaptureByID(ctx, p.CaptureID)
	if err != nil {
		return err
	}
	if _, err := h.detect(ctx, c, pipe, nil); err != nil {
		return fmt.Errorf("pipeline %s on capture %d: %w", pipe.Name, c.ID, err)
	}
	_, err = h.Captures.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{
		Status: ptr(offsite.CaptureProcessed), Error: ptr(""), ClearFailure: true,
	})
	return err
}

// forGood reports whether asynq will not run the task again after it fails with err: err is
// marked asynq.SkipRetry or this is the last attempt. A task stopped because the worker
// shuts down (its context canceled) is run again, so it is not failed for good.
func forGood(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.Canceled) {
		return false
	}
	return errors.Is(err, asynq.SkipRetry) || lastAttempt(ctx)
}

// recordTimeout bounds the recording of a failure, which must outlive the task's context
// (its deadline may be what failed it).
const recordTimeout = 30 * time.Second

// recordFailure marks capture id failed at stage with cause's message, the running task, its
// queue and attempt, and pipeline (the task's pipeline, "" when it has none). A capture that
// no longer exists is no error. When the record cannot be written the error says so; on an
// attempt that is not the last asynq then runs the task again, which records it then.
func (d *Deps) recordFailure(ctx context.Context, id int64, stage, pipeline string, cause error) error {
	f := &offsite.CaptureFailure{Stage: stage, Pipeline: pipeline, Attempts: 1, At: time.Now().UTC()}
	f.TaskID, _ = asynq.GetTaskID(ctx)
	f.Queue, _ = asynq.GetQueueName(ctx)
	if n, ok := asynq.GetRetryCount(ctx); ok {
		f.Attempts = n + 1
	}
	msg := strings.TrimSuffix(cause.Error(), ": "+asynq.SkipRetry.Error())
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	_, err := d.Captures.UpdateCapture(rctx, id, offsite.CaptureUpdate{
		Status: ptr(offsite.CaptureFailed), Error: &msg, Failure: f,
	})
	if err != nil && !errors.Is(err, offsite.ErrNotFound) {
		return fmt.Errorf("record the failure of capture %d (%s): %w", id, msg, err)
	}
	if d.Logger != nil {
		d.Logger.ErrorContext(ctx, "capture failed", "capture_id", id, "stage", stage, "pipeline", pipeline,
			"task_id", f.TaskID, "attempts", f.Attempts, "err", msg)
	}
	return nil
}

// processCapture ingests and clips capture id unless it is processed already, and returns the
// number of clips it has. Failures no retry can fix, and any failure on the task's last
// attempt, are recorded on the capture (recordFailure, naming pipeline, the pipeline the task
// runs next); failures no retry can fix are wrapped with asynq.SkipRetry. When pipeline is not
// empty the capture stays processing: the pipeline run marks it processed.
func (h *ClipHandler) processCapture(ctx context.Context, id int64, pipeline string) (int, error) {
	n, err := h.clipCapture(ctx, id, pipeline)
	if err != nil && forGood(ctx, err) {
		if rerr := h.recordFailure(ctx, id, offsite.StageClip, pipeline, err); rerr != nil {
			return 0, rerr
		}
	}
	return n, err
}

// clipCapture does the work of processCapture.
func (h *ClipHandler) clipCapture(ctx context.Context, id int64, pipeline string) (int, error) {
	c, err := h.Captures.FindCaptureByID(ctx, id)
	if errors.Is(err, offsite.ErrNotFound) {
		return 0, permanent(err)
	} else if err != nil {
		return 0, err
	}
	log := h.Logger.With("capture_id", c.ID, "key", c.Key)
	// What success records: processed, unless a pipeline run follows.
	done := offsite.CaptureUpdate{Status: ptr(offsite.CaptureProcessed), Error: ptr(""), ClearFailure: true}
	if pipeline != "" {
		done = offsite.CaptureUpdate{Status: ptr(offsite.CaptureProcessing)}
	}
	if isTrack(c.Kind) {
		// A track has no pixels to clip: it is checked and read by pipeline runs.
		if c.Status != offsite.CaptureProcessed {
			if _, err := h.Store.StatCapture(ctx, c.Key); errors.Is(err, offsite.ErrNotFound) {
				return 0, permanent(fmt.Errorf("capture %d: object %s/%s does not exist", c.ID, c.Bucket, c.Key))
			} else if err != nil {
				return 0, err
			}
			if _, err := h.Captures.UpdateCapture(ctx, c.ID, done); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}
	if c.Status == offsite.CaptureProcessed {
		clips, err := h.Clips.FindClips(ctx, c.ID)
		log.InfoContext(ctx, "capture already processed")
		return len(clips), err
	}
	clips, err := h.clip(ctx, c)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := h.Clips.RecordClips(ctx, clips); err != nil {
		return 0, err
	}
	if _, err := h.Captures.UpdateCapture(ctx, c.ID, done); err != nil {
		return 0, err
	}
	h.Metrics.ObserveCaptureStage("record", time.Since(start))
	log.InfoContext(ctx, "capture clipped", "clips", len(clips))
	return len(clips), nil
}

func ptr[T any](v T) *T { return &v }

// clip does the work of ProcessTask up to recording: it returns the clips to record.
// Permanent failures (missing object, unusable scene) are wrapped with asynq.SkipRetry.
func (h *ClipHandler) clip(ctx context.Context, c *offsite.Capture) ([]*offsite.Clip, error) {
	if c.Bucket != h.CapturesBucket {
		return nil, permanent(fmt.Errorf("capture %d is in bucket %q, not the captures bucket %q", c.ID, c.Bucket, h.CapturesBucket))
	}
	if err := h.checkScene(ctx, c); err != nil {
		return nil, err
	}
	if _, err := h.Captures.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Status: ptr(offsite.CaptureProcessing)}); err != nil {
		return nil, err
	}
	if c.IngestedAt == nil {
		var err error
		if c, err = h.ingestOnce(ctx, c); err != nil {
			return nil, err
		}
	}
	if c.Footprint == nil || c.COGKey == "" {
		return nil, permanent(fmt.Errorf("capture %d: ingested without a footprint or COG key", c.ID))
	}
	src := h.sceneSource(c)
	start := time.Now()
	parcels, _, err := h.Parcels.FindParcels(ctx, offsite.ParcelFilter{Intersects: c.Footprint})
	if err != nil {
		return nil, err
	}
	rps := make([]raster.Parcel, len(parcels))
	for i, p := range parcels {
		rps[i] = raster.Parcel{ID: p.ID, Geometry: p.Geometry}
	}
	opts := raster.ClipOptions{Tags: map[string]string{
		"OFFSITE_CAPTURE_ID":  fmt.Sprint(c.ID),
		"OFFSITE_CAPTURE_KEY": c.Bucket + "/" + c.Key,
		"OFFSITE_VERSION":     offsite.Version,
	}}
	var clips []*offsite.Clip
	// The artifacts are stored a few at a time in the background while the next parcels are
	// clipped (their keys follow from their SHA-256): stored one after another, the two
	// requests each of a PUT and its existence check made most of the clipping's time.
	sink := newEvidenceSink(h.Store)
	stats, err := raster.Clip(ctx, h.Raster, src, rps, opts, func(out raster.ClipOutput) error {
		cogKey, cogSum, err := sink.Put(ctx, out.ParcelID+".tif", out.COG, "image/tiff; application=geotiff; profile=cloud-optimized")
		if err != nil {
			return err
		}
		pngKey, pngSum, err := sink.Put(ctx, out.ParcelID+".png", out.QuickLook, "image/png")
		if err != nil {
			return err
		}
		clips = append(clips, &offsite.Clip{
			CaptureID: c.ID, ParcelID: out.ParcelID,
			COGKey: cogKey, COGSHA256: cogSum, COGBytes: int64(len(out.COG)),
			QuickLookKey: pngKey, QuickLookSHA256: pngSum,
			Width: out.Width, Height: out.Height, ValidPixels: out.ValidPixels,
		})
		return nil
	})
	h.Metrics.AddRead(stats.BytesRead, stats.BytesFetched)
	if werr := sink.wait(); err == nil && werr != nil {
		return nil, werr
	}
	if err != nil {
		return nil, classify(c, err)
	}
	h.Metrics.ObserveCaptureStage("clip", time.Since(start))
	return clips, nil
}

// minSceneBytes is the size of the smallest GeoTIFF header: a shorter object cannot be a
// scene, and no retry will make it one.
const minSceneBytes = 8

// checkScene fails for good when the object of scene capture c is missing, empty or too
// short to hold a GeoTIFF header.
func (h *ClipHandler) checkScene(ctx context.Context, c *offsite.Capture) error {
	st, err := h.Store.StatCapture(ctx, c.Key)
	switch {
	case errors.Is(err, offsite.ErrNotFound):
		return permanent(fmt.Errorf("capture %d: object %s/%s does not exist", c.ID, c.Bucket, c.Key))
	case err != nil:
		return err
	case st.Size == 0:
		return permanent(fmt.Errorf("capture %d: object %s/%s is empty", c.ID, c.Bucket, c.Key))
	case st.Size < minSceneBytes:
		return permanent(fmt.Errorf("capture %d: object %s/%s is too short for a GeoTIFF (%d bytes)", c.ID, c.Bucket, c.Key, st.Size))
	}
	return nil
}

// ingest checks the capture, records what it is (CRS, size, bands, checksum, valid-data
// footprint, band statistics, what ingest did) and, when the source is neither a COG nor
// tiled with overviews, stores a readable copy of it in the captures bucket under
// cog/<sha256 of the copy>.tif so that clipping reads windows. The object is fetched once,
// hashed while it streams into the task's directory, and everything else reads that copy,
// which the process keeps (Scenes) for the clipping and the pipeline run that follow.
func (h *ClipHandler) ingest(ctx context.Context, c *offsite.Capture) (*offsite.Capture, error) {
	if err := h.checkScene(ctx, c); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(h.TempDir, "offsite-ingest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	res, err := raster.Ingest(ctx, h.Raster, raster.S3Source(c.Bucket, c.Key),
		raster.IngestOptions{COGPath: filepath.Join(dir, "cog.tif"), Dir: dir})
	if err != nil {
		return nil, classify(c, err)
	}
	cogKey, digest := c.Key, res.SHA256
	var stored time.Duration
	if res.COGWritten {
		start := time.Now()
		if cogKey, digest, err = h.storeCOG(ctx, res.Stored); err != nil {
			return nil, err
		}
		stored = time.Since(start)
	}
	if res.Local != "" {
		h.Scenes.Add(digest, res.Local)
	}
	st := res.Stages
	rec := &offsite.CaptureIngest{
		FetchedBytes: st.FetchedBytes, Conversion: res.Conversion, ConvertedBytes: st.ConvertedBytes,
		FetchSeconds: st.Fetch.Seconds(), HashSeconds: st.Hash.Seconds(), InspectSeconds: st.Inspect.Seconds(),
		ConvertSeconds: st.Convert.Seconds(), StoreSeconds: stored.Seconds(),
	}
	for _, s := range []struct {
		name string
		d    time.Duration
	}{{"fetch", st.Fetch}, {"hash", st.Hash}, {"inspect", st.Inspect}, {"convert", st.Convert}, {"store", stored}} {
		h.Metrics.ObserveCaptureStage(s.name, s.d)
	}
	h.Metrics.AddIngest(res.Conversion, st.FetchedBytes, st.ConvertedBytes)
	h.Logger.InfoContext(ctx, "capture ingested", "capture_id", c.ID, "conversion", res.Conversion,
		"fetched_bytes", st.FetchedBytes, "converted_bytes", st.ConvertedBytes, "fetch_s", st.Fetch.Seconds(),
		"inspect_s", st.Inspect.Seconds(), "convert_s", st.Convert.Seconds(), "store_s", stored.Seconds())
	stats := make([]offsite.BandStats, len(res.Stats))
	for i, b := range res.Stats {
		stats[i] = offsite.BandStats{Band: b.Band, Description: b.Description, Min: b.Min, Max: b.Max,
			Mean: b.Mean, StdDev: b.StdDev, ValidPixels: b.ValidPixels, Approximate: b.Approximate}
	}
	info := res.Info
	return h.Captures.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{
		CRS: &info.CRS, Width: &info.Width, Height: &info.Height, Bands: &info.Bands,
		Checksum: &res.SHA256, SizeBytes: &res.Size, COGKey: &cogKey, BandStats: stats, Ingest: rec,
		Warnings: append([]string{}, res.Warnings...), Footprint: res.Footprint, Ingested: true,
	})
}

// storeCOG stores the COG at path in the captures bucket under cog/<its SHA-256>.tif, so that
// its key records its digest (worker verify checks it). A COG already stored under that key
// is the same bytes and is kept: none is ever replaced.
// It returns the key and the digest.
func (h *ClipHandler) storeCOG(ctx context.Context, path string) (string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sum := sha256.New()
	size, err := io.Copy(sum, f)
	if err != nil {
		return "", "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", "", err
	}
	digest := hex.EncodeToString(sum.Sum(nil))
	key := s3.COGPrefix + digest + ".tif"
	if err := h.Store.PutNewCapture(ctx, key, f, size); err != nil && !errors.Is(err, offsite.ErrConflict) {
		return "", "", err
	}
	return key, digest, nil
}

// classify marks raster errors that no retry can fix as permanent.
func classify(c *offsite.Capture, err error) error {
	if errors.Is(err, raster.ErrUnusableScene) || errors.Is(err, raster.ErrInvalidSource) {
		return permanent(fmt.Errorf("capture %d (%s/%s): %w", c.ID, c.Bucket, c.Key, err))
	}
	return err
}

// SweepHandler is the nightly run. It registers the captures dropped into the captures bucket
// with a sidecar STAC Item (key ending ".json" under SidecarPrefix, which only operators
// write) since the last successful run, then queues the
// clip task of every capture still registered but not queued (new ones, and any whose enqueue
// failed), which also runs the nightly pipeline of the capture's kind (NightlyPipelines). Task
// ids are deterministic and registration is keyed by object, so a sweep run twice (by two
// workers' schedulers, or a retry) registers and queues nothing twice.
type SweepHandler struct{ *Deps }

// ListExpirer marks positive-list entries past their validity as expired, audited as actor.
type ListExpirer interface {
	Expire(ctx context.Context, a enforce.Actor) (int, error)
}

// nightlyActor is who the audit log names for the nightly sweep's changes.
var nightlyActor = enforce.Actor{Name: "nightly-sweep", Role: enforce.RoleSystem}

// CaptureLister lists captures by status; the Postgres capture service implements it.
type CaptureLister interface {
	FindCaptureIDsByStatus(ctx context.Context, status string, limit int) ([]int64, error)
}

// sidecarOverlap widens the window of objects a run looks at beyond the last successful
// run's start, against clock differences between the storage and the database.
const sidecarOverlap = time.Hour

// ProcessTask implements asynq.Handler.
func (h *SweepHandler) ProcessTask(ctx context.Context, t *asynq.Task) (err error) {
	lister, ok := h.Captures.(CaptureLister)
	if !ok {
		return permanent(errors.New("worker: capture service cannot list captures by status"))
	}
	run, lastOK, err := h.Nightly.StartRun(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			run.Error = err.Error()
		}
		if ferr := h.Nightly.FinishRun(context.WithoutCancel(ctx), run); ferr != nil && err == nil {
			err = ferr
		}
		h.Logger.InfoContext(ctx, "nightly sweep", "run", run.ID, "scanned", run.Scanned,
			"registered", run.Registered, "queued", run.Queued, "problems", len(run.Problems), "err", run.Error)
	}()
	if err := h.registerSidecars(ctx, run, lastOK.Add(-sidecarOverlap)); err != nil {
		return err
	}
	if h.ListExpirer != nil {
		n, err := h.ListExpirer.Expire(ctx, nightlyActor)
		if err != nil {
			return err
		}
		run.Expired = n
	}
	ids, err := lister.FindCaptureIDsByStatus(ctx, offsite.CaptureRegistered, 10000)
	if err != nil {
		return err
	}
	pipes := h.NightlyPipelines
	if pipes == nil {
		pipes = DefaultNightlyPipelines(h.Pipelines)
	}
	for _, id := range ids {
		c, err := h.Captures.FindCaptureByID(ctx, id)
		if err != nil {
			return err
		}
		task, err := tasks.NewCaptureRunTask(id, tasks.QueueNightly, pipes[c.Kind])
		if err != nil {
			return err
		}
		_, err = h.Queue.EnqueueContext(ctx, task)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			continue
		} else if err != nil {
			return err
		}
		run.Queued++
		if err := h.Nightly.AddRunCapture(ctx, run.ID, id, pipes[c.Kind]); err != nil {
			return err
		}
	}
	return nil
}

// maxSidecar bounds the size of a STAC Item read from the bucket.
const maxSidecar = 1 << 20

// registerSidecars registers the capture of every STAC sidecar modified since. A sidecar that
// cannot be used is a problem of the run, not a failure: the others are registered.
func (h *SweepHandler) registerSidecars(ctx context.Context, run *offsite.NightlyRun, since time.Time) error {
	prefix := h.SidecarPrefix
	if prefix == "" {
		prefix = s3.DefaultSidecarPrefix
	}
	objs, err := h.Store.ListCaptureObjects(ctx, prefix, ".json", since)
	if err != nil {
		return err
	}
	for _, o := range objs {
		run.Scanned++
		data, err := h.Store.GetCapture(ctx, o.Key, maxSidecar)
		if errors.Is(err, offsite.ErrInvalid) || errors.Is(err, offsite.ErrNotFound) {
			run.Problems = append(run.Problems, fmt.Sprintf("%s: %v", o.Key, err))
			continue
		} else if err != nil {
			return err
		}
		spec, err := stac.Parse(data, h.CapturesBucket, o.Key, s3.AppPrefixes)
		if err != nil {
			run.Problems = append(run.Problems, err.Error())
			continue
		}
		if _, err := h.Store.StatCapture(ctx, spec.Key); errors.Is(err, offsite.ErrNotFound) {
			run.Problems = append(run.Problems, fmt.Sprintf("%s: its capture %s is not in the bucket", o.Key, spec.Key))
			continue
		} else if err != nil {
			return err
		}
		c := &offsite.Capture{Kind: spec.Kind, AcquiredAt: spec.AcquiredAt, Sensor: spec.Sensor, Bucket: h.CapturesBucket, Key: spec.Key,
			BandScales: spec.Bands}
		if err := h.Captures.CreateCapture(ctx, c); errors.Is(err, offsite.ErrConflict) {
			continue // registered before: through the API or an earlier run
		} else if err != nil {
			return err
		}
		run.Registered++
	}
	return nil
}

// SurveyPartHandler processes one capture of a survey: it ingests and clips it, then runs the
// survey's pipeline on it, paired with the nearest earlier capture of the same kind that
// the pipeline can use (detect), and records the part's outcome, which ends the survey when
// it was the last. A part of a canceled survey does nothing.
type SurveyPartHandler struct{ *Deps }

// PairFinder finds the capture a change detection pairs a capture with.
type PairFinder interface {
	// FindEarlierCapture returns the latest capture of c's kind before it, not failed, that
	// has bands and covers minOverlap of c, or one not ingested yet; nil when there is none.
	FindEarlierCapture(ctx context.Context, c *offsite.Capture, minOverlap float64, bands []string) (*offsite.Capture, error)
}

// minPairOverlap is the share of a capture's valid footprint that its earlier pair must cover.
const minPairOverlap = 0.5

// ProcessTask implements asynq.Handler.
func (h *SurveyPartHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseSurveyPart(t)
	if err != nil {
		return permanent(err)
	}
	part, err := h.Surveys.StartPart(ctx, p.SurveyID, p.CaptureID, p.Batch)
	if errors.Is(err, offsite.ErrNotFound) {
		return permanent(err)
	} else if err != nil {
		return err
	}
	if part == nil {
		return nil // canceled
	}
	clips, findings, err := h.part(ctx, part)
	if err != nil && !errors.Is(err, asynq.SkipRetry) && !lastAttempt(ctx) {
		return err // retried; the part stays running
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if eerr := h.Surveys.EndPart(ctx, p.SurveyID, p.CaptureID, p.Batch, clips, findings, msg); eerr != nil {
		return eerr
	}
	h.Logger.InfoContext(ctx, "survey part done", "survey_id", p.SurveyID, "capture_id", p.CaptureID, "batch", p.Batch,
		"clips", clips, "findings", findings, "err", msg)
	return err
}

// part clips the part's capture (once for all its batches: a processed capture is not clipped
// again) and runs the survey's pipeline on the part's parcels. It returns the clips of those
// parcels, so that the parts' counts add up to the capture's clips.
func (h *SurveyPartHandler) part(ctx context.Context, p *offsite.SurveyPart) (clips, findings int, err error) {
	if clips, err = (&ClipHandler{h.Deps}).processCapture(ctx, p.CaptureID, ""); err != nil {
		return 0, 0, err
	}
	if p.ParcelIDs != nil {
		all, err := h.Clips.FindClips(ctx, p.CaptureID)
		if err != nil {
			return 0, 0, err
		}
		clips = 0
		for _, c := range all {
			if slices.Contains(p.ParcelIDs, c.ParcelID) {
				clips++
			}
		}
	}
	if p.ParcelIDs != nil && len(p.ParcelIDs) == 0 {
		return clips, 0, nil // none of the survey's parcels is under the capture
	}
	sv, err := h.Surveys.FindSurveyByID(ctx, p.SurveyID)
	if err != nil {
		return clips, 0, err
	}
	pipe, ok := h.Pipelines[sv.Pipeline]
	if !ok {
		return clips, 0, nil // clipping only: no detectors configured for this survey
	}
	c, err := h.Captures.FindCaptureByID(ctx, p.CaptureID)
	if err != nil {
		return clips, 0, err
	}
	if pipe.Kind != c.Kind {
		return clips, 0, nil // the pipeline is for other captures of the survey
	}
	findings, err = h.detect(ctx, c, pipe, p.ParcelIDs)
	return clips, findings, err
}

// detect runs pipe on capture c (surveys and the nightly schedule alike), on the parcels
// parcelIDs under it (nil: every parcel under it), and returns the number of findings
// recorded. A pipeline that detects change pairs c with the nearest earlier capture of its
// kind that it can use: not failed, with every band the pipeline reads, covering at least
// half of c (one date alone when there is none). A capture it cannot use (a one-band scene
// registered as sentinel2) is passed over, not paired with every later one.
func (d *Deps) detect(ctx context.Context, c *offsite.Capture, pipe *pipelines.Pipeline, parcelIDs []string) (int, error) {
	if d.Findings == nil {
		return 0, nil // clipping only: nowhere to record findings
	}
	run := tasks.PipelineRunPayload{Pipeline: pipe.Name, CaptureID: c.ID}
	if pf, ok := d.Captures.(PairFinder); ok && pipe.Detector(pipelines.TypeChange) != nil {
		// A candidate not ingested yet (its own part may be running) is ingested here, which
		// is idempotent, and the search repeated with its footprint known.
		for range 5 {
			before, err := pf.FindEarlierCapture(ctx, c, minPairOverlap, pipe.BandNames())
			if err != nil {
				return 0, err
			}
			if before == nil {
				break
			}
			if before.IngestedAt == nil {
				if _, err := (&ClipHandler{d}).ingestOnce(ctx, before); err != nil && !errors.Is(err, asynq.SkipRetry) {
					return 0, err
				} else if err != nil {
					// Unusable: mark it failed so the search passes over it.
					if err := d.recordFailure(ctx, before.ID, offsite.StageClip, "", err); err != nil {
						return 0, err
					}
				}
				continue
			}
			run = tasks.PipelineRunPayload{Pipeline: pipe.Name, BeforeID: before.ID, AfterID: c.ID}
			break
		}
	}
	return (&PipelineHandler{d}).run(ctx, run, parcelIDs)
}

// lastAttempt reports whether asynq will not retry the running task if it fails.
func lastAttempt(ctx context.Context) bool {
	n, ok1 := asynq.GetRetryCount(ctx)
	max, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && n >= max
}

// isTrack reports whether captures of kind are tracks (points with readings), not rasters.
func isTrack(kind string) bool {
	return kind == offsite.KindBoatTrack || kind == offsite.KindVehicleTrack
}
