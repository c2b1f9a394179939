package raster

import (
	"errors"
	"fmt"
	"math"

	"github.com/airbusgeo/godal"
	"github.com/paulmach/orb"
)

// grid is a scene's pixel grid: size and north-up geotransform.
type grid struct {
	width, height int
	gt            [6]float64
	inv           [6]float64 // inverse geotransform, as GDALInvGeoTransform computes it
}

// newGrid checks that gt is usable and precomputes its inverse.
func newGrid(width, height int, gt [6]float64) (grid, error) {
	if gt[1] == 0 || gt[5] == 0 {
		return grid{}, fmt.Errorf("%w: degenerate geotransform %v", ErrUnusableScene, gt)
	}
	if gt[2] != 0 || gt[4] != 0 {
		return grid{}, fmt.Errorf("%w: rotated geotransforms are not supported", ErrUnusableScene)
	}
	g := grid{width: width, height: height, gt: gt}
	g.inv = [6]float64{-gt[0] / gt[1], 1 / gt[1], 0, -gt[3] / gt[5], 0, 1 / gt[5]}
	return g, nil
}

// toPixel converts scene CRS coordinates to fractional pixel/line.
func (g grid) toPixel(x, y float64) (float64, float64) {
	return g.inv[0] + x*g.inv[1] + y*g.inv[2], g.inv[3] + x*g.inv[4] + y*g.inv[5]
}

// window is a rectangle of pixels [X, X+W) × [Y, Y+H) on a scene grid. It may
// extend beyond the scene.
type window struct{ X, Y, W, H int }

// intersect returns the part of w inside the w2 and whether it is non-empty.
func (w window) intersect(o window) (window, bool) {
	x0, y0 := max(w.X, o.X), max(w.Y, o.Y)
	x1, y1 := min(w.X+w.W, o.X+o.W), min(w.Y+w.H, o.Y+o.H)
	if x1 <= x0 || y1 <= y0 {
		return window{}, false
	}
	return window{x0, y0, x1 - x0, y1 - y0}, true
}

// geoTransform returns the geotransform of the window's top-left corner.
func (g grid) geoTransform(w window) [6]float64 {
	gt := g.gt
	gt[0] = g.gt[0] + float64(w.X)*g.gt[1]
	gt[3] = g.gt[3] + float64(w.Y)*g.gt[5]
	return gt
}

// pixelPolygons is a parcel in fractional pixel/line coordinates of the scene.
type pixelPolygons []orb.Polygon

// polygons returns g as a list of polygons, or an error for other types.
func polygons(g orb.Geometry) ([]orb.Polygon, error) {
	switch g := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{g}, nil
	case orb.MultiPolygon:
		return []orb.Polygon(g), nil
	case nil:
		return nil, errors.New("no geometry")
	default:
		return nil, fmt.Errorf("geometry is a %s, want Polygon or MultiPolygon", g.GeoJSONType())
	}
}

// reprojector moves parcel coordinates (lon/lat) into a scene's CRS.
type reprojector struct {
	trn *godal.Transform // nil when the scene is in WGS84 lon/lat
	srs []*godal.SpatialRef
}

// newReprojector builds the transform from the geographic CRS parcelEPSG
// (4326 when 0) to the scene CRS. Both spatial references use the
// traditional GIS axis order (godal's default), so lon/lat stay lon/lat.
func newReprojector(sceneWKT string, parcelEPSG int) (*reprojector, error) {
	if parcelEPSG == 0 {
		parcelEPSG = 4326
	}
	wgs84, err := godal.NewSpatialRefFromEPSG(parcelEPSG, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: parcel crs EPSG:%d: %w", parcelEPSG, err)
	}
	if !wgs84.Geographic() {
		wgs84.Close()
		return nil, fmt.Errorf("raster: parcel crs EPSG:%d is not geographic", parcelEPSG)
	}
	dst, err := godal.NewSpatialRefFromWKT(sceneWKT, errLogger)
	if err != nil {
		wgs84.Close()
		return nil, fmt.Errorf("raster: scene crs: %w: %v", ErrUnusableScene, err)
	}
	r := &reprojector{srs: []*godal.SpatialRef{wgs84, dst}}
	if wgs84.IsSame(dst) {
		return r, nil
	}
	r.trn, err = godal.NewTransform(wgs84, dst, errLogger)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("raster: transform wgs84 to scene crs: %w", err)
	}
	return r, nil
}

// close frees the GDAL objects.
func (r *reprojector) close() {
	if r.trn != nil {
		r.trn.Close()
	}
	for _, s := range r.srs {
		s.Close()
	}
}

// project converts every ring of polys to scene CRS coordinates (in place on
// a copy) and returns the copy.
func (r *reprojector) project(polys []orb.Polygon) ([]orb.Polygon, error) {
	out := make([]orb.Polygon, len(polys))
	var xs, ys []float64
	for i, p := range polys {
		out[i] = make(orb.Polygon, len(p))
		for j, ring := range p {
			xs, ys = xs[:0], ys[:0]
			for _, pt := range ring {
				xs = append(xs, pt[0])
				ys = append(ys, pt[1])
			}
			if r.trn != nil && len(xs) > 0 {
				ok := make([]bool, len(xs))
				if err := r.trn.TransformEx(xs, ys, nil, ok); err != nil {
					return nil, fmt.Errorf("reproject: %w", err)
				}
				for _, good := range ok {
					if !good {
						return nil, errors.New("reproject: point outside the scene crs domain")
					}
				}
			}
			nr := make(orb.Ring, len(xs))
			for k := range xs {
				if math.IsNaN(xs[k]) || math.IsInf(xs[k], 0) || math.IsNaN(ys[k]) || math.IsInf(ys[k], 0) {
					return nil, errors.New("reproject: non-finite coordinate")
				}
				nr[k] = orb.Point{xs[k], ys[k]}
			}
			out[i][j] = nr
		}
	}
	return out, nil
}

// toPixels converts scene CRS polygons to pixel/line coordinates.
func (g grid) toPixels(polys []orb.Polygon) pixelPolygons {
	out := make(pixelPolygons, len(polys))
	for i, p := range polys {
		out[i] = make(orb.Polygon, len(p))
		for j, ring := range p {
			nr := make(orb.Ring, len(ring))
			for k, pt := range ring {
				x, y := g.toPixel(pt[0], pt[1])
				nr[k] = orb.Point{x, y}
			}
			out[i][j] = nr
		}
	}
	return out
}

// bound returns the envelope of polys.
func bound(polys []orb.Polygon) orb.Bound {
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for _, p := range polys {
		for _, ring := range p {
			for _, pt := range ring {
				b = b.Extend(pt)
			}
		}
	}
	return b
}

// cropWindow returns the window gdalwarp -crop_to_cutline produces for a
// cutline whose envelope in scene CRS is env. Like gdalwarp (GDAL 3.x,
// CropToCutline with no reprojection of the raster), the envelope is snapped
// to the scene's pixel boundaries: inwards for the pixel-centre rule,
// outwards for all-touched, with a 1e-8 pixel tolerance. The window may be
// empty (W or H ≤ 0) for a cutline narrower than a pixel.
func (g grid) cropWindow(env orb.Bound, allTouched bool) window {
	gt := g.gt
	fx0 := (env.Min[0] - gt[0]) / gt[1]
	fx1 := (env.Max[0] - gt[0]) / gt[1]
	fyBottom := (env.Min[1] - gt[3]) / gt[5] // larger line number when gt[5] < 0
	fyTop := (env.Max[1] - gt[3]) / gt[5]
	var x0, x1, yb, yt float64
	if allTouched {
		x0 = math.Floor(fx0 + 1e-8)
		yb = math.Ceil(fyBottom - 1e-8)
		x1 = math.Ceil(fx1 - 1e-8)
		yt = math.Floor(fyTop + 1e-8)
	} else {
		x0 = math.Ceil(fx0 - 1e-8)
		yb = math.Floor(fyBottom + 1e-8)
		x1 = math.Floor(fx1 + 1e-8)
		yt = math.Ceil(fyTop - 1e-8)
	}
	if gt[1] < 0 {
		x0, x1 = x1, x0
	}
	if gt[5] > 0 {
		yt, yb = yb, yt
	}
	return window{X: int(x0), Y: int(yt), W: int(x1 - x0), H: int(yb - yt)}
}

// empty reports whether w has no pixels.
func (w window) empty() bool { return w.W <= 0 || w.H <= 0 }

// maxSegmentLength returns the longest segment of any ring of polys.
func maxSegmentLength(polys []orb.Polygon) float64 {
	var m float64
	for _, p := range polys {
		for _, r := range p {
			for k := 1; k < len(r); k++ {
				dx, dy := r[k][0]-r[k-1][0], r[k][1]-r[k-1][1]
				m = max(m, dx*dx+dy*dy)
			}
		}
	}
	return math.Sqrt(m)
}

// segmentize inserts points so that no segment is longer than maxLen, as
// OGR_G_Segmentize does: a segment longer than maxLen (with a 1e-5 relative
// tolerance on squared lengths) gets floor(len/maxLen) evenly spaced
// intermediate points (minus a 1e-2 margin).
func segmentize(polys []orb.Polygon, maxLen float64) []orb.Polygon {
	sq := maxLen * maxLen
	out := make([]orb.Polygon, len(polys))
	for i, p := range polys {
		out[i] = make(orb.Polygon, len(p))
		for j, r := range p {
			nr := make(orb.Ring, 0, len(r))
			for k := range r {
				nr = append(nr, r[k])
				if k == len(r)-1 {
					break
				}
				dx, dy := r[k+1][0]-r[k][0], r[k+1][1]-r[k][1]
				d2 := dx*dx + dy*dy
				if d2-sq > 1e-5*sq {
					n := int(math.Floor(math.Sqrt(d2/sq) - 1e-2))
					for m := 1; m <= n; m++ {
						nr = append(nr, orb.Point{r[k][0] + float64(m)*dx/float64(n+1), r[k][1] + float64(m)*dy/float64(n+1)})
					}
				}
			}
			out[i][j] = nr
		}
	}
	return out
}
