package enforce

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// SplitMix64 is the PRNG of the double-random draw: Steele, Lea and Flood's SplitMix64
// (OOPSLA 2014), as published in Vigna's reference C code. The state advances by the golden
// gamma 0x9E3779B97F4A7C15 and each output is the mix of the new state:
//
//	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//	return z ^ (z >> 31)
//
// Anyone with the published seed, the pool (sorted by USCC) and the configuration can repeat
// the draw with a few lines in any language.
type SplitMix64 struct{ state uint64 }

// NewSplitMix64 returns the generator seeded with seed.
func NewSplitMix64(seed uint64) *SplitMix64 { return &SplitMix64{state: seed} }

// Next returns the next 64-bit output.
func (s *SplitMix64) Next() uint64 {
	s.state += 0x9E3779B97F4A7C15
	z := s.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Intn returns a uniform integer in [0, n) by rejection sampling (no modulo bias): outputs at
// or above the largest multiple of n are drawn again.
func (s *SplitMix64) Intn(n int) int {
	if n <= 0 {
		panic("enforce: Intn of a non-positive n")
	}
	un := uint64(n)
	limit := math.MaxUint64 - math.MaxUint64%un
	for {
		if v := s.Next(); v < limit {
			return int(v % un)
		}
	}
}

// ParseSeed reads a published seed: 16 hexadecimal digits.
func ParseSeed(s string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("seed %q must be 16 hexadecimal digits", s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return 0, fmt.Errorf("seed %q must be 16 hexadecimal digits", s)
	}
	return strconv.ParseUint(s, 16, 64)
}

// FormatSeed writes a seed as 16 hexadecimal digits.
func FormatSeed(seed uint64) string { return fmt.Sprintf("%016x", seed) }

// Candidate is an enterprise of the double-random pool.
type Candidate struct {
	USCC               string `json:"uscc"`
	Listed             bool   `json:"listed"`
	SpecialSupervision bool   `json:"special_supervision"`
}

// Inspector is an inspector of the draw with the enterprises they must not inspect (the last
// inspector of an enterprise, declared conflicts of interest).
type Inspector struct {
	ID        string   `json:"id" openapi:"required"`
	Conflicts []string `json:"conflicts,omitempty"`
}

// Target is one drawn enterprise with its inspection mode and inspectors.
type Target struct {
	USCC       string   `json:"uscc"`
	Group      string   `json:"group"` // special, ordinary, listed
	Mode       string   `json:"mode"`
	Inspectors []string `json:"inspectors"`
}

// DrawResult is a draw's outcome with everything needed to repeat it.
type DrawResult struct {
	Algorithm string     `json:"algorithm"`
	Seed      string     `json:"seed"`
	Config    DrawConfig `json:"config"`
	PoolSize  int        `json:"pool_size"`
	Groups    []Group    `json:"groups"`
	Targets   []Target   `json:"targets"`
	// Pool and Inspectors are the inputs, sorted, with every conflict applied: Draw(Config,
	// seed, Pool, Inspectors) gives Targets again.
	Pool       []Candidate `json:"pool"`
	Inspectors []Inspector `json:"inspectors"`
}

// Group reports one stratum of the pool.
type Group struct {
	Name  string  `json:"name"`
	Size  int     `json:"size"`
	Ratio float64 `json:"ratio"`
	Drawn int     `json:"drawn"`
}

// DrawAlgorithm describes the procedure, published with each draw.
const DrawAlgorithm = "splitmix64/v1: pool sorted by USCC and split into special, ordinary, listed (in that order); " +
	"each stratum drawn by partial Fisher-Yates (for i in 0..k-1: j = i + Intn(n-i); swap) taking k = ceil(ratio*n); " +
	"then per target in draw order the inspectors without a conflict, sorted by id, shuffled by Fisher-Yates " +
	"(for i from n-1 down to 1: j = Intn(i+1); swap), stably sorted by assignments so far, the first m taken; " +
	"Intn(n) = next() mod n, redrawing outputs >= 2^64 - 2^64 mod n"

// Draw draws inspection targets from the pool and assigns inspectors, deterministically from
// seed. Listed enterprises are drawn at the lower listed ratio and inspected in the configured
// mode (off-site by default); special supervision targets at the special ratio.
func Draw(cfg DrawConfig, seed uint64, pool []Candidate, inspectors []Inspector) (*DrawResult, error) {
	rng := NewSplitMix64(seed)
	sorted := append([]Candidate(nil), pool...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].USCC < sorted[j].USCC })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].USCC == sorted[i-1].USCC {
			return nil, fmt.Errorf("pool lists %s twice", sorted[i].USCC)
		}
	}
	var special, ordinary, listed []Candidate
	for _, c := range sorted {
		switch {
		case c.SpecialSupervision:
			special = append(special, c)
		case c.Listed:
			listed = append(listed, c)
		default:
			ordinary = append(ordinary, c)
		}
	}
	res := &DrawResult{Algorithm: DrawAlgorithm, Seed: FormatSeed(seed), Config: cfg, PoolSize: len(sorted), Targets: []Target{}}
	for _, g := range []struct {
		name  string
		c     []Candidate
		ratio float64
		mode  string
	}{{"special", special, cfg.SpecialRatio, ModeSite}, {"ordinary", ordinary, cfg.UnlistedRatio, ModeSite}, {"listed", listed, cfg.ListedRatio, cfg.ListedMode}} {
		n := len(g.c)
		k := int(math.Ceil(g.ratio*float64(n) - 1e-9))
		if k > n {
			k = n
		}
		for i := 0; i < k; i++ {
			j := i + rng.Intn(n-i)
			g.c[i], g.c[j] = g.c[j], g.c[i]
			res.Targets = append(res.Targets, Target{USCC: g.c[i].USCC, Group: g.name, Mode: g.mode})
		}
		res.Groups = append(res.Groups, Group{Name: g.name, Size: n, Ratio: g.ratio, Drawn: k})
	}
	ins := append([]Inspector(nil), inspectors...)
	sort.Slice(ins, func(i, j int) bool { return ins[i].ID < ins[j].ID })
	res.Pool, res.Inspectors = append([]Candidate(nil), sorted...), ins
	load := map[string]int{}
	m := cfg.InspectorsPerTarget
	for ti := range res.Targets {
		t := &res.Targets[ti]
		var ok []string
		for _, in := range ins {
			conflict := false
			for _, c := range in.Conflicts {
				conflict = conflict || c == t.USCC
			}
			if !conflict {
				ok = append(ok, in.ID)
			}
		}
		if len(ok) < m {
			return nil, fmt.Errorf("target %s: %d inspectors without a conflict, %d needed", t.USCC, len(ok), m)
		}
		for i := len(ok) - 1; i > 0; i-- {
			j := rng.Intn(i + 1)
			ok[i], ok[j] = ok[j], ok[i]
		}
		sort.SliceStable(ok, func(i, j int) bool { return load[ok[i]] < load[ok[j]] })
		t.Inspectors = append([]string(nil), ok[:m]...)
		for _, id := range t.Inspectors {
			load[id]++
		}
	}
	return res, nil
}

// InputsSHA256 is the SHA-256 of the draw's inputs as stored (the pool with its groups and the
// inspectors with their conflicts, as JSON): published in their place, it lets whoever is
// later shown the inputs check that they are the ones the published result came from.
func (r *DrawResult) InputsSHA256() (string, error) {
	b, err := json.Marshal(struct {
		Pool       []Candidate `json:"pool"`
		Inspectors []Inspector `json:"inspectors"`
	}{r.Pool, r.Inspectors})
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// PublicDraw is what the public sees of a draw (双随机、一公开, 二.5): when it was drawn, by
// which procedure, seed and ratios, from how large a pool, and its result: each drawn
// enterprise by published name and USCC with its inspection mode and inspectors. Nothing
// internal: not the pool (whose groups tell every enterprise's special supervision, 四.10),
// not the inspectors' conflicts of interest, not who ran the draw; the targets are in USCC
// order, not draw order (which follows the groups). InputsSHA256 stands for the inputs.
type PublicDraw struct {
	ID           int64          `json:"id"`
	DrawnAt      time.Time      `json:"drawn_at"`
	Algorithm    string         `json:"algorithm"`
	Seed         string         `json:"seed"`
	Config       DrawConfig     `json:"config"`
	PoolSize     int            `json:"pool_size"`
	Targets      []PublicTarget `json:"targets"`
	InputsSHA256 string         `json:"inputs_sha256"`
}

// PublicTarget is a drawn enterprise as published.
type PublicTarget struct {
	USCC       string   `json:"uscc"`
	Name       string   `json:"name"`
	Mode       string   `json:"mode"`
	Inspectors []string `json:"inspectors"`
}

// Publish returns the public view of d; names gives the enterprises' published names by USCC.
func (d *StoredDraw) Publish(names map[string]string) (*PublicDraw, error) {
	sum, err := d.Result.InputsSHA256()
	if err != nil {
		return nil, err
	}
	p := &PublicDraw{ID: d.ID, DrawnAt: d.CreatedAt, Algorithm: d.Result.Algorithm, Seed: d.Result.Seed,
		Config: d.Result.Config, PoolSize: d.Result.PoolSize, Targets: []PublicTarget{}, InputsSHA256: sum}
	for _, t := range d.Result.Targets {
		p.Targets = append(p.Targets, PublicTarget{USCC: t.USCC, Name: names[t.USCC], Mode: t.Mode, Inspectors: t.Inspectors})
	}
	sort.Slice(p.Targets, func(i, j int) bool { return p.Targets[i].USCC < p.Targets[j].USCC })
	return p, nil
}
