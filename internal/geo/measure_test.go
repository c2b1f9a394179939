package geo

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/raster"
)

// metreSquare returns a square of side d metres with its south-west corner
// at (lon, lat), built in a local azimuthal equidistant projection by GDAL.
func metreSquare(t *testing.T, lon, lat, d float64) orb.Polygon {
	t.Helper()
	local := localAEQD(lon, lat)
	pts, err := raster.TransformPoints(local, CRSWGS84, [][2]float64{{0, 0}, {d, 0}, {d, d}, {0, d}, {0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	r := make(orb.Ring, len(pts))
	for i, p := range pts {
		r[i] = orb.Point(p)
	}
	return orb.Polygon{r}
}

func localAEQD(lon, lat float64) string {
	return "+proj=aeqd +lat_0=" + ftoa(lat) + " +lon_0=" + ftoa(lon) + " +datum=WGS84 +units=m +no_defs"
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func TestArea(t *testing.T) {
	tests := []struct {
		name     string
		lon, lat float64
		side     float64
	}{
		{"100 m at the equator", 10, 0, 100},
		{"100 m in Guangzhou", 113.26, 23.13, 100},
		{"1 km in Beijing", 116.4, 39.9, 1000},
		{"300 m in Harbin", 126.6, 45.75, 300},
		{"50 m in Liechtenstein", 9.51, 47.17, 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := metreSquare(t, tc.lon, tc.lat, tc.side)
			want := tc.side * tc.side
			// Equal-area check with GDAL: Lambert azimuthal equal-area on the
			// WGS84 ellipsoid, shoelace in metres.
			laea := "+proj=laea +lat_0=" + ftoa(tc.lat) + " +lon_0=" + ftoa(tc.lon) + " +datum=WGS84 +units=m +no_defs"
			proj, err := transformGeometry(p, CRSWGS84, laea)
			if err != nil {
				t.Fatal(err)
			}
			ref := math.Abs(shoelace(proj.(orb.Polygon)[0]))
			got := Area(p)
			if math.Abs(got-ref) > 1e-5*ref {
				t.Errorf("Area = %.4f m², GDAL equal-area %.4f m² (rel %.2g)", got, ref, (got-ref)/ref)
			}
			if math.Abs(got-want) > 1e-3*want {
				t.Errorf("Area = %.4f m², want about %.0f", got, want)
			}
		})
	}
	t.Run("hole and multipolygon", func(t *testing.T) {
		outer := metreSquare(t, 116.4, 39.9, 100)[0]
		hole := metreSquare(t, 116.4001, 39.9001, 20)[0]
		p := orb.Polygon{outer, hole}
		if got, want := Area(p), Area(orb.Polygon{outer})-Area(orb.Polygon{hole}); math.Abs(got-want) > 1e-6 {
			t.Errorf("Area with hole = %v, want %v", got, want)
		}
		if got, want := Area(orb.MultiPolygon{p, {outer}}), 2*Area(orb.Polygon{outer})-Area(orb.Polygon{hole}); math.Abs(got-want) > 1e-6 {
			t.Errorf("Area of multipolygon = %v, want %v", got, want)
		}
		if Area(orb.LineString{{0, 0}, {1, 1}}) != 0 || Area(nil) != 0 {
			t.Error("non-areal geometry has area")
		}
	})
}

func shoelace(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s / 2
}

func TestBuffer(t *testing.T) {
	tests := []struct {
		name     string
		lon, lat float64
		side, d  float64
		want     float64 // m²
	}{
		// A square of side s grown by d: (s+2d)² minus the four corners
		// that are quarter circles instead of squares: (4−π)d².
		{"100 m square by 10 m in Chengdu", 104.06, 30.66, 100, 10, 120*120 - (4-math.Pi)*100},
		{"100 m square by 10 m in Urumqi", 87.6, 43.8, 100, 10, 120*120 - (4-math.Pi)*100},
		{"200 m square by 50 m in Liechtenstein", 9.51, 47.17, 200, 50, 300*300 - (4-math.Pi)*2500},
		{"100 m square shrunk by 10 m", 116.4, 39.9, 100, -10, 80 * 80},
		{"square shrunk away", 116.4, 39.9, 100, -60, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := metreSquare(t, tc.lon, tc.lat, tc.side)
			got, err := Buffer(p, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			a := Area(got)
			// Rounded corners are 16-segment polygons: they miss
			// (1 − sin(2π/64)·64/2π)·πd² ≈ 0.16% of the circle's area.
			tol := 0.002*math.Pi*tc.d*tc.d + 1e-4*tc.want + 0.01
			if math.Abs(a-tc.want) > tol {
				t.Errorf("buffered area %.2f m², want %.2f ± %.2f", a, tc.want, tol)
			}
			if tc.want > 0 {
				if rep, _ := Validate([]Feature{{ParcelID: "b", Geometry: got}}); len(rep.Problems) > 0 {
					t.Errorf("buffer is not valid: %v", rep.Problems)
				}
				if tc.d > 0 && !Intersects(got, p) {
					t.Error("buffer does not contain the parcel")
				}
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		if _, err := Buffer(nil, 10); err == nil {
			t.Error("Buffer(nil) succeeded")
		}
		if _, err := Buffer(orb.LineString{{0, 0}, {1, 1}}, 10); err == nil {
			t.Error("Buffer(line) succeeded")
		}
		if _, err := Buffer(orb.Polygon{sq(0, 0, 0.001)}, math.NaN()); err == nil {
			t.Error("Buffer(NaN) succeeded")
		}
	})
}

func TestReproject(t *testing.T) {
	tests := []struct {
		name string
		g    orb.Geometry
	}{
		{"point", orb.Point{116.4, 39.9}},
		{"line", orb.LineString{{116.4, 39.9}, {116.5, 40}}},
		{"polygon with hole", orb.Polygon{sq(116.39, 39.9, 0.01), sq(116.392, 39.902, 0.002)}},
		{"multipolygon", orb.MultiPolygon{{sq(116.39, 39.9, 0.01)}, {sq(116.5, 39.9, 0.01)}}},
		{"collection", orb.Collection{orb.Point{116.4, 39.9}, orb.MultiPoint{{116.41, 39.91}}, orb.MultiLineString{{{116.4, 39.9}, {116.5, 40}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			utm, err := Reproject(tc.g, CRSWGS84, "EPSG:32650")
			if err != nil {
				t.Fatal(err)
			}
			if b := utm.Bound(); b.Min[0] < 300000 || b.Max[0] > 700000 || b.Min[1] < 4.4e6 || b.Max[1] > 4.5e6 {
				t.Errorf("UTM bounds %v, want easting 3e5–7e5 and northing ~4.42e6", b)
			}
			back, err := Reproject(utm, "EPSG:32650", CRSWGS84)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			k := 0
			var orig []orb.Point
			mapPoints(tc.g, func(p orb.Point) orb.Point { orig = append(orig, p); return p })
			mapPoints(back, func(p orb.Point) orb.Point {
				worst = max(worst, math.Abs(p[0]-orig[k][0]), math.Abs(p[1]-orig[k][1]))
				k++
				return p
			})
			if k != len(orig) || worst > 1e-9 {
				t.Errorf("round trip: %d of %d points, worst error %g°", k, len(orig), worst)
			}
		})
	}
	if g, err := Reproject(nil, CRSWGS84, "EPSG:32650"); g != nil || err != nil {
		t.Errorf("Reproject(nil) = %v, %v", g, err)
	}
	if _, err := Reproject(orb.Point{0, 95}, CRSWGS84, "EPSG:32650"); err == nil || !strings.HasPrefix(err.Error(), "geo: ") {
		t.Errorf("Reproject of latitude 95: %v", err)
	}
}
