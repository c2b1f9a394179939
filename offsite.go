// Package offsite holds Offsite's domain types and the service interfaces that the storage
// adapters implement. It imports no project package.
package offsite

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"time"

	"github.com/paulmach/orb"
)

// Version is the software version recorded in provenance. Set at build time with
// -ldflags "-X github.com/offsite/offsite.Version=...".
var Version = "dev"

// Capture kinds (DESIGN.md section 2).
const (
	KindSentinel2    = "sentinel2"
	KindLandsat      = "landsat"
	KindDroneRGB     = "drone-rgb"
	KindDroneMS      = "drone-ms"
	KindBoatTrack    = "boat-track"
	KindVehicleTrack = "vehicle-track"
)

// CaptureKinds lists every known capture kind.
var CaptureKinds = []string{KindSentinel2, KindLandsat, KindDroneRGB, KindDroneMS, KindBoatTrack, KindVehicleTrack}

// ValidCaptureKind reports whether kind is one of CaptureKinds.
func ValidCaptureKind(kind string) bool {
	for _, k := range CaptureKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Parcel is an enterprise's plot of land. Geometry is a Polygon or MultiPolygon in WGS84.
type Parcel struct {
	ID             string       `json:"parcel_id"`
	EnterpriseUSCC string       `json:"uscc,omitempty"`
	Name           string       `json:"name,omitempty"`
	Geometry       orb.Geometry `json:"-"`
	CreatedAt      time.Time    `json:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at"`
	// RetiredAt is set when the parcel was retired (a site sold, a boundary redrawn under
	// another id): it leaves the lists, the OGC collections and clipping, and stays in the
	// evidence already made on it. Storing the parcel again brings it back.
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// Capture status values.
const (
	CaptureRegistered = "registered" // known, not yet processed
	CaptureQueued     = "queued"     // a task is in the queue
	CaptureProcessing = "processing" // a worker has it
	CaptureProcessed  = "processed"  // clipped against every intersecting parcel
	CaptureFailed     = "failed"     // permanently failed; Error says why
)

// CaptureStatuses lists every capture status, in the order a capture goes through them.
var CaptureStatuses = []string{CaptureRegistered, CaptureQueued, CaptureProcessing, CaptureProcessed, CaptureFailed}

// Capture is one scene or track in the captures bucket.
type Capture struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	AcquiredAt time.Time `json:"acquired_at"`
	Sensor     string    `json:"sensor,omitempty"`
	Bucket     string    `json:"bucket"`
	Key        string    `json:"key"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	// Failure says where the capture failed for good; nil unless it failed since its last
	// successful run. Error holds the message.
	Failure *CaptureFailure `json:"failure,omitempty"`
	// BandScales are what the capture's STAC sidecar (raster:bands) says of its bands, band k
	// at k-1, recorded at registration; pipelines take reflectance from them. Nil when the
	// sidecar says nothing.
	BandScales []BandScale `json:"band_scales,omitempty"`
	// Warnings are GDAL's warnings on the source at ingest: what GDAL could read anyway.
	Warnings []string `json:"warnings,omitempty"`

	// Filled in at ingest.
	CRS       string       `json:"crs,omitempty"`
	Width     int          `json:"width,omitempty"`
	Height    int          `json:"height,omitempty"`
	Bands     int          `json:"bands,omitempty"`
	Checksum  string       `json:"checksum,omitempty"` // SHA-256 of the source object, hex
	SizeBytes int64        `json:"size_bytes,omitempty"`
	Footprint orb.Geometry `json:"-"` // where the capture has valid data, WGS84
	// COGKey is the object in the captures bucket that reads use: the source itself when it
	// is a tiled COG, else the COG ingest made of it.
	COGKey     string      `json:"cog_key,omitempty"`
	BandStats  []BandStats `json:"band_stats,omitempty"`
	IngestedAt *time.Time  `json:"ingested_at,omitempty"`
	// Ingest says what ingest did to the capture and how long each stage took.
	Ingest *CaptureIngest `json:"ingest,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// BandScale is what a STAC raster:bands entry says of one band: its values become physical
// values as value × Scale + Offset. Set is false when the entry gives neither.
type BandScale struct {
	Scale  float64 `json:"scale"`
	Offset float64 `json:"offset"`
	Set    bool    `json:"set"`
}

// BandStats are statistics of one band over its valid pixels (from a decimated read when
// Approximate).
type BandStats struct {
	Band        int     `json:"band"`
	Description string  `json:"description,omitempty"`
	Min         float64 `json:"min"`
	Max         float64 `json:"max"`
	Mean        float64 `json:"mean"`
	StdDev      float64 `json:"stddev"`
	ValidPixels int64   `json:"valid_pixels"`
	Approximate bool    `json:"approximate"`
}

// Stages of a capture's processing where it can fail.
const (
	StageClip     = "clip"     // reading, ingesting and clipping the capture
	StagePipeline = "pipeline" // running the pipeline on it (and its pair) after clipping
)

// CaptureFailure records a permanent failure of a capture's task: asynq archived it, as not
// worth retrying or after its last retry. The message is the capture's Error.
type CaptureFailure struct {
	Stage    string    `json:"stage"`              // StageClip or StagePipeline
	Pipeline string    `json:"pipeline,omitempty"` // the pipeline the task runs after clipping
	TaskID   string    `json:"task_id,omitempty"`  // the asynq task that failed
	Queue    string    `json:"queue,omitempty"`
	Attempts int       `json:"attempts"` // attempts made, the failing one included
	At       time.Time `json:"failed_at"`
}

// CaptureIngest records what ingest did to a capture: the bytes it fetched (once, hashed as
// they streamed), what conversion it needed ("" when the object is a COG or any tiled
// GeoTIFF and is read as it is, "cog" when one in strips was re-encoded), the size of the
// converted file, and each stage's seconds.
type CaptureIngest struct {
	FetchedBytes   int64   `json:"fetched_bytes"`
	Conversion     string  `json:"conversion"`
	ConvertedBytes int64   `json:"converted_bytes,omitempty"`
	FetchSeconds   float64 `json:"fetch_seconds"`
	HashSeconds    float64 `json:"hash_seconds,omitempty"`
	InspectSeconds float64 `json:"inspect_seconds"`
	ConvertSeconds float64 `json:"convert_seconds,omitempty"`
	StoreSeconds   float64 `json:"store_seconds,omitempty"`
}

// CaptureUpdate holds the fields of a capture that processing may change; nil means unchanged.
type CaptureUpdate struct {
	Status    *string
	Error     *string
	CRS       *string
	Width     *int
	Height    *int
	Bands     *int
	Checksum  *string
	SizeBytes *int64
	COGKey    *string
	BandStats []BandStats
	// Ingest, when set, replaces the record of what ingest did.
	Ingest *CaptureIngest
	// Warnings, when not nil, replaces the capture's ingest warnings.
	Warnings  []string
	Footprint orb.Geometry
	// Ingested sets ingested_at to now.
	Ingested bool
	// Failure, when set, records where the capture failed; ClearFailure removes the record
	// (a successful run).
	Failure      *CaptureFailure
	ClearFailure bool
}

// Clip is the result of cutting one capture to one parcel: a COG and a quick-look PNG in the
// evidence bucket, each under a key derived from its SHA-256.
type Clip struct {
	CaptureID       int64     `json:"capture_id"`
	ParcelID        string    `json:"parcel_id"`
	COGKey          string    `json:"cog_key"`
	COGSHA256       string    `json:"cog_sha256"`
	COGBytes        int64     `json:"cog_bytes"`
	QuickLookKey    string    `json:"quicklook_key"`
	QuickLookSHA256 string    `json:"quicklook_sha256"`
	Width           int       `json:"width"`
	Height          int       `json:"height"`
	ValidPixels     int64     `json:"valid_pixels"`
	CreatedAt       time.Time `json:"created_at"`
}

// ParcelFilter selects parcels. Zero fields do not filter.
type ParcelFilter struct {
	IDs []string
	// Retired includes retired parcels: for reading the parcels of evidence already made.
	Retired    bool
	Intersects orb.Geometry // WGS84
	// Agency keeps the parcels of the enterprises of that agency and of those under it; 0
	// keeps all.
	Agency int64
	Offset int
	Limit  int
}

// ParcelService stores parcels.
type ParcelService interface {
	// UpsertParcels creates parcels or replaces the geometry and attributes of existing ones,
	// all or nothing.
	UpsertParcels(ctx context.Context, parcels []*Parcel) error
	FindParcelByID(ctx context.Context, id string) (*Parcel, error)
	FindParcels(ctx context.Context, filter ParcelFilter) ([]*Parcel, int, error)
}

// CaptureService stores captures.
type CaptureService interface {
	CreateCapture(ctx context.Context, c *Capture) error
	FindCaptureByID(ctx context.Context, id int64) (*Capture, error)
	UpdateCapture(ctx context.Context, id int64, upd CaptureUpdate) (*Capture, error)
	// FindCaptures returns a page of the captures filter selects and how many it selects.
	FindCaptures(ctx context.Context, filter CaptureFilter) ([]*Capture, int, error)
}

// CaptureFilter selects captures; its zero value selects all, by id (the order registered).
type CaptureFilter struct {
	IDs    []int64 // nil: any
	Kind   string
	Status string
	// USCC keeps the captures clipped to a parcel of that enterprise.
	USCC string
	// AcquiredFrom and AcquiredTo bound the acquisition time: from inclusive, to exclusive
	// (zero: unbounded).
	AcquiredFrom, AcquiredTo time.Time
	// NewestFirst orders by id descending.
	NewestFirst bool
	Offset      int
	Limit       int
}

// ClipService stores clip results, all clips of one capture at once. Recording the same
// (capture, parcel) twice keeps the first record: re-delivered tasks change nothing.
type ClipService interface {
	RecordClips(ctx context.Context, clips []*Clip) error
	FindClips(ctx context.Context, captureID int64) ([]*Clip, error)
}

// Finding kinds (DESIGN.md section 3).
const (
	FindingChange     = "change"
	FindingHotspot    = "hotspot"
	FindingPlume      = "plume"
	FindingExceedance = "exceedance"
	// FindingMonitoring is an event in automatic monitoring data (internal/monitoring): it
	// belongs to an enterprise (USCC) rather than a parcel and rests on HJ 212 frames, not
	// captures.
	FindingMonitoring = "monitoring"
)

// Artifact is a stored file of evidence: its key in the evidence bucket is derived from its
// SHA-256.
type Artifact struct {
	Name      string `json:"name"` // role of the file, e.g. "before.tif", "after.png", "finding.geojson"
	Key       string `json:"key"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

// Finding is something a pipeline found on one parcel in one capture or a pair of captures.
// Findings are immutable evidence; the same inputs always give the same ID.
type Finding struct {
	ID           string          `json:"id"`
	ParcelID     string          `json:"parcel_id"`
	USCC         string          `json:"uscc,omitempty"` // the enterprise of a monitoring finding (no parcel)
	CaptureIDs   []int64         `json:"capture_ids"`    // [capture] or [before, after]; none for monitoring
	Kind         string          `json:"kind"`
	Class        string          `json:"class"`
	Status       string          `json:"status,omitempty"` // e.g. hotspot new, persistent, stopped
	Score        float64         `json:"score"`
	AreaM2       float64         `json:"area_m2"`
	Severity     string          `json:"severity,omitempty"`
	Geometry     orb.Geometry    `json:"-"` // WGS84
	Pipeline     string          `json:"pipeline"`
	PipelineHash string          `json:"pipeline_hash"`
	DetectedAt   time.Time       `json:"detected_at"` // acquisition time of the (later) capture
	Properties   map[string]any  `json:"properties,omitempty"`
	Provenance   json.RawMessage `json:"provenance"` // STAC Item of the finding
	Artifacts    []Artifact      `json:"artifacts"`
	CreatedAt    time.Time       `json:"created_at"`
}

// FindingFilter selects findings. Zero fields do not filter.
type FindingFilter struct {
	IDs        []string // only these findings
	ParcelID   string
	CaptureID  int64
	Kind       string
	Intersects orb.Geometry // WGS84
	// Agency keeps the findings whose enterprise (the parcel's, else the finding's own) is of
	// that agency or of those under it; 0 keeps all.
	Agency int64
	Offset int
	Limit  int
}

// FindingService stores findings. Recording a finding whose ID is already stored keeps the
// stored one: re-delivered tasks change nothing.
type FindingService interface {
	RecordFindings(ctx context.Context, fs []*Finding) error
	FindFindings(ctx context.Context, filter FindingFilter) ([]*Finding, int, error)
}

// NightlyRun is one run of the nightly sweep.
type NightlyRun struct {
	ID         int64      `json:"id"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Status     string     `json:"status"`
	Scanned    int        `json:"scanned"`
	Registered int        `json:"registered"`
	Queued     int        `json:"queued"`
	Expired    int        `json:"expired"` // positive-list entries expired
	Problems   []string   `json:"problems"`
	Error      string     `json:"error,omitempty"`
	// What became of the captures the run queued, as they stand now: a capture that failed
	// and was later processed counts as processed.
	Processed int `json:"processed"`
	Failed    int `json:"failed"`
	Pending   int `json:"pending"` // not processed or failed yet
}

// NightlyRunCapture is a capture a nightly run queued, as it stands now.
type NightlyRunCapture struct {
	CaptureID  int64           `json:"capture_id"`
	Kind       string          `json:"kind"`
	Key        string          `json:"key"`
	AcquiredAt time.Time       `json:"acquired_at"`
	Pipeline   string          `json:"pipeline,omitempty"` // "" : clipped only
	QueuedAt   time.Time       `json:"queued_at"`
	Status     string          `json:"status"`
	Error      string          `json:"error,omitempty"`
	Failure    *CaptureFailure `json:"failure,omitempty"`
}

// NightlyRunFilter selects nightly runs. Zero fields do not filter.
type NightlyRunFilter struct {
	Status string // running, finished or error
	Offset int
	Limit  int
}

// NightlyService records the runs of the nightly sweep.
type NightlyService interface {
	// StartRun records a running run and returns it with the start time of the last
	// finished run (zero when there was none).
	StartRun(ctx context.Context) (*NightlyRun, time.Time, error)
	// FinishRun records the outcome: finished, or error when run.Error is set.
	FinishRun(ctx context.Context, run *NightlyRun) error
	// AddRunCapture records that run runID queued the task of capture captureID with
	// pipeline ("" : clipping only), and marks the capture queued unless a worker has
	// already moved it on from registered.
	AddRunCapture(ctx context.Context, runID, captureID int64, pipeline string) error
	// FindRuns returns runs newest first and how many match.
	FindRuns(ctx context.Context, filter NightlyRunFilter) ([]*NightlyRun, int, error)
	FindRunByID(ctx context.Context, id int64) (*NightlyRun, error)
	// FindRunCaptures returns the captures run id queued, by capture id.
	FindRunCaptures(ctx context.Context, id int64) ([]*NightlyRunCapture, error)
}

// Nightly run status values.
const (
	NightlyRunning  = "running"
	NightlyFinished = "finished"
	NightlyError    = "error"
)

// NightlyStatuses lists the nightly run status values.
var NightlyStatuses = []string{NightlyRunning, NightlyFinished, NightlyError}

// Survey status values, after openEO's job lifecycle.
const (
	SurveyCreated  = "created"
	SurveyQueued   = "queued"
	SurveyRunning  = "running"
	SurveyCanceled = "canceled"
	SurveyFinished = "finished"
	SurveyError    = "error"
)

// Survey is an analyst's request to process the captures of some kinds that cover a zone in
// a time window. Each capture, or each batch of the parcels under it, is one part, run as its
// own task.
type Survey struct {
	ID          int64        `json:"id"`
	Name        string       `json:"name,omitempty"`
	Zone        orb.Geometry `json:"-"`                 // WGS84 Polygon or MultiPolygon
	ZoneID      *int64       `json:"zone_id,omitempty"` // the named zone it was planned on, if any
	BatchSize   int          `json:"batch_size"`        // most parcels of one capture per part (0: a part per capture)
	WindowStart time.Time    `json:"window_start"`
	WindowEnd   time.Time    `json:"window_end"`
	Kinds       []string     `json:"kinds"`
	Pipeline    string       `json:"pipeline"`
	Status      string       `json:"status"`
	Parcels     int          `json:"parcels"` // parcels inside the zone when planned
	Error       string       `json:"error,omitempty"`
	CreatedBy   string       `json:"created_by,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	StartedAt   *time.Time   `json:"started_at,omitempty"`
	FinishedAt  *time.Time   `json:"finished_at,omitempty"`
	Progress    Progress     `json:"progress"`
}

// Zone is a named area analysts plan surveys over (an industrial park, a river section).
type Zone struct {
	ID        int64        `json:"id"`
	Name      string       `json:"name"`
	Geometry  orb.Geometry `json:"-"` // WGS84 Polygon or MultiPolygon
	CreatedBy string       `json:"created_by,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
}

// ZoneService stores named zones. Names are unique: creating a second zone of a name is
// ErrConflict.
type ZoneService interface {
	CreateZone(ctx context.Context, z *Zone) error
	FindZoneByID(ctx context.Context, id int64) (*Zone, error)
	FindZoneByName(ctx context.Context, name string) (*Zone, error)
	FindZones(ctx context.Context) ([]*Zone, error)
}

// Progress counts a survey's parts by state.
type Progress struct {
	Total    int `json:"total"`
	Queued   int `json:"queued"`
	Running  int `json:"running"`
	Done     int `json:"done"`
	Failed   int `json:"failed"`
	Canceled int `json:"canceled"`
	Clips    int `json:"clips"`    // clips so far
	Findings int `json:"findings"` // findings so far
}

// Survey part status values.
const (
	PartQueued   = "queued"
	PartRunning  = "running"
	PartDone     = "done"
	PartFailed   = "failed"
	PartCanceled = "canceled"
)

// SurveyPart is the work of one capture in a survey, or of one batch of its parcels: a
// capture with more parcels under it than the survey's batch size is split into batches of
// nearby parcels, numbered from 0.
type SurveyPart struct {
	SurveyID  int64 `json:"survey_id"`
	CaptureID int64 `json:"capture_id"`
	Batch     int   `json:"batch"`
	// ParcelIDs are the parcels of the batch: parcels of the survey's zone, which the worker
	// narrows to those under the capture; empty when none of them is under it. nil (parts
	// planned before surveys kept to their zone) means every parcel under the capture.
	ParcelIDs []string  `json:"parcel_ids,omitempty"`
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	Clips     int       `json:"clips"`
	Findings  int       `json:"findings"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SurveyService stores surveys and their parts.
type SurveyService interface {
	// CreateSurvey plans s: it stores the survey with queued parts for each capture of its
	// kinds whose footprint intersects the zone (or is not known yet) and whose acquisition
	// time is in the window: one per batch of at most s.BatchSize of the zone's parcels under
	// the capture (all of the zone's when its footprint is not known), in space-filling-curve
	// order of their centroids, or one with no parcels when none is under it. Parcels outside
	// the zone are never planned. It counts the parcels in the zone. The survey is "queued",
	// or "finished" with no parts.
	CreateSurvey(ctx context.Context, s *Survey) ([]*SurveyPart, error)
	FindSurveyByID(ctx context.Context, id int64) (*Survey, error)
	// FindSurveys returns surveys newest first and how many match; status, when not "",
	// keeps only surveys in that status.
	FindSurveys(ctx context.Context, status string, offset, limit int) ([]*Survey, int, error)
	FindSurveyParts(ctx context.Context, id int64) ([]*SurveyPart, error)
	// StartPart marks a part running (and its survey running) and returns it; it returns nil
	// when the survey was canceled, and the part is then marked canceled.
	StartPart(ctx context.Context, surveyID, captureID int64, batch int) (*SurveyPart, error)
	// EndPart records a part done (err == "") or failed, and ends the survey when no part is
	// left queued or running: finished, or error when every part failed.
	EndPart(ctx context.Context, surveyID, captureID int64, batch, clips, findings int, errMsg string) error
	// CancelSurvey marks the survey and its queued parts canceled and returns those parts.
	CancelSurvey(ctx context.Context, id int64) ([]*SurveyPart, error)
	// RetrySurvey requeues the failed parts and returns them.
	RetrySurvey(ctx context.Context, id int64) ([]*SurveyPart, error)
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Size         int64
	ETag         string
	LastModified time.Time
}

// Upload is a presigned PUT. Headers are signed into URL: the client sends each of them
// with the PUT, as given, or the storage refuses it.
type Upload struct {
	URL     *url.URL
	Headers map[string]string
}

// CaptureStore is where clients upload captures. A missing object is ErrNotFound.
type CaptureStore interface {
	StatCapture(ctx context.Context, key string) (ObjectInfo, error)
	// PresignCaptureUpload returns a PUT of key valid during ttl that creates the object
	// or fails: it never replaces one.
	PresignCaptureUpload(ctx context.Context, key string, ttl time.Duration) (*Upload, error)
}

// EvidenceStore holds the content-addressed artifacts of clips and findings. A missing
// object is ErrNotFound.
type EvidenceStore interface {
	StatEvidence(ctx context.Context, key string) (ObjectInfo, error)
	// OpenEvidence opens an artifact for reading; its bytes are fetched as they are read,
	// and seeking fetches nothing.
	OpenEvidence(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error)
	GetEvidence(ctx context.Context, key string) ([]byte, error)
	PresignEvidenceDownload(ctx context.Context, key string, ttl time.Duration) (*url.URL, error)
}

// ProofStore holds the enterprises' self-check proofs, apart from what pipelines read. A
// proof is never replaced; a missing one is ErrNotFound.
type ProofStore interface {
	// ProofsBucket names the bucket of proofs, "" when none is configured.
	ProofsBucket() string
	StatProof(ctx context.Context, key string) (ObjectInfo, error)
	// OpenProof opens a proof for reading, as OpenEvidence does an artifact.
	OpenProof(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error)
	// PutProof stores size bytes of r under key unless a proof is there (ErrConflict).
	PutProof(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// RemoveProof deletes a proof that failed its checks before it was recorded.
	RemoveProof(ctx context.Context, key string) error
	// PresignProofUpload returns a PUT of key valid during ttl for a document of size
	// bytes and media type contentType, which creates the object or fails.
	PresignProofUpload(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (*Upload, error)
}
