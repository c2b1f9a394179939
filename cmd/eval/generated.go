package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/offsite/offsite/internal/baseline"
	"github.com/offsite/offsite/internal/evalgen"
	"github.com/offsite/offsite/internal/evalscore"
	"github.com/offsite/offsite/pipelines"
)

// s2Roles are the reflective bands IR-MAD compares, when the files have them.
var s2Roles = []string{"blue", "green", "red", "nir", "swir1", "swir2"}

// Baseline parameters: the textbook values, the same for every scene.
const (
	irmadProbability = 0.9999 // chi-square no-change quantile
	irmadMinPixels   = 8      // 800 m² at 10 m, as the shipped pipeline's minimum mapping unit
	otsuMinAreaM2    = 4      // smallest changed object of the RGB baseline
)

// genTotals pools one detector's object counts over cases.
type genTotals struct {
	change, changeBase evalscore.Counts
	hotFound, hotN     int
	hotFalse           int
	nhiFound, nhiFalse int
	plumeFound, plumeN int
	area               float64 // km² searched for hotspots
}

// generated scores the second generated set.
func (e *eval) generated(ctx context.Context, cache string, seed uint64, size int) error {
	t0 := time.Now()
	set, err := evalgen.Generate(cache, evalgen.Config{Seed: seed, S2Size: size})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.out, "\n## 2. A second generated set, written apart from the detectors (internal/evalgen)\n\n%d cases in %s (ready in %.1fs). Offsite runs the shipped `sentinel2` and `drone-rgb` pipelines on the files as given; baselines: IR-MAD chi-square > %.4f quantile, components ≥ %d px (Sentinel-2), |RGB difference| > Otsu, components ≥ %d m² (drone); NHI > 0 (hotspots).\n\n",
		len(set.Cases), set.Dir, time.Since(t0).Seconds(), irmadProbability, irmadMinPixels, otsuMinAreaM2)
	fmt.Fprintf(e.out, "| case | what the user brought | Offsite change P / R / F1 | baseline P / R / F1 | hotspots found (NHI) | plumes found | other findings |\n|---|---|---|---|---|---|---|\n")
	var tot genTotals
	controlFindings, controlBase := 0, 0
	for _, c := range set.Cases {
		p := pair{
			name: c.Name, set: "evalgen", before: c.Before, after: c.After, crs: c.CRS,
			grid: evalscore.Grid{Width: c.Width, Height: c.Height, GeoTransform: c.GeoTransform},
		}
		// A refused scene has no findings: every object counts as missed.
		var pipeName string
		switch c.Sensor {
		case evalgen.SensorSentinel2:
			pipeName = "sentinel2"
		case evalgen.SensorDroneRGB:
			pipeName = "drone-rgb"
		}
		p.pipe = e.pipes[pipeName]
		ours, runErr := e.ours(ctx, p)
		base, err := genBaseline(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: baseline: %w", c.Name, err)
		}
		kinds := map[int32]string{}
		for _, o := range c.Objects {
			kinds[o.ID] = o.Kind
		}
		kind := func(k string) func(int32) bool {
			return func(id int32) bool { return kinds[id] == k }
		}
		// objects judges regions against the truth objects of a kind; hotspots within a
		// pixel of their source, on every pixel.
		objects := func(k string) func([]evalscore.Region) evalscore.Match {
			ignore, rule := c.Ignore, evalscore.MatchRule{}
			if k == evalgen.KindHotspot {
				ignore, rule = nil, evalscore.MatchRule{Near: 1}
			}
			return func(rs []evalscore.Region) evalscore.Match {
				return evalscore.Objects(rs, p.grid, c.Labels, ignore, kind(k), rule)
			}
		}
		change := objects(evalgen.KindChange)(regions(ofType(ours, pipelines.TypeChange)))
		changeBase := objects(evalgen.KindChange)(base.change)
		hot := objects(evalgen.KindHotspot)(regions(ofType(ours, pipelines.TypeHotspot)))
		nhi := objects(evalgen.KindHotspot)(base.hot)
		plume := objects(evalgen.KindWaterPlume)(regions(ofType(ours, pipelines.TypeWaterPlume)))
		e.judgeType(p, pipeName, ours, pipelines.TypeChange, objects(evalgen.KindChange))
		if showFalse {
			listFalse(e.out, c, ofType(ours, pipelines.TypeChange), change, hot, ofType(ours, pipelines.TypeHotspot))
		}
		e.judgeType(p, pipeName, ours, pipelines.TypeHotspot, objects(evalgen.KindHotspot))
		e.judgeType(p, pipeName, ours, pipelines.TypeWaterPlume, objects(evalgen.KindWaterPlume))
		e.judgeType(p, pipeName, ours, pipelines.TypeSmoke, never)
		smoke := len(ofType(ours, pipelines.TypeSmoke))
		others := fmt.Sprintf("%d smoke", smoke)
		oursCol := fmt.Sprintf("%.2f / %.2f / %.2f", change.Objects.Precision(), change.Recall(), change.Objects.F1())
		if runErr != nil {
			oursCol = "refused: " + shorten(runErr.Error(), 140)
		}
		baseCol := fmt.Sprintf("%.2f / %.2f / %.2f", changeBase.Objects.Precision(), changeBase.Recall(), changeBase.Objects.F1())
		hotCol, plumeCol := "–", "–"
		nHot, nPlume := countKind(c, evalgen.KindHotspot), countKind(c, evalgen.KindWaterPlume)
		if c.Sensor == evalgen.SensorSentinel2 {
			hotCol = fmt.Sprintf("%d/%d, %d false (NHI %d/%d, %d false)", len(hot.Found), nHot, hot.Objects.FP, len(nhi.Found), nHot, nhi.Objects.FP)
			plumeCol = fmt.Sprintf("%d/%d, %d false", len(plume.Found), nPlume, plume.Objects.FP)
			tot.hotFound += len(hot.Found)
			tot.hotN += nHot
			tot.hotFalse += hot.Objects.FP
			tot.nhiFound += len(nhi.Found)
			tot.nhiFalse += nhi.Objects.FP
			tot.plumeFound += len(plume.Found)
			tot.plumeN += nPlume
			tot.area += c.AreaKm2
		}
		if c.Control != "" {
			oursCol = fmt.Sprintf("%d findings", len(reported(ours)))
			if runErr != nil {
				oursCol = "refused: " + shorten(runErr.Error(), 140)
			}
			baseCol = fmt.Sprintf("%d regions", len(base.change))
			controlFindings += len(reported(ours))
			controlBase += len(base.change)
		} else {
			tot.change = tot.change.Add(change.Objects)
			tot.changeBase = tot.changeBase.Add(changeBase.Objects)
		}
		fmt.Fprintf(e.out, "| %s | %s | %s | %s | %s | %s | %s |\n", c.Name, c.Describe, oursCol, baseCol, hotCol, plumeCol, others)
	}
	fmt.Fprintf(e.out, "| **all but controls** | | %.2f / %.2f / %.2f | %.2f / %.2f / %.2f | %d/%d, %.1f false per 100 km² (NHI %d/%d, %.1f) | %d/%d | |\n",
		tot.change.Precision(), tot.change.Recall(), tot.change.F1(), tot.changeBase.Precision(), tot.changeBase.Recall(), tot.changeBase.F1(),
		tot.hotFound, tot.hotN, per100(tot.hotFalse, tot.area), tot.nhiFound, tot.hotN, per100(tot.nhiFalse, tot.area), tot.plumeFound, tot.plumeN)
	fmt.Fprintf(e.out, "| **controls** | gain/offset only, seasonal only | %d findings | %d regions | | | |\n", controlFindings, controlBase)
	e.targets = append(e.targets,
		target{name: "change F1 ≥ 0.90, generated set 2 (evalgen)", value: tot.change.F1(), goal: 0.9,
			note: fmt.Sprintf("precision %.2f, recall %.2f; IR-MAD/Otsu %.2f", tot.change.Precision(), tot.change.Recall(), tot.changeBase.F1())},
		target{name: "hotspot recall ≥ 0.95 (evalgen)", value: ratio(tot.hotFound, tot.hotN), goal: 0.95, note: fmt.Sprintf("NHI > 0: %.2f", ratio(tot.nhiFound, tot.hotN))},
		target{name: "hotspot false per 100 km² ≤ 1 (evalgen)", value: per100(tot.hotFalse, tot.area), goal: 1, atMost: true, note: fmt.Sprintf("NHI > 0: %.1f", per100(tot.nhiFalse, tot.area))},
		target{name: "water plume recall ≥ 0.8 (evalgen)", value: ratio(tot.plumeFound, tot.plumeN), goal: 0.8},
		target{name: "findings on controls = 0 (evalgen gain/offset, seasonal)", value: float64(controlFindings), goal: 0, atMost: true, note: fmt.Sprintf("IR-MAD/Otsu regions: %d", controlBase)},
	)
	return nil
}

func countKind(c *evalgen.Case, kind string) int {
	n := 0
	for _, o := range c.Objects {
		if o.Kind == kind {
			n++
		}
	}
	return n
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func per100(n int, km2 float64) float64 {
	if km2 == 0 {
		return 0
	}
	return float64(n) / km2 * 100
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// baseRegions are a baseline's predicted regions.
type baseRegions struct {
	change, hot []evalscore.Region
}

// genBaseline runs the plain methods on a generated case's files.
func genBaseline(ctx context.Context, c *evalgen.Case) (baseRegions, error) {
	var out baseRegions
	if c.Sensor == evalgen.SensorDroneRGB {
		names := []string{c.Bands["red"], c.Bands["green"], c.Bands["blue"]}
		a, va, err := readReflectance(ctx, c.Before, names, c.Scale, c.Offset)
		if err != nil {
			return out, err
		}
		b, vb, err := readReflectance(ctx, c.After, names, c.Scale, c.Offset)
		if err != nil {
			return out, err
		}
		mask := baseline.RGBDiffOtsu(a, b, and(va, vb))
		px := math.Abs(c.GeoTransform[1])
		out.change = toRegions("otsu", evalscore.Components(mask, c.Width, c.Height, int(math.Ceil(otsuMinAreaM2/(px*px)))))
		return out, nil
	}
	var names []string
	for _, r := range s2Roles {
		if n, ok := c.Bands[r]; ok {
			names = append(names, n)
		}
	}
	a, va, err := readReflectance(ctx, c.Before, names, c.Scale, c.Offset)
	if err != nil {
		return out, err
	}
	b, vb, err := readReflectance(ctx, c.After, names, c.Scale, c.Offset)
	if err != nil {
		return out, err
	}
	valid := and(va, vb)
	chi, err := baseline.IRMAD(a, b, valid, 30, 200000)
	if err != nil {
		return out, err
	}
	thr := baseline.ChiSquareQuantile(irmadProbability, len(names))
	mask := make([]bool, len(chi))
	for i, v := range chi {
		mask[i] = valid[i] && v > thr
	}
	out.change = toRegions("irmad", evalscore.Components(mask, c.Width, c.Height, irmadMinPixels))
	nir := c.Bands["nir_narrow"]
	if nir == "" {
		nir = c.Bands["nir"]
	}
	h, vh, err := readReflectance(ctx, c.After, []string{nir, c.Bands["swir1"], c.Bands["swir2"]}, c.Scale, c.Offset)
	if err != nil {
		return out, err
	}
	out.hot = toRegions("nhi", evalscore.Components(baseline.NHI(h[0], h[1], h[2], vh), c.Width, c.Height, 1))
	return out, nil
}

func toRegions(name string, comps [][]int) []evalscore.Region {
	out := make([]evalscore.Region, len(comps))
	for i, px := range comps {
		out[i] = evalscore.Region{Detector: name, Pixels: px}
	}
	return out
}

func and(a, b []bool) []bool {
	out := make([]bool, len(a))
	for i := range a {
		out[i] = a[i] && b[i]
	}
	return out
}

// showFalse is the -false flag: list false change findings and missed objects per case.
var showFalse bool

// listFalse prints, for one case, each false change finding (class, score, pixels, where,
// measures) and each missed change or hotspot object with its note.
func listFalse(w io.Writer, c *evalgen.Case, fs []found, m evalscore.Match, hot evalscore.Match, hs []found) {
	for i, f := range fs {
		if m.Real[i] != 0 && c.Control == "" {
			continue
		}
		x, y := 0, 0
		if len(f.pixels) > 0 {
			x, y = f.pixels[0]%c.Width, f.pixels[0]/c.Width
		}
		on := map[string]int{}
		kinds := map[int32]string{}
		for _, o := range c.Objects {
			kinds[o.ID] = o.Kind + ":" + o.Class
		}
		for _, i := range f.pixels {
			if l := c.Labels[i]; l != 0 {
				on[kinds[l]]++
			}
		}
		fmt.Fprintf(w, "FALSE %s %s score=%.2f px=%d at=(%d,%d) on=%v %s\n", c.Name, f.class, f.score, len(f.pixels), x, y, on, measureList(f.measures))
	}
	notes := map[int32]string{}
	for _, o := range c.Objects {
		notes[o.ID] = o.Class + " " + o.Note
	}
	for _, id := range m.Missed {
		fmt.Fprintf(w, "MISSED %s change %d %s\n", c.Name, id, notes[id])
	}
	for _, id := range hot.Missed {
		fmt.Fprintf(w, "MISSED %s hotspot %d %s\n", c.Name, id, notes[id])
	}
	for i, f := range hs {
		if hot.Real[i] == 0 {
			fmt.Fprintf(w, "FALSE %s hotspot score=%.2f px=%d\n", c.Name, f.score, len(f.pixels))
		}
	}
}

// measureList prints a finding's measures, sorted by name.
func measureList(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ms []string
	for _, k := range keys {
		if v, ok := m[k].(float64); ok {
			ms = append(ms, fmt.Sprintf("%s=%.3f", k, v))
		}
	}
	return strings.Join(ms, " ")
}
