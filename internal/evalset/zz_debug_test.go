package evalset

import (
	"bytes"
	"testing"

	"github.com/offsite/offsite/internal/detect"
	"github.com/offsite/offsite/pipelines"
)

func TestDebugRank(t *testing.T) {
	pipes, _ := pipelines.Builtin()
	for _, tc := range GenerateTracks(1, 4) {
		if tc.Pipeline != "vehicle-track" { continue }
		p := pipes[tc.Pipeline]
		d := p.Detector(pipelines.TypeTrack)
		tr, _ := detect.ParseTrackCSV(bytes.NewReader(tc.CSV), *p.Columns)
		fs, _ := detect.DetectTrack(tr, *d.Track, tc.Parcels)
		for _, ev := range tc.Events {
			for _, f := range fs {
				if f.Start.After(ev.End) || f.End.Before(ev.Start) { continue }
				ok := len(f.Parcels) > 0 && f.Parcels[0].ParcelID == ev.ParcelID
				_ = ok
				t.Logf("%s src %s wind %.0f width %.0f", tc.Name, ev.ParcelID, f.Measures["wind_from_deg"], f.Measures["plume_width_m"])
				for _, m := range f.Parcels { t.Logf("   %s share %.2f along %.0f cross %.0f d %.0f", m.ParcelID, m.Share, m.Along, m.Cross, m.Distance) }
			}
		}
	}
}
