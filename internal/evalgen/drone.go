package evalgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
)

// Drone materials: linear reflectance in red, green, blue.
type rgb [3]float64

var droneMats = map[string]rgb{
	"concrete":   {0.34, 0.33, 0.31},
	"asphalt":    {0.08, 0.08, 0.09},
	"grass":      {0.08, 0.16, 0.05},
	"soil":       {0.30, 0.23, 0.16},
	"spoil":      {0.42, 0.34, 0.25},
	"white roof": {0.74, 0.75, 0.76},
	"grey steel": {0.40, 0.42, 0.45},
	"blue steel": {0.10, 0.21, 0.46},
	"red tile":   {0.44, 0.13, 0.09},
	"green roof": {0.10, 0.30, 0.16},
	"container":  {0.55, 0.28, 0.10},
}

type droneSpec struct {
	name    string
	seed    uint64
	gsd     float64 // metres
	size    int     // pixels a side
	control bool
	shift   [2]float64 // pixels
	gain    float64    // exposure of the after date
}

type droneBox struct {
	id     int32 // truth object, 0 for buildings that stay
	box    shape
	mat    string
	height float64 // metres; its shadow falls to the south-east
	before bool    // exists on the before date
	after  bool
	class  string
}

type droneWorld struct {
	seed      uint64
	side      float64
	grass     []shape
	road      rect
	boxes     []droneBox
	carsA     []rect
	carsB     []rect
	sun       [2]float64 // shadow length per metre of height, east and south
	carColour []rgb
}

func (s droneSpec) make(dir string) (*Case, error) {
	r := rand.New(rand.NewPCG(s.seed, 0xD40E))
	side := float64(s.size) * s.gsd
	w := &droneWorld{seed: s.seed, side: side, sun: [2]float64{uniform(r, 0.3, 0.6), uniform(r, 0.3, 0.6)}}
	w.road = rect{0, side * uniform(r, 0.45, 0.55), side, 0}
	w.road.Y1 = w.road.Y0 + math.Max(side*0.08, 3)
	for i := 0; i < 2; i++ {
		gs := side * uniform(r, 0.15, 0.3)
		x, y := uniform(r, 0, side-gs), uniform(r, 0, side-gs)
		w.grass = append(w.grass, shape{Box: rect{x, y, x + gs, y + gs*uniform(r, 0.5, 1)}, Round: true, Seed: r.Uint64()})
	}
	id := int32(0)
	add := func(mat string, before, after bool, class string, round bool) {
		for try := 0; try < 300; try++ {
			wd, ht := side*uniform(r, 0.1, 0.22), side*uniform(r, 0.08, 0.18)
			x, y := uniform(r, 0.03*side, side-wd-0.03*side), uniform(r, 0.03*side, side-ht-0.03*side)
			b := rect{x, y, x + wd, y + ht}
			if b.grow(side * 0.04).overlaps(w.road) {
				continue
			}
			ok := true
			for _, o := range w.boxes {
				ok = ok && !o.box.Box.grow(side*0.06).overlaps(b)
			}
			if !ok {
				continue
			}
			box := droneBox{box: shape{Box: b, Round: round, Seed: r.Uint64()}, mat: mat, before: before, after: after, class: class}
			if !round {
				box.height = uniform(r, 4, 9)
			}
			if before != after && !s.control {
				id++
				box.id = id
			}
			w.boxes = append(w.boxes, box)
			return
		}
	}
	add("white roof", true, true, "", false)
	add("red tile", true, true, "", false)
	if s.control {
		add("blue steel", true, true, "", false)
	} else {
		add("blue steel", false, true, "new_structure", false)
		add("grey steel", false, true, "new_structure", false)
		add("green roof", true, false, "demolition", false)
		add("spoil", false, true, "earthwork", true)
		add("container", false, true, "new_structure", false)
	}
	cars := func() []rect {
		var out []rect
		for i := 0; i < 6; i++ {
			x := uniform(r, 0, side-4.5)
			y := uniform(r, w.road.Y0, math.Max(w.road.Y0, w.road.Y1-1.8))
			out = append(out, rect{x, y, x + 4.5, y + 1.8})
		}
		return out
	}
	w.carsA, w.carsB = cars(), cars()
	for range 12 {
		w.carColour = append(w.carColour, rgb{uniform(r, 0.05, 0.8), uniform(r, 0.05, 0.8), uniform(r, 0.05, 0.8)})
	}
	c := &Case{
		Name: s.name, Sensor: SensorDroneRGB, CRS: "EPSG:32650", Width: s.size, Height: s.size,
		AreaKm2: side * side / 1e6, Scale: 1.0 / 255, Bands: map[string]string{"red": "1", "green": "2", "blue": "3"},
	}
	if s.control {
		c.Control = ControlGainOffset
	}
	x0, y0 := 400000+math.Floor(uniform(r, 0, 100))*500, 3400000+math.Floor(uniform(r, 0, 100))*500
	c.GeoTransform = [6]float64{x0, s.gsd, 0, y0, 0, -s.gsd}
	for _, b := range w.boxes {
		if b.id != 0 {
			c.Objects = append(c.Objects, Object{ID: b.id, Kind: KindChange, Class: b.class, Note: fmt.Sprintf("%s %.1f×%.1f m", b.mat, b.box.Box.X1-b.box.Box.X0, b.box.Box.Y1-b.box.Box.Y0)})
		}
	}
	c.Labels, c.Ignore = w.truth(s.size, s.gsd)
	c.Describe = fmt.Sprintf("RGB Byte at %.0f cm, shift %.1f px, exposure ×%.2f", s.gsd*100, math.Hypot(s.shift[0], s.shift[1]), s.gain)
	if s.control {
		c.Describe = fmt.Sprintf("RGB Byte at %.0f cm, exposure ×%.2f only", s.gsd*100, s.gain)
	}
	for _, date := range []string{"before", "after"} {
		after := date == "after"
		shift, gain := [2]float64{}, 1.0
		if after {
			shift, gain = s.shift, s.gain
		}
		img := Image{CRS: c.CRS, GeoTransform: c.GeoTransform, Width: s.size, Height: s.size, Type: Byte}
		for b, data := range w.render(r, s.size, s.gsd, shift, after, gain) {
			img.Bands = append(img.Bands, Band{Name: [3]string{"red", "green", "blue"}[b], Data: data})
		}
		name := s.name + "-" + date + ".tif"
		if err := WriteGeoTIFF(filepath.Join(dir, name), img); err != nil {
			return nil, err
		}
		if after {
			c.After = []string{name}
		} else {
			c.Before = []string{name}
		}
	}
	return c, nil
}

// present reports whether b stands on the date.
func (b droneBox) present(after bool) bool { return (after && b.after) || (!after && b.before) }

// shadowOf reports whether (x, y) lies in the shadow b casts (the footprint moved away from
// the sun by its height, swept).
func (w *droneWorld) shadowOf(b droneBox, x, y float64) bool {
	if b.height == 0 {
		return false
	}
	for t := 0.1; t <= 1.0; t += 0.1 {
		dx, dy := w.sun[0]*b.height*t, w.sun[1]*b.height*t
		if b.box.Box.contains(x-dx, y-dy) {
			return true
		}
	}
	return false
}

// sample is the linear reflectance at (x, y) on a date.
func (w *droneWorld) sample(x, y float64, after bool) rgb {
	mat := "concrete"
	for _, g := range w.grass {
		if g.contains(x, y) {
			mat = "grass"
		}
	}
	if w.road.contains(x, y) {
		mat = "asphalt"
	}
	shadow := false
	for _, b := range w.boxes {
		if !b.present(after) {
			continue
		}
		if b.box.contains(x, y) {
			mat = b.mat
			shadow = false
			break
		}
		shadow = shadow || w.shadowOf(b, x, y)
	}
	v := droneMats[mat]
	cars := w.carsA
	if after {
		cars = w.carsB
	}
	for i, c := range cars {
		if c.contains(x, y) {
			v = w.carColour[i%len(w.carColour)]
			if after {
				v = w.carColour[(i+6)%len(w.carColour)]
			}
		}
	}
	// Texture at two scales: stains and patches of metres, grain of centimetres.
	tex := 1 + 0.10*fbm(w.seed+7, x, y, 4, 3) + 0.06*(valueNoise(w.seed+13, x, y, 0.06)-0.5)
	if mat == "grass" || mat == "spoil" {
		tex += 0.15 * (valueNoise(w.seed+17, x, y, 0.15) - 0.5)
	}
	for b := range v {
		v[b] *= tex
		if shadow {
			v[b] *= 0.3
		}
	}
	return v
}

// render makes one date as 8-bit camera values: 2×2 samples per pixel, exposure, gamma,
// noise.
func (w *droneWorld) render(r *rand.Rand, n int, gsd float64, shift [2]float64, after bool, gain float64) [3][]float32 {
	var out [3][]float32
	for b := range out {
		out[b] = make([]float32, n*n)
	}
	for row := 0; row < n; row++ {
		for col := 0; col < n; col++ {
			var acc rgb
			for sy := 0; sy < 2; sy++ {
				for sx := 0; sx < 2; sx++ {
					x := (float64(col) + (float64(sx)+0.5)/2 + shift[0]) * gsd
					y := (float64(row) + (float64(sy)+0.5)/2 + shift[1]) * gsd
					s := w.sample(x, y, after)
					for b := range acc {
						acc[b] += s[b] / 4
					}
				}
			}
			for b := range acc {
				v := 255*math.Pow(math.Min(1, acc[b]*gain), 1/2.2) + r.NormFloat64()*2
				out[b][row*n+col] = float32(math.Max(0, math.Min(255, v)))
			}
		}
	}
	return out
}

// truth labels pixels whose 4 samples lie at least 3 in a changed object, and ignores
// partly covered pixels, cars and the shadows of changed buildings.
func (w *droneWorld) truth(n int, gsd float64) ([]int32, []bool) {
	labels := make([]int32, n*n)
	ignore := make([]bool, n*n)
	for row := 0; row < n; row++ {
		for col := 0; col < n; col++ {
			count := map[int32]int{}
			ign := false
			for sy := 0; sy < 2; sy++ {
				for sx := 0; sx < 2; sx++ {
					x := (float64(col) + (float64(sx)+0.5)/2) * gsd
					y := (float64(row) + (float64(sy)+0.5)/2) * gsd
					for _, b := range w.boxes {
						if b.id == 0 {
							continue
						}
						if b.box.contains(x, y) {
							count[b.id]++
						} else if w.shadowOf(b, x, y) {
							ign = true
						}
					}
					for _, c := range append(w.carsA, w.carsB...) {
						ign = ign || c.grow(0.3).contains(x, y)
					}
				}
			}
			i := row*n + col
			for id, k := range count {
				if k >= 3 {
					labels[i] = id
				} else {
					ign = true
				}
			}
			ignore[i] = ign && labels[i] == 0
		}
	}
	return labels, ignore
}
