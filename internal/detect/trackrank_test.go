package detect

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
)

// square is a side×side parcel centred at (x, y) in local metres.
func square(id string, x, y, side float64) Parcel {
	h := side / 2
	return Parcel{ID: id, Geometry: orb.Bound{Min: orb.Point{x - h, y - h}, Max: orb.Point{x + h, y + h}}.ToPolygon()}
}

// TestRankCandidates ranks parcels around an event at the origin with a north wind (the
// plume comes from the north), or without wind.
func TestRankCandidates(t *testing.T) {
	p := TrackParams{Medium: MediumAir, PlumeStability: "B", WidthLogSD: 0.3}.withDefaults()
	tests := []struct {
		name        string
		parcels     []Parcel
		directional bool
		width       float64
		wantOrder   []string
		wantTopMin  float64 // least share of the first
		wantTopMax  float64 // most share of the first
	}{
		{"upwind on the wind line beats off it", []Parcel{square("off", 150, 300, 60), square("on", 0, 300, 60)}, true, 0, []string{"on", "off"}, 0.5, 1},
		{"downwind explains nothing", []Parcel{square("down", 0, -300, 60)}, true, 0, nil, 0, 0},
		{"far off the line is no candidate", []Parcel{square("side", 600, 100, 60)}, true, 0, nil, 0, 0},
		{"two alike share the explanation", []Parcel{square("a", -15, 300, 60), square("b", 15, 300, 60)}, true, 0, []string{"a", "b"}, 0.3, 0.5},
		{"a wide plume points at the far parcel on the line", []Parcel{square("near", 0, 120, 60), square("far", 0, 600, 60)}, true, 100, []string{"far"}, 0.3, 1},
		{"a narrow plume points at the near parcel", []Parcel{square("near", 0, 120, 60), square("far", 0, 600, 60)}, true, 25, []string{"near"}, 0.5, 1},
		{"without wind the nearest first", []Parcel{square("near", 100, 0, 60), square("far", 0, -250, 60)}, false, 0, []string{"near", "far"}, 0.5, 1},
		{"without wind beyond calm_distance_m none", []Parcel{square("far", 0, -500, 60)}, false, 0, nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, other := rankCandidates(orb.Point{0, 0}, tc.width, tc.parcels, tc.directional, 0, "test", p)
			var ids []string
			sum := other
			for i, m := range got {
				ids = append(ids, m.ParcelID)
				sum += m.Share
				if m.Rank != i+1 || m.Reason == "" || m.Directional != tc.directional {
					t.Errorf("candidate %d: %+v", i, m)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantOrder, ",") {
				t.Fatalf("order %v, want %v (%+v)", ids, tc.wantOrder, got)
			}
			if len(got) > 0 && (got[0].Share < tc.wantTopMin || got[0].Share > tc.wantTopMax) {
				t.Errorf("top share %.3f, want in [%g, %g]", got[0].Share, tc.wantTopMin, tc.wantTopMax)
			}
			if len(got) == len(tc.parcels) && math.Abs(sum-1) > 1e-9 {
				t.Errorf("shares and the other source's sum to %v, want 1", sum)
			}
		})
	}
}

func TestWindowMeans(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	mk := func(n int, step time.Duration, v func(i int) float64) (*Track, []int, []float64) {
		tr := &Track{}
		var idx []int
		var vals []float64
		for i := 0; i < n; i++ {
			tr.Points = append(tr.Points, TrackPoint{Time: t0.Add(time.Duration(i) * step)})
			idx = append(idx, i)
			vals = append(vals, v(i))
		}
		return tr, idx, vals
	}
	tests := []struct {
		name   string
		n      int
		step   time.Duration
		v      func(int) float64
		window time.Duration
		limit  float64
		events int
	}{
		// A 1 s spike far above an hourly limit is no hourly exceedance.
		{"spike in an hour", 3600 * 2, time.Second, func(i int) float64 {
			if i == 5000 {
				return 100000
			}
			return 100
		}, time.Hour, 500, 0},
		// Readings above the limit for two hours are.
		{"two hours above", 3600 * 3, time.Second, func(i int) float64 {
			if i >= 3600 {
				return 800
			}
			return 100
		}, time.Hour, 500, 1},
		// Half an hour of readings is no hourly mean at all.
		{"too short to assess", 1800, time.Second, func(int) float64 { return 900 }, time.Hour, 500, 0},
		// A minute window: the spike minute exceeds.
		{"minute window", 600, time.Second, func(i int) float64 {
			if i >= 300 && i < 360 {
				return 1000
			}
			return 10
		}, time.Minute, 500, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, idx, vals := mk(tc.n, tc.step, tc.v)
			means := windowMeans(tr, idx, vals, tc.window)
			if got := len(exceedanceEvents(tr, idx, means, tc.limit, 2*time.Minute)); got != tc.events {
				t.Errorf("%d events, want %d", got, tc.events)
			}
		})
	}
}

// TestDetectTrackLimitUnitsAndWindows: a limit in another unit is converted, or refused
// when the readings measure something else; a one-hour limit ignores a short spike.
func TestDetectTrackLimitUnitsAndWindows(t *testing.T) {
	var b strings.Builder
	b.WriteString("time,lon,lat,vocs,so2\n")
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 2*3600; i += 5 {
		voc, so2 := 0.2, 20.0
		if i >= 4000 && i < 4060 {
			voc, so2 = 3, 3000 // a minute's spike
		}
		fmt.Fprintf(&b, "%s,%.6f,30,%g,%g\n", t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339), 120+float64(i)*1e-5, voc, so2)
	}
	csv := b.String()
	tests := []struct {
		name      string
		molar     float64
		params    TrackParams
		wantErr   string
		wantPeaks map[string]bool // pollutants with an exceedance
	}{
		{"ppm without molar mass against a µg/m³ limit", 0,
			TrackParams{Medium: MediumAir, Limits: map[string]float64{"vocs": 1}, LimitUnits: map[string]string{"vocs": "mg/m3"}},
			"limit_units.vocs: the limit is in mg/m3 (ug/m3) but the track's vocs readings are in ppb", nil},
		{"ppm with molar mass against a mg/m³ limit", 56.11,
			TrackParams{Medium: MediumAir, Limits: map[string]float64{"vocs": 1}, LimitUnits: map[string]string{"vocs": "mg/m3"}},
			"", map[string]bool{"vocs": true}},
		{"one-hour so2 limit ignores a minute's spike", 56.11,
			TrackParams{Medium: MediumAir, Limits: map[string]float64{"so2": 500}, LimitWindows: map[string]time.Duration{"so2": time.Hour}},
			"", map[string]bool{}},
		{"the same limit on single readings does not", 56.11,
			TrackParams{Medium: MediumAir, Limits: map[string]float64{"so2": 500}},
			"", map[string]bool{"so2": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cols := TrackColumns{Readings: []ReadingColumn{{Pollutant: "vocs", Unit: "ppm", MolarMass: tc.molar}, {Pollutant: "so2", Unit: "ug/m3"}}}
			tr, err := ParseTrackCSV(strings.NewReader(csv), cols)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := DetectTrack(tr, tc.params, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, f := range fs {
				if f.Kind == KindExceedance {
					got[f.Pollutant] = true
				}
			}
			if diff := cmp.Diff(tc.wantPeaks, got); diff != "" {
				t.Errorf("exceedances (-want +got):\n%s", diff)
			}
		})
	}
}
