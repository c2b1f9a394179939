package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/tasks"
)

func (s *Server) registerCaptureRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/uploads", operation{
		Response: objectOf(map[string]any{"method": "", "url": "", "headers": map[string]string{}, "bucket": "", "key": "", "expires_at": time.Time{}}),
		Summary:  "Get a presigned URL to upload a capture into the captures bucket",
		Description: "PUT the file to the returned url within 15 minutes, with the returned headers (If-None-Match: *, signed into the URL: an upload never replaces an object), " +
			"then register it with POST /api/v1/captures. Refused: keys under cog/ and selfcheck/ (only Offsite writes there), keys under the sidecar prefix " +
			"(stac/ by default, read by the nightly sweep) unless the caller is an admin, and keys whose object exists or that a capture already names: " +
			"registered sources and COGs are never replaced.",
		Body: uploadRequest{},
		Responses: map[string]string{"200": "upload URL and the headers to send with it", "400": "invalid or reserved key", "403": "the sidecar prefix, for a caller other than an admin",
			"409": "an object is stored under the key, or a capture names it"},
		Roles: rolesWrite,
	}, s.handleUploadCreate)
	s.handle(mux, "POST", "/api/v1/captures", operation{
		Response:    offsite.Capture{},
		Summary:     "Register a capture stored in the captures bucket and queue its processing",
		Description: "The object must already exist, outside cog/ and selfcheck/ (which only Offsite writes). The capture is clipped to every parcel it intersects by a worker.",
		Body: bodyOf(captureCreateRequest{}, map[string]map[string]any{
			"kind": {"enum": offsite.CaptureKinds}, "acquired_at": {"format": "date-time"}}),
		Responses: map[string]string{"201": "registered and queued", "400": "invalid field", "404": "object not found", "409": "already registered"},
		Roles:     rolesWrite,
	}, s.handleCaptureCreate)
	s.handle(mux, "GET", "/api/v1/captures", operation{
		Response: listOf("captures", []*offsite.Capture{}),
		Summary:  "Captures registered, newest first, with their processing status and what ingest made of them",
		Description: "Captures are shared by every agency; uscc keeps those clipped to a parcel of that enterprise, which must be of the caller's agency " +
			"or one under it (403 otherwise). Footprints are left out (GET /api/v1/captures/{id} has one's).",
		Query: map[string]string{"ids": "only these captures: up to 1000 ids, comma-separated", "kind": "capture kind", "status": "processing status", "uscc": "only captures clipped to a parcel of this enterprise",
			"from": "acquired at or after (RFC 3339 time or YYYY-MM-DD, China time)", "to": "acquired before (RFC 3339 time or YYYY-MM-DD, China time)",
			"limit": "1..1000, default 100", "offset": "default 0"},
		Params:    map[string]map[string]any{"kind": {"type": "string", "enum": offsite.CaptureKinds}, "status": {"type": "string", "enum": offsite.CaptureStatuses}},
		Responses: map[string]string{"200": "captures and total", "400": "invalid parameter", "403": "uscc names an enterprise outside the caller's agency"},
		Roles:     rolesRead,
	}, s.handleCaptureList)
	s.handle(mux, "GET", "/api/v1/captures/{id}", operation{
		Summary: "One capture with its processing status; a failed one with its error and failure (stage, pipeline, task, attempts, when); " +
			"GDAL's warnings on its source at ingest (warnings), what ingest did (ingest: bytes fetched, conversion, bytes converted, seconds per stage) and its sidecar's raster:bands scale and offset (band_scales)",
		Response:  captureJSON(&offsite.Capture{}),
		Responses: map[string]string{"200": "capture", "400": "bad id", "404": "no such capture"},
		Roles:     rolesRead,
	}, s.handleCaptureGet)
	s.handle(mux, "POST", "/api/v1/captures/{id}/process", operation{
		Response: captureJSON(&offsite.Capture{}),
		Summary:  "Queue the processing of a capture again",
		Description: "Idempotent: a capture whose task is still queued or was done in the last 24 hours is not queued twice, and clips already recorded are kept. " +
			"A failed capture is queued again with the pipeline of the task that failed (its failure shows until a run succeeds).",
		Responses: map[string]string{"202": "queued or already queued", "400": "bad id", "404": "no such capture"},
		Roles:     rolesWrite,
	}, s.handleCaptureProcess)
	s.handle(mux, "GET", "/api/v1/captures/{id}/clips", operation{
		Response:  objectOf(map[string]any{"capture_id": int64(0), "status": "", "clips": []clipOut{}}),
		Summary:   "The clips of a capture on the parcels the caller's agency reaches (as GET /api/v1/parcels), with download links to the COG and quick-look",
		Responses: map[string]string{"200": "clips", "400": "bad id", "404": "no such capture"},
		Roles:     rolesRead,
	}, s.handleCaptureClips)
}

func (s *Server) handleUploadCreate(w http.ResponseWriter, r *http.Request) {
	var in uploadRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.checkUploadKey(r.Context(), in.Key); err != nil {
		s.Error(w, r, err)
		return
	}
	const ttl = 15 * time.Minute
	up, err := s.Store.PresignCaptureUpload(r.Context(), in.Key, ttl)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"method": "PUT", "url": up.URL.String(), "headers": up.Headers, "bucket": s.CapturesBucket, "key": in.Key,
		"expires_at": time.Now().Add(ttl).UTC(),
	})
}

// captureKeyFinder says whether a capture names an object as its source or COG; the
// Postgres capture service implements it.
type captureKeyFinder interface {
	CaptureKeyRegistered(ctx context.Context, bucket, key string) (bool, error)
}

// checkUploadKey refuses the keys of the captures bucket that an API upload must not write:
// those under the prefixes only Offsite writes, those under the sidecar prefix unless the
// caller is an admin (a sidecar registers a capture in the nightly sweep's name), and those
// whose object exists or that a capture names.
func (s *Server) checkUploadKey(ctx context.Context, key string) error {
	if err := offsite.CheckObjectKey(key); err != nil {
		return offsite.Invalid("key", "%v", err)
	}
	if p := s3.AppPrefix(key); p != "" {
		return offsite.Invalid("key", "%q is under %s, which only Offsite writes", key, p)
	}
	sidecars := s.SidecarPrefix
	if sidecars == "" {
		sidecars = s3.DefaultSidecarPrefix
	}
	if strings.HasPrefix(key, sidecars) && PrincipalFromContext(ctx).Role != RoleAdmin {
		return fmt.Errorf("key %q is under %s, where the nightly sweep reads sidecars; only an admin uploads there: %w", key, sidecars, offsite.ErrForbidden)
	}
	if _, err := s.Store.StatCapture(ctx, key); err == nil {
		return offsite.Conflict("an object is stored under %q; uploads never replace an object, so choose another key", key)
	} else if !errors.Is(err, offsite.ErrNotFound) {
		return err
	}
	kf, ok := s.Captures.(captureKeyFinder)
	if !ok {
		return fmt.Errorf("httpapi: capture service %T cannot say which keys captures name", s.Captures)
	}
	if used, err := kf.CaptureKeyRegistered(ctx, s.CapturesBucket, key); err != nil {
		return err
	} else if used {
		return offsite.Conflict("a capture names %q; registered objects are never replaced, so choose another key", key)
	}
	return nil
}

// uploadRequest is the body of POST /api/v1/uploads.
type uploadRequest struct {
	Key string `json:"key" openapi:"required" doc:"object key in the captures bucket, e.g. sentinel2/2026/T50RQT.tif"`
}

type captureCreateRequest struct {
	Kind       string `json:"kind" openapi:"required"`
	AcquiredAt string `json:"acquired_at" openapi:"required"`
	Sensor     string `json:"sensor"`
	Key        string `json:"key" openapi:"required" doc:"object key in the captures bucket"`
}

func (in captureCreateRequest) capture(bucket string) (*offsite.Capture, error) {
	if !offsite.ValidCaptureKind(in.Kind) {
		return nil, offsite.Invalid("kind", "must be one of %s, got %q", strings.Join(offsite.CaptureKinds, ", "), in.Kind)
	}
	at, err := time.Parse(time.RFC3339, in.AcquiredAt)
	if err != nil {
		return nil, offsite.Invalid("acquired_at", "must be an RFC 3339 time such as 2026-05-01T02:30:00Z, got %q", in.AcquiredAt)
	}
	if at.After(time.Now().Add(24 * time.Hour)) {
		return nil, offsite.Invalid("acquired_at", "%s is in the future", in.AcquiredAt)
	}
	if len(in.Sensor) > 200 {
		return nil, offsite.Invalid("sensor", "is longer than 200 characters")
	}
	if err := offsite.CheckObjectKey(in.Key); err != nil {
		return nil, offsite.Invalid("key", "%v", err)
	}
	if p := s3.AppPrefix(in.Key); p != "" {
		return nil, offsite.Invalid("key", "%q is under %s, which only Offsite writes: no capture's source is there", in.Key, p)
	}
	return &offsite.Capture{Kind: in.Kind, AcquiredAt: at, Sensor: in.Sensor, Bucket: bucket, Key: in.Key}, nil
}

func (s *Server) handleCaptureCreate(w http.ResponseWriter, r *http.Request) {
	var in captureCreateRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	c, err := in.capture(s.CapturesBucket)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.Store.StatCapture(r.Context(), c.Key); err != nil {
		if errors.Is(err, offsite.ErrNotFound) {
			err = &offsite.FieldError{Field: "key", Problem: "no object " + strconv.Quote(c.Key) + " in bucket " + s.CapturesBucket + "; upload it first"}
		}
		s.Error(w, r, err)
		return
	}
	if err := s.Captures.CreateCapture(r.Context(), c); err != nil {
		s.Error(w, r, err)
		return
	}
	// The capture is stored; if queueing fails now, the nightly sweep queues it later.
	c, err = s.enqueueCapture(r, c)
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "enqueue capture", "capture_id", c.ID, "err", err)
	}
	w.Header().Set("Location", "/api/v1/captures/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, c)
}

// enqueueCapture queues the clip task of c and marks it queued. A task already queued under
// the same id is not an error. A capture that failed for good is queued again with the
// pipeline its failed task ran (the nightly schedule's), its archived (or completed and
// retained) task dropped first so that the id is free; the failure stays on it until a run succeeds.
func (s *Server) enqueueCapture(r *http.Request, c *offsite.Capture) (*offsite.Capture, error) {
	pipeline := ""
	if c.Status == offsite.CaptureFailed && c.Failure != nil {
		pipeline = c.Failure.Pipeline
	}
	task, err := tasks.NewCaptureRunTask(c.ID, tasks.QueueDefault, pipeline)
	if err != nil {
		return c, err
	}
	if c.Status == offsite.CaptureFailed && s.Inspector != nil {
		id := tasks.CaptureClipTaskID(c.ID)
		if info, err := s.Inspector.GetTaskInfo(tasks.QueueDefault, id); err == nil && (info.State == asynq.TaskStateArchived || info.State == asynq.TaskStateCompleted) {
			if err := s.Inspector.DeleteTask(tasks.QueueDefault, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return c, err
			}
		}
	}
	if _, err := s.Queue.EnqueueContext(r.Context(), task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return c, err
	}
	if c.Status != offsite.CaptureRegistered && c.Status != offsite.CaptureFailed {
		return c, nil
	}
	st := offsite.CaptureQueued
	return s.Captures.UpdateCapture(r.Context(), c.ID, offsite.CaptureUpdate{Status: &st})
}

func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, offsite.Invalid("id", "must be a positive integer, got %q", v)
	}
	return id, nil
}

func (s *Server) findCapture(r *http.Request) (*offsite.Capture, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.Captures.FindCaptureByID(r.Context(), id)
}

// captureJSON adds the footprint as GeoJSON to a capture.
func captureJSON(c *offsite.Capture) any {
	type alias offsite.Capture
	out := struct {
		*alias
		Footprint json.RawMessage `json:"footprint,omitempty"`
	}{alias: (*alias)(c)}
	if c.Footprint != nil {
		if b, err := json.Marshal(geojsonGeometry(c.Footprint)); err == nil {
			out.Footprint = b
		}
	}
	return out
}

// captureFilter reads the query of GET /api/v1/captures.
func captureFilter(r *http.Request) (offsite.CaptureFilter, error) {
	f := offsite.CaptureFilter{NewestFirst: true}
	if err := onlyParams(r, "ids", "kind", "status", "uscc", "from", "to", "limit", "offset"); err != nil {
		return f, err
	}
	q := r.URL.Query()
	if v := q.Get("ids"); v != "" {
		for x := range strings.SplitSeq(v, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil || id <= 0 {
				return f, offsite.Invalid("ids", "must be positive integers separated by commas, got %q", x)
			}
			f.IDs = append(f.IDs, id)
		}
		if len(f.IDs) > 1000 {
			return f, offsite.Invalid("ids", "names %d captures; at most 1000", len(f.IDs))
		}
	}
	if f.Kind = q.Get("kind"); f.Kind != "" && !offsite.ValidCaptureKind(f.Kind) {
		return f, offsite.Invalid("kind", "must be one of %s, got %q", strings.Join(offsite.CaptureKinds, ", "), f.Kind)
	}
	if f.Status = q.Get("status"); f.Status != "" && !slices.Contains(offsite.CaptureStatuses, f.Status) {
		return f, offsite.Invalid("status", "must be one of %s, got %q", strings.Join(offsite.CaptureStatuses, ", "), f.Status)
	}
	if f.USCC = q.Get("uscc"); f.USCC != "" && (len(f.USCC) > 64 || !utf8.ValidString(f.USCC) || strings.ContainsRune(f.USCC, 0)) {
		return f, offsite.Invalid("uscc", "is not a unified social credit code")
	}
	for name, dst := range map[string]*time.Time{"from": &f.AcquiredFrom, "to": &f.AcquiredTo} {
		if v := q.Get(name); v != "" {
			t, err := parseTime(name, v)
			if err != nil {
				return f, err
			}
			*dst = t
		}
	}
	if !f.AcquiredFrom.IsZero() && !f.AcquiredTo.IsZero() && !f.AcquiredFrom.Before(f.AcquiredTo) {
		return f, offsite.Invalid("from", "must be before to")
	}
	var err error
	f.Offset, f.Limit, err = pageParams(r)
	return f, err
}

func (s *Server) handleCaptureList(w http.ResponseWriter, r *http.Request) {
	f, err := captureFilter(r)
	if err == nil && f.USCC != "" {
		err = s.checkAgency(r.Context(), PrincipalFromContext(r.Context()), "enterprise", f.USCC)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	cs, total, err := s.Captures.FindCaptures(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if cs == nil {
		cs = []*offsite.Capture{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"captures": cs, "total": total, "offset": f.Offset, "limit": f.Limit})
}

func (s *Server) handleCaptureGet(w http.ResponseWriter, r *http.Request) {
	c, err := s.findCapture(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, captureJSON(c))
}

func (s *Server) handleCaptureProcess(w http.ResponseWriter, r *http.Request) {
	c, err := s.findCapture(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if c, err = s.enqueueCapture(r, c); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, captureJSON(c))
}

// clipOut is a clip as handleCaptureClips answers it, with presigned download links.
type clipOut struct {
	*offsite.Clip
	COGURL       string `json:"cog_url"`
	QuickLookURL string `json:"quicklook_url"`
}

func (s *Server) handleCaptureClips(w http.ResponseWriter, r *http.Request) {
	c, err := s.findCapture(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	clips, _, err := s.clipsInScope(r.Context(), offsite.ClipFilter{CaptureID: c.ID})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := make([]clipOut, 0, len(clips))
	for _, cl := range clips {
		o := clipOut{Clip: cl}
		if u, err := s.Store.PresignEvidenceDownload(r.Context(), cl.COGKey, time.Hour); err == nil {
			o.COGURL = u.String()
		}
		if u, err := s.Store.PresignEvidenceDownload(r.Context(), cl.QuickLookKey, time.Hour); err == nil {
			o.QuickLookURL = u.String()
		}
		out = append(out, o)
	}
	writeJSON(w, http.StatusOK, map[string]any{"capture_id": c.ID, "status": c.Status, "clips": out})
}
