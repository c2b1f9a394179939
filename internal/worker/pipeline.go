package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/detect"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/geo"
	"github.com/offsite/offsite/internal/process"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/stac"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/pipelines"
)

// WarningOpener opens (or joins) an off-site inspection on the enterprise of a finding's
// parcel; enforce.Service implements it.
type WarningOpener interface {
	OpenWarning(ctx context.Context, a enforce.Actor, uscc string, level enforce.Level, w *enforce.Warning) (*enforce.Inspection, string, error)
}

// PipelineHandler runs a pipeline's detectors on one capture or a pair, with the same code as
// `worker process` (internal/process), stores the artifacts in the evidence bucket under
// their SHA-256, records the findings (ids derived from the inputs, so a re-run records
// nothing new) and opens a warning for each finding of high or medium severity on a parcel
// of an enterprise.
type PipelineHandler struct{ *Deps }

// warningLevels are the finding severities that open an off-site inspection.
var warningLevels = map[string]bool{"high": true, "medium": true}

// ProcessTask implements asynq.Handler.
func (h *PipelineHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParsePipelineRun(t)
	if err != nil {
		return permanent(err)
	}
	_, err = h.run(ctx, p, nil)
	return err
}

// run runs the pipeline on the parcels parcelIDs under the capture (nil: all of them; a
// track's run always takes every parcel near it) and returns the number of findings recorded.
func (h *PipelineHandler) run(ctx context.Context, p tasks.PipelineRunPayload, parcelIDs []string) (int, error) {
	pipe, ok := h.Pipelines[p.Pipeline]
	if !ok {
		return 0, permanent(fmt.Errorf("worker: unknown pipeline %q", p.Pipeline))
	}
	if pipe.Detector(pipelines.TypeTrack) != nil {
		if p.CaptureID == 0 {
			return 0, permanent(fmt.Errorf("worker: pipeline %s takes one track, not a pair", p.Pipeline))
		}
		return h.runTrack(ctx, pipe, p)
	}
	start := time.Now()
	clip := &ClipHandler{h.Deps}
	ids := p.CaptureIDs()
	caps := make([]*offsite.Capture, len(ids))
	for i, id := range ids {
		c, err := h.Captures.FindCaptureByID(ctx, id)
		if errors.Is(err, offsite.ErrNotFound) {
			return 0, permanent(err)
		} else if err != nil {
			return 0, err
		}
		if c.Kind != pipe.Kind {
			return 0, permanent(fmt.Errorf("worker: capture %d is %s; pipeline %s takes %s", c.ID, c.Kind, pipe.Name, pipe.Kind))
		}
		caps[i] = c
	}
	// Captures not ingested yet are ingested together: GDAL's decoding and the transfers of
	// one overlap the other's.
	errs := make([]error, len(caps))
	var wg sync.WaitGroup
	for i, c := range caps {
		if c.IngestedAt != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			caps[i], errs[i] = clip.ingestOnce(ctx, c)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	last := caps[len(caps)-1]
	parcels, _, err := h.Parcels.FindParcels(ctx, offsite.ParcelFilter{Intersects: last.Footprint, IDs: parcelIDs})
	if err != nil {
		return 0, err
	}
	if len(parcels) == 0 {
		h.Logger.InfoContext(ctx, "pipeline: no parcel under the capture", "capture_id", last.ID)
		return 0, nil
	}
	feats := make([]geo.Feature, len(parcels))
	for i, pc := range parcels {
		feats[i] = geo.Feature{Index: i, ParcelID: pc.ID, USCC: pc.EnterpriseUSCC, Name: pc.Name, Geometry: pc.Geometry}
	}
	in := process.Inputs{Pipeline: pipe, Parcels: feats, Env: h.Raster}
	capture := func(c *offsite.Capture) *process.Capture {
		// The sidecar's raster:bands, recorded at registration, say how the bands become
		// reflectance, as they do for `worker process`.
		return &process.Capture{AcquiredAt: c.AcquiredAt, Files: []process.File{{
			Name: c.Bucket + "/" + c.Key, Href: "s3://" + c.Bucket + "/" + c.Key, CaptureID: c.ID,
			Source: h.sceneSource(c), SHA256: c.Checksum, Size: c.SizeBytes,
			Calibration: process.SidecarCalibration(c.BandScales), Warnings: c.Warnings,
		}}}
	}
	if len(caps) == 2 {
		in.Before, in.After = capture(caps[0]), capture(caps[1])
	} else {
		in.Capture = capture(caps[0])
	}
	loaded := time.Now()
	sink := newEvidenceSink(h.Store)
	res, err := process.Run(ctx, in, sink)
	ran := time.Now()
	if werr := sink.wait(); err == nil {
		err = werr
	}
	if err != nil {
		return 0, classify(last, err)
	}
	uploaded := time.Now()
	n, err := h.record(ctx, p, pipe, caps, parcels, res, sink)
	if err == nil {
		t := res.Timings
		for _, ph := range []struct {
			name string
			d    time.Duration
		}{{"load", loaded.Sub(start)}, {"hash", t.Hash}, {"read", t.Read}, {"detect", t.Detect}, {"clips", t.Clips},
			{"store", t.Store}, {"uploads", uploaded.Sub(ran)}, {"record", time.Since(uploaded)}} {
			h.Metrics.AddPhase(ph.name, ph.d)
		}
	}
	return n, err
}

// maxTrack bounds the size of a track read from the captures bucket.
const maxTrack = 64 << 20

// trackReach is how far around a track's points parcels are considered for attribution; the
// detectors' own distance limits (at most a few kilometres) decide which are named.
const trackReach = 10000.0

// runTrack runs a track pipeline on one boat or vehicle track stored in the captures bucket.
func (h *PipelineHandler) runTrack(ctx context.Context, pipe *pipelines.Pipeline, p tasks.PipelineRunPayload) (int, error) {
	c, err := h.Captures.FindCaptureByID(ctx, p.CaptureID)
	if errors.Is(err, offsite.ErrNotFound) {
		return 0, permanent(err)
	} else if err != nil {
		return 0, err
	}
	if c.Kind != pipe.Kind {
		return 0, permanent(fmt.Errorf("worker: capture %d is %s; pipeline %s takes %s", c.ID, c.Kind, pipe.Name, pipe.Kind))
	}
	data, err := h.Store.GetCapture(ctx, c.Key, maxTrack)
	if errors.Is(err, offsite.ErrNotFound) || errors.Is(err, offsite.ErrInvalid) {
		return 0, permanent(fmt.Errorf("capture %d: %w", c.ID, err))
	} else if err != nil {
		return 0, err
	}
	format := trackFormat(c.Key)
	// Parcels near the track: parse it once for its extent.
	bound, err := trackBound(pipe, data, format)
	if err != nil {
		return 0, permanent(fmt.Errorf("capture %d (%s): %w", c.ID, c.Key, err))
	}
	near, err := geo.Buffer(bound.ToPolygon(), trackReach)
	if err != nil {
		return 0, err
	}
	parcels, _, err := h.Parcels.FindParcels(ctx, offsite.ParcelFilter{Intersects: near})
	if err != nil {
		return 0, err
	}
	if len(parcels) == 0 {
		return 0, nil
	}
	feats := make([]geo.Feature, len(parcels))
	for i, pc := range parcels {
		feats[i] = geo.Feature{Index: i, ParcelID: pc.ID, USCC: pc.EnterpriseUSCC, Name: pc.Name, Geometry: pc.Geometry}
	}
	in := process.Inputs{Pipeline: pipe, Parcels: feats, Env: h.Raster, Track: &process.Track{
		File: process.File{Name: c.Bucket + "/" + c.Key, Href: "s3://" + c.Bucket + "/" + c.Key, CaptureID: c.ID}, Data: data, Format: format, AcquiredAt: c.AcquiredAt,
	}}
	sink := newEvidenceSink(h.Store)
	res, err := process.Run(ctx, in, sink)
	if werr := sink.wait(); werr != nil && err == nil {
		return 0, werr
	}
	if err != nil {
		return 0, permanent(fmt.Errorf("capture %d (%s): %w", c.ID, c.Key, err))
	}
	return h.record(ctx, p, pipe, []*offsite.Capture{c}, parcels, res, sink)
}

// trackFormat is the format of a track object, by its key's extension.
func trackFormat(key string) string {
	if ext := strings.ToLower(path.Ext(key)); ext == ".geojson" || ext == ".json" {
		return pipelines.FormatGeoJSON
	}
	return pipelines.FormatCSV
}

// trackBound is the extent of a track's points.
func trackBound(pipe *pipelines.Pipeline, data []byte, format string) (orb.Bound, error) {
	var t *detect.Track
	var err error
	if format == pipelines.FormatGeoJSON {
		t, err = detect.ParseTrackGeoJSON(bytes.NewReader(data), *pipe.Columns)
	} else {
		t, err = detect.ParseTrackCSV(bytes.NewReader(data), *pipe.Columns)
	}
	if err != nil {
		return orb.Bound{}, err
	}
	if len(t.Points) == 0 {
		return orb.Bound{}, errors.New("the track has no points")
	}
	first := orb.Point{t.Points[0].Lon, t.Points[0].Lat}
	b := orb.Bound{Min: first, Max: first}
	for _, pt := range t.Points {
		b = b.Extend(orb.Point{pt.Lon, pt.Lat})
	}
	return b, nil
}

// record stores a run's findings and opens the warnings they call for.
func (h *PipelineHandler) record(ctx context.Context, p tasks.PipelineRunPayload, pipe *pipelines.Pipeline, caps []*offsite.Capture, parcels []*offsite.Parcel, res *process.Result, sink *evidenceSink) (int, error) {
	findings, err := h.findings(p, pipe, caps, res, sink)
	if err != nil {
		return 0, err
	}
	if err := h.Findings.RecordFindings(ctx, findings); err != nil {
		return 0, err
	}
	warned := 0
	if h.Warnings != nil {
		byID := map[string]*offsite.Parcel{}
		for _, pc := range parcels {
			byID[pc.ID] = pc
		}
		level := h.WarningLevel
		if level == "" {
			level = enforce.DefaultConfig().Level
		}
		for _, f := range findings {
			if !warningLevels[f.Severity] || byID[f.ParcelID].EnterpriseUSCC == "" {
				continue
			}
			w := &enforce.Warning{Source: enforce.WarningFinding, Ref: f.ID, Severity: f.Severity}
			if _, _, err := h.Warnings.OpenWarning(ctx, pipelineActor, "", level, w); err != nil {
				return 0, err
			}
			warned++
		}
	}
	m := res.Manifest
	h.Logger.InfoContext(ctx, "pipeline run", "pipeline", pipe.Name, "captures", p.CaptureIDs(),
		"parcels", len(parcels), "findings", len(findings), "candidates", len(res.Candidates), "warnings", warned,
		"degraded", m.Degraded, "run_warnings", m.Warnings)
	return len(findings), nil
}

// pipelineActor is who the audit log names for warnings opened by the workers.
var pipelineActor = enforce.Actor{Name: "pipeline", Role: enforce.RoleSystem}

// findings turns the run's findings into evidence records, each with its artifacts and a
// STAC Item as provenance.
func (h *PipelineHandler) findings(p tasks.PipelineRunPayload, pipe *pipelines.Pipeline, caps []*offsite.Capture, res *process.Result, sink *evidenceSink) ([]*offsite.Finding, error) {
	ids := p.CaptureIDs()
	last := caps[len(caps)-1]
	var out []*offsite.Finding
	for _, f := range res.Findings {
		var arts []offsite.Artifact
		for name, a := range sink.refs {
			if strings.HasPrefix(name, "parcels/"+f.ParcelID+"/") || name == "findings/finding-"+f.ID+".geojson" {
				a.Name = name
				arts = append(arts, a)
			}
		}
		slices.SortFunc(arts, func(a, b offsite.Artifact) int { return strings.Compare(a.Name, b.Name) })
		prov, err := provenance(f, arts, h.EvidenceBucket)
		if err != nil {
			return nil, err
		}
		out = append(out, &offsite.Finding{
			ID: f.ID, ParcelID: f.ParcelID, CaptureIDs: ids, Kind: f.Detect.Kind, Class: f.Detect.Class,
			Status: f.Detect.Status, Score: f.Detect.Score, AreaM2: f.AreaM2, Severity: f.Severity,
			Geometry: f.Geometry, Pipeline: pipe.Name, PipelineHash: pipe.Hash(), DetectedAt: last.AcquiredAt,
			Properties: f.Properties, Provenance: prov, Artifacts: arts,
		})
	}
	return out, nil
}

// provenance is a finding's STAC Item as the run made it, with the stored artifacts as
// its assets.
func provenance(f process.Finding, arts []offsite.Artifact, evidenceBucket string) (json.RawMessage, error) {
	item := *f.Provenance
	item.Assets = map[string]stac.Asset{}
	for _, a := range arts {
		item.Assets[path.Base(a.Name)] = stac.Asset{Href: "s3://" + evidenceBucket + "/" + a.Key, Type: a.MediaType,
			Checksum: stac.Checksum(a.SHA256), Size: a.Size}
	}
	return json.Marshal(&item)
}

// evidenceSink stores a run's artifacts in the evidence bucket and remembers where each went.
// Uploads run in the background, a few at a time (an artifact's key follows from its
// SHA-256, so Put answers at once); wait returns when all are stored.
type evidenceSink struct {
	store ObjectStore
	mu    sync.Mutex
	refs  map[string]offsite.Artifact // by the run's artifact name
	err   error                       // the first failed upload
	wg    sync.WaitGroup
	sem   chan struct{}
}

// evidenceUploads is how many artifacts a run uploads at once.
const evidenceUploads = 8

func newEvidenceSink(store ObjectStore) *evidenceSink {
	return &evidenceSink{store: store, refs: map[string]offsite.Artifact{}, sem: make(chan struct{}, evidenceUploads)}
}

// Put implements process.Sink.
func (s *evidenceSink) Put(ctx context.Context, name string, data []byte, mediaType string) (string, string, error) {
	if err := s.failed(); err != nil {
		return "", "", err
	}
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	ext := path.Ext(name)
	key := s3.EvidenceKey(sum, ext)
	s.mu.Lock()
	s.refs[name] = offsite.Artifact{Name: name, Key: key, SHA256: sum, Size: int64(len(data)), MediaType: mediaType}
	s.mu.Unlock()
	s.sem <- struct{}{}
	s.wg.Add(1)
	go func() {
		defer func() { <-s.sem; s.wg.Done() }()
		gotKey, gotSum, err := s.store.PutEvidence(ctx, data, ext, mediaType)
		if err == nil && (gotKey != key || gotSum != sum) {
			err = fmt.Errorf("worker: evidence %s stored as %s", key, gotKey)
		}
		if err != nil {
			s.mu.Lock()
			if s.err == nil {
				s.err = err
			}
			s.mu.Unlock()
		}
	}()
	return key, sum, nil
}

func (s *evidenceSink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// wait waits for every upload and returns the first error.
func (s *evidenceSink) wait() error {
	s.wg.Wait()
	return s.failed()
}
