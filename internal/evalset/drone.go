package evalset

import (
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/detect"
)

// RGB reflectances of drone ground covers: red, green, blue.
type rgb [3]float64

var (
	rgbGrass    = rgb{0.18, 0.28, 0.10}
	rgbConcrete = rgb{0.42, 0.42, 0.40}
	rgbAsphalt  = rgb{0.12, 0.12, 0.13}
	rgbSoil     = rgb{0.38, 0.30, 0.20}
	rgbFresh    = rgb{0.52, 0.40, 0.26}
	rgbBlueRoof = rgb{0.20, 0.32, 0.55}
	rgbTank     = rgb{0.82, 0.82, 0.84}
	rgbSmoke    = rgb{0.80, 0.80, 0.80}
)

const dronePixel = 0.25 // metres

// genDroneScene makes a drone RGB orthomosaic pair at 25 cm: paved, grassy and bare
// ground with fine texture; six parcels with new roofs, earthworks and cleared grass
// inside; cars that come and go outside them; a white tank on both dates; smoke drifting
// from stacks in two more parcels on the after date. The after date has another exposure and white
// balance (gain and offset per band) and is misregistered by 1.3 pixels.
func genDroneScene(r *rand.Rand, n, index int) *Scene {
	name := "drone" + itoa(index+1)
	gt := [6]float64{300000 + float64(index)*1000, dronePixel, 0, 3400000, 0, -dronePixel}
	coarse, fine := newNoise(r, n, n, 120), newNoise(r, n, n, 30)
	tex1 := newNoise(r, n, n, 3)
	before := make([]rgb, n*n)
	tex := make([]float64, n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			i := y*n + x
			v := 0.7*coarse.at(x, y) + 0.3*fine.at(x, y)
			c := rgbConcrete
			switch {
			case v < 0.4:
				c = rgbGrass
			case v < 0.55:
				c = rgbSoil
			case v < 0.62:
				c = rgbAsphalt
			}
			tex[i] = 1 + 0.25*(tex1.at(x, y)-0.5) + 0.08*r.NormFloat64()
			for k := range c {
				before[i][k] = c[k] * tex[i]
			}
		}
	}
	after := append([]rgb(nil), before...)
	paint := func(dst []rgb, q rect, c rgb) {
		for y := q.y0; y < q.y1; y++ {
			for x := q.x0; x < q.x1; x++ {
				i := y*n + x
				for k := range c {
					dst[i][k] = c[k] * tex[i]
				}
			}
		}
	}
	b := &sceneBuilder{r: r, n: n, gt: gt, water: make([]bool, n*n)}
	bound := func(q rect) orb.Bound {
		return orb.Bound{
			Min: orb.Point{gt[0] + float64(q.x0)*dronePixel, gt[3] - float64(q.y1)*dronePixel},
			Max: orb.Point{gt[0] + float64(q.x1)*dronePixel, gt[3] - float64(q.y0)*dronePixel},
		}
	}
	sc := &Scene{Name: name, Pipeline: "drone-rgb"}
	for k := 0; k < 8; k++ {
		for attempt := 0; attempt < 500; attempt++ {
			w, h := n/8+r.IntN(n/9+1), n/8+r.IntN(n/9+1)
			x, y := 8+r.IntN(n-w-16), 8+r.IntN(n-h-16)
			q := rect{x, y, x + w, y + h}
			if !b.free(q, 40, true) {
				continue
			}
			b.occupied = append(b.occupied, q)
			id := name + "-p" + itoa(k+1)
			sc.Parcels = append(sc.Parcels, detect.Parcel{ID: id, Geometry: bound(q).ToPolygon()})
			if k >= 6 {
				break // smoke parcels: a stack, nothing else
			}
			var taken []rect
			cls := []string{detect.ClassNewStructure, detect.ClassEarthwork, detect.ClassVegetationLoss}[k%3]
			if cr, ok := b.spot(q, n/25+r.IntN(n/19+1), n/25+r.IntN(n/19+1), nil); ok {
				taken = append(taken, cr)
				switch cls {
				case detect.ClassNewStructure:
					paint(after, cr, rgbBlueRoof)
				case detect.ClassEarthwork:
					paint(before, cr, rgbConcrete)
					paint(after, cr, rgbFresh)
				default:
					paint(before, cr, rgbGrass)
					paint(after, cr, rgbFresh)
				}
				sc.Truth = append(sc.Truth, Truth{Detector: "change", Class: cls, Bound: bound(cr), ParcelID: id})
			}
			if k == 2 {
				if tr, ok := b.spot(q, 40, 40, taken); ok {
					paint(before, tr, rgbTank)
					paint(after, tr, rgbTank)
				}
			}
			break
		}
	}
	// Cars outside the parcels: below the minimum mapping unit, and not anyone's evidence.
	for k := 0; k < 12; k++ {
		if cr, ok := b.freeSpot(8, 18, 20); ok {
			paint(after, cr, rgb{0.7, 0.1, 0.1})
		}
	}
	after = shiftRGB(after, n, 1.3, -0.8)
	// Smoke from stacks in the last two parcels, drifting east.
	for k := 6; k < len(sc.Parcels); k++ {
		pb := sc.Parcels[k].Geometry.Bound()
		sx := int(((pb.Min[0]+pb.Max[0])/2 - gt[0]) / dronePixel) // the stack

		sy := int((gt[3] - (pb.Min[1]+pb.Max[1])/2) / dronePixel)
		box := rect{n, n, -1, -1}
		for y := 0; y < n; y++ {
			for x := sx; x < n; x++ {
				dx := float64(x - sx)
				spread := 6 + 0.18*dx
				dy := float64(y-sy) / spread
				a := 0.85 * math.Exp(-dy*dy/2) * math.Exp(-dx/220)
				if a < 0.02 {
					continue
				}
				i := y*n + x
				for c := range after[i] {
					after[i][c] = after[i][c]*(1-a) + rgbSmoke[c]*a
				}
				if a > 0.1 { // visible smoke
					box.x0, box.y0 = min(box.x0, x), min(box.y0, y)
					box.x1, box.y1 = max(box.x1, x+1), max(box.y1, y+1)
				}
			}
		}
		if box.x1 > box.x0 {
			sc.Truth = append(sc.Truth, Truth{Detector: "smoke_plume", Class: detect.ClassSmokePlume, Bound: bound(box), ParcelID: sc.Parcels[k].ID})
		}
	}
	gain, offset := rgb{1.15, 1.08, 0.95}, rgb{0.02, 0.01, 0.03}
	render := func(src []rgb, g, o rgb) *detect.Grid {
		grid := &detect.Grid{Width: n, Height: n, GeoTransform: gt, Names: []string{detect.BandRed, detect.BandGreen, detect.BandBlue}}
		for range grid.Names {
			grid.Bands = append(grid.Bands, make([]float32, n*n))
		}
		for i, v := range src {
			for k := range v {
				grid.Bands[k][i] = float32(math.Min(1, v[k]*g[k]+o[k]+0.01*r.NormFloat64()))
			}
		}
		return grid
	}
	sc.Before = render(before, rgb{1, 1, 1}, rgb{})
	sc.After = render(after, gain, offset)
	return sc
}

// shiftRGB resamples an RGB image by (dx, dy) pixels with bilinear interpolation.
func shiftRGB(src []rgb, n int, dx, dy float64) []rgb {
	out := make([]rgb, len(src))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			fx := math.Min(math.Max(float64(x)+dx, 0), float64(n-1))
			fy := math.Min(math.Max(float64(y)+dy, 0), float64(n-1))
			x0, y0 := int(fx), int(fy)
			x1, y1 := min(x0+1, n-1), min(y0+1, n-1)
			tx, ty := fx-float64(x0), fy-float64(y0)
			for k := range out[y*n+x] {
				out[y*n+x][k] = (src[y0*n+x0][k]*(1-tx)+src[y0*n+x1][k]*tx)*(1-ty) +
					(src[y1*n+x0][k]*(1-tx)+src[y1*n+x1][k]*tx)*ty
			}
		}
	}
	return out
}
