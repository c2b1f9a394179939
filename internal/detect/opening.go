package detect

// opener applies a morphological opening (erosion then dilation with a (2r+1)² square,
// ANDed with the input) to a binary mask streamed row by row, keeping only a few rows:
// regions thinner than 2r+1 pixels, such as the one-pixel lines that sub-pixel
// misregistration draws along every sharp boundary, disappear, while compact regions keep
// their shape. Rows come out 2r rows after they go in.
type opener struct {
	r, w, h int
	k       int      // ring size
	raw, hz [][]bool // input rows and their horizontal erosions
	er, hd  [][]bool // eroded rows and their horizontal dilations
	out     []bool
	emit    func(y int, row []bool)
}

func newOpener(r, w, h int, emit func(y int, row []bool)) *opener {
	o := &opener{r: r, w: w, h: h, k: 4*r + 2, emit: emit, out: make([]bool, w)}
	alloc := func() [][]bool {
		rows := make([][]bool, o.k)
		for i := range rows {
			rows[i] = make([]bool, w)
		}
		return rows
	}
	o.raw, o.hz, o.er, o.hd = alloc(), alloc(), alloc(), alloc()
	return o
}

func (o *opener) slot(y int) int { return ((y % o.k) + o.k) % o.k }

// push adds mask row y (rows in order from 0); rows past the last are pushed as empty by
// flush.
func (o *opener) push(y int, row []bool) {
	r, w := o.r, o.w
	raw := o.raw[o.slot(y)]
	copy(raw, row)
	// Horizontal erosion: set where row[x-r..x+r] are all set (run lengths).
	hz := o.hz[o.slot(y)]
	run := 0
	for x := 0; x < w; x++ {
		hz[x] = false
		if raw[x] {
			run++
		} else {
			run = 0
		}
		if run >= 2*r+1 {
			hz[x-r] = true
		}
	}
	// Vertical erosion of row y-r.
	if ye := y - r; ye >= 0 && ye < o.h {
		er := o.er[o.slot(ye)]
		for x := 0; x < w; x++ {
			v := ye-r >= 0 && ye+r < o.h
			for d := -r; d <= r && v; d++ {
				v = o.hz[o.slot(ye+d)][x]
			}
			er[x] = v
		}
		// Horizontal dilation of the eroded row.
		hd := o.hd[o.slot(ye)]
		clear(hd)
		for x := 0; x < w; x++ {
			if er[x] {
				for d := max(0, x-r); d <= min(w-1, x+r); d++ {
					hd[d] = true
				}
			}
		}
	}
	// Vertical dilation and AND with the input for row y-2r.
	if yo := y - 2*r; yo >= 0 && yo < o.h {
		src := o.raw[o.slot(yo)]
		for x := 0; x < w; x++ {
			v := false
			for d := -r; d <= r && !v; d++ {
				if yy := yo + d; yy >= 0 && yy < o.h && yy <= y-r {
					v = o.hd[o.slot(yy)][x]
				}
			}
			o.out[x] = v && src[x]
		}
		o.emit(yo, o.out)
	}
}

// flush pushes the empty rows that bring the last input rows out.
func (o *opener) flush() {
	empty := make([]bool, o.w)
	for y := o.h; y < o.h+2*o.r; y++ {
		o.push(y, empty)
	}
}

// dilate sets every pixel within r (chessboard distance) of a set pixel of m, by running
// counts along rows and then columns.
func dilate(m []bool, w, h, r int) []bool {
	return morph(m, w, h, r, func(cnt int) bool { return cnt > 0 })
}

// erode keeps the pixels whose (2r+1)² square lies wholly in m; beyond the grid's edge
// counts as set, so regions touching the edge are not eaten from it.
func erode(m []bool, w, h, r int) []bool {
	inv := make([]bool, len(m))
	for i, v := range m {
		inv[i] = !v
	}
	out := dilate(inv, w, h, r)
	for i, v := range out {
		out[i] = !v
	}
	return out
}

// closing fills gaps and bays narrower than 2r+1 pixels between set pixels of m.
func closing(m []bool, w, h, r int) []bool { return erode(dilate(m, w, h, r), w, h, r) }

func morph(m []bool, w, h, r int, keep func(cnt int) bool) []bool {
	hz := make([]bool, len(m))
	for y := 0; y < h; y++ {
		cnt := 0
		for x := -r; x < w+r; x++ {
			if in := x + r; in < w && m[y*w+in] {
				cnt++
			}
			if out := x - r - 1; out >= 0 && m[y*w+out] {
				cnt--
			}
			if x >= 0 && x < w {
				hz[y*w+x] = keep(cnt)
			}
		}
	}
	out := make([]bool, len(m))
	for x := 0; x < w; x++ {
		cnt := 0
		for y := -r; y < h+r; y++ {
			if in := y + r; in < h && hz[in*w+x] {
				cnt++
			}
			if o := y - r - 1; o >= 0 && hz[o*w+x] {
				cnt--
			}
			if y >= 0 && y < h {
				out[y*w+x] = keep(cnt)
			}
		}
	}
	return out
}
