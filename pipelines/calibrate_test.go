package pipelines

import (
	"strings"
	"testing"
)

func TestDetectorCalibrate(t *testing.T) {
	d := Detector{ScoreCalibration: [][2]float64{{0.2, 0.1}, {0.6, 0.3}, {1, 0.9}}}
	for _, tc := range []struct{ raw, want float64 }{
		{0, 0.1}, {0.2, 0.1}, {0.4, 0.2}, {0.6, 0.3}, {0.8, 0.6}, {1, 0.9},
	} {
		if got := d.Calibrate(tc.raw); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("Calibrate(%g) = %g, want %g", tc.raw, got, tc.want)
		}
	}
	if got := (&Detector{}).Calibrate(0.37); got != 0.37 {
		t.Errorf("no calibration: %g, want the raw 0.37", got)
	}
}

func TestParseScoreCalibration(t *testing.T) {
	base := "kind: sentinel2\nbands:\n  red: {band: B04}\n  nir: {band: B08}\ndetectors:\n  - type: change\n"
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{"ascending", base + "    score_calibration: [[0, 0.1], [1, 0.9]]\n", ""},
		{"descending", base + "    score_calibration: [[0, 0.5], [1, 0.4]]\n", "score_calibration[1]"},
		{"out of range", base + "    score_calibration: [[0, 1.5]]\n", "score_calibration[0]"},
	} {
		_, err := Parse("x.yaml", []byte(tc.yaml))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.wantErr)
		}
	}
}
