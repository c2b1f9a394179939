package detect

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var limitCols = TrackColumns{Readings: []ReadingColumn{{Pollutant: "vocs", Unit: "ug/m3"}}}

// limitTrack returns n rows of a valid track as CSV or GeoJSON; bad makes every reading
// "x".
func limitTrack(n int, geojson, bad bool) string {
	var b strings.Builder
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if geojson {
		b.WriteString(`{"bbox":[120,30,121,31],"type":"FeatureCollection","crs":{"type":"name"},"features":[`)
	} else {
		b.WriteString("time,lon,lat,vocs\n")
	}
	for i := range n {
		v := fmt.Sprint(40 + i%7)
		if bad {
			v = `"x"`
		}
		ts := t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		if geojson {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"type":"Feature","geometry":{"type":"Point","coordinates":[120.1,30.2]},"properties":{"time":%q,"vocs":%s,"other":{"a":[1,2]}}}`, ts, v)
		} else {
			fmt.Fprintf(&b, "%s,120.1,30.2,%s\n", ts, strings.Trim(v, `"`))
		}
	}
	if geojson {
		b.WriteString("]}")
	}
	return b.String()
}

func parseLimitTrack(in string, geojson bool, cols TrackColumns) (*Track, error) {
	if geojson {
		return ParseTrackGeoJSON(strings.NewReader(in), cols)
	}
	return ParseTrackCSV(strings.NewReader(in), cols)
}

// A track longer than MaxRows is refused at the row past it; one bad value per row gives a
// bounded list of problems and a count of the rest.
func TestTrackLimits(t *testing.T) {
	for _, geojson := range []bool{false, true} {
		name := map[bool]string{false: "csv", true: "geojson"}[geojson]
		t.Run(name+" rows", func(t *testing.T) {
			cols := limitCols
			cols.MaxRows = 100
			if tr, err := parseLimitTrack(limitTrack(100, geojson, false), geojson, cols); err != nil || len(tr.Points) != 100 {
				t.Fatalf("100 rows: %v", err)
			}
			_, err := parseLimitTrack(limitTrack(150, geojson, false), geojson, cols)
			var te *TrackError
			if !errors.As(err, &te) || len(te.Problems) != 1 || !strings.Contains(te.Problems[0].Problem, "more than 100 rows") {
				t.Fatalf("150 rows: %v", err)
			}
		})
		t.Run(name+" problems", func(t *testing.T) {
			_, err := parseLimitTrack(limitTrack(5000, geojson, true), geojson, limitCols)
			var te *TrackError
			if !errors.As(err, &te) {
				t.Fatalf("got %v", err)
			}
			if len(te.Problems) != maxTrackProblems || te.More != 5000-maxTrackProblems {
				t.Errorf("%d problems kept, %d more; want %d and %d", len(te.Problems), te.More, maxTrackProblems, 5000-maxTrackProblems)
			}
			if !strings.HasSuffix(err.Error(), "; and 4990 more") {
				t.Errorf("message ends %q", err.Error()[max(0, len(err.Error())-40):])
			}
		})
	}
	if c := limitCols.withDefaults(); c.MaxRows != DefaultMaxTrackRows {
		t.Errorf("default MaxRows %d", c.MaxRows)
	}
	if err := (TrackColumns{Readings: limitCols.Readings, MaxRows: -1}).Validate(); err == nil {
		t.Error("negative max_rows accepted")
	}
}

// Streamed GeoJSON: foreign members anywhere, a collection that is something else refused,
// times keep their offsets.
func TestParseTrackGeoJSONStream(t *testing.T) {
	tr, err := parseLimitTrack(limitTrack(3, true, false), true, limitCols)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := tr.Points[2].Readings.Get("vocs")
	if len(tr.Points) != 3 || !ok || v != 42 {
		t.Errorf("%d points, vocs %v %v", len(tr.Points), v, ok)
	}
	if _, ok := tr.Points[0].Readings.Get("pm25"); ok {
		t.Error("a reading of a pollutant the track has no column for")
	}
	for _, in := range []string{
		`{"type":"Feature","features":[]}`,
		`{"type":"FeatureCollection","features":[{"type":"Point"}]}`,
		`{"type":"FeatureCollection","features":[`,
		`[]`,
	} {
		if _, err := ParseTrackGeoJSON(strings.NewReader(in), limitCols); err == nil || errors.As(err, new(*TrackError)) {
			t.Errorf("%s: %v, want a format error", in, err)
		}
	}
	in := "time,lon,lat,vocs\n2026-06-01T08:00:00+08:00,120.1,30.2,1\n2026-06-01T08:00:01+08:00,120.1,30.2,2\n"
	tr, err = ParseTrackCSV(strings.NewReader(in), limitCols)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range tr.Points {
		got = append(got, p.Time.Format(time.RFC3339))
	}
	if diff := cmp.Diff([]string{"2026-06-01T08:00:00+08:00", "2026-06-01T08:00:01+08:00"}, got); diff != "" {
		t.Errorf("times (-want +got):\n%s", diff)
	}
	if tr.Points[0].Time.Location() != tr.Points[1].Time.Location() {
		t.Error("each point has a time zone of its own")
	}
}
