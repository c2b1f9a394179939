package detect

import (
	"flag"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

var changeSizes = flag.String("change_sizes", "686,1372,2745", "scene sides for BenchmarkChangeMemory (10980 is a full Sentinel-2 tile)")

// benchScene builds a w×w Sentinel-2-like pair (six bands and SCL) with a few changes.
func benchScene(tb testing.TB, w int) (*Grid, *Grid) {
	tb.Helper()
	before := withSCL(MustGrid(tb, w, w, landscape(1)), func(x, y int) float32 { return 4 })
	after := withSCL(MustGrid(tb, w, w, affine(paint(landscape(2), specBlueRoof, w/4, w/4, w/4+20, w/4+12), [6]float32{1.1, 1.1, 1.05, 1.2, 0.9, 1}, [6]float32{0.01, 0, 0, 0.02, 0, 0})), func(x, y int) float32 {
		if x < w/8 && y < w/8 {
			return 9
		}
		return 4
	})
	return before, after
}

func reportMpx(b *testing.B, pixels int) {
	b.ReportMetric(float64(pixels)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpx/s")
}

func BenchmarkChangeIRMAD(b *testing.B) {
	before, after := benchScene(b, 512)
	b.ResetTimer()
	var iters float64
	for i := 0; i < b.N; i++ {
		fs, err := DetectChange(before, after, ChangeParams{}, Attribution{})
		if err != nil || len(fs) == 0 {
			b.Fatal(err, len(fs))
		}
		iters = fs[0].Params["iterations"]
	}
	reportMpx(b, 512*512)
	b.ReportMetric(iters, "iterations")
}

func BenchmarkChangeIndex(b *testing.B) {
	before, after := benchScene(b, 512)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DetectChange(before, after, ChangeParams{Method: MethodIndex}, Attribution{}); err != nil {
			b.Fatal(err)
		}
	}
	reportMpx(b, 512*512)
}

func BenchmarkHotspotPair(b *testing.B) {
	before, after := benchScene(b, 512)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DetectHotspotPair(before, after, HotspotParams{}, Attribution{}); err != nil {
			b.Fatal(err)
		}
	}
	reportMpx(b, 512*512)
}

func BenchmarkWaterPlumes(b *testing.B) {
	g := waterGrid(b, true, nil)
	_ = g
	w := 512
	big := MustGrid(b, w, w, func(x, y int) [6]float32 {
		if y%64 < 20 {
			v := specWater
			v[1] += float32((x*31+y*17)%7) * 0.001
			return v
		}
		return landscape(3)(x, y)
	})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DetectWaterPlumes(big, WaterPlumeParams{}, Attribution{}); err != nil {
			b.Fatal(err)
		}
	}
	reportMpx(b, w*w)
}

func BenchmarkSmoke(b *testing.B) {
	w := 512
	g := rgbGrid(b, w, w, func(x, y int) [3]float32 {
		t := float32((x*7+y*11)%9) * 0.01
		return [3]float32{0.18 + t, 0.2 + t, 0.12 + t}
	})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DetectSmoke(g, SmokeParams{}, Attribution{}); err != nil {
			b.Fatal(err)
		}
	}
	reportMpx(b, w*w)
}

// BenchmarkChangeMemory measures the heap that change detection allocates beyond its
// inputs (TotalAlloc during the call, an upper bound of its peak) at three scene sizes:
// it stays flat as the scene grows, because statistics accumulate over row blocks and
// changed pixels are kept as runs.
func BenchmarkChangeMemory(b *testing.B) {
	for _, f := range strings.Split(*changeSizes, ",") { // default 1/256, 1/64, 1/16 of 10980²
		w, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			b.Fatalf("-change_sizes: %v", err)
		}
		b.Run(strconv.Itoa(w), func(b *testing.B) {
			before, after := benchScene(b, w)
			b.ResetTimer()
			var ms0, ms1 runtime.MemStats
			var alloc uint64
			for i := 0; i < b.N; i++ {
				runtime.ReadMemStats(&ms0)
				if _, err := DetectChange(before, after, ChangeParams{}, Attribution{}); err != nil {
					b.Fatal(err)
				}
				runtime.ReadMemStats(&ms1)
				alloc = ms1.TotalAlloc - ms0.TotalAlloc
			}
			b.ReportMetric(float64(alloc)/(1<<20), "MiB-allocated")
			b.ReportMetric(float64(w*w*6*2*4)/(1<<20), "MiB-input")
			reportMpx(b, w*w)
		})
	}
}
