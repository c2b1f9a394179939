package quantile

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		v    []float64
	}{
		{"one", []float64{3}},
		{"sorted", []float64{1, 2, 3, 4, 5, 6}},
		{"reversed", []float64{6, 5, 4, 3, 2, 1}},
		{"equal", []float64{2, 2, 2, 2, 2}},
		{"ties", []float64{3, 1, 3, 1, 2, 3, 1}},
		{"random", func() []float64 {
			v := make([]float64, 1001)
			for i := range v {
				v[i] = float64(rng.IntN(50))
			}
			return v
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sorted := slices.Sorted(slices.Values(tc.v))
			for k := range tc.v {
				v := slices.Clone(tc.v)
				if got := Select(v, k); got != sorted[k] {
					t.Fatalf("Select(%d) = %v, want %v", k, got, sorted[k])
				}
				for i, x := range v {
					if (i < k && x > v[k]) || (i > k && x < v[k]) {
						t.Fatalf("Select(%d): v[%d] = %v on the wrong side of %v", k, i, x, v[k])
					}
				}
			}
		})
	}
}
