// Package pipelines holds the declarative definition of each capture kind's processing —
// band mapping, detectors and their parameters, attribution buffer, early-warning
// severities — and loads and validates them. The built-in definitions are the YAML files of
// this directory, embedded in the binary. A pipeline's content hash goes into each
// finding's provenance.
package pipelines

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/offsite/offsite/internal/detect"
)

//go:embed *.yaml
var builtin embed.FS

// Detector types.
const (
	TypeChange     = "change"
	TypeHotspot    = "hotspot"
	TypeWaterPlume = "water_plume"
	TypeSmoke      = "smoke"
	TypeTrack      = "track"
)

// Severities of early warnings, lowest first.
var Severities = []string{"info", "low", "medium", "high"}

// Pipeline is one capture kind's processing.
type Pipeline struct {
	// Name is the file name without ".yaml"; File the file's path in the loaded FS.
	Name string `yaml:"-"`
	File string `yaml:"-"`
	// Kind is the capture kind the pipeline processes (offsite.KindSentinel2, ...).
	Kind        string `yaml:"kind"`
	Description string `yaml:"description"`
	// Bands maps band roles (detect.BandRed, ...) to the capture's bands, for rasters.
	Bands map[string]BandMap `yaml:"bands"`
	// Columns maps a track's columns, for tracks.
	Columns *detect.TrackColumns `yaml:"columns"`
	// Buffer is the distance in metres within which a raster finding still belongs to a
	// parcel.
	Buffer    float64    `yaml:"buffer_m"`
	Detectors []Detector `yaml:"detectors"`

	content []byte
}

// BandMap says which band of a capture plays a role and how its values become reflectance:
// value × Scale + Offset. Scale and Offset are defaults: a capture whose metadata gives its
// bands' scale and offset (STAC raster:bands, GDAL scale/offset, Sentinel-2 BOA_ADD_OFFSET)
// is converted as it says.
type BandMap struct {
	// Band is the capture's band: its name in the STAC item (e.g. "B04", "SCL") or its
	// 1-based number as text.
	Band   string  `yaml:"band"`
	Scale  float64 `yaml:"scale"` // default 1
	Offset float64 `yaml:"offset"`
	// Optional lets a capture lack the band: the detectors that need it are skipped, with
	// the reason in the run's manifest, and the others run.
	Optional bool `yaml:"optional"`
}

// Apply converts a raw band value to the role's units.
func (b BandMap) Apply(v float32) float32 {
	s := b.Scale
	if s == 0 {
		s = 1
	}
	return v*float32(s) + float32(b.Offset)
}

// Detector is one detector run by a pipeline, with its parameters decoded into the
// detect package's parameter type for its Type; exactly one of the parameter fields is
// set.
type Detector struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// Warnings turn findings into early warnings: the first rule a finding matches gives
	// its severity; findings matching none raise no warning.
	Warnings []Warning `yaml:"warnings"`
	// ReportMinScore is the score below which a finding is only a candidate: kept apart
	// from the findings (candidates.geojson), never recorded as a finding nor opening an
	// inspection. Default 0: every finding is reported.
	ReportMinScore float64 `yaml:"report_min_score"`
	// ScoreCalibration maps the detector's raw score onto the share of such findings that
	// were real where it was fitted: points [raw, calibrated], raw ascending over [0, 1],
	// calibrated non-decreasing, linear in between and flat beyond the ends (`make eval`
	// fits it on half the scenes of its second generated set, CAL FIRE and LEVIR-CD, checks
	// it on the other half and prints it). The raw score stays in the finding's measures as
	// raw_score; ReportMinScore applies to the calibrated score. Empty: the raw score is the
	// score.
	ScoreCalibration [][2]float64 `yaml:"score_calibration"`

	Change     *detect.ChangeParams     `yaml:"-"`
	Hotspot    *detect.HotspotParams    `yaml:"-"`
	WaterPlume *detect.WaterPlumeParams `yaml:"-"`
	Smoke      *detect.SmokeParams      `yaml:"-"`
	Track      *detect.TrackParams      `yaml:"-"`
}

// Warning is an early-warning rule.
type Warning struct {
	Classes  []string `yaml:"classes"`  // finding classes it applies to; empty: all
	Statuses []string `yaml:"statuses"` // hotspot statuses it applies to; empty: all
	MinScore float64  `yaml:"min_score"`
	MinArea  float64  `yaml:"min_area_m2"` // least area of a raster finding, m²
	Severity string   `yaml:"severity"`    // one of Severities
}

// Hash is the hex SHA-256 of the pipeline file's content.
func (p *Pipeline) Hash() string {
	sum := sha256.Sum256(p.content)
	return hex.EncodeToString(sum[:])
}

// Content returns the pipeline file's bytes.
func (p *Pipeline) Content() []byte { return bytes.Clone(p.content) }

// BandNames are the capture bands a raster pipeline reads (every role's Band), sorted and
// each once: a capture without one of them cannot be run, nor paired with.
func (p *Pipeline) BandNames() []string {
	var names []string
	for _, b := range p.Bands {
		if !slices.Contains(names, b.Band) {
			names = append(names, b.Band)
		}
	}
	slices.Sort(names)
	return names
}

// Detector returns the pipeline's detector of the given type, or nil.
func (p *Pipeline) Detector(typ string) *Detector {
	for i := range p.Detectors {
		if p.Detectors[i].Type == typ {
			return &p.Detectors[i]
		}
	}
	return nil
}

// Calibrate maps a raw score through ScoreCalibration.
func (d *Detector) Calibrate(raw float64) float64 {
	c := d.ScoreCalibration
	if len(c) == 0 {
		return raw
	}
	if raw <= c[0][0] {
		return c[0][1]
	}
	for k := 1; k < len(c); k++ {
		if raw <= c[k][0] {
			a, b := c[k-1], c[k]
			if b[0] == a[0] {
				return b[1]
			}
			return a[1] + (b[1]-a[1])*(raw-a[0])/(b[0]-a[0])
		}
	}
	return c[len(c)-1][1]
}

// Reported reports whether a finding of detector d reaches its report threshold; below it
// the finding is only a candidate.
func (d *Detector) Reported(f detect.Finding) bool { return f.Score >= d.ReportMinScore }

// Severity returns the early-warning severity of a finding of detector d, or "" when no
// rule matches. An other_change finding — a change no class rule explains — is never
// above low, whatever the rules say.
func (d *Detector) Severity(f detect.Finding) string {
	s := d.severity(f)
	if f.Class == detect.ClassOtherChange && slices.Index(Severities, s) > slices.Index(Severities, "low") {
		return "low"
	}
	return s
}

func (d *Detector) severity(f detect.Finding) string {
	for _, w := range d.Warnings {
		if len(w.Classes) > 0 && !contains(w.Classes, f.Class) {
			continue
		}
		if len(w.Statuses) > 0 && !contains(w.Statuses, f.Status) {
			continue
		}
		if f.Score < w.MinScore || f.Area < w.MinArea {
			continue
		}
		return w.Severity
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Builtin loads the pipelines embedded in the binary; errors name their files as
// "pipelines/<name>.yaml".
func Builtin() (map[string]*Pipeline, error) { return load(builtin, "pipelines/") }

// Load reads and validates every *.yaml file at the root of fsys, keyed by name (file
// name without extension). Errors name the file, the key path and the problem, e.g.
// "pipelines: sentinel2.yaml: detectors[1].params.probability: must be in (0,1)"; all
// files' errors are joined.
func Load(fsys fs.FS) (map[string]*Pipeline, error) { return load(fsys, "") }

// load is Load with prefix put before file names in errors and Pipeline.File.
func load(fsys fs.FS, prefix string) (map[string]*Pipeline, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("pipelines: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("pipelines: no *.yaml files")
	}
	sort.Strings(names)
	out := map[string]*Pipeline{}
	var errs []error
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("pipelines: %w", err))
			continue
		}
		p, err := Parse(prefix+name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[p.Name] = p
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Error is a problem in a pipeline file.
type Error struct {
	File    string
	Path    string // key path, e.g. "detectors[1].params.probability"; "" for the file
	Line    int    // 0 when unknown
	Problem string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Path == "" {
		return fmt.Sprintf("pipelines: %s: %s", loc, e.Problem)
	}
	return fmt.Sprintf("pipelines: %s: %s: %s", loc, e.Path, e.Problem)
}

// rawPipeline mirrors Pipeline with detector parameters left undecoded.
type rawPipeline struct {
	Kind        string               `yaml:"kind"`
	Description string               `yaml:"description"`
	Bands       map[string]BandMap   `yaml:"bands"`
	Columns     *detect.TrackColumns `yaml:"columns"`
	Buffer      float64              `yaml:"buffer_m"`
	Detectors   []rawDetector        `yaml:"detectors"`
}

type rawDetector struct {
	Name             string       `yaml:"name"`
	Type             string       `yaml:"type"`
	Params           yaml.Node    `yaml:"params"`
	Warnings         []Warning    `yaml:"warnings"`
	ReportMinScore   float64      `yaml:"report_min_score"`
	ScoreCalibration [][2]float64 `yaml:"score_calibration"`
}

var paramTypes = map[string]reflect.Type{
	TypeChange:     reflect.TypeOf(detect.ChangeParams{}),
	TypeHotspot:    reflect.TypeOf(detect.HotspotParams{}),
	TypeWaterPlume: reflect.TypeOf(detect.WaterPlumeParams{}),
	TypeSmoke:      reflect.TypeOf(detect.SmokeParams{}),
	TypeTrack:      reflect.TypeOf(detect.TrackParams{}),
}

var rasterKinds = map[string]bool{"sentinel2": true, "landsat": true, "drone-rgb": true, "drone-ms": true}
var trackKinds = map[string]bool{"boat-track": true, "vehicle-track": true}

var knownRoles = []string{detect.BandBlue, detect.BandGreen, detect.BandRed, detect.BandNIR,
	detect.BandNIRNarrow, detect.BandSWIR1, detect.BandSWIR2, detect.BandSCL}

// Parse decodes and validates one pipeline file; name is its path, used in errors and,
// without directory and extension, as the pipeline's name.
func Parse(name string, data []byte) (*Pipeline, error) {
	file := name
	fail := func(path string, line int, format string, args ...any) error {
		return &Error{File: file, Path: path, Line: line, Problem: fmt.Sprintf(format, args...)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fail("", 0, "%v", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 {
		return nil, fail("", 0, "empty file")
	}
	doc := root.Content[0]
	if err := checkKnown(doc, reflect.TypeOf(rawPipeline{}), ""); err != nil {
		err.File = file
		return nil, err
	}
	var raw rawPipeline
	if err := doc.Decode(&raw); err != nil {
		return nil, fail("", 0, "%v", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	p := &Pipeline{
		Name: strings.TrimSuffix(path.Base(name), path.Ext(name)), File: file,
		Kind: raw.Kind, Description: raw.Description, Bands: raw.Bands, Columns: raw.Columns,
		Buffer: raw.Buffer, content: bytes.Clone(data),
	}
	line := func(keys ...string) int { return lineOf(doc, keys...) }
	switch {
	case p.Kind == "":
		return nil, fail("kind", 0, "must be set")
	case !rasterKinds[p.Kind] && !trackKinds[p.Kind]:
		return nil, fail("kind", line("kind"), "unknown capture kind %q", p.Kind)
	}
	if p.Buffer < 0 {
		return nil, fail("buffer_m", line("buffer_m"), "must be >= 0")
	}
	if rasterKinds[p.Kind] {
		if len(p.Bands) == 0 {
			return nil, fail("bands", 0, "a %s pipeline must map bands", p.Kind)
		}
		if p.Columns != nil {
			return nil, fail("columns", line("columns"), "only track pipelines have columns")
		}
		for _, role := range sortedKeys(p.Bands) {
			b := p.Bands[role]
			if !contains(knownRoles, role) {
				return nil, fail("bands."+role, line("bands", role), "unknown band role (want one of %s)", strings.Join(knownRoles, ", "))
			}
			if b.Band == "" {
				return nil, fail("bands."+role+".band", line("bands", role), "must be set")
			}
			if b.Scale < 0 {
				return nil, fail("bands."+role+".scale", line("bands", role, "scale"), "must be > 0")
			}
		}
	} else {
		if len(p.Bands) > 0 {
			return nil, fail("bands", line("bands"), "track pipelines have columns, not bands")
		}
		if p.Columns == nil {
			return nil, fail("columns", 0, "a %s pipeline must map columns", p.Kind)
		}
		if err := p.Columns.Validate(); err != nil {
			return nil, paramFail(file, "columns", err)
		}
	}
	if len(raw.Detectors) == 0 {
		return nil, fail("detectors", line("detectors"), "must list at least one detector")
	}
	names := map[string]bool{}
	for i, rd := range raw.Detectors {
		at := fmt.Sprintf("detectors[%d]", i)
		dl := 0
		if dn := seqItem(doc, "detectors", i); dn != nil {
			dl = dn.Line
		}
		t, ok := paramTypes[rd.Type]
		if !ok {
			return nil, fail(at+".type", dl, "unknown detector type %q (want one of change, hotspot, water_plume, smoke, track)", rd.Type)
		}
		if (rd.Type == TypeTrack) != trackKinds[p.Kind] {
			return nil, fail(at+".type", dl, "a %s detector does not run on %s captures", rd.Type, p.Kind)
		}
		d := Detector{Name: rd.Name, Type: rd.Type, Warnings: rd.Warnings, ReportMinScore: rd.ReportMinScore}
		if d.ReportMinScore < 0 || d.ReportMinScore > 1 {
			return nil, fail(at+".report_min_score", dl, "must be in [0,1]")
		}
		d.ScoreCalibration = rd.ScoreCalibration
		for k, pt := range d.ScoreCalibration {
			if !(pt[0] >= 0 && pt[0] <= 1 && pt[1] >= 0 && pt[1] <= 1) {
				return nil, fail(fmt.Sprintf("%s.score_calibration[%d]", at, k), dl, "raw and calibrated scores must be in [0,1]")
			}
			if k > 0 && (pt[0] < d.ScoreCalibration[k-1][0] || pt[1] < d.ScoreCalibration[k-1][1]) {
				return nil, fail(fmt.Sprintf("%s.score_calibration[%d]", at, k), dl, "points must ascend in raw score and not descend in calibrated score")
			}
		}
		if d.Name == "" {
			d.Name = d.Type
		}
		if names[d.Name] {
			return nil, fail(at+".name", dl, "detector %q twice", d.Name)
		}
		names[d.Name] = true
		target := reflect.New(t)
		if rd.Params.Kind != 0 {
			if err := checkKnown(&rd.Params, t, at+".params"); err != nil {
				err.File = file
				return nil, err
			}
			if err := rd.Params.Decode(target.Interface()); err != nil {
				return nil, fail(at+".params", rd.Params.Line, "%v", strings.TrimPrefix(err.Error(), "yaml: "))
			}
		}
		v := target.Interface()
		if err := v.(interface{ Validate() error }).Validate(); err != nil {
			var pe *detect.ParamError
			if errors.As(err, &pe) {
				return nil, fail(at+".params."+pe.Field, lineOf(&rd.Params, strings.Split(strings.Split(pe.Field, "[")[0], ".")...), "%s", pe.Problem)
			}
			return nil, fail(at+".params", rd.Params.Line, "%v", err)
		}
		switch v := v.(type) {
		case *detect.ChangeParams:
			d.Change = v
		case *detect.HotspotParams:
			d.Hotspot = v
		case *detect.WaterPlumeParams:
			d.WaterPlume = v
		case *detect.SmokeParams:
			d.Smoke = v
		case *detect.TrackParams:
			d.Track = v
		}
		if err := p.needs(d, p.maps); err != nil {
			return nil, fail(at+".type", dl, "%v", err)
		}
		for j, w := range d.Warnings {
			wat := fmt.Sprintf("%s.warnings[%d]", at, j)
			if !contains(Severities, w.Severity) {
				return nil, fail(wat+".severity", dl, "must be one of %s", strings.Join(Severities, ", "))
			}
			if w.MinScore < 0 || w.MinScore > 1 {
				return nil, fail(wat+".min_score", dl, "must be in [0,1]")
			}
			if w.MinArea < 0 {
				return nil, fail(wat+".min_area_m2", dl, "must be >= 0")
			}
		}
		p.Detectors = append(p.Detectors, d)
	}
	return p, nil
}

// maps reports whether the pipeline maps the band role r.
func (p *Pipeline) maps(r string) bool { _, ok := p.Bands[r]; return ok }

// needs says which band role a raster detector lacks when has tells the roles at hand: the
// pipeline's mapping when it is parsed, a capture's bands when it runs; nil when it has all.
func (p *Pipeline) needs(d Detector, has func(role string) bool) error {
	need := func(roles ...string) error {
		for _, r := range roles {
			if !has(r) {
				return fmt.Errorf("a %s detector needs band %q", d.Type, r)
			}
		}
		return nil
	}
	switch d.Type {
	case TypeChange:
		if d.Change.Method == detect.MethodIndex || (d.Change.Method == "" && !has(detect.BandNIR)) {
			return need(detect.BandRed, detect.BandGreen, detect.BandBlue)
		}
		for _, r := range d.Change.Bands {
			if !has(r) {
				return fmt.Errorf("change uses band %q, which bands does not map", r)
			}
		}
		return need(detect.BandNIR)
	case TypeHotspot:
		if !has(detect.BandNIR) && !has(detect.BandNIRNarrow) {
			return fmt.Errorf("a hotspot detector needs band %q or %q", detect.BandNIRNarrow, detect.BandNIR)
		}
		return need(detect.BandSWIR1, detect.BandSWIR2)
	case TypeWaterPlume:
		if !has(detect.BandSWIR1) && !has(detect.BandNIR) {
			return fmt.Errorf("a water_plume detector needs band %q or %q", detect.BandSWIR1, detect.BandNIR)
		}
		return need(detect.BandGreen, detect.BandRed)
	case TypeSmoke:
		return need(detect.BandRed, detect.BandGreen, detect.BandBlue)
	}
	return nil
}

func paramFail(file, prefix string, err error) error {
	var pe *detect.ParamError
	if errors.As(err, &pe) {
		return &Error{File: file, Path: prefix + "." + pe.Field, Problem: pe.Problem}
	}
	return &Error{File: file, Path: prefix, Problem: err.Error()}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
