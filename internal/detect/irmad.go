package detect

import (
	"fmt"
	"math"
)

// irmad holds the converged IR-MAD transformation between two dates.
type irmad struct {
	x, y       [][]float32 // before and after bands, p each
	roles      []string
	p          int
	ok         func(int) bool
	blockRows  int
	width      int
	height     int
	n          int
	count      int       // at most how many pixels ok says
	stride     int       // sampling stride in rows and columns for estimating the transform
	a, b       []float64 // p×p, canonical vectors as columns
	mx, my     []float64
	sigma2     []float64 // robust variance of each MAD variate
	center     []float64 // robust centre (median) of each MAD variate
	rho        []float64
	iterations int
	// per-band normalization of the after date onto the before date (reduced major axis
	// over no-change-weighted statistics)
	gain, offset map[string]float64
	lut          *chi2Table
	samples      [][]float64 // calibration buffers, reused across iterations
	// tolerance is the radius, in pixels, of the misregistration-tolerant statistic
	// (tolerantStat), applied to pixels whose plain statistic exceeds tolerateFrom; clear
	// says which neighbours may serve (clear on both dates). 0: the plain statistic.
	tolerance    int
	tolerateFrom float64
	clear        func(int) bool
}

func newIRMAD(before, after *Grid, roles []string, ok func(int) bool, p ChangeParams) (*irmad, error) {
	if len(roles) < 2 {
		return nil, fmt.Errorf("detect: irmad needs at least 2 bands on both dates, have %v", roles)
	}
	x, err := before.bands(roles...)
	if err != nil {
		return nil, err
	}
	y, err := after.bands(roles...)
	if err != nil {
		return nil, err
	}
	return newIRMADOn(x, y, roles, before.Width, before.Height, ok, before.Width*before.Height, p)
}

// newIRMADOn runs IR-MAD on bands x (before) and y (after) of a width×height grid, over the
// pixels ok says, of which there are at most count: the sampling strides are set by count,
// so that a small land cover is estimated from all its pixels.
func newIRMADOn(x, y [][]float32, roles []string, width, height int, ok func(int) bool, count int, p ChangeParams) (*irmad, error) {
	m := &irmad{x: x, y: y, roles: roles, p: len(roles), ok: ok, blockRows: p.BlockRows,
		width: width, height: height, n: width * height, count: count,
		lut: newChi2Table(len(roles))}
	m.stride = 1
	for m.count/(m.stride*m.stride) > p.SamplePixels {
		m.stride++
	}
	weighted := false
	for it := 0; it < p.MaxIterations; it++ {
		sw, mean, cov := m.accumulate(weighted)
		if sw < float64(10*m.p) {
			return nil, errTooFewPixels
		}
		prev := m.rho
		if err := m.solve(mean, cov); err != nil {
			return nil, err
		}
		if err := m.calibrate(); err != nil {
			return nil, err
		}
		m.iterations = it + 1
		weighted = true
		if prev != nil {
			delta := 0.0
			for k := range prev {
				delta = math.Max(delta, math.Abs(prev[k]-m.rho[k]))
			}
			if delta < p.Tolerance {
				break
			}
		}
	}
	return m, nil
}

// madStat returns the chi-square change statistic of pixel i.
func (m *irmad) madStat(i int, xs, ys []float64) float64 {
	p := m.p
	for k := 0; k < p; k++ {
		xs[k] = float64(m.x[k][i]) - m.mx[k]
		ys[k] = float64(m.y[k][i]) - m.my[k]
	}
	z := 0.0
	for k := 0; k < p; k++ {
		u, v := 0.0, 0.0
		for r := 0; r < p; r++ {
			u += m.a[r*p+k] * xs[r]
			v += m.b[r*p+k] * ys[r]
		}
		d := u - v - m.center[k]
		z += d * d / m.sigma2[k]
	}
	return z
}

// accumulate makes one pass over the scene in row blocks and returns the sum of weights,
// the weighted mean of the stacked vector (x, y) and its weighted covariance (2p×2p).
// Weights are the no-change probabilities of the current transformation when weighted.
func (m *irmad) accumulate(weighted bool) (float64, []float64, []float64) {
	q := 2 * m.p
	shift := make([]float64, q)
	if m.mx != nil {
		copy(shift, m.mx)
		copy(shift[m.p:], m.my)
	} else {
		for i := 0; i < m.n; i++ {
			if m.ok(i) {
				for k := 0; k < m.p; k++ {
					shift[k] = float64(m.x[k][i])
					shift[m.p+k] = float64(m.y[k][i])
				}
				break
			}
		}
	}
	var sw float64
	sum := make([]float64, q)
	cross := make([]float64, q*q)
	bsum := make([]float64, q)
	bcross := make([]float64, q*q)
	v := make([]float64, q)
	xs, ys := make([]float64, m.p), make([]float64, m.p)
	// Row blocks of the sampling grid: float64 partial sums per block, added to the totals.
	for by := 0; by < m.height; by += m.blockRows * m.stride {
		var bw float64
		clear(bsum)
		clear(bcross)
		for y := by; y < min(m.height, by+m.blockRows*m.stride); y += m.stride {
			for x := 0; x < m.width; x += m.stride {
				i := y*m.width + x
				if !m.ok(i) {
					continue
				}
				w := 1.0
				if weighted {
					w = m.lut.survival(m.madStat(i, xs, ys))
					if w < 1e-12 {
						continue
					}
				}
				for k := 0; k < m.p; k++ {
					v[k] = float64(m.x[k][i]) - shift[k]
					v[m.p+k] = float64(m.y[k][i]) - shift[m.p+k]
				}
				bw += w
				for r := 0; r < q; r++ {
					wr := w * v[r]
					bsum[r] += wr
					row := bcross[r*q:]
					for c := r; c < q; c++ {
						row[c] += wr * v[c]
					}
				}
			}
		}
		sw += bw
		for k := range sum {
			sum[k] += bsum[k]
		}
		for k := range cross {
			cross[k] += bcross[k]
		}
	}
	mean := make([]float64, q)
	cov := make([]float64, q*q)
	if sw == 0 {
		return 0, mean, cov
	}
	for r := 0; r < q; r++ {
		mean[r] = sum[r] / sw
	}
	for r := 0; r < q; r++ {
		for c := r; c < q; c++ {
			s := cross[r*q+c]/sw - mean[r]*mean[c]
			cov[r*q+c], cov[c*q+r] = s, s
		}
	}
	for r := range mean {
		mean[r] += shift[r]
	}
	return sw, mean, cov
}

// solve runs the canonical correlation analysis on the weighted statistics.
func (m *irmad) solve(mean, cov []float64) error {
	p, q := m.p, 2*m.p
	sxx, syy, sxy := make([]float64, p*p), make([]float64, p*p), make([]float64, p*p)
	for r := 0; r < p; r++ {
		for c := 0; c < p; c++ {
			sxx[r*p+c] = cov[r*q+c]
			syy[r*p+c] = cov[(p+r)*q+p+c]
			sxy[r*p+c] = cov[r*q+p+c]
		}
	}
	// A small ridge keeps collinear bands (duplicated, or saturated together) solvable.
	var tx, ty float64
	for k := 0; k < p; k++ {
		tx += sxx[k*p+k]
		ty += syy[k*p+k]
	}
	for k := 0; k < p; k++ {
		sxx[k*p+k] += 1e-6*tx/float64(p) + 1e-12
		syy[k*p+k] += 1e-6*ty/float64(p) + 1e-12
	}
	syyInv, err := symInverse(syy, p)
	if err != nil {
		return fmt.Errorf("detect: irmad after date: %w", err)
	}
	syx := transpose(sxy, p)
	A := matMul(matMul(sxy, syyInv, p), syx, p)
	for r := 0; r < p; r++ {
		for c := r + 1; c < p; c++ {
			s := (A[r*p+c] + A[c*p+r]) / 2
			A[r*p+c], A[c*p+r] = s, s
		}
	}
	lambda, a, err := genEigen(A, sxx, p)
	if err != nil {
		return fmt.Errorf("detect: irmad before date: %w", err)
	}
	// b_k = Syy⁻¹ Syx a_k / ρ_k, normalized to unit variance.
	t := matMul(matMul(syyInv, syx, p), a, p)
	b := make([]float64, p*p)
	rho := make([]float64, p)
	for k := 0; k < p; k++ {
		rho[k] = math.Sqrt(math.Max(0, math.Min(1, lambda[k])))
		var s float64
		for r := 0; r < p; r++ {
			for c := 0; c < p; c++ {
				s += t[r*p+k] * syy[r*p+c] * t[c*p+k]
			}
		}
		if !(s > 0) {
			continue // a degenerate direction: leave b_k zero
		}
		s = math.Sqrt(s)
		for r := 0; r < p; r++ {
			b[r*p+k] = t[r*p+k] / s
		}
	}
	m.a, m.b, m.rho = a, b, rho
	m.mx, m.my = mean[:p:p], mean[p:]
	m.gain, m.offset = map[string]float64{}, map[string]float64{}
	for k, r := range m.roles {
		vx, vy := sxx[k*p+k], syy[k*p+k]
		g := 1.0
		if vy > 0 {
			g = math.Sqrt(vx / vy)
		}
		m.gain[r] = g
		m.offset[r] = mean[k] - g*mean[p+k]
	}
	return nil
}

// calibrate estimates the centre and spread of each MAD variate robustly (median and MAD
// over a strided sample of clear pixels). The textbook variance 2(1−ρ) comes from
// statistics weighted towards small MAD values and so underestimates the spread of the
// no-change population, which makes re-weighting run away towards ρ = 1; median and MAD are
// unaffected by the weights and by a minority of changed pixels.
func (m *irmad) calibrate() error {
	const want = 1 << 15
	stride := max(1, m.count/want)
	p := m.p
	if m.samples == nil {
		m.samples = make([][]float64, p)
		for k := range m.samples {
			m.samples[k] = make([]float64, 0, m.n/stride+1)
		}
	}
	samples := m.samples
	for k := range samples {
		samples[k] = samples[k][:0]
	}
	xs, ys := make([]float64, p), make([]float64, p)
	for i := 0; i < m.n; i += stride {
		if !m.ok(i) {
			continue
		}
		for k := 0; k < p; k++ {
			xs[k] = float64(m.x[k][i]) - m.mx[k]
			ys[k] = float64(m.y[k][i]) - m.my[k]
		}
		for k := 0; k < p; k++ {
			u, v := 0.0, 0.0
			for r := 0; r < p; r++ {
				u += m.a[r*p+k] * xs[r]
				v += m.b[r*p+k] * ys[r]
			}
			samples[k] = append(samples[k], u-v)
		}
	}
	if len(samples[0]) < 50 {
		return errTooFewPixels
	}
	m.center = make([]float64, p)
	m.sigma2 = make([]float64, p)
	for k := 0; k < p; k++ {
		med, mad := medianMAD(samples[k])
		s := madScale * mad
		m.center[k] = med
		m.sigma2[k] = math.Max(s*s, 1e-12)
	}
	return nil
}

func (m *irmad) stat(i int) (float64, bool) {
	if !m.ok(i) {
		return 0, false
	}
	var xs, ys [16]float64
	z := m.madStat(i, xs[:m.p], ys[:m.p])
	if math.IsNaN(z) {
		return 0, false
	}
	if m.tolerance > 0 && z > m.tolerateFrom {
		z = math.Min(z, m.tolerantStat(i))
	}
	return z, true
}

// tolerate makes stat misregistration-tolerant within r pixels for pixels whose plain
// statistic exceeds from; neighbours serve where clear says.
func (m *irmad) tolerate(r int, from float64, clear func(int) bool) {
	m.tolerance, m.tolerateFrom, m.clear = r, from, clear
}

// variates puts the canonical variates of pixel i, before (u) and after (v), centred on
// the dates' means.
func (m *irmad) variates(i int, u, v, xs, ys []float64) {
	p := m.p
	for k := 0; k < p; k++ {
		xs[k] = float64(m.x[k][i]) - m.mx[k]
		ys[k] = float64(m.y[k][i]) - m.my[k]
	}
	for k := 0; k < p; k++ {
		var su, sv float64
		for r := 0; r < p; r++ {
			su += m.a[r*p+k] * xs[r]
			sv += m.b[r*p+k] * ys[r]
		}
		u[k], v[k] = su, sv
	}
}

// tolerantStat is the change statistic of pixel i allowing for misregistration of up to
// m.tolerance pixels: per MAD variate, the distance of the pixel's before value from the
// range of after values over its clear neighbourhood (and the after value from the range of
// before values), the larger of the two directions summed over the variates. A sub-pixel
// shift makes a pixel on an edge a mix its neighbours bracket on the other date, so an
// unchanged roof or field edge falls inside the range; a new roof is outside the range of
// the field it replaced in both directions, and a removed one in both too.
func (m *irmad) tolerantStat(i int) float64 {
	p := m.p
	var xs, ys, u0, v0, u, v, uLo, uHi, vLo, vHi [16]float64
	m.variates(i, u0[:p], v0[:p], xs[:p], ys[:p])
	for k := 0; k < p; k++ {
		uLo[k], uHi[k] = u0[k], u0[k]
		vLo[k], vHi[k] = v0[k], v0[k]
	}
	x0, y0 := i%m.width, i/m.width
	r := m.tolerance
	for y := max(0, y0-r); y <= min(m.height-1, y0+r); y++ {
		for x := max(0, x0-r); x <= min(m.width-1, x0+r); x++ {
			j := y*m.width + x
			if j == i || !m.clear(j) {
				continue
			}
			m.variates(j, u[:p], v[:p], xs[:p], ys[:p])
			for k := 0; k < p; k++ {
				uLo[k], uHi[k] = math.Min(uLo[k], u[k]), math.Max(uHi[k], u[k])
				vLo[k], vHi[k] = math.Min(vLo[k], v[k]), math.Max(vHi[k], v[k])
			}
		}
	}
	out := func(x, lo, hi float64) float64 {
		switch {
		case x < lo:
			return lo - x
		case x > hi:
			return x - hi
		}
		return 0
	}
	var z1, z2 float64
	for k := 0; k < p; k++ {
		c := m.center[k]
		// MAD = u − v − c: the before value u − c against the after range, and the after
		// value v + c against the before range.
		d1 := out(u0[k]-c, vLo[k], vHi[k])
		d2 := out(v0[k]+c, uLo[k], uHi[k])
		z1 += d1 * d1 / m.sigma2[k]
		z2 += d2 * d2 / m.sigma2[k]
	}
	return math.Max(z1, z2)
}

func (m *irmad) dof() int { return m.p }

func (m *irmad) normalize(r string, v float64) float64 {
	g, ok := m.gain[r]
	if !ok {
		return v
	}
	return g*v + m.offset[r]
}

// chi2Table tabulates the chi-square survival function 1 − CDF for fast per-pixel weights.
type chi2Table struct {
	step float64
	vals []float64
}

func newChi2Table(k int) *chi2Table {
	hi := chi2Quantile(1-1e-12, k)
	const n = 8192
	t := &chi2Table{step: hi / n, vals: make([]float64, n+2)}
	for i := range t.vals {
		t.vals[i] = 1 - chi2CDF(float64(i)*t.step, k)
	}
	return t
}

func (t *chi2Table) survival(z float64) float64 {
	// Beyond the table, infinite, or NaN from a degenerate transformation: no weight.
	if !(z >= 0 && z < t.step*float64(len(t.vals)-1)) {
		return 0
	}
	f := z / t.step
	i := int(f)
	fr := f - float64(i)
	return t.vals[i]*(1-fr) + t.vals[i+1]*fr
}
