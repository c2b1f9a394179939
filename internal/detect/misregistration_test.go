package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// shiftedRoofs is a vegetated scene with small bright roofs (30 m) on a 10 m grid, each
// pixel the mean of 4×4 ground samples, the ground moved by (dx, dy) pixels; newRoof puts a
// 50 m roof at pixel (60, 60).
func shiftedRoofs(dx, dy float64, newRoof bool, seed uint64) func(x, y int) [6]float32 {
	ground := func(gx, gy float64) [6]float32 {
		if newRoof && gx >= 60 && gx < 65 && gy >= 60 && gy < 65 {
			return specRoof
		}
		// Roofs of 3×3 px every 12 px, offset within their cell, on fields of vegetation and
		// soil with a texture of the ground position.
		cx, cy := math.Mod(gx, 12), math.Mod(gy, 12)
		if cx >= 4.3 && cx < 7.3 && cy >= 4.6 && cy < 7.6 {
			return specRoof
		}
		// Smoothly varying mixtures of four covers, so that the scene spans the bands.
		f := [4]float64{
			1.2 + math.Sin(gx/6.1)*math.Cos(gy/4.3),
			1.2 + math.Sin(gy/5.7+1),
			1.2 + math.Cos(gx/7.9+gy/9.1),
			1.2 + math.Sin(gx/3.3-gy/6.7),
		}
		sum := f[0] + f[1] + f[2] + f[3]
		var s [6]float32
		for k := range s {
			s[k] = float32((f[0]*float64(specVeg[k]) + f[1]*float64(specSoil[k]) + f[2]*float64(specUrban[k]) + f[3]*float64(specWater[k])) / sum)
		}
		return s
	}
	return func(x, y int) [6]float32 {
		r := rand.New(rand.NewPCG(seed, uint64(y*100003+x)))
		var out [6]float32
		const n = 4
		for sy := 0; sy < n; sy++ {
			for sx := 0; sx < n; sx++ {
				g := ground(float64(x)+(float64(sx)+0.5)/n+dx, float64(y)+(float64(sy)+0.5)/n+dy)
				for k := range out {
					out[k] += g[k] / (n * n)
				}
			}
		}
		for k := range out {
			out[k] += float32(r.NormFloat64() * 0.003)
		}
		return out
	}
}

// TestDetectChangeMisregistration: a sub-pixel shift between the dates puts the plain
// statistic over the threshold along every roof edge; the tolerant one (misregistration_px
// 1) only on the new roof, which DetectChange still finds.
func TestDetectChangeMisregistration(t *testing.T) {
	before := MustGrid(t, 120, 120, shiftedRoofs(0, 0, false, 1))
	after := MustGrid(t, 120, 120, shiftedRoofs(0.4, -0.35, true, 2))
	p := ChangeParams{Probability: 0.9999, MinPixels: 4, CoverClusters: 1, Mask: MaskNone}.withDefaults()
	ok := clearBoth(before, after, p)
	m, err := newIRMAD(before, after, sixRoles, ok, p)
	if err != nil {
		t.Fatal(err)
	}
	thr := chi2Quantile(p.Probability, len(sixRoles))
	onNew := func(i int) bool { x, y := i%120, i/120; return x >= 59 && x < 66 && y >= 59 && y < 66 }
	count := func() (off, on int) {
		for i := 0; i < 120*120; i++ {
			if z, good := m.stat(i); good && z > thr {
				if onNew(i) {
					on++
				} else {
					off++
				}
			}
		}
		return off, on
	}
	plainOff, plainOn := count()
	m.tolerate(1, thr, ok)
	tolOff, tolOn := count()
	if plainOff < 100 {
		t.Errorf("plain statistic: %d pixels over the threshold off the new roof, want the roof edges (≥ 100)", plainOff)
	}
	if tolOff > 2 {
		t.Errorf("tolerant statistic: %d pixels over the threshold off the new roof, want at most 2", tolOff)
	}
	if plainOn < 20 || tolOn < 16 {
		t.Errorf("new roof: %d pixels over the threshold plain, %d tolerant; want ≥ 20 and ≥ 16", plainOn, tolOn)
	}
	p.Misregistration = 1
	fs, err := DetectChange(before, after, p, Attribution{})
	if err != nil {
		t.Fatal(err)
	}
	x, y := 500000+10*62.5, 4000000-10*62.5
	if len(fs) != 1 || !fs[0].Geometry.Bound().Contains(orb.Point{x, y}) {
		t.Errorf("DetectChange with misregistration_px 1: %d findings, want the new roof alone", len(fs))
	}
}

// TestThermal: a region whose swir2 rose far above swir1 with nir kept is a heat source,
// left to the hotspot detector; a red roof over grass (swir2 rising more than swir1, but
// staying below it, nir falling) and char (nir falling) are not.
func TestThermal(t *testing.T) {
	p := ChangeParams{}.withDefaults()
	m := func(nb, na, s1b, s1a, s2b, s2a float64) map[string]float64 {
		return map[string]float64{"nir_before": nb, "nir_after": na, "swir1_before": s1b, "swir1_after": s1a, "swir2_before": s2b, "swir2_after": s2a}
	}
	for _, tc := range []struct {
		name string
		m    map[string]float64
		want bool
	}{
		{"furnace on a grey roof", m(0.22, 0.23, 0.25, 0.33, 0.22, 0.47), true},
		{"red roof over grass", m(0.35, 0.27, 0.22, 0.31, 0.12, 0.27), false},
		{"char over forest", m(0.30, 0.10, 0.15, 0.15, 0.08, 0.18), false},
		{"white roof over soil", m(0.30, 0.57, 0.40, 0.57, 0.35, 0.42), false},
	} {
		if got := thermal(tc.m, p); got != tc.want {
			t.Errorf("%s: thermal = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestHotspotRisen: a source adding 0.24 swir2 to a light roof (swir1 above swir2, so no
// single-date test flags it) is found against the before date; a new grey roof over grass
// and a gain between the dates are not hot.
func TestHotspotRisen(t *testing.T) {
	light := [6]float32{0.20, 0.21, 0.22, 0.30, 0.40, 0.33} // swir1 above swir2, as most roofs
	grey := [6]float32{0.18, 0.195, 0.205, 0.23, 0.24, 0.22}
	scene := func(gain float32, hot, newRoof bool) func(x, y int) [6]float32 {
		return func(x, y int) [6]float32 {
			s := specVeg
			if x >= 20 && x < 26 && y >= 20 && y < 26 {
				s = light
			}
			if newRoof && x >= 40 && x < 46 && y >= 40 && y < 46 {
				s = grey
			}
			if hot && x >= 22 && x < 24 && y >= 22 && y < 24 {
				s[5] += 0.24
				s[4] += 0.06
				s[3] += 0.004
			}
			for k := range s {
				s[k] *= gain
			}
			return s
		}
	}
	p := HotspotParams{}
	for _, tc := range []struct {
		name  string
		after func(x, y int) [6]float32
		want  int
	}{
		{"source on a light roof", scene(0.96, true, false), 1},
		{"new grey roof, gain", scene(0.93, false, true), 0},
	} {
		before := MustGrid(t, 64, 64, scene(1, false, false))
		after := MustGrid(t, 64, 64, tc.after)
		fs, err := DetectHotspotPair(before, after, p, Attribution{})
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != tc.want {
			t.Errorf("%s: %d hotspots, want %d", tc.name, len(fs), tc.want)
		}
	}
}
