package process

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/detect"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/testenv"
	"github.com/offsite/offsite/pipelines"
)

// derived parses the built-in pipeline name with each old→new replacement applied to its
// text, as a user deriving a pipeline from it would.
func derived(tb testing.TB, name string, oldnew ...string) *pipelines.Pipeline {
	tb.Helper()
	text := strings.NewReplacer(oldnew...).Replace(string(builtin(tb, name).Content()))
	p, err := pipelines.Parse(name+"-derived.yaml", []byte(text))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// noSCLPair writes the change pair of changePair without B8A and SCL, and with a block of
// nodata (0) in the after scene covering a quarter of parcel A's pixels (rows 40–59, columns
// 60–79; the roof at 55–60 lies apart from it). With boa, the digital numbers carry the 1000
// that processing baseline 04.00 adds and the files say so (BOA_ADD_OFFSET -1000); without,
// they are reflectance × 10000 and the files say nothing.
func noSCLPair(tb testing.TB, dir string, boa bool) (before, after string) {
	names := []string{"B02", "B03", "B04", "B08", "B11", "B12"}
	idx := []int{0, 1, 2, 3, 5, 6} // their bands in s2Value and roof
	add := 0.0                     // s2Value and roof hold the 04.00 offset
	if !boa {
		add = -1000
	}
	before = MustWriteScene(tb, dir, "before.tif", utm50, names, func(b, r, c int) uint16 {
		return uint16(s2Value(1, idx[b], r, c) + add)
	})
	after = MustWriteScene(tb, dir, "after.tif", utm50, names, func(b, r, c int) uint16 {
		switch {
		case r >= 40 && r < 60 && c >= 60 && c < 80:
			return 0
		case r >= 55 && r < 61 && c >= 50 && c < 56:
			return uint16(roof[idx[b]] + 25*noise(2, idx[b], r, c) + add)
		}
		return uint16(1.08*(s2Value(2, idx[b], r, c)+add) + 120)
	})
	if boa {
		for _, p := range []string{before, after} {
			mustSetMetadata(tb, p, "BOA_ADD_OFFSET=-1000", "BOA_QUANTIFICATION_VALUE=10000")
		}
	}
	return before, after
}

// mustSetMetadata rewrites the GeoTIFF at path with the dataset metadata items kv (KEY=VALUE).
func mustSetMetadata(tb testing.TB, path string, kv ...string) {
	tb.Helper()
	tmp := path + ".tmp.tif"
	args := []string{"-q", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE"}
	for _, item := range kv {
		args = append(args, "-mo", item)
	}
	if out, err := exec.Command("gdal_translate", append(args, path, tmp)...).CombinedOutput(); err != nil {
		tb.Fatalf("gdal_translate: %v: %s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
}

// TestRunWithoutSCLAndB8A runs the built-in sentinel2 pipeline on a pair without SCL and B8A,
// which the pipeline marks optional: the change detector runs (spectral mask), finds the new
// roof, and every parcel's masked share is the nodata block's. The pair is read as its
// metadata says: with BOA_ADD_OFFSET as × 0.0001 − 0.1, without any as × 0.0001 and no
// offset (the pipeline's default; it was −0.1, which took a tenth off every band of a scene
// stored without offset, pushed dark land below zero and masked the scene's change away).
// The same pipeline with every band required refuses the pair, as before bands could be
// optional.
func TestRunWithoutSCLAndB8A(t *testing.T) {
	RequireGDALTools(t)
	for _, tc := range []struct {
		name   string
		boa    bool
		source string
		offset float64
	}{
		{"04.00 scene with BOA_ADD_OFFSET", true, raster.CalibrationBOA, -0.1},
		{"scene without offset or metadata", false, "pipeline", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			before, after := noSCLPair(t, dir, tc.boa)
			_, parcels := MustParcels(t, dir, utm50, changeParcels)
			in := Inputs{
				Pipeline: builtin(t, "sentinel2"), Before: fileCapture(before), After: fileCapture(after),
				Parcels: parcels, Env: raster.Env{AllowLocalFiles: true},
			}
			out := filepath.Join(dir, "out")
			res, err := Run(context.Background(), in, DirSink{Dir: out})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) != 1 || res.Findings[0].ParcelID != "A" || res.Findings[0].Detect.Kind != detect.KindChange {
				for _, f := range res.Findings {
					t.Logf("finding %s %s %s score %.3f", f.ParcelID, f.Detect.Kind, f.Detect.Class, f.Detect.Score)
				}
				t.Fatalf("%d findings, want the roof in parcel A", len(res.Findings))
			}
			m := MustVerifyManifest(t, out)
			if len(m.Degraded) != 0 {
				t.Errorf("degraded %+v, want none: change does not use B8A and hotspots fall back to B08", m.Degraded)
			}
			var missing []string
			for _, b := range m.Bands {
				if b.Missing {
					missing = append(missing, b.Date+" "+b.Band)
				} else if b.Role != detect.BandSCL && (b.Source != tc.source || b.Scale != 0.0001 || math.Abs(b.Offset-tc.offset) > 1e-9) {
					t.Errorf("band %+v, want × 0.0001 %+g from %s", b, tc.offset, tc.source)
				}
			}
			if diff := cmp.Diff([]string{"before B8A", "before SCL", "after B8A", "after SCL"}, missing); diff != "" {
				t.Errorf("missing bands (-want +got):\n%s", diff)
			}
			if len(m.Warnings) != 0 {
				t.Errorf("warnings %q, want none", m.Warnings)
			}
			// Parcel A is 40 × 40 pixels from (40, 40); the nodata block covers 20 × 20 of them and
			// the change mask grows it by cloud_buffer (6) pixels inside the parcel: 26 × 26.
			a := m.ParcelResults[0]
			if a.ParcelID != "A" || a.Pixels != 1600 || a.MaskedPixels != 26*26 || a.Findings != 1 {
				t.Errorf("parcel A result %+v, want 1600 pixels, %d masked, 1 finding", a, 26*26)
			}
			if b := m.ParcelResults[1]; b.ParcelID != "B" || b.Pixels != 100 || b.MaskedPixels != 0 || b.MaskedShare == nil || *b.MaskedShare != 0 {
				t.Errorf("parcel B result %+v, want 100 pixels, none masked", b)
			}
			feat := MustReadFindings(t, out).Features[0]
			if got := feat.Properties["masked_share"]; got != 0.4225 {
				t.Errorf("finding masked_share %v, want 0.4225", got)
			}
			// The provenance says what the run went on with.
			prov, _ := feat.Properties["provenance"].(map[string]any)
			props, _ := prov["properties"].(map[string]any)
			bands, _ := props["offsite:bands"].([]any)
			if props["offsite:masked_share"] != 0.4225 || len(bands) != len(m.Bands) || fmt.Sprint(props["offsite:degraded"]) != "[]" || fmt.Sprint(props["offsite:warnings"]) != "[]" {
				t.Errorf("provenance masked share %v, %d bands, degraded %v, warnings %v; want 0.4225, %d, [], []",
					props["offsite:masked_share"], len(bands), props["offsite:degraded"], props["offsite:warnings"], len(m.Bands))
			}

			in.Pipeline = derived(t, "sentinel2", ", optional: true", "")
			_, err = Run(context.Background(), in, DirSink{Dir: filepath.Join(dir, "strict")})
			if err == nil || !strings.Contains(err.Error(), `no band "B8A"`) {
				t.Errorf("every band required: %v, want a refusal naming B8A", err)
			}
		})
	}
}

// TestRunCandidates raises the change detector's report threshold above the roof's score: the
// roof becomes a candidate, in candidates.geojson and the manifest, and findings.geojson holds
// nothing.
func TestRunCandidates(t *testing.T) {
	RequireGDALTools(t)
	dir := t.TempDir()
	before, after := changePair(t, dir)
	_, parcels := MustParcels(t, dir, utm50, changeParcels)
	out := filepath.Join(dir, "out")
	res, err := Run(context.Background(), Inputs{
		Pipeline: derived(t, "sentinel2", "report_min_score: 0.3", "report_min_score: 1"),
		Before:   fileCapture(before), After: fileCapture(after),
		Parcels: parcels, Env: raster.Env{AllowLocalFiles: true},
	}, DirSink{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || len(res.Candidates) != 1 || res.Candidates[0].ParcelID != "A" {
		t.Fatalf("%d findings, %d candidates; want none and the roof in A", len(res.Findings), len(res.Candidates))
	}
	if n := len(MustReadFindings(t, out).Features); n != 0 {
		t.Errorf("findings.geojson has %d features, want none", n)
	}
	data, err := os.ReadFile(filepath.Join(out, CandidatesName))
	if err != nil {
		t.Fatal(err)
	}
	var fc findingsFile
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 1 || fc.Features[0].Properties["candidate"] != true || fc.Features[0].Properties["parcel_id"] != "A" {
		t.Errorf("candidates.geojson %+v, want the roof in A marked candidate", fc.Features)
	}
	m := MustVerifyManifest(t, out)
	var paths []string
	for _, a := range m.Artifacts {
		paths = append(paths, a.Path)
	}
	if diff := cmp.Diff([]string{CandidatesName, FindingsName}, paths); diff != "" || m.Findings != 0 || m.Candidates != 1 {
		t.Errorf("manifest: %d findings, %d candidates, artifacts (-want +got):\n%s", m.Findings, m.Candidates, diff)
	}
	if a := m.ParcelResults[0]; a.ParcelID != "A" || a.Candidates != 1 || a.Findings != 0 {
		t.Errorf("parcel A result %+v, want 1 candidate", a)
	}
}

// TestRunGDALWarningScene runs the sentinel2 pipeline on one date stored as a PHOTOMETRIC=RGB
// TIFF whose ExtraSamples count one sample too few: GDAL warns and reads it; the run goes on,
// finds the hot spot, and records the warning in the manifest.
func TestRunGDALWarningScene(t *testing.T) {
	RequireGDALTools(t)
	dir := t.TempDir()
	names := []string{"B02", "B03", "B04", "B08", "B8A", "B11", "B12"}
	tiled := MustWriteScene(t, dir, "tiled.tif", utm50, names, func(b, r, c int) uint16 {
		if r >= 60 && r < 62 && c >= 60 && c < 62 {
			return []uint16{1500, 1700, 1900, 3500, 3800, 16000, 22000}[b]
		}
		return uint16(s2Value(1, b, r, c))
	})
	scene := filepath.Join(dir, "scene.tif")
	if out, err := exec.Command("gdal_translate", "-q", "-co", "PHOTOMETRIC=RGB", "-co", "INTERLEAVE=PIXEL", tiled, scene).CombinedOutput(); err != nil {
		t.Fatalf("gdal_translate: %v: %s", err, out)
	}
	testenv.MustDropExtraSamples(t, scene)
	_, parcels := MustParcels(t, dir, utm50, map[string][4]int{"A": {50, 50, 20, 20}})
	out := filepath.Join(dir, "out")
	res, err := Run(context.Background(), Inputs{
		Pipeline: builtin(t, "sentinel2"), Capture: fileCapture(scene),
		Parcels: parcels, Env: raster.Env{AllowLocalFiles: true},
	}, DirSink{Dir: out})
	if err != nil {
		t.Fatalf("a scene GDAL reads with a warning was refused: %v", err)
	}
	var hot int
	for _, f := range res.Findings {
		if f.Detect.Kind == detect.KindHotspot && f.ParcelID == "A" {
			hot++
		}
	}
	if hot != 1 {
		t.Errorf("%d hotspots in A, want 1", hot)
	}
	m := MustVerifyManifest(t, out)
	if len(m.Warnings) != 1 || !strings.HasPrefix(m.Warnings[0], "capture: GDAL: scene.tif: ") || !strings.Contains(m.Warnings[0], "ExtraSamples doesn't match SamplesPerPixel") {
		t.Errorf("warnings %q, want the ExtraSamples warning of scene.tif", m.Warnings)
	}
}

// TestRunFloatReflectance runs the built-in sentinel2 pipeline on a Float32 scene holding
// reflectance, without scale metadata: each band takes scale 1, recorded as inferred from
// the data, instead of the pipeline's 0.0001 for digital numbers, so the hot source is
// found and no range warning is raised.
func TestRunFloatReflectance(t *testing.T) {
	RequireGDALTools(t)
	dir := t.TempDir()
	names := []string{"B02", "B03", "B04", "B08", "B8A", "B11", "B12"}
	dn := MustWriteScene(t, dir, "dn.tif", utm50, names, func(b, r, c int) uint16 {
		if r >= 60 && r < 62 && c >= 60 && c < 62 {
			return []uint16{1500, 1700, 1900, 3500, 3800, 16000, 22000}[b]
		}
		return uint16(s2Value(1, b, r, c))
	})
	// The pipeline's reading of the digital numbers (× 0.0001 − 0.1), stored as Float32.
	scene := filepath.Join(dir, "float.tif")
	if out, err := exec.Command("gdal_translate", "-q", "-ot", "Float32", "-scale", "0", "10000", "-0.1", "0.9", dn, scene).CombinedOutput(); err != nil {
		t.Fatalf("gdal_translate: %v: %s", err, out)
	}
	_, parcels := MustParcels(t, dir, utm50, map[string][4]int{"A": {50, 50, 20, 20}})
	out := filepath.Join(dir, "out")
	res, err := Run(context.Background(), Inputs{
		Pipeline: builtin(t, "sentinel2"), Capture: fileCapture(scene),
		Parcels: parcels, Env: raster.Env{AllowLocalFiles: true},
	}, DirSink{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	var hot int
	for _, f := range res.Findings {
		if f.Detect.Kind == detect.KindHotspot && f.ParcelID == "A" {
			hot++
		}
	}
	if hot != 1 {
		t.Errorf("%d hotspots in A, want 1", hot)
	}
	m := MustVerifyManifest(t, out)
	for _, b := range m.Bands {
		if !b.Missing && b.Role != detect.BandSCL && (b.Source != raster.CalibrationInferred || b.Scale != 1 || b.Offset != 0) {
			t.Errorf("band %+v, want scale 1 inferred from the data", b)
		}
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings %q, want none", m.Warnings)
	}
}
