package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/testenv"
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
