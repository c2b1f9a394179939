package detect

import (
	"errors"
	"fmt"
	"math"
)

// Change thresholds (ChangeParams.Threshold).
const (
	// ThresholdChi2: changed where the statistic's chi-square distribution function
	// exceeds Probability; right when change is rare, so that the unchanged pixels set
	// the noise scale.
	ThresholdChi2 = "chi2"
	// ThresholdOtsu: the larger of that and Otsu's threshold over the logarithm of the
	// statistic, which splits changed from unchanged pixels whatever their shares: aerial
	// pairs years apart often change over a third of the scene.
	ThresholdOtsu = "otsu"
)

// otsuThreshold returns the larger of floor and Otsu's threshold over log(1 + z) of the
// clear pixels (a regular sample).
func otsuThreshold(field changeField, n int, floor float64) float64 {
	s := newSampler(n, 1<<16)
	for i := 0; i < n; i++ {
		if z, ok := field.stat(i); ok {
			s.add(math.Log1p(z))
		}
	}
	if len(s.vals) == 0 {
		return floor
	}
	return math.Max(floor, math.Expm1(otsu(s.vals)))
}

// Land covers of the typical dNBR (ChangeParams.BurnTypical).
const (
	BurnTypicalNBR   = "nbr"
	BurnTypicalCover = "cover"
)

// Change methods.
const (
	MethodIRMAD = "irmad" // iteratively re-weighted MAD (multispectral)
	MethodIndex = "index" // robust index differences (RGB-only captures)
)

// ChangeParams configures DetectChange. Zero values take the defaults given.
type ChangeParams struct {
	// Method is MethodIRMAD or MethodIndex; default MethodIRMAD when both grids have a nir
	// band, else MethodIndex.
	Method string `yaml:"method"`
	// Bands are the roles IR-MAD uses; default every role of blue, green, red, nir,
	// swir1, swir2 that both grids have.
	Bands []string `yaml:"bands"`
	// Probability: a pixel changed when the chi-square distribution function of its change
	// statistic exceeds it. Default 0.999.
	Probability float64 `yaml:"probability"`
	// Threshold is ThresholdChi2 (default) or ThresholdOtsu.
	Threshold string `yaml:"threshold"`
	// MaxIterations bounds the IR-MAD re-weighting; default 30.
	MaxIterations int `yaml:"max_iterations"`
	// Tolerance stops IR-MAD when no canonical correlation moves more; default 1e-3.
	Tolerance float64 `yaml:"tolerance"`
	// MinPixels is the minimum mapping unit in pixels; default 6.
	MinPixels int `yaml:"min_pixels"`
	// MinArea, SmoothM and CoreRadiusM give MinPixels, Smooth and CoreRadius in metres,
	// so that one pipeline serves captures of any pixel size (drone orthomosaics at 3 cm
	// and aerial images at 0.5 m alike); each, when set, replaces its pixel count, rounded
	// at the grid's pixel size (Grid.MetresPerUnit). Default 0 (unset).
	MinArea     float64 `yaml:"min_area_m2"`
	SmoothM     float64 `yaml:"smooth_m"`
	CoreRadiusM float64 `yaml:"core_radius_m"`
	// MinWidth is the least width, in metres, of a new_structure or earthwork region: the
	// side of the largest square of its core (the pixels of at least its median statistic,
	// component.squareSide). Cars parked and gone pass an area threshold where a few touch,
	// but their strongest change lies within one car, under 2 m wide; a shed, a roof or a
	// spoil heap is wider. Default 0 (any width).
	MinWidth float64 `yaml:"min_width_m"`
	// Smooth is the radius of the box mean applied to each band before the index method
	// computes its indices, against sensor noise and texture in centimetre imagery;
	// default 0 (none).
	Smooth int `yaml:"smooth"`
	// MaxShift is how far, in metres, the index method (RGB) searches for a whole-pixel
	// shift between the dates (orthomosaics of two flights rarely register exactly): the
	// after date is compared at the shift that best correlates the dates' brightness, and
	// shift and correlations go into the findings' parameters as coreg_*. Default 1; a
	// negative value turns the check off.
	MaxShift float64 `yaml:"max_shift_m"`
	// MinBrightnessChange and MinChromaChange floor the noise scale of the index method's
	// brightness and chromaticity differences: a change must be several times larger to
	// count, however quiet the scene, so that misregistered texture in centimetre imagery
	// does not; default 0 (the robust scale alone).
	MinBrightnessChange float64 `yaml:"min_brightness_change"`
	MinChromaChange     float64 `yaml:"min_chroma_change"`
	// Mask chooses how clouds, shadows and snow are masked: MaskAuto (default), MaskSCL,
	// MaskSpectral or MaskNone.
	Mask string `yaml:"mask"`
	// RoofMaxArea is the largest bright object, in m², that may be a roof: without the
	// spectral mask's other evidence of cloud (a shadow, a soft edge) a bright object is
	// masked as cloud only when larger; default 100000 (10 ha).
	RoofMaxArea float64 `yaml:"roof_max_area_m2"`
	// ShadowReach is how far from a cloud, in metres, the spectral mask looks for its
	// shadow (cloud height over the tangent of the sun's elevation); default 2000.
	ShadowReach float64 `yaml:"shadow_reach_m"`
	// CloudBuffer widens the masked area (no data, cloud, shadow, snow) of either date by
	// this many pixels, for the thin haze and shadow around clouds that masks miss;
	// default 6.
	CloudBuffer int `yaml:"cloud_buffer"`
	// CoreRadius is the radius of the morphological opening applied to the change mask:
	// changed regions must be at least 2r+1 pixels thick somewhere, so the one-pixel lines
	// that sub-pixel misregistration draws along sharp boundaries are dropped; default 1.
	CoreRadius int `yaml:"core_radius"`
	// SamplePixels caps the pixels, taken on a regular grid, from which IR-MAD estimates
	// its transformation; every pixel is still tested. Default 131072.
	SamplePixels int `yaml:"sample_pixels"`
	// BlockRows is the number of rows processed at a time; default 256.
	BlockRows int `yaml:"block_rows"`
	// NDVIDrop is the NDVI fall that makes a change of vegetated land (NDVI at least
	// VegetationNDVI before) vegetation_loss, or a fall by at least half its value for
	// sparse and dry vegetation; default 0.2.
	NDVIDrop float64 `yaml:"ndvi_drop"`
	// VegetationNDVI is the least NDVI before of land that can lose vegetation: dry grass
	// and chaparral stay near 0.15–0.3; default 0.15.
	VegetationNDVI float64 `yaml:"vegetation_ndvi"`
	// BurnDNBR is the fall of the normalized burn ratio NBR = (nir − swir2)/(nir + swir2),
	// beyond the scene's typical fall, that marks a pixel burnt (with nir falling too) and a
	// region burn (USGS low-severity threshold, Key and Benson 2006); burnt pixels count as
	// changed even where IR-MAD did not flag them, and a burn region's unburnt islands
	// belong to it, as they do to a fire perimeter. Needs nir and swir2 on both dates;
	// default 0.1.
	BurnDNBR float64 `yaml:"burn_dnbr"`
	// BurnClosing is the width in metres of unburnt gaps between burnt pixels that a burn
	// scar bridges (morphological closing), so that a fire that left patches and lanes
	// unburnt is mapped as one scar, as its perimeter would be; default 60.
	BurnClosing float64 `yaml:"burn_closing_m"`
	// BurnMinArea (m²) and BurnMinShare are the least area of a burn scar and the least
	// share of it that is burnt: scattered pixels along field edges, where sub-pixel
	// misregistration and a season that moves NBR over one cover put a few over the
	// threshold, close into small or sparse scars that no fire made; defaults 10000 (1 ha)
	// and 0.3.
	BurnMinArea  float64 `yaml:"burn_min_area_m2"`
	BurnMinShare float64 `yaml:"burn_min_share"`
	// BurnTypical says over what the typical dNBR is taken that BurnDNBR counts beyond:
	// BurnTypicalNBR (default), pixels of similar NBR on the before date, or
	// BurnTypicalCover, the pixel's land cover (the CoverClusters k-means covers).
	BurnTypical string `yaml:"burn_typical"`
	// MNDWIChange is the MNDWI (NDWI without swir1) shift across 0.1 that makes a change
	// water_change; default 0.3.
	MNDWIChange float64 `yaml:"mndwi_change"`
	// BrightnessRise is the rise of mean visible reflectance that makes a change
	// new_structure or earthwork; default 0.04.
	BrightnessRise float64 `yaml:"brightness_rise"`
	// CoverClusters is how many land covers IR-MAD tells apart on the before date
	// (coverField): a pixel changed only when it departs from its cover's common trend too,
	// so that a season moving crops, grass and forest each their own way is no change.
	// Default 8; 1 takes the scene as one cover.
	CoverClusters int `yaml:"cover_clusters"`
	// Misregistration is how many pixels the dates may be out of register (IR-MAD only):
	// a pixel over the threshold is compared with the range its neighbourhood within this
	// radius spans on the other date, per MAD variate and both ways (irmad.tolerantStat), so
	// that the edges of unchanged roofs and fields a sub-pixel shift draws are no change.
	// Default 0 (the plain statistic).
	Misregistration int `yaml:"misregistration_px"`
}

func (p ChangeParams) withDefaults() ChangeParams {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.Probability, 0.999)
	def(&p.MaxShift, 1)
	defi(&p.MaxIterations, 30)
	def(&p.Tolerance, 1e-3)
	defi(&p.MinPixels, 6)
	defi(&p.BlockRows, 256)
	defi(&p.CoreRadius, 1)
	defi(&p.CloudBuffer, 6)
	defi(&p.SamplePixels, 1<<17)
	def(&p.NDVIDrop, 0.2)
	def(&p.RoofMaxArea, 100000)
	def(&p.ShadowReach, 2000)
	def(&p.VegetationNDVI, 0.15)
	def(&p.BurnDNBR, 0.1)
	def(&p.BurnClosing, 60)
	def(&p.BurnMinArea, 10000)
	def(&p.BurnMinShare, 0.3)
	def(&p.MNDWIChange, 0.3)
	def(&p.BrightnessRise, 0.04)
	defi(&p.CoverClusters, 8)
	return p
}

// Validate checks the parameters after defaults are applied.
func (p ChangeParams) Validate() error {
	p = p.withDefaults()
	switch p.Mask {
	case "", MaskAuto, MaskSCL, MaskSpectral, MaskNone:
	default:
		return &ParamError{"mask", fmt.Sprintf("must be one of %s, %s, %s, %s", MaskAuto, MaskSCL, MaskSpectral, MaskNone)}
	}
	if p.Threshold != "" && p.Threshold != ThresholdChi2 && p.Threshold != ThresholdOtsu {
		return &ParamError{"threshold", fmt.Sprintf("must be %q or %q", ThresholdChi2, ThresholdOtsu)}
	}
	if p.BurnTypical != "" && p.BurnTypical != BurnTypicalNBR && p.BurnTypical != BurnTypicalCover {
		return &ParamError{"burn_typical", fmt.Sprintf("must be %q or %q", BurnTypicalNBR, BurnTypicalCover)}
	}
	if p.Method != "" && p.Method != MethodIRMAD && p.Method != MethodIndex {
		return &ParamError{"method", fmt.Sprintf("must be %q or %q", MethodIRMAD, MethodIndex)}
	}
	for i, b := range p.Bands {
		switch b {
		case BandBlue, BandGreen, BandRed, BandNIR, BandNIRNarrow, BandSWIR1, BandSWIR2:
		default:
			return &ParamError{fmt.Sprintf("bands[%d]", i), fmt.Sprintf("unknown band role %q", b)}
		}
	}
	return firstErr(
		open01("probability", p.Probability),
		atLeast("max_iterations", p.MaxIterations, 1),
		positive("tolerance", p.Tolerance),
		atLeast("min_pixels", p.MinPixels, 1),
		atLeast("block_rows", p.BlockRows, 1),
		atLeast("core_radius", p.CoreRadius, 1),
		atLeast("cloud_buffer", p.CloudBuffer, 0),
		atLeast("smooth", p.Smooth, 0),
		nonNegative("min_area_m2", p.MinArea),
		nonNegative("min_width_m", p.MinWidth),
		nonNegative("smooth_m", p.SmoothM),
		nonNegative("core_radius_m", p.CoreRadiusM),
		nonNegative("min_brightness_change", p.MinBrightnessChange),
		nonNegative("min_chroma_change", p.MinChromaChange),
		atLeast("sample_pixels", p.SamplePixels, 1000),
		atLeast("cover_clusters", p.CoverClusters, 1),
		atLeast("misregistration_px", p.Misregistration, 0),
		open01("ndvi_drop", p.NDVIDrop),
		positive("roof_max_area_m2", p.RoofMaxArea),
		positive("shadow_reach_m", p.ShadowReach),
		open01("vegetation_ndvi", p.VegetationNDVI),
		open01("burn_dnbr", p.BurnDNBR),
		nonNegative("burn_closing_m", p.BurnClosing),
		positive("burn_min_area_m2", p.BurnMinArea),
		open01("burn_min_share", p.BurnMinShare),
		open01("mndwi_change", p.MNDWIChange),
		open01("brightness_rise", p.BrightnessRise),
	)
}

// inPixels sets MinPixels, Smooth and CoreRadius from their metre forms where those are
// set, for pixels of px metres.
func (p ChangeParams) inPixels(px float64) ChangeParams {
	if p.MinArea > 0 {
		p.MinPixels = max(1, int(math.Round(p.MinArea/(px*px))))
	}
	if p.SmoothM > 0 {
		p.Smooth = int(math.Round(p.SmoothM / px))
	}
	if p.CoreRadiusM > 0 {
		p.CoreRadius = max(1, int(math.Round(p.CoreRadiusM/px)))
	}
	return p
}

func (p ChangeParams) record(method string, iterations int) map[string]float64 {
	m := map[string]float64{
		"probability": p.Probability, "min_pixels": float64(p.MinPixels), "core_radius": float64(p.CoreRadius),
		"cloud_buffer": float64(p.CloudBuffer), "roof_max_area_m2": p.RoofMaxArea, "shadow_reach_m": p.ShadowReach,
		"ndvi_drop": p.NDVIDrop, "mndwi_change": p.MNDWIChange, "brightness_rise": p.BrightnessRise,
		"vegetation_ndvi": p.VegetationNDVI,
	}
	for k, v := range map[string]float64{"min_area_m2": p.MinArea, "min_width_m": p.MinWidth, "smooth_m": p.SmoothM, "core_radius_m": p.CoreRadiusM} {
		if v > 0 {
			m[k] = v
		}
	}
	if p.Threshold == ThresholdOtsu {
		m["threshold_otsu"] = 1
	}
	if method == MethodIRMAD {
		m["max_iterations"] = float64(p.MaxIterations)
		m["tolerance"] = p.Tolerance
		m["iterations"] = float64(iterations)
		m["sample_pixels"] = float64(p.SamplePixels)
		m["cover_clusters"] = float64(p.CoverClusters)
		m["misregistration_px"] = float64(p.Misregistration)
		m["burn_dnbr"] = p.BurnDNBR
		m["burn_closing_m"] = p.BurnClosing
		m["burn_min_area_m2"] = p.BurnMinArea
		m["burn_min_share"] = p.BurnMinShare
		if p.BurnTypical == BurnTypicalCover {
			m["burn_typical_cover"] = 1
		}
	} else {
		m["smooth"] = float64(p.Smooth)
		m["max_shift_m"] = p.MaxShift
		m["min_brightness_change"] = p.MinBrightnessChange
		m["min_chroma_change"] = p.MinChromaChange
	}
	return m
}

// changeField gives each pixel's change statistic, chi-square distributed with dof degrees
// of freedom where nothing changed; ok is false where either date is masked.
type changeField interface {
	stat(i int) (z float64, ok bool)
	dof() int
	// normalize maps the after-date value of band role r at pixel i onto the before
	// date's radiometry.
	normalize(r string, v float64) float64
}

// DetectChange compares two captures on the same grid and returns one finding per changed
// region of at least MinPixels pixels, labelled from what its spectra did and attributed to
// the parcels it intersects or lies within attr.Buffer of (all regions when attr has no
// parcels). Masked pixels (no data, cloud, shadow, snow) on either date never change. A
// scene with too few clear pixels yields no findings.
//
// IR-MAD (Nielsen 2007): canonical correlation analysis between the dates gives MAD variates
// whose standardized sum of squares is chi-square with one degree of freedom per band where
// nothing changed; pixels are re-weighted by their no-change probability until the
// canonical correlations settle. The statistic is invariant to any affine transformation
// of either date's bands, so gain, offset and linear seasonal shifts do not count as change.
// Statistics are accumulated in float64 over row blocks; no full-scene float64 copy is made.
//
// The index method (RGB captures) matches each after band to the before band by median and
// MAD, then takes robust z-scores of the differences of brightness and of the red and green
// chromaticities; their sum of squares is compared with chi-square, 3 degrees of freedom.
func DetectChange(before, after *Grid, p ChangeParams, attr Attribution) ([]Finding, error) {
	if err := before.Validate(); err != nil {
		return nil, err
	}
	if err := after.Validate(); err != nil {
		return nil, err
	}
	if err := sameGrid(before, after); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults().inPixels(before.PixelMetres())
	method := p.Method
	if method == "" {
		method = MethodIndex
		if before.Band(BandNIR) != nil && after.Band(BandNIR) != nil {
			method = MethodIRMAD
		}
	}
	ok := clearBoth(before, after, p)
	var field changeField
	iterations := 0
	var shift [2]int     // index method: whole-pixel shift of the after date
	var coreg [2]float64 // brightness correlation unshifted and shifted
	switch method {
	case MethodIRMAD:
		roles := p.Bands
		if len(roles) == 0 {
			for _, r := range []string{BandBlue, BandGreen, BandRed, BandNIR, BandSWIR1, BandSWIR2} {
				if before.Band(r) != nil && after.Band(r) != nil {
					roles = append(roles, r)
				}
			}
		}
		m, err := newIRMAD(before, after, roles, ok, p)
		if errors.Is(err, errTooFewPixels) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		iterations = m.iterations
		field = newCoverField(m, p.CoverClusters, p)
		if p.Misregistration > 0 {
			from := chi2Quantile(p.Probability, len(roles))
			m.tolerate(p.Misregistration, from, ok)
			if cf, isCover := field.(*coverField); isCover {
				for _, c := range cf.covers {
					if c != nil {
						c.tolerate(p.Misregistration, from, ok)
					}
				}
			}
		}
	default:
		maxShift := int(math.Ceil(p.MaxShift / before.PixelMetres()))
		m, err := newIndexChange(before, after, ok, p.Smooth, maxShift, [3]float64{p.MinBrightnessChange, p.MinChromaChange, p.MinChromaChange})
		if errors.Is(err, errTooFewPixels) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		field = m
		shift = [2]int{m.dx, m.dy}
		coreg = [2]float64{m.corr0, m.corr}
	}
	zThr := chi2Quantile(p.Probability, field.dof())
	if p.Threshold == ThresholdOtsu {
		zThr = otsuThreshold(field, before.Width*before.Height, zThr)
	}
	var burn *burnField
	if method == MethodIRMAD {
		burn = newBurnField(before, after, ok, field, p.BurnDNBR, p.BrightnessRise, p.BurnTypical == BurnTypicalCover)
	}
	w, h := before.Width, before.Height
	params := p.record(method, iterations)
	if method == MethodIndex {
		params["coreg_shift_x_px"], params["coreg_shift_y_px"] = float64(shift[0]), float64(shift[1])
		params["coreg_correlation"], params["coreg_correlation_shifted"] = coreg[0], coreg[1]
	}
	var out []Finding
	var scars []bool // pixels of burn regions, which no other finding repeats
	if burn != nil {
		var fs []Finding
		fs, scars = burnFindings(before, after, burn, ok, field, p, params, attr)
		out = append(out, fs...)
	}
	lab := newLabeler()
	open := newOpener(p.CoreRadius, w, h, lab.addRow)
	row := make([]bool, w)
	for y0 := 0; y0 < h; y0 += p.BlockRows {
		for y := y0; y < min(h, y0+p.BlockRows); y++ {
			for x := 0; x < w; x++ {
				i := y*w + x
				z, good := field.stat(i)
				row[x] = good && z > zThr && (scars == nil || !scars[i])
			}
			open.push(y, row)
		}
	}
	open.flush()
	for _, c := range lab.components(p.MinPixels) {
		f := Finding{Detector: "change", Kind: KindChange, Params: params}
		core := strongest(c, field, w)
		f.Measures = changeMeasures(before, after, c, field, core)
		var sumZ, sumCore float64
		nCore := 0
		c.each(func(x, y int) {
			z, _ := field.stat(y*w + x)
			sumZ += z
			if core(x, y) {
				sumCore += z
				nCore++
			}
		})
		meanZ := sumZ / float64(c.pixels)
		f.Measures["mean_chi2"] = meanZ
		f.Measures["core_chi2"] = sumCore / float64(nCore)
		f.Class = classifyChange(f.Measures, p)
		if f.Class == "" {
			continue // vegetation growing or senescing: a seasonal shift, not evidence
		}
		if (f.Class == ClassNewStructure || f.Class == ClassEarthwork) && float64(c.squareSide(core))*before.PixelMetres() < p.MinWidth {
			continue // narrower than a building or a heap: cars, kerbs, a fence's shadow
		}
		// Score: how far the region's mean statistic lies beyond the threshold, damped for
		// regions near the minimum mapping unit. RGB regions are scored by their core (the
		// half with the stronger statistic): at decimetre pixels a region takes in mixed
		// edge pixels and the yard beside a new roof, which would dilute the mean.
		strength := meanZ
		if method == MethodIndex {
			strength = f.Measures["core_chi2"]
		}
		f.Score = clamp01((1 - zThr/strength) * sizeDamping(c, p))
		if finish(before, c, attr, &f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// sizeDamping is 1 for regions of at least twice the minimum mapping unit, down to 0.75
// at the unit.
func sizeDamping(c *component, p ChangeParams) float64 {
	return 0.5 + 0.5*math.Min(1, float64(c.pixels)/float64(2*p.MinPixels))
}

// burnFindings maps burn scars: burnt pixels (burnField.burnt, clear on both dates) closed
// over gaps up to BurnClosing metres wide, regions of at least MinPixels with their
// unburnt islands filled, as a fire perimeter has them. It returns the findings and the
// scars' pixels.
func burnFindings(before, after *Grid, burn *burnField, ok func(int) bool, field changeField, p ChangeParams, params map[string]float64, attr Attribution) ([]Finding, []bool) {
	w, h := before.Width, before.Height
	burnt := make([]bool, w*h)
	for i := range burnt {
		burnt[i] = ok(i) && burn.burnt(i)
	}
	mask := burnt
	if r := int(math.Round(p.BurnClosing / before.PixelMetres())); r > 0 {
		mask = closing(burnt, w, h, r)
	}
	lab := newLabeler()
	for y := 0; y < h; y++ {
		lab.addRow(y, mask[y*w:(y+1)*w])
	}
	scars := make([]bool, w*h)
	var out []Finding
	for _, c := range lab.components(p.MinPixels) {
		c = c.filled()
		isBurnt := func(x, y int) bool { return burnt[y*w+x] }
		var sum float64
		n := 0
		c.each(func(x, y int) {
			if isBurnt(x, y) {
				sum += burn.dNBR(y*w + x)
				n++
			}
		})
		px := before.PixelMetres()
		if n < p.MinPixels || float64(c.pixels)*px*px < p.BurnMinArea || float64(n) < p.BurnMinShare*float64(c.pixels) {
			continue
		}
		f := Finding{Detector: "change", Kind: KindChange, Class: ClassBurn, Params: params}
		f.Measures = changeMeasures(before, after, c, field, isBurnt)
		f.Measures["dnbr"] = sum / float64(n)
		f.Measures["burnt_share"] = float64(n) / float64(c.pixels)
		if m := f.Measures; m["ndvi_before"] > 0.3 && m["ndvi_after"] > 0.3 &&
			m["brightness_after"] > m["brightness_before"] && m["dnbr"] < 2*p.BurnDNBR {
			// Still vegetation, brighter, and NBR fell only a little: a crop ripening faster
			// than its neighbours, not a fire, which darkens what it leaves.
			continue
		}
		if f.Measures["ndvi_before"] < 0 {
			// Water before (NDVI below 0): nothing to burn. NBR of dark water is a ratio of
			// noise, which a gain or offset between the dates moves by more than a fire would.
			continue
		}
		c.each(func(x, y int) { scars[y*w+x] = true })
		// Score: how far the scar's dNBR lies beyond BurnDNBR (twice the threshold scores
		// 1), damped for scars near the minimum mapping unit.
		f.Score = clamp01((f.Measures["dnbr"]/p.BurnDNBR - 1) * sizeDamping(c, p))
		if finish(before, c, attr, &f) {
			out = append(out, f)
		}
	}
	return out, scars
}

// clearBoth returns a test for pixels clear on both dates and at least CloudBuffer pixels
// from any pixel masked on either, backed by bitsets (one bit per pixel) so the passes over
// the scene do not re-run the masks. SCL decides where the mode lets it; otherwise the
// spectral pixel tests, object by object against the other date (cloudObjects).
func clearBoth(before, after *Grid, p ChangeParams) func(int) bool {
	buffer := p.CloudBuffer
	w, h := before.Width, before.Height
	n := w * h
	words := (n + 63) / 64
	bad := make([]uint64, words)
	get := func(b []uint64, i int) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
	set := func(b []uint64, i int) { b[i>>6] |= 1 << (uint(i) & 63) }
	for _, d := range [2][2]*Grid{{before, after}, {after, before}} {
		sky := newClearSky(d[0])
		if p.Mask != "" {
			sky.mode = p.Mask
		}
		var objects []bool
		if sky.spectral() {
			other := d[1]
			if other == d[0] {
				other = nil // a single date: no other date to compare with
			}
			objects = cloudObjects(d[0], other, p.RoofMaxArea, p.ShadowReach)
		}
		for i := 0; i < n; i++ {
			if !sky.hasData(i) || objects != nil && objects[i] || objects == nil && !sky.clear(i) {
				set(bad, i)
			}
		}
	}
	if buffer > 0 {
		// Separable dilation by a (2·buffer+1)² square: along rows, then along columns,
		// counting masked pixels in a sliding window.
		hz := make([]uint64, words)
		for y := 0; y < h; y++ {
			cnt := 0
			for x := -buffer; x < w+buffer; x++ {
				if in := x + buffer; in < w && get(bad, y*w+in) {
					cnt++
				}
				if out := x - buffer - 1; out >= 0 && get(bad, y*w+out) {
					cnt--
				}
				if x >= 0 && x < w && cnt > 0 {
					set(hz, y*w+x)
				}
			}
		}
		clear(bad)
		for x := 0; x < w; x++ {
			cnt := 0
			for y := -buffer; y < h+buffer; y++ {
				if in := y + buffer; in < h && get(hz, in*w+x) {
					cnt++
				}
				if out := y - buffer - 1; out >= 0 && get(hz, out*w+x) {
					cnt--
				}
				if y >= 0 && y < h && cnt > 0 {
					set(bad, y*w+x)
				}
			}
		}
	}
	return func(i int) bool { return !get(bad, i) }
}

var errTooFewPixels = errors.New("detect: too few clear pixels")

// strongest returns a test for the pixels of c whose change statistic is at least the
// component's median: the region's core, free of the mixed pixels at its edge.
func strongest(c *component, field changeField, w int) func(x, y int) bool {
	zs := make([]float64, 0, c.pixels)
	c.each(func(x, y int) {
		z, _ := field.stat(y*w + x)
		zs = append(zs, z)
	})
	cut := median(append([]float64(nil), zs...))
	return func(x, y int) bool {
		z, _ := field.stat(y*w + x)
		return z >= cut
	}
}

// changeMeasures averages the spectral indices over the pixels of a region that keep
// says, on both dates, the after date normalized to the before date.
func changeMeasures(before, after *Grid, c *component, field changeField, keep func(x, y int) bool) map[string]float64 {
	roles := []string{BandBlue, BandGreen, BandRed, BandNIR, BandSWIR1, BandSWIR2}
	mb := map[string]float64{}
	ma := map[string]float64{}
	w := before.Width
	for _, r := range roles {
		bb, ba := before.Band(r), after.Band(r)
		if bb == nil || ba == nil {
			continue
		}
		var sb, sa float64
		n := 0
		c.each(func(x, y int) {
			if !keep(x, y) {
				return
			}
			i := y*w + x
			sb += float64(bb[i])
			sa += field.normalize(r, float64(ba[i]))
			n++
		})
		mb[r] = sb / float64(n)
		ma[r] = sa / float64(n)
	}
	out := map[string]float64{}
	ndf := func(a, b float64) float64 {
		if a+b == 0 {
			return 0
		}
		return (a - b) / (a + b)
	}
	for suffix, m := range map[string]map[string]float64{"before": mb, "after": ma} {
		vis := (m[BandGreen] + m[BandRed]) / 2
		if _, ok := m[BandBlue]; ok {
			vis = (m[BandBlue] + m[BandGreen] + m[BandRed]) / 3
		}
		out["brightness_"+suffix] = vis
		if _, ok := m[BandNIR]; ok {
			out["ndvi_"+suffix] = ndf(m[BandNIR], m[BandRed])
			out["nir_"+suffix] = m[BandNIR]
		}
		if _, ok := m[BandSWIR1]; ok {
			out["mndwi_"+suffix] = ndf(m[BandGreen], m[BandSWIR1])
			if _, ok := m[BandNIR]; ok {
				out["ndbi_"+suffix] = ndf(m[BandSWIR1], m[BandNIR])
			}
			out["swir1_"+suffix] = m[BandSWIR1]
			if _, ok := m[BandSWIR2]; ok {
				out["nbr2_"+suffix] = ndf(m[BandSWIR1], m[BandSWIR2])
			}
		} else if _, ok := m[BandNIR]; ok {
			out["mndwi_"+suffix] = ndf(m[BandGreen], m[BandNIR]) // NDWI stands in
		}
		if _, ok := m[BandSWIR2]; ok {
			out["swir2_"+suffix] = m[BandSWIR2]
		}
		if _, ok := m[BandBlue]; ok {
			out["redness_"+suffix] = ndf(m[BandRed], m[BandBlue])
			sum := m[BandBlue] + m[BandGreen] + m[BandRed]
			if sum > 0 {
				out["greenness_"+suffix] = (2*m[BandGreen] - m[BandRed] - m[BandBlue]) / sum
			}
		}
	}
	return out
}

// seasonalShift reports whether a region is vegetation on both dates (NDVI > 0.3) whose
// NDVI moved by less than NDVIDrop and brightness by less than BrightnessRise: crops and
// trees greening or senescing at their own pace, a seasonal shift no scene-wide
// transformation captures.
func seasonalShift(m map[string]float64, p ChangeParams) bool {
	_, ok := m["ndvi_before"]
	return ok && m["ndvi_before"] > 0.3 && m["ndvi_after"] > 0.3 &&
		math.Abs(m["ndvi_after"]-m["ndvi_before"]) < p.NDVIDrop &&
		math.Abs(m["brightness_after"]-m["brightness_before"]) < p.BrightnessRise
}

// thermal reports whether a region changed as a new heat source does: swir2 rose by at
// least BrightnessRise and by more than twice what swir1 rose, to above swir1, while nir
// did not fall.
// Emitted radiance at furnace temperatures adds far more reflectance-equivalent at 2.2 µm
// than at 1.6 µm (Planck's law over the solar irradiance of each band) and never darkens a
// band; no surface a change puts in place does that (roofs and soil are as bright at 1.6 µm
// as at 2.2 µm, char darkens nir). Such a region is the hotspot detector's finding.
func thermal(m map[string]float64, p ChangeParams) bool {
	_, s1 := m["swir1_before"]
	_, s2 := m["swir2_before"]
	if !s1 || !s2 {
		return false
	}
	d := func(k string) float64 { return m[k+"_after"] - m[k+"_before"] }
	return d("swir2") >= p.BrightnessRise && d("swir2") > 2*math.Max(0, d("swir1")) &&
		m["swir2_after"] > m["swir1_after"] && d("nir") > -riseNoise
}

// shade reports whether an RGB region (no nir) only fell into shade: its brightness fell by
// at least BrightnessRise while its colour stayed, red against blue within 0.2 and green
// against both within 0.05. A surface put in shade darkens and turns a little bluer under
// the skylight that still lights it; a new roof, paving or removal changes the material,
// hence the colour.
func shade(m map[string]float64, p ChangeParams) bool {
	_, nir := m["ndvi_before"]
	_, rgb := m["greenness_before"]
	d := func(k string) float64 { return m[k+"_after"] - m[k+"_before"] }
	return rgb && !nir && d("brightness") <= -p.BrightnessRise &&
		math.Abs(d("redness")) < 0.2 && math.Abs(d("greenness")) < 0.05
}

// classifyChange labels a change from its measures, first rule that holds:
//   - burn: NBR fell by at least BurnDNBR beyond the scene's typical fall (measure "dnbr",
//     only with nir and swir2) and nir fell: fire, not a season or haze;
//   - water_change: MNDWI crosses 0.1 and moves by at least MNDWIChange, the wet date dark
//     (mean visible < 0.15): blue steel sheet has a water-like MNDWI but is bright;
//   - "" (not reported) for water on both dates (MNDWI > 0.1): what happens within water
//     (turbidity, algae, waves) is for DetectWaterPlumes;
//   - "" (not reported) for shade on RGB captures (shade);
//   - "" (not reported) for a new heat source (thermal): the hotspot detector reports it;
//   - new_structure when the after surface is roof-like and the before one was not (blue
//     steel: blue above red by 10%; white or grey sheet: brightness > 0.3 with red and blue
//     within 10%);
//   - earthwork: not vegetated on either date (NDVI < 0.3), soil-coloured after and swir1
//     rising by BrightnessRise (without swir1: brightness rising by BrightnessRise or
//     redness by 0.15): bare soil dug or dumped, before sparse vegetation is considered;
//   - vegetation_loss: vegetated before (NDVI ≥ VegetationNDVI, or excess green > 0.1
//     without nir) and NDVI (excess green) falls by NDVIDrop or, for sparse and dry
//     vegetation, by half its value;
//   - "" (not reported) where the after surface is green (NDVI ≥ 0.3, or excess green
//     > 0.1 without nir) and greener than before: vegetation growing or leafing out;
//   - new_structure: brightness rises by BrightnessRise (or NDBI by 0.1) and the after
//     surface is not soil-coloured (red not above blue by 20%): roofs, concrete;
//   - "" (not reported) for a seasonal shift of vegetation (seasonalShift);
//   - other_change otherwise (darkening, removal, ...): no rule explains it, and its
//     warning severity never goes above low.
func classifyChange(m map[string]float64, p ChangeParams) string {
	has := func(k string) bool { _, ok := m[k+"_before"]; return ok }
	d := func(k string) float64 { return m[k+"_after"] - m[k+"_before"] }
	if dnbr, ok := m["dnbr"]; ok && dnbr >= p.BurnDNBR && has("nir") && d("nir") < 0 {
		return ClassBurn
	}
	if has("mndwi") {
		wb, wa := m["mndwi_before"] > 0.1, m["mndwi_after"] > 0.1
		wet := "after"
		if wb {
			wet = "before"
		}
		if wb != wa && math.Abs(d("mndwi")) >= p.MNDWIChange && m["brightness_"+wet] < 0.15 {
			return ClassWaterChange
		}
		if wb && wa {
			return "" // water on both dates: turbidity and the like are the plume detector's
		}
	}
	if shade(m, p) {
		return ""
	}
	if thermal(m, p) {
		return "" // a heat source: the hotspot detector's
	}
	soil := has("redness") && m["redness_after"] > 0.2
	blueRoof := func(when string) bool { return has("redness") && m["redness_"+when] < -0.1 }
	whiteRoof := func(when string) bool {
		return has("redness") && m["brightness_"+when] > 0.3 && math.Abs(m["redness_"+when]) < 0.1
	}
	if (blueRoof("after") && !blueRoof("before")) || (whiteRoof("after") && !whiteRoof("before") && !blueRoof("before")) {
		return ClassNewStructure
	}
	bare := true
	if has("ndvi") {
		bare = m["ndvi_before"] < 0.3 && m["ndvi_after"] < 0.3
	}
	rising := d("brightness") >= p.BrightnessRise || (has("redness") && d("redness") >= 0.15)
	if has("swir1") {
		rising = d("swir1") >= p.BrightnessRise
	}
	if bare && soil && rising {
		return ClassEarthwork
	}
	if has("ndvi") {
		nb := m["ndvi_before"]
		if nb >= p.VegetationNDVI && (d("ndvi") <= -p.NDVIDrop || d("ndvi") <= -nb/2) {
			return ClassVegetationLoss
		}
	} else if has("greenness") {
		if m["greenness_before"] > 0.1 && d("greenness") <= -p.NDVIDrop/2 {
			return ClassVegetationLoss
		}
	}
	greenAfter := (has("ndvi") && m["ndvi_after"] >= 0.3) || (!has("ndvi") && has("greenness") && m["greenness_after"] > 0.1)
	if greenAfter && (d("ndvi") > 0 || !has("ndvi") && d("greenness") > 0) {
		return "" // vegetation growing or leafing out: no evidence of anything built
	}
	brighter := d("brightness") >= p.BrightnessRise || (has("ndbi") && d("ndbi") >= 0.1)
	if brighter && !soil {
		return ClassNewStructure
	}
	if seasonalShift(m, p) {
		return ""
	}
	return ClassOtherChange
}
