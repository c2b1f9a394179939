package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/offsite/offsite/internal/evalscore"
)

// calibrationKnots are the raw scores at which a fitted calibration is given.
var calibrationKnots = []float64{0, 0.2, 0.4, 0.6, 0.8, 0.9, 1}

// judged is one finding or candidate of ours, judged real or not, for the calibration.
type judged struct {
	key   string  // detector type and pipeline: "change (sentinel2)"
	scene string  // set and scene: "calfire/1-7_20200817"
	raw   float64 // the detector's own score
	score float64 // the score the pipeline gave: raw through its score_calibration, if any
	real  bool
}

// judgeType records, for the calibration, the findings and the candidates of one detector
// type in a scene, each judged by match; the findings go into the reliability table of
// scores as given too.
func (e *eval) judgeType(p pair, pipe string, fs []found, typ string, match func([]evalscore.Region) evalscore.Match) {
	for _, sel := range [][]found{ofType(fs, typ), candidatesOf(fs, typ)} {
		m := match(regions(sel))
		for i, f := range sel {
			key := f.typ + " (" + pipe + ")"
			if !f.candidate {
				e.rel.Add(key, f.score, m.Real[i])
			}
			if m.Real[i] >= 0 {
				e.judged = append(e.judged, judged{key: key, scene: p.set + "/" + p.name, raw: f.raw, score: f.score, real: m.Real[i] == 1})
			}
		}
	}
}

// never judges every region false: no scene shows what the detector looks for.
func never(rs []evalscore.Region) evalscore.Match { return evalscore.Match{Real: make([]int, len(rs))} }

// splitScenes puts every other scene of each set, in the order of their names, in the half
// a calibration is fitted on (true) and the rest in the half that checks it (false): the
// same split on every run, and each set in both halves.
func splitScenes(scenes map[string][]string) map[string]bool {
	fit := map[string]bool{}
	for set, names := range scenes {
		names = append([]string(nil), names...)
		sort.Strings(names)
		for i, n := range names {
			fit[set+"/"+n] = i%2 == 0
		}
	}
	return fit
}

// calibration fits, per detector and pipeline, the share of findings and candidates that
// were real as a function of the detector's raw score on one half of the scenes of
// evalgen, CAL FIRE and LEVIR (splitScenes), and checks it on the other half beside the
// raw scores and the scores as the pipelines give them.
func (e *eval) calibration() {
	fitHalf := splitScenes(e.scenes)
	fit, check := map[string][]judged{}, map[string][]judged{}
	for _, j := range e.judged {
		if fitHalf[j.scene] {
			fit[j.key] = append(fit[j.key], j)
		} else {
			check[j.key] = append(check[j.key], j)
		}
	}
	keys := make([]string, 0, len(fit))
	for k := range fit {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(e.out, "\nCalibration fitted on half the scenes (every other by name in each set: %s) and checked on the others: the calibration error is the mean gap between a band's mean score and its share of real findings, over findings and candidates (0 is calibrated).\n\n", halves(fitHalf))
	fmt.Fprintf(e.out, "| detector | fitted on: findings (real) | checked on: findings (real) | error, raw score | error, score as shipped | error, fitted |\n|---|---|---|---|---|---|\n")
	raw, shipped, fitted := evalscore.NewReliability(), evalscore.NewReliability(), evalscore.NewReliability()
	fits := map[string]func(float64) float64{}
	for _, k := range keys {
		f := isotonic(fit[k])
		fits[k] = f
		for _, j := range check[k] {
			r := 0
			if j.real {
				r = 1
			}
			raw.Add(k, j.raw, r)
			shipped.Add(k, j.score, r)
			fitted.Add(k, f(j.raw), r)
		}
		nf, rf := count(fit[k])
		nc, rc := count(check[k])
		fmt.Fprintf(e.out, "| %s | %d (%d) | %d (%d) | %.2f | %.2f | %.2f |\n", k, nf, rf, nc, rc, raw.Error(k), shipped.Error(k), fitted.Error(k))
	}
	fmt.Fprintf(e.out, "\nChecked half, scores through the fitted calibration:\n\n")
	reliabilityTable(e.out, fitted)
	fmt.Fprintf(e.out, "\nFitted `score_calibration` of each detector (raw score → share real):\n\n")
	for _, k := range keys {
		var pts []string
		for _, x := range calibrationKnots {
			pts = append(pts, fmt.Sprintf("[%.1f, %.2f]", x, fits[k](x)))
		}
		fmt.Fprintf(e.out, "    %s: score_calibration: [%s]\n", k, strings.Join(pts, ", "))
	}
}

// halves says how many scenes are in each half.
func halves(fit map[string]bool) string {
	n := 0
	for _, f := range fit {
		if f {
			n++
		}
	}
	return fmt.Sprintf("%d and %d scenes", n, len(fit)-n)
}

func count(js []judged) (n, real int) {
	for _, j := range js {
		if j.real {
			real++
		}
	}
	return len(js), real
}

// isotonic returns the pool-adjacent-violators fit of real (0/1) on raw score, as a step
// function of the raw score read at the block whose scores span x (or the nearest block),
// shrunk towards one half by one pseudo-finding per block so that a block of one finding
// does not claim certainty. The shrinking moves small blocks further than large ones, so
// each step is raised to the one before where it would fall below it: the fit stays
// non-decreasing, as a score_calibration must.
func isotonic(js []judged) func(float64) float64 {
	js = append([]judged(nil), js...)
	sort.Slice(js, func(a, b int) bool { return js[a].raw < js[b].raw })
	type block struct{ lo, hi, sum, n float64 }
	var bs []block
	for _, j := range js {
		v := 0.0
		if j.real {
			v = 1
		}
		bs = append(bs, block{j.raw, j.raw, v, 1})
		for len(bs) > 1 && bs[len(bs)-2].sum/bs[len(bs)-2].n >= bs[len(bs)-1].sum/bs[len(bs)-1].n {
			a, b := bs[len(bs)-2], bs[len(bs)-1]
			bs = append(bs[:len(bs)-2], block{a.lo, b.hi, a.sum + b.sum, a.n + b.n})
		}
	}
	vals := make([]float64, len(bs))
	for k, b := range bs {
		vals[k] = (b.sum + 0.5) / (b.n + 1)
		if k > 0 {
			vals[k] = max(vals[k], vals[k-1])
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
		return vals[k]
	}
}
