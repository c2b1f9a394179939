package geo

import (
	"math"
	"slices"
	"sort"

	"github.com/paulmach/orb"
)

// rtreeFanout is the number of children per R-tree node.
const rtreeFanout = 16

// Index is a static R-tree over geometry bounds, packed with the
// Sort-Tile-Recursive algorithm (Leutenegger et al. 1997): every node is
// full except the last of each level, and siblings overlap little. Build it
// once with NewIndex or IndexFeatures; it is safe for concurrent searches.
type Index struct {
	geoms  []orb.Geometry
	bounds []orb.Bound // bounds[i] = geoms[i].Bound()
	items  []int       // geometry indices in leaf order
	levels [][]rnode   // levels[0] are leaves (children: items); the last level is the root
}

// rnode is an R-tree node: its bound and the range of its children in the
// level below (or in items for a leaf).
type rnode struct {
	b            orb.Bound
	first, count int
}

// NewIndex indexes geoms by their bounds. Nil geometries are never found.
// Search results are indices into geoms.
func NewIndex(geoms []orb.Geometry) *Index {
	ix := &Index{geoms: geoms, bounds: make([]orb.Bound, len(geoms))}
	type entry struct {
		b  orb.Bound
		id int
	}
	var entries []entry
	for i, g := range geoms {
		if g == nil {
			continue
		}
		ix.bounds[i] = g.Bound()
		entries = append(entries, entry{ix.bounds[i], i})
	}
	if len(entries) == 0 {
		return ix
	}
	// Pack items into leaves, then nodes into parents, until one root.
	bs := make([]orb.Bound, len(entries))
	ids := make([]int, len(entries))
	for i, e := range entries {
		bs[i], ids[i] = e.b, e.id
	}
	order := strOrder(bs)
	ix.items = make([]int, len(order))
	level := make([]orb.Bound, len(order))
	for i, k := range order {
		ix.items[i] = ids[k]
		level[i] = bs[k]
	}
	nodes := groupNodes(level)
	ix.levels = append(ix.levels, nodes)
	for len(nodes) > 1 {
		nb := make([]orb.Bound, len(nodes))
		for i, n := range nodes {
			nb[i] = n.b
		}
		order := strOrder(nb)
		sorted := make([]rnode, len(nodes))
		for i, k := range order {
			sorted[i] = nodes[k]
		}
		ix.levels[len(ix.levels)-1] = sorted
		for i, n := range sorted {
			nb[i] = n.b
		}
		nodes = groupNodes(nb)
		ix.levels = append(ix.levels, nodes)
	}
	return ix
}

// IndexFeatures indexes the geometries of fs; results index fs.
func IndexFeatures(fs []Feature) *Index {
	geoms := make([]orb.Geometry, len(fs))
	for i, f := range fs {
		geoms[i] = f.Geometry
	}
	return NewIndex(geoms)
}

// strOrder returns the Sort-Tile-Recursive order of bounds: sorted by
// centre x into vertical slices of about sqrt(n/fanout) nodes' worth, each
// slice sorted by centre y.
func strOrder(bs []orb.Bound) []int {
	order := make([]int, len(bs))
	for i := range order {
		order[i] = i
	}
	cx := func(i int) float64 { return (bs[i].Min[0] + bs[i].Max[0]) / 2 }
	cy := func(i int) float64 { return (bs[i].Min[1] + bs[i].Max[1]) / 2 }
	sort.SliceStable(order, func(a, b int) bool { return cx(order[a]) < cx(order[b]) })
	leaves := (len(bs) + rtreeFanout - 1) / rtreeFanout
	nSlices := int(math.Ceil(math.Sqrt(float64(leaves))))
	per := nSlices * rtreeFanout
	for s := 0; s < len(order); s += per {
		part := order[s:min(s+per, len(order))]
		sort.SliceStable(part, func(a, b int) bool { return cy(part[a]) < cy(part[b]) })
	}
	return order
}

// groupNodes makes one node per run of rtreeFanout consecutive bounds.
func groupNodes(bs []orb.Bound) []rnode {
	var nodes []rnode
	for s := 0; s < len(bs); s += rtreeFanout {
		e := min(s+rtreeFanout, len(bs))
		b := bs[s]
		for _, x := range bs[s+1 : e] {
			b = b.Union(x)
		}
		nodes = append(nodes, rnode{b: b, first: s, count: e - s})
	}
	return nodes
}

// Len returns the number of geometries the index was built over.
func (ix *Index) Len() int { return len(ix.geoms) }

// Search returns, in increasing order, the indices of the geometries whose
// bounds intersect b (touching counts).
func (ix *Index) Search(b orb.Bound) []int {
	if len(ix.levels) == 0 {
		return nil
	}
	var out []int
	var visit func(level, i int)
	visit = func(level, i int) {
		n := ix.levels[level][i]
		if !n.b.Intersects(b) {
			return
		}
		for c := n.first; c < n.first+n.count; c++ {
			if level == 0 {
				id := ix.items[c]
				if ix.bounds[id].Intersects(b) {
					out = append(out, id)
				}
			} else {
				visit(level-1, c)
			}
		}
	}
	top := len(ix.levels) - 1
	for i := range ix.levels[top] {
		visit(top, i)
	}
	slices.Sort(out)
	return out
}

// Intersecting returns, in increasing order, the indices of the geometries
// that share at least one point with footprint (a polygon, multipolygon,
// bound, line or point): the R-tree finds candidates by bounds, Intersects
// confirms them.
func (ix *Index) Intersecting(footprint orb.Geometry) []int {
	if footprint == nil {
		return nil
	}
	cands := ix.Search(footprint.Bound())
	out := cands[:0]
	for _, id := range cands {
		if Intersects(ix.geoms[id], footprint) {
			out = append(out, id)
		}
	}
	return out
}
