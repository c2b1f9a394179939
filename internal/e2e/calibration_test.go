package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/process"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/testenv"
)

// TestServiceSidecarScaleAndWarnings drops, for the nightly sweep, two dates of a Sentinel-2
// scene stored without offset (reflectance × 10000) whose STAC sidecars say so in
// raster:bands, the later one written so that GDAL warns on it (ExtraSamples that do not add
// up) and reads it anyway. Service mode does what `worker process` does: the capture records
// its sidecar's band scales at registration and its GDAL warnings at ingest (both shown by
// GET /api/v1/captures/{id}), the run takes reflectance from the sidecar, and each finding's
// provenance says how each band became reflectance, which detectors were degraded, the
// warnings and the parcel's masked share.
func TestServiceSidecarScaleAndWarnings(t *testing.T) {
	s := startSystem(t)
	fc := parcels(t, map[string][3]float64{"site": {500500, 3499150, 400}, "quiet": {501200, 3498600, 200}})
	if code := s.call(t, "POST", "/api/v1/parcels", fc, nil); code != 200 {
		t.Fatalf("POST parcels: %d", code)
	}
	var bands []string
	for range sample.Sentinel2Bands[:len(sample.Sentinel2Bands)-1] {
		bands = append(bands, `{"nodata":0,"data_type":"uint16","scale":0.0001,"offset":0}`)
	}
	bands = append(bands, `{"nodata":0,"data_type":"uint8"}`) // SCL: classes
	for i, day := range []string{"2026-03-01", "2026-04-01"} {
		sc := sample.Sentinel2NoOffset(sceneEPSG, 500000, 3500000, 160, 160, i == 1, []sample.Rect{{R0: 60, C0: 60, R1: 76, C1: 76}})
		data := sceneBytes(t, sc)
		if i == 1 {
			data = warningScene(t, data)
		}
		dir := "stac/raw/" + day
		s.putCapture(t, dir+"/scene.tif", data)
		s.putCapture(t, dir+"/scene.json", []byte(`{"type":"Feature","stac_version":"1.0.0","id":"scene",
			"collection":"sentinel-2-l2a","properties":{"datetime":"`+day+`T02:30:00Z","platform":"sentinel-2b","s2:processing_baseline":"02.14"},
			"assets":{"data":{"href":"./scene.tif","type":"image/tiff; application=geotiff","roles":["data"],
			"raster:bands":[`+strings.Join(bands, ",")+`]}}}`))
	}
	run := s.sweep(t, 1)
	if run.Registered != 2 || run.Queued != 2 {
		t.Fatalf("sweep = %+v", run)
	}
	ids := s.runCaptures(t, run.ID)
	for _, id := range ids {
		if st := s.waitNightly(t, id); st != asynq.TaskStateCompleted {
			t.Fatalf("nightly task of capture %d: %v", id, st)
		}
	}
	wantScales := make([]offsite.BandScale, len(sample.Sentinel2Bands))
	for i := range wantScales {
		wantScales[i] = offsite.BandScale{Scale: 0.0001, Set: true}
	}
	wantScales[len(wantScales)-1] = offsite.BandScale{Scale: 1}
	var after offsite.Capture
	for _, id := range ids {
		var c offsite.Capture
		if code := s.call(t, "GET", fmt.Sprintf("/api/v1/captures/%d", id), nil, &c); code != 200 {
			t.Fatalf("GET capture %d: %d", id, code)
		}
		if diff := cmp.Diff(wantScales, c.BandScales); diff != "" {
			t.Errorf("capture %s: band scales (-want +got):\n%s", c.Key, diff)
		}
		warned := strings.Contains(strings.Join(c.Warnings, "\n"), "ExtraSamples")
		if later := strings.Contains(c.Key, "2026-04-01"); later != warned {
			t.Errorf("capture %s: warnings %q; want GDAL's ExtraSamples warning on the later scene only", c.Key, c.Warnings)
		} else if later {
			after = c
		}
	}
	if after.ID == 0 {
		t.Fatal("the later capture was not found")
	}

	var found struct {
		Features []struct {
			Properties struct {
				ParcelID   string `json:"parcel_id"`
				Kind       string `json:"kind"`
				Provenance struct {
					Properties struct {
						Bands       []process.BandUse `json:"offsite:bands"`
						Degraded    []any             `json:"offsite:degraded"`
						Warnings    []string          `json:"offsite:warnings"`
						MaskedShare *float64          `json:"offsite:masked_share"`
					} `json:"properties"`
				} `json:"provenance"`
			} `json:"properties"`
		} `json:"features"`
	}
	s.call(t, "GET", fmt.Sprintf("/api/v1/findings?capture_id=%d", after.ID), nil, &found)
	if len(found.Features) == 0 {
		t.Fatal("no finding for the new roof on parcel site")
	}
	for _, f := range found.Features {
		p := f.Properties
		if p.ParcelID != "site" || p.Kind != offsite.FindingChange {
			t.Errorf("finding on %s of kind %s; the only change is the roof on site", p.ParcelID, p.Kind)
		}
		prov := p.Provenance.Properties
		if len(prov.Bands) != 2*len(sample.Sentinel2Bands) {
			t.Errorf("provenance bands: %+v, want each band of both dates", prov.Bands)
		}
		for _, b := range prov.Bands {
			if b.Role != "scl" && (b.Source != process.CalibrationSTAC || b.Scale != 0.0001 || b.Offset != 0) {
				t.Errorf("band %+v: want × 0.0001 + 0 from the sidecar", b)
			}
		}
		if prov.Degraded == nil || len(prov.Degraded) != 0 {
			t.Errorf("provenance degraded %v, want [] (every band is there)", prov.Degraded)
		}
		want := fmt.Sprintf("after: GDAL at ingest of %s/%s: ", after.Bucket, after.Key)
		if len(prov.Warnings) != 1 || !strings.HasPrefix(prov.Warnings[0], want) || !strings.Contains(prov.Warnings[0], "ExtraSamples") {
			t.Errorf("provenance warnings %q, want only the later capture's GDAL warning", prov.Warnings)
		}
		if prov.MaskedShare == nil || *prov.MaskedShare != 0 {
			t.Errorf("provenance masked share %v, want 0 (SCL all vegetation, no cloud)", prov.MaskedShare)
		}
	}
}

// warningScene rewrites a scene as GDAL writes a pixel-interleaved PHOTOMETRIC=RGB file and
// then spoils its ExtraSamples tag, so that GDAL warns on it and reads it anyway.
func warningScene(t *testing.T, data []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.tif"), filepath.Join(dir, "out.tif")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("gdal_translate", "-q", "-co", "PHOTOMETRIC=RGB", "-co", "INTERLEAVE=PIXEL", "-co", "TILED=YES", src, dst)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gdal_translate: %v: %s", err, out)
	}
	testenv.MustDropExtraSamples(t, dst)
	out, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
