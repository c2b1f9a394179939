package detect

import "math"

// cloudObjects decides which of a date's cloud-like and shadow-like pixels (clearSky.cloud,
// clearSky.shadow) really are cloud and cloud shadow, object by object, so that new bright
// roofs — white, grey and blue steel sheet — and burn scars are not masked away:
//   - a bright object that is bright on the other date too, on at least half its pixels,
//     is a bright surface (roof, sand, salt), not a cloud: clouds move between dates;
//   - otherwise it is cloud when any of: it covers more than roofMax m² (no roof is that
//     large); it has a shadow, i.e. dark pixels (not dark on the other date) within
//     shadowReach m of it numbering at least a fifth of its pixels; or its edge is soft,
//     the ground 2–3 pixels outside it brighter than the ground 5–8 pixels outside it by at
//     least 15% of its own contrast (haze around a cloud; a roof ends at its eaves);
//   - a dark object is cloud shadow only within shadowReach m of a cloud: burn scars, dark
//     roofs and asphalt far from any cloud stay.
//
// It returns one bool per pixel, true where the pixel is cloud, cloud shadow or snow.
func cloudObjects(g, other *Grid, roofMax, shadowReach float64) []bool {
	w, h := g.Width, g.Height
	n := w * h
	sky := newClearSky(g)
	var osky *clearSky
	if other != nil {
		osky = newClearSky(other)
	}
	bright := make([]bool, n)
	out := make([]bool, n)
	darkPix := make([]bool, n)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if !sky.hasData(i) {
				continue
			}
			bright[i] = sky.cloud(i)
			darkPix[i] = sky.shadow(i) && (osky == nil || !osky.hasData(i) || !osky.shadow(i))
			out[i] = sky.snow(i)
		}
	}
	// Summed-area table of the transient dark pixels, (w+1)×(h+1).
	sum := make([]int32, (w+1)*(h+1))
	for y := 0; y < h; y++ {
		var row int32
		for x := 0; x < w; x++ {
			if darkPix[y*w+x] {
				row++
			}
			sum[(y+1)*(w+1)+x+1] = sum[y*(w+1)+x+1] + row
		}
	}
	countDark := func(x0, y0, x1, y1 int) int { // inclusive box, clipped
		x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w-1, x1), min(h-1, y1)
		if x0 > x1 || y0 > y1 {
			return 0
		}
		return int(sum[(y1+1)*(w+1)+x1+1] - sum[y0*(w+1)+x1+1] - sum[(y1+1)*(w+1)+x0] + sum[y0*(w+1)+x0])
	}
	px := g.PixelMetres()
	reach := int(math.Ceil(shadowReach / px))
	vis := func(i int) float64 {
		v, k := 0.0, 0
		for _, b := range [][]float32{sky.blue, sky.green, sky.red} {
			if b != nil {
				v += float64(b[i])
				k++
			}
		}
		return v / float64(max(k, 1))
	}
	lab := newLabeler()
	for y := 0; y < h; y++ {
		lab.addRow(y, bright[y*w:(y+1)*w])
	}
	var clouds []*component
	for _, c := range lab.components(1) {
		if osky != nil {
			both := 0
			c.each(func(x, y int) {
				if i := y*w + x; osky.hasData(i) && osky.cloud(i) {
					both++
				}
			})
			if 2*both >= c.pixels {
				continue // bright on both dates: a surface, not a cloud
			}
		}
		isCloud := float64(c.pixels)*px*px > roofMax ||
			5*countDark(c.minX-reach, c.minY-reach, c.maxX+reach, c.maxY+reach) >= c.pixels ||
			softEdge(c, w, h, vis, bright)
		if isCloud {
			clouds = append(clouds, c)
			c.each(func(x, y int) { out[y*w+x] = true })
		}
	}
	if len(clouds) == 0 {
		return out
	}
	lab = newLabeler()
	for y := 0; y < h; y++ {
		lab.addRow(y, darkPix[y*w:(y+1)*w])
	}
	for _, s := range lab.components(1) {
		for _, c := range clouds {
			if s.maxX >= c.minX-reach && s.minX <= c.maxX+reach && s.maxY >= c.minY-reach && s.minY <= c.maxY+reach {
				s.each(func(x, y int) { out[y*w+x] = true })
				break
			}
		}
	}
	return out
}

// softEdge reports whether the ground just outside component c (2–3 pixels, chessboard
// distance) is brighter than the ground further out (5–8 pixels) by at least 15% of
// the component's own contrast against the latter: the haze that fringes a cloud. Pixels
// of other bright objects are left out of both rings.
func softEdge(c *component, w, h int, vis func(int) float64, bright []bool) bool {
	const far = 8
	x0, y0 := max(0, c.minX-far), max(0, c.minY-far)
	x1, y1 := min(w-1, c.maxX+far), min(h-1, c.maxY+far)
	lw, lh := x1-x0+1, y1-y0+1
	dist := make([]int8, lw*lh)
	for i := range dist {
		dist[i] = -1
	}
	queue := make([]int, 0, c.pixels)
	var inner float64
	c.each(func(x, y int) {
		j := (y-y0)*lw + x - x0
		dist[j] = 0
		queue = append(queue, j)
		inner += vis(y*w + x)
	})
	inner /= float64(c.pixels)
	var near, out float64
	var nn, no int
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		d := dist[j]
		if d >= far {
			continue
		}
		jx, jy := j%lw, j/lw
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				kx, ky := jx+dx, jy+dy
				if kx < 0 || ky < 0 || kx >= lw || ky >= lh {
					continue
				}
				k := ky*lw + kx
				if dist[k] >= 0 {
					continue
				}
				dist[k] = d + 1
				queue = append(queue, k)
				i := (ky+y0)*w + kx + x0
				if bright[i] {
					continue
				}
				switch {
				case d+1 >= 2 && d+1 <= 3:
					near += vis(i)
					nn++
				case d+1 >= 5:
					out += vis(i)
					no++
				}
			}
		}
	}
	if nn == 0 || no == 0 {
		return false
	}
	near, out = near/float64(nn), out/float64(no)
	return inner > out && near-out >= 0.15*(inner-out)
}
