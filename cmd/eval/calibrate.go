package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/offsite/offsite/internal/evalset"
	"github.com/offsite/offsite/pipelines"
)

// calibrationKnots are the raw scores at which a fitted calibration is given.
var calibrationKnots = []float64{0, 0.2, 0.4, 0.6, 0.8, 0.9, 1}

// fitCalibration fits, per report row of the project's own generated set, the share of
// findings that were real as a non-decreasing function of the raw score (isotonic
// regression, pool-adjacent-violators, equal neighbours pooled too) and prints it as the pipelines' score_calibration.
// Only evalset is fitted on: the sets that verify the calibration never see the fit.
func fitCalibration(out io.Writer, cfg evalset.Config, pipes map[string]*pipelines.Pipeline) error {
	set := evalset.Generate(cfg)
	rep, err := evalset.Score(set, pipes)
	if err != nil {
		return err
	}
	byRow := map[string][]evalset.Judged{}
	for _, j := range rep.Judged {
		byRow[j.Row] = append(byRow[j.Row], j)
	}
	rows := make([]string, 0, len(byRow))
	for r := range byRow {
		rows = append(rows, r)
	}
	sort.Strings(rows)
	fmt.Fprintf(out, "# score_calibration fitted on evalset (seed %d, noise %g, phenology %g, shift %g)\n", cfg.Seed, cfg.Noise, cfg.Phenology, cfg.Shift)
	for _, r := range rows {
		js := byRow[r]
		real := 0
		for _, j := range js {
			if j.Real {
				real++
			}
		}
		fmt.Fprintf(out, "# %s: %d findings, %d real\n%s:\n  score_calibration: [", r, len(js), real, r)
		f := isotonic(js)
		for k, x := range calibrationKnots {
			if k > 0 {
				fmt.Fprint(out, ", ")
			}
			fmt.Fprintf(out, "[%.1f, %.2f]", x, f(x))
		}
		fmt.Fprintln(out, "]")
	}
	return nil
}

// evalsetRows maps evalset's report rows to the detector and pipeline keys of the
// reliability tables.
var evalsetRows = map[string]string{
	"change":             "change (sentinel2)",
	"change (drone-rgb)": "change (drone-rgb)",
	"hotspot":            "hotspot (sentinel2)",
	"water_plume":        "water_plume (sentinel2)",
	"smoke_plume":        "smoke (drone-rgb)",
}

// fitRows fits a calibration per reliability key on evalset's judged findings.
func fitRows(js []evalset.Judged) map[string]func(float64) float64 {
	by := map[string][]evalset.Judged{}
	for _, j := range js {
		if k, ok := evalsetRows[j.Row]; ok {
			by[k] = append(by[k], j)
		}
	}
	out := map[string]func(float64) float64{}
	for k, v := range by {
		out[k] = isotonic(v)
	}
	return out
}

// isotonic returns the pool-adjacent-violators fit of real (0/1) on score, as a step
// function of the raw score read at the block whose scores span x (or the nearest block),
// shrunk towards one half by one pseudo-finding per block so that a block of one finding
// does not claim certainty.
func isotonic(js []evalset.Judged) func(float64) float64 {
	sort.Slice(js, func(a, b int) bool { return js[a].Score < js[b].Score })
	type block struct{ lo, hi, sum, n float64 }
	var bs []block
	for _, j := range js {
		v := 0.0
		if j.Real {
			v = 1
		}
		bs = append(bs, block{j.Score, j.Score, v, 1})
		for len(bs) > 1 && bs[len(bs)-2].sum/bs[len(bs)-2].n >= bs[len(bs)-1].sum/bs[len(bs)-1].n {
			a, b := bs[len(bs)-2], bs[len(bs)-1]
			bs = append(bs[:len(bs)-2], block{a.lo, b.hi, a.sum + b.sum, a.n + b.n})
		}
	}
	return func(x float64) float64 {
		if len(bs) == 0 {
			return x
		}
		k := sort.Search(len(bs), func(i int) bool { return bs[i].hi >= x })
		if k == len(bs) {
			k = len(bs) - 1
		}
		b := bs[k]
		return (b.sum + 0.5) / (b.n + 1)
	}
}
