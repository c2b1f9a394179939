package geo

import (
	"math/rand/v2"
	"sort"

	"github.com/paulmach/orb"
)

// A plane sweep (Shamos and Hoey 1976) that decides in O(n log n) whether any
// two edges meet in a way a rule forbids. sweepPairs, which visits every
// pair of edges whose bounding boxes overlap, is quadratic on shapes such as
// combs (a 150k-vertex comb took 27 s); this sweep is what validation runs
// first, so a valid geometry never pays more than O(n log n).
//
// The sweep line moves up in y; points are ordered by (y, x), which tilts
// the line infinitesimally so that horizontal edges need no special case.
// The status holds the active edges ordered along the line. Two kinds of
// contact are found:
//   - at a vertex (a point that is an endpoint of some edge): every edge
//     through the point is gathered there and each pair classified with
//     segmentCrossing; collinear overlaps start at such a point too;
//   - proper crossings away from vertices: the edges become neighbours in
//     the status before the sweep passes the crossing, as in Shamos-Hoey.
//
// Touches allowed by the rule do not change the order of active edges, so
// the status stays consistent up to the first forbidden contact, where the
// sweep stops.

// contactRule reports whether edges e and f meeting as c (never crossNone)
// make the geometry invalid.
type contactRule func(e, f *edge, c crossing) bool

// sweepEdge is an edge oriented for the sweep: lo before hi in (y, x) order.
type sweepEdge struct {
	lo, hi orb.Point
	id     int // position in the input, to break ties between collinear edges
	e      *edge
}

// pointLess orders points by y, then x: the order the sweep meets them.
func pointLess(a, b orb.Point) bool {
	return a[1] < b[1] || a[1] == b[1] && a[0] < b[0]
}

// sideAt compares s with t along the sweep line through s.lo, where t is
// active: -1 when s is left of t, 1 right, 0 collinear.
func sideAt(s, t *sweepEdge) int {
	o := orient(t.lo, t.hi, s.lo)
	if o == 0 {
		o = orient(t.lo, t.hi, s.hi)
	}
	switch {
	case o > 0:
		return -1
	case o < 0:
		return 1
	}
	return 0
}

// statusLess orders two active edges along the sweep line, comparing them
// where the later of the two started. Valid while they do not cross.
func statusLess(s, t *sweepEdge) bool {
	if s == t {
		return false
	}
	var c int
	if pointLess(s.lo, t.lo) {
		c = -sideAt(t, s)
	} else {
		c = sideAt(s, t)
	}
	if c == 0 {
		return s.id < t.id
	}
	return c < 0
}

// firstForbiddenContact returns a pair of edges whose contact the rule
// forbids, or nil, nil when there is none. The rule may allow touches only:
// if it allows two edges to cross or overlap, the status loses its order
// and the answer is undefined (validation checks each ring, then the rings
// of a polygon, then the parts, so that what it allows are touches). It
// reorders nothing in edges.
func firstForbiddenContact(edges []edge, bad contactRule) (*edge, *edge) {
	if len(edges) < 2 {
		return nil, nil
	}
	segs := make([]sweepEdge, 0, len(edges))
	for i := range edges {
		e := &edges[i]
		if e.a == e.b {
			continue
		}
		lo, hi := e.a, e.b
		if pointLess(hi, lo) {
			lo, hi = hi, lo
		}
		segs = append(segs, sweepEdge{lo: lo, hi: hi, id: len(segs), e: e})
	}
	// Events: every endpoint, once for each edge it starts or ends.
	type event struct {
		p     orb.Point
		s     *sweepEdge
		start bool
	}
	events := make([]event, 0, 2*len(segs))
	for i := range segs {
		s := &segs[i]
		events = append(events, event{s.lo, s, true}, event{s.hi, s, false})
	}
	sort.Slice(events, func(i, j int) bool { return pointLess(events[i].p, events[j].p) })

	status := &treap{less: statusLess, rnd: rand.New(rand.NewPCG(1, 2)), nodes: make([]treapNode, 0, len(segs))}
	check := func(s, t *sweepEdge) bool {
		if s == nil || t == nil {
			return false
		}
		c := segmentCrossing(s.e.a, s.e.b, t.e.a, t.e.b)
		return c != crossNone && bad(s.e, t.e, c)
	}
	var group, starting []*sweepEdge
	for i := 0; i < len(events); {
		p := events[i].p
		j := i
		starting = starting[:0]
		for ; j < len(events) && events[j].p == p; j++ {
			if events[j].start {
				starting = append(starting, events[j].s)
			}
		}
		// Every active edge through p (ending there or passing through)
		// sits together in the status; gather them with the starting ones.
		group = append(group[:0], starting...)
		for n := status.lowerBound(func(t *sweepEdge) bool { return orient(t.lo, t.hi, p) >= 0 }); n != nil; n = status.next(n) {
			if orient(n.item.lo, n.item.hi, p) != 0 {
				break
			}
			group = append(group, n.item)
		}
		for a := 0; a < len(group); a++ {
			for b := a + 1; b < len(group); b++ {
				if check(group[a], group[b]) {
					return group[a].e, group[b].e
				}
			}
		}
		for k := i; k < j; k++ {
			if !events[k].start {
				status.remove(events[k].s)
			}
		}
		for _, s := range starting {
			status.insert(s)
		}
		// New neighbours are all around p: check each consecutive pair from
		// the edge left of the edges through p to the edge right of them.
		n := status.lowerBound(func(t *sweepEdge) bool { return orient(t.lo, t.hi, p) >= 0 })
		var left *treapNode
		if n != nil {
			left = status.prev(n)
		} else {
			left = status.last()
		}
		for ; n != nil; n = status.next(n) {
			if left != nil && check(left.item, n.item) {
				return left.item.e, n.item.e
			}
			if orient(n.item.lo, n.item.hi, p) != 0 {
				break
			}
			left = n
		}
		i = j
	}
	return nil, nil
}

// treap is a randomized balanced search tree of sweep edges with parent
// links, so that neighbours are found from a node in O(log n).
type treap struct {
	root  *treapNode
	less  func(a, b *sweepEdge) bool
	rnd   *rand.Rand
	nodes []treapNode // backing store: one node per edge ever inserted, allocated at once
}

type treapNode struct {
	item                *sweepEdge
	prio                uint64
	left, right, parent *treapNode
}

func (t *treap) insert(s *sweepEdge) *treapNode {
	if len(t.nodes) == cap(t.nodes) {
		t.nodes = make([]treapNode, 0, max(16, cap(t.nodes)))
	}
	t.nodes = append(t.nodes, treapNode{item: s, prio: t.rnd.Uint64()})
	n := &t.nodes[len(t.nodes)-1]
	if t.root == nil {
		t.root = n
		return n
	}
	cur := t.root
	for {
		if t.less(s, cur.item) {
			if cur.left == nil {
				cur.left = n
				break
			}
			cur = cur.left
		} else {
			if cur.right == nil {
				cur.right = n
				break
			}
			cur = cur.right
		}
	}
	n.parent = cur
	for n.parent != nil && n.parent.prio < n.prio {
		t.rotateUp(n)
	}
	return n
}

// rotateUp moves n above its parent.
func (t *treap) rotateUp(n *treapNode) {
	p, g := n.parent, n.parent.parent
	if p.left == n {
		p.left = n.right
		if n.right != nil {
			n.right.parent = p
		}
		n.right = p
	} else {
		p.right = n.left
		if n.left != nil {
			n.left.parent = p
		}
		n.left = p
	}
	p.parent = n
	n.parent = g
	switch {
	case g == nil:
		t.root = n
	case g.left == p:
		g.left = n
	default:
		g.right = n
	}
}

// find returns the node holding s, or nil.
func (t *treap) find(s *sweepEdge) *treapNode {
	cur := t.root
	for cur != nil && cur.item != s {
		if t.less(s, cur.item) {
			cur = cur.left
		} else {
			cur = cur.right
		}
	}
	return cur
}

func (t *treap) remove(s *sweepEdge) {
	n := t.find(s)
	if n == nil {
		return
	}
	// Rotate n down until it is a leaf, then cut it off.
	for n.left != nil || n.right != nil {
		c := n.left
		if c == nil || n.right != nil && n.right.prio > c.prio {
			c = n.right
		}
		t.rotateUp(c)
	}
	switch p := n.parent; {
	case p == nil:
		t.root = nil
	case p.left == n:
		p.left = nil
	default:
		p.right = nil
	}
}

// lowerBound returns the first node for which ok holds; ok must be false
// then true along the order.
func (t *treap) lowerBound(ok func(*sweepEdge) bool) *treapNode {
	var best *treapNode
	for cur := t.root; cur != nil; {
		if ok(cur.item) {
			best, cur = cur, cur.left
		} else {
			cur = cur.right
		}
	}
	return best
}

func (t *treap) last() *treapNode {
	cur := t.root
	for cur != nil && cur.right != nil {
		cur = cur.right
	}
	return cur
}

func (t *treap) next(n *treapNode) *treapNode {
	if n.right != nil {
		n = n.right
		for n.left != nil {
			n = n.left
		}
		return n
	}
	for n.parent != nil && n.parent.right == n {
		n = n.parent
	}
	return n.parent
}

func (t *treap) prev(n *treapNode) *treapNode {
	if n.left != nil {
		n = n.left
		for n.right != nil {
			n = n.right
		}
		return n
	}
	for n.parent != nil && n.parent.left == n {
		n = n.parent
	}
	return n.parent
}
