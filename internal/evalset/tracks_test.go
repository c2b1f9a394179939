package evalset

import (
	"bytes"
	"testing"

	"github.com/offsite/offsite/pipelines"
)

// TestTrackRanking scores generated vehicle tracks (plumes from known parcels, with parcels
// that emit nothing in the upwind sector) and boat runs through the built-in pipelines and
// checks the track targets: the source ranks first for at least 80% of the events with
// wind, and at most a quarter of the findings name a parcel that emitted nothing.
func TestTrackRanking(t *testing.T) {
	pipes, err := pipelines.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{1, 2, 3} {
		rep, err := ScoreTracks(GenerateTracks(seed, 4), pipes)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := rep.Write(&buf); err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d:\n%s", seed, buf.String())
		if rep.WindEvents < 16 {
			t.Errorf("seed %d: %d vehicle events with wind, want the 20 generated (some may go undetected)", seed, rep.WindEvents)
		}
		for _, tg := range rep.Failed() {
			t.Errorf("seed %d: target missed: %s = %.3f (goal %g)", seed, tg.Name, tg.Value, tg.Goal)
		}
		if rep.nShareRight > 0 && rep.nShareWrong > 0 && rep.ShareWrong/float64(rep.nShareWrong) >= rep.ShareRight/float64(rep.nShareRight) {
			t.Errorf("seed %d: findings on a wrong parcel score no lower than those on the source", seed)
		}
	}
}
