package pipelines

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/offsite/offsite/internal/detect"
)

// NewGrid builds the detect.Grid of a raster pipeline from a capture's bands, keyed by the
// band names of the pipeline's mapping (BandMap.Band). Each mapped band is converted to
// reflectance in place (value × Scale + Offset, SCL left as is), so the caller's slices
// are reused rather than copied; bands the pipeline does not map are ignored, and so are
// optional bands the capture lacks. valid may be nil.
func (p *Pipeline) NewGrid(width, height int, geoTransform [6]float64, bands map[string][]float32, valid []bool) (*detect.Grid, error) {
	return p.NewGridCalibrated(width, height, geoTransform, bands, valid, nil)
}

// NewGridCalibrated is NewGrid with the scale and offset of the roles in cal taken from there
// (the capture's own metadata) instead of the pipeline's mapping.
func (p *Pipeline) NewGridCalibrated(width, height int, geoTransform [6]float64, bands map[string][]float32, valid []bool, cal map[string]BandMap) (*detect.Grid, error) {
	if len(p.Bands) == 0 {
		return nil, fmt.Errorf("pipelines: %s maps no bands", p.Name)
	}
	g := &detect.Grid{Width: width, Height: height, GeoTransform: geoTransform, Valid: valid}
	for _, role := range sortedKeys(p.Bands) {
		m := p.Bands[role]
		data, ok := bands[m.Band]
		if !ok && m.Optional {
			continue
		}
		if !ok {
			return nil, fmt.Errorf("pipelines: %s: capture has no band %q (role %s)", p.Name, m.Band, role)
		}
		if c, ok := cal[role]; ok {
			m.Scale, m.Offset = c.Scale, c.Offset
		}
		if role != detect.BandSCL && (m.Scale != 0 && m.Scale != 1 || m.Offset != 0) {
			for i, v := range data {
				data[i] = m.Apply(v)
			}
		}
		g.Names = append(g.Names, role)
		g.Bands = append(g.Bands, data)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// RunRaster runs the pipeline's raster detectors: change and hotspots across the dates
// (with before nil, single-date hotspots only), water plumes and smoke on after. Parcels
// are in the grids' CRS; metresPerUnit converts the pipeline's buffer (metres) to CRS units
// (1 for projected CRSs in metres). Findings come sorted by detector, then score,
// highest first.
func (p *Pipeline) RunRaster(before, after *detect.Grid, parcels []detect.Parcel, metresPerUnit float64) ([]detect.Finding, error) {
	if after == nil {
		return nil, fmt.Errorf("pipelines: %s: no after grid", p.Name)
	}
	if !(metresPerUnit > 0) {
		return nil, fmt.Errorf("pipelines: %s: metres per CRS unit must be > 0", p.Name)
	}
	attr := detect.Attribution{Parcels: parcels, Buffer: p.Buffer / metresPerUnit}
	run, _ := p.plan(before, after)
	for _, g := range []*detect.Grid{before, after} {
		if g != nil {
			g.MetresPerUnit = metresPerUnit // sizes in metres, areas in m²
		}
	}
	var out []detect.Finding
	for _, d := range run {
		var fs []detect.Finding
		var err error
		switch d.Type {
		case TypeChange:
			if before == nil {
				continue
			}
			fs, err = detect.DetectChange(before, after, *d.Change, attr)
		case TypeHotspot:
			if before == nil {
				fs, err = detect.DetectHotspots(after, *d.Hotspot, attr)
			} else {
				fs, err = detect.DetectHotspotPair(before, after, *d.Hotspot, attr)
			}
		case TypeWaterPlume:
			fs, err = detect.DetectWaterPlumes(after, *d.WaterPlume, attr)
		case TypeSmoke:
			fs, err = detect.DetectSmoke(after, *d.Smoke, attr)
		default:
			return nil, fmt.Errorf("pipelines: %s: detector %s does not run on rasters", p.Name, d.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("pipelines: %s: %s: %w", p.Name, d.Name, err)
		}
		for i := range fs {
			fs[i].Detector = d.Name
			if len(d.ScoreCalibration) > 0 {
				if fs[i].Measures == nil {
					fs[i].Measures = map[string]float64{}
				}
				fs[i].Measures["raw_score"] = fs[i].Score
				fs[i].Score = d.Calibrate(fs[i].Score)
			}
		}
		out = append(out, fs...)
	}
	sortFindings(out)
	return out, nil
}

// Degradation is a detector that a capture's bands could not serve in full: skipped, or run
// without optional bands the capture lacks.
type Degradation struct {
	Detector string `json:"detector"`
	Skipped  bool   `json:"skipped"`
	Reason   string `json:"reason"`
}

// Degradations lists the detectors RunRaster skips or runs with fewer bands on these grids
// (before may be nil), and why.
func (p *Pipeline) Degradations(before, after *detect.Grid) []Degradation {
	_, out := p.plan(before, after)
	return out
}

// plan returns the detectors that run on the grids, with the change detector's IR-MAD bands
// cut to those both grids have, and the degradations.
func (p *Pipeline) plan(before, after *detect.Grid) ([]Detector, []Degradation) {
	has := func(role string) bool {
		return after != nil && after.Band(role) != nil && (before == nil || before.Band(role) != nil)
	}
	var run []Detector
	var out []Degradation
	for _, d := range p.Detectors {
		if d.Type == TypeTrack || d.Type == TypeChange && before == nil {
			run = append(run, d) // RunRaster runs no change on one date
			continue
		}
		var dropped []string
		if d.Change != nil && len(d.Change.Bands) > 0 {
			var keep []string
			for _, r := range d.Change.Bands {
				if has(r) {
					keep = append(keep, r)
				} else {
					dropped = append(dropped, r)
				}
			}
			c := *d.Change
			c.Bands = keep
			d.Change = &c
		}
		if err := p.needs(d, has); err != nil {
			out = append(out, Degradation{Detector: d.Name, Skipped: true, Reason: p.missingReason(err, has)})
			continue
		}
		if len(dropped) > 0 {
			out = append(out, Degradation{Detector: d.Name, Reason: fmt.Sprintf("runs on %s without %s: %s",
				strings.Join(d.Change.Bands, ", "), strings.Join(dropped, ", "), p.bandList(dropped))})
		}
		run = append(run, d)
	}
	return run, out
}

// missingReason is err (which role a detector needs) followed by the capture bands the
// pipeline maps to the roles missing, e.g. `a hotspot detector needs band "swir1"; the
// capture lacks B11`.
func (p *Pipeline) missingReason(err error, has func(string) bool) string {
	var missing []string
	for _, role := range sortedKeys(p.Bands) {
		if !has(role) && role != detect.BandSCL {
			missing = append(missing, role)
		}
	}
	return err.Error() + "; " + p.bandList(missing)
}

// bandList says which capture bands of the roles are missing, e.g. "the capture lacks B11
// (swir1), B8A (nir_narrow)".
func (p *Pipeline) bandList(roles []string) string {
	parts := make([]string, len(roles))
	for i, r := range roles {
		parts[i] = fmt.Sprintf("%s (%s)", p.Bands[r].Band, r)
	}
	return "the capture lacks " + strings.Join(parts, ", ")
}

// Track formats for RunTrack.
const (
	FormatCSV     = "csv"
	FormatGeoJSON = "geojson"
)

// RunTrack parses a track (FormatCSV or FormatGeoJSON) with the pipeline's column mapping
// and runs its track detector; parcels are in lon/lat. A malformed track yields a
// *detect.TrackError naming each problem's line and column. The bad rows skipped (up to
// the columns' max_bad_share) are returned as warnings, by line.
func (p *Pipeline) RunTrack(r io.Reader, format string, parcels []detect.Parcel) (fs []detect.Finding, warnings []string, err error) {
	d := p.Detector(TypeTrack)
	if d == nil || p.Columns == nil {
		return nil, nil, fmt.Errorf("pipelines: %s is not a track pipeline", p.Name)
	}
	var t *detect.Track
	switch format {
	case FormatCSV:
		t, err = detect.ParseTrackCSV(r, *p.Columns)
	case FormatGeoJSON:
		t, err = detect.ParseTrackGeoJSON(r, *p.Columns)
	default:
		return nil, nil, fmt.Errorf("pipelines: unknown track format %q", format)
	}
	if err != nil {
		return nil, nil, err
	}
	if t.SkippedRows > 0 {
		warnings = append(warnings, fmt.Sprintf("skipped %d bad rows of %d (max_bad_share %g)", t.SkippedRows, t.Rows, p.Columns.MaxBadShare))
		for _, pr := range t.Skipped {
			if pr.Column != "" {
				warnings = append(warnings, fmt.Sprintf("line %d, column %s: %s: row skipped", pr.Line, pr.Column, pr.Problem))
			} else {
				warnings = append(warnings, fmt.Sprintf("line %d: %s: row skipped", pr.Line, pr.Problem))
			}
		}
		if t.SkippedMore > 0 {
			warnings = append(warnings, fmt.Sprintf("and %d more problems", t.SkippedMore))
		}
	}
	fs, err = detect.DetectTrack(t, *d.Track, parcels)
	if err != nil {
		return nil, nil, fmt.Errorf("pipelines: %s: %w", p.Name, err)
	}
	for i := range fs {
		fs[i].Detector = d.Name
	}
	sortFindings(fs)
	return fs, warnings, nil
}

func sortFindings(fs []detect.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Detector != fs[j].Detector {
			return fs[i].Detector < fs[j].Detector
		}
		return fs[i].Score > fs[j].Score
	})
}
