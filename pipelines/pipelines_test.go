package pipelines

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/detect"
)

func TestBuiltin(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range []string{"boat-track", "drone-ms", "drone-rgb", "landsat", "sentinel2", "vehicle-track"} {
		p, ok := ps[n]
		if !ok {
			t.Errorf("no %s pipeline", n)
			continue
		}
		if p.Kind != n {
			t.Errorf("%s: kind %q", n, p.Kind)
		}
		names = append(names, n)
	}
	if len(ps) != len(names) {
		t.Errorf("got %d pipelines, want %d", len(ps), len(names))
	}
	s2 := ps["sentinel2"]
	if d := s2.Detector(TypeChange); d == nil || d.Change.Probability != 0.9999 || d.Change.MinPixels != 8 {
		t.Errorf("sentinel2 change params %+v", d)
	}
	// Without metadata, no offset (the capture's BOA_ADD_OFFSET or raster:bands give one).
	if got := s2.Bands[detect.BandRed].Apply(500); got < 0.0499 || got > 0.0501 {
		t.Errorf("B04 500 → %v, want 0.05", got)
	}
	content, _ := builtin.ReadFile("sentinel2.yaml")
	sum := sha256.Sum256(content)
	if got, want := s2.Hash(), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("hash %s, want %s", got, want)
	}
	vt := ps["vehicle-track"].Detector(TypeTrack).Track
	if vt.BackgroundWindow != 10*time.Minute || vt.Limits["vocs"] != 1000 {
		t.Errorf("vehicle-track params %+v", vt)
	}
	sev := ps["sentinel2"].Detector(TypeHotspot).Severity(detect.Finding{Class: detect.ClassThermal, Status: detect.StatusNew, Score: 0.9})
	if sev != "high" {
		t.Errorf("new hotspot severity %q, want high", sev)
	}
}

const good = `kind: sentinel2
bands:
  red: {band: B04, scale: 0.0001}
  green: {band: B03, scale: 0.0001}
  blue: {band: B02, scale: 0.0001}
  nir: {band: B08, scale: 0.0001}
  swir1: {band: B11, scale: 0.0001}
  swir2: {band: B12, scale: 0.0001}
detectors:
  - type: change
    params: {probability: 0.99}
  - type: hotspot
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"good", good, ""},
		{"unknown top key", good + "colour: red\n", "pipelines: p.yaml:13: colour: unknown key"},
		{"unknown param", strings.Replace(good, "{probability: 0.99}", "{probability: 0.99, treshold: 3}", 1), "pipelines: p.yaml:11: detectors[0].params.treshold: unknown key"},
		{"bad threshold", strings.Replace(good, "0.99}", "1.5}", 1), "pipelines: p.yaml:11: detectors[0].params.probability: must be in (0,1)"},
		{"bad second detector", good + "    params: {min_contrast: -1}\n", "pipelines: p.yaml:13: detectors[1].params.min_contrast: must be >= 0"},
		{"unknown detector", strings.Replace(good, "type: hotspot", "type: lasers", 1), `pipelines: p.yaml:12: detectors[1].type: unknown detector type "lasers"`},
		{"missing band", strings.Replace(good, "  swir2: {band: B12, scale: 0.0001}\n", "", 1), `pipelines: p.yaml:11: detectors[1].type: a hotspot detector needs band "swir2"`},
		{"unknown role", strings.Replace(good, "  red:", "  infrared:", 1), "pipelines: p.yaml:3: bands.infrared: unknown band role"},
		{"unknown kind", strings.Replace(good, "sentinel2", "sentinel9", 1), `pipelines: p.yaml:1: kind: unknown capture kind "sentinel9"`},
		{"track detector on raster", strings.Replace(good, "type: hotspot", "type: track", 1), "pipelines: p.yaml:12: detectors[1].type: a track detector does not run on sentinel2 captures"},
		{"bad severity", good + "    warnings: [{severity: urgent}]\n", "pipelines: p.yaml:12: detectors[1].warnings[0].severity: must be one of info, low, medium, high"},
		{"bad report threshold", good + "    report_min_score: 1.2\n", "pipelines: p.yaml:12: detectors[1].report_min_score: must be in [0,1]"},
		{"bad optional", strings.Replace(good, "{band: B12, scale: 0.0001}", "{band: B12, optional: maybe}", 1), "pipelines: p.yaml: "},
		{"not yaml", "kind: [", "pipelines: p.yaml: "},
		{"bad track limit", `kind: vehicle-track
columns:
  readings: [{pollutant: vocs, unit: ug/m3}]
detectors:
  - type: track
    params: {medium: air, limits: {vocs: -5}}
`, "pipelines: p.yaml:6: detectors[0].params.limits.vocs: must be > 0"},
		{"bad track unit", `kind: vehicle-track
columns:
  readings: [{pollutant: vocs, unit: furlongs}]
detectors:
  - type: track
    params: {medium: air}
`, `pipelines: p.yaml: columns.readings[0].unit: unknown unit "furlongs"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(fstest.MapFS{"p.yaml": {Data: []byte(tc.yaml)}})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tc.want == "" {
				if diff := cmp.Diff("", got); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("error %q, want prefix %q", got, tc.want)
			}
		})
	}
}

func TestBuiltinFileNames(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if got := ps["sentinel2"].File; got != "pipelines/sentinel2.yaml" {
		t.Errorf("File %q, want pipelines/sentinel2.yaml", got)
	}
	_, err = Parse("pipelines/sentinel2.yaml", []byte(strings.Replace(good, "{probability: 0.99}", "{probability: 2}", 1)))
	want := "pipelines: pipelines/sentinel2.yaml:11: detectors[0].params.probability: must be in (0,1)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
