package detect

import (
	"math"
	"math/rand/v2"
)

// coverField is the IR-MAD change statistic taken per land cover as well as over the
// scene: the season moves each cover its own way (crops green up while grass dries and
// roofs stay put), which no single scene-wide affine transformation follows, but within
// one cover IR-MAD's assumption holds again, that most pixels did not change. The before
// date is clustered into covers (k-means over the IR-MAD bands), IR-MAD runs on the clear
// pixels of each cover, and a pixel's statistic is the smaller of the scene's and its
// cover's: a pixel changed only when it departs from both the scene-wide relation of the
// dates and its own cover's common trend. Covers too small for IR-MAD keep the scene's
// statistic. Both statistics are chi-square with one degree of freedom per band where
// nothing changed.
type coverField struct {
	*irmad         // the scene's IR-MAD (normalize, dof)
	label  []uint8 // cover of each pixel
	covers []*irmad
}

// newCoverField clusters the before date's clear pixels into k covers and runs IR-MAD on
// each; k < 2 returns the scene's field unchanged.
func newCoverField(scene *irmad, k int, p ChangeParams) changeField {
	if k < 2 {
		return scene
	}
	centres := kmeans(scene, k)
	if len(centres) < 2 {
		return scene
	}
	f := &coverField{irmad: scene, label: make([]uint8, scene.n), covers: make([]*irmad, len(centres))}
	xs := make([]float64, scene.p)
	counts := make([]int, len(centres))
	for i := 0; i < scene.n; i++ {
		if !scene.ok(i) {
			continue
		}
		for b := range xs {
			xs[b] = float64(scene.x[b][i])
		}
		f.label[i] = uint8(nearest(centres, xs))
		counts[f.label[i]]++
	}
	// The covers share the scene's sample budget: together they cost about one IR-MAD.
	pc := p
	pc.SamplePixels = max(1000, p.SamplePixels/len(centres))
	for c := range centres {
		ok := func(i int) bool { return f.label[i] == uint8(c) && scene.ok(i) }
		// A cover IR-MAD cannot serve (too few pixels, a degenerate covariance) keeps the
		// scene's statistic.
		if m, err := newIRMADOn(scene.x, scene.y, scene.roles, scene.width, scene.height, ok, counts[c], pc); err == nil {
			f.covers[c] = m
		}
	}
	return f
}

func (f *coverField) stat(i int) (float64, bool) {
	z, ok := f.irmad.stat(i)
	if !ok {
		return 0, false
	}
	if m := f.covers[f.label[i]]; m != nil {
		if zc, okc := m.stat(i); okc {
			z = math.Min(z, zc)
		}
	}
	return z, true
}

// kmeansSample caps the pixels, on a regular grid, from which the covers are found.
const kmeansSample = 1 << 14

// kmeans returns up to k cluster centres of the before date's clear pixels (a regular
// sample), seeded by k-means++ from a fixed seed so that a scene always gets the same
// covers, then refined by Lloyd's iterations; clusters left empty are dropped.
func kmeans(m *irmad, k int) [][]float64 {
	stride := max(1, m.n/kmeansSample)
	var pts [][]float64
	for i := 0; i < m.n; i += stride {
		if !m.ok(i) {
			continue
		}
		v := make([]float64, m.p)
		for b := range v {
			v[b] = float64(m.x[b][i])
		}
		pts = append(pts, v)
	}
	if len(pts) < 2*k {
		return nil
	}
	rng := rand.New(rand.NewPCG(1, 2))
	centres := [][]float64{append([]float64(nil), pts[rng.IntN(len(pts))]...)}
	d2 := make([]float64, len(pts))
	for len(centres) < k {
		var sum float64
		for j, v := range pts {
			d2[j] = dist2(v, centres[nearest(centres, v)])
			sum += d2[j]
		}
		if sum == 0 {
			break
		}
		t := rng.Float64() * sum
		j := 0
		for ; j < len(pts)-1 && t > d2[j]; j++ {
			t -= d2[j]
		}
		centres = append(centres, append([]float64(nil), pts[j]...))
	}
	counts := make([]int, len(centres))
	sums := make([][]float64, len(centres))
	for it := 0; it < 20; it++ {
		for c := range sums {
			sums[c] = make([]float64, m.p)
			counts[c] = 0
		}
		for _, v := range pts {
			c := nearest(centres, v)
			counts[c]++
			for b, x := range v {
				sums[c][b] += x
			}
		}
		moved := false
		for c := range centres {
			if counts[c] == 0 {
				continue
			}
			for b := range centres[c] {
				x := sums[c][b] / float64(counts[c])
				moved = moved || x != centres[c][b]
				centres[c][b] = x
			}
		}
		if !moved {
			break
		}
	}
	var out [][]float64
	for c, n := range counts {
		if n > 0 {
			out = append(out, centres[c])
		}
	}
	return out
}

func nearest(centres [][]float64, v []float64) int {
	best, bd := 0, math.Inf(1)
	for c, ctr := range centres {
		if d := dist2(v, ctr); d < bd {
			best, bd = c, d
		}
	}
	return best
}

func dist2(a, b []float64) float64 {
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}
