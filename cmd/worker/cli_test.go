package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/sample"
)

// TestHelpAndVersion: help is asked for, not an error (exit 0), for the worker and each command.
func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		wantErr    error
		out, want  string // "stdout" or "stderr", and what it must contain
		wantStatus int
	}{
		{[]string{"--help"}, nil, "stdout", "Commands:", 0},
		{[]string{"help"}, nil, "stdout", "Exit status", 0},
		{[]string{"-h"}, nil, "stdout", "process   run a pipeline", 0},
		{[]string{"version"}, nil, "stdout", "worker ", 0},
		{[]string{"--version"}, nil, "stdout", "worker ", 0},
		{[]string{"help", "clip"}, flag.ErrHelp, "stdout", "--parcels-crs", 0},
		{[]string{"clip", "--help"}, flag.ErrHelp, "stderr", "Exit status 3", 0},
		{[]string{"process", "-h"}, flag.ErrHelp, "stderr", "--quiet", 0},
		{[]string{"verify", "--help"}, flag.ErrHelp, "stderr", "signed head", 0},
		{[]string{"migrate", "--help"}, flag.ErrHelp, "stderr", "schema's owner", 0},
		{[]string{"serve", "--help"}, flag.ErrHelp, "stderr", "OFFSITE_", 0},
		{[]string{"clop"}, errUsage, "stderr", "", 2},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			got := stdout.String()
			if tc.out == "stderr" {
				got = stderr.String()
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s = %q, want it to contain %q", tc.out, got, tc.want)
			}
			if err != nil {
				if st := exitStatus(err, &bytes.Buffer{}); st != tc.wantStatus {
					t.Errorf("exit status %d, want %d", st, tc.wantStatus)
				}
			}
		})
	}
	for _, tc := range []struct {
		err  error
		want int
	}{{errors.New("x"), 1}, {errNothing, 3}, {errMismatch, 4}, {errUsage, 2}, {flag.ErrHelp, 0}} {
		if got := exitStatus(tc.err, &bytes.Buffer{}); got != tc.want {
			t.Errorf("exitStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// clipFixture writes a 30 m scene in EPSG:32650 and parcels around the given points.
func clipFixture(t *testing.T, dir string, pts map[string][2]float64) (scene, parcels string) {
	t.Helper()
	sc := sample.Scene{EPSG: 32650, X0: 500000, Y0: 3500000, Pixel: 30, Width: 100, Height: 100, Bands: 4}
	scene, err := sc.Write(dir, "scene.tif")
	if err != nil {
		t.Fatal(err)
	}
	var fs []sample.Feature
	for id, p := range pts {
		f, err := sample.RectParcel(32650, id, "", p[0], p[1], 450, 300)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	fc, err := sample.FeatureCollection(fs)
	if err != nil {
		t.Fatal(err)
	}
	parcels = filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(parcels, fc, 0o644); err != nil {
		t.Fatal(err)
	}
	return scene, parcels
}

// TestClipOutputFolderAndExit: a used folder is refused; --overwrite removes only what the
// earlier clip listed; nothing to clip is exit status 3; progress when asked for.
func TestClipOutputFolderAndExit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	scene, parcels := clipFixture(t, dir, map[string][2]float64{"a": {500300, 3497300}, "b": {501200, 3498000}, "far": {600000, 3400000}})
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"clip", "--progress", "--scene", scene, "--parcels", parcels, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("clip: %v", err)
	}
	if !strings.Contains(stderr.String(), "clip: 2/3 parcels") {
		t.Errorf("progress = %q, want the last line 2/3 parcels", stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(out, clipManifestName))
	if err != nil || !strings.Contains(string(data), `"a.tif"`) || !strings.Contains(string(data), `"b.png"`) {
		t.Fatalf("clip.json = %s, %v", data, err)
	}
	// Again into the same folder: refused, nothing touched.
	err = run(ctx, []string{"clip", "--quiet", "--scene", scene, "--parcels", parcels, "--out", out}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("second clip into a used folder: %v", err)
	}
	// A file of the user's beside the outputs survives --overwrite; alone, it blocks it.
	keep := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"clip", "--overwrite", "--quiet", "--scene", scene, "--parcels", parcels, "--out", out}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "notes.txt") {
		t.Fatalf("--overwrite with a foreign file: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("the user's file was removed: %v", err)
	}
	if err := os.Remove(keep); err != nil {
		t.Fatal(err)
	}
	// clip.json and its outputs went with the first --overwrite: the folder is empty now.
	if err := run(ctx, []string{"clip", "--overwrite", "--quiet", "--scene", scene, "--parcels", parcels, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("--overwrite: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "a.tif")); err != nil {
		t.Errorf("a.tif after --overwrite: %v", err)
	}
	// Nothing overlaps: exit status 3, named.
	_, farOnly := clipFixture(t, t.TempDir(), map[string][2]float64{"far": {600000, 3400000}})
	err = run(ctx, []string{"clip", "--scene", scene, "--parcels", farOnly, "--out", filepath.Join(dir, "none")}, &stdout, &stderr)
	if !errors.Is(err, errNothing) || exitStatus(err, &bytes.Buffer{}) != 3 || !strings.Contains(err.Error(), "none of the 1 parcels") {
		t.Errorf("nothing to clip: %v", err)
	}
}

// TestParcelsCRSAndErrors: projected coordinates without a CRS are one line of error with a
// hint, and clip with --parcels-crs; a truncated file names line and column.
func TestParcelsCRSAndErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	scene, _ := clipFixture(t, dir, map[string][2]float64{"a": {500300, 3497300}})
	// The same parcel in UTM metres, with no crs member: every position is out of range.
	utm := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"a"},"geometry":{"type":"Polygon","coordinates":[[[500100,3497100],[500500,3497100],[500500,3497400],[500100,3497400],[500100,3497100]]]}}]}`
	parcels := filepath.Join(dir, "utm.geojson")
	if err := os.WriteFile(parcels, []byte(utm), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"clip", "--scene", scene, "--parcels", parcels, "--out", filepath.Join(dir, "o1")}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--parcels-crs") || strings.Count(err.Error(), "\n") != 2 || !strings.Contains(err.Error(), "and 4 more out_of_range") {
		t.Fatalf("UTM parcels without a CRS: %v", err)
	}
	if err := run(ctx, []string{"clip", "--quiet", "--parcels-crs", "EPSG:32650", "--scene", scene, "--parcels", parcels, "--out", filepath.Join(dir, "o2")}, &stdout, &stderr); err != nil {
		t.Fatalf("with --parcels-crs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "o2", "a.tif")); err != nil {
		t.Errorf("a.tif: %v", err)
	}
	// A file naming WGS84 given another CRS is refused, not guessed at.
	wgs := `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4326"}},"features":[]}`
	named := filepath.Join(dir, "named.geojson")
	if err := os.WriteFile(named, []byte(wgs), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"clip", "--parcels-crs", "EPSG:32650", "--scene", scene, "--parcels", named, "--out", filepath.Join(dir, "o3")}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "names its CRS") {
		t.Errorf("a file naming another CRS: %v", err)
	}
	// Truncated: where, and that it is truncated.
	cut := filepath.Join(dir, "cut.geojson")
	if err := os.WriteFile(cut, []byte(utm[:150]), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"clip", "--scene", scene, "--parcels", cut, "--out", filepath.Join(dir, "o4")}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "cut.geojson") || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "line 1 column 151") {
		t.Errorf("truncated parcels: %v", err)
	}
}

// TestProgressLine: rate and time left from the clock, at most five lines a second, the last
// state always shown.
func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "process", "on")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	p.now, p.start = func() time.Time { return now }, t0
	now = t0.Add(10 * time.Second)
	p.Update(100, 400)
	now = now.Add(50 * time.Millisecond)
	p.Update(101, 400) // throttled
	if !strings.Contains(b.String(), "process: 100/400 parcels, 10.0/s, ETA 30s") || strings.Contains(b.String(), "101/400") {
		t.Errorf("progress = %q", b.String())
	}
	p.Done()
	if !strings.Contains(b.String(), "101/400") || !strings.HasSuffix(b.String(), "\n") {
		t.Errorf("Done did not show the last state: %q", b.String())
	}
	var off bytes.Buffer
	q := newProgress(&off, "x", progressMode(true, true))
	q.Update(1, 2)
	q.Done()
	if off.Len() != 0 {
		t.Errorf("--quiet printed %q", off.String())
	}
	if progressMode(false, false) != "auto" || isTerminal(&off) {
		t.Error("a buffer is not a terminal")
	}
}

// TestProcessNothingToDo: parcels all outside the scene are exit status 3, not a run that
// found nothing.
func TestProcessNothingToDo(t *testing.T) {
	dir := t.TempDir()
	scene, parcels := clipFixture(t, dir, map[string][2]float64{"far": {600000, 3400000}})
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"process", "--pipeline", "drone-rgb", "--before", scene, "--after", scene,
		"--parcels", parcels, "--out", filepath.Join(dir, "out")}, &stdout, &stderr)
	if !errors.Is(err, errNothing) || exitStatus(err, &bytes.Buffer{}) != exitNothing {
		t.Fatalf("process with no parcel on the scene: %v", err)
	}
}
