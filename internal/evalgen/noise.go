package evalgen

import (
	"math"
	"math/rand/v2"
)

// lattice returns a value in [0, 1) fixed by the seed and the lattice point, so that texture
// is a function of ground position: the same place looks the same on both dates, wherever
// the pixel grid falls.
func lattice(seed uint64, i, j int64) float64 {
	h := seed ^ uint64(i)*0x9E3779B97F4A7C15 ^ uint64(j)*0xC2B2AE3D27D4EB4F
	h ^= h >> 33
	h *= 0xFF51AFD7ED558CCD
	h ^= h >> 33
	h *= 0xC4CEB9FE1A85EC53
	h ^= h >> 33
	return float64(h>>11) / (1 << 53)
}

// valueNoise is smooth noise in [0, 1) with features of about scale metres.
func valueNoise(seed uint64, x, y, scale float64) float64 {
	fx, fy := x/scale, y/scale
	i, j := math.Floor(fx), math.Floor(fy)
	tx, ty := fx-i, fy-j
	tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
	a := lattice(seed, int64(i), int64(j))
	b := lattice(seed, int64(i)+1, int64(j))
	c := lattice(seed, int64(i), int64(j)+1)
	d := lattice(seed, int64(i)+1, int64(j)+1)
	return a + (b-a)*tx + (c-a)*ty + (a-b-c+d)*tx*ty
}

// fbm sums octaves of value noise, the coarsest at scale metres, into about [-0.5, 0.5].
func fbm(seed uint64, x, y, scale float64, octaves int) float64 {
	sum, amp, norm := 0.0, 1.0, 0.0
	for o := 0; o < octaves; o++ {
		sum += amp * (valueNoise(seed+uint64(o)*7919, x, y, scale) - 0.5)
		norm += amp
		amp *= 0.5
		scale *= 0.5
	}
	return sum / norm
}

// uniform draws from [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// rect is an axis-aligned rectangle in ground metres (x east, y south from the scene's
// upper-left corner).
type rect struct{ X0, Y0, X1, Y1 float64 }

func (r rect) contains(x, y float64) bool { return x >= r.X0 && x < r.X1 && y >= r.Y0 && y < r.Y1 }

func (r rect) grow(m float64) rect { return rect{r.X0 - m, r.Y0 - m, r.X1 + m, r.Y1 + m} }

func (r rect) overlaps(o rect) bool {
	return r.X0 < o.X1 && o.X0 < r.X1 && r.Y0 < o.Y1 && o.Y0 < r.Y1
}

// shape is a region of the ground: a rectangle, or (round) an irregular blob inside it.
type shape struct {
	Box   rect
	Round bool
	Seed  uint64
}

func (s shape) contains(x, y float64) bool {
	if !s.Box.contains(x, y) {
		return false
	}
	if !s.Round {
		return true
	}
	cx, cy := (s.Box.X0+s.Box.X1)/2, (s.Box.Y0+s.Box.Y1)/2
	rx, ry := (s.Box.X1-s.Box.X0)/2, (s.Box.Y1-s.Box.Y0)/2
	dx, dy := (x-cx)/rx, (y-cy)/ry
	// An ellipse whose radius wanders by up to ±25% with the angle: burn scars, clearings
	// and spoil heaps have ragged edges.
	ang := math.Atan2(dy, dx)
	wobble := 0.8 + 0.35*valueNoise(s.Seed, math.Cos(ang)*3+5, math.Sin(ang)*3+5, 1)
	return dx*dx+dy*dy <= wobble*wobble
}
