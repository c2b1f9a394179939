package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/offsite/offsite/internal/process"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/stac"
	"github.com/offsite/offsite/pipelines"
)

const processUsage = `usage: worker process --pipeline NAME|FILE.yaml --parcels FILE --out DIR
         (--before SCENE --after SCENE | --capture SCENE | --capture TRACK.csv|TRACK.geojson)
         [--time RFC3339] [--gcj02] [--parcels-crs CRS] [--repair] [--id-property NAME]
         [--no-artifacts] [--overwrite] [--quiet|--progress]

Runs one pipeline on files with the code the workers run, and writes DIR/findings.geojson
(one feature per finding and parcel), DIR/candidates.geojson (the same for findings below
their detector's report_min_score: candidates, not findings), DIR/manifest.json (every
artifact with its SHA-256, how each band became reflectance, the detectors skipped for
lack of bands and why, warnings, and each parcel's masked share),
DIR/findings/finding-<id>.geojson, and for each parcel with findings DIR/parcels/<id>/ the
clipped COGs and quick-looks (findings outlined in magenta) of every input file.
A DIR that holds an earlier run's outputs is refused, so that no stale file of that run is
taken for this one's; --overwrite removes them first (and nothing else in DIR).
--parcels-crs names the CRS of a parcels file that names none (e.g. EPSG:4547). Progress
(parcels done, rate, time left) goes to stderr when it is a terminal. Exit status 3 when no
parcel overlaps the scene: nothing was processed.

--pipeline is a built-in pipeline (sentinel2, landsat, drone-rgb, drone-ms, boat-track,
vehicle-track) or a YAML file, validated the same way. A SCENE is a GeoTIFF, a
comma-separated list of GeoTIFFs (one per band or a few bands each, e.g. B04.tif,B11.tif),
or a directory whose *.tif files are the bands; bands are found by description or file name
(B04.tif is band B04, LT05_..._B5.TIF is B5) or 1-based number. Bands at other resolutions,
and the after scene when its grid differs, are warped onto the grid of the finest band of
the before scene (or the capture). A track is CSV or GeoJSON (by extension).

A track's columns are mapped by the pipeline's columns: section (see pipelines/vehicle-track.yaml):
  time_layout  how times are written: a Go layout of the reference time 2006-01-02 15:04:05,
               e.g. "2006-01-02 15:04:05" or "2006/01/02 15:04", "unix" (seconds), or empty
               for RFC 3339 with an offset (2026-06-01T08:00:00+08:00)
  time_zone    IANA zone of times written without an offset, e.g. Asia/Shanghai (default UTC)
  max_bad_share  rows with a bad value (NA, not a number, a negative reading, a bad time or
               position, a duplicate or unsorted time) are skipped and printed by line, up to
               this share of the rows; beyond it the track is refused, naming file and lines
  readings     units µg/m³, mg/m³, ng/m³, ppb, ppm (as µg/m³ at 25 °C for gases of known molar
               mass, or with molar_mass), #/cm³, mg/L, µg/L, NTU, µS/cm, pH, °C
Limits apply over the averaging window the pipeline gives each (limit_windows, e.g. 1h for
GB 3095 one-hour limits), else to single readings. Each event (an exceedance episode with its
hotspots) is one finding, on the parcel that explains it best; its property
candidate_parcels lists the ranked candidates (parcel_id, uscc, rank, share of the
explanation, distance_m, and with wind along_m upwind and cross_m across the wind), and its
score is the detection score times the first candidate's share.

A scene's acquisition time comes from a Landsat *_MTL.txt (DATE_ACQUIRED, SCENE_CENTER_TIME)
or a STAC item (*.json, properties.datetime) beside its files; the scale and offset of its
bands from that STAC item's raster:bands (matched by file name), else from the files' GDAL
scale/offset or Sentinel-2 BOA_ADD_OFFSET metadata, else from the pipeline. Bands a pipeline
marks optional may be missing: the detectors that need them are skipped and say why. GDAL
warnings on the inputs and reflectance out of range are printed and kept in the manifest. --time is recorded in
provenance and the manifest; default: the latest acquisition time, or when none is known the
latest modification time of the input files, so that the same files give byte-identical
outputs.
`

// runProcess is `worker process`.
func runProcess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("process", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, processUsage); fs.PrintDefaults() }
	pipeline := fs.String("pipeline", "", "built-in pipeline name or a pipeline YAML file")
	before := fs.String("before", "", "earlier scene: file, comma-separated band files, or directory")
	after := fs.String("after", "", "later scene: file, comma-separated band files, or directory")
	capture := fs.String("capture", "", "single-date scene, or a track (.csv, .geojson, .json)")
	parcelsPath := fs.String("parcels", "", "parcels file (.geojson, .json, .shp, .gpkg, .kml)")
	out := fs.String("out", "", "output directory (created if missing)")
	timeFlag := fs.String("time", "", "time recorded in provenance, RFC 3339 (default: latest input modification time)")
	gcj02 := fs.Bool("gcj02", false, "parcel coordinates are GCJ-02 (Chinese web maps): convert them to WGS84")
	repair := fs.Bool("repair", false, "repair invalid parcel geometries with GDAL's MakeValid instead of refusing them")
	idProp := fs.String("id-property", "parcel_id", "attribute that holds the parcel id")
	noArtifacts := fs.Bool("no-artifacts", false, "write only the findings, the candidates and the manifest, no clips or quick-looks")
	overwrite := fs.Bool("overwrite", false, "remove an earlier run's outputs from --out first")
	parcelsCRS := fs.String("parcels-crs", "", "CRS of a parcels file that names none (EPSG:n, WKT or PROJ)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	forceProgress := fs.Bool("progress", false, "progress on stderr even when it is not a terminal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: process: unexpected arguments %q", errUsage, fs.Args())
	}
	for _, req := range []struct{ name, v string }{{"--pipeline", *pipeline}, {"--parcels", *parcelsPath}, {"--out", *out}} {
		if req.v == "" {
			fs.Usage()
			return fmt.Errorf("%w: process: %s is required", errUsage, req.name)
		}
	}
	pair := *before != "" || *after != ""
	switch {
	case pair && (*before == "" || *after == ""):
		return fmt.Errorf("%w: process: --before and --after go together", errUsage)
	case pair && *capture != "":
		return fmt.Errorf("%w: process: give either --before and --after or --capture, not both", errUsage)
	case !pair && *capture == "":
		fs.Usage()
		return fmt.Errorf("%w: process: --before and --after, or --capture, is required", errUsage)
	}

	p, err := loadPipeline(*pipeline)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	in := process.Inputs{Pipeline: p, Env: raster.Env{AllowLocalFiles: true}, SkipArtifacts: *noArtifacts}
	var latest time.Time
	if pair {
		if in.Before, latest, err = sceneFiles(*before, latest); err != nil {
			return fmt.Errorf("process: --before %s: %w", *before, err)
		}
		if in.After, latest, err = sceneFiles(*after, latest); err != nil {
			return fmt.Errorf("process: --after %s: %w", *after, err)
		}
	} else if p.Detector(pipelines.TypeTrack) != nil {
		abs, err := filepath.Abs(*capture)
		if err != nil {
			return fmt.Errorf("process: --capture %s: %w", *capture, err)
		}
		data, err := os.ReadFile(abs)
		if err != nil {
			return fmt.Errorf("process: --capture: %w", err)
		}
		st, _ := os.Stat(abs)
		latest = st.ModTime()
		format := pipelines.FormatCSV
		switch strings.ToLower(filepath.Ext(abs)) {
		case ".geojson", ".json":
			format = pipelines.FormatGeoJSON
		}
		in.Track = &process.Track{File: process.File{Name: filepath.Base(abs)}, Data: data, Format: format}
	} else if in.Capture, latest, err = sceneFiles(*capture, latest); err != nil {
		return fmt.Errorf("process: --capture %s: %w", *capture, err)
	}
	// Provenance time: --time, else the captures' acquisition (Run's default), else the
	// latest modification time of the inputs.
	if !acquired(in) {
		in.Time = latest.UTC().Truncate(time.Second)
	}
	if *timeFlag != "" {
		if in.Time, err = time.Parse(time.RFC3339, *timeFlag); err != nil {
			return fmt.Errorf("process: --time %q: want RFC 3339, e.g. 2026-06-02T02:00:00Z", *timeFlag)
		}
	}

	if in.Parcels, err = readParcels(ctx, *parcelsPath, parcelOptions{idProp: *idProp, gcj02: *gcj02, repair: *repair, crs: *parcelsCRS}); err != nil {
		return fmt.Errorf("process: %w", err)
	}
	if err := prepareOut(*out, *overwrite); err != nil {
		return fmt.Errorf("process: --out %s: %w", *out, err)
	}

	start := time.Now()
	prog := newProgress(stderr, "process", progressMode(*quiet, *forceProgress))
	in.Progress = prog.Update
	res, err := process.Run(ctx, in, process.DirSink{Dir: *out})
	prog.Done()
	if errors.Is(err, raster.ErrNoOverlap) {
		return fmt.Errorf("process: %w: none of the %d parcels of %s overlaps the scene (%v)", errNothing, len(in.Parcels), *parcelsPath, err)
	}
	if err != nil {
		// Run's errors start with "process: " and name the input at fault.
		return err
	}
	if _, err := process.WriteSTAC(ctx, process.DirSink{Dir: *out}, in, res); err != nil {
		return err
	}
	m := res.Manifest
	fmt.Fprintf(stdout, "process: %s: %d findings (%d candidates below the report threshold) on %d parcels, %d artifacts, %.2fs → %s\n",
		p.Name, len(res.Findings), len(res.Candidates), len(in.Parcels), len(m.Artifacts), time.Since(start).Seconds(), *out)
	for _, d := range m.Degraded {
		what := "degraded"
		if d.Skipped {
			what = "skipped"
		}
		fmt.Fprintf(stdout, "process: detector %s %s: %s\n", d.Detector, what, d.Reason)
	}
	for _, w := range m.Warnings {
		fmt.Fprintf(stderr, "process: warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "process: phases: %s\n", res.Timings)
	return nil
}

// processOutputs are the names process.Run writes below its output directory.
var processOutputs = []string{process.FindingsName, process.CandidatesName, process.ManifestName, "findings", "parcels", process.STACDir}

// prepareOut creates dir, or checks that it holds no earlier run's outputs; with overwrite it
// removes them instead. Other files in dir are left alone.
func prepareOut(dir string, overwrite bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range processOutputs {
		path := filepath.Join(dir, name)
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		if !overwrite {
			return fmt.Errorf("holds %s from an earlier run: give another directory, or --overwrite to replace that run's outputs", name)
		}
		if err := os.RemoveAll(path); err != nil {
			return err
		}
	}
	return nil
}

// loadPipeline returns the built-in pipeline name, or parses the YAML file name.
func loadPipeline(name string) (*pipelines.Pipeline, error) {
	if ext := strings.ToLower(filepath.Ext(name)); ext == ".yaml" || ext == ".yml" {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		return pipelines.Parse(name, data)
	}
	ps, err := pipelines.Builtin()
	if err != nil {
		return nil, err
	}
	p, ok := ps[name]
	if !ok {
		names := make([]string, 0, len(ps))
		for n := range ps {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown pipeline %q; built-in: %s, or a .yaml file", name, strings.Join(names, ", "))
	}
	return p, nil
}

// sceneFiles resolves a scene argument — a file, comma-separated files, or a directory of
// *.tif files — to a capture of absolute file sources, and returns the later of latest and
// the files' modification times.
func sceneFiles(arg string, latest time.Time) (*process.Capture, time.Time, error) {
	var paths []string
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		ents, err := os.ReadDir(arg)
		if err != nil {
			return nil, latest, err
		}
		for _, e := range ents {
			if ext := strings.ToLower(filepath.Ext(e.Name())); !e.IsDir() && (ext == ".tif" || ext == ".tiff") {
				paths = append(paths, filepath.Join(arg, e.Name()))
			}
		}
		if len(paths) == 0 {
			return nil, latest, errors.New("directory holds no .tif files")
		}
		sort.Strings(paths)
	} else {
		for _, p := range strings.Split(arg, ",") {
			if p = strings.TrimSpace(p); p != "" {
				paths = append(paths, p)
			}
		}
	}
	c := &process.Capture{}
	var scales map[string][]stac.BandScale
	if len(paths) > 0 {
		dir := filepath.Dir(paths[0])
		c.AcquiredAt = acquisitionTime(dir)
		var err error
		if scales, err = sidecarScales(dir); err != nil {
			return nil, latest, err
		}
	}
	for _, p := range paths {
		// The operator named this file: make it absolute (and so free of "..").
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, latest, err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, latest, err
		}
		if st.ModTime().After(latest) {
			latest = st.ModTime()
		}
		f := process.File{Name: filepath.Base(abs), Source: raster.FileSource(abs)}
		f.Calibration = process.SidecarCalibration(scales[f.Name])
		c.Files = append(c.Files, f)
	}
	return c, latest, nil
}

// sidecarScales reads the raster:bands scale and offset of the STAC item (a *.json file whose
// "type" is "Feature") in dir, by asset file name; nil when dir holds none. An item whose
// raster:bands cannot be used is an error naming it.
func sidecarScales(dir string) (map[string][]stac.BandScale, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var head struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(data, &head) != nil || head.Type != "Feature" {
			continue
		}
		scales, err := stac.RasterBands(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return scales, nil
	}
	return nil, nil
}

// acquired reports whether any capture of in has an acquisition time.
func acquired(in process.Inputs) bool {
	for _, c := range []*process.Capture{in.Before, in.After, in.Capture} {
		if c != nil && !c.AcquiredAt.IsZero() {
			return true
		}
	}
	return false
}

// acquisitionTime reads a scene's acquisition time from the metadata beside its files: a
// Landsat MTL file (DATE_ACQUIRED and SCENE_CENTER_TIME) or a STAC item
// (properties.datetime). It returns the zero time when there is none or it cannot be read.
func acquisitionTime(dir string) time.Time {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return time.Time{}
	}
	for _, e := range ents {
		name := strings.ToLower(e.Name())
		switch {
		case strings.HasSuffix(name, "_mtl.txt"):
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			var date, clock string
			for _, line := range strings.Split(string(data), "\n") {
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					continue
				}
				v = strings.Trim(strings.TrimSpace(v), `"`)
				switch strings.TrimSpace(k) {
				case "DATE_ACQUIRED", "ACQUISITION_DATE":
					date = v
				case "SCENE_CENTER_TIME", "SCENE_CENTER_SCAN_TIME":
					clock = v
				}
			}
			if t, err := time.Parse(time.RFC3339Nano, date+"T"+clock); err == nil {
				return t.UTC()
			}
			if t, err := time.Parse(time.DateOnly, date); err == nil {
				return t.UTC()
			}
		case strings.HasSuffix(name, ".json"):
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			var item struct {
				Type       string `json:"type"`
				Properties struct {
					Datetime string `json:"datetime"`
				} `json:"properties"`
			}
			if json.Unmarshal(data, &item) != nil || item.Type != "Feature" {
				continue
			}
			if t, err := time.Parse(time.RFC3339Nano, item.Properties.Datetime); err == nil {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}
