package detect

import "sort"

// run is a horizontal stretch of set pixels [x0, x1) on row y.
type run struct {
	y, x0, x1 int32
}

// component is an 8-connected set of pixels, kept as runs sorted by row then column.
type component struct {
	runs                   []run
	minX, minY, maxX, maxY int // inclusive pixel bounds
	pixels                 int
}

// labeler builds 8-connected components from a binary mask supplied row by row, holding
// only the runs of set pixels: its memory follows the amount of change, not the scene size.
type labeler struct {
	runs   []run
	parent []int32
	prev   []int32 // indexes into runs of the previous row's runs
	cur    []int32
	lastY  int
}

func newLabeler() *labeler { return &labeler{lastY: -2} }

func (l *labeler) find(i int32) int32 {
	for l.parent[i] != i {
		l.parent[i] = l.parent[l.parent[i]]
		i = l.parent[i]
	}
	return i
}

func (l *labeler) union(a, b int32) {
	ra, rb := l.find(a), l.find(b)
	if ra == rb {
		return
	}
	if ra < rb {
		l.parent[rb] = ra
	} else {
		l.parent[ra] = rb
	}
}

// addRow adds row y of the mask; rows must come in increasing order.
func (l *labeler) addRow(y int, row []bool) {
	if y != l.lastY+1 {
		l.prev = l.prev[:0]
	} else {
		l.prev, l.cur = l.cur, l.prev
	}
	l.cur = l.cur[:0]
	l.lastY = y
	w := len(row)
	p := 0
	for x := 0; x < w; {
		if !row[x] {
			x++
			continue
		}
		x0 := x
		for x < w && row[x] {
			x++
		}
		idx := int32(len(l.runs))
		l.runs = append(l.runs, run{int32(y), int32(x0), int32(x)})
		l.parent = append(l.parent, idx)
		l.cur = append(l.cur, idx)
		// 8-connectivity: previous-row runs overlapping [x0-1, x+1).
		for p < len(l.prev) && l.runs[l.prev[p]].x1 < int32(x0) {
			p++
		}
		for q := p; q < len(l.prev); q++ {
			pr := l.runs[l.prev[q]]
			if pr.x0 > int32(x) {
				break
			}
			l.union(idx, l.prev[q])
		}
	}
}

// components returns the components with at least minPixels pixels, ordered by their first
// run (top to bottom, left to right).
func (l *labeler) components(minPixels int) []*component {
	byRoot := map[int32]*component{}
	var order []int32
	for i, r := range l.runs {
		root := l.find(int32(i))
		c := byRoot[root]
		if c == nil {
			c = &component{minX: int(r.x0), minY: int(r.y), maxX: int(r.x1) - 1, maxY: int(r.y)}
			byRoot[root] = c
			order = append(order, root)
		}
		c.runs = append(c.runs, r)
		c.pixels += int(r.x1 - r.x0)
		c.minX = min(c.minX, int(r.x0))
		c.maxX = max(c.maxX, int(r.x1)-1)
		c.minY = min(c.minY, int(r.y))
		c.maxY = max(c.maxY, int(r.y))
	}
	out := make([]*component, 0, len(order))
	for _, root := range order {
		if c := byRoot[root]; c.pixels >= minPixels {
			out = append(out, c)
		}
	}
	return out
}

// each calls f for every pixel of the component.
func (c *component) each(f func(x, y int)) {
	for _, r := range c.runs {
		for x := r.x0; x < r.x1; x++ {
			f(int(x), int(r.y))
		}
	}
}

// contains reports whether pixel (x, y) belongs to the component.
func (c *component) contains(x, y int) bool {
	if x < c.minX || x > c.maxX || y < c.minY || y > c.maxY {
		return false
	}
	i := sort.Search(len(c.runs), func(i int) bool {
		r := c.runs[i]
		return int(r.y) > y || (int(r.y) == y && int(r.x1) > x)
	})
	return i < len(c.runs) && int(c.runs[i].y) == y && int(c.runs[i].x0) <= x
}

// localMask rasterizes the component into its bounding box plus a one-pixel margin.
func (c *component) localMask() (mask []bool, w, h, ox, oy int) {
	ox, oy = c.minX-1, c.minY-1
	w, h = c.maxX-c.minX+3, c.maxY-c.minY+3
	mask = make([]bool, w*h)
	for _, r := range c.runs {
		row := (int(r.y) - oy) * w
		for x := r.x0; x < r.x1; x++ {
			mask[row+int(x)-ox] = true
		}
	}
	return mask, w, h, ox, oy
}

// filled returns the component with its holes filled: every pixel of its bounding box
// that cannot reach the box's margin without crossing the component (4-connected) joins it.
func (c *component) filled() *component {
	mask, w, h, ox, oy := c.localMask()
	outside := make([]bool, len(mask))
	stack := []int{0}
	outside[0] = true
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%w, i/w
		for _, j := range [4]int{i - 1, i + 1, i - w, i + w} {
			if j < 0 || j >= len(mask) || (j == i-1 && x == 0) || (j == i+1 && x == w-1) || (y == 0 && j == i-w) {
				continue
			}
			if !mask[j] && !outside[j] {
				outside[j] = true
				stack = append(stack, j)
			}
		}
	}
	l := newLabeler()
	row := make([]bool, w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			row[x] = !outside[y*w+x]
		}
		l.addRow(y, row)
	}
	cs := l.components(1)
	if len(cs) != 1 {
		return c
	}
	f := cs[0]
	for k := range f.runs {
		f.runs[k].y += int32(oy)
		f.runs[k].x0 += int32(ox)
		f.runs[k].x1 += int32(ox)
	}
	f.minX, f.maxX, f.minY, f.maxY = f.minX+ox, f.maxX+ox, f.minY+oy, f.maxY+oy
	return f
}

// squareSide returns the side, in pixels, of the largest square of the component's pixels:
// its morphological width, the widest square that an erosion leaves something of. A row of
// parked cars is long but no wider than one car; a roof is as wide as it is long.
func (c *component) squareSide(keep func(x, y int) bool) int {
	w := c.maxX - c.minX + 1
	// prev and cur hold, per column of the bounding box, the side of the largest square
	// whose bottom-right corner is that pixel, on the previous and on this row.
	prev, cur := make([]int32, w+1), make([]int32, w+1)
	best := int32(0)
	k := 0
	for y := c.minY; y <= c.maxY; y++ {
		clear(cur)
		for ; k < len(c.runs) && int(c.runs[k].y) == y; k++ {
			r := c.runs[k]
			for x := int(r.x0) - c.minX + 1; x <= int(r.x1)-c.minX; x++ {
				if keep != nil && !keep(x+c.minX-1, y) {
					continue
				}
				cur[x] = 1 + min(prev[x], prev[x-1], cur[x-1])
				best = max(best, cur[x])
			}
		}
		prev, cur = cur, prev
	}
	return int(best)
}
