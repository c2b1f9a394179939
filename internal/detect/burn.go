package detect

// burnField tells burned pixels by the fall of the normalized burn ratio
// NBR = (nir − swir2)/(nir + swir2) between the dates (dNBR, Key and Benson 2006): fire
// removes the leaves that reflect nir and leaves char and dry soil that reflect swir2. The
// dNBR typical of the pixel's land cover (the median over clear pixels of similar NBR on
// the before date, at most the threshold) is taken away, so a haze, a calibration change or
// a season that lowers NBR over a whole cover does not count as fire.
//
// Fire darkens or greys the visible bands; a pixel whose visible brightness rose by
// BrightnessRise beyond the scene's typical rise is no burn but a new surface (a blue steel
// roof over a field lowers NBR too).
type burnField struct {
	nirB, swirB, nirA, swirA []float32
	visB, visA               [][]float32
	visCenter, visRise       float64
	normalize                func(r string, v float64) float64
	center                   [nbrBins]float64 // median dNBR of clear pixels per land cover
	threshold                float64          // BurnDNBR
	// cover, when set, is each pixel's land cover (the k-means covers of the change field),
	// which then replaces the before-NBR class as the land cover.
	cover []uint8
}

// newBurnField returns nil when either date lacks nir or swir2.
// With byCover and a field of land covers (coverField), the typical dNBR is taken per
// cover instead of per before-NBR class: crops greening and grass drying can have the same
// NBR before, and one cover's season must not make the other's look burnt.
func newBurnField(before, after *Grid, ok func(int) bool, field changeField, threshold, brightnessRise float64, byCover bool) *burnField {
	b := &burnField{nirB: before.Band(BandNIR), swirB: before.Band(BandSWIR2),
		nirA: after.Band(BandNIR), swirA: after.Band(BandSWIR2),
		normalize: field.normalize, threshold: threshold, visRise: brightnessRise}
	if cf, isCover := field.(*coverField); isCover && byCover {
		b.cover = cf.label
	}
	if b.nirB == nil || b.swirB == nil || b.nirA == nil || b.swirA == nil {
		return nil
	}
	for _, r := range []string{BandBlue, BandGreen, BandRed} {
		if vb, va := before.Band(r), after.Band(r); vb != nil && va != nil {
			b.visB, b.visA = append(b.visB, vb), append(b.visA, va)
		}
	}
	n := before.Width * before.Height
	// The typical dNBR is taken per land cover, by the before date's NBR in steps of 0.05:
	// per-band gains and offsets and the season move NBR differently over vegetation, soil
	// and roofs, but alike over all of one cover, where a fire burns only part of it.
	var counts [nbrBins]int
	for i := 0; i < n; i++ {
		if ok(i) {
			counts[b.bin(i)]++
		}
	}
	var bins [nbrBins]*sampler
	for k, c := range counts {
		bins[k] = newSampler(c, 1<<12)
	}
	all, sv := newSampler(n, 1<<16), newSampler(n, 1<<16)
	for i := 0; i < n; i++ {
		if !ok(i) {
			continue
		}
		d := b.raw(i)
		all.add(d)
		sv.add(b.visDiff(i))
		bins[b.bin(i)].add(d)
	}
	if len(all.vals) == 0 {
		return nil
	}
	b.visCenter = median(sv.vals)
	// A fall beyond the threshold over a whole cover or scene is no haze or calibration:
	// it burnt. A rise (greening, a brighter nir) is taken away whole.
	global := min(threshold, median(all.vals))
	for k, s := range bins {
		b.center[k] = global
		if len(s.vals) >= 50 {
			b.center[k] = min(threshold, median(s.vals))
		}
	}
	return b
}

// nbrBins is the number of before-NBR classes over [−1, 1] that burnField centres apart.
const nbrBins = 40

func nbrBin(v float64) int { return max(0, min(nbrBins-1, int((v+1)/2*nbrBins))) }

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

// dNBR is the dNBR of pixel i beyond the typical one of its land cover.
func (b *burnField) dNBR(i int) float64 { return b.raw(i) - b.center[b.bin(i)] }

// bin is pixel i's land cover: its cover, or else its before-NBR class.
func (b *burnField) bin(i int) int {
	if b.cover != nil {
		return int(b.cover[i])
	}
	return nbrBin(nbr(float64(b.nirB[i]), float64(b.swirB[i])))
}

// burnt reports whether pixel i's NBR fell by at least the threshold and its nir with it,
// while its visible brightness did not rise by BrightnessRise beyond the scene's.
func (b *burnField) burnt(i int) bool {
	return b.dNBR(i) >= b.threshold && b.normalize(BandNIR, float64(b.nirA[i])) < float64(b.nirB[i]) &&
		b.visDiff(i)-b.visCenter < b.visRise
}
