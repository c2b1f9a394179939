// Command eval measures the detectors where a user would: on the project's own generated
// set (internal/evalset), on a second generated set written apart from the detectors
// (internal/evalgen), and on real labelled data (CAL FIRE burned areas under Sentinel-2,
// LEVIR-CD building changes in RGB). Offsite runs through internal/process, the code of
// `worker process`; plain baselines (internal/baseline) run on the same files in the same
// run. It prints per-set tables, a reliability table per detector and every target with
// met or MISSED, and exits with status 1 when a target is missed.
//
//	go run ./cmd/eval [-data ../shared/data] [-cache .state/eval] [-seed N] [-size PIXELS] ...
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/offsite/offsite/internal/evalscore"
	"github.com/offsite/offsite/internal/evalset"
	"github.com/offsite/offsite/pipelines"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}

// target is one acceptance criterion of issue 12 (or of evalset).
type target struct {
	name        string
	value, goal float64
	atMost      bool
	note        string
}

func (t target) met() bool {
	if t.atMost {
		return t.value <= t.goal
	}
	return t.value >= t.goal
}

// eval holds what the sections share.
type eval struct {
	out   io.Writer
	pipes map[string]*pipelines.Pipeline
	tmp   string
	rel   *evalscore.Reliability
	// judged are the findings and candidates of evalgen, CAL FIRE and LEVIR, judged, and
	// scenes the scenes run, by set: what the calibration is fitted and checked on.
	judged  []judged
	scenes  map[string][]string
	targets []target
	// refused lists the pairs a pipeline refused (scored as finding nothing), runs how many
	// pairs were run.
	refused []string
	runs    int
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	var cfg evalset.Config
	fs.Uint64Var(&cfg.Seed, "seed", 1, "evalset: generator seed")
	fs.IntVar(&cfg.Size, "size", 768, "evalset: raster scene side in 10 m pixels")
	fs.IntVar(&cfg.Scenes, "scenes", 4, "evalset: scene pairs with injected objects (a control pair is added)")
	fs.IntVar(&cfg.Tracks, "tracks", 4, "evalset: vehicle tracks and boat runs, each")
	fs.Float64Var(&cfg.Noise, "noise", 0.004, "evalset: sensor noise of the satellite scenes (reflectance standard deviation)")
	fs.Float64Var(&cfg.Phenology, "phenology", 0, "evalset: cropland-only seasonal nir rise on the after date (reflectance)")
	fs.Float64Var(&cfg.Shift, "shift", 0.3, "evalset: misregistration of the satellite after dates, pixels (negative: none)")
	data := fs.String("data", "../shared/data", "folder of the shared real data (its real/calfire and real/levir are used)")
	cache := fs.String("cache", ".state/eval", "folder where the second generated set is kept between runs")
	genSeed := fs.Uint64("gen-seed", 1, "evalgen: generator seed")
	genSize := fs.Int("gen-size", 384, "evalgen: Sentinel-2 scene side in 10 m pixels")
	sets := fs.String("sets", "evalset,evalgen,calfire,levir", "comma-separated sets to run (a partial run checks only their targets)")
	fs.BoolVar(&showFalse, "false", false, "list each false change finding of evalgen (class, score, size, measures)")
	err := fs.Parse(args)
	if err != nil {
		return err
	}
	// raster refuses paths with "..": the shared data is named by its absolute path.
	if *data, err = filepath.Abs(*data); err != nil {
		return err
	}
	pipes, err := pipelines.Builtin()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "offsite-eval-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e := &eval{out: out, pipes: pipes, tmp: tmp, rel: evalscore.NewReliability(), scenes: map[string][]string{}}
	start := time.Now()

	want := map[string]bool{}
	for _, s := range strings.Split(*sets, ",") {
		switch s = strings.TrimSpace(s); s {
		case "evalset", "evalgen", "calfire", "levir":
			want[s] = true
		default:
			return fmt.Errorf("-sets: unknown set %q (evalset, evalgen, calfire, levir)", s)
		}
	}
	if want["evalset"] {
		if err := e.evalset(cfg); err != nil {
			return err
		}
	}
	if want["evalgen"] {
		if err := e.generated(ctx, *cache, *genSeed, *genSize); err != nil {
			return err
		}
	}
	if want["calfire"] {
		if err := e.calfire(ctx, filepath.Join(*data, "real", "calfire")); err != nil {
			return err
		}
	}
	if want["levir"] {
		if err := e.levir(ctx, filepath.Join(*data, "real", "levir")); err != nil {
			return err
		}
	}
	e.reliability()
	e.targets = append(e.targets, target{name: "pairs the pipeline refused = 0 (evalgen, CAL FIRE, LEVIR)", value: float64(len(e.refused)), goal: 0, atMost: true,
		note: fmt.Sprintf("of %d pairs; a refused pair finds nothing, and a refused control does not pass%s", e.runs, listNote(e.refused))})
	missed := e.report()
	fmt.Fprintf(out, "\n(%.0f s)\n", time.Since(start).Seconds())
	if missed > 0 {
		return fmt.Errorf("%d of %d target(s) missed", missed, len(e.targets))
	}
	return nil
}

// evalset scores the project's own generated set as before, and takes its targets and its
// pooled change F1.
func (e *eval) evalset(cfg evalset.Config) error {
	t0 := time.Now()
	set := evalset.Generate(cfg)
	fmt.Fprintf(e.out, "## 1. The project's own generated set (internal/evalset)\n\nseed %d, %d scene pairs of %d×%d px at 10 m + control + %d drone pairs, noise %g, shift %g px, %d tracks (generated in %.1fs)\n\n",
		cfg.Seed, cfg.Scenes, cfg.Size, cfg.Size, len(set.Scenes)-cfg.Scenes-1, cfg.Noise, cfg.Shift, len(set.Tracks), time.Since(t0).Seconds())
	rep, err := evalset.Score(set, e.pipes)
	if err != nil {
		return err
	}
	if err := rep.Write(e.out); err != nil {
		return err
	}
	var c evalset.Row
	for _, r := range rep.Rows {
		if r.Detector == pipelines.TypeChange {
			c.Truths += r.Truths
			c.Findings += r.Findings
			c.MatchedTruths += r.MatchedTruths
			c.MatchedFindings += r.MatchedFindings
		}
	}
	e.targets = append(e.targets, target{name: "change F1 ≥ 0.90, generated set 1 (evalset)", value: c.F1(), goal: 0.9,
		note: fmt.Sprintf("precision %.2f, recall %.2f", c.Precision(), c.Recall())})
	for _, t := range rep.Targets {
		e.targets = append(e.targets, target{name: "evalset: " + t.Name, value: t.Value, goal: t.Goal, atMost: t.AtMost})
	}
	return nil
}

// reliability prints, per detector, the share of findings that were real per score band,
// and the calibration fitted and checked on halves of the scenes.
func (e *eval) reliability() {
	fmt.Fprintf(e.out, "\n## 5. Calibration: share of findings that are real, per score band (evalgen, CAL FIRE, LEVIR)\n\nScores as the pipelines give them:\n\n")
	reliabilityTable(e.out, e.rel)
	fmt.Fprintln(e.out, "\nA finding is real when at least 30% of its pixels lie on a truth object of its detector's kind (hotspots: within one pixel of a hot source); findings in ignored pixels (cars, shadows of changed buildings, object borders) are left out. Smoke findings are never real here: no scene shows smoke.")
	e.calibration()
}

// reliabilityTable prints a reliability table, one row per detector.
func reliabilityTable(out io.Writer, rel *evalscore.Reliability) {
	fmt.Fprintf(out, "| detector |")
	bands := len(rel.Edges) - 1
	for b := 0; b < bands; b++ {
		fmt.Fprintf(out, " %s |", rel.Label(b))
	}
	fmt.Fprintf(out, "\n|---|%s\n", repeat("---|", bands))
	for _, d := range rel.Detectors() {
		fmt.Fprintf(out, "| %s |", d)
		for b := 0; b < bands; b++ {
			n, real := rel.Band(d, b)
			if n == 0 {
				fmt.Fprintf(out, " – |")
				continue
			}
			fmt.Fprintf(out, " %.2f (%d/%d) |", float64(real)/float64(n), real, n)
		}
		fmt.Fprintln(out)
	}
}

// report prints the targets and returns how many were missed.
func (e *eval) report() int {
	fmt.Fprintf(e.out, "\n## 6. Targets (issue 12)\n\n| target | value | goal | |\n|---|---|---|---|\n")
	missed := 0
	for _, t := range e.targets {
		st := "met"
		if !t.met() {
			st = "MISSED"
			missed++
		}
		op := "≥"
		if t.atMost {
			op = "≤"
		}
		note := ""
		if t.note != "" {
			note = " (" + t.note + ")"
		}
		fmt.Fprintf(e.out, "| %s | %.3f%s | %s %.3f | %s |\n", t.name, t.value, note, op, t.goal, st)
	}
	return missed
}

func listNote(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return ": " + strings.Join(names, ", ")
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}
