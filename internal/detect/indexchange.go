package detect

import "math"

// indexChange is the change statistic of RGB captures: robust z-scores of index
// differences after matching each after band to the before band by median and
// interquartile range.
type indexChange struct {
	before, after [3][]float32 // red, green, blue
	dx, dy        int          // after pixel (x+dx, y+dy) shows what before pixel (x, y) shows
	corr0, corr   float64      // brightness correlation unshifted and at (dx, dy)
	sb, sa        [3][]float32 // the same, box means of radius smooth (or the bands)
	ok            func(int) bool
	w, h, smooth  int
	gain, offset  [3]float64
	med, scale    [3]float64 // of the three index differences
}

var rgbRoles = [3]string{BandRed, BandGreen, BandBlue}

// shifted returns the index of the after pixel that corresponds to before pixel i,
// clamped to the grid.
func (m *indexChange) shifted(i int) int {
	if m.dx == 0 && m.dy == 0 {
		return i
	}
	x := min(m.w-1, max(0, i%m.w+m.dx))
	y := min(m.h-1, max(0, i/m.w+m.dy))
	return y*m.w + x
}

// coregister finds the whole-pixel shift of the after date, within maxShift pixels each
// way, that best correlates its brightness with the before date's over the sampled pixels
// idx; a shift is taken only when it raises the correlation by at least 0.05 over none,
// so that texture alone does not move the dates.
func (m *indexChange) coregister(idx []int, maxShift int) {
	bright := func(b [3][]float32, i int) float64 { return float64(b[0][i]+b[1][i]+b[2][i]) / 3 }
	corr := func(dx, dy int) float64 {
		var sx, sy, sxx, syy, sxy, n float64
		for _, i := range idx {
			x, y := i%m.w+dx, i/m.w+dy
			if x < 0 || y < 0 || x >= m.w || y >= m.h {
				continue
			}
			a, b := bright(m.before, i), bright(m.after, y*m.w+x)
			sx, sy, sxx, syy, sxy, n = sx+a, sy+b, sxx+a*a, syy+b*b, sxy+a*b, n+1
		}
		if n < 30 {
			return -1
		}
		vx, vy := sxx-sx*sx/n, syy-sy*sy/n
		if vx <= 0 || vy <= 0 {
			return -1
		}
		return (sxy - sx*sy/n) / math.Sqrt(vx*vy)
	}
	m.corr0 = corr(0, 0)
	m.corr = m.corr0
	for dy := -maxShift; dy <= maxShift; dy++ {
		for dx := -maxShift; dx <= maxShift; dx++ {
			if c := corr(dx, dy); c > m.corr {
				m.dx, m.dy, m.corr = dx, dy, c
			}
		}
	}
	if m.corr < m.corr0+0.05 {
		m.dx, m.dy, m.corr = 0, 0, m.corr0
	}
}

func newIndexChange(before, after *Grid, ok func(int) bool, smooth, maxShift int, floors [3]float64) (*indexChange, error) {
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
	m.sb, m.sa = m.before, m.after
	if smooth > 0 {
		for k := 0; k < 3; k++ {
			m.sb[k] = boxMean(m.before[k], ok, m.w, m.h, smooth)
			m.sa[k] = boxMean(m.after[k], ok, m.w, m.h, smooth)
		}
	}
	n := before.Width * before.Height
	var idx []int
	stride := max(1, n/(1<<16))
	for i := 0; i < n; i += stride {
		if ok(i) {
			idx = append(idx, i)
		}
	}
	if len(idx) < 30 {
		return nil, errTooFewPixels
	}
	if maxShift > 0 {
		m.coregister(idx, maxShift)
	}
	// Band matching: by quantiles (gain from the interquartile ranges, offset from the
	// medians), which is exact for a gain and an offset and, unlike a regression of one date
	// on the other, not pulled towards 0 where pixels of the dates correlate weakly
	// (texture, parallax, sub-pixel shifts).
	m.gain, m.offset = [3]float64{1, 1, 1}, [3]float64{}
	m.match(idx, 0.25, 0.75)
	stable := m.spread(idx, floors)
	// Refit on the pixels that did not change, from their 5th to their 95th percentiles:
	// the interquartile range of the whole scene is that of its commonest surfaces, and a
	// gain set by it misses an exposure change on the dark ones (asphalt, shade, water),
	// whose chromaticities a wrong offset then moves by more than a new roof would. Only
	// where the stable pixels are most of the scene (stableShare): where change is
	// widespread, Otsu's split leaves changed pixels among them, and the quartile match
	// of every pixel is the safer of the two.
	if float64(len(stable)) >= stableShare*float64(len(idx)) {
		m.match(stable, 0.05, 0.95)
		m.spread(idx, floors)
	}
	return m, nil
}

// stableShare is the least share of the sampled pixels that must be stable (below Otsu's
// threshold on the change statistic) for the band matching to be refitted on them. A tuned
// value, chosen on make eval's drone cases and LEVIR-CD pairs: the drone cases of evalgen
// seed 1 have stable shares of 0.71–0.98 and all are refitted.
const stableShare = 0.7

// match sets each after band's gain and offset so that its quantiles lo and hi over the
// pixels idx land on the before band's. Only gains within [2/3, 3/2] are applied:
// exposure and sensor differences stay within them, and beyond them the distributions
// differ because the land changed (a new estate over a field, whose matching would map the
// new roofs onto the old field); otherwise the matching stays as it was.
func (m *indexChange) match(idx []int, lo, hi float64) {
	vb, va := make([]float64, len(idx)), make([]float64, len(idx))
	var gain, offset [3]float64
	for k := 0; k < 3; k++ {
		for t, i := range idx {
			vb[t], va[t] = float64(m.before[k][i]), float64(m.after[k][m.shifted(i)])
		}
		qb, qa := quantiles(vb, lo, 0.5, hi), quantiles(va, lo, 0.5, hi)
		gain[k] = 1
		if r := qa[2] - qa[0]; r > 1e-6 && qb[2]-qb[0] > 1e-6 {
			gain[k] = (qb[2] - qb[0]) / r
		}
		if gain[k] < 2.0/3 || gain[k] > 1.5 {
			return
		}
		offset[k] = qb[1] - gain[k]*qa[1]
	}
	m.gain, m.offset = gain, offset
}

// spread sets the median and scale of each index difference from the pixels that did not
// change, found without assuming they are most of the scene: from every sampled pixel
// first, then, a few times over, from those below Otsu's threshold on the change
// statistic. It returns those pixels.
//
// Where nearly the whole scene changed there is no such class, so the spread is capped by
// the one of differences between pixels a smoothing window apart: a change larger than the
// window adds to it only along its edges, so it measures the noise however much of the
// scene changed.
func (m *indexChange) spread(idx []int, floors [3]float64) []int {
	lagged := m.laggedScale(idx)
	stable := idx
	for it := 0; it < 4; it++ {
		var d [3][]float64
		for _, i := range stable {
			v := m.diffs(i)
			for k := range d {
				d[k] = append(d[k], v[k])
			}
		}
		for k := range d {
			med, mad := medianMAD(d[k])
			m.med[k] = med
			m.scale[k] = math.Max(math.Min(madScale*mad, lagged[k]), math.Max(floors[k], 1e-4))
		}
		zs := make([]float64, len(idx))
		for t, i := range idx {
			z, _ := m.stat(i)
			zs[t] = math.Log1p(z)
		}
		cut := otsu(append([]float64(nil), zs...))
		next := make([]int, 0, len(idx))
		for t, i := range idx {
			if zs[t] < cut {
				next = append(next, i)
			}
		}
		if len(next) < 30 {
			break
		}
		stable = next
	}
	return stable
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
	j := m.shifted(i)
	for k := 0; k < 3; k++ {
		vb[k] = float64(m.sb[k][i])
		va[k] = m.gain[k]*float64(m.sa[k][j]) + m.offset[k]
	}
	ib := rgbIndices(vb[0], vb[1], vb[2])
	ia := rgbIndices(va[0], va[1], va[2])
	return [3]float64{ia[0] - ib[0], ia[1] - ib[1], ia[2] - ib[2]}
}

// boxMean returns the mean of band over the pixels that ok accepts within r (chessboard
// distance) of each pixel, by running sums along rows and then columns; a pixel with none
// keeps its own value.
func boxMean(band []float32, ok func(int) bool, w, h, r int) []float32 {
	n := w * h
	hs, hc := make([]float64, n), make([]float64, n)
	for y := 0; y < h; y++ {
		var s, c float64
		for x := -r; x < w+r; x++ {
			if in := x + r; in < w && ok(y*w+in) {
				s += float64(band[y*w+in])
				c++
			}
			if out := x - r - 1; out >= 0 && ok(y*w+out) {
				s -= float64(band[y*w+out])
				c--
			}
			if x >= 0 && x < w {
				hs[y*w+x], hc[y*w+x] = s, c
			}
		}
	}
	out := make([]float32, n)
	for x := 0; x < w; x++ {
		var s, c float64
		for y := -r; y < h+r; y++ {
			if in := y + r; in < h {
				s += hs[in*w+x]
				c += hc[in*w+x]
			}
			if o := y - r - 1; o >= 0 {
				s -= hs[o*w+x]
				c -= hc[o*w+x]
			}
			if y >= 0 && y < h {
				i := y*w + x
				out[i] = band[i]
				if c > 0.5 {
					out[i] = float32(s / c)
				}
			}
		}
	}
	return out
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

// laggedScale returns, for each index difference, the robust spread of the differences
// between the sampled pixels and the pixels one smoothing window (at least one pixel)
// further right and further down, divided by √2: the noise of one pixel where change
// comes in regions wider than the window.
func (m *indexChange) laggedScale(idx []int) [3]float64 {
	lag := 2*m.smooth + 1
	var d [3][]float64
	for _, i := range idx {
		x, y := i%m.w, i/m.w
		v := m.diffs(i)
		for _, j := range [2]int{i + lag, i + lag*m.w} {
			if (j == i+lag && x+lag >= m.w) || (j != i+lag && y+lag >= m.h) || !m.ok(j) {
				continue
			}
			u := m.diffs(j)
			for k := range d {
				d[k] = append(d[k], v[k]-u[k])
			}
		}
	}
	var out [3]float64
	for k := range d {
		out[k] = math.Inf(1)
		if len(d[k]) >= 30 {
			_, mad := medianMAD(d[k])
			out[k] = madScale * mad / math.Sqrt2
		}
	}
	return out
}
