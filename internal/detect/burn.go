package detect

// burnField tells burned pixels by the fall of the normalized burn ratio
// NBR = (nir − swir2)/(nir + swir2) between the dates (dNBR, Key and Benson 2006): fire
// removes the leaves that reflect nir and leaves char and dry soil that reflect swir2. The
// dNBR of the scene's typical pixel (the median over clear pixels, at most the threshold
// either way) is taken away, so a haze, a calibration change or a season that lowers NBR
// everywhere does not count as fire. NBR is a ratio: a gain common to both bands cancels.
//
// Fire darkens or greys the visible bands; a pixel whose visible brightness rose by
// BrightnessRise beyond the scene's typical rise is no burn but a new surface (a blue steel
// roof over a field lowers NBR too).
type burnField struct {
	nirB, swirB, nirA, swirA []float32
	visB, visA               [][]float32
	visCenter, visRise       float64
	normalize                func(r string, v float64) float64
	center                   float64 // median dNBR of clear pixels
	threshold                float64 // BurnDNBR
}

// newBurnField returns nil when either date lacks nir or swir2.
func newBurnField(before, after *Grid, ok func(int) bool, field changeField, threshold, brightnessRise float64) *burnField {
	b := &burnField{nirB: before.Band(BandNIR), swirB: before.Band(BandSWIR2),
		nirA: after.Band(BandNIR), swirA: after.Band(BandSWIR2),
		normalize: field.normalize, threshold: threshold, visRise: brightnessRise}
	if b.nirB == nil || b.swirB == nil || b.nirA == nil || b.swirA == nil {
		return nil
	}
	for _, r := range []string{BandBlue, BandGreen, BandRed} {
		if vb, va := before.Band(r), after.Band(r); vb != nil && va != nil {
			b.visB, b.visA = append(b.visB, vb), append(b.visA, va)
		}
	}
	n := before.Width * before.Height
	s, sv := newSampler(n, 1<<16), newSampler(n, 1<<16)
	for i := 0; i < n; i++ {
		if ok(i) {
			s.add(b.raw(i))
			sv.add(b.visDiff(i))
		}
	}
	if len(s.vals) == 0 {
		return nil
	}
	b.visCenter = median(sv.vals)
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

// visDiff is the rise of mean visible reflectance at pixel i (0 without visible bands).
func (b *burnField) visDiff(i int) float64 {
	d := 0.0
	for k := range b.visB {
		d += float64(b.visA[k][i]) - float64(b.visB[k][i])
	}
	return d / float64(max(1, len(b.visB)))
}

// dNBR is the dNBR of pixel i beyond the scene's typical one.
func (b *burnField) dNBR(i int) float64 { return b.raw(i) - b.center }

// burnt reports whether pixel i's NBR fell by at least the threshold and its nir with it,
// while its visible brightness did not rise by BrightnessRise beyond the scene's.
func (b *burnField) burnt(i int) bool {
	return b.dNBR(i) >= b.threshold && b.normalize(BandNIR, float64(b.nirA[i])) < float64(b.nirB[i]) &&
		b.visDiff(i)-b.visCenter < b.visRise
}
