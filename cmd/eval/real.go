package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/offsite/offsite/internal/baseline"
	"github.com/offsite/offsite/internal/evalreal"
	"github.com/offsite/offsite/internal/evalscore"
	"github.com/offsite/offsite/pipelines"
)

// Classes of change findings the CAL FIRE burned area should carry.
var burnClasses = map[string]bool{"burn": true, "vegetation_loss": true}

// calfire scores the CAL FIRE pairs: IoU of the union of change findings with the burned
// area, the share of the burned area under burn or vegetation-loss findings, and
// new_structure findings lying mostly in the burned area.
func (e *eval) calfire(ctx context.Context, dir string) error {
	fires, err := evalreal.CalFire(dir)
	if err != nil {
		return err
	}
	pipe, err := evalreal.Derive(e.pipes["sentinel2"], "calfire-sentinel2", evalreal.CalFireBands, 1e-4, 0, pipelines.TypeHotspot, pipelines.TypeWaterPlume)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.out, "\n## 3. CAL FIRE: %d real Sentinel-2 fires with burned-area masks (%s)\n\n", len(fires), dir)
	fmt.Fprintf(e.out, "Pipeline `%s`, derived from `sentinel2`: bands B2 B3 B4 B8 B12, scale 0.0001, offset 0, hotspot and water_plume dropped.\n\n", pipe.Name)
	fmt.Fprintf(e.out, "| fire | px | burned | Offsite IoU | in burn/vegetation_loss | new_structure in burn | findings (classes) | dNBR > 0.1 IoU | IR-MAD IoU |\n|---|---|---|---|---|---|---|---|---|\n")
	var sumOurs, sumDNBR, sumIRMAD float64
	var burned, burnedClassed, newStructure int
	names := []string{evalreal.CalFireBands["blue"], evalreal.CalFireBands["green"], evalreal.CalFireBands["red"], evalreal.CalFireBands["nir"], evalreal.CalFireBands["swir2"]}
	for _, f := range fires {
		mb, mask, err := evalreal.Mask(ctx, f.Mask)
		if err != nil {
			return err
		}
		crs := "EPSG:4326"
		if mb.EPSG != 0 {
			crs = fmt.Sprintf("EPSG:%d", mb.EPSG)
		}
		p := pair{name: f.Name, set: "calfire", pipe: pipe, before: []string{f.Pre}, after: []string{f.Post}, crs: crs,
			grid: evalscore.Grid{Width: mb.Width, Height: mb.Height, GeoTransform: mb.GeoTransform}}
		n := mb.Width * mb.Height
		ours, runErr := e.ours(ctx, p)
		change := ofType(ours, pipelines.TypeChange)
		iou := evalscore.Pixels(union(n, change, nil), mask, nil).IoU()
		classed := union(n, change, func(f found) bool { return burnClasses[f.class] })
		nb, nc := 0, 0
		for i, m := range mask {
			if m {
				nb++
				if classed[i] {
					nc++
				}
			}
		}
		labels := make([]int32, n)
		for i, m := range mask {
			if m {
				labels[i] = 1
			}
		}
		burnedArea := func(rs []evalscore.Region) evalscore.Match {
			return evalscore.Objects(rs, p.grid, labels, nil, func(int32) bool { return true }, evalscore.MatchRule{})
		}
		match := burnedArea(regions(change))
		e.judgeType(p, "sentinel2", ours, pipelines.TypeChange, burnedArea)
		if showFalse {
			for i, f := range change {
				fmt.Fprintf(e.out, "CALFIRE %s %s real=%d score=%.2f px=%d %s\n", p.name, f.class, match.Real[i], f.score, len(f.pixels), measureList(f.measures))
			}
		}
		ns := 0
		classes := map[string]int{}
		for _, c := range change {
			classes[c.class]++
			if c.class == "new_structure" && evalscore.Objects([]evalscore.Region{c.region()}, p.grid, labels, nil, func(int32) bool { return true }, evalscore.MatchRule{MinShare: 0.5}).Real[0] == 1 {
				ns++
			}
		}
		a, va, err := readReflectance(ctx, []string{f.Pre}, names, 1e-4, 0)
		if err != nil {
			return err
		}
		b, vb, err := readReflectance(ctx, []string{f.Post}, names, 1e-4, 0)
		if err != nil {
			return err
		}
		valid := and(va, vb)
		dnbrIoU := evalscore.Pixels(baseline.DNBR(a[3], a[4], b[3], b[4], valid, 0.1), mask, nil).IoU()
		irmadIoU := 0.0
		if chi, err := baseline.IRMAD(a, b, valid, 30, 200000); err == nil {
			thr := baseline.ChiSquareQuantile(irmadProbability, len(names))
			m := make([]bool, n)
			for i, v := range chi {
				m[i] = valid[i] && v > thr
			}
			irmadIoU = evalscore.Pixels(m, mask, nil).IoU()
		}
		oursCol := fmt.Sprintf("%.2f", iou)
		if runErr != nil {
			oursCol = "refused: " + shorten(runErr.Error(), 140)
		}
		fmt.Fprintf(e.out, "| %s | %d×%d | %d px | %s | %.2f | %d | %d %s | %.2f | %.2f |\n", f.Name, mb.Width, mb.Height, nb, oursCol,
			ratio(nc, nb), ns, len(change), classList(classes), dnbrIoU, irmadIoU)
		sumOurs += iou
		sumDNBR += dnbrIoU
		sumIRMAD += irmadIoU
		burned += nb
		burnedClassed += nc
		newStructure += ns
	}
	k := float64(len(fires))
	fmt.Fprintf(e.out, "| **mean** | | %d px | %.2f | %.2f | %d | | %.2f | %.2f |\n", burned, sumOurs/k, ratio(burnedClassed, burned), newStructure, sumDNBR/k, sumIRMAD/k)
	e.targets = append(e.targets,
		target{name: "CAL FIRE mean IoU ≥ dNBR > 0.1 baseline + 0.1", value: sumOurs / k, goal: sumDNBR/k + 0.1, note: fmt.Sprintf("dNBR %.2f", sumDNBR/k)},
		target{name: "CAL FIRE burned area in burn/vegetation_loss ≥ 0.90", value: ratio(burnedClassed, burned), goal: 0.9},
		target{name: "CAL FIRE burn findings labelled new_structure = 0", value: float64(newStructure), goal: 0, atMost: true},
	)
	return nil
}

func classList(classes map[string]int) string {
	if len(classes) == 0 {
		return ""
	}
	s := "("
	first := true
	for _, c := range []string{"burn", "vegetation_loss", "new_structure", "earthwork", "water_change", "other_change"} {
		if classes[c] > 0 {
			if !first {
				s += ", "
			}
			s += fmt.Sprintf("%d %s", classes[c], c)
			first = false
			delete(classes, c)
		}
	}
	for c, n := range classes {
		if !first {
			s += ", "
		}
		s += fmt.Sprintf("%d %s", n, c)
		first = false
	}
	return s + ")"
}

// levir scores the LEVIR-CD pairs: pixel F1 of the union of change findings with the
// building-change label, and smoke findings (none of the images shows smoke).
func (e *eval) levir(ctx context.Context, dir string) error {
	out, err := os.MkdirTemp(e.tmp, "levir-")
	if err != nil {
		return err
	}
	pairs, err := evalreal.Levir(dir, out)
	if err != nil {
		return err
	}
	pipe := e.pipes["drone-rgb"]
	fmt.Fprintf(e.out, "\n## 4. LEVIR-CD: %d real RGB building-change pairs (%s), georeferenced at %.1f m as GeoTIFFs in %s\n\n", len(pairs), dir, evalreal.LevirPixel, filepath.Base(out))
	fmt.Fprintf(e.out, "Pipeline `drone-rgb` as shipped.\n\n| pair | changed px | Offsite P / R / F1 | change findings | smoke findings | Otsu P / R / F1 |\n|---|---|---|---|---|---|\n")
	var sumOurs, sumOtsu float64
	smoke := 0
	for _, lp := range pairs {
		p := pair{name: lp.Name, set: "levir", pipe: pipe, before: []string{lp.Before}, after: []string{lp.After}, crs: lp.CRS,
			grid: evalscore.Grid{Width: lp.Width, Height: lp.Height, GeoTransform: lp.GeoTransform}}
		n := lp.Width * lp.Height
		ours, runErr := e.ours(ctx, p)
		change := ofType(ours, pipelines.TypeChange)
		c := evalscore.Pixels(union(n, change, nil), lp.Label, nil)
		labels := make([]int32, n)
		nl := 0
		for i, m := range lp.Label {
			if m {
				labels[i] = 1
				nl++
			}
		}
		e.judgeType(p, "drone-rgb", ours, pipelines.TypeChange, func(rs []evalscore.Region) evalscore.Match {
			return evalscore.Objects(rs, p.grid, labels, nil, func(int32) bool { return true }, evalscore.MatchRule{})
		})
		sm := ofType(ours, pipelines.TypeSmoke)
		e.judgeType(p, "drone-rgb", ours, pipelines.TypeSmoke, never)
		smoke += len(sm)
		rgb := []string{"1", "2", "3"}
		a, va, err := readReflectance(ctx, []string{lp.Before}, rgb, 1.0/255, 0)
		if err != nil {
			return err
		}
		b, vb, err := readReflectance(ctx, []string{lp.After}, rgb, 1.0/255, 0)
		if err != nil {
			return err
		}
		o := evalscore.Pixels(baseline.RGBDiffOtsu(a, b, and(va, vb)), lp.Label, nil)
		oursCol := fmt.Sprintf("%.2f / %.2f / %.2f", c.Precision(), c.Recall(), c.F1())
		if runErr != nil {
			oursCol = "refused: " + shorten(runErr.Error(), 140)
		}
		fmt.Fprintf(e.out, "| %s | %d | %s | %d | %d | %.2f / %.2f / %.2f |\n", lp.Name, nl, oursCol, len(change), len(sm), o.Precision(), o.Recall(), o.F1())
		sumOurs += c.F1()
		sumOtsu += o.F1()
	}
	k := float64(len(pairs))
	fmt.Fprintf(e.out, "| **mean F1** | | %.2f | | %d | %.2f |\n", sumOurs/k, smoke, sumOtsu/k)
	e.targets = append(e.targets,
		target{name: "LEVIR mean pixel F1 ≥ 1.5 × Otsu baseline", value: sumOurs / k, goal: 1.5 * sumOtsu / k, note: fmt.Sprintf("Otsu %.2f", sumOtsu/k)},
		target{name: "smoke findings on LEVIR = 0", value: float64(smoke), goal: 0, atMost: true},
	)
	return nil
}
