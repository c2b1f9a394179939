package pipelines

import (
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/detect"
)

// TestSeverity checks that warnings weigh class, score and area, and that a change no class
// rule explains (other_change) is never above low, whatever a pipeline's rules say.
func TestSeverity(t *testing.T) {
	p, err := Parse("sev.yaml", []byte(`kind: sentinel2
bands: {red: {band: B04}, green: {band: B03}, blue: {band: B02}, nir: {band: B08}}
detectors:
  - type: change
    warnings:
      - {classes: [burn], min_score: 0.5, min_area_m2: 10000, severity: high}
      - {classes: [burn], min_score: 0.3, severity: medium}
      - {min_score: 0.5, severity: high}
      - {min_score: 0.3, severity: low}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Detector(TypeChange)
	tests := []struct {
		class string
		score float64
		area  float64
		want  string
	}{
		{detect.ClassBurn, 0.8, 50000, "high"},
		{detect.ClassBurn, 0.8, 5000, "medium"}, // too small for high
		{detect.ClassBurn, 0.2, 50000, ""},
		{detect.ClassNewStructure, 0.9, 100, "high"},
		{detect.ClassOtherChange, 0.9, 1e6, "low"}, // the catch-all says high: capped
		{detect.ClassOtherChange, 0.35, 100, "low"},
		{detect.ClassOtherChange, 0.1, 100, ""},
	}
	for _, tc := range tests {
		got := d.Severity(detect.Finding{Class: tc.class, Score: tc.score, Area: tc.area})
		if got != tc.want {
			t.Errorf("%s score %.2f area %.0f m²: severity %q, want %q", tc.class, tc.score, tc.area, got, tc.want)
		}
	}
	_, err = Parse("bad.yaml", []byte(`kind: sentinel2
bands: {red: {band: B04}, green: {band: B03}, blue: {band: B02}, nir: {band: B08}}
detectors:
  - type: change
    warnings:
      - {min_area_m2: -1, severity: high}
`))
	if err == nil || !strings.Contains(err.Error(), "detectors[0].warnings[0].min_area_m2: must be >= 0") {
		t.Errorf("negative min_area_m2: error %v", err)
	}
}
