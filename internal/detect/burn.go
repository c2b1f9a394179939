package detect

// burnField tells burned pixels by the fall of the normalized burn ratio
// NBR = (nir − swir2)/(nir + swir2) between the dates (dNBR, Key and Benson 2006): fire
// removes the leaves that reflect nir and leaves char and dry soil that reflect swir2. The
// dNBR of the scene's typical pixel (the median over clear pixels, at most the threshold
// either way) is taken away, so a haze, a calibration change or a season that lowers NBR
// everywhere does not count as fire. NBR is a ratio: a gain common to both bands cancels.
type burnField struct {
	nirB, swirB, nirA, swirA []float32
	normalize                func(r string, v float64) float64
	center                   float64 // median dNBR of clear pixels
	threshold                float64 // BurnDNBR
}

// newBurnField returns nil when either date lacks nir or swir2.
func newBurnField(before, after *Grid, ok func(int) bool, field changeField, threshold float64) *burnField {
	b := &burnField{nirB: before.Band(BandNIR), swirB: before.Band(BandSWIR2),
		nirA: after.Band(BandNIR), swirA: after.Band(BandSWIR2),
		normalize: field.normalize, threshold: threshold}
	if b.nirB == nil || b.swirB == nil || b.nirA == nil || b.swirA == nil {
		return nil
	}
	n := before.Width * before.Height
	s := newSampler(n, 1<<16)
	for i := 0; i < n; i++ {
		if ok(i) {
			s.add(b.raw(i))
		}
	}
	if len(s.vals) == 0 {
		return nil
	}
	// A scene-wide fall beyond the threshold is no haze or calibration: the scene burnt.
	b.center = max(-threshold, min(threshold, median(s.vals)))
	return b
}

func nbr(nir, swir2 float64) float64 {
	if nir+swir2 == 0 {
		return 0
	}
	return (nir - swir2) / (nir + swir2)
}

// raw is the dNBR of pixel i, the after date normalized.
func (b *burnField) raw(i int) float64 {
	before := nbr(float64(b.nirB[i]), float64(b.swirB[i]))
	after := nbr(float64(b.nirA[i]), float64(b.swirA[i]))
	return before - after
}

// dNBR is the dNBR of pixel i beyond the scene's typical one.
func (b *burnField) dNBR(i int) float64 { return b.raw(i) - b.center }

// burnt reports whether pixel i's NBR fell by at least the threshold and its nir with it.
func (b *burnField) burnt(i int) bool {
	return b.dNBR(i) >= b.threshold && b.normalize(BandNIR, float64(b.nirA[i])) < float64(b.nirB[i])
}
