package detect

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/google/go-cmp/cmp"
)

// paint returns a scene function: rectangle [x0,x1)×[y0,y1) shows spec, the rest base.
func paint(base func(x, y int) [6]float32, spec [6]float32, x0, y0, x1, y1 int) func(x, y int) [6]float32 {
	return func(x, y int) [6]float32 {
		if x >= x0 && x < x1 && y >= y0 && y < y1 {
			return spec
		}
		return base(x, y)
	}
}

// unpaint restores base over rectangle [x0,x1)×[y0,y1) of f.
func unpaint(f, base func(x, y int) [6]float32, x0, y0, x1, y1 int) func(x, y int) [6]float32 {
	return func(x, y int) [6]float32 {
		if x >= x0 && x < x1 && y >= y0 && y < y1 {
			return base(x, y)
		}
		return f(x, y)
	}
}

func seasonal(f func(x, y int) [6]float32) func(x, y int) [6]float32 {
	return func(x, y int) [6]float32 {
		v := f(x, y)
		v[3] += 0.3 * (v[3] - v[2]) // greening: NIR rises with NIR−red
		v[1] *= 1.05
		return v
	}
}

func TestDetectChangeIRMAD(t *testing.T) {
	gain := [6]float32{1.2, 1.15, 0.9, 1.3, 0.8, 1.1}
	off := [6]float32{0.01, -0.01, 0.02, 0.03, -0.02, 0.0}
	scene := func(seed uint64) func(x, y int) [6]float32 {
		return paint(landscape(seed), specVeg, 40, 40, 48, 48)
	}
	type want struct {
		Class  string
		Pixels int
	}
	tests := []struct {
		name  string
		after func(x, y int) [6]float32
		want  []want
	}{
		{"identical", scene(1), nil},
		{"gain offset only", affine(scene(2), gain, off), nil},
		{"seasonal linear shift", seasonal(scene(3)), nil},
		{"seasonal and gain offset", affine(seasonal(scene(3)), gain, off), nil},
		{"new blue roof", affine(paint(scene(4), specBlueRoof, 20, 20, 30, 28), gain, off), []want{{ClassNewStructure, 80}}},
		{"vegetation cleared", paint(scene(5), specFresh, 40, 40, 48, 48), []want{{ClassVegetationLoss, 64}}},
		{"earthwork", paint(scene(5), specFresh, 8, 64, 16, 72), []want{{ClassEarthwork, 64}}},
		{"new pond", paint(scene(6), specWater, 60, 10, 70, 16), []want{{ClassWaterChange, 60}}},
		{"burn scar", paint(scene(7), specChar, 56, 56, 76, 72), []want{{ClassBurn, 320}}},
		// A fire perimeter holds its unburnt islands.
		{"burn scar around an unburnt island", unpaint(paint(scene(8), specChar, 56, 56, 76, 76), scene(8), 63, 63, 68, 68), []want{{ClassBurn, 400}}},
	}
	before := MustGrid(t, 96, 96, scene(1))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			after := MustGrid(t, 96, 96, tc.after)
			fs, err := DetectChange(before, after, ChangeParams{}, Attribution{})
			if err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, f := range fs {
				got = append(got, want{f.Class, f.Pixels})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
				for _, f := range fs {
					t.Logf("%+v", f.Measures)
				}
			}
		})
	}
}

func TestDetectChangeMasks(t *testing.T) {
	before := withSCL(MustGrid(t, 64, 64, landscape(1)), func(x, y int) float32 { return 4 })
	roof := paint(landscape(2), specRoof, 10, 10, 20, 20)
	tests := []struct {
		name    string
		scl     func(x, y int) float32
		wantN   int
		wantCls string
	}{
		{"white roof under clear scl", func(x, y int) float32 { return 5 }, 1, ClassNewStructure},
		{"roof under cloud", func(x, y int) float32 {
			if x < 32 {
				return 9
			}
			return 4
		}, 0, ""},
		{"all cloud", func(x, y int) float32 { return 8 }, 0, ""},
		{"all no data", func(x, y int) float32 { return 0 }, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			after := withSCL(MustGrid(t, 64, 64, roof), tc.scl)
			fs, err := DetectChange(before, after, ChangeParams{}, Attribution{})
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != tc.wantN {
				t.Fatalf("got %d findings, want %d", len(fs), tc.wantN)
			}
			if tc.wantN > 0 && fs[0].Class != tc.wantCls {
				t.Errorf("class %q, want %q", fs[0].Class, tc.wantCls)
			}
		})
	}
}

// TestSpectralMaskCloudsAndRoofs checks the spectral cloud mask (no SCL) on scenes with
// clouds of three kinds and new bright roofs — white, grey and blue steel sheet — that the
// pixel test alone takes for cloud: clouds leave no finding, each roof is found as
// new_structure on at least 90% of its pixels.
func TestSpectralMaskCloudsAndRoofs(t *testing.T) {
	var (
		cloud     = [6]float32{0.5, 0.5, 0.5, 0.55, 0.45, 0.35}
		shade     = [6]float32{0.02, 0.025, 0.02, 0.04, 0.03, 0.02}
		whiteRoof = [6]float32{0.55, 0.56, 0.55, 0.58, 0.50, 0.42}
		greyRoof  = [6]float32{0.32, 0.33, 0.33, 0.36, 0.34, 0.30}
		blueSteel = [6]float32{0.38, 0.33, 0.24, 0.30, 0.22, 0.17}
	)
	type rect struct{ x0, y0, x1, y1 int }
	// hazy: a cloud whose haze fades around it, by e every 4 pixels (40 m); the mask's
	// buffer (10 pixels here) takes the fringe.
	hazy := func(base func(x, y int) [6]float32, r rect) func(x, y int) [6]float32 {
		return func(x, y int) [6]float32 {
			dx := max(r.x0-x, x-r.x1+1, 0)
			dy := max(r.y0-y, y-r.y1+1, 0)
			a := float32(math.Exp(-float64(max(dx, dy)) / 4))
			v := base(x, y)
			for k := range v {
				v[k] = a*cloud[k] + (1-a)*v[k]
			}
			return v
		}
	}
	tests := []struct {
		name  string
		after func(x, y int) [6]float32
		roofs []rect
	}{
		{"cloud with its shadow", paint(paint(landscape(2), cloud, 20, 20, 40, 40), shade, 45, 30, 65, 50), nil},
		{"hazy cloud", hazy(landscape(2), rect{60, 60, 80, 80}), nil},
		{"cloud larger than any roof", paint(landscape(2), cloud, 10, 10, 45, 45), nil},
		{"white roof", paint(landscape(2), whiteRoof, 20, 20, 30, 28), []rect{{20, 20, 30, 28}}},
		{"grey sheet roof", paint(landscape(2), greyRoof, 60, 70, 75, 78), []rect{{60, 70, 75, 78}}},
		{"blue steel roof", paint(landscape(2), blueSteel, 50, 10, 62, 30), []rect{{50, 10, 62, 30}}},
		{"roofs far from a cloud and its shadow", paint(paint(paint(paint(landscape(2), cloud, 5, 5, 20, 20), shade, 22, 8, 37, 23),
			whiteRoof, 90, 90, 100, 98), blueSteel, 100, 60, 110, 75), []rect{{90, 90, 100, 98}, {100, 60, 110, 75}}},
	}
	before := MustGrid(t, 120, 120, landscape(1))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			after := MustGrid(t, 120, 120, tc.after)
			fs, err := DetectChange(before, after, ChangeParams{Mask: MaskSpectral, ShadowReach: 300, CloudBuffer: 10}, Attribution{})
			if err != nil {
				t.Fatal(err)
			}
			found := map[[2]int]bool{}
			for _, f := range fs {
				if f.Class != ClassNewStructure {
					t.Errorf("%s finding of %d pixels, want only new_structure", f.Class, f.Pixels)
					continue
				}
				poly := f.Geometry.(orb.Polygon)
				for y := 0; y < 120; y++ {
					for x := 0; x < 120; x++ {
						if planar.PolygonContains(poly, after.World(float64(x)+0.5, float64(y)+0.5)) {
							found[[2]int{x, y}] = true
						}
					}
				}
			}
			inRoof := 0
			for _, r := range tc.roofs {
				got := 0
				for y := r.y0; y < r.y1; y++ {
					for x := r.x0; x < r.x1; x++ {
						if found[[2]int{x, y}] {
							got++
						}
					}
				}
				inRoof += got
				if recall := float64(got) / float64((r.x1-r.x0)*(r.y1-r.y0)); recall < 0.9 {
					t.Errorf("roof %v: recall %.2f, want >= 0.9", r, recall)
				}
			}
			if extra := len(found) - inRoof; extra > 0 {
				t.Errorf("%d changed pixels outside the roofs (clouds or shadows not masked)", extra)
			}
		})
	}
}

func TestDetectChangeAttribution(t *testing.T) {
	before := MustGrid(t, 96, 96, landscape(1))
	after := MustGrid(t, 96, 96, paint(paint(landscape(2), specBlueRoof, 10, 10, 20, 20), specBlueRoof, 70, 70, 80, 80))
	parcels := []Parcel{rectParcel("inside", 8, 8, 16, 16), rectParcel("near", 22, 10, 30, 20), rectParcel("far", 40, 40, 50, 50)}
	fs, err := DetectChange(before, after, ChangeParams{}, Attribution{Parcels: parcels, Buffer: 25})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1 (the change at 70,70 is outside every parcel)", len(fs))
	}
	var ids []string
	for _, m := range fs[0].Parcels {
		ids = append(ids, m.ParcelID)
	}
	if diff := cmp.Diff([]string{"inside", "near"}, ids); diff != "" {
		t.Errorf("parcels (-want +got):\n%s", diff)
	}
	if fs[0].Area != 100*100 {
		t.Errorf("area %v, want 10000", fs[0].Area)
	}
}

func TestDetectChangeRGBIndex(t *testing.T) {
	rgb := func(f func(x, y int) [6]float32) func(x, y int) [3]float32 {
		return func(x, y int) [3]float32 {
			v := f(x, y)
			return [3]float32{v[2] * 2, v[1] * 2, v[0] * 2} // red, green, blue, drone-bright
		}
	}
	scale := func(f func(x, y int) [3]float32, g, o float32) func(x, y int) [3]float32 {
		return func(x, y int) [3]float32 {
			v := f(x, y)
			return [3]float32{v[0]*g + o, v[1]*g*1.05 + o, v[2]*g*0.9 + o}
		}
	}
	before := rgbGrid(t, 120, 120, rgb(landscape(1)))
	tests := []struct {
		name  string
		after func(x, y int) [3]float32
		want  []string
	}{
		{"identical", rgb(landscape(1)), nil},
		{"gain and offset per band", scale(rgb(landscape(2)), 1.3, 0.05), nil},
		{"new roof", scale(rgb(paint(landscape(3), specBlueRoof, 30, 30, 60, 55)), 1.2, 0.02), []string{ClassNewStructure}},
		// Change is not rare: a roof over 40% of the scene is still one finding.
		{"new roof over 40% of the scene", rgb(paint(landscape(4), specBlueRoof, 10, 10, 90, 82)), []string{ClassNewStructure}},
		// Most of the scene changed: no stable class to take the noise from, yet the
		// roof is found and the strip of old land around it is not.
		{"new roof over 70% of the scene", rgb(paint(landscape(5), specBlueRoof, 10, 10, 110, 110)), []string{ClassNewStructure}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := DetectChange(before, rgbGrid(t, 120, 120, tc.after), ChangeParams{Probability: 0.99999, MinPixels: 30, Mask: MaskNone}, Attribution{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.Class)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("classes (-want +got):\n%s", diff)
				for _, f := range fs {
					t.Logf("%d px %v", f.Pixels, f.Measures)
				}
			}
		})
	}
}

// TestDetectChangeRGBExposureDarkSurfaces: the after flight of an 8-bit camera is exposed
// 6% darker and a new blue roof covers a tenth of the scene; textured concrete covers most
// of the rest, an asphalt road and a yard in shade the others. The roof moves the after
// date's quartiles beyond any exposure, so matched by them the dates would keep their 6%;
// refitted on the stable pixels from their 5th to 95th percentiles, the gain of each band
// is the exposure's, and nothing is found but the roof.
func TestDetectChangeRGBExposureDarkSurfaces(t *testing.T) {
	scene := func(seed uint64, gain float64, roof bool) func(x, y int) [3]float32 {
		return func(x, y int) [3]float32 {
			r := rand.New(rand.NewPCG(seed, uint64(y*100003+x)))
			v := [3]float64{0.61, 0.60, 0.59} // concrete
			switch {
			case roof && x >= 90 && x < 140 && y >= 20 && y < 70:
				v = [3]float64{0.35, 0.50, 0.70} // blue steel
			case y >= 120 && y < 145: // asphalt road
				v = [3]float64{0.32, 0.32, 0.34}
			case x < 25 && y < 60: // yard in a building's shade
				v = [3]float64{0.20, 0.22, 0.26}
			}
			tex := 1 + 0.04*math.Sin(float64(x)/3)*math.Cos(float64(y)/4)
			var out [3]float32
			for k := range v {
				out[k] = float32(math.Round(255*v[k]*tex*gain+r.NormFloat64()*1.5) / 255)
			}
			return out
		}
	}
	before := rgbGrid(t, 160, 160, scene(1, 1, false))
	after := rgbGrid(t, 160, 160, scene(2, 0.94, true))
	p := ChangeParams{Probability: 0.99, Threshold: ThresholdOtsu, MinPixels: 30, Mask: MaskNone, SmoothM: 0.5, MinBrightnessChange: 0.02, MinChromaChange: 0.01}
	p = p.withDefaults().inPixels(before.PixelMetres())
	m, err := newIndexChange(before, after, func(int) bool { return true }, p.Smooth, 0, [3]float64{p.MinBrightnessChange, p.MinChromaChange, p.MinChromaChange})
	if err != nil {
		t.Fatal(err)
	}
	for k, g := range m.gain {
		if math.Abs(g-1/0.94) > 0.02 {
			t.Errorf("%s gain %.3f, want %.3f", rgbRoles[k], g, 1/0.94)
		}
	}
	fs, err := DetectChange(before, after, p, Attribution{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Class)
	}
	if diff := cmp.Diff([]string{ClassNewStructure}, got); diff != "" {
		t.Errorf("classes (-want +got):\n%s", diff)
		for _, f := range fs {
			t.Logf("%s %d px at %v: %v", f.Class, f.Pixels, f.Geometry.Bound(), f.Measures)
		}
	}
}

// TestDetectChangeMinWidth: a new roof 5 m wide and a row of parked cars 1.8 m wide and
// 12 m long (more than any area threshold a shed passes) appear at 10 cm; smoothed over
// ±1 m as the drone pipeline does, min_width_m keeps what is wider than it.
func TestDetectChangeMinWidth(t *testing.T) {
	ground := func(x, y int) [3]float32 {
		r := rand.New(rand.NewPCG(7, uint64(y*100003+x)))
		return [3]float32{0.34 + float32(r.NormFloat64()*0.01), 0.33 + float32(r.NormFloat64()*0.01), 0.31 + float32(r.NormFloat64()*0.01)}
	}
	after := func(x, y int) [3]float32 {
		switch {
		case x >= 30 && x < 80 && y >= 30 && y < 80: // roof, 5 × 5 m
			return [3]float32{0.74, 0.75, 0.76}
		case x >= 120 && x < 138 && y >= 20 && y < 140: // cars, 1.8 × 12 m
			return [3]float32{0.72, 0.73, 0.74}
		}
		return ground(x, y)
	}
	before, aft := rgbGrid(t, 180, 180, ground), rgbGrid(t, 180, 180, after)
	for _, tc := range []struct {
		width float64
		want  []int // pixels of the findings, about: each object grown by the 1 m smoothing
	}{
		{0, []int{5320, 4900}},
		{1.5, []int{5320, 4900}},
		{2.5, []int{4900}},
		{6, nil},
	} {
		fs, err := DetectChange(before, aft, ChangeParams{Probability: 0.99999, MinPixels: 30, Mask: MaskNone, SmoothM: 1, MinWidth: tc.width}, Attribution{})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, f := range fs {
			if f.Class != ClassNewStructure {
				t.Errorf("min_width_m %g: class %s, want %s", tc.width, f.Class, ClassNewStructure)
			}
			got = append(got, f.Pixels)
		}
		if len(got) != len(tc.want) {
			t.Errorf("min_width_m %g: findings of %v px, want about %v", tc.width, got, tc.want)
			continue
		}
		for k := range got {
			if math.Abs(float64(got[k]-tc.want[k])) > 0.1*float64(tc.want[k]) {
				t.Errorf("min_width_m %g: findings of %v px, want about %v", tc.width, got, tc.want)
			}
		}
		if tc.width > 0 && len(fs) > 0 && fs[0].Params["min_width_m"] != tc.width {
			t.Errorf("min_width_m %g not recorded: %v", tc.width, fs[0].Params["min_width_m"])
		}
	}
}

// TestDetectChangeRGBCoregistration shifts the after date by 3 pixels (0.3 m; after pixel
// x−3 shows before pixel x, a shift of −3): the check
// finds the shift and nothing is reported; with the check off, the shifted texture is.
func TestDetectChangeRGBCoregistration(t *testing.T) {
	rgb := func(seed uint64, dx int) func(x, y int) [3]float32 {
		f := landscape(seed) // the same land, the sensor noise of another flight
		return func(x, y int) [3]float32 {
			v := f(x+dx, y)
			return [3]float32{v[2] * 2, v[1] * 2, v[0] * 2}
		}
	}
	before, after := rgbGrid(t, 120, 120, rgb(1, 0)), rgbGrid(t, 120, 120, rgb(2, 3))
	p := ChangeParams{Probability: 0.999, MinPixels: 30, Mask: MaskNone}
	fs, err := DetectChange(before, after, p, Attribution{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Fatalf("got %d findings with the shift corrected, want 0: first %v", len(fs), fs[0].Params)
	}
	p.MaxShift = -1
	fs, err = DetectChange(before, after, p, Attribution{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("no findings with the check off: the test does not test the check")
	}
	if fs[0].Params["coreg_shift_x_px"] != 0 {
		t.Errorf("check off, yet shift %v recorded", fs[0].Params["coreg_shift_x_px"])
	}
	// The shift found is recorded with the findings of a real change.
	p.MaxShift = 0
	roof := rgbGrid(t, 120, 120, func(x, y int) [3]float32 {
		if x >= 40 && x < 70 && y >= 40 && y < 70 {
			return [3]float32{0.24, 0.34, 0.4}
		}
		return rgb(2, 3)(x, y)
	})
	fs, err = DetectChange(before, roof, p, Attribution{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Params["coreg_shift_x_px"] != -3 || fs[0].Params["coreg_shift_y_px"] != 0 {
		t.Errorf("got %d findings, want 1 recording shift (-3, 0)", len(fs))
		for _, f := range fs {
			t.Logf("%s %d px shift (%v, %v)", f.Class, f.Pixels, f.Params["coreg_shift_x_px"], f.Params["coreg_shift_y_px"])
		}
	}
}

func TestDetectChangeCollinearBands(t *testing.T) {
	// Every band carries the same texture: a singular covariance must not break IR-MAD.
	f := func(seed int) func(x, y int) [6]float32 {
		return func(x, y int) [6]float32 {
			v := float32((x*7919+y*31+seed)%97) / 400
			return [6]float32{v, v, v, v, v, v}
		}
	}
	for _, seed := range []int{0, 1, 2, 3} {
		before, after := MustGrid(t, 48, 48, f(0)), MustGrid(t, 48, 48, f(seed))
		if _, err := DetectChange(before, after, ChangeParams{}, Attribution{}); err != nil {
			t.Errorf("seed %d: %v", seed, err)
		}
	}
}

func TestClassifyChange(t *testing.T) {
	p := ChangeParams{}.withDefaults()
	m := func(kv ...float64) map[string]float64 {
		keys := []string{"ndvi", "mndwi", "brightness", "redness", "swir1", "ndbi"}
		out := map[string]float64{}
		for i, k := range keys {
			out[k+"_before"], out[k+"_after"] = kv[2*i], kv[2*i+1]
		}
		return out
	}
	tests := []struct {
		name string
		m    map[string]float64
		want string
	}{
		//                   ndvi        mndwi       bright      redness     swir1       ndbi
		{"new pond", m(0.2, -0.1, -0.4, 0.5, 0.12, 0.05, 0.2, -0.2, 0.26, 0.01, 0.1, -0.3), ClassWaterChange},
		{"blue roof", m(0.6, 0.2, -0.5, -0.1, 0.05, 0.16, 0.2, -0.25, 0.18, 0.16, -0.3, -0.2), ClassNewStructure},
		{"white roof", m(0.2, 0.05, -0.4, -0.1, 0.12, 0.42, 0.25, 0.02, 0.26, 0.4, 0.1, 0), ClassNewStructure},
		{"forest cleared", m(0.78, 0.1, -0.5, -0.45, 0.04, 0.15, 0.14, 0.37, 0.18, 0.38, -0.3, 0.17), ClassVegetationLoss},
		{"earthwork", m(0.17, 0.1, -0.4, -0.45, 0.11, 0.15, 0.27, 0.37, 0.26, 0.38, 0.13, 0.17), ClassEarthwork},
		{"crops greening", m(0.6, 0.7, -0.5, -0.5, 0.06, 0.055, 0.2, 0.15, 0.22, 0.22, -0.1, -0.15), ""},
		{"turbid water", m(-0.5, -0.2, 0.6, 0.4, 0.05, 0.09, -0.2, 0.05, 0.01, 0.02, -0.4, -0.4), ""},
		{"darkening", m(0.1, 0.1, -0.3, -0.3, 0.15, 0.08, 0.05, 0.05, 0.25, 0.15, 0.1, 0.05), ClassOtherChange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classifyChange(tc.m, p); got != tc.want {
				t.Errorf("class %q, want %q", got, tc.want)
			}
		})
	}
}

// TestClassifyChangeRGBShade: on RGB captures (no nir) a region that darkened keeping its
// colour is shade and is not reported; one that darkened changing colour is.
func TestClassifyChangeRGBShade(t *testing.T) {
	p := ChangeParams{}.withDefaults()
	m := func(kv ...float64) map[string]float64 {
		out := map[string]float64{}
		for i, k := range []string{"brightness", "redness", "greenness"} {
			out[k+"_before"], out[k+"_after"] = kv[2*i], kv[2*i+1]
		}
		return out
	}
	tests := []struct {
		name string
		m    map[string]float64
		want string
	}{
		//                                  bright      redness      greenness
		{"roof shadow on concrete", m(0.55, 0.25, 0.05, -0.08, 0.01, 0.03), ""},
		{"dark blue roof over concrete", m(0.55, 0.25, 0.05, -0.6, 0.01, 0.05), ClassNewStructure},
		{"asphalt over bare soil", m(0.45, 0.1, 0.3, 0.05, 0.0, 0.01), ClassOtherChange},
		{"slight darkening", m(0.55, 0.52, 0.05, 0.02, 0.01, 0.01), ClassOtherChange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classifyChange(tc.m, p); got != tc.want {
				t.Errorf("class %q, want %q", got, tc.want)
			}
		})
	}
	withNIR := m(0.55, 0.25, 0.05, -0.08, 0.01, 0.03)
	withNIR["ndvi_before"], withNIR["ndvi_after"] = 0.1, 0.1
	if got := classifyChange(withNIR, p); got != ClassOtherChange {
		t.Errorf("with nir: class %q, want %q (shade is for RGB captures)", got, ClassOtherChange)
	}
}

// TestDetectChangeSeasonPerCover: the season moves each of seven land covers its own way
// (crops green up, grass dries, rain darkens soil, roofs and water stay), which no single
// affine transformation of the scene follows; IR-MAD per land cover takes it for no change
// and still finds a new blue roof, where one scene-wide IR-MAD (cover_clusters 1) reports
// covers changing with the season too.
func TestDetectChangeSeasonPerCover(t *testing.T) {
	covers := [][6]float32{specVeg, specSoil, specFresh, specRoof, specWater, specUrban, {0.06, 0.09, 0.12, 0.24, 0.30, 0.22}}
	season := [][6]float32{
		{0.85, 0.95, 0.7, 1.3, 0.9, 0.82},    // crop greening
		{0.8, 0.8, 0.8, 0.8, 0.8, 0.8},       // soil wet after rain
		{1, 1, 1, 1, 1, 1},                   // bare
		{1, 1, 1, 1, 1, 1},                   // roofs
		{1, 1, 1, 1, 1, 1},                   // water
		{1, 1, 1, 1, 1, 1},                   // urban
		{1.08, 1.05, 1.18, 0.86, 1.08, 1.14}, // grass drying
	}
	scene := func(seed uint64, after bool) func(x, y int) [6]float32 {
		return func(x, y int) [6]float32 {
			r := rand.New(rand.NewPCG(seed, uint64(y*100003+x)))
			c := (x/8 + y/8) % len(covers)
			tex := float32(1 + 0.1*float64((x*7+y*13)%11)/11)
			var out [6]float32
			for k, v := range covers[c] {
				if after {
					v *= season[c][k]
				}
				out[k] = v*tex + float32(r.NormFloat64()*0.004)
			}
			return out
		}
	}
	before := MustGrid(t, 128, 128, scene(1, false))
	after := MustGrid(t, 128, 128, paint(scene(2, true), specBlueRoof, 20, 20, 30, 28))
	for _, tc := range []struct {
		covers    int
		wantExtra bool
	}{{0, false}, {1, true}} {
		fs, err := DetectChange(before, after, ChangeParams{CoverClusters: tc.covers}, Attribution{})
		if err != nil {
			t.Fatal(err)
		}
		roof, extra := 0, 0
		for _, f := range fs {
			if f.Class == ClassNewStructure && f.Pixels >= 60 {
				roof++
			} else {
				extra++
			}
		}
		if roof != 1 {
			t.Errorf("cover_clusters %d: %d new roofs found, want 1", tc.covers, roof)
		}
		if (extra > 0) != tc.wantExtra {
			t.Errorf("cover_clusters %d: %d other findings, want them %v", tc.covers, extra, tc.wantExtra)
		}
		for _, f := range fs {
			t.Logf("cover_clusters %d: %s %d px score %.2f", tc.covers, f.Class, f.Pixels, f.Score)
		}
	}
}
