package geo

import (
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// gcjVectors are WGS84 → GCJ-02 pairs published as test data by widely
// used open-source coordinate libraries (values read, not code copied):
//   - googollee/eviltransform test suites (Python/PHP ports): Shanghai,
//     Shenzhen, Beijing, to about 1e-14°;
//   - wandergis/coordtransform test/app.js: Beijing (Tiananmen), 1e-14°;
//   - hujiulong/gcoord test/fixtures/china-cities.json: prefecture cities
//     from Tibet to Liaoning, rounded to 1e-7°. These GCJ-02 values sit a
//     systematic 4–6e-6° (about 0.6 m) from the public formula in every
//     city (gcoord's own tests compare them to 4 decimals), so they are
//     held to 1e-5° and prove the offsets' size and direction, not the
//     last decimetre;
//   - a geotool CLI test (Zhejiang/Shanghai border), 8 mm from the formula.
var gcjVectors = []struct {
	name       string
	wLon, wLat float64
	gLon, gLat float64
	tol        float64 // degrees: rounding of the published value
	source     string
}{
	{"shanghai", 121.5272106, 31.1774276, 121.531541859215, 31.17530398364597, 1e-9, "eviltransform"},
	{"shenzhen", 113.912316, 22.543847, 113.9171764808363, 22.540796131694766, 1e-9, "eviltransform"},
	{"beijing", 116.377817, 39.911954, 116.38404722455657, 39.91334545536069, 1e-9, "eviltransform"},
	{"beijing tiananmen", 116.404, 39.915, 116.41024449916938, 39.91640428150164, 1e-9, "coordtransform"},
	{"jiaxing", 121.0917077, 30.6107779, 121.09626935575027, 30.608604331756705, 1e-7, "geotool"},
	{"zhumadian", 114.0164322, 33.0133556, 114.022306, 33.0115324, 1e-5, "gcoord"},
	{"nagqu tibet", 92.0499619, 31.4784436, 92.0512438, 31.4762063, 1e-5, "gcoord"},
	{"xichang sichuan", 102.2658401, 27.8850446, 102.2673386, 27.8816151, 1e-5, "gcoord"},
	{"zhengzhou", 113.6192856, 34.7478004, 113.6253334, 34.7466173, 1e-5, "gcoord"},
	{"meizhou guangdong", 116.1174053, 24.2912377, 116.1222426, 24.2886182, 1e-5, "gcoord"},
	{"ziyang sichuan", 104.6252411, 30.1317508, 104.6276449, 30.1289052, 1e-5, "gcoord"},
	{"liaoyang", 123.2312099, 41.2651725, 123.2369518, 41.2672464, 1e-5, "gcoord"},
	{"shenyang", 123.4253306, 41.8032629, 123.4314787, 41.8057023, 1e-5, "gcoord"},
	{"jiuquan gansu", 98.4937175, 39.7319946, 98.4943595, 39.7328234, 1e-5, "gcoord"},
	{"xilinhot inner mongolia", 116.0414035, 43.9312805, 116.0482308, 43.9334573, 1e-5, "gcoord"},
	{"qinzhou guangxi", 108.6503952, 21.9828281, 108.6541485, 21.9799392, 1e-5, "gcoord"},
	{"shantou guangdong", 116.6775114, 23.3567569, 116.6819735, 23.3540964, 1e-5, "gcoord"},
}

func TestWGS84ToGCJ02Vectors(t *testing.T) {
	for _, tc := range gcjVectors {
		t.Run(tc.name, func(t *testing.T) {
			lon, lat := WGS84ToGCJ02(tc.wLon, tc.wLat)
			if math.Abs(lon-tc.gLon) > tc.tol || math.Abs(lat-tc.gLat) > tc.tol {
				t.Errorf("WGS84ToGCJ02(%v, %v) = (%.10f, %.10f), want (%.10f, %.10f) from %s",
					tc.wLon, tc.wLat, lon, lat, tc.gLon, tc.gLat, tc.source)
			}
			off := orbgeo.Distance(orb.Point{tc.wLon, tc.wLat}, orb.Point{lon, lat})
			if off < 40 || off > 700 {
				t.Errorf("offset %.1f m, want 40–700 m", off)
			}
		})
	}
}

func TestGCJ02ToWGS84Vectors(t *testing.T) {
	for _, tc := range gcjVectors {
		t.Run(tc.name, func(t *testing.T) {
			lon, lat := GCJ02ToWGS84(tc.gLon, tc.gLat)
			d := orbgeo.Distance(orb.Point{tc.wLon, tc.wLat}, orb.Point{lon, lat})
			// The published GCJ value is rounded to tol degrees, which
			// alone moves the inverse by up to tol·111 km.
			if limit := 0.5 + tc.tol*111320*2; d > limit {
				t.Errorf("GCJ02ToWGS84(%v, %v) = (%.9f, %.9f), %.3f m from the known WGS84 (%v, %v), want < %.2f m",
					tc.gLon, tc.gLat, lon, lat, d, tc.wLon, tc.wLat, limit)
			}
		})
	}
}

// TestGCJ02RoundTrip measures the inverse over a 0.25° grid across China:
// forward then inverse must return within 0.5 m (it is far better).
func TestGCJ02RoundTrip(t *testing.T) {
	var worst, minOff, maxOff float64
	minOff = math.Inf(1)
	n := 0
	for lat := 18.0; lat <= 53.5; lat += 0.25 {
		for lon := 73.5; lon <= 135.0; lon += 0.25 {
			gLon, gLat := WGS84ToGCJ02(lon, lat)
			off := orbgeo.Distance(orb.Point{lon, lat}, orb.Point{gLon, gLat})
			minOff, maxOff = min(minOff, off), max(maxOff, off)
			wLon, wLat := GCJ02ToWGS84(gLon, gLat)
			d := orbgeo.Distance(orb.Point{lon, lat}, orb.Point{wLon, wLat})
			worst = max(worst, d)
			n++
			if d > 0.5 {
				t.Fatalf("round trip at (%v, %v) is off by %.4f m", lon, lat, d)
			}
		}
	}
	t.Logf("%d points: worst inverse error %.3g m; offsets %.0f–%.0f m", n, worst, minOff, maxOff)
	if minOff < 1 || maxOff > 1000 {
		t.Errorf("offsets %.0f–%.0f m outside the expected range", minOff, maxOff)
	}
}

func TestGCJ02OutsideChina(t *testing.T) {
	for _, p := range [][2]float64{{9.52, 47.17}, {-34.9, -8.0}, {139.7, 35.7}, {183, 45}, {0, 0}} {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			if lon, lat := WGS84ToGCJ02(p[0], p[1]); lon != p[0] || lat != p[1] {
				t.Errorf("WGS84ToGCJ02 moved a point outside China to (%v, %v)", lon, lat)
			}
			if lon, lat := GCJ02ToWGS84(p[0], p[1]); lon != p[0] || lat != p[1] {
				t.Errorf("GCJ02ToWGS84 moved a point outside China to (%v, %v)", lon, lat)
			}
		})
	}
}

func TestGCJ02Option(t *testing.T) {
	// A 100 m square in Chengdu drawn on a GCJ-02 web map.
	w := orb.Ring{{104.06, 30.66}, {104.061, 30.66}, {104.061, 30.661}, {104.06, 30.661}, {104.06, 30.66}}
	var g orb.Ring
	for _, p := range w {
		lon, lat := WGS84ToGCJ02(p[0], p[1])
		g = append(g, orb.Point{lon, lat})
	}
	src := fmt.Sprintf(`{"type":"Feature","properties":{"parcel_id":"cd-1"},"geometry":{"type":"Polygon","coordinates":[%s]}}`, ringJSON(g))
	c, err := ReadGeoJSON(stringsReader(src), WithGCJ02())
	if err != nil {
		t.Fatal(err)
	}
	if c.SourceCRS != CRSGCJ02 {
		t.Errorf("SourceCRS = %q, want %q", c.SourceCRS, CRSGCJ02)
	}
	got := c.Features[0].Geometry.(orb.Polygon)[0]
	for i := range w {
		if d := orbgeo.Distance(w[i], got[i]); d > 0.01 {
			t.Errorf("point %d is %.3f m from its WGS84 position", i, d)
		}
	}
}
