// Package evalgen generates an evaluation set of image pairs with their truth, written apart
// from the detectors and from internal/evalset: its scenes follow the physics of the surfaces
// and sensors, not the detectors' assumptions.
//
// Sentinel-2-like pairs (10 m) come as users bring them: with and without SCL and B8A, as
// UInt16 with and without the 04.00 offset of 1000 and as Float32 reflectance. The land
// cover has its own phenology per class (crops green up, grass dries, built-up land stays),
// new roofs come in white, grey, red and blue steel sheet, and the dates differ by gain and
// offset, haze, cumulus clouds with their shadows and sub-pixel misregistration. Hot
// sources add SWIR radiance by Planck's law at furnace temperatures; turbid plumes raise the
// red and green of a river downstream of an outfall. Drone RGB pairs (3 to 50 cm) show an
// industrial yard with buildings, their shadows, moving cars, exposure changes and a shift
// of a pixel or so. Controls (gain/offset only, seasonal only) contain no change at all.
//
// Texture is a function of ground position, so the same place looks the same on both dates
// wherever the pixel grid falls; pixels average 3×3 (drone 2×2) samples of the ground.
package evalgen

import (
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Object kinds of the truth.
const (
	KindChange     = "change"
	KindHotspot    = "hotspot"
	KindWaterPlume = "water_plume"
)

// Controls.
const (
	ControlGainOffset = "gain_offset"
	ControlSeasonal   = "seasonal"
)

// Sensors of the cases.
const (
	SensorSentinel2 = "sentinel2"
	SensorDroneRGB  = "drone-rgb"
)

// version changes whenever the generator's output changes, so that a cached set is not
// reused after an edit.
const version = 2

// Config sets the size and randomness of the set.
type Config struct {
	Seed uint64 // default 1
	// S2Size is the side of the Sentinel-2 scenes in 10 m pixels (default 384).
	S2Size int
}

func (c Config) withDefaults() Config {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.S2Size == 0 {
		c.S2Size = 384
	}
	return c
}

// Set is a generated evaluation set.
type Set struct {
	Dir   string
	Cases []*Case
}

// Case is one pair with its truth on the pixel grid of both dates.
type Case struct {
	Name     string
	Sensor   string // SensorSentinel2 or SensorDroneRGB
	Describe string // what a user brought: bands, encoding, conditions
	Control  string // "", ControlGainOffset or ControlSeasonal
	// Before and After are the files of each date (full paths once loaded).
	Before, After []string
	CRS           string
	GeoTransform  [6]float64
	Width, Height int
	// Bands maps band roles (blue, green, red, nir, nir_narrow, swir1, swir2, scl) to the
	// band's name in the files; roles the files lack are absent. Scale and Offset turn the
	// files' values into reflectance (what the files' metadata, or their producer, says).
	Bands         map[string]string
	Scale, Offset float64
	// Labels holds, per pixel (row-major), 0 or the ID of the object covering at least half
	// of it; Ignore marks pixels no score depends on: object borders covered by less than
	// half, cars, the shadows of changed buildings.
	Labels  []int32
	Ignore  []bool
	Objects []Object
	// AreaKm2 is the ground area of the scene.
	AreaKm2 float64
}

// Object is one truth object.
type Object struct {
	ID    int32
	Kind  string // KindChange, KindHotspot, KindWaterPlume
	Class string // new_structure, vegetation_loss, burn, earthwork, water_change, demolition; hotspot status
	Note  string // e.g. "blue steel roof 42×30 m"
}

// Generate returns the set for cfg, generating it into dir/<key> unless a set of the same
// version and configuration is already there.
func Generate(dir string, cfg Config) (*Set, error) {
	cfg = cfg.withDefaults()
	key := fmt.Sprintf("evalgen-v%d-seed%d-s2px%d", version, cfg.Seed, cfg.S2Size)
	final := filepath.Join(dir, key)
	if set, err := load(final); err == nil {
		return set, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evalgen: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, key+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("evalgen: %w", err)
	}
	defer os.RemoveAll(tmp)
	specs := plan(cfg)
	cases := make([]*Case, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cases[i], errs[i] = s.make(tmp)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	f, err := os.Create(filepath.Join(tmp, "set.gob"))
	if err != nil {
		return nil, fmt.Errorf("evalgen: %w", err)
	}
	if err := gob.NewEncoder(f).Encode(cases); err != nil {
		f.Close()
		return nil, fmt.Errorf("evalgen: encode truth: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("evalgen: %w", err)
	}
	os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("evalgen: %w", err)
	}
	return load(final)
}

// load reads a generated set's truth and turns its file names into paths.
func load(dir string) (*Set, error) {
	f, err := os.Open(filepath.Join(dir, "set.gob"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []*Case
	if err := gob.NewDecoder(f).Decode(&cases); err != nil {
		return nil, fmt.Errorf("evalgen: %s: %w", f.Name(), err)
	}
	for _, c := range cases {
		for i := range c.Before {
			c.Before[i] = filepath.Join(dir, c.Before[i])
		}
		for i := range c.After {
			c.After[i] = filepath.Join(dir, c.After[i])
		}
	}
	return &Set{Dir: dir, Cases: cases}, nil
}

// spec is one case to make.
type spec interface {
	make(dir string) (*Case, error)
}

// plan lists the cases of the set.
func plan(cfg Config) []spec {
	n := cfg.S2Size
	s := cfg.Seed * 1000
	return []spec{
		s2Spec{name: "s2-l2a-clouds", seed: s + 1, size: n, enc: encL2AOffset, clouds: true, shift: [2]float64{0.3, -0.2}, gain: 1.04, offset: 0.008},
		s2Spec{name: "s2-6band-haze", seed: s + 2, size: n, enc: encSixBand, haze: true, shift: [2]float64{-0.4, 0.25}, gain: 0.93, offset: 0.012},
		s2Spec{name: "s2-float-clouds-before", seed: s + 3, size: n, enc: encFloat, cloudsBefore: true, shift: [2]float64{0.2, 0.35}, gain: 1.07, offset: -0.006},
		s2Spec{name: "s2-pre0400-scl", seed: s + 4, size: n, enc: encPre0400, clouds: true, haze: true, shift: [2]float64{-0.25, -0.3}, gain: 0.96, offset: 0.004},
		s2Spec{name: "s2-control-gain-offset", seed: s + 5, size: n, enc: encL2AOffset, control: ControlGainOffset, gain: 1.09, offset: 0.012},
		s2Spec{name: "s2-control-seasonal", seed: s + 6, size: n, enc: encSixBand, control: ControlSeasonal, gain: 1.0},
		droneSpec{name: "drone-03cm", seed: s + 11, gsd: 0.03, size: 1600, shift: [2]float64{1.2, -0.7}, gain: 1.12},
		droneSpec{name: "drone-10cm", seed: s + 12, gsd: 0.10, size: 1200, shift: [2]float64{-0.8, 0.6}, gain: 0.88},
		droneSpec{name: "drone-25cm", seed: s + 13, gsd: 0.25, size: 800, shift: [2]float64{0.6, 0.5}, gain: 1.08},
		droneSpec{name: "drone-50cm", seed: s + 14, gsd: 0.50, size: 600, shift: [2]float64{-0.5, -0.5}, gain: 0.92},
		droneSpec{name: "drone-control-gain-offset", seed: s + 15, gsd: 0.10, size: 1000, control: true, gain: 1.15},
	}
}
