package baseline

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChiSquare(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		k    int
		want float64
	}{
		{3.841459, 1, 0.95},
		{5.991465, 2, 0.95},
		{27.85634, 6, 0.9999},
		{0.5, 3, 0.0811085},
	} {
		if got := ChiSquareCDF(tc.x, tc.k); math.Abs(got-tc.want) > 1e-5 {
			t.Errorf("ChiSquareCDF(%g, %d) = %g, want %g", tc.x, tc.k, got, tc.want)
		}
		if tc.want > 0.5 {
			if got := ChiSquareQuantile(tc.want, tc.k); math.Abs(got-tc.x) > 1e-3 {
				t.Errorf("ChiSquareQuantile(%g, %d) = %g, want %g", tc.want, tc.k, got, tc.x)
			}
		}
	}
}

func TestOtsu(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []float64
		lo, hi float64 // the threshold must fall in (lo, hi]
	}{
		{"two clusters", []float64{0.1, 0.12, 0.11, 0.09, 0.9, 0.92, 0.88}, 0.12, 0.88},
		{"unequal clusters", []float64{1, 1, 1, 1, 1, 1, 1, 1, 10, 11}, 1, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Otsu(tc.values); got <= tc.lo || got > tc.hi {
				t.Errorf("Otsu = %g, want in (%g, %g]", got, tc.lo, tc.hi)
			}
		})
	}
}

func TestPixelBaselines(t *testing.T) {
	// Pixel 0: vegetation that burned (NBR 0.6 → -0.2). Pixel 1: unchanged vegetation.
	// Pixel 2: invalid. Pixel 3: slight drying (dNBR 0.05).
	nirA := []float32{0.4, 0.4, 0.4, 0.4}
	swA := []float32{0.1, 0.1, 0.1, 0.1}
	nirB := []float32{0.1, 0.4, 0.1, 0.38}
	swB := []float32{0.15, 0.1, 0.2, 0.105}
	valid := []bool{true, true, false, true}
	if diff := cmp.Diff([]bool{true, false, false, false}, DNBR(nirA, swA, nirB, swB, valid, 0.1)); diff != "" {
		t.Errorf("DNBR (-want +got):\n%s", diff)
	}
	// NHI: a furnace (SWIR2 > SWIR1), a bright roof (nothing hot), a fire front seen in
	// SWIR1 above NIR.
	nir := []float32{0.2, 0.55, 0.2}
	sw1 := []float32{0.3, 0.5, 0.35}
	sw2 := []float32{0.9, 0.42, 0.3}
	if diff := cmp.Diff([]bool{true, false, true}, NHI(nir, sw1, sw2, nil)); diff != "" {
		t.Errorf("NHI (-want +got):\n%s", diff)
	}
	a := [][]float32{{0.1, 0.1, 0.1, 0.1, 0.1, 0.1}}
	b := [][]float32{{0.11, 0.1, 0.09, 0.8, 0.1, 0.82}}
	if diff := cmp.Diff([]bool{false, false, false, true, false, true}, RGBDiffOtsu(a, b, nil)); diff != "" {
		t.Errorf("RGBDiffOtsu (-want +got):\n%s", diff)
	}
}

// TestIRMAD: the after date is a gain and offset of the before date per band plus noise,
// except a block of changed pixels; IR-MAD must put the block above the chi-square
// threshold and (nearly) nothing else, whatever the gain and offset.
func TestIRMAD(t *testing.T) {
	const w, h, p = 60, 60, 4
	r := rand.New(rand.NewPCG(3, 4))
	x := make([][]float32, p)
	y := make([][]float32, p)
	changed := make([]bool, w*h)
	for i := range changed {
		changed[i] = i/w >= 20 && i/w < 26 && i%w >= 30 && i%w < 36
	}
	for b := 0; b < p; b++ {
		x[b] = make([]float32, w*h)
		y[b] = make([]float32, w*h)
		gain, off := 1+0.2*float64(b), 0.05*float64(b)-0.03
		for i := range x[b] {
			// Each band has texture of its own, as surface bands do.
			v := 0.2 + 0.1*math.Sin(float64(i%w)/(3+float64(b))) + 0.08*math.Cos(float64(i/w)/(4+2*float64(b))) + 0.05*math.Sin(float64(i)/(7+float64(b))) + r.NormFloat64()*0.01
			x[b][i] = float32(v)
			u := gain*v + off + r.NormFloat64()*0.01
			if changed[i] {
				u += []float64{0.3, -0.2, 0.25, 0.1}[b]
			}
			y[b][i] = float32(u)
		}
	}
	thr := ChiSquareQuantile(0.9999, p)
	count := func(chi []float64) (hit, falsePos int, changedMedian float64) {
		var ch []float64
		for i, v := range chi {
			switch {
			case changed[i] && v > thr:
				hit++
			case !changed[i] && v > thr:
				falsePos++
			}
			if changed[i] {
				ch = append(ch, v)
			}
		}
		sort.Float64s(ch)
		return hit, falsePos, ch[len(ch)/2]
	}
	// One iteration is plain MAD: unchanged pixels are chi-square distributed.
	chi1, err := IRMAD(x, y, nil, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	hit, falsePos, med1 := count(chi1)
	if hit != 36 || falsePos > 3 {
		t.Errorf("MAD: %d of 36 changed pixels above the threshold, %d unchanged ones", hit, falsePos)
	}
	// Re-weighting drops the changed pixels from the statistics: they stand out more.
	chi, err := IRMAD(x, y, nil, 30, 0)
	if err != nil {
		t.Fatal(err)
	}
	hit, _, med := count(chi)
	if hit != 36 || med <= med1 {
		t.Errorf("IR-MAD: %d of 36 changed pixels above the threshold, their median chi-square %g (MAD %g)", hit, med, med1)
	}
	if _, err := IRMAD(x, y[:2], nil, 5, 0); err == nil {
		t.Error("IRMAD with different band counts: no error")
	}
}
