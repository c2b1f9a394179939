package geo

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// ringJSON formats a ring as GeoJSON coordinates.
func ringJSON(r orb.Ring) string {
	parts := make([]string, len(r))
	for i, p := range r {
		parts[i] = fmt.Sprintf("[%v,%v]", p[0], p[1])
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// MustOgr2ogr runs ogr2ogr (gdal-bin) with args, skipping the test when it
// is not installed (failing under CI=true).
func MustOgr2ogr(tb testing.TB, args ...string) {
	tb.Helper()
	bin, err := exec.LookPath("ogr2ogr")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("ogr2ogr not found")
		}
		tb.Skip("ogr2ogr not found; skipping")
	}
	cmd := exec.Command(bin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ogr2ogr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// MustWriteFile writes content to dir/name and returns the path.
func MustWriteFile(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Intersects reports whether geometries a and b share at least one point
// (touching counts). It handles points, lines, rings, bounds, polygons with
// holes, their multi forms and collections, in planar lon/lat: bounding
// boxes first, then edge crossings (a sweep over both edge sets), then
// containment of one in the other.
func Intersects(a, b orb.Geometry) bool {
	if a == nil || b == nil {
		return false
	}
	ba, bb := a.Bound(), b.Bound()
	if !ba.Intersects(bb) {
		return false
	}
	ea, sa, pa, err := geometryEdges(a)
	if err != nil {
		return false
	}
	eb, sb, pb, err := geometryEdges(b)
	if err != nil {
		return false
	}
	for _, s := range sa {
		if inAreas(pb, s) {
			return true
		}
	}
	for _, s := range sb {
		if inAreas(pa, s) {
			return true
		}
	}
	// Points of a on edges of b and vice versa are caught by inAreas when b
	// is areal; for lines and points test them against edges here.
	for _, s := range sa {
		if onEdges(eb, s) {
			return true
		}
	}
	for _, s := range sb {
		if onEdges(ea, s) {
			return true
		}
	}
	all := make([]edge, 0, len(ea)+len(eb))
	for _, e := range ea {
		e.part = 0
		all = append(all, e)
	}
	for _, e := range eb {
		e.part = 1
		all = append(all, e)
	}
	found := false
	sweepPairs(all, func(e, f *edge) bool {
		if e.part != f.part && segmentCrossing(e.a, e.b, f.a, f.b) != crossNone {
			found = true
			return false
		}
		return true
	})
	return found
}

func inAreas(areas []orb.Polygon, pt orb.Point) bool {
	for _, p := range areas {
		if polygonLocation(p, pt) >= 0 {
			return true
		}
	}
	return false
}

func onEdges(edges []edge, pt orb.Point) bool {
	for _, e := range edges {
		if orient(e.a, e.b, pt) == 0 && within(e.a, e.b, pt) {
			return true
		}
	}
	return false
}
