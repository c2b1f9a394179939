package worker

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/pipelines"
)

func TestNightlyPipelines(t *testing.T) {
	pipes, err := pipelines.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for name, p := range pipes {
		want[p.Kind] = name
	}
	// A second pipeline for a kind is not taken over the one named after it.
	pipes["sentinel2-alt"] = &pipelines.Pipeline{Name: "sentinel2-alt", Kind: "sentinel2"}
	if diff := cmp.Diff(want, DefaultNightlyPipelines(pipes)); diff != "" || want["sentinel2"] != "sentinel2" {
		t.Errorf("DefaultNightlyPipelines (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name string
		m    map[string]string
		ok   bool
	}{
		{"defaults", want, true},
		{"off", map[string]string{}, true},
		{"unknown kind", map[string]string{"kite": "sentinel2"}, false},
		{"unknown pipeline", map[string]string{"sentinel2": "nope"}, false},
		{"pipeline of another kind", map[string]string{"landsat": "sentinel2"}, false},
	} {
		if err := CheckNightlyPipelines(tc.m, pipes); (err == nil) != tc.ok {
			t.Errorf("%s: CheckNightlyPipelines = %v", tc.name, err)
		}
	}
}
