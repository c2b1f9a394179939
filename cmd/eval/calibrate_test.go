package main

import (
	"testing"

	"github.com/offsite/offsite/internal/evalset"
)

// TestIsotonic: scores whose share of real findings rises are fitted as a rising step
// function, shrunk towards one half; a violation (a false finding above real ones) is
// pooled.
func TestIsotonic(t *testing.T) {
	var js []evalset.Judged
	add := func(score float64, real bool, n int) {
		for i := 0; i < n; i++ {
			js = append(js, evalset.Judged{Score: score, Real: real})
		}
	}
	add(0.1, false, 9)
	add(0.5, true, 3)
	add(0.55, false, 1) // a violation, pooled with the real ones at 0.5
	add(0.9, true, 9)
	f := isotonic(js)
	for _, tc := range []struct{ x, want float64 }{
		{0.05, 0.5 / 10}, {0.1, 0.5 / 10}, {0.5, 3.5 / 5}, {0.55, 3.5 / 5}, {0.9, 9.5 / 10}, {1, 9.5 / 10},
	} {
		if got := f(tc.x); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("f(%g) = %g, want %g", tc.x, got, tc.want)
		}
	}
}
