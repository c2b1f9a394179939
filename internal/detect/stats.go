package detect

import (
	"math"
	"sort"

	"github.com/offsite/offsite/internal/quantile"
)

// chi2CDF is the chi-square distribution function with k degrees of freedom:
// P(k/2, x/2), the regularized lower incomplete gamma function.
func chi2CDF(x float64, k int) float64 {
	if x <= 0 {
		return 0
	}
	return gammaP(float64(k)/2, x/2)
}

// gammaP is the regularized lower incomplete gamma function P(a, x) (Numerical Recipes:
// series for x < a+1, continued fraction otherwise).
func gammaP(a, x float64) float64 {
	if x <= 0 {
		return 0
	}
	lga, _ := math.Lgamma(a)
	if x < a+1 {
		sum, del, ap := 1/a, 1/a, a
		for i := 0; i < 500; i++ {
			ap++
			del *= x / ap
			sum += del
			if math.Abs(del) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return sum * math.Exp(-x+a*math.Log(x)-lga)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 500; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return 1 - math.Exp(-x+a*math.Log(x)-lga)*h
}

// chi2Quantile inverts chi2CDF by bisection.
func chi2Quantile(p float64, k int) float64 {
	lo, hi := 0.0, 1.0
	for chi2CDF(hi, k) < p {
		hi *= 2
	}
	for i := 0; i < 200; i++ {
		mid := (lo + hi) / 2
		if chi2CDF(mid, k) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// madScale turns a median absolute deviation into a standard deviation for normal data.
const madScale = 1.4826

// medianMAD returns the median and the median absolute deviation of v, reordering v.
func medianMAD(v []float64) (med, mad float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	med = median(v)
	for i := range v {
		v[i] = math.Abs(v[i] - med)
	}
	mad = median(v)
	return med, mad
}

// median returns the median of v in linear expected time, reordering v.
func median(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	if n < 32 {
		sort.Float64s(v)
	} else {
		quantile.Select(v, n/2)
		if n%2 == 1 {
			return v[n/2]
		}
		// The lower middle is the largest value left of n/2.
		lo := v[0]
		for _, x := range v[1 : n/2] {
			lo = math.Max(lo, x)
		}
		return (lo + v[n/2]) / 2
	}
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// sampler keeps a deterministic, evenly strided sample of at most max values from a stream
// whose length n is known, so robust statistics over a whole scene need bounded memory.
type sampler struct {
	stride, seen int
	vals         []float64
}

func newSampler(n, max int) *sampler {
	s := 1
	if n > max {
		s = (n + max - 1) / max
	}
	return &sampler{stride: s}
}

func (s *sampler) add(v float64) {
	if s.seen%s.stride == 0 {
		s.vals = append(s.vals, v)
	}
	s.seen++
}

func clamp01(v float64) float64 {
	switch {
	case v < 0 || math.IsNaN(v):
		return 0
	case v > 1:
		return 1
	}
	return v
}

// otsu returns the threshold between the two classes of vals that maximizes the
// between-class variance (Otsu 1979), over a 256-bin histogram from the minimum to the
// maximum; the upper bound of the lower class's last bin.
func otsu(vals []float64) float64 {
	if len(vals) == 0 {
		return math.Inf(1)
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi <= lo {
		return hi
	}
	const bins = 256
	var hist [bins]float64
	width := (hi - lo) / bins
	for _, v := range vals {
		hist[min(bins-1, int((v-lo)/width))]++
	}
	var total, sum float64
	for i, c := range hist {
		total += c
		sum += float64(i) * c
	}
	var wB, sumB, best float64
	thr := 0
	for i, c := range hist {
		wB += c
		if wB == 0 || wB == total {
			continue
		}
		sumB += float64(i) * c
		mB, mF := sumB/wB, (sum-sumB)/(total-wB)
		if between := wB * (total - wB) * (mB - mF) * (mB - mF); between > best {
			best, thr = between, i
		}
	}
	return lo + float64(thr+1)*width
}

// quantiles returns the values of v at shares ps (ascending), reordering v.
func quantiles(v []float64, ps ...float64) []float64 {
	q := make([]float64, len(ps))
	for k, p := range ps {
		q[k] = quantile.Select(v, int(p*float64(len(v)-1)))
	}
	return q
}
