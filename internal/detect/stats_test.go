package detect

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestMedian(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 5, 31, 32, 33, 100, 1001, 4096} {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Floor(r.Float64() * 50) // ties
		}
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		want := s[n/2]
		if n%2 == 0 {
			want = (s[n/2-1] + s[n/2]) / 2
		}
		if got := median(v); got != want {
			t.Errorf("n=%d: median %v, want %v", n, got, want)
		}
	}
}

func TestChi2CDF(t *testing.T) {
	tests := []struct {
		x    float64
		k    int
		want float64
	}{
		{3.841458820694124, 1, 0.95},
		{12.591587243743977, 6, 0.95},
		{22.457744484825323, 6, 0.999},
		{2, 2, 1 - math.Exp(-1)},
	}
	for _, tc := range tests {
		if got := chi2CDF(tc.x, tc.k); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("chi2CDF(%v, %d) = %v, want %v", tc.x, tc.k, got, tc.want)
		}
	}
	if q := chi2Quantile(0.999, 6); math.Abs(q-22.457744484825323) > 1e-6 {
		t.Errorf("quantile %v", q)
	}
}

func TestGenEigen(t *testing.T) {
	// A x = λ B x with B = diag(2, 1), A = [[4, 1], [1, 3]].
	a := []float64{4, 1, 1, 3}
	b := []float64{2, 0, 0, 1}
	vals, x, err := genEigen(a, b, 2)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 2; k++ {
		v := []float64{x[0*2+k], x[1*2+k]}
		for r := 0; r < 2; r++ {
			lhs := a[r*2]*v[0] + a[r*2+1]*v[1]
			rhs := vals[k] * (b[r*2]*v[0] + b[r*2+1]*v[1])
			if math.Abs(lhs-rhs) > 1e-9 {
				t.Errorf("eigenpair %d: A x = %v, λ B x = %v", k, lhs, rhs)
			}
		}
		if n := 2*v[0]*v[0] + v[1]*v[1]; math.Abs(n-1) > 1e-9 {
			t.Errorf("xᵀBx = %v, want 1", n)
		}
	}
	if vals[0] > vals[1] {
		t.Error("eigenvalues not ascending")
	}
}
