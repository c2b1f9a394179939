package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/evalscore"
	"github.com/offsite/offsite/internal/geo"
	"github.com/offsite/offsite/internal/process"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/pipelines"
)

// pair is one pair of captures run through a pipeline as `worker process` runs it, on the
// grid its truth is drawn on.
type pair struct {
	name          string
	set           string // evalgen, calfire, levir
	pipe          *pipelines.Pipeline
	before, after []string
	grid          evalscore.Grid
	crs           string
}

// found is one finding of ours on the truth grid.
type found struct {
	typ   string // the pipeline detector's type: change, hotspot, water_plume, smoke
	class string
	score float64
	raw   float64 // the detector's own score, before the pipeline's score_calibration
	// candidate: below the detector's report threshold, not a finding.
	candidate bool
	pixels    []int
	// measures are the finding's spectral measures, for -false.
	measures map[string]any
}

// region is the finding as evalscore matches it.
func (f found) region() evalscore.Region {
	return evalscore.Region{Detector: f.typ, Class: f.class, Score: f.score, Pixels: f.pixels}
}

// ours runs the pair through runOurs and records a refusal.
func (e *eval) ours(ctx context.Context, p pair) ([]found, error) {
	e.runs++
	e.scenes[p.set] = append(e.scenes[p.set], p.name)
	fs, err := runOurs(ctx, p, e.tmp)
	if err != nil {
		e.refused = append(e.refused, p.name)
	}
	return fs, err
}

// runOurs runs the pair's pipeline through internal/process (local mode: files in, a
// directory sink, one parcel covering the scene) and puts each finding on the truth grid.
// An error is the pipeline refusing the scene.
func runOurs(ctx context.Context, p pair, tmp string) ([]found, error) {
	parcel, err := sceneParcel(p)
	if err != nil {
		return nil, err
	}
	files := func(paths []string) *process.Capture {
		c := &process.Capture{}
		for _, path := range paths {
			c.Files = append(c.Files, process.File{Name: path, Source: raster.FileSource(path)})
		}
		return c
	}
	out, err := os.MkdirTemp(tmp, "run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	in := process.Inputs{
		Pipeline: p.pipe, Before: files(p.before), After: files(p.after),
		Parcels:       []geo.Feature{{ParcelID: "scene", Geometry: parcel}},
		Env:           raster.Env{AllowLocalFiles: true},
		SkipArtifacts: true,
	}
	res, err := process.Run(ctx, in, process.DirSink{Dir: out})
	if err != nil {
		return nil, refusal{err: err, files: append(p.before, p.after...)}
	}
	types := map[string]string{}
	for _, d := range p.pipe.Detectors {
		types[d.Name] = d.Type
	}
	var fs []found
	for k, f := range append(res.Findings, res.Candidates...) {
		g := f.Geometry
		if !strings.EqualFold(p.crs, geo.CRSWGS84) {
			if g, err = geo.Reproject(g, geo.CRSWGS84, p.crs); err != nil {
				return nil, fmt.Errorf("finding %s: %w", f.ID, err)
			}
		}
		px := p.grid.Rasterize(g)
		if len(px) == 0 {
			px = p.grid.Rasterize(g.Bound().Center())
		}
		det, _ := f.Properties["detector"].(string)
		typ := types[det]
		if typ == "" {
			typ = det
		}
		class, _ := f.Properties["class"].(string)
		score, _ := f.Properties["score"].(float64)
		measures, _ := f.Properties["measures"].(map[string]any)
		raw, ok := measures["raw_score"].(float64)
		if !ok {
			raw = score
		}
		fs = append(fs, found{typ: typ, class: class, score: score, raw: raw, candidate: k >= len(res.Findings), pixels: px, measures: measures})
	}
	return fs, nil
}

// refusal is a pipeline refusing a pair; its text names files by their base names.
type refusal struct {
	err   error
	files []string
}

func (r refusal) Error() string {
	s := r.err.Error()
	for _, f := range r.files {
		s = strings.ReplaceAll(s, f, filepath.Base(f))
	}
	return s
}

func (r refusal) Unwrap() error { return r.err }

// sceneParcel is a WGS84 parcel over the whole grid, a quarter pixel in from its edges
// (so that it holds every pixel centre and stays inside the scene).
func sceneParcel(p pair) (orb.Geometry, error) {
	gt := p.grid.GeoTransform
	x0, y0 := gt[0]+gt[1]/4, gt[3]+gt[5]/4
	x1, y1 := gt[0]+gt[1]*(float64(p.grid.Width)-0.25), gt[3]+gt[5]*(float64(p.grid.Height)-0.25)
	var ring orb.Ring
	const n = 8 // points a side, so that the reprojected outline follows the grid
	for i := 0; i < n; i++ {
		ring = append(ring, orb.Point{x0 + (x1-x0)*float64(i)/n, y0})
	}
	for i := 0; i < n; i++ {
		ring = append(ring, orb.Point{x1, y0 + (y1-y0)*float64(i)/n})
	}
	for i := 0; i < n; i++ {
		ring = append(ring, orb.Point{x1 - (x1-x0)*float64(i)/n, y1})
	}
	for i := 0; i < n; i++ {
		ring = append(ring, orb.Point{x0, y1 - (y1-y0)*float64(i)/n})
	}
	ring = append(ring, ring[0])
	poly := orb.Polygon{ring}
	if strings.EqualFold(p.crs, geo.CRSWGS84) {
		return poly, nil
	}
	g, err := geo.Reproject(poly, p.crs, geo.CRSWGS84)
	if err != nil {
		return nil, fmt.Errorf("%s: scene parcel: %w", p.name, err)
	}
	return g, nil
}

// ofType returns the findings of one detector type (not its candidates).
func ofType(fs []found, typ string) []found {
	var out []found
	for _, f := range fs {
		if f.typ == typ && !f.candidate {
			out = append(out, f)
		}
	}
	return out
}

// reported returns the findings, without the candidates.
func reported(fs []found) []found {
	var out []found
	for _, f := range fs {
		if !f.candidate {
			out = append(out, f)
		}
	}
	return out
}

// candidatesOf returns the candidates of one detector type.
func candidatesOf(fs []found, typ string) []found {
	var out []found
	for _, f := range fs {
		if f.typ == typ && f.candidate {
			out = append(out, f)
		}
	}
	return out
}

// regions returns the evalscore regions of findings.
func regions(fs []found) []evalscore.Region {
	out := make([]evalscore.Region, len(fs))
	for i, f := range fs {
		out[i] = f.region()
	}
	return out
}

// union is the mask of the pixels any of the findings covers.
func union(n int, fs []found, keep func(found) bool) []bool {
	m := make([]bool, n)
	for _, f := range fs {
		if keep != nil && !keep(f) {
			continue
		}
		for _, i := range f.pixels {
			m[i] = true
		}
	}
	return m
}

// readReflectance reads bands (by name) of files onto their own grid and turns them into
// reflectance with scale and offset; valid is where every band has data.
func readReflectance(ctx context.Context, paths []string, names []string, scale, offset float64) ([][]float32, []bool, error) {
	var srcs []raster.Source
	for _, p := range paths {
		srcs = append(srcs, raster.FileSource(p))
	}
	b, err := raster.ReadBands(ctx, raster.Env{AllowLocalFiles: true}, srcs, raster.BandsOptions{Bands: names})
	if err != nil {
		return nil, nil, err
	}
	out := make([][]float32, len(b.Data))
	for k, d := range b.Data {
		out[k] = make([]float32, len(d))
		for i, v := range d {
			out[k][i] = float32(float64(v)*scale + offset)
		}
	}
	return out, b.Valid, nil
}
