package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/geo"
	"github.com/offsite/offsite/internal/sample"
)

func TestClipCommand(t *testing.T) {
	dir := t.TempDir()
	sc := sample.Scene{EPSG: 32650, X0: 500000, Y0: 3500000, Pixel: 30, Width: 100, Height: 100, Bands: 4}
	scene, err := sc.Write(dir, "scene.tif")
	if err != nil {
		t.Fatal(err)
	}
	var fs []sample.Feature
	for _, p := range []struct {
		id   string
		x, y float64
	}{{"in-1", 500300, 3497300}, {"in-2", 501200, 3498000}, {"outside", 600000, 3400000}} {
		f, err := sample.RectParcel(32650, p.id, "", p.x, p.y, 450, 300)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	fc, err := sample.FeatureCollection(fs)
	if err != nil {
		t.Fatal(err)
	}
	parcels := filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(parcels, fc, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"clip", "--scene", scene, "--parcels", parcels, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("clip: %v\n%s", err, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "clip: 2 of 3 parcels clipped (1 outside the scene)") || strings.Count(stdout.String(), "\n") != 1 {
		t.Errorf("summary = %q", stdout.String())
	}
	for _, name := range []string{"in-1.tif", "in-1.png", "in-2.tif", "in-2.png"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "outside.tif")); !os.IsNotExist(err) {
		t.Errorf("outside.tif written for a parcel outside the scene")
	}

	out = filepath.Join(dir, "out-errors")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no scene", []string{"clip", "--parcels", parcels, "--out", out}, "--scene is required"},
		{"missing scene", []string{"clip", "--scene", filepath.Join(dir, "nope.tif"), "--parcels", parcels, "--out", out}, "nope.tif"},
		{"bucket not configured", []string{"clip", "--scene", "s3://elsewhere/a.tif", "--parcels", parcels, "--out", out}, `bucket "elsewhere" is not allowed`},
		{"vsicurl key", []string{"clip", "--scene", "s3://offsite-captures//vsicurl/http://x/a.tif", "--parcels", parcels, "--out", out}, "invalid source"},
		{"not a scene", []string{"clip", "--scene", parcels, "--parcels", parcels, "--out", out}, "parcels.geojson"},
		{"parcels format", []string{"clip", "--scene", scene, "--parcels", scene, "--out", out}, "unsupported file type"},
		{"unknown command", []string{"clop"}, `unknown command "clop"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestClipRepair: a self-intersecting parcel is refused, and clipped with --repair.
func TestClipRepair(t *testing.T) {
	dir := t.TempDir()
	sc := sample.Scene{EPSG: 32650, X0: 500000, Y0: 3500000, Pixel: 30, Width: 100, Height: 100, Bands: 4}
	scene, err := sc.Write(dir, "scene.tif")
	if err != nil {
		t.Fatal(err)
	}
	ll, err := sample.ToLonLat(32650, [][2]float64{{500300, 3497300}, {501200, 3498200}, {501200, 3497300}, {500300, 3498200}})
	if err != nil {
		t.Fatal(err)
	}
	bow := sample.Feature{Type: "Feature", Properties: map[string]any{"parcel_id": "bow"}}
	bow.Geometry.Type = "Polygon"
	bow.Geometry.Coordinates = [][][2]float64{append(ll, ll[0])}
	fc, err := sample.FeatureCollection([]sample.Feature{bow})
	if err != nil {
		t.Fatal(err)
	}
	parcels := filepath.Join(dir, "bow.geojson")
	if err := os.WriteFile(parcels, fc, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"clip", "--scene", scene, "--parcels", parcels, "--out", filepath.Join(dir, "a")}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "self_intersection") {
		t.Fatalf("without --repair: err = %v, want self_intersection", err)
	}
	out := filepath.Join(dir, "b")
	if err := run(context.Background(), []string{"clip", "--repair", "--scene", scene, "--parcels", parcels, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("with --repair: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "bow.tif")); err != nil {
		t.Errorf("repaired parcel not clipped: %v", err)
	}
	// What the commands clip is the repaired geometry: validated again without repair, it
	// has no problems left (the bow-tie as read would be refused).
	feats, err := readParcels(context.Background(), parcels, parcelOptions{idProp: "parcel_id", repair: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := geo.Validate(feats)
	if err == nil {
		err = rep.Err()
	}
	if err != nil {
		t.Errorf("readParcels --repair passed on a geometry that is still invalid: %v", err)
	}
	if len(feats) != 1 || feats[0].Geometry.GeoJSONType() != "MultiPolygon" {
		t.Errorf("repaired bow-tie = %v, want one MultiPolygon of its two lobes", feats)
	}
}
