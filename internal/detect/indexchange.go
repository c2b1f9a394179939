package detect

import "math"

// indexChange is the change statistic of RGB captures: robust z-scores of index
// differences after matching each after band to the before band by median and MAD.
type indexChange struct {
	before, after [3][]float32 // red, green, blue
	ok            func(int) bool
	w, h, smooth  int
	gain, offset  [3]float64
	med, scale    [3]float64 // of the three index differences
}

var rgbRoles = [3]string{BandRed, BandGreen, BandBlue}

func newIndexChange(before, after *Grid, ok func(int) bool, smooth int, floors [3]float64) (*indexChange, error) {
	xb, err := before.bands(rgbRoles[:]...)
	if err != nil {
		return nil, err
	}
	xa, err := after.bands(rgbRoles[:]...)
	if err != nil {
		return nil, err
	}
	m := &indexChange{ok: ok, w: before.Width, h: before.Height, smooth: smooth}
	copy(m.before[:], xb)
	copy(m.after[:], xa)
	n := before.Width * before.Height
	const maxSamples = 1 << 16
	// Band matching by Theil–Sen: the gain is the median slope between pixel pairs of
	// different brightness, the offset the median residual. It is exact for a gain and an
	// offset and ignores up to about 29% of changed pixels (a wide smoke plume, new roofs),
	// where matching medians and MADs would be bent by them.
	var idx []int
	stride := max(1, n/4096)
	for i := 0; i < n; i += stride {
		if ok(i) {
			idx = append(idx, i)
		}
	}
	if len(idx) < 30 {
		return nil, errTooFewPixels
	}
	for k := 0; k < 3; k++ {
		b, a := m.before[k], m.after[k]
		var slopes []float64
		state := uint64(0x9e3779b97f4a7c15)
		next := func() int { // xorshift, deterministic
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			return int(state % uint64(len(idx)))
		}
		for t := 0; t < 40000 && len(slopes) < 20000; t++ {
			i, j := idx[next()], idx[next()]
			da := float64(a[i]) - float64(a[j])
			if math.Abs(da) < 0.03 {
				continue
			}
			slopes = append(slopes, (float64(b[i])-float64(b[j]))/da)
		}
		g := 1.0
		if len(slopes) >= 30 {
			g = median(slopes)
		}
		res := make([]float64, len(idx))
		for t, i := range idx {
			res[t] = float64(b[i]) - g*float64(a[i])
		}
		m.gain[k], m.offset[k] = g, median(res)
	}
	// The spread of the index differences comes from every clear pixel: median and MAD
	// ignore a minority of changes.
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
		m.scale[k] = math.Max(madScale*mad, math.Max(floors[k], 1e-4))
	}
	return m, nil
}

// rgbIndices returns brightness and red and green chromaticity.
func rgbIndices(r, g, b float64) [3]float64 {
	sum := r + g + b
	if sum <= 0 {
		return [3]float64{}
	}
	return [3]float64{sum / 3, r / sum, g / sum}
}

// diffs returns the index differences at pixel i, the bands averaged over the clear
// pixels within the smoothing radius.
func (m *indexChange) diffs(i int) [3]float64 {
	var vb, va [3]float64
	if m.smooth == 0 {
		for k := 0; k < 3; k++ {
			vb[k] = float64(m.before[k][i])
			va[k] = float64(m.after[k][i])
		}
	} else {
		x0, y0, n := i%m.w, i/m.w, 0
		for y := max(0, y0-m.smooth); y <= min(m.h-1, y0+m.smooth); y++ {
			for x := max(0, x0-m.smooth); x <= min(m.w-1, x0+m.smooth); x++ {
				j := y*m.w + x
				if j != i && !m.ok(j) {
					continue
				}
				for k := 0; k < 3; k++ {
					vb[k] += float64(m.before[k][j])
					va[k] += float64(m.after[k][j])
				}
				n++
			}
		}
		for k := 0; k < 3; k++ {
			vb[k] /= float64(n)
			va[k] /= float64(n)
		}
	}
	for k := 0; k < 3; k++ {
		va[k] = m.gain[k]*va[k] + m.offset[k]
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
