// Package process runs one pipeline on one capture or a pair of captures against parcels
// and stores the evidence. Local mode (`worker process`) and the workers call the same Run;
// they differ only in their sources (files or objects) and their Sink (a directory or the
// evidence bucket).
//
// A raster run reads the pipeline's bands of the earlier capture (or the single one) around
// the parcels with raster.ReadBands, brings the later one onto that grid (warped when its
// grid differs), runs the pipeline's detectors and attributes each finding to every parcel
// it intersects or lies within the pipeline's buffer_m of (parcels are reprojected to the
// grid CRS). Parcels far apart are processed in separate windows, so memory depends on the
// window, not the scene. A track run parses the track and runs the track detector.
//
// Artifacts, by name (the Sink decides the ref):
//
//	findings.geojson                   one feature per (finding, parcel), WGS84: what Offsite
//	                                   claims, the findings at or above their detector's
//	                                   report_min_score
//	candidates.geojson                 the same for the findings below it: candidates, not
//	                                   findings (no finding file, no clips, never recorded)
//	findings/finding-<id>.geojson      each of those features alone
//	parcels/<parcel_id>/<role>-<file>.tif  raster.Clip of each input file that supplies a
//	parcels/<parcel_id>/<role>-<file>.png  band, cut to the parcel grown by buffer_m, and
//	                                   its quick-look with the findings outlined in magenta
//	manifest.json                      inputs and every artifact above with SHA-256 and size
//
// A capture that lacks optional bands of the pipeline runs the detectors its bands serve; the
// manifest says which detectors were skipped or ran with fewer bands and why, how each band
// became reflectance (the capture's metadata when it has scale and offset: its STAC sidecar's
// raster:bands, else GDAL scale/offset or Sentinel-2 BOA_ADD_OFFSET; else the pipeline's
// mapping), the warnings of the run (GDAL warnings on the inputs, reflectance out of range),
// and for each parcel the share of its pixels the mask left out (also in each finding's
// masked_share).
//
// A finding's id is a hash of the pipeline hash, the inputs' SHA-256, the parcel, the
// detector and the geometry. Outputs are deterministic: the same inputs, pipeline and
// Inputs.Time give byte-identical artifacts.
package process

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/detect"
	"github.com/offsite/offsite/internal/geo"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/stac"
	"github.com/offsite/offsite/pipelines"
)

// Artifact names and media types.
const (
	FindingsName   = "findings.geojson"
	CandidatesName = "candidates.geojson"
	ManifestName   = "manifest.json"

	MediaGeoJSON = "application/geo+json"
	MediaJSON    = "application/json"
	MediaCOG     = "image/tiff; application=geotiff; profile=cloud-optimized"
	MediaPNG     = "image/png"
)

// DefaultContextM is the margin, in metres, read around the parcels (beyond the pipeline's
// buffer) so that detectors have background to compare with.
const DefaultContextM = 1000

// DefaultMaxWindowM is the largest side of a window of parcels processed at once: with
// the context margin, a 22 km window of 10 m pixels is about 2200 × 2200 pixels, some
// 20 MB per band and date.
const DefaultMaxWindowM = 20000

// File is one input file: a raster file of a capture or a track.
type File struct {
	// Name identifies the file in provenance and the manifest (a file name or object key).
	Name string
	// Href locates the file in provenance (a URL); "" means Name.
	Href string
	// CaptureID is the file's capture record, for provenance; 0 when it has none.
	CaptureID int64
	Source    raster.Source // rasters only
	// SHA256 is the hex SHA-256 of the file's bytes; when empty Run hashes a local file
	// (Source.Path) or a track's Data.
	SHA256 string
	Size   int64
	// Calibration is what the capture's sidecar (STAC raster:bands) says of the file's bands,
	// band k at k-1; entries with an empty Source say nothing.
	Calibration []raster.Calibration
	// Warnings are GDAL's warnings on the file's source recorded earlier (the service's
	// ingest, which read the source that Source may have been converted from); the run keeps
	// them among its own.
	Warnings []string
}

// CalibrationSTAC is the Source of a calibration taken from a STAC sidecar's raster:bands.
const CalibrationSTAC = "stac raster:bands"

// SidecarCalibration is File.Calibration from a STAC sidecar's raster:bands of the file.
func SidecarCalibration(bands []offsite.BandScale) []raster.Calibration {
	var out []raster.Calibration
	for _, b := range bands {
		var cal raster.Calibration
		if b.Set {
			cal = raster.Calibration{Scale: b.Scale, Offset: b.Offset, Source: CalibrationSTAC}
		}
		out = append(out, cal)
	}
	return out
}

// Capture is a raster capture: one multiband file, or one file per band (or a few), read
// onto one grid.
type Capture struct {
	Files      []File
	AcquiredAt time.Time // zero if unknown
}

// Track is a boat or vehicle track.
type Track struct {
	File
	Data       []byte
	Format     string // pipelines.FormatCSV or pipelines.FormatGeoJSON
	AcquiredAt time.Time
}

// Inputs are what Run processes. Exactly one of these is set: Before and After (a pair),
// Capture (one raster date: hotspots, plumes, smoke), or Track.
type Inputs struct {
	Pipeline *pipelines.Pipeline
	Before   *Capture
	After    *Capture
	Capture  *Capture
	Track    *Track
	// Parcels in WGS84 (as geo.ReadFile returns them); their ids name artifacts, so they
	// must not contain "/" or "\" or be "." or "..".
	Parcels []geo.Feature
	Env     raster.Env
	// Time is recorded in provenance and the manifest. When zero it is the latest
	// acquisition time of the captures; when that is unknown too, the field is omitted.
	Time time.Time
	// ContextM is the margin read around the parcels; 0 means DefaultContextM.
	ContextM float64
	// MaxWindowM bounds the side of the parcels' envelope read at once; parcels further
	// apart are processed in separate windows. 0 means DefaultMaxWindowM.
	MaxWindowM float64
	// SkipArtifacts writes only findings.geojson, candidates.geojson, the finding files and
	// the manifest.
	SkipArtifacts bool
	// Progress, when set, is called after each window of parcels with the number of parcels
	// done so far (those outside the scene included) and the total.
	Progress func(done, total int)
}

// Finding is one finding attributed to one parcel, as written to findings.geojson.
type Finding struct {
	ID         string
	ParcelID   string
	Geometry   orb.Geometry // WGS84
	AreaM2     float64
	Severity   string
	Detect     detect.Finding
	Match      detect.ParcelMatch
	Properties map[string]any // the feature's properties
	// Provenance is the finding's STAC Item, also Properties["provenance"]; the service
	// adds the assets it stored to a copy.
	Provenance *stac.Item
	// Artifacts are the refs of the parcel's clips and quick-looks and (last) of the
	// finding's own GeoJSON file.
	Artifacts []string
}

// ManifestEntry describes one stored file.
type ManifestEntry struct {
	Path      string `json:"path"`
	Role      string `json:"role,omitempty"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type,omitempty"`
}

// Manifest lists a run's inputs and every artifact it stored (except itself).
type Manifest struct {
	Pipeline        string          `json:"pipeline"`
	PipelineHash    string          `json:"pipeline_hash"`
	SoftwareVersion string          `json:"software_version"`
	Time            string          `json:"time,omitempty"`
	Inputs          []ManifestEntry `json:"inputs"`
	Parcels         int             `json:"parcels"`
	Findings        int             `json:"findings"`
	Candidates      int             `json:"candidates"`
	// Bands says how each band of each date became reflectance (raster runs).
	Bands []BandUse `json:"bands,omitempty"`
	// Degraded lists the detectors the captures' bands could not serve in full.
	Degraded []pipelines.Degradation `json:"degraded,omitempty"`
	// Warnings are what the run noticed and went on with: GDAL warnings on the inputs,
	// reflectance out of its range.
	Warnings []string `json:"warnings,omitempty"`
	// ParcelResults say, per parcel of a raster run, how much of it the mask left out.
	ParcelResults []ParcelResult  `json:"parcel_results,omitempty"`
	Artifacts     []ManifestEntry `json:"artifacts"`
}

// BandUse says how one band of one date became reflectance: value × Scale + Offset, from
// Source (CalibrationSTAC, raster.CalibrationGDAL, raster.CalibrationBOA,
// raster.CalibrationInferred, or "pipeline"), or
// that the capture lacks it.
type BandUse struct {
	Date    string  `json:"date"` // "before", "after", "capture"
	Role    string  `json:"role"`
	Band    string  `json:"band"`
	Missing bool    `json:"missing,omitempty"`
	Scale   float64 `json:"scale,omitempty"`
	Offset  float64 `json:"offset"`
	Source  string  `json:"source,omitempty"`
}

// ParcelResult is a parcel's share of pixels left out by the mask (no data, cloud, shadow,
// snow and the buffer around them, as the pipeline's change parameters say) on the grid the
// detectors ran on, and its findings and candidates.
type ParcelResult struct {
	ParcelID     string   `json:"parcel_id"`
	Pixels       int      `json:"pixels"` // pixels whose centre lies in the parcel
	MaskedPixels int      `json:"masked_pixels"`
	MaskedShare  *float64 `json:"masked_share"` // null when the parcel covers no pixel centre
	Findings     int      `json:"findings"`
	Candidates   int      `json:"candidates"`
}

// Result is what Run produced.
type Result struct {
	// Findings are what Offsite claims; Candidates the findings below their detector's
	// report threshold, which are not to be recorded as findings.
	Findings    []Finding
	Candidates  []Finding
	Manifest    Manifest
	ManifestRef string
	// Windows is the number of windows of parcels processed (0 for tracks).
	Windows int
	// Grid describes the raster grid the detectors ran on in the first window (zero for
	// tracks).
	GridWidth, GridHeight int
	GridGeoTransform      [6]float64
	GridCRS               string
	// Timings are the wall times of the run's phases.
	Timings Timings
}

// Timings are the wall times of a run's phases, for benchmarks and logs.
type Timings struct {
	Hash   time.Duration // hashing local inputs without a checksum
	Read   time.Duration // reading the bands of every window (raster.ReadBands)
	Detect time.Duration // detectors and attribution
	Clips  time.Duration // clips and quick-looks of the parcels with findings, stored
	Store  time.Duration // finding files, findings.geojson and the manifest, stored
}

// String lists the phases, e.g. "hash 0.31s, read 3.90s, ...".
func (t Timings) String() string {
	return fmt.Sprintf("hash %.2fs, read %.2fs, detect %.2fs, clips %.2fs, store %.2fs",
		t.Hash.Seconds(), t.Read.Seconds(), t.Detect.Seconds(), t.Clips.Seconds(), t.Store.Seconds())
}

// input is a file with its role, for provenance.
type input struct {
	role string // "before", "after", "capture", "track"
	File
	acquired time.Time
	media    string // the file's media type
}

// Media types of inputs.
const (
	mediaGeoTIFF = "image/tiff; application=geotiff"
	mediaCSV     = "text/csv"
)

// Run runs in.Pipeline on the inputs, attributes findings to parcels, and stores the
// artifacts, findings.geojson and (last) manifest.json in sink.
func Run(ctx context.Context, in Inputs, sink Sink) (*Result, error) {
	p := in.Pipeline
	if p == nil {
		return nil, errors.New("process: no pipeline")
	}
	if len(in.Parcels) == 0 {
		return nil, errors.New("process: no parcels")
	}
	ids := make(map[string]int, len(in.Parcels))
	for _, f := range in.Parcels {
		if err := CheckParcelID(f.ParcelID); err != nil {
			return nil, fmt.Errorf("process: parcel %d: parcel_id %q: %v", f.Index, f.ParcelID, err)
		}
		if prev, ok := ids[f.ParcelID]; ok {
			return nil, fmt.Errorf("process: parcels %d and %d have the same parcel_id %q", prev, f.Index, f.ParcelID)
		}
		ids[f.ParcelID] = f.Index
	}
	start := time.Now()
	inputs, err := collectInputs(in)
	if err != nil {
		return nil, err
	}
	hashed := time.Since(start)
	if in.Time.IsZero() {
		for _, i := range inputs {
			if i.acquired.After(in.Time) {
				in.Time = i.acquired
			}
		}
	}
	r := &run{in: in, p: p, sink: sink, inputs: inputs, res: &Result{}, clipRefs: map[string][]string{}, parcelResults: map[string]*ParcelResult{}}
	r.res.Timings.Hash = hashed
	if in.Track != nil {
		err = r.track(ctx)
	} else {
		err = r.raster(ctx)
	}
	if err != nil {
		return nil, err
	}
	if err := r.store(ctx); err != nil {
		return nil, err
	}
	return r.res, nil
}

// collectInputs checks which inputs are set and hashes those without a checksum.
func collectInputs(in Inputs) ([]input, error) {
	var out []input
	add := func(role string, c *Capture) error {
		if len(c.Files) == 0 {
			return fmt.Errorf("process: %s capture has no files", role)
		}
		for _, f := range c.Files {
			if err := hashFile(&f); err != nil {
				return err
			}
			out = append(out, input{role: role, File: f, acquired: c.AcquiredAt, media: mediaGeoTIFF})
		}
		return nil
	}
	isRaster := in.Pipeline.Detector(pipelines.TypeTrack) == nil
	switch {
	case in.Track != nil:
		if in.Before != nil || in.After != nil || in.Capture != nil {
			return nil, errors.New("process: a track run takes no raster capture")
		}
		if isRaster {
			return nil, fmt.Errorf("process: pipeline %s is for rasters, not tracks", in.Pipeline.Name)
		}
		f := in.Track.File
		if f.SHA256 == "" {
			sum := sha256.Sum256(in.Track.Data)
			f.SHA256, f.Size = hex.EncodeToString(sum[:]), int64(len(in.Track.Data))
		}
		media := MediaGeoJSON
		if in.Track.Format == pipelines.FormatCSV {
			media = mediaCSV
		}
		out = append(out, input{role: "track", File: f, acquired: in.Track.AcquiredAt, media: media})
	case !isRaster:
		return nil, fmt.Errorf("process: pipeline %s is for tracks: give a track", in.Pipeline.Name)
	case in.Before != nil || in.After != nil:
		if in.Before == nil || in.After == nil || in.Capture != nil {
			return nil, errors.New("process: a pair needs both before and after, and no single capture")
		}
		if err := add("before", in.Before); err != nil {
			return nil, err
		}
		if err := add("after", in.After); err != nil {
			return nil, err
		}
	case in.Capture != nil:
		if err := add("capture", in.Capture); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("process: no capture")
	}
	return out, nil
}

// hashFile fills in the SHA-256 and size of a local file.
func hashFile(f *File) error {
	if f.SHA256 != "" {
		return nil
	}
	if f.Source.Path == "" {
		return fmt.Errorf("process: %s: no checksum", f.Name)
	}
	fh, err := os.Open(f.Source.Path)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return fmt.Errorf("process: hash %s: %w", f.Source.Path, err)
	}
	f.SHA256, f.Size = hex.EncodeToString(h.Sum(nil)), n
	return nil
}

// CheckParcelID rejects parcel ids that cannot name a file or folder: an artifact folder
// here, a clip's file for `worker clip`.
func CheckParcelID(id string) error {
	switch {
	case id == "" || id == "." || id == "..":
		return errors.New("empty or a dot name")
	case strings.ContainsAny(id, "/\\\x00"):
		return errors.New("contains a path separator or NUL")
	case len(id) > 200:
		return errors.New("longer than 200 bytes")
	}
	return nil
}

// run is the state of one Run.
type run struct {
	in     Inputs
	p      *pipelines.Pipeline
	sink   Sink
	inputs []input
	res    *Result

	gridCRS   string                    // WKT of the detectors' grid; "" for tracks
	artifacts []ManifestEntry           // stored so far
	byParcel  map[string][]orb.Geometry // finding outlines per parcel, grid CRS
	clipRefs  map[string][]string       // refs of the clips and quick-looks per parcel
	// used maps role and file index to the 1-based bands of that file the pipeline reads,
	// by band name; files without entries supply no band and are not clipped.
	used map[string]map[int]map[string]int

	bands         []BandUse // of the first window
	degraded      []pipelines.Degradation
	warnings      []string
	parcelResults map[string]*ParcelResult
}

// warn records a warning once.
func (r *run) warn(msg string) {
	if !slices.Contains(r.warnings, msg) {
		r.warnings = append(r.warnings, msg)
	}
}

// raster groups the parcels into windows of at most MaxWindowM a side, and for each window
// reads the captures onto one grid, runs the detectors and builds the findings. Memory
// depends on the window, not on the scene.
func (r *run) raster(ctx context.Context) error {
	in, p := r.in, r.p
	for _, f := range in.Parcels {
		if f.Geometry == nil {
			return fmt.Errorf("process: parcel %q has no geometry", f.ParcelID)
		}
	}
	maxSide := in.MaxWindowM
	if maxSide == 0 {
		maxSide = DefaultMaxWindowM
	}
	roles := make([]string, 0, len(p.Bands))
	for role := range p.Bands {
		roles = append(roles, role)
	}
	sort.Strings(roles)
	var names, nearest, optional []string
	seen := map[string]bool{}
	for _, role := range roles {
		b := p.Bands[role].Band
		if seen[b] {
			continue
		}
		seen[b] = true
		names = append(names, b)
		if role == detect.BandSCL {
			nearest = append(nearest, b)
		}
		if p.Bands[role].Optional {
			optional = append(optional, b)
		}
	}
	groups := groupParcels(in.Parcels, maxSide)
	var missed error
	done, parcelsDone := 0, 0
	for _, g := range groups {
		err := r.rasterWindow(ctx, g, raster.BandsOptions{Bands: names, Nearest: nearest, Optional: optional})
		if parcelsDone += len(g); in.Progress != nil {
			in.Progress(parcelsDone, len(in.Parcels))
		}
		if errors.Is(err, raster.ErrNoOverlap) {
			missed = err
			continue
		}
		if err != nil {
			return err
		}
		done++
	}
	if done == 0 {
		return missed
	}
	r.res.Windows = done
	return nil
}

// rasterWindow processes the parcels of one window; opts names the bands to read.
func (r *run) rasterWindow(ctx context.Context, group []geo.Feature, opts raster.BandsOptions) error {
	in, p := r.in, r.p
	box := group[0].Geometry.Bound()
	for _, f := range group[1:] {
		box = box.Union(f.Geometry.Bound())
	}
	margin := in.ContextM
	if margin == 0 {
		margin = DefaultContextM
	}
	sources := func(c *Capture) []raster.Source {
		out := make([]raster.Source, len(c.Files))
		for i, f := range c.Files {
			out[i] = f.Source
		}
		return out
	}
	first, second := in.Before, in.After
	if in.Capture != nil {
		first, second = in.Capture, nil
	}
	firstRole := "before"
	if second == nil {
		firstRole = "capture"
	}
	start := time.Now()
	var read time.Duration
	defer func() { r.res.Timings.Detect += time.Since(start) - read }()
	fo := opts
	fo.BBox, fo.BufferM = box, p.Buffer+margin
	a, err := raster.ReadBands(ctx, in.Env, sources(first), fo)
	if err != nil {
		return fmt.Errorf("process: %s: %w", firstRole, err)
	}
	var b *raster.Bands
	if second != nil {
		so := opts
		so.Onto = a
		if b, err = raster.ReadBands(ctx, in.Env, sources(second), so); err != nil {
			return fmt.Errorf("process: after: %w", err)
		}
	}
	read = time.Since(start)
	r.res.Timings.Read += read
	if r.used == nil {
		r.used = map[string]map[int]map[string]int{}
		record := func(role string, x *raster.Bands) {
			m := map[int]map[string]int{}
			for k, n := range x.Names {
				if m[x.Source[k]] == nil {
					m[x.Source[k]] = map[string]int{}
				}
				m[x.Source[k]][n] = x.Band[k]
			}
			r.used[role] = m
		}
		if second == nil {
			record("capture", a)
		} else {
			record("before", a)
			record("after", b)
		}
		r.gridCRS = a.CRS
		r.res.GridWidth, r.res.GridHeight, r.res.GridGeoTransform, r.res.GridCRS = a.Width, a.Height, a.GeoTransform, a.CRS
	}
	// A band either date lacks is left out of both.
	missing := map[string]bool{}
	for _, x := range []*raster.Bands{a, b} {
		if x != nil {
			for _, n := range x.Missing {
				missing[n] = true
			}
		}
	}
	firstBands := r.bands == nil
	mk := func(date string, c *Capture, x *raster.Bands) (*detect.Grid, error) {
		m := make(map[string][]float32, len(x.Names))
		for i, n := range x.Names {
			if !missing[n] {
				m[n] = x.Data[i]
			}
		}
		cal, uses := r.calibrate(date, c, x, missing)
		if firstBands {
			r.bands = append(r.bands, uses...)
		}
		for _, f := range c.Files {
			for _, w := range f.Warnings {
				r.warn(date + ": GDAL at ingest of " + f.Name + ": " + w)
			}
		}
		for _, w := range x.Warnings {
			r.warn(date + ": GDAL: " + w)
		}
		g, err := p.NewGridCalibrated(x.Width, x.Height, x.GeoTransform, m, x.Valid, cal)
		if err != nil {
			return nil, err
		}
		for _, w := range checkReflectance(g, uses) {
			r.warn(date + ": " + w)
		}
		return g, nil
	}
	ga, err := mk(firstRole, first, a)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	var before, after *detect.Grid = nil, ga
	if b != nil {
		gb, err := mk("after", second, b)
		if err != nil {
			return fmt.Errorf("process: %w", err)
		}
		before, after = ga, gb
	}
	for _, d := range p.Degradations(before, after) {
		if !slices.Contains(r.degraded, d) {
			r.degraded = append(r.degraded, d)
		}
	}
	parcels := make([]detect.Parcel, len(group))
	for i, f := range group {
		g, err := geo.Reproject(f.Geometry, geo.CRSWGS84, a.CRS)
		if err != nil {
			return fmt.Errorf("process: parcel %q: %w", f.ParcelID, err)
		}
		parcels[i] = detect.Parcel{ID: f.ParcelID, Geometry: g}
	}
	mpu := 1.0
	if a.Geographic() {
		mpu = 111320 * math.Cos(box.Center()[1]*math.Pi/180)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.maskedShares(before, after, parcels)
	fs, err := p.RunRaster(before, after, parcels, mpu)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	return r.findings(fs, a.CRS, mpu)
}

// groupParcels puts parcels into groups whose lon/lat envelope spans at most maxSide metres
// each way (a parcel larger than that gets a group of its own), greedily in the order of
// their envelopes' west edges, so the same parcels always give the same groups.
func groupParcels(parcels []geo.Feature, maxSide float64) [][]geo.Feature {
	idx := make([]int, len(parcels))
	for i := range idx {
		idx[i] = i
	}
	bounds := make([]orb.Bound, len(parcels))
	for i, f := range parcels {
		bounds[i] = f.Geometry.Bound()
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ba, bb := bounds[idx[a]], bounds[idx[b]]
		if ba.Min[0] != bb.Min[0] {
			return ba.Min[0] < bb.Min[0]
		}
		return ba.Min[1] < bb.Min[1]
	})
	span := func(b orb.Bound) (float64, float64) {
		lat := b.Center()[1] * math.Pi / 180
		return (b.Max[0] - b.Min[0]) * 111320 * math.Cos(lat), (b.Max[1] - b.Min[1]) * 110574
	}
	var groups [][]geo.Feature
	var gbounds []orb.Bound
	for _, i := range idx {
		placed := false
		for g := range groups {
			u := gbounds[g].Union(bounds[i])
			if w, h := span(u); w <= maxSide && h <= maxSide {
				groups[g] = append(groups[g], parcels[i])
				gbounds[g] = u
				placed = true
				break
			}
		}
		if !placed {
			groups = append(groups, []geo.Feature{parcels[i]})
			gbounds = append(gbounds, bounds[i])
		}
	}
	return groups
}

// track parses the track and runs the track detector.
func (r *run) track(ctx context.Context) error {
	parcels := make([]detect.Parcel, len(r.in.Parcels))
	for i, f := range r.in.Parcels {
		parcels[i] = detect.Parcel{ID: f.ParcelID, Geometry: f.Geometry}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fs, warnings, err := r.p.RunTrack(bytes.NewReader(r.in.Track.Data), r.in.Track.Format, parcels)
	if err != nil {
		return fmt.Errorf("process: track %s: %w", r.in.Track.Name, err)
	}
	for _, w := range warnings {
		r.warnings = append(r.warnings, r.in.Track.Name+": "+w)
	}
	return r.findings(fs, "", 1)
}

// findings turns detector findings into one Finding per (finding, parcel), in WGS84.
func (r *run) findings(fs []detect.Finding, crs string, mpu float64) error {
	byID := map[string]geo.Feature{}
	for _, f := range r.in.Parcels {
		byID[f.ParcelID] = f
	}
	if r.byParcel == nil {
		r.byParcel = map[string][]orb.Geometry{}
	}
	for _, f := range fs {
		wgs := f.Geometry
		if crs != "" {
			var err error
			if wgs, err = geo.Reproject(f.Geometry, crs, geo.CRSWGS84); err != nil {
				return fmt.Errorf("process: finding geometry: %w", err)
			}
		}
		area := geo.Area(wgs)
		var sev string
		reported := true
		for i := range r.p.Detectors {
			if d := &r.p.Detectors[i]; d.Name == f.Detector {
				sev, reported = d.Severity(f), d.Reported(f)
			}
		}
		matches := f.Parcels
		if crs == "" && len(matches) > 1 {
			// A track event is one finding, on the parcel that explains it best; the
			// others are its ranked candidates.
			matches = matches[:1]
		}
		for _, m := range matches {
			pf := byID[m.ParcelID]
			gj, err := json.Marshal(geojson.NewGeometry(wgs))
			if err != nil {
				return fmt.Errorf("process: finding geometry: %w", err)
			}
			id := r.findingID(m.ParcelID, f, gj)
			props := map[string]any{
				"id":        id,
				"parcel_id": m.ParcelID,
				"kind":      f.Kind,
				"class":     f.Class,
				"score":     finite(f.Score),
				"area_m2":   round(area, 2),
				"detector":  f.Detector,
				"params":    finiteMap(f.Params),
				"reason":    m.Reason,
			}
			if crs != "" {
				props["distance_m"] = round(m.Distance*mpu, 2)
				props["pixels"] = f.Pixels
			} else {
				props["distance_m"] = round(m.Distance, 2)
			}
			if pf.USCC != "" {
				props["uscc"] = pf.USCC
			}
			if pf.Name != "" {
				props["name"] = pf.Name
			}
			if f.Status != "" {
				props["status"] = f.Status
			}
			if sev != "" {
				props["severity"] = sev
			}
			if len(f.Measures) > 0 {
				props["measures"] = finiteMap(f.Measures)
			}
			if f.Pollutant != "" {
				props["pollutant"] = f.Pollutant
				props["unit"] = f.Unit
			}
			if !f.Start.IsZero() {
				props["start"] = f.Start.UTC().Format(time.RFC3339Nano)
				props["end"] = f.End.UTC().Format(time.RFC3339Nano)
			}
			if crs == "" {
				props["candidate_parcels"] = trackCandidates(f.Parcels, byID)
			}
			pr := r.parcelResults[m.ParcelID]
			if pr != nil {
				props["masked_share"] = pr.MaskedShare
			}
			prov := r.provenance(id, m.ParcelID, wgs, f)
			props["provenance"] = prov
			out := Finding{
				ID: id, ParcelID: m.ParcelID, Geometry: wgs, AreaM2: area, Severity: sev,
				Detect: f, Match: m, Properties: props, Provenance: prov,
			}
			if !reported {
				props["candidate"] = true
				r.res.Candidates = append(r.res.Candidates, out)
				if pr != nil {
					pr.Candidates++
				}
				continue
			}
			r.res.Findings = append(r.res.Findings, out)
			if pr != nil {
				pr.Findings++
			}
			if crs != "" {
				r.byParcel[m.ParcelID] = append(r.byParcel[m.ParcelID], f.Geometry)
			}
		}
	}
	return nil
}

// trackCandidates lists a track event's ranked candidate parcels for its finding's
// properties: parcel id, uscc, rank, share of the explanation, distance, and the
// along-wind and crosswind distances when a wind (or flow) was used.
func trackCandidates(ms []detect.ParcelMatch, byID map[string]geo.Feature) []map[string]any {
	out := make([]map[string]any, 0, len(ms))
	for _, m := range ms {
		c := map[string]any{"parcel_id": m.ParcelID, "rank": m.Rank, "share": round(m.Share, 4),
			"distance_m": round(m.Distance, 1)}
		if u := byID[m.ParcelID].USCC; u != "" {
			c["uscc"] = u
		}
		if m.Directional {
			c["along_m"] = round(m.Along, 1)
			c["cross_m"] = round(m.Cross, 1)
		}
		out = append(out, c)
	}
	return out
}

// findingID hashes the pipeline, the inputs' checksums, the parcel and the geometry.
func (r *run) findingID(parcel string, f detect.Finding, geom []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "pipeline %s\n", r.p.Hash())
	for _, i := range r.inputs {
		fmt.Fprintf(h, "%s %s\n", i.role, i.SHA256)
	}
	fmt.Fprintf(h, "parcel %q\ndetector %q %s %s %s\n", parcel, f.Detector, f.Kind, f.Class, f.Status)
	h.Write(geom)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// provenance is a finding's provenance as a STAC Item, the same in local mode and in the
// service: derived_from links to the inputs with their checksums, and properties naming
// the software, the pipeline and its hash, the detector and its parameters, and the
// attribution rule. The service adds the assets it stored.
func (r *run) provenance(id, parcel string, wgs orb.Geometry, f detect.Finding) *stac.Item {
	props := map[string]any{
		"datetime":                     nil,
		"processing:software":          map[string]string{"offsite": offsite.Version},
		"processing:lineage":           fmt.Sprintf("pipeline %s (sha256 %s) on %d capture(s)", r.p.Name, r.p.Hash(), len(r.inputs)),
		"processing:level":             "L4",
		"offsite:pipeline":             r.p.Name,
		"offsite:pipeline_sha256":      r.p.Hash(),
		"offsite:detector":             f.Detector,
		"offsite:parameters":           finiteMap(f.Params),
		"offsite:parcel_id":            parcel,
		"offsite:kind":                 f.Kind,
		"offsite:class":                f.Class,
		"offsite:score":                finite(f.Score),
		"offsite:attribution_rule":     "intersects the parcel or lies within buffer_m of it",
		"offsite:attribution_buffer_m": r.p.Buffer,
	}
	if r.in.Track != nil {
		props["offsite:attribution_rule"] = "the event's candidate parcels ranked by their share of its explanation: with wind (or flow), a Gaussian plume's crosswind spread and width at each parcel's distance upwind; without, the distance; the finding is on the first, the candidates list the rest"
		delete(props, "offsite:attribution_buffer_m")
	}
	if !r.in.Time.IsZero() {
		props["datetime"] = r.in.Time.UTC().Format(time.RFC3339)
	}
	item := stac.NewItem(id, wgs, props)
	for _, i := range r.inputs {
		l := stac.Link{Rel: "derived_from", Href: i.Href, Type: i.media, Checksum: stac.Checksum(i.SHA256), Size: i.Size, Role: i.role, CaptureID: i.CaptureID}
		if l.Href == "" {
			l.Href = i.Name
		}
		if !i.acquired.IsZero() {
			l.Datetime = i.acquired.UTC().Format(time.RFC3339)
		}
		item.Links = append(item.Links, l)
	}
	return item
}

// runProvenance adds to each finding's and candidate's provenance what the whole run went
// on with, known once every window is done: how each band became reflectance, the detectors
// skipped or run with fewer bands, the warnings, and the share of the parcel the mask left
// out.
func (r *run) runProvenance() {
	for _, fs := range [][]Finding{r.res.Findings, r.res.Candidates} {
		for _, f := range fs {
			if f.Provenance == nil {
				continue
			}
			props := f.Provenance.Properties
			props["offsite:warnings"] = nonNil(r.warnings)
			if r.in.Track != nil {
				continue
			}
			props["offsite:bands"] = nonNil(r.bands)
			props["offsite:degraded"] = nonNil(r.degraded)
			if pr := r.parcelResults[f.ParcelID]; pr != nil {
				props["offsite:masked_share"] = pr.MaskedShare
			}
		}
	}
}

// nonNil is s, or an empty slice for nil, so that provenance says "none" as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// store writes the clips, quick-looks, finding files, findings.geojson and the manifest.
func (r *run) store(ctx context.Context) error {
	r.runProvenance()
	fs := r.res.Findings
	sortFindings(fs)
	sortFindings(r.res.Candidates)
	start := time.Now()
	if !r.in.SkipArtifacts && r.gridCRS != "" {
		if err := r.clips(ctx); err != nil {
			return err
		}
	}
	r.res.Timings.Clips = time.Since(start)
	defer func() { r.res.Timings.Store = time.Since(start) - r.res.Timings.Clips }()
	var all []*geojson.Feature
	for i := range fs {
		feat := geojson.NewFeature(fs[i].Geometry)
		feat.Properties = fs[i].Properties
		arts := r.parcelArtifacts(fs[i].ParcelID)
		if len(arts) > 0 {
			feat.Properties["artifacts"] = arts
		}
		data, err := marshalCollection([]*geojson.Feature{feat})
		if err != nil {
			return err
		}
		ref, err := r.put(ctx, "findings/finding-"+fs[i].ID+".geojson", "finding", data, MediaGeoJSON)
		if err != nil {
			return err
		}
		fs[i].Artifacts = append(arts, ref)
		all = append(all, feat)
	}
	data, err := marshalCollection(all)
	if err != nil {
		return err
	}
	if _, err := r.put(ctx, FindingsName, "findings", data, MediaGeoJSON); err != nil {
		return err
	}
	var cands []*geojson.Feature
	for _, c := range r.res.Candidates {
		feat := geojson.NewFeature(c.Geometry)
		feat.Properties = c.Properties
		cands = append(cands, feat)
	}
	if data, err = marshalCollection(cands); err != nil {
		return err
	}
	if _, err := r.put(ctx, CandidatesName, "candidates", data, MediaGeoJSON); err != nil {
		return err
	}
	m := Manifest{
		Pipeline: r.p.Name, PipelineHash: r.p.Hash(), SoftwareVersion: offsite.Version,
		Parcels: len(r.in.Parcels), Findings: len(fs), Candidates: len(r.res.Candidates),
		Bands: r.bands, Degraded: r.degraded, Warnings: r.warnings, Artifacts: r.artifacts,
	}
	for _, f := range r.in.Parcels {
		if pr := r.parcelResults[f.ParcelID]; pr != nil {
			m.ParcelResults = append(m.ParcelResults, *pr)
		}
	}
	sort.Slice(m.ParcelResults, func(i, j int) bool { return m.ParcelResults[i].ParcelID < m.ParcelResults[j].ParcelID })
	if !r.in.Time.IsZero() {
		m.Time = r.in.Time.UTC().Format(time.RFC3339)
	}
	for _, i := range r.inputs {
		m.Inputs = append(m.Inputs, ManifestEntry{Path: i.Name, Role: i.role, SHA256: i.SHA256, Size: i.Size})
	}
	sort.SliceStable(m.Artifacts, func(i, j int) bool { return m.Artifacts[i].Path < m.Artifacts[j].Path })
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("process: manifest: %w", err)
	}
	mb = append(mb, '\n')
	ref, _, err := r.sink.Put(ctx, ManifestName, mb, MediaJSON)
	if err != nil {
		return err
	}
	r.res.Manifest, r.res.ManifestRef = m, ref
	return nil
}

// sortFindings orders findings by detector, score (highest first), parcel and id.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Detect.Detector != b.Detect.Detector {
			return a.Detect.Detector < b.Detect.Detector
		}
		if a.Detect.Score != b.Detect.Score {
			return a.Detect.Score > b.Detect.Score
		}
		if a.ParcelID != b.ParcelID {
			return a.ParcelID < b.ParcelID
		}
		return a.ID < b.ID
	})
}

// put stores an artifact and records it for the manifest.
func (r *run) put(ctx context.Context, name, role string, data []byte, media string) (string, error) {
	ref, sum, err := r.sink.Put(ctx, name, data, media)
	if err != nil {
		return "", err
	}
	r.artifacts = append(r.artifacts, ManifestEntry{Path: ref, Role: role, SHA256: sum, Size: int64(len(data)), MediaType: media})
	return ref, nil
}

// parcelArtifacts lists the refs of the clips and quick-looks stored for a parcel.
func (r *run) parcelArtifacts(parcel string) []string {
	out := append([]string(nil), r.clipRefs[parcel]...)
	sort.Strings(out)
	return out
}

// clips cuts every raster input to each parcel with findings (grown by the pipeline's
// buffer) with raster.Clip, and outlines the parcel's findings on the quick-looks.
func (r *run) clips(ctx context.Context) error {
	var parcels []raster.Parcel
	for _, f := range r.in.Parcels {
		if len(r.byParcel[f.ParcelID]) == 0 {
			continue
		}
		g := f.Geometry
		if r.p.Buffer > 0 {
			var err error
			if g, err = geo.Buffer(f.Geometry, r.p.Buffer); err != nil {
				return fmt.Errorf("process: parcel %q: %w", f.ParcelID, err)
			}
		}
		parcels = append(parcels, raster.Parcel{ID: f.ParcelID, Geometry: g})
	}
	if len(parcels) == 0 {
		return nil
	}
	fileIndex := map[string]int{}
	for _, i := range r.inputs {
		k := fileIndex[i.role]
		fileIndex[i.role]++
		bands, ok := r.used[i.role][k]
		if !ok {
			continue
		}
		info, err := raster.Inspect(ctx, r.in.Env, i.Source)
		if err != nil {
			return err
		}
		marks, err := r.marks(parcels, info.CRS)
		if err != nil {
			return fmt.Errorf("process: outline on %s: %w", i.Name, err)
		}
		stem := strings.TrimSuffix(path.Base(filepath.ToSlash(i.Name)), path.Ext(i.Name))
		type out struct {
			id       string
			cog, png []byte
		}
		var outs []out
		opts := raster.ClipOptions{Tags: map[string]string{"capture_sha256": i.SHA256, "role": i.role}, QuickLookBands: r.quickLookBands(bands), Marks: marks}
		_, err = raster.Clip(ctx, r.in.Env, i.Source, parcels, opts,
			func(o raster.ClipOutput) error {
				outs = append(outs, out{id: o.ParcelID, cog: o.COG, png: o.QuickLook})
				return nil
			})
		if err != nil {
			return fmt.Errorf("process: clip %s: %w", i.Name, err)
		}
		sort.Slice(outs, func(a, b int) bool { return outs[a].id < outs[b].id })
		for _, o := range outs {
			base := "parcels/" + o.id + "/" + i.role + "-" + safeStem(stem)
			ref, err := r.put(ctx, base+".tif", "clip", o.cog, MediaCOG)
			if err != nil {
				return err
			}
			r.clipRefs[o.id] = append(r.clipRefs[o.id], ref)
			if ref, err = r.put(ctx, base+".png", "quicklook", o.png, MediaPNG); err != nil {
				return err
			}
			r.clipRefs[o.id] = append(r.clipRefs[o.id], ref)
		}
	}
	return nil
}

// marks returns the findings on each of parcels in crs, for their quick-looks.
func (r *run) marks(parcels []raster.Parcel, crs string) (map[string][]orb.Geometry, error) {
	marks := map[string][]orb.Geometry{}
	for _, p := range parcels {
		for _, g := range r.byParcel[p.ID] {
			if !sameCRS(crs, r.gridCRS) {
				var err error
				if g, err = geo.Reproject(g, r.gridCRS, crs); err != nil {
					return nil, err
				}
			}
			marks[p.ID] = append(marks[p.ID], g)
		}
	}
	return marks, nil
}

// quickLookBands picks the red, green and blue bands of a file for its quick-look when it
// holds all three, else leaves the choice to raster.Clip.
func (r *run) quickLookBands(bands map[string]int) []int {
	var out []int
	for _, role := range []string{detect.BandRed, detect.BandGreen, detect.BandBlue} {
		m, ok := r.p.Bands[role]
		if !ok {
			return nil
		}
		n, ok := bands[m.Band]
		if !ok {
			return nil
		}
		out = append(out, n)
	}
	return out
}

func sameCRS(a, b string) bool { return a == b || strings.TrimSpace(a) == strings.TrimSpace(b) }

// safeStem keeps letters, digits, '-', '_' and '.' of a file stem.
func safeStem(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "scene"
	}
	return b.String()
}

// marshalCollection encodes a FeatureCollection deterministically (map keys sorted).
func marshalCollection(fs []*geojson.Feature) ([]byte, error) {
	fc := geojson.NewFeatureCollection()
	fc.Features = fs
	if fc.Features == nil {
		fc.Features = []*geojson.Feature{}
	}
	b, err := json.MarshalIndent(fc, "", " ")
	if err != nil {
		return nil, fmt.Errorf("process: encode findings: %w", err)
	}
	return append(b, '\n'), nil
}

// finite returns v, or nil for NaN and infinities (which JSON cannot hold).
func finite(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func finiteMap(m map[string]float64) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = finite(v)
	}
	return out
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
