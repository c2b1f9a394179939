package detect

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
)

var airColumns = TrackColumns{
	WindSpeed: "ws", WindDir: "wd",
	Readings: []ReadingColumn{
		{Pollutant: "pm25", Unit: "µg/m³"},
		{Pollutant: "vocs", Column: "voc", UnitColumn: "voc_unit"},
	},
}

func TestParseTrackCSVProblems(t *testing.T) {
	in := `time,lon,lat,ws,wd,pm25,voc,voc_unit
2024-05-01T08:00:00Z,120.1,30.2,2,270,35,0.5,mg/m3
2024-05-01T08:00:00Z,120.1,30.2,2,270,35,500,ug/m3
2024-05-01T07:59:00Z,120.1,30.2,2,270,35,500,ug/m3
2024-05-01T08:02:00Z,200,30.2,2,270,35,500,ug/m3
2024-05-01T08:03:00Z,120.1,30.2,2,270,abc,500,ug/m3
2024-05-01T08:04:00Z,120.1,30.2,2,270,35,500,furlongs
2024-05-01T08:05:00Z,0,0,2,270,35,500,ug/m3
yesterday,120.1,30.2,2,270,35,500,ug/m3
2024-05-01T08:06:00Z,120.1,30.2,2,400,35,500,ug/m3
`
	_, err := ParseTrackCSV(strings.NewReader(in), airColumns)
	var te *TrackError
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want a *TrackError", err)
	}
	want := []TrackProblem{
		{3, "time", "duplicate time 2024-05-01T08:00:00Z (also line 2)"},
		{4, "time", "time 2024-05-01T07:59:00Z before line 2's 2024-05-01T08:00:00Z (unsorted)"},
		{5, "lon", "longitude 200 out of range"},
		{6, "pm25", `not a number: "abc"`},
		{7, "voc_unit", `unknown unit "furlongs"`},
		{8, "lon", "coordinates 0,0 (no fix)"},
		{9, "time", `bad time "yesterday"`},
		{10, "wd", "wind direction 400 out of range [0,360]"},
	}
	if diff := cmp.Diff(want, te.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), "line 3, column time: duplicate time") {
		t.Errorf("message %q", err)
	}
}

func TestParseTrackUnits(t *testing.T) {
	in := "time,lon,lat,ws,wd,pm25,voc,voc_unit\n" +
		"2024-05-01T08:00:00Z,120.1,30.2,2,270,35,0.5,mg/m3\n" +
		"2024-05-01T08:00:10Z,120.1,30.2,2,270,36,480,ug/m3\n"
	tr, err := ParseTrackCSV(strings.NewReader(in), airColumns)
	if err != nil {
		t.Fatal(err)
	}
	v0, _ := tr.Points[0].Readings.Get("vocs")
	v1, _ := tr.Points[1].Readings.Get("vocs")
	got := []float64{v0, v1}
	if diff := cmp.Diff([]float64{500, 480}, got); diff != "" {
		t.Errorf("vocs in µg/m³ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"pm25": "ug/m3", "vocs": "ug/m3"}, tr.Units); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	v, u, err := convertUnit("so2", 10, "ppb")
	if err != nil || u != "ug/m3" || math.Abs(v-26.2) > 0.05 {
		t.Errorf("10 ppb so2 = %v %s, %v; want 26.2 ug/m3", v, u, err)
	}
}

func TestParseTrackGeoJSON(t *testing.T) {
	in := `{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[120.1,30.2]},"properties":{"time":"2024-05-01T08:00:00Z","turbidity":12}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[120.1,30.3]},"properties":{"time":"2024-05-01T08:01:00Z","turbidity":"n/a"}},
{"type":"Feature","geometry":{"type":"LineString","coordinates":[[120.1,30.3],[120.2,30.3]]},"properties":{"time":"2024-05-01T08:02:00Z"}}]}`
	_, err := ParseTrackGeoJSON(strings.NewReader(in), TrackColumns{Readings: []ReadingColumn{{Pollutant: "turbidity", Unit: "NTU"}}})
	var te *TrackError
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want a *TrackError", err)
	}
	want := []TrackProblem{{2, "turbidity", "no value (n/a)"}, {3, "geometry", "is a LineString, want a Point"}}
	if diff := cmp.Diff(want, te.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// squareParcel is a 100 m square parcel centred dx, dy metres from (120, 30).
func squareParcel(id string, dx, dy float64) Parcel {
	const m = 1 / 111195.0
	kx := m / math.Cos(30*math.Pi/180)
	cx, cy := 120+dx*kx, 30+dy*m
	b := orb.Bound{Min: orb.Point{cx - 50*kx, cy - 50*m}, Max: orb.Point{cx + 50*kx, cy + 50*m}}
	return Parcel{ID: id, Geometry: b.ToPolygon()}
}

// vehicleTrack drives east along latitude 30 at 10 m/s from x = -1000 m, one reading every
// 10 s; VOCs peak at x = peakX with the given wind.
func vehicleTrack(n int, peakX, windFrom, windSpeed float64) string {
	var b strings.Builder
	b.WriteString("time,lon,lat,ws,wd,vocs\n")
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	kx := 1 / 111195.0 / math.Cos(30*math.Pi/180)
	for i := 0; i < n; i++ {
		x := -1000 + 100*float64(i)
		v := 40 + 3*math.Sin(float64(i))
		v += 400 * math.Exp(-(x-peakX)*(x-peakX)/(2*80*80))
		fmt.Fprintf(&b, "%s,%.7f,30,%.1f,%.0f,%.2f\n", t0.Add(time.Duration(i)*10*time.Second).Format(time.RFC3339), 120+x*kx, windSpeed, windFrom, v)
	}
	return b.String()
}

func TestDetectTrackAir(t *testing.T) {
	cols := TrackColumns{WindSpeed: "ws", WindDir: "wd", Readings: []ReadingColumn{{Pollutant: "vocs", Unit: "ug/m3"}}}
	params := TrackParams{Medium: MediumAir, Limits: map[string]float64{"vocs": 200}}
	// Plant north of the peak (wind from the north), a decoy south (downwind) and one far.
	parcels := []Parcel{squareParcel("plant", 0, 300), squareParcel("decoy", 0, -200), squareParcel("far", 0, 3000)}
	tests := []struct {
		name      string
		csv       string
		wantKinds []string
		wantFirst string
	}{
		// The exceedance and the hotspot of one plume are one event, one finding.
		{"north wind", vehicleTrack(21, 0, 0, 3), []string{KindExceedance}, "plant"},
		{"south wind", vehicleTrack(21, 0, 180, 3), []string{KindExceedance}, "decoy"},
		{"calm", vehicleTrack(21, 0, 0, 0.2), []string{KindExceedance}, "decoy"},
		{"one point", vehicleTrack(1, 5000, 0, 3), nil, ""},
		{"one point above the limit", vehicleTrack(1, -1000, 0, 3)[:0] + "time,lon,lat,ws,wd,vocs\n2024-05-01T08:00:00Z,120,30,3,0,500\n", []string{KindExceedance}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := ParseTrackCSV(strings.NewReader(tc.csv), cols)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := DetectTrack(tr, params, parcels)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, f := range fs {
				kinds = append(kinds, f.Kind)
			}
			if diff := cmp.Diff(tc.wantKinds, kinds); diff != "" {
				t.Fatalf("kinds (-want +got):\n%s", diff)
			}
			if tc.wantFirst == "" {
				return
			}
			for _, f := range fs {
				if len(f.Parcels) == 0 || f.Parcels[0].ParcelID != tc.wantFirst {
					t.Errorf("%s attributed to %+v, want %s first", f.Kind, f.Parcels, tc.wantFirst)
				} else if f.Parcels[0].Reason == "" {
					t.Error("no reason")
				}
			}
		})
	}
}

func TestDetectTrackWater(t *testing.T) {
	in := vehicleTrack(21, 200, 0, 0)
	in = strings.Replace(in, "vocs", "cod", 1)
	tr, err := ParseTrackCSV(strings.NewReader(in), TrackColumns{Readings: []ReadingColumn{{Pollutant: "cod", Unit: "mg/L"}}})
	if err != nil {
		t.Fatal(err)
	}
	parcels := []Parcel{squareParcel("outfall", 200, 120), squareParcel("inland", 200, 900)}
	fs, err := DetectTrack(tr, TrackParams{Medium: MediumWater, Limits: map[string]float64{"cod": 100}}, parcels)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range fs {
		if len(f.Parcels) != 1 || f.Parcels[0].ParcelID != "outfall" {
			t.Errorf("%s %s attributed to %+v, want outfall only", f.Kind, f.Class, f.Parcels)
		}
	}
}

// TestParseTrackForgiving reads tracks a user brings: local times in a named zone, bad rows
// skipped and reported up to the pipeline's share, particle numbers and ppm.
func TestParseTrackForgiving(t *testing.T) {
	cols := TrackColumns{TimeLayout: "2006-01-02 15:04:05", TimeZone: "Asia/Shanghai", MaxBadShare: 0.3,
		Readings: []ReadingColumn{{Pollutant: "pn", Unit: "#/cm³"}, {Pollutant: "vocs", Unit: "ppm", MolarMass: 56.11}}}
	in := "time,lon,lat,pn,vocs\n" +
		"2026-06-01 08:00:00,120.1,30.2,12000,0.5\n" +
		"2026-06-01 08:00:01,120.1,30.2,NA,0.5\n" +
		"2026-06-01 08:00:02,120.1,30.2,12500,-0.02\n" +
		"2026-06-01 08:00:03,120.1,30.2,12600,0.6\n" +
		"2026-06-01 08:00:04,120.1,30.2,12700,0.7\n" +
		"2026-06-01 08:00:05,120.1,30.2,12800,0.8\n" +
		"2026-06-01 08:00:06,120.1,30.2,12900,0.9\n"
	tr, err := ParseTrackCSV(strings.NewReader(in), cols)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC); !tr.Points[0].Time.Equal(want) {
		t.Errorf("first time %v, want %v (08:00 in Shanghai)", tr.Points[0].Time, want)
	}
	want := []TrackProblem{{3, "pn", "no value (NA)"}, {4, "vocs", "negative reading -0.02"}}
	if diff := cmp.Diff(want, tr.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if len(tr.Points) != 5 || tr.Rows != 7 || tr.SkippedRows != 2 {
		t.Errorf("%d points of %d rows, %d skipped; want 5 of 7, 2", len(tr.Points), tr.Rows, tr.SkippedRows)
	}
	if diff := cmp.Diff(map[string]string{"pn": "#/cm3", "vocs": "ug/m3"}, tr.Units); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	if v, _ := tr.Points[0].Readings.Get("vocs"); math.Abs(v-0.5*1000*56.11/24.45) > 1e-6 {
		t.Errorf("0.5 ppm of VOCs as isobutylene = %v µg/m³", v)
	}
	// Beyond the share the track is refused, naming every bad line.
	cols.MaxBadShare = 0.2
	_, err = ParseTrackCSV(strings.NewReader(in), cols)
	var te *TrackError
	if !errors.As(err, &te) || te.BadRows != 2 || !strings.Contains(err.Error(), "2 of 7 rows bad: line 3, column pn: no value (NA); line 4") {
		t.Errorf("got %v, want the track refused naming lines 3 and 4", err)
	}
	cols.TimeZone = "Mars/Olympus"
	if err := cols.Validate(); err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Errorf("unknown zone: %v", err)
	}
}
