package pipelines

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/detect"
)

func TestNewGridAndRunRaster(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p := ps["sentinel2"]
	const w, h = 64, 64
	gt := [6]float64{500000, 10, 0, 4000000, 0, -10}
	// Digital numbers without offset (reflectance × 10000), as the pipeline reads a capture
	// whose metadata gives none.
	dn := map[string]float32{"B02": 400, "B03": 700, "B04": 900, "B08": 2500, "B8A": 2400, "B11": 2200, "B12": 1600}
	mk := func(hot bool) map[string][]float32 {
		bands := map[string][]float32{}
		for k, name := range []string{"B02", "B03", "B04", "B08", "B8A", "B11", "B12"} {
			v := dn[name]
			s := make([]float32, w*h)
			for i := range s {
				s[i] = v + float32((i*7919+k*31)%97) + float32((i*k)%13) // texture
			}
			bands[name] = s
		}
		scl := make([]float32, w*h)
		for i := range scl {
			scl[i] = 5
		}
		bands["SCL"] = scl
		if hot {
			for _, i := range []int{20*w + 20, 20*w + 21, 21*w + 20, 21*w + 21} {
				bands["B8A"][i], bands["B11"][i], bands["B12"][i] = 2800, 15000, 21000
			}
		}
		return bands
	}
	raw := mk(false)
	want := raw["B04"][0] * 0.0001
	before, err := p.NewGrid(w, h, gt, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := before.Band(detect.BandRed)[0]; got < want-1e-6 || got > want+1e-6 {
		t.Errorf("red reflectance %v, want %v", got, want)
	}
	after, err := p.NewGrid(w, h, gt, mk(true), nil)
	if err != nil {
		t.Fatal(err)
	}
	parcel := detect.Parcel{ID: "kiln", Geometry: orb.Bound{Min: orb.Point{500150, 3999700}, Max: orb.Point{500300, 3999850}}.ToPolygon()}
	fs, err := p.RunRaster(before, after, []detect.Parcel{parcel}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var hot []detect.Finding
	for _, f := range fs {
		if f.Kind == detect.KindHotspot {
			hot = append(hot, f)
		}
	}
	if len(hot) != 1 || hot[0].Status != detect.StatusNew || hot[0].Parcels[0].ParcelID != "kiln" {
		t.Errorf("hotspots %+v, want one new hotspot in parcel kiln", hot)
	}
	if _, err := p.NewGrid(w, h, gt, map[string][]float32{}, nil); err == nil {
		t.Error("missing bands: no error")
	}
}

func TestRunTrack(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	in := "time,lon,lat,turbidity,cod,nh3n,tp\n" +
		"2026-06-02T02:00:00Z,120.1,31.2,15,12,0.5,0.1\n" +
		"2026-06-02T02:00:10Z,120.1001,31.2,15,45,0.5,0.1\n" +
		"2026-06-02T02:00:10Z,120.1002,31.2,15,12,0.5,0.1\n"
	_, _, err = ps["boat-track"].RunTrack(strings.NewReader(in), FormatCSV, nil)
	var te *detect.TrackError
	if !errors.As(err, &te) || te.Problems[0].Line != 4 {
		t.Fatalf("got %v, want a track error on line 4", err)
	}
	in = strings.Replace(in, "02:00:10Z,120.1002", "02:00:20Z,120.1002", 1)
	fs, _, err := ps["boat-track"].RunTrack(strings.NewReader(in), FormatCSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Kind != detect.KindExceedance || fs[0].Pollutant != "cod" {
		t.Errorf("findings %+v, want one cod exceedance", fs)
	}
	if _, _, err := ps["sentinel2"].RunTrack(strings.NewReader(in), FormatCSV, nil); err == nil {
		t.Error("track on a raster pipeline: no error")
	}
}

// TestDegradations runs the sentinel2 pipeline on grids without some of its optional bands:
// the detectors that need them are skipped with the reason, the change detector runs on the
// bands both dates have, and a required band stays required.
func TestDegradations(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p := ps["sentinel2"]
	const w, h = 32, 32
	gt := [6]float64{500000, 10, 0, 4000000, 0, -10}
	mk := func(names ...string) *detect.Grid {
		bands := map[string][]float32{}
		for k, n := range names {
			s := make([]float32, w*h)
			for i := range s {
				s[i] = 1500 + float32(k*300) + float32((i*7919+k*31)%97)
			}
			bands[n] = s
		}
		g, err := p.NewGrid(w, h, gt, bands, nil)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	calfire := []string{"B02", "B03", "B04", "B08", "B12"}
	cases := []struct {
		name          string
		before, after *detect.Grid
		want          []Degradation
	}{
		{"every band", mk("B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"), mk("B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"), nil},
		{"no SCL, no B8A", mk("B02", "B03", "B04", "B08", "B11", "B12"), mk("B02", "B03", "B04", "B08", "B11", "B12"), nil},
		{"CAL FIRE bands", mk(calfire...), mk(calfire...), []Degradation{
			{Detector: "change", Reason: "runs on blue, green, red, nir, swir2 without swir1: the capture lacks B11 (swir1)"},
			{Detector: "hotspot", Skipped: true, Reason: `a hotspot detector needs band "swir1"; the capture lacks B8A (nir_narrow), B11 (swir1)`},
		}},
		{"B11 on one date only", mk("B02", "B03", "B04", "B08", "B11", "B12"), mk(calfire...), []Degradation{
			{Detector: "change", Reason: "runs on blue, green, red, nir, swir2 without swir1: the capture lacks B11 (swir1)"},
			{Detector: "hotspot", Skipped: true, Reason: `a hotspot detector needs band "swir1"; the capture lacks B8A (nir_narrow), B11 (swir1)`},
		}},
		{"single date without SWIR", nil, mk("B02", "B03", "B04", "B08"), []Degradation{
			{Detector: "hotspot", Skipped: true, Reason: `a hotspot detector needs band "swir1"; the capture lacks B8A (nir_narrow), B11 (swir1), B12 (swir2)`},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, p.Degradations(tc.before, tc.after)); diff != "" {
				t.Errorf("degradations (-want +got):\n%s", diff)
			}
			// RunRaster runs what the plan keeps, without failing on the missing bands.
			if _, err := p.RunRaster(tc.before, tc.after, nil, 1); err != nil {
				t.Errorf("RunRaster: %v", err)
			}
		})
	}
	if _, err := p.NewGrid(w, h, gt, map[string][]float32{"B02": make([]float32, w*h)}, nil); err == nil || !strings.Contains(err.Error(), `no band "B03"`) {
		t.Errorf("required band missing: %v, want an error naming B03", err)
	}
	// The capture's own scale and offset replace the pipeline's defaults, role by role.
	one := func() []float32 { return []float32{1000} }
	g, err := p.NewGridCalibrated(1, 1, gt, map[string][]float32{"B02": one(), "B03": one(), "B04": one(), "B08": one()}, nil,
		map[string]BandMap{detect.BandRed: {Scale: 0.0001, Offset: -0.1}})
	if err != nil {
		t.Fatal(err)
	}
	if red, blue := g.Band(detect.BandRed)[0], g.Band(detect.BandBlue)[0]; math.Abs(float64(red)) > 1e-6 || math.Abs(float64(blue)-0.1) > 1e-6 {
		t.Errorf("red %v (capture's offset -0.1), blue %v (pipeline's × 0.0001, no offset): want 0 and 0.1", red, blue)
	}
}
