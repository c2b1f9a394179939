package evalscore

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"
)

func TestCounts(t *testing.T) {
	for _, tc := range []struct {
		name          string
		pred, truth   []bool
		ignore        []bool
		want          Counts
		f1, iou, prec float64
	}{
		{"half right", []bool{true, true, false, false}, []bool{true, false, true, false}, nil, Counts{1, 1, 1}, 0.5, 1.0 / 3, 0.5},
		{"ignored pixel", []bool{true, true, false}, []bool{true, false, false}, []bool{false, true, false}, Counts{1, 0, 0}, 1, 1, 1},
		{"nothing at all", []bool{false}, []bool{false}, nil, Counts{}, 1, 1, 0},
		{"all missed", []bool{false, false}, []bool{true, true}, nil, Counts{0, 0, 2}, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Pixels(tc.pred, tc.truth, tc.ignore)
			if got != tc.want {
				t.Fatalf("Pixels = %+v, want %+v", got, tc.want)
			}
			if math.Abs(got.F1()-tc.f1) > 1e-9 || math.Abs(got.IoU()-tc.iou) > 1e-9 || math.Abs(got.Precision()-tc.prec) > 1e-9 {
				t.Errorf("F1 %g IoU %g precision %g, want %g %g %g", got.F1(), got.IoU(), got.Precision(), tc.f1, tc.iou, tc.prec)
			}
		})
	}
}

func TestComponents(t *testing.T) {
	// 5×4: a 2×2 block, a diagonal pair (8-connected), a lone pixel.
	m := []bool{
		true, true, false, false, false,
		true, true, false, true, false,
		false, false, false, false, true,
		false, false, true, false, false,
	}
	got := Components(m, 5, 4, 1)
	want := [][]int{{0, 1, 5, 6}, {8, 14}, {17}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Components (-want +got):\n%s", diff)
	}
	if got := Components(m, 5, 4, 2); len(got) != 2 {
		t.Errorf("Components with minPixels 2: %d regions, want 2", len(got))
	}
}

func TestRasterize(t *testing.T) {
	// A 10 m grid from (1000, 2000) down; a square covering pixel centres of columns 1–2,
	// rows 1–3; a point in pixel (row 0, col 4).
	gr := Grid{Width: 5, Height: 5, GeoTransform: [6]float64{1000, 10, 0, 2000, 0, -10}}
	sq := orb.Polygon{{{1008, 1992}, {1029, 1992}, {1029, 1961}, {1008, 1961}, {1008, 1992}}}
	if diff := cmp.Diff([]int{6, 7, 11, 12, 16, 17}, gr.Rasterize(sq)); diff != "" {
		t.Errorf("square (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{4}, gr.Rasterize(orb.Point{1045, 1999})); diff != "" {
		t.Errorf("point (-want +got):\n%s", diff)
	}
	// A hole: the square's ring with an inner ring over pixel (row 2, col 1).
	holed := orb.Polygon{sq[0], {{1011, 1979}, {1019, 1979}, {1019, 1971}, {1011, 1971}, {1011, 1979}}}
	if diff := cmp.Diff([]int{6, 7, 12, 16, 17}, gr.Rasterize(holed)); diff != "" {
		t.Errorf("holed (-want +got):\n%s", diff)
	}
}

func TestObjects(t *testing.T) {
	gr := Grid{Width: 6, Height: 2}
	// Object 1: pixels 0–3; object 2: pixel 10 (unwanted, e.g. a hotspot); pixel 5 ignored.
	labels := []int32{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 0}
	ignore := []bool{false, false, false, false, false, true, false, false, false, false, false, false}
	want := func(id int32) bool { return id == 1 }
	regions := []Region{
		{Pixels: []int{0, 1}},       // real: all on object 1
		{Pixels: []int{3, 4, 6, 7}}, // 1 of 4 on truth: false at 0.3
		{Pixels: []int{5}},          // in ignored pixels: neither
		{Pixels: []int{10, 11}},     // on an unwanted object: false
		{Pixels: []int{2, 8, 9}},    // 1 of 3 on truth: real
	}
	m := Objects(regions, gr, labels, ignore, want, MatchRule{})
	if diff := cmp.Diff([]int{1, 0, -1, 0, 1}, m.Real); diff != "" {
		t.Errorf("Real (-want +got):\n%s", diff)
	}
	if m.Objects != (Counts{TP: 2, FP: 2, FN: 0}) || len(m.Found) != 1 {
		t.Errorf("Objects = %+v, found %v", m.Objects, m.Found)
	}
	// Only pixel 0 covered: 1 of 4 pixels is below 0.3 of object 1.
	m = Objects([]Region{{Pixels: []int{0}}}, gr, labels, ignore, want, MatchRule{})
	if diff := cmp.Diff([]int32{1}, m.Missed); diff != "" || m.Recall() != 0 {
		t.Errorf("Missed (-want +got):\n%s recall %g", diff, m.Recall())
	}
	// Nearness: a region one pixel beside object 2 finds it with Near 1, not with Near 0.
	hot := func(id int32) bool { return id == 2 }
	if m := Objects([]Region{{Pixels: []int{9}}}, gr, labels, nil, hot, MatchRule{Near: 1}); m.Recall() != 1 || m.Objects.TP != 1 {
		t.Errorf("Near 1: recall %g, %+v", m.Recall(), m.Objects)
	}
	if m := Objects([]Region{{Pixels: []int{9}}}, gr, labels, nil, hot, MatchRule{}); m.Recall() != 0 || m.Objects.FP != 1 {
		t.Errorf("Near 0: recall %g, %+v", m.Recall(), m.Objects)
	}
}

func TestReliability(t *testing.T) {
	r := NewReliability()
	for _, f := range []struct {
		score float64
		real  int
	}{{0.1, 0}, {0.2, 1}, {0.39, 0}, {0.95, 1}, {1.0, 1}, {0.5, -1}} {
		r.Add("change", f.score, f.real)
	}
	var got [][2]int
	for b := 0; b < len(r.Edges)-1; b++ {
		n, real := r.Band("change", b)
		got = append(got, [2]int{n, real})
	}
	want := [][2]int{{1, 0}, {2, 1}, {0, 0}, {0, 0}, {2, 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bands (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"change"}, r.Detectors()); diff != "" {
		t.Errorf("Detectors (-want +got):\n%s", diff)
	}
}

// TestReliabilityError: scores that say what share of findings is real have no error;
// scores that claim more, or less, than the findings bear out have the gap, weighted by the
// findings of each band.
func TestReliabilityError(t *testing.T) {
	type f struct {
		score float64
		real  int
	}
	many := func(score float64, n, real int) []f {
		var out []f
		for i := 0; i < n; i++ {
			r := 0
			if i < real {
				r = 1
			}
			out = append(out, f{score, r})
		}
		return out
	}
	join := func(fs ...[]f) []f {
		var out []f
		for _, x := range fs {
			out = append(out, x...)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		fs   []f
		want float64
	}{
		{"none", nil, 0},
		{"calibrated", join(many(0.1, 10, 1), many(0.7, 10, 7)), 0},
		{"overconfident", many(0.9, 10, 5), 0.4},
		{"underconfident", many(0.3, 4, 3), 0.45},
		// band 0.8–1.0: mean score 0.9, all real: gap 0.1 on 10; band 0.0–0.2: 0.1, none real, on 10.
		{"two bands", join(many(0.9, 10, 10), many(0.1, 10, 0)), 0.1},
		// one band, scores 0 and 0.19: their mean 0.095 against half real, whatever each said.
		{"within a band", join(many(0.0, 1, 0), many(0.19, 1, 1)), 0.405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReliability()
			for _, x := range tc.fs {
				r.Add("change", x.score, x.real)
			}
			if got := r.Error("change"); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("error %g, want %g", got, tc.want)
			}
			n, real := r.Count("change")
			wantReal := 0
			for _, x := range tc.fs {
				wantReal += x.real
			}
			if n != len(tc.fs) || real != wantReal {
				t.Errorf("count %d, %d real; want %d, %d", n, real, len(tc.fs), wantReal)
			}
		})
	}
}
