// Package baseline holds the plain methods Offsite's detectors are measured against, each
// as a textbook would give it, with no tuning to any data set: IR-MAD with a chi-square
// threshold (Nielsen 2007), dNBR > 0.1 (Key & Benson 2006), the absolute RGB difference
// thresholded by Otsu's method, and the normalized hotspot indices > 0 (Marchese et al.
// 2019). Inputs are reflectance (or 0–1 camera values) as float32 rows of one grid.
package baseline

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// DNBR marks burned pixels: NBR before minus NBR after above thr (0.1 is the usual lowest
// burn-severity class), where NBR = (NIR − SWIR2)/(NIR + SWIR2). Pixels not valid are false.
func DNBR(nirA, swir2A, nirB, swir2B []float32, valid []bool, thr float64) []bool {
	out := make([]bool, len(nirA))
	for i := range out {
		if valid != nil && !valid[i] {
			continue
		}
		out[i] = nbr(nirA[i], swir2A[i])-nbr(nirB[i], swir2B[i]) > thr
	}
	return out
}

func nbr(nir, swir2 float32) float64 {
	s := float64(nir) + float64(swir2)
	if s == 0 {
		return 0
	}
	return (float64(nir) - float64(swir2)) / s
}

// NHI marks hot pixels: NHI_SWIR = (SWIR2 − SWIR1)/(SWIR2 + SWIR1) > 0 or NHI_SWNIR =
// (SWIR1 − NIR)/(SWIR1 + NIR) > 0, with NIR the narrow NIR band (B8A) where there is one.
func NHI(nir, swir1, swir2 []float32, valid []bool) []bool {
	out := make([]bool, len(swir2))
	for i := range out {
		if valid != nil && !valid[i] {
			continue
		}
		out[i] = swir2[i] > swir1[i] || swir1[i] > nir[i]
	}
	return out
}

// Otsu returns the threshold that maximises the between-class variance of values (256
// bins over their range). It returns the single value when all are equal.
func Otsu(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		return lo
	}
	const bins = 256
	var hist [bins]float64
	width := (hi - lo) / bins
	for _, v := range values {
		b := int((v - lo) / width)
		if b >= bins {
			b = bins - 1
		}
		hist[b]++
	}
	total := float64(len(values))
	var sumAll float64
	for b, n := range hist {
		sumAll += float64(b) * n
	}
	best, bestT := -1.0, 0
	var w0, sum0 float64
	for t := 0; t < bins-1; t++ {
		w0 += hist[t]
		sum0 += float64(t) * hist[t]
		w1 := total - w0
		if w0 == 0 || w1 == 0 {
			continue
		}
		m0, m1 := sum0/w0, (sumAll-sum0)/w1
		if v := w0 * w1 * (m0 - m1) * (m0 - m1); v > best {
			best, bestT = v, t
		}
	}
	return lo + width*float64(bestT+1)
}

// RGBDiffOtsu marks changed pixels: the mean absolute difference of the bands of two dates
// above its Otsu threshold.
func RGBDiffOtsu(a, b [][]float32, valid []bool) []bool {
	n := len(a[0])
	d := make([]float64, n)
	var vals []float64
	for i := 0; i < n; i++ {
		if valid != nil && !valid[i] {
			continue
		}
		for k := range a {
			d[i] += math.Abs(float64(a[k][i]) - float64(b[k][i]))
		}
		d[i] /= float64(len(a))
		vals = append(vals, d[i])
	}
	t := Otsu(vals)
	out := make([]bool, n)
	for i := range out {
		out[i] = (valid == nil || valid[i]) && d[i] > t
	}
	return out
}

// IRMAD is the iteratively re-weighted multivariate alteration detection of two dates
// (bands of x before, y after, same order), returning each pixel's chi-square statistic
// (the sum of its squared standardised MAD variates, chi-square with len(x) degrees of
// freedom where nothing changed). The MAD variates are standardised by their robust spread
// (see below) rather than the weighted variance. Statistics come from at most sample valid pixels taken at
// a regular stride; weights are the chi-square no-change probabilities of the last
// iteration. Invalid pixels get 0.
func IRMAD(x, y [][]float32, valid []bool, iterations, sample int) ([]float64, error) {
	p := len(x)
	if p == 0 || len(y) != p {
		return nil, errors.New("baseline: irmad needs the same bands on both dates")
	}
	n := len(x[0])
	var idx []int
	for i := 0; i < n; i++ {
		if valid == nil || valid[i] {
			idx = append(idx, i)
		}
	}
	if len(idx) < 10*p {
		return nil, fmt.Errorf("baseline: irmad: %d valid pixels for %d bands", len(idx), p)
	}
	if sample > 0 && len(idx) > sample {
		stride := float64(len(idx)) / float64(sample)
		s := make([]int, sample)
		for k := range s {
			s[k] = idx[int(float64(k)*stride)]
		}
		idx = s
	}
	w := make([]float64, len(idx))
	for k := range w {
		w[k] = 1
	}
	var a, b [][]float64
	var sigma []float64
	var meanX, meanY []float64
	prev := make([]float64, p)
	for it := 0; it < max(iterations, 1); it++ {
		var rho []float64
		var err error
		meanX, meanY, a, b, rho, err = cca(x, y, idx, w)
		if err != nil {
			return nil, err
		}
		sigma = make([]float64, p)
		for i := range sigma {
			sigma[i] = math.Sqrt(math.Max(2*(1-rho[i]), 1e-12))
		}
		delta := 0.0
		for i := range rho {
			delta = math.Max(delta, math.Abs(rho[i]-prev[i]))
		}
		copy(prev, rho)
		for k, i := range idx {
			w[k] = 1 - ChiSquareCDF(chi2At(x, y, i, meanX, meanY, a, b, sigma), p)
		}
		if delta < 1e-3 {
			break
		}
	}
	// The weighted variances 2(1 − rho) shrink as the weights favour the pixels with the
	// smallest MADs, so that unchanged pixels drift far into the chi-square tail; the MAD
	// variates are standardised instead by their robust spread over the sample (1.4826 ×
	// median absolute deviation), which change pixels (a minority) barely move.
	for v := range sigma {
		mads := make([]float64, len(idx))
		for k, i := range idx {
			mads[k] = madAt(x, y, i, meanX, meanY, a[v], b[v])
		}
		sigma[v] = math.Max(robustScale(mads), 1e-12)
	}
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		if valid == nil || valid[i] {
			out[i] = chi2At(x, y, i, meanX, meanY, a, b, sigma)
		}
	}
	return out, nil
}

// madAt is one MAD variate (unstandardised) of pixel i.
func madAt(x, y [][]float32, i int, mx, my, a, b []float64) float64 {
	u, w := 0.0, 0.0
	for k := range x {
		u += a[k] * (float64(x[k][i]) - mx[k])
		w += b[k] * (float64(y[k][i]) - my[k])
	}
	return u - w
}

// robustScale is 1.4826 × the median absolute deviation from the median: the standard
// deviation for normal data.
func robustScale(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	med := s[len(s)/2]
	for i := range s {
		s[i] = math.Abs(s[i] - med)
	}
	sort.Float64s(s)
	return 1.4826 * s[len(s)/2]
}

func chi2At(x, y [][]float32, i int, mx, my []float64, a, b [][]float64, sigma []float64) float64 {
	s := 0.0
	for v := range a {
		m := madAt(x, y, i, mx, my, a[v], b[v]) / sigma[v]
		s += m * m
	}
	return s
}

// cca is weighted canonical correlation analysis: canonical vectors a (of x) and b (of y),
// each of unit variance, and their correlations rho (descending).
func cca(x, y [][]float32, idx []int, w []float64) (mx, my []float64, a, b [][]float64, rho []float64, err error) {
	p := len(x)
	mx, my = make([]float64, p), make([]float64, p)
	sw := 0.0
	for k, i := range idx {
		for j := 0; j < p; j++ {
			mx[j] += w[k] * float64(x[j][i])
			my[j] += w[k] * float64(y[j][i])
		}
		sw += w[k]
	}
	if sw <= 0 {
		return nil, nil, nil, nil, nil, errors.New("baseline: irmad: all weights are zero")
	}
	for j := range mx {
		mx[j] /= sw
		my[j] /= sw
	}
	sxx, syy, sxy := newMat(p), newMat(p), newMat(p)
	for k, i := range idx {
		for r := 0; r < p; r++ {
			dxr, dyr := float64(x[r][i])-mx[r], float64(y[r][i])-my[r]
			for c := 0; c < p; c++ {
				dxc, dyc := float64(x[c][i])-mx[c], float64(y[c][i])-my[c]
				sxx[r][c] += w[k] * dxr * dxc
				syy[r][c] += w[k] * dyr * dyc
				sxy[r][c] += w[k] * dxr * dyc
			}
		}
	}
	for r := 0; r < p; r++ {
		for c := 0; c < p; c++ {
			sxx[r][c] /= sw
			syy[r][c] /= sw
			sxy[r][c] /= sw
		}
	}
	lx, err := cholesky(sxx)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	syyInv, err := inverse(syy)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	lxInv, err := inverse(lx)
	if err != nil {
		return nil, nil, nil, nil, nil, err
	}
	// C = Lx⁻¹ Sxy Syy⁻¹ Syx Lx⁻ᵀ is symmetric; its eigenvalues are rho².
	c := mul(mul(mul(mul(lxInv, sxy), syyInv), transpose(sxy)), transpose(lxInv))
	vals, vecs := jacobi(c)
	order := make([]int, p)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return vals[order[i]] > vals[order[j]] })
	a, b = make([][]float64, p), make([][]float64, p)
	rho = make([]float64, p)
	lxInvT := transpose(lxInv)
	for k, o := range order {
		u := make([]float64, p)
		for r := 0; r < p; r++ {
			u[r] = vecs[r][o]
		}
		av := mulVec(lxInvT, u)
		r := math.Sqrt(math.Max(vals[o], 1e-12))
		bv := mulVec(mul(syyInv, transpose(sxy)), av)
		for i := range bv {
			bv[i] /= r
		}
		// Unit variance of b'y, and a positive correlation of a'x with b'y.
		vb := quad(syy, bv)
		for i := range bv {
			bv[i] /= math.Sqrt(math.Max(vb, 1e-300))
		}
		a[k], b[k], rho[k] = av, bv, math.Min(r, 1)
	}
	return mx, my, a, b, rho, nil
}

// ChiSquareCDF is P(X ≤ x) for X chi-square with k degrees of freedom.
func ChiSquareCDF(x float64, k int) float64 {
	if x <= 0 {
		return 0
	}
	return gammaP(float64(k)/2, x/2)
}

// ChiSquareQuantile is the x with ChiSquareCDF(x, k) = p, by bisection.
func ChiSquareQuantile(p float64, k int) float64 {
	lo, hi := 0.0, 1.0
	for ChiSquareCDF(hi, k) < p {
		hi *= 2
	}
	for i := 0; i < 200; i++ {
		m := (lo + hi) / 2
		if ChiSquareCDF(m, k) < p {
			lo = m
		} else {
			hi = m
		}
	}
	return (lo + hi) / 2
}

// gammaP is the regularised lower incomplete gamma function (series below a+1, continued
// fraction above).
func gammaP(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return sum * math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
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
	return 1 - math.Exp(-x+a*math.Log(x)-lg)*h
}
