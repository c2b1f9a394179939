package detect

import "github.com/paulmach/orb"

// Polygonization by boundary tracing along pixel edges. Every set pixel contributes the
// edges it shares with unset neighbours, directed so the set pixel lies on the right in
// row/column space; linking the edges head to tail yields closed rings: one outer ring per
// 8-connected component and one ring per hole. Where two set pixels touch only at a corner
// the tracer turns so they stay in one ring (8-connectivity), as the component labelling
// does, so every component becomes exactly one orb.Polygon.

// Directions in row/column space (y grows downward).
var dirs = [4][2]int{{1, 0}, {0, 1}, {-1, 0}, {0, -1}} // east, south, west, north

// polygonize converts a w×h mask holding one 8-connected component (with an unset
// one-pixel margin) into rings of pixel-corner coordinates: outer ring first, then holes.
func polygonize(mask []bool, w, h int) [][][2]int {
	at := func(x, y int) bool { return x >= 0 && y >= 0 && x < w && y < h && mask[y*w+x] }
	// out reports whether an edge leaves vertex (vx, vy) in direction d.
	out := func(vx, vy, d int) bool {
		tl, tr := at(vx-1, vy-1), at(vx, vy-1)
		bl, br := at(vx-1, vy), at(vx, vy)
		switch d {
		case 0:
			return br && !tr
		case 1:
			return bl && !br
		case 2:
			return tl && !bl
		default:
			return tr && !tl
		}
	}
	vw := w + 1
	used := make([]bool, vw*(h+1)*4)
	var rings [][][2]int
	trace := func(sx, sy, sd int) {
		var ring [][2]int
		x, y, d := sx, sy, sd
		for {
			used[(y*vw+x)*4+d] = true
			ring = append(ring, [2]int{x, y})
			x += dirs[d][0]
			y += dirs[d][1]
			// Candidates at the new vertex: at most two (a saddle).
			next := -1
			for nd := 0; nd < 4; nd++ {
				if !out(x, y, nd) {
					continue
				}
				if next < 0 {
					next = nd
					continue
				}
				// Saddle: take the left turn (negative cross product in y-down space),
				// which keeps diagonal neighbours in one ring.
				cross := dirs[d][0]*dirs[nd][1] - dirs[d][1]*dirs[nd][0]
				if cross < 0 {
					next = nd
				}
			}
			if next < 0 || used[(y*vw+x)*4+next] {
				break
			}
			d = next
		}
		rings = append(rings, simplifyRing(ring))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if !at(x, y) {
				continue
			}
			// Top edge starts at (x, y) heading east; bottom edge at (x+1, y+1) heading west.
			if !at(x, y-1) && !used[(y*vw+x)*4+0] {
				trace(x, y, 0)
			}
			if !at(x, y+1) && !used[((y+1)*vw+x+1)*4+2] {
				trace(x+1, y+1, 2)
			}
		}
	}
	// The outer ring has positive signed area in row/column space; holes negative. Put the
	// outer ring (largest positive) first.
	best, bestArea := 0, 0
	for i, r := range rings {
		if a := ringArea2(r); a > bestArea {
			best, bestArea = i, a
		}
	}
	rings[0], rings[best] = rings[best], rings[0]
	return rings
}

// simplifyRing drops vertices where the boundary goes straight on.
func simplifyRing(r [][2]int) [][2]int {
	n := len(r)
	out := make([][2]int, 0, n)
	for i := 0; i < n; i++ {
		p, c, q := r[(i+n-1)%n], r[i], r[(i+1)%n]
		if (c[0]-p[0])*(q[1]-c[1])-(c[1]-p[1])*(q[0]-c[0]) != 0 {
			out = append(out, c)
		}
	}
	return out
}

// ringArea2 is twice the signed shoelace area.
func ringArea2(r [][2]int) int {
	a := 0
	for i := range r {
		j := (i + 1) % len(r)
		a += r[i][0]*r[j][1] - r[j][0]*r[i][1]
	}
	return a
}

// polygon converts the component into an orb.Polygon in the grid's CRS: outer ring
// counter-clockwise and holes clockwise (RFC 7946), rings closed.
func (c *component) polygon(g *Grid) orb.Polygon {
	mask, w, h, ox, oy := c.localMask()
	rings := polygonize(mask, w, h)
	poly := make(orb.Polygon, 0, len(rings))
	for i, r := range rings {
		ring := make(orb.Ring, 0, len(r)+1)
		for _, v := range r {
			ring = append(ring, g.World(float64(v[0]+ox), float64(v[1]+oy)))
		}
		ring = append(ring, ring[0])
		want := orb.CCW
		if i > 0 {
			want = orb.CW
		}
		if ring.Orientation() != want {
			ring.Reverse()
		}
		poly = append(poly, ring)
	}
	return poly
}
