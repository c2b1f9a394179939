package evalset

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/pipelines"
)

// TestTargets runs a small evaluation and checks every target, so that `go test` catches
// a detector regression.
func TestTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluation takes a few seconds")
	}
	pipes, err := pipelines.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	set := Generate(Config{Seed: 7, Size: 384, Scenes: 1, Tracks: 2})
	rep, err := Score(set, pipes)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Write(&buf); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + buf.String())
	for _, tg := range rep.Failed() {
		t.Errorf("target missed: %s = %.3f (goal %g)", tg.Name, tg.Value, tg.Goal)
	}
	if rep.Lookup("change", "all").Truths == 0 || rep.Lookup("hotspot", "all").Truths == 0 || rep.Lookup("water_plume", "all").Truths == 0 || rep.TrackEvents == 0 {
		t.Error("the evaluation set lacks truth for some detector")
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a := Generate(Config{Seed: 3, Size: 128, Scenes: 1, Tracks: 1})
	b := Generate(Config{Seed: 3, Size: 128, Scenes: 1, Tracks: 1})
	if diff := cmp.Diff(a.Scenes[0].Truth, b.Scenes[0].Truth); diff != "" {
		t.Errorf("truth differs between runs:\n%s", diff)
	}
	if !bytes.Equal(a.Tracks[0].CSV, b.Tracks[0].CSV) {
		t.Error("track CSV differs between runs")
	}
	for k := range a.Scenes[0].After.Bands {
		if diff := cmp.Diff(a.Scenes[0].After.Bands[k], b.Scenes[0].After.Bands[k]); diff != "" {
			t.Fatalf("band %d differs", k)
		}
	}
}
