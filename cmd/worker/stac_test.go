package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/testenv"
)

// TestProcessWritesSTAC runs worker process and checks the static STAC catalog beside its
// outputs: the catalog links its three collections, each collection its Items; every Item
// has the structure STAC 1.0.0 requires, assets with roles whose relative hrefs name files
// of the run with the SHA-256 their file:checksum says, and findings derived from the
// captures' Items.
func TestProcessWritesSTAC(t *testing.T) {
	root := testenv.SharedData(t, "real/calfire")
	dir := t.TempDir()
	pipe := derivedPipeline(t, dir, "calfire.yaml", "sentinel2", "band: B02", "band: B2", "band: B03", "band: B3", "band: B04", "band: B4", "band: B08", "band: B8")
	// A burnt parcel over the 66_20230515 scene (as TestProcessCommandCalFire), of an enterprise.
	parcels := filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(parcels, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"fire-66","uscc":"91110000100000000X","name":"Plant"},
"geometry":{"type":"Polygon","coordinates":[[[-116.110,33.566],[-116.091,33.566],[-116.091,33.579],[-116.110,33.579],[-116.110,33.566]]]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	args := []string{"process", "--pipeline", pipe, "--before", filepath.Join(root, "pre/66_20230515.tif"), "--after", filepath.Join(root, "post/66_20230515.tif"),
		"--parcels", parcels, "--out", out}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("process: %v\n%s", err, stderr.String())
	}
	t.Log(stdout.String())
	if os.Getenv("OFFSITE_KEEP_STAC") != "" {
		defer os.CopyFS(os.Getenv("OFFSITE_KEEP_STAC"), os.DirFS(out))
	}
	readJSON := func(path string) map[string]any {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("s3://")) {
			t.Errorf("%s has an s3:// URL", path)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return v
	}
	stacDir := filepath.Join(out, "stac")
	cat := readJSON(filepath.Join(stacDir, "catalog.json"))
	if cat["type"] != "Catalog" || cat["stac_version"] != "1.0.0" {
		t.Errorf("catalog %v", cat)
	}
	counts := map[string]int{}
	for _, l := range cat["links"].([]any) {
		lm := l.(map[string]any)
		if lm["rel"] != "child" {
			continue
		}
		collPath := filepath.Join(stacDir, filepath.FromSlash(lm["href"].(string)))
		coll := readJSON(collPath)
		id := coll["id"].(string)
		if coll["type"] != "Collection" || coll["license"] == nil || coll["extent"] == nil {
			t.Errorf("collection %s: %v", id, coll)
		}
		for _, il := range coll["links"].([]any) {
			ilm := il.(map[string]any)
			if ilm["rel"] != "item" {
				continue
			}
			counts[id]++
			itemPath := filepath.Join(filepath.Dir(collPath), filepath.FromSlash(ilm["href"].(string)))
			it := readJSON(itemPath)
			props, _ := it["properties"].(map[string]any)
			if it["type"] != "Feature" || it["stac_version"] != "1.0.0" || it["collection"] != id || it["id"] == "" {
				t.Errorf("%s: head %v %v %v", itemPath, it["type"], it["stac_version"], it["collection"])
			}
			if _, err := time.Parse(time.RFC3339, props["datetime"].(string)); err != nil {
				t.Errorf("%s: datetime %v", itemPath, props["datetime"])
			}
			for name, a := range it["assets"].(map[string]any) {
				am := a.(map[string]any)
				if roles, _ := am["roles"].([]any); len(roles) == 0 {
					t.Errorf("%s: asset %s without roles", itemPath, name)
				}
				if id == "captures" {
					continue // the input as given on the command line
				}
				file := filepath.Join(filepath.Dir(itemPath), filepath.FromSlash(am["href"].(string)))
				data, err := os.ReadFile(file)
				if err != nil {
					t.Errorf("%s: asset %s: %v", itemPath, name, err)
					continue
				}
				sum := sha256.Sum256(data)
				if am["file:checksum"] != "1220"+hex.EncodeToString(sum[:]) {
					t.Errorf("%s: asset %s checksum %v, file hashes to %x", itemPath, name, am["file:checksum"], sum)
				}
			}
			for _, l := range it["links"].([]any) {
				lm := l.(map[string]any)
				href := lm["href"].(string)
				if lm["rel"] == "derived_from" && id != "captures" {
					if !strings.HasPrefix(href, "../captures/") {
						t.Errorf("%s: derived_from %s, want a capture Item", itemPath, href)
					}
					if _, err := os.Stat(filepath.Join(filepath.Dir(itemPath), filepath.FromSlash(href))); err != nil {
						t.Errorf("%s: derived_from %s: %v", itemPath, href, err)
					}
				}
			}
		}
	}
	var m struct {
		Inputs   []any `json:"inputs"`
		Findings int   `json:"findings"`
	}
	data, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	// Two input files; the parcel clipped on both dates.
	if counts["captures"] != len(m.Inputs) || counts["clips"] != 2 || counts["findings"] != m.Findings || m.Findings == 0 {
		t.Errorf("items %v; manifest: %d inputs, %d findings", counts, len(m.Inputs), m.Findings)
	}
	// A second run into the same folder is refused: stac/ is one of its outputs.
	if err := run(context.Background(), args, &stdout, &stderr); err == nil {
		t.Error("second run into the same folder: no error")
	}
}
