package main

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scored returns n judged findings at score, the first real of them real.
func scored(score float64, n, real int) []judged {
	var out []judged
	for i := 0; i < n; i++ {
		out = append(out, judged{raw: score, real: i < real})
	}
	return out
}

// TestIsotonic: scores whose share of real findings rises are fitted as a rising step
// function, shrunk towards one half; a violation (a false finding above real ones) is
// pooled.
func TestIsotonic(t *testing.T) {
	var js []judged
	js = append(js, scored(0.1, 9, 0)...)
	js = append(js, scored(0.5, 3, 3)...)
	js = append(js, scored(0.55, 1, 0)...) // a violation, pooled with the real ones at 0.5
	js = append(js, scored(0.9, 9, 9)...)
	f := isotonic(js)
	for _, tc := range []struct{ x, want float64 }{
		{0.05, 0.5 / 10}, {0.1, 0.5 / 10}, {0.5, 3.5 / 5}, {0.55, 3.5 / 5}, {0.9, 9.5 / 10}, {1, 9.5 / 10},
	} {
		if got := f(tc.x); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("f(%g) = %g, want %g", tc.x, got, tc.want)
		}
	}
}

// TestIsotonicShrunkStaysMonotone: 19 of 20 findings at 0.5 real, the one at 0.9 real
// too; pooled they would not be (their shares rise), but shrunk towards one half the single
// finding would fall to 0.75 below the 0.93 of the twenty. The fit stays non-decreasing.
func TestIsotonicShrunkStaysMonotone(t *testing.T) {
	js := append(scored(0.5, 20, 19), scored(0.9, 1, 1)...)
	f := isotonic(js)
	if lo, hi := f(0.5), f(0.9); hi < lo {
		t.Errorf("f(0.9) = %g below f(0.5) = %g", hi, lo)
	}
	prev := -1.0
	for x := 0.0; x <= 1; x += 0.01 {
		if v := f(x); v < prev || v < 0 || v > 1 {
			t.Fatalf("f(%.2f) = %g after %g: not a non-decreasing share", x, v, prev)
		} else {
			prev = v
		}
	}
}

// TestSplitScenes: every other scene of each set by name fits, the rest checks, whatever
// order the scenes were run in; each set is in both halves.
func TestSplitScenes(t *testing.T) {
	scenes := map[string][]string{
		"calfire": {"b", "a", "d", "c", "e"},
		"levir":   {"x", "y"},
		"evalgen": {"only"},
	}
	want := map[string]bool{
		"calfire/a": true, "calfire/b": false, "calfire/c": true, "calfire/d": false, "calfire/e": true,
		"levir/x": true, "levir/y": false,
		"evalgen/only": true,
	}
	got := splitScenes(scenes)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("split (-want +got):\n%s", diff)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5; i++ {
		shuffled := map[string][]string{}
		for set, names := range scenes {
			names = append([]string(nil), names...)
			r.Shuffle(len(names), func(a, b int) { names[a], names[b] = names[b], names[a] })
			shuffled[set] = names
		}
		if diff := cmp.Diff(want, splitScenes(shuffled)); diff != "" {
			t.Errorf("split of %v (-want +got):\n%s", shuffled, diff)
		}
	}
}
