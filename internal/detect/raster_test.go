package detect

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func TestPolygonize(t *testing.T) {
	tests := []struct {
		name      string
		rows      []string
		wantRings int
		wantArea  int // in pixels, outer minus holes
	}{
		{"single pixel", []string{"#"}, 1, 1},
		{"bar", []string{"###"}, 1, 3},
		{"ring with hole", []string{"###", "#.#", "###"}, 2, 8},
		{"diagonal pair joins", []string{"#.", ".#"}, 1, 2},
		{"L shape", []string{"#..", "#..", "###"}, 1, 5},
		{"two holes", []string{"#####", "#.#.#", "#####"}, 3, 13},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, w := len(tc.rows), len(tc.rows[0])
			mask := make([]bool, w*h)
			for y, r := range tc.rows {
				for x, ch := range r {
					mask[y*w+x] = ch == '#'
				}
			}
			cs := labelMask(mask, w, h, 1)
			if len(cs) != 1 {
				t.Fatalf("got %d components, want 1", len(cs))
			}
			g := &Grid{Width: w, Height: h, GeoTransform: [6]float64{100, 2, 0, 200, 0, -2}}
			poly := cs[0].polygon(g)
			if len(poly) != tc.wantRings {
				t.Fatalf("got %d rings, want %d: %v", len(poly), tc.wantRings, poly)
			}
			if got := planar.Area(poly); math.Abs(got-float64(tc.wantArea*4)) > 1e-9 {
				t.Errorf("area %v, want %v", got, tc.wantArea*4)
			}
			if poly[0].Orientation() != orb.CCW {
				t.Error("outer ring not counter-clockwise")
			}
			for _, hole := range poly[1:] {
				if hole.Orientation() != orb.CW {
					t.Error("hole not clockwise")
				}
			}
		})
	}
}

func TestLabelerComponents(t *testing.T) {
	rows := []string{
		"##..#",
		"...#.",
		"#....",
		"#..##",
	}
	w, h := 5, 4
	mask := make([]bool, w*h)
	for y, r := range rows {
		for x, ch := range r {
			mask[y*w+x] = ch == '#'
		}
	}
	var got []int
	for _, c := range labelMask(mask, w, h, 1) {
		got = append(got, c.pixels)
	}
	if diff := cmp.Diff([]int{2, 2, 2, 2}, got); diff != "" {
		t.Errorf("component sizes (-want +got):\n%s", diff)
	}
}

// TestSquareSide: the side of the largest square of a component's pixels, whatever its
// area: a long strip one car wide stays narrow, a ring is as wide as its wall, and an L is
// as wide as its thicker arm. Pixels marked + belong to the component but are left out by
// keep (the region's core): the side is then of the largest square of the kept pixels.
func TestSquareSide(t *testing.T) {
	tests := []struct {
		name string
		rows []string
		all  int // side over every pixel
		kept int // side over the # pixels
	}{
		{"pixel", []string{"#"}, 1, 1},
		{"strip two wide", []string{"##########", "##########"}, 2, 2},
		{"square", []string{"###", "###", "###"}, 3, 3},
		{"ring", []string{"#####", "#...#", "#...#", "#####"}, 1, 1},
		{"L", []string{"##....", "##....", "######", "######", "######"}, 3, 3},
		{"diagonal", []string{"#..", ".#.", "..#"}, 1, 1},
		{"square off the origin", []string{"......", "...###", "..####", "..####", "...###"}, 3, 3},
		{"two cars side by side, the core in one", []string{"++++++", "++++++", "######", "######"}, 4, 2},
		{"square with a weak centre", []string{"#####", "#####", "##+##", "#####", "#####"}, 5, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, h := len(tc.rows[0]), len(tc.rows)
			mask := make([]bool, w*h)
			for y, r := range tc.rows {
				for x, ch := range r {
					mask[y*w+x] = ch == '#' || ch == '+'
				}
			}
			cs := labelMask(mask, w, h, 1)
			if len(cs) != 1 {
				t.Fatalf("%d components, want 1", len(cs))
			}
			if got := cs[0].squareSide(nil); got != tc.all {
				t.Errorf("side %d, want %d", got, tc.all)
			}
			keep := func(x, y int) bool { return tc.rows[y][x] == '#' }
			if got := cs[0].squareSide(keep); got != tc.kept {
				t.Errorf("side of the kept pixels %d, want %d", got, tc.kept)
			}
		})
	}
}

// hotGrid is a 40×40 soil scene with Sentinel-2-like nir_narrow, swir1, swir2 and SCL.
func hotGrid(tb testing.TB, paint func(x, y int, v *[3]float32, scl *float32)) *Grid {
	tb.Helper()
	w, h := 40, 40
	g := &Grid{Width: w, Height: h, GeoTransform: [6]float64{500000, 20, 0, 4000000, 0, -20},
		Names: []string{BandNIRNarrow, BandSWIR1, BandSWIR2, BandSCL}}
	for range g.Names {
		g.Bands = append(g.Bands, make([]float32, w*h))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := [3]float32{0.25, 0.28, 0.22}
			scl := float32(5)
			paint(x, y, &v, &scl)
			i := y*w + x
			g.Bands[0][i], g.Bands[1][i], g.Bands[2][i], g.Bands[3][i] = v[0], v[1], v[2], scl
		}
	}
	return g
}

func TestDetectHotspots(t *testing.T) {
	kiln := func(x, y int, v *[3]float32, scl *float32) {
		if x >= 10 && x < 12 && y >= 10 && y < 12 {
			*v = [3]float32{0.3, 1.4, 2.0}
		}
	}
	tests := []struct {
		name  string
		paint func(x, y int, v *[3]float32, scl *float32)
		want  int
	}{
		{"kiln", kiln, 1},
		{"plain soil", func(int, int, *[3]float32, *float32) {}, 0},
		{"bright roof", func(x, y int, v *[3]float32, scl *float32) {
			if x >= 20 && x < 26 && y >= 20 && y < 26 {
				*v = [3]float32{0.6, 0.62, 0.55}
			}
		}, 0},
		{"saturated glint pixel", func(x, y int, v *[3]float32, scl *float32) {
			if x == 5 && y == 5 {
				*v = [3]float32{6, 6, 6}
			}
		}, 0},
		{"saturated fire", func(x, y int, v *[3]float32, scl *float32) {
			if x >= 5 && x < 7 && y == 5 {
				*v = [3]float32{0.5, 5.5, 5.5}
			}
		}, 1},
		{"misregistered edge one pixel", func(x, y int, v *[3]float32, scl *float32) {
			if x == 30 && y == 30 {
				*v = [3]float32{0.05, 0.4, 0.3}
			}
		}, 0},
		{"kiln under cloud", func(x, y int, v *[3]float32, scl *float32) {
			kiln(x, y, v, scl)
			*scl = 9
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := DetectHotspots(hotGrid(t, tc.paint), HotspotParams{}, Attribution{})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != tc.want {
				t.Fatalf("got %d hotspots, want %d: %+v", len(fs), tc.want, fs)
			}
			for _, f := range fs {
				if f.Class != ClassThermal || f.Status != StatusActive || f.Score <= 0.5 {
					t.Errorf("finding %+v", f)
				}
			}
		})
	}
}

func TestDetectHotspotPair(t *testing.T) {
	at := func(cx, cy int) func(x, y int, v *[3]float32, scl *float32) {
		return func(x, y int, v *[3]float32, scl *float32) {
			if x >= cx && x < cx+2 && y >= cy && y < cy+2 {
				*v = [3]float32{0.3, 1.4, 2.0}
			}
		}
	}
	both := func(a, b func(x, y int, v *[3]float32, scl *float32)) func(x, y int, v *[3]float32, scl *float32) {
		return func(x, y int, v *[3]float32, scl *float32) { a(x, y, v, scl); b(x, y, v, scl) }
	}
	before := hotGrid(t, both(at(5, 5), at(20, 20)))
	// The kiln at (5,5) continues (shifted by one pixel of misregistration), the one at
	// (20,20) stopped, one at (30,8) is new.
	after := hotGrid(t, both(at(6, 5), at(30, 8)))
	fs, err := DetectHotspotPair(before, after, HotspotParams{}, Attribution{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Status)
	}
	if diff := cmp.Diff([]string{StatusPersistent, StatusNew, StatusStopped}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

// waterGrid is a 60×40 scene: land, a river in rows 15..24 with NDTI ≈ −0.27 and texture.
func waterGrid(tb testing.TB, river bool, paint func(x, y int, v *[6]float32)) *Grid {
	tb.Helper()
	return MustGrid(tb, 60, 40, func(x, y int) [6]float32 {
		v := landscape(9)(x, y)
		if river && y >= 15 && y < 25 {
			v = specWater
			v[1] += float32((x*31+y*17)%7) * 0.001
		}
		if paint != nil {
			paint(x, y, &v)
		}
		return v
	})
}

func TestDetectWaterPlumes(t *testing.T) {
	turbid := func(x0, x1 int) func(x, y int, v *[6]float32) {
		return func(x, y int, v *[6]float32) {
			if x >= x0 && x < x1 && y >= 15 && y < 19 {
				*v = [6]float32{0.07, 0.10, 0.10, 0.05, 0.02, 0.01}
			}
		}
	}
	parcels := []Parcel{rectParcel("outfall", 10, 5, 20, 14)}
	tests := []struct {
		name    string
		river   bool
		paint   func(x, y int, v *[6]float32)
		parcels []Parcel
		want    int
	}{
		{"no water in scene", false, nil, nil, 0},
		{"clean river", true, nil, nil, 0},
		{"plume at outfall", true, turbid(12, 18), parcels, 1},
		{"plume far from parcels", true, turbid(45, 51), parcels, 0},
		{"plume, no parcels given", true, turbid(45, 51), nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := waterGrid(t, tc.river, tc.paint)
			fs, err := DetectWaterPlumes(g, WaterPlumeParams{}, Attribution{Parcels: tc.parcels, Buffer: 30})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != tc.want {
				t.Fatalf("got %d plumes, want %d", len(fs), tc.want)
			}
			for _, f := range fs {
				// 24 turbid pixels; the shore row is not tested and smoothing blurs the edge.
				if f.Pixels < 15 || f.Pixels > 40 || f.Class != ClassWaterPlume {
					t.Errorf("plume %d pixels class %s, want about 24 water_plume", f.Pixels, f.Class)
				}
				if tc.parcels != nil && (len(f.Parcels) != 1 || f.Parcels[0].ParcelID != "outfall") {
					t.Errorf("parcels %+v", f.Parcels)
				}
			}
		})
	}
}

func rgbGrid(tb testing.TB, w, h int, f func(x, y int) [3]float32) *Grid {
	tb.Helper()
	g := &Grid{Width: w, Height: h, GeoTransform: [6]float64{0, 0.1, 0, 100, 0, -0.1}, Names: []string{BandRed, BandGreen, BandBlue}}
	for range g.Names {
		g.Bands = append(g.Bands, make([]float32, w*h))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := f(x, y)
			for k := range v {
				g.Bands[k][y*w+x] = v[k]
			}
		}
	}
	return g
}

func TestDetectSmoke(t *testing.T) {
	ground := func(x, y int) [3]float32 {
		t := float32((x*7+y*11)%9) * 0.01
		return [3]float32{0.18 + t, 0.2 + t, 0.12 + t}
	}
	smoke := func(x, y int) [3]float32 {
		v := ground(x, y)
		// A plume from (10,30) drifting right, opacity falling off smoothly.
		dy := float64(y-30) / (4 + 0.15*float64(x-10))
		a := 0.0
		if x >= 10 {
			a = 0.9 * math.Exp(-dy*dy/2) * math.Exp(-float64(x-10)/60)
		}
		for k := range v {
			v[k] = float32((1-a)*float64(v[k]) + a*0.75)
		}
		return v
	}
	roof := func(x, y int) [3]float32 {
		if x >= 20 && x < 35 && y >= 20 && y < 35 {
			return [3]float32{0.7, 0.7, 0.72}
		}
		return ground(x, y)
	}
	// yard: a white roof on a pale concrete yard whose brightness rises towards the roof
	// (shaded rim, sunlit centre), as in aerial images of industrial estates: soft and
	// smooth like smoke, but with the roof's sharp eaves inside.
	yard := func(x, y int) [3]float32 {
		if x < 15 || x >= 85 || y < 10 || y >= 50 {
			return ground(x, y)
		}
		if x >= 40 && x < 60 && y >= 20 && y < 40 {
			return [3]float32{0.86, 0.86, 0.88}
		}
		d := float32(min(x-15, 84-x, y-10, 49-y))
		v := 0.55 + 0.015*min(d, 10)
		return [3]float32{v, v, v * 1.02}
	}
	tests := []struct {
		name    string
		f       func(x, y int) [3]float32
		parcels []Parcel
		want    int
	}{
		{"clear ground", ground, nil, 0},
		{"white roof", roof, nil, 0},
		{"white roof on a concrete yard", yard, nil, 0},
		{"smoke plume from parcel", smoke, []Parcel{{ID: "stack", Geometry: orb.Bound{Min: orb.Point{0.5, 96}, Max: orb.Point{1.2, 97.5}}.ToPolygon()}}, 1},
		{"smoke plume, other parcel", smoke, []Parcel{{ID: "away", Geometry: orb.Bound{Min: orb.Point{0, 90}, Max: orb.Point{0.5, 91}}.ToPolygon()}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := DetectSmoke(rgbGrid(t, 100, 60, tc.f), SmokeParams{}, Attribution{Parcels: tc.parcels, Buffer: 0.2})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != tc.want {
				t.Fatalf("got %d plumes, want %d: %+v", len(fs), tc.want, fs)
			}
		})
	}
}

func TestOpener(t *testing.T) {
	rows := []string{
		"..........",
		".###......",
		".###.....#",
		".#######.#",
		"........#.",
		"....#...#.",
	}
	want := []string{
		"..........",
		".###......",
		".###......",
		".###......",
		"..........",
		"..........",
	}
	w, h := len(rows[0]), len(rows)
	got := make([]string, h)
	o := newOpener(1, w, h, func(y int, row []bool) {
		b := make([]byte, w)
		for x, v := range row {
			b[x] = '.'
			if v {
				b[x] = '#'
			}
		}
		got[y] = string(b)
	})
	for y, r := range rows {
		row := make([]bool, w)
		for x, ch := range r {
			row[x] = ch == '#'
		}
		o.push(y, row)
	}
	o.flush()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("opened mask (-want +got):\n%s", diff)
	}
}

func TestDetectorsOnEmptyScenes(t *testing.T) {
	noData := func(g *Grid) *Grid {
		g.Valid = make([]bool, g.Width*g.Height)
		return g
	}
	nan := func(g *Grid) *Grid {
		for _, b := range g.Bands {
			for i := range b {
				b[i] = float32(math.NaN())
			}
		}
		return g
	}
	scene := func() *Grid { return waterGrid(t, true, nil) }
	for _, tc := range []struct {
		name string
		g    func() *Grid
	}{
		{"valid mask all false", func() *Grid { return noData(scene()) }},
		{"all NaN", func() *Grid { return nan(scene()) }},
		{"all cloud (scl)", func() *Grid { return withSCL(scene(), func(x, y int) float32 { return 9 }) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := map[string]func() ([]Finding, error){
				"change": func() ([]Finding, error) {
					return DetectChange(tc.g(), tc.g(), ChangeParams{}, Attribution{})
				},
				"hotspots": func() ([]Finding, error) {
					return DetectHotspots(withNarrow(tc.g()), HotspotParams{}, Attribution{})
				},
				"hotspot pair": func() ([]Finding, error) {
					return DetectHotspotPair(withNarrow(tc.g()), withNarrow(tc.g()), HotspotParams{}, Attribution{})
				},
				"water plumes": func() ([]Finding, error) { return DetectWaterPlumes(tc.g(), WaterPlumeParams{}, Attribution{}) },
				"smoke":        func() ([]Finding, error) { return DetectSmoke(tc.g(), SmokeParams{}, Attribution{}) },
			}
			for name, f := range run {
				fs, err := f()
				if err != nil || len(fs) != 0 {
					t.Errorf("%s: %d findings, %v; want none and no error", name, len(fs), err)
				}
			}
		})
	}
}

// withNarrow adds a nir_narrow band copied from nir.
func withNarrow(g *Grid) *Grid {
	g.Names = append(g.Names, BandNIRNarrow)
	g.Bands = append(g.Bands, append([]float32(nil), g.Band(BandNIR)...))
	return g
}

func TestDetectHotspotsWarmKiln(t *testing.T) {
	// 1000 K over 0.5% of a 20 m pixel on soil: both radiance indices stay negative, the
	// reflectance ratios find it.
	g := hotGrid(t, func(x, y int, v *[3]float32, scl *float32) {
		if x >= 10 && x < 12 && y >= 10 && y < 12 {
			*v = [3]float32{0.2503, 0.376, 0.99}
		}
	})
	fs, err := DetectHotspots(g, HotspotParams{}, Attribution{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Measures["nhi_swir_max"] > 0 || fs[0].Measures["nhi_swnir_max"] > 0 || fs[0].Measures["ratio_pixels"] != 4 {
		t.Errorf("findings %+v, want one found by the ratios alone", fs)
	}
}
