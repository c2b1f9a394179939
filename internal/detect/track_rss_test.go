package detect

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssCols are the vehicle-track pipeline's columns.
var rssCols = TrackColumns{WindSpeed: "wind_speed", WindDir: "wind_dir", Readings: []ReadingColumn{
	{Pollutant: "vocs", Column: "tvoc", Unit: "ug/m3"}, {Pollutant: "pm25", Unit: "ug/m3"},
	{Pollutant: "pm10", Unit: "ug/m3"}, {Pollutant: "so2", Unit: "ppb"}, {Pollutant: "no2", Unit: "ppb"},
}}

// rssTrack returns a survey-vehicle track of n rows, one a second, as CSV or GeoJSON, with
// two columns no pipeline reads.
func rssTrack(n int, geojson bool) []byte {
	var b bytes.Buffer
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if geojson {
		b.WriteString(`{"type":"FeatureCollection","features":[`)
	} else {
		b.WriteString("time,lon,lat,wind_speed,wind_dir,tvoc,pm25,pm10,so2,no2,driver,note\n")
	}
	for i := range n {
		ts := t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		lon, lat := 120.1+float64(i%5000)*1e-5, 30.2+float64(i%7000)*1e-5
		v := []float64{float64(i%9) * 0.4, float64(i%360) + 0.5, 300 + float64(i%50), 35 + float64(i%20), 60 + float64(i%30), 5 + float64(i%7), 20 + float64(i%11)}
		if geojson {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"type":"Feature","geometry":{"type":"Point","coordinates":[%.5f,%.5f]},"properties":{"time":%q,"wind_speed":%g,"wind_dir":%g,"tvoc":%g,"pm25":%g,"pm10":%g,"so2":%g,"no2":%g,"driver":"d-%d","note":"ok"}}`,
				lon, lat, ts, v[0], v[1], v[2], v[3], v[4], v[5], v[6], i%4)
		} else {
			fmt.Fprintf(&b, "%s,%.5f,%.5f,%g,%g,%g,%g,%g,%g,%g,d-%d,ok\n", ts, lon, lat, v[0], v[1], v[2], v[3], v[4], v[5], v[6], i%4)
		}
	}
	if geojson {
		b.WriteString("]}")
	}
	return b.Bytes()
}

// procStatusKB returns a field of /proc/self/status in kB.
func procStatusKB(tb testing.TB, field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return n
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// BenchmarkTrackRSS parses a 1M-row track (CSV and GeoJSON) and reports the process's
// resident memory before parsing (the file's bytes held) and its peak while parsing, from
// /proc/self/status (VmHWM reset through /proc/self/clear_refs). Run one format at a time,
// once: go test -run '^$' -bench 'TrackRSS/csv' -benchtime 1x ./internal/detect
func BenchmarkTrackRSS(b *testing.B) {
	for _, format := range []string{"csv", "geojson"} {
		b.Run(format, func(b *testing.B) {
			data := rssTrack(1_000_000, format == "geojson")
			for range b.N {
				runtime.GC()
				debug.FreeOSMemory()
				before := procStatusKB(b, "VmRSS")
				if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
					b.Skipf("cannot reset the peak: %v", err)
				}
				var tr *Track
				var err error
				if format == "geojson" {
					tr, err = ParseTrackGeoJSON(bytes.NewReader(data), rssCols)
				} else {
					tr, err = ParseTrackCSV(bytes.NewReader(data), rssCols)
				}
				if err != nil {
					b.Fatal(err)
				}
				peak := procStatusKB(b, "VmHWM")
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(before)/1024, "rss-before-MB")
				b.ReportMetric(float64(peak)/1024, "rss-peak-MB")
				b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-kept-MB")
				fmt.Printf("%s: %d rows, %d MB file: RSS %d MB before parsing, peak %d MB while parsing (+%d MB)\n",
					format, len(tr.Points), len(data)>>20, before/1024, peak/1024, (peak-before)/1024)
				runtime.KeepAlive(tr)
			}
		})
	}
}
