package detect

import "math"

// indexChange is the change statistic of RGB captures: robust z-scores of index
// differences after matching each after band to the before band by median and MAD.
type indexChange struct {
	before, after [3][]float32 // red, green, blue
	ok            func(int) bool
	gain, offset  [3]float64
	med, scale    [3]float64 // of the three index differences
}

var rgbRoles = [3]string{BandRed, BandGreen, BandBlue}

func newIndexChange(before, after *Grid, ok func(int) bool) (*indexChange, error) {
	xb, err := before.bands(rgbRoles[:]...)
	if err != nil {
		return nil, err
	}
	xa, err := after.bands(rgbRoles[:]...)
	if err != nil {
		return nil, err
	}
	m := &indexChange{ok: ok}
	copy(m.before[:], xb)
	copy(m.after[:], xa)
	n := before.Width * before.Height
	const maxSamples = 1 << 16
	for k := 0; k < 3; k++ {
		sb, sa := newSampler(n, maxSamples), newSampler(n, maxSamples)
		for i := 0; i < n; i++ {
			if ok(i) {
				sb.add(float64(m.before[k][i]))
				sa.add(float64(m.after[k][i]))
			}
		}
		if len(sb.vals) < 30 {
			return nil, errTooFewPixels
		}
		medB, madB := medianMAD(sb.vals)
		medA, madA := medianMAD(sa.vals)
		g := 1.0
		if madA > 0 && madB > 0 {
			g = madB / madA
		}
		m.gain[k], m.offset[k] = g, medB-g*medA
	}
	var s [3]*sampler
	for k := range s {
		s[k] = newSampler(n, maxSamples)
	}
	for i := 0; i < n; i++ {
		if ok(i) {
			d := m.diffs(i)
			for k := range s {
				s[k].add(d[k])
			}
		}
	}
	for k := range s {
		med, mad := medianMAD(s[k].vals)
		m.med[k] = med
		m.scale[k] = math.Max(madScale*mad, 1e-4)
	}
	return m, nil
}

// indices returns brightness and red and green chromaticity.
func rgbIndices(r, g, b float64) [3]float64 {
	sum := r + g + b
	if sum <= 0 {
		return [3]float64{}
	}
	return [3]float64{sum / 3, r / sum, g / sum}
}

func (m *indexChange) diffs(i int) [3]float64 {
	var vb, va [3]float64
	for k := 0; k < 3; k++ {
		vb[k] = float64(m.before[k][i])
		va[k] = m.gain[k]*float64(m.after[k][i]) + m.offset[k]
	}
	ib := rgbIndices(vb[0], vb[1], vb[2])
	ia := rgbIndices(va[0], va[1], va[2])
	return [3]float64{ia[0] - ib[0], ia[1] - ib[1], ia[2] - ib[2]}
}

func (m *indexChange) stat(i int) (float64, bool) {
	if !m.ok(i) {
		return 0, false
	}
	d := m.diffs(i)
	z := 0.0
	for k := 0; k < 3; k++ {
		e := (d[k] - m.med[k]) / m.scale[k]
		z += e * e
	}
	return z, true
}

func (m *indexChange) dof() int { return 3 }

func (m *indexChange) normalize(r string, v float64) float64 {
	for k, role := range rgbRoles {
		if role == r {
			return m.gain[k]*v + m.offset[k]
		}
	}
	return v
}
