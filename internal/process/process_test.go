package process

import (
	"bytes"
	"context"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/detect"
	"github.com/offsite/offsite/internal/geo"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/testenv"
	"github.com/offsite/offsite/pipelines"
)

var utm50 = testGrid{EPSG: 32650, X0: 400000, Y0: 3400000, Pixel: 10, Width: 160, Height: 160}

func builtin(tb testing.TB, name string) *pipelines.Pipeline {
	tb.Helper()
	ps, err := pipelines.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	return ps[name]
}

func fileCapture(paths ...string) *Capture {
	c := &Capture{}
	for _, p := range paths {
		c.Files = append(c.Files, File{Name: filepath.Base(p), Source: raster.FileSource(p)})
	}
	return c
}

// changePair writes a before/after pair of synthetic Sentinel-2 scenes. The after scene
// differs by a global gain and offset (× 1.08 + 120 DN) and fresh noise, plus a new roof of
// 6 × 6 pixels (3600 m²) at (55, 55), inside parcel A, and another at (120, 120), outside
// every parcel.
func changePair(tb testing.TB, dir string) (before, after string) {
	before = MustWriteScene(tb, dir, "before.tif", utm50, s2Bands, func(b, r, c int) uint16 {
		return uint16(s2Value(1, b, r, c))
	})
	after = MustWriteScene(tb, dir, "after.tif", utm50, s2Bands, func(b, r, c int) uint16 {
		if b == 7 {
			return 4
		}
		in := func(r0, c0 int) bool { return r >= r0 && r < r0+6 && c >= c0 && c < c0+6 }
		if in(55, 55) || in(120, 120) {
			return uint16(roof[b] + 25*noise(2, b, r, c))
		}
		return uint16(1.08*s2Value(2, b, r, c) + 120)
	})
	return before, after
}

var changeParcels = map[string][4]int{"A": {40, 40, 40, 40}, "B": {100, 20, 10, 10}}

func TestRunChangePair(t *testing.T) {
	RequireGDALTools(t)
	dir := t.TempDir()
	before, after := changePair(t, dir)
	_, parcels := MustParcels(t, dir, utm50, changeParcels)
	when := time.Date(2026, 6, 2, 3, 0, 0, 0, time.UTC)
	run := func(out string) *Result {
		start := time.Now()
		res, err := Run(context.Background(), Inputs{
			Pipeline: builtin(t, "sentinel2"),
			Before:   fileCapture(before), After: fileCapture(after),
			Parcels: parcels, Env: raster.Env{AllowLocalFiles: true}, Time: when,
		}, DirSink{Dir: out})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("run: %v", time.Since(start))
		return res
	}
	out1, out2 := filepath.Join(dir, "out1"), filepath.Join(dir, "out2")
	res := run(out1)
	if len(res.Findings) != 1 {
		for _, f := range res.Findings {
			t.Logf("finding %s %s %s score %.3f area %.0f at %v", f.ParcelID, f.Detect.Kind, f.Detect.Class, f.Detect.Score, f.AreaM2, f.Geometry.Bound())
		}
		t.Fatalf("%d findings, want 1 (the roof in parcel A)", len(res.Findings))
	}
	fc := MustReadFindings(t, out1)
	if len(fc.Features) != 1 {
		t.Fatalf("findings.geojson has %d features, want 1", len(fc.Features))
	}
	p := fc.Features[0].Properties
	if p["parcel_id"] != "A" || p["kind"] != detect.KindChange || p["name"] != "Enterprise A" {
		t.Errorf("finding properties %v, want a change in parcel A", p)
	}
	if area := p["area_m2"].(float64); math.Abs(area-3600) > 360 {
		t.Errorf("area_m2 = %v, want 3600 ± 10%%", area)
	}
	for _, k := range []string{"id", "class", "score", "severity", "params", "provenance", "artifacts", "detector"} {
		if _, ok := p[k]; !ok {
			t.Errorf("finding has no %q property", k)
		}
	}
	// Provenance is a STAC Item, as the service stores it.
	prov := p["provenance"].(map[string]any)
	pp := prov["properties"].(map[string]any)
	if prov["type"] != "Feature" || pp["offsite:pipeline_sha256"] != builtin(t, "sentinel2").Hash() || pp["datetime"] != "2026-06-02T03:00:00Z" || len(prov["links"].([]any)) != 2 {
		t.Errorf("provenance %v", prov)
	}
	m := MustVerifyManifest(t, out1)
	var clips, pngs int
	for _, a := range m.Artifacts {
		switch a.MediaType {
		case MediaCOG:
			clips++
		case MediaPNG:
			pngs++
		}
	}
	if clips != 2 || pngs != 2 || len(m.Inputs) != 2 {
		t.Errorf("manifest: %d clips, %d quick-looks, %d inputs; want 2, 2, 2", clips, pngs, len(m.Inputs))
	}
	// The quick-looks outline the finding.
	for _, a := range m.Artifacts {
		if a.MediaType != MediaPNG {
			continue
		}
		f, err := os.Open(filepath.Join(out1, a.Path))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				if color.NRGBAModel.Convert(img.At(x, y)) == outlineColour {
					n++
				}
			}
		}
		if n < 10 {
			t.Errorf("%s: %d outline pixels, want the finding outlined", a.Path, n)
		}
	}
	id := p["id"].(string)
	if _, err := os.Stat(filepath.Join(out1, "findings", "finding-"+id+".geojson")); err != nil {
		t.Error(err)
	}

	// Determinism: a second run writes byte-identical files.
	run(out2)
	err := filepath.WalkDir(out1, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out1, path)
		a, _ := os.ReadFile(path)
		b, err := os.ReadFile(filepath.Join(out2, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunChangeOutsideParcels: the only changes lie outside every parcel (and its buffer):
// no finding, and only findings.geojson and the manifest are written.
func TestRunChangeOutsideParcels(t *testing.T) {
	RequireGDALTools(t)
	dir := t.TempDir()
	before, after := changePair(t, dir)
	_, parcels := MustParcels(t, dir, utm50, map[string][4]int{"B": {100, 20, 10, 10}, "C": {10, 100, 30, 30}})
	out := filepath.Join(dir, "out")
	res, err := Run(context.Background(), Inputs{
		Pipeline: builtin(t, "sentinel2"), Before: fileCapture(before), After: fileCapture(after),
		Parcels: parcels, Env: raster.Env{AllowLocalFiles: true},
	}, DirSink{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("%d findings, want none", len(res.Findings))
	}
	m := MustVerifyManifest(t, out)
	if len(m.Artifacts) != 2 || m.Artifacts[0].Path != CandidatesName || m.Artifacts[1].Path != FindingsName {
		t.Errorf("artifacts %+v, want only candidates.geojson and findings.geojson", m.Artifacts)
	}
}

// TestRunHotspotSingleDate runs the Sentinel-2 pipeline on one date with a 2 × 2 hot
// spot (kiln) in parcel A.
func TestRunHotspotSingleDate(t *testing.T) {
	RequireGDALTools(t)
	dir := t.TempDir()
	scene := MustWriteScene(t, dir, "scene.tif", utm50, s2Bands, func(b, r, c int) uint16 {
		if r >= 60 && r < 62 && c >= 60 && c < 62 {
			switch s2Bands[b] {
			case "B8A":
				return 3800
			case "B11":
				return 16000
			case "B12":
				return 22000
			}
		}
		return uint16(s2Value(3, b, r, c))
	})
	_, parcels := MustParcels(t, dir, utm50, changeParcels)
	out := filepath.Join(dir, "out")
	res, err := Run(context.Background(), Inputs{
		Pipeline: builtin(t, "sentinel2"), Capture: fileCapture(scene),
		Parcels: parcels, Env: raster.Env{AllowLocalFiles: true},
	}, DirSink{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	var hot []Finding
	for _, f := range res.Findings {
		if f.Detect.Kind == detect.KindHotspot {
			hot = append(hot, f)
		}
	}
	if len(hot) != 1 || hot[0].ParcelID != "A" || hot[0].Detect.Status != detect.StatusActive || hot[0].Severity == "" {
		t.Fatalf("hotspots %+v, want one active hotspot with a severity in parcel A", hot)
	}
	MustVerifyManifest(t, out)
}

// squareLonLat is a 100 m square parcel centred dy metres north of (lon, lat).
func squareLonLat(id string, lon, lat, dy float64) geo.Feature {
	return geo.Feature{ParcelID: id, Geometry: ringPolygon(sample.SquareLonLat(lon, lat, dy))}
}

func TestRunVehicleTrack(t *testing.T) {
	const lon, lat = 120.0, 30.0
	parcels := []geo.Feature{squareLonLat("plant", lon, lat, 300), squareLonLat("decoy", lon, lat, -250)}
	data := []byte(sample.VehicleTrackCSV(lon, lat))
	out := t.TempDir()
	res, err := Run(context.Background(), Inputs{
		Pipeline: builtin(t, "vehicle-track"),
		Track:    &Track{File: File{Name: "track.csv"}, Data: data, Format: pipelines.FormatCSV},
		Parcels:  parcels, Time: time.Date(2026, 5, 1, 8, 3, 20, 0, time.UTC),
	}, DirSink{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	var exc []Finding
	for _, f := range res.Findings {
		if f.Detect.Kind == detect.KindExceedance {
			exc = append(exc, f)
		}
	}
	if len(exc) == 0 {
		t.Fatalf("findings %+v, want a VOC exceedance", res.Findings)
	}
	for _, f := range exc {
		if f.ParcelID != "plant" || f.Detect.Pollutant != "vocs" || f.Match.Reason == "" {
			t.Errorf("exceedance on %s (%s: %s), want the upwind plant, with a reason", f.ParcelID, f.Detect.Pollutant, f.Match.Reason)
		}
	}
	fc := MustReadFindings(t, out)
	if len(fc.Features) != len(res.Findings) {
		t.Errorf("%d features for %d findings", len(fc.Features), len(res.Findings))
	}
	MustVerifyManifest(t, out)

	// A track with more bad rows than the pipeline's max_bad_share (5%) is refused, naming
	// the line and the column.
	bad := strings.Replace(string(data), "2026-05-01T08:00:10Z", "2026-05-01T08:00:00Z", 1)
	bad = strings.Replace(bad, "2026-05-01T08:00:30Z", "2026-05-01T08:00:20Z", 1)
	_, err = Run(context.Background(), Inputs{
		Pipeline: builtin(t, "vehicle-track"),
		Track:    &Track{File: File{Name: "track.csv"}, Data: []byte(bad), Format: pipelines.FormatCSV},
		Parcels:  parcels,
	}, DirSink{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "line 3, column time") {
		t.Errorf("duplicate time: got %v, want line 3, column time", err)
	}
}

// TestRunLandsatPair runs a Landsat-5 pipeline (one file per band, B1..B7) on the real
// Ethiopian pair, given as the two folders' band files.
func TestRunLandsatPair(t *testing.T) {
	root := testenv.SharedData(t, "landsat/ethiopia_L5_2000_2010")
	bands := func(sub string) *Capture {
		ents, err := os.ReadDir(filepath.Join(root, sub))
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, e := range ents {
			if strings.HasSuffix(strings.ToLower(e.Name()), ".tif") {
				paths = append(paths, filepath.Join(root, sub, e.Name()))
			}
		}
		return fileCapture(paths...)
	}
	p, err := pipelines.Parse("landsat5.yaml", []byte(landsat5YAML))
	if err != nil {
		t.Fatal(err)
	}
	// The whole 101 × 101 grid (EPSG:32637, origin 589035, 756165, 30 m) as one parcel.
	x0, y0 := 589035.0+30, 756165.0-30*100
	ring, err := geo.Reproject(ringPolygon([][2]float64{{x0, y0}, {x0 + 2970, y0}, {x0 + 2970, y0 + 2970}, {x0, y0 + 2970}, {x0, y0}}), "EPSG:32637", geo.CRSWGS84)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	start := time.Now()
	res, err := Run(context.Background(), Inputs{
		Pipeline: p, Before: bands("LT05_20000309"), After: bands("LT05_20101218"),
		Parcels: []geo.Feature{{ParcelID: "all", Geometry: ring}}, Env: raster.Env{AllowLocalFiles: true},
		Time: time.Date(2010, 12, 18, 0, 0, 0, 0, time.UTC),
	}, DirSink{Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("landsat pair: %d findings in %v", len(res.Findings), time.Since(start))
	if res.GridWidth != 101 || res.GridHeight != 101 || res.GridGeoTransform != [6]float64{589035, 30, 0, 756165, 0, -30} {
		t.Errorf("grid %d × %d %v, want 101 × 101 at (589035, 756165), 30 m", res.GridWidth, res.GridHeight, res.GridGeoTransform)
	}
	m := MustVerifyManifest(t, out)
	if len(m.Inputs) != 15 {
		t.Errorf("%d inputs, want 15 band files", len(m.Inputs))
	}
	for _, a := range m.Artifacts {
		if strings.Contains(a.Path, "BQA") || strings.Contains(a.Path, "_B6") {
			t.Errorf("artifact %s: a band the pipeline does not read was clipped", a.Path)
		}
	}
}

const landsat5YAML = `kind: landsat
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
    warnings:
      - {min_score: 0.3, severity: low}
`

func TestRunErrors(t *testing.T) {
	s2 := testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated")
	parcel := geo.Feature{ParcelID: "p", Geometry: ringPolygon([][2]float64{{-11.5, 25.0}, {-11.4, 25.0}, {-11.4, 25.1}, {-11.5, 25.1}, {-11.5, 25.0}})}
	env := raster.Env{AllowLocalFiles: true}
	tests := []struct {
		name string
		in   Inputs
		want []string
	}{
		{"missing band", Inputs{Pipeline: builtin(t, "sentinel2"), Capture: fileCapture(filepath.Join(s2, "B04.tif"), filepath.Join(s2, "B11.tif")), Parcels: []geo.Feature{parcel}, Env: env},
			[]string{"B04.tif", "no band \"B02\"", "1 B04, 2 B11"}},
		{"no parcels", Inputs{Pipeline: builtin(t, "sentinel2"), Capture: fileCapture(filepath.Join(s2, "B04.tif"))}, []string{"no parcels"}},
		{"track pipeline on a scene", Inputs{Pipeline: builtin(t, "vehicle-track"), Capture: fileCapture(filepath.Join(s2, "B04.tif")), Parcels: []geo.Feature{parcel}}, []string{"vehicle-track is for tracks"}},
		{"bad parcel id", Inputs{Pipeline: builtin(t, "sentinel2"), Capture: fileCapture(filepath.Join(s2, "B04.tif")), Parcels: []geo.Feature{{ParcelID: "../x", Geometry: parcel.Geometry}}}, []string{"../x", "path separator"}},
		{"duplicate parcel id", Inputs{Pipeline: builtin(t, "sentinel2"), Capture: fileCapture(filepath.Join(s2, "B04.tif")), Parcels: []geo.Feature{{Index: 0, ParcelID: "x", Geometry: parcel.Geometry}, {Index: 1, ParcelID: "x", Geometry: parcel.Geometry}}}, []string{"parcels 0 and 1", `"x"`}},
		{"half a pair", Inputs{Pipeline: builtin(t, "sentinel2"), Before: fileCapture(filepath.Join(s2, "B04.tif")), Parcels: []geo.Feature{parcel}}, []string{"both before and after"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.in, DirSink{Dir: t.TempDir()})
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

// TestRunSentinel2Real runs hotspots and water plumes on the real decimated tile (B04/B08 at
// 100 m, B11/B12/SCL at 200 m) read onto its 100 m grid.
func TestRunSentinel2Real(t *testing.T) {
	s2 := testenv.SharedData(t, "sentinel2/S2A_29RKH_20200219_L2A_decimated")
	const yaml = `kind: sentinel2
description: The bands of the decimated tile.
bands:
  red:   {band: B04, scale: 0.0001}
  nir:   {band: B08, scale: 0.0001}
  swir1: {band: B11, scale: 0.0001}
  swir2: {band: B12, scale: 0.0001}
  scl:   {band: SCL}
buffer_m: 100
detectors:
  - type: hotspot
    params:
      solar_irradiance: [1036.39, 245.59, 85.25]
      saturation: 5.0
      min_swir2: 0.15
      ratio: 1.4
      min_contrast: 0.1
      min_pixels: 1
    warnings:
      - {severity: medium}
`
	p, err := pipelines.Parse("s2-decimated.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, b := range []string{"B04", "B08", "B11", "B12", "SCL"} {
		files = append(files, filepath.Join(s2, b+".tif"))
	}
	// A 20 × 20 km parcel in the tile's centre (UTM 29N).
	cx, cy := 199980+549*100.0, 2800020-549*100.0
	ring, err := geo.Reproject(ringPolygon([][2]float64{{cx - 1e4, cy - 1e4}, {cx + 1e4, cy - 1e4}, {cx + 1e4, cy + 1e4}, {cx - 1e4, cy + 1e4}, {cx - 1e4, cy - 1e4}}), "EPSG:32629", geo.CRSWGS84)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := Run(context.Background(), Inputs{Pipeline: p, Capture: fileCapture(files...),
		Parcels: []geo.Feature{{ParcelID: "centre", Geometry: ring}}, Env: raster.Env{AllowLocalFiles: true}}, DirSink{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sentinel-2 tile: %d × %d grid, %d findings in %v", res.GridWidth, res.GridHeight, len(res.Findings), time.Since(start))
	if gt := res.GridGeoTransform; gt[1] != 100 || gt[5] != -100 || math.Mod(gt[0]-199980, 100) != 0 || math.Mod(2800020-gt[3], 100) != 0 {
		t.Errorf("grid geotransform %v, want the 100 m grid of B04.tif", gt)
	}
	if w := res.GridWidth; w < 222 || w > 240 {
		t.Errorf("grid width %d, want 222–240 (20 km + 2 × 1.1 km at 100 m, plus the growth of the lon/lat box)", w)
	}
}

// ringPolygon makes a one-ring polygon.
func ringPolygon(pts [][2]float64) orb.Polygon {
	r := make(orb.Ring, len(pts))
	for i, p := range pts {
		r[i] = orb.Point(p)
	}
	return orb.Polygon{r}
}

// TestRunChangePairWarped: the after scene lies on another grid (origin shifted by half a
// pixel, 12 m pixels): it is warped onto the before scene's grid and the roof in parcel A is
// still the only finding.
func TestRunChangePairWarped(t *testing.T) {
	RequireGDALTools(t)
	dir := t.TempDir()
	before := MustWriteScene(t, dir, "before.tif", utm50, s2Bands, func(b, r, c int) uint16 {
		return uint16(s2Value(1, b, r, c))
	})
	g := testGrid{EPSG: utm50.EPSG, X0: utm50.X0 + 5, Y0: utm50.Y0 - 5, Pixel: 12, Width: 134, Height: 134}
	after := MustWriteScene(t, dir, "after.tif", g, s2Bands, func(b, r, c int) uint16 {
		if b == 7 {
			return 4
		}
		// The same land on the before scene's pixel coordinates.
		x := (g.X0 + (float64(c)+0.5)*g.Pixel - utm50.X0) / utm50.Pixel
		y := (utm50.Y0 - (g.Y0 - (float64(r)+0.5)*g.Pixel)) / utm50.Pixel
		if x >= 55 && x < 62 && y >= 55 && y < 62 {
			return uint16(roof[b] + 25*noise(2, b, r, c))
		}
		return uint16(1.08*s2Value(2, b, int(y), int(x)) + 120)
	})
	_, parcels := MustParcels(t, dir, utm50, changeParcels)
	res, err := Run(context.Background(), Inputs{
		Pipeline: builtin(t, "sentinel2"), Before: fileCapture(before), After: fileCapture(after),
		Parcels: parcels, Env: raster.Env{AllowLocalFiles: true},
	}, DirSink{Dir: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	if res.GridGeoTransform != [6]float64{utm50.X0, 10, 0, utm50.Y0, 0, -10} {
		t.Errorf("grid %v, want the before scene's", res.GridGeoTransform)
	}
	var changes []Finding
	for _, f := range res.Findings {
		t.Logf("finding %s %s %s score %.3f area %.0f", f.ParcelID, f.Detect.Kind, f.Detect.Class, f.Detect.Score, f.AreaM2)
		if f.Detect.Kind == detect.KindChange {
			changes = append(changes, f)
		}
	}
	if len(changes) != 1 || changes[0].ParcelID != "A" {
		t.Fatalf("%d changes, want the roof in parcel A", len(changes))
	}
	if a := changes[0].AreaM2; a < 3000 || a > 6500 {
		t.Errorf("area %.0f m², want about 4900 (7 × 7 pixels, widened by resampling)", a)
	}
}

// TestRunWindows: parcels far apart are processed in separate windows, and a window
// outside the scene is skipped; the roof in parcel A is still the only finding.
func TestRunWindows(t *testing.T) {
	RequireGDALTools(t)
	dir := t.TempDir()
	before, after := changePair(t, dir)
	// "far" lies 50 km east of the scene.
	_, parcels := MustParcels(t, dir, utm50, map[string][4]int{"A": {40, 40, 40, 40}, "B": {100, 20, 10, 10}, "far": {5000, 40, 10, 10}})
	for _, tc := range []struct {
		name     string
		maxSide  float64
		wantWins int
	}{
		{"default", 0, 1},         // A and B together; far skipped
		{"small windows", 300, 2}, // A, B apart; far skipped
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), Inputs{
				Pipeline: builtin(t, "sentinel2"), Before: fileCapture(before), After: fileCapture(after),
				Parcels: parcels, Env: raster.Env{AllowLocalFiles: true}, MaxWindowM: tc.maxSide,
			}, DirSink{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Windows != tc.wantWins {
				t.Errorf("%d windows, want %d", res.Windows, tc.wantWins)
			}
			if len(res.Findings) != 1 || res.Findings[0].ParcelID != "A" {
				t.Errorf("%d findings, want the roof in parcel A", len(res.Findings))
			}
		})
	}
	// Only parcels outside the scene: an error naming the scene.
	_, err := Run(context.Background(), Inputs{
		Pipeline: builtin(t, "sentinel2"), Before: fileCapture(before), After: fileCapture(after),
		Parcels: parcels[2:], Env: raster.Env{AllowLocalFiles: true},
	}, DirSink{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "before.tif") || !strings.Contains(err.Error(), "misses the scene") {
		t.Errorf("parcels outside the scene: got %v", err)
	}
}
