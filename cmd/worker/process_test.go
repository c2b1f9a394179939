package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/process"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/testenv"
	"github.com/offsite/offsite/pipelines"
)

const landsat5Pipeline = `kind: landsat
description: Landsat-5 TM digital numbers, one file per band.
bands:
  blue:  {band: B1, scale: 0.004}
  green: {band: B2, scale: 0.004}
  red:   {band: B3, scale: 0.004}
  nir:   {band: B4, scale: 0.004}
  swir1: {band: B5, scale: 0.004}
  swir2: {band: B7, scale: 0.004}
buffer_m: 60
detectors:
  - type: change
    params:
      method: irmad
      probability: 0.99
      min_pixels: 3
      mask: spectral
      cloud_buffer: 2
`

// ethiopiaParcels are two WGS84 parcels over the Ethiopian Landsat grid (EPSG:32637,
// 101 × 101 at 30 m from 589035, 756165, i.e. lon 39.806–39.833, lat 6.813–6.840): one
// inside it, one reaching past its eastern edge.
const ethiopiaParcels = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"parcel_id":"nw","uscc":"91110000100000000X","name":"North-west"},"geometry":{"type":"Polygon","coordinates":[[[39.8135,6.8124],[39.8273,6.8124],[39.8273,6.8389],[39.8135,6.8389],[39.8135,6.8124]]]}},
{"type":"Feature","properties":{"parcel_id":"rest"},"geometry":{"type":"Polygon","coordinates":[[[39.8273,6.8124],[39.8408,6.8124],[39.8408,6.8389],[39.8273,6.8389],[39.8273,6.8124]]]}}]}`

func TestProcessCommandLandsatPair(t *testing.T) {
	root := testenv.SharedData(t, "landsat/ethiopia_L5_2000_2010")
	dir := t.TempDir()
	pipe := filepath.Join(dir, "landsat5.yaml")
	parcels := filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(pipe, []byte(landsat5Pipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(parcels, []byte(ethiopiaParcels), 0o644); err != nil {
		t.Fatal(err)
	}
	before, after := filepath.Join(root, "LT05_20000309"), filepath.Join(root, "LT05_20101218")
	outs := []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}
	for _, out := range outs {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		err := run(context.Background(), []string{"process", "--pipeline", pipe, "--before", before, "--after", after, "--parcels", parcels, "--out", out}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("process: %v\n%s", err, stderr.String())
		}
		t.Logf("%s (%v)", strings.TrimSpace(stdout.String()), time.Since(start))
		if !strings.HasPrefix(stdout.String(), "process: landsat5: ") {
			t.Errorf("summary %q", stdout.String())
		}
	}
	for _, name := range []string{"findings.geojson", "manifest.json"} {
		a, err := os.ReadFile(filepath.Join(outs[0], name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(outs[1], name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	var m struct {
		Time   string `json:"time"`
		Inputs []struct {
			Path, Role string
		} `json:"inputs"`
	}
	b, _ := os.ReadFile(filepath.Join(outs[0], "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// Both folders' .tif files: 8 before (B1–B7, BQA), 7 after.
	if len(m.Inputs) != 15 || m.Inputs[0].Role != "before" || m.Inputs[14].Role != "after" {
		t.Errorf("inputs %+v", m.Inputs)
	}
	// The later acquisition, from LT51670552010352MLK00_MTL.txt.
	if m.Time != "2010-12-18T07:24:28Z" {
		t.Errorf("manifest time %q, want 2010-12-18T07:24:28Z", m.Time)
	}
}

func TestProcessCommandErrors(t *testing.T) {
	s2 := testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated")
	dir := t.TempDir()
	parcels := filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(parcels, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"p"},"geometry":{"type":"Polygon","coordinates":[[[-11.5,25.0],[-11.4,25.0],[-11.4,25.1],[-11.5,25.1],[-11.5,25.0]]]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	badYAML := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("kind: sentinel2\nbands:\n  red: {band: B04}\nbuffer_m: -5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	track := filepath.Join(dir, "track.csv")
	csv := "time,lon,lat,wind_speed,wind_dir,tvoc,pm25,pm10,so2,no2\n" +
		"2026-05-01T08:00:00Z,120.0,30.0,3,0,300,35,60,5,20\n" +
		"2026-05-01T08:00:10Z,120.001,30.0,3,0,300,35,60,5,20\n" +
		"2026-05-01T08:00:20Z,120.002,95.0,3,0,300,35,60,5,20\n"
	if err := os.WriteFile(track, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	b04, b11 := filepath.Join(s2, "B04.tif"), filepath.Join(s2, "B11.tif")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"missing band", []string{"--pipeline", "sentinel2", "--capture", b04 + "," + b11}, []string{"B04.tif", `no band "B02"`, "bands: 1 B04, 2 B11"}},
		{"missing band in a folder", []string{"--pipeline", "sentinel2", "--before", s2, "--after", s2}, []string{"B04.tif", `no band "B02"`, "5 SCL"}},
		{"missing file", []string{"--pipeline", "sentinel2", "--capture", filepath.Join(dir, "nope.tif")}, []string{"--capture", "nope.tif", "no such file"}},
		{"unknown pipeline", []string{"--pipeline", "sentinel3", "--capture", b04}, []string{`unknown pipeline "sentinel3"`, "sentinel2"}},
		{"bad pipeline file", []string{"--pipeline", badYAML, "--capture", b04}, []string{"bad.yaml", "buffer_m", "must be >= 0"}},
		{"half a pair", []string{"--pipeline", "sentinel2", "--before", b04}, []string{"--before and --after go together"}},
		{"pair and capture", []string{"--pipeline", "sentinel2", "--before", b04, "--after", b04, "--capture", b04}, []string{"not both"}},
		{"bad time", []string{"--pipeline", "sentinel2", "--capture", b04, "--time", "yesterday"}, []string{"--time", "RFC 3339"}},
		{"track problem", []string{"--pipeline", "vehicle-track", "--capture", track}, []string{"track.csv", "line 4, column lat"}},
		{"parcels missing", []string{"--pipeline", "sentinel2", "--capture", b04, "--parcels", filepath.Join(dir, "none.geojson")}, []string{"none.geojson"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"process", "--out", out}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--parcels") {
				args = append(args, "--parcels", parcels)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestPrepareOut: an earlier run's outputs in --out are refused, or removed with --overwrite;
// other files stay.
func TestPrepareOut(t *testing.T) {
	for _, tc := range []struct {
		name      string
		files     []string // present before
		overwrite bool
		wantErr   string
		gone      []string
		kept      []string
	}{
		{name: "missing dir", files: nil},
		{name: "unrelated files", files: []string{"notes.txt"}, kept: []string{"notes.txt"}},
		{name: "earlier manifest", files: []string{"manifest.json", "notes.txt"}, wantErr: "manifest.json", kept: []string{"manifest.json"}},
		{name: "earlier parcels", files: []string{"parcels/old/after-b04.tif"}, wantErr: "--overwrite", kept: []string{"parcels/old/after-b04.tif"}},
		{name: "overwrite", files: []string{"manifest.json", "findings.geojson", "findings/finding-x.geojson", "parcels/old/after-b04.tif", "notes.txt"},
			overwrite: true, gone: []string{"manifest.json", "findings.geojson", "findings", "parcels"}, kept: []string{"notes.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			for _, f := range tc.files {
				path := filepath.Join(dir, filepath.FromSlash(f))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := prepareOut(dir, tc.overwrite)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				t.Fatalf("out dir: %v", err)
			}
			for _, f := range tc.gone {
				if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
					t.Errorf("%s still there (%v)", f, err)
				}
			}
			for _, f := range tc.kept {
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
					t.Errorf("%s removed: %v", f, err)
				}
			}
		})
	}
}

// derivedPipeline writes the built-in pipeline name with each old→new replacement applied to
// its text to dir/file, as a user deriving a pipeline would.
func derivedPipeline(t *testing.T, dir, file, name string, oldnew ...string) string {
	t.Helper()
	ps, err := pipelines.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, []byte(strings.NewReplacer(oldnew...).Replace(string(ps[name].Content()))), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// processManifest runs `worker process` with args and returns its stdout, stderr and manifest.
func processManifest(t *testing.T, out string, args ...string) (string, string, process.Manifest) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append([]string{"process", "--out", out}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("process: %v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(out, process.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m process.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), m
}

// TestProcessCommandCalFire runs a CAL FIRE pair (5 bands B2 B3 B4 B8 B12, Float64 reflectance
// × 10000 without offset) through a pipeline derived from sentinel2.yaml by renaming its
// bands: the hotspot detector (no B11) is skipped with the reason, change runs without
// swir1, and the burned parcel's masked share is recorded. With the pipeline's default (no
// offset, as the scene says nothing) the range check is quiet; with an offset of −0.1 (the
// default before) it warns that the offset looks wrong.
func TestProcessCommandCalFire(t *testing.T) {
	root := testenv.SharedData(t, "real/calfire")
	dir := t.TempDir()
	rename := []string{"band: B02", "band: B2", "band: B03", "band: B3", "band: B04", "band: B4", "band: B08", "band: B8"}
	zero := derivedPipeline(t, dir, "calfire.yaml", "sentinel2", rename...)
	minus := derivedPipeline(t, dir, "calfire-offset.yaml", "sentinel2", append(rename, "scale: 0.0001", "scale: 0.0001, offset: -0.1")...)
	// Parcel over the 66_20230515 scene (lon −116.113…−116.089, lat 33.563…33.582).
	parcels := filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(parcels, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"fire-66"},
"geometry":{"type":"Polygon","coordinates":[[[-116.110,33.566],[-116.091,33.566],[-116.091,33.579],[-116.110,33.579],[-116.110,33.566]]]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	pair := []string{"--before", filepath.Join(root, "pre/66_20230515.tif"), "--after", filepath.Join(root, "post/66_20230515.tif"), "--parcels", parcels}
	stdout, stderr, m := processManifest(t, filepath.Join(dir, "zero"), append([]string{"--pipeline", zero}, pair...)...)
	t.Logf("%s%s", stdout, stderr)
	want := []pipelines.Degradation{
		{Detector: "change", Reason: "runs on blue, green, red, nir, swir2 without swir1: the capture lacks B11 (swir1)"},
		{Detector: "hotspot", Skipped: true, Reason: `a hotspot detector needs band "swir1"; the capture lacks B8A (nir_narrow), B11 (swir1)`},
	}
	if diff := cmp.Diff(want, m.Degraded); diff != "" {
		t.Errorf("degraded (-want +got):\n%s", diff)
	}
	if !strings.Contains(stdout, `detector hotspot skipped: a hotspot detector needs band "swir1"`) {
		t.Errorf("summary %q does not say why hotspot was skipped", stdout)
	}
	if len(m.Warnings) != 0 {
		t.Errorf("offset 0: warnings %q, want none", m.Warnings)
	}
	if len(m.ParcelResults) != 1 || m.ParcelResults[0].Pixels < 5000 || m.ParcelResults[0].MaskedShare == nil {
		t.Errorf("parcel results %+v, want fire-66 with its pixels and masked share", m.ParcelResults)
	}
	t.Logf("offset 0: %d findings, %d candidates, parcel %+v, masked share %v", m.Findings, m.Candidates, m.ParcelResults[0], *m.ParcelResults[0].MaskedShare)

	_, stderr, m = processManifest(t, filepath.Join(dir, "minus"), append([]string{"--pipeline", minus}, pair...)...)
	var offsetWarnings int
	for _, w := range m.Warnings {
		if strings.Contains(w, "the offset looks wrong") && strings.Contains(w, "× 0.0001 -0.1 (pipeline)") {
			offsetWarnings++
		}
	}
	if offsetWarnings == 0 || !strings.Contains(stderr, "process: warning: ") {
		t.Errorf("offset −0.1: warnings %q, stderr %q; want the range check to say the offset looks wrong", m.Warnings, stderr)
	}
}

// TestProcessCommandSentinel2Sidecar runs one date of the shared Sentinel-2 tile (B04, B08,
// B11, B12, SCL; no B02, B03, B8A) with its STAC item beside the bands, through the sentinel2
// pipeline with blue and green made optional: the bands' scale and offset come from the
// item's raster:bands (offset 0, processing baseline 02.14) instead of the pipeline's mapping,
// and the water plume detector, which needs green, is skipped.
func TestProcessCommandSentinel2Sidecar(t *testing.T) {
	tile := filepath.Dir(testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated/B04.tif"))
	dir := t.TempDir()
	pipe := derivedPipeline(t, dir, "s2-partial.yaml", "sentinel2",
		"{band: B02, scale: 0.0001}", "{band: B02, scale: 0.0001, optional: true}",
		"{band: B03, scale: 0.0001}", "{band: B03, scale: 0.0001, optional: true}")
	// A 4 km parcel near the tile's centre (lon −11.42, lat 24.80).
	parcels := filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(parcels, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"centre"},
"geometry":{"type":"Polygon","coordinates":[[[-11.44,24.78],[-11.40,24.78],[-11.40,24.82],[-11.44,24.82],[-11.44,24.78]]]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, m := processManifest(t, filepath.Join(dir, "out"), "--pipeline", pipe, "--capture", tile, "--parcels", parcels)
	t.Log(stdout)
	got := map[string]process.BandUse{}
	for _, b := range m.Bands {
		got[b.Role] = b
	}
	for _, role := range []string{"red", "nir", "swir1", "swir2"} {
		if b := got[role]; b.Source != process.CalibrationSTAC || b.Scale != 0.0001 || b.Offset != 0 {
			t.Errorf("%s: %+v, want × 0.0001 + 0 from the STAC item", role, b)
		}
	}
	for _, role := range []string{"blue", "green", "nir_narrow"} {
		if !got[role].Missing {
			t.Errorf("%s: %+v, want missing", role, got[role])
		}
	}
	if got["scl"].Missing {
		t.Error("scl missing, want read")
	}
	want := []pipelines.Degradation{{Detector: "water_plume", Skipped: true,
		Reason: `a water_plume detector needs band "green"; the capture lacks B02 (blue), B03 (green), B8A (nir_narrow)`}}
	if diff := cmp.Diff(want, m.Degraded); diff != "" {
		t.Errorf("degraded (-want +got):\n%s", diff)
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings %q, want none", m.Warnings)
	}
}

// TestProcessCommandTrackBadRows runs the vehicle-track pipeline on a track with a bad row
// (skipped and reported by line, within the pipeline's max_bad_share) and with two (beyond
// it: refused, naming the file and the lines). The one VOC event is one finding, on the
// upwind plant, with its ranked candidates.
func TestProcessCommandTrackBadRows(t *testing.T) {
	dir := t.TempDir()
	parcels := filepath.Join(dir, "parcels.geojson")
	ring := func(dy float64) string {
		b, err := json.Marshal([][][2]float64{sample.SquareLonLat(120, 30, dy)})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	fc := fmt.Sprintf(`{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"parcel_id":"plant","uscc":"91320500MA1X2Y3Z4Q"},"geometry":{"type":"Polygon","coordinates":%s}},
{"type":"Feature","properties":{"parcel_id":"beyond"},"geometry":{"type":"Polygon","coordinates":%s}},
{"type":"Feature","properties":{"parcel_id":"decoy"},"geometry":{"type":"Polygon","coordinates":%s}}]}`, ring(300), ring(500), ring(-250))
	if err := os.WriteFile(parcels, []byte(fc), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := strings.SplitAfter(sample.VehicleTrackCSV(120, 30), "\n")
	// Line 4 (the third reading) reads NA; line 6 a negative VOC reading.
	na := strings.Replace(rows[3], ",35,60,", ",NA,60,", 1)
	neg := strings.Replace(rows[5], ",35,60,5,20", ",35,60,-5,20", 1)
	one := filepath.Join(dir, "one.csv")
	two := filepath.Join(dir, "two.csv")
	if err := os.WriteFile(one, []byte(strings.Join(rows[:3], "")+na+strings.Join(rows[4:], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(two, []byte(strings.Join(rows[:3], "")+na+rows[4]+neg+strings.Join(rows[6:], "")), 0o644); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "out")
	_, stderr, m := processManifest(t, out, "--pipeline", "vehicle-track", "--capture", one, "--parcels", parcels, "--no-artifacts")
	for _, want := range []string{"one.csv: skipped 1 bad rows of 21", "one.csv: line 4, column pm25: no value (NA): row skipped"} {
		if !strings.Contains(stderr, want) || !slices.ContainsFunc(m.Warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("stderr %q and manifest warnings %q lack %q", stderr, m.Warnings, want)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, process.FindingsName))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Features []struct {
			Properties struct {
				ParcelID   string  `json:"parcel_id"`
				Kind       string  `json:"kind"`
				Score      float64 `json:"score"`
				Candidates []struct {
					ParcelID string  `json:"parcel_id"`
					USCC     string  `json:"uscc"`
					Rank     int     `json:"rank"`
					Share    float64 `json:"share"`
					Along    float64 `json:"along_m"`
				} `json:"candidate_parcels"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Features) != 1 {
		t.Fatalf("%d findings, want one for the one event:\n%s", len(got.Features), data)
	}
	p := got.Features[0].Properties
	if p.ParcelID != "plant" || p.Kind != "exceedance" || len(p.Candidates) == 0 || p.Candidates[0].ParcelID != "plant" ||
		p.Candidates[0].USCC != "91320500MA1X2Y3Z4Q" || p.Candidates[0].Rank != 1 || p.Candidates[0].Along <= 0 {
		t.Fatalf("finding %+v, want an exceedance on the upwind plant, first of its candidates", p)
	}
	for _, c := range p.Candidates {
		if c.ParcelID == "decoy" {
			t.Errorf("the downwind decoy is a candidate: %+v", p.Candidates)
		}
	}
	if p.Score >= 1 || p.Score <= 0 || p.Score > p.Candidates[0].Share+1e-9 {
		t.Errorf("score %v, want the detection score times the top share %v", p.Score, p.Candidates[0].Share)
	}

	var stdout, errOut bytes.Buffer
	err = run(context.Background(), []string{"process", "--out", filepath.Join(dir, "out2"), "--pipeline", "vehicle-track", "--capture", two, "--parcels", parcels}, &stdout, &errOut)
	for _, want := range []string{"two.csv", "2 of 21 rows bad", "line 4, column pm25: no value (NA)", "line 6, column so2: negative reading -5"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}
