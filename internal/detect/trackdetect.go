package detect

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/paulmach/orb"
)

// Track media.
const (
	MediumAir   = "air"
	MediumWater = "water"
)

// TrackParams configures DetectTrack. Zero values take the defaults given.
type TrackParams struct {
	// Medium is MediumAir (vehicles: upwind attribution) or MediumWater (boats: nearby or
	// upstream attribution). Required.
	Medium string `yaml:"medium"`
	// Limits gives each pollutant's limit, in LimitUnits[pollutant] when given, else in the
	// pollutant's canonical unit (see CanonicalUnit); readings (or their means over
	// LimitWindows[pollutant]) above it are exceedances.
	Limits map[string]float64 `yaml:"limits"`
	// LimitUnits gives the unit of a limit (e.g. "ug/m3", "mg/L"); a track whose readings of
	// the pollutant convert to another canonical unit (ppb of a gas of unknown molar mass
	// against a µg/m³ limit) is refused rather than compared.
	LimitUnits map[string]string `yaml:"limit_units"`
	// LimitWindows gives the averaging time of a limit, as its standard defines it (1h for
	// the one-hour values of GB 3095-2012): the limit applies to the mean of the readings in
	// the window ending at each reading, assessed only where the readings cover at least
	// 75% of the window (the standard's validity rule for an hourly mean: 45 minutes). A
	// limit without a window applies to single readings.
	LimitWindows map[string]time.Duration `yaml:"limit_windows"`
	// BackgroundWindow is the width of the centred time window of the rolling median and
	// MAD background; default 10m.
	BackgroundWindow time.Duration `yaml:"background_window"`
	// ZThreshold: a reading is anomalous (hotspot candidate) this many robust standard
	// deviations above its rolling background; default 4.
	ZThreshold float64 `yaml:"z_threshold"`
	// MaxGap joins exceeding readings no further apart in time into one event; default 2m.
	MaxGap time.Duration `yaml:"max_gap"`
	// ClusterDistance and ClusterTime are the space-time neighbourhood of the hotspot
	// clustering; defaults 200 m and 15m.
	ClusterDistance float64       `yaml:"cluster_distance_m"`
	ClusterTime     time.Duration `yaml:"cluster_time"`
	// ClusterMinPoints is the least number of anomalous readings in a hotspot; default 3.
	ClusterMinPoints int `yaml:"cluster_min_points"`
	// MaxDistance is how far from an event a parcel may be to explain it; default 1000 m.
	MaxDistance float64 `yaml:"max_distance_m"`
	// PlumeStability is the Pasquill-Gifford stability class (A–F) whose Briggs open-country
	// crosswind spread σ_y(x) the plume model uses; default D (neutral).
	PlumeStability string `yaml:"plume_stability"`
	// WindDirSD is the uncertainty of the mean wind (or flow) direction over an event, in
	// degrees; it widens the plume by x·tan(WindDirSD). Default 10.
	WindDirSD float64 `yaml:"wind_dir_sd_deg"`
	// PositionSD is the uncertainty of positions (GPS, where in a parcel the source is), in
	// metres; default 10.
	PositionSD float64 `yaml:"position_sd_m"`
	// WidthLogSD is the standard deviation of the log ratio between the crosswind width of
	// an event's plume and the width σ_y(x) predicts for a source x metres upwind; it weighs
	// candidates by how well their distance matches the plume's width. Default 0.3.
	WidthLogSD float64 `yaml:"width_log_sd"`
	// MinShare is the least share of an event's explanation for which a parcel is named
	// among its candidates; default 0.02.
	MinShare float64 `yaml:"min_share"`
	// MinWind is the wind speed below which the air is calm and the nearest parcels within
	// CalmDistance are named instead; default 0.5 m/s.
	MinWind float64 `yaml:"min_wind_ms"`
	// CalmDistance: in calm air, without wind data, and for water without FlowFrom,
	// parcels within CalmDistance of an event are its candidates, weighted by a Gaussian of
	// their distance with σ = CalmDistance/2; default 300 m.
	CalmDistance float64 `yaml:"calm_distance_m"`
	// FlowFrom is the direction (degrees) the water comes from; when set, water events are
	// explained by parcels upstream under the plume model as air events by parcels upwind.
	FlowFrom *float64 `yaml:"flow_from_deg"`
}

func (p TrackParams) withDefaults() TrackParams {
	if p.BackgroundWindow == 0 {
		p.BackgroundWindow = 10 * time.Minute
	}
	if p.ZThreshold == 0 {
		p.ZThreshold = 4
	}
	if p.MaxGap == 0 {
		p.MaxGap = 2 * time.Minute
	}
	if p.ClusterDistance == 0 {
		p.ClusterDistance = 200
	}
	if p.ClusterTime == 0 {
		p.ClusterTime = 15 * time.Minute
	}
	if p.ClusterMinPoints == 0 {
		p.ClusterMinPoints = 3
	}
	if p.MaxDistance == 0 {
		p.MaxDistance = 1000
	}
	if p.PlumeStability == "" {
		p.PlumeStability = "D"
	}
	if p.WindDirSD == 0 {
		p.WindDirSD = 10
	}
	if p.PositionSD == 0 {
		p.PositionSD = 10
	}
	if p.MinShare == 0 {
		p.MinShare = 0.02
	}
	if p.WidthLogSD == 0 {
		p.WidthLogSD = 0.3
	}
	if p.MinWind == 0 {
		p.MinWind = 0.5
	}
	if p.CalmDistance == 0 {
		p.CalmDistance = 300
	}
	return p
}

// Validate checks the parameters after defaults are applied.
func (p TrackParams) Validate() error {
	p = p.withDefaults()
	if p.Medium != MediumAir && p.Medium != MediumWater {
		return &ParamError{"medium", fmt.Sprintf("must be %q or %q", MediumAir, MediumWater)}
	}
	for _, k := range sortedKeys(p.Limits) {
		if err := positive("limits."+k, p.Limits[k]); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(p.LimitUnits) {
		if _, ok := p.Limits[k]; !ok {
			return &ParamError{"limit_units." + k, "no limit for " + k}
		}
		if _, _, err := CanonicalUnit(k, p.LimitUnits[k]); err != nil {
			return &ParamError{"limit_units." + k, err.Error()}
		}
	}
	for _, k := range sortedKeys(p.LimitWindows) {
		if _, ok := p.Limits[k]; !ok {
			return &ParamError{"limit_windows." + k, "no limit for " + k}
		}
		if err := positive("limit_windows."+k, p.LimitWindows[k].Seconds()); err != nil {
			return err
		}
	}
	if _, ok := briggsSigmaY[p.PlumeStability]; !ok {
		return &ParamError{"plume_stability", "must be one of A, B, C, D, E, F"}
	}
	if !(p.WindDirSD > 0 && p.WindDirSD < 90) {
		return &ParamError{"wind_dir_sd_deg", "must be in (0,90)"}
	}
	if !(p.MinShare > 0 && p.MinShare < 1) {
		return &ParamError{"min_share", "must be in (0,1)"}
	}
	if p.FlowFrom != nil && (*p.FlowFrom < 0 || *p.FlowFrom > 360) {
		return &ParamError{"flow_from_deg", "must be in [0,360]"}
	}
	return firstErr(
		positive("background_window", p.BackgroundWindow.Seconds()),
		positive("z_threshold", p.ZThreshold),
		positive("max_gap", p.MaxGap.Seconds()),
		positive("cluster_distance_m", p.ClusterDistance),
		positive("cluster_time", p.ClusterTime.Seconds()),
		atLeast("cluster_min_points", p.ClusterMinPoints, 1),
		positive("max_distance_m", p.MaxDistance),
		nonNegative("min_wind_ms", p.MinWind),
		positive("calm_distance_m", p.CalmDistance),
		positive("position_sd_m", p.PositionSD),
		positive("width_log_sd", p.WidthLogSD),
	)
}

func (p TrackParams) record() map[string]float64 {
	m := map[string]float64{
		"background_window_s": p.BackgroundWindow.Seconds(), "z_threshold": p.ZThreshold,
		"max_gap_s": p.MaxGap.Seconds(), "cluster_distance_m": p.ClusterDistance,
		"cluster_time_s": p.ClusterTime.Seconds(), "cluster_min_points": float64(p.ClusterMinPoints),
		"max_distance_m": p.MaxDistance, "min_wind_ms": p.MinWind, "calm_distance_m": p.CalmDistance,
		"wind_dir_sd_deg": p.WindDirSD, "position_sd_m": p.PositionSD, "min_share": p.MinShare, "width_log_sd": p.WidthLogSD,
		"plume_sigma_y_a": briggsSigmaY[p.PlumeStability],
	}
	for k, v := range p.Limits {
		m["limit_"+k] = v
	}
	for k, v := range p.LimitWindows {
		m["limit_window_s_"+k] = v.Seconds()
	}
	if p.FlowFrom != nil {
		m["flow_from_deg"] = *p.FlowFrom
	}
	return m
}

// localFrame projects lon/lat to metres east and north of an origin (equirectangular, good
// to well under 1% over the tens of kilometres of a survey).
type localFrame struct{ lon0, lat0, kx, ky float64 }

func newLocalFrame(pts []TrackPoint) localFrame {
	var lon, lat float64
	for _, p := range pts {
		lon += p.Lon
		lat += p.Lat
	}
	n := float64(len(pts))
	f := localFrame{lon0: lon / n, lat0: lat / n}
	const r = 6371008.8
	f.ky = r * math.Pi / 180
	f.kx = f.ky * math.Cos(f.lat0*math.Pi/180)
	return f
}

func (f localFrame) xy(p orb.Point) orb.Point {
	return orb.Point{(p[0] - f.lon0) * f.kx, (p[1] - f.lat0) * f.ky}
}

func (f localFrame) geometry(g orb.Geometry) orb.Geometry {
	var out orb.MultiPolygon
	for _, poly := range polygons(g) {
		np := make(orb.Polygon, len(poly))
		for i, r := range poly {
			nr := make(orb.Ring, len(r))
			for j, p := range r {
				nr[j] = f.xy(p)
			}
			np[i] = nr
		}
		out = append(out, np)
	}
	return out
}

// DetectTrack finds exceedances and hotspots along a validated track and explains each by
// the parcels (geometries in lon/lat) most likely to have caused it:
//   - exceedances: readings (or, with a LimitWindows entry, their means over the window)
//     above the pollutant's limit, consecutive ones (no more than MaxGap apart) joined into
//     one event, geometry the points' line (a point if one);
//   - hotspots: readings more than ZThreshold robust standard deviations above the rolling
//     median of a BackgroundWindow-wide window, clustered in space and time (ClusterDistance,
//     ClusterTime, at least ClusterMinPoints), geometry the cluster's points;
//   - one finding per event: a hotspot cluster or another pollutant's exceedance that
//     overlaps an exceedance in time (within MaxGap) is the same event, recorded in the
//     exceedance's measures (the pollutant that exceeds its limit most gives the finding);
//   - candidates (Finding.Parcels, ranked): with wind of at least MinWind averaged over the
//     event (air), or FlowFrom (water), a Gaussian plume model: a parcel explains the event
//     as far as the event lies within the plume spread of the wind line through the parcel;
//     in calm air, without wind data, and for water without FlowFrom, the distance. See
//     rankCandidates. The finding's score is its detection score times the top candidate's
//     share of the explanation, so that an event several parcels explain alike scores low.
//
// A track too short for a background still yields its exceedances.
func DetectTrack(t *Track, p TrackParams, parcels []Parcel) ([]Finding, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	if t == nil || len(t.Points) == 0 {
		return nil, nil
	}
	limits, err := p.canonicalLimits(t)
	if err != nil {
		return nil, err
	}
	frame := newLocalFrame(t.Points)
	xy := make([]orb.Point, len(t.Points))
	for i, pt := range t.Points {
		xy[i] = frame.xy(orb.Point{pt.Lon, pt.Lat})
	}
	local := make([]Parcel, len(parcels))
	for i, pc := range parcels {
		local[i] = Parcel{ID: pc.ID, Geometry: frame.geometry(pc.Geometry)}
	}
	params := p.record()
	var exc, hot []Finding
	for _, pol := range t.sortedPollutants() {
		idx, vals := t.series(pol)
		if len(idx) == 0 {
			continue
		}
		med, scale := rollingBackground(t, idx, vals, p.BackgroundWindow)
		s := &trackSeries{t: t, xy: xy, pol: pol, idx: idx, vals: vals, med: med, scale: scale}
		if limit, ok := limits[pol]; ok {
			assessed := vals
			window := p.LimitWindows[pol]
			if window > 0 {
				assessed = windowMeans(t, idx, vals, window)
			}
			for _, ev := range exceedanceEvents(t, idx, assessed, limit, p.MaxGap) {
				f := s.finding(ev, params)
				f.Kind = KindExceedance
				f.Class = ClassAirExceedance
				if p.Medium == MediumWater {
					f.Class = ClassWaterExceed
				}
				f.Measures["limit"] = limit
				if window > 0 {
					f.Measures["limit_window_s"] = window.Seconds()
					f.Measures["peak_reading"] = f.Measures["peak"]
					f.Measures["peak"] = maxAt(assessed, ev)
				}
				f.Score = clamp01(0.5 + 0.5*(f.Measures["peak"]/limit-1))
				s.explain(&f, ev, local, p)
				exc = append(exc, f)
			}
		}
		for _, cl := range anomalyClusters(t, xy, idx, vals, med, scale, p) {
			f := s.finding(cl, params)
			f.Kind = KindHotspot
			f.Class = ClassAirHotspot
			if p.Medium == MediumWater {
				f.Class = ClassWaterHotspot
			}
			f.Score = clamp01(1 - p.ZThreshold/math.Max(f.Measures["peak_z"], p.ZThreshold))
			s.explain(&f, cl, local, p)
			hot = append(hot, f)
		}
	}
	return mergeEvents(exc, hot, p.MaxGap), nil
}

// canonicalLimits converts the limits to the canonical units of the track's readings,
// refusing a limit whose unit measures something else than the readings.
func (p TrackParams) canonicalLimits(t *Track) (map[string]float64, error) {
	out := make(map[string]float64, len(p.Limits))
	for pol, v := range p.Limits {
		u, ok := p.LimitUnits[pol]
		if !ok {
			out[pol] = v
			continue
		}
		canon, f, err := CanonicalUnit(pol, u)
		if err != nil {
			return nil, &ParamError{"limit_units." + pol, err.Error()}
		}
		if have, ok := t.Units[pol]; ok && have != canon {
			return nil, &ParamError{"limit_units." + pol, fmt.Sprintf("the limit is in %s (%s) but the track's %s readings are in %s: give the reading's molar_mass, or a limit in %s", u, canon, pol, have, have)}
		}
		out[pol] = v * f
	}
	return out, nil
}

// mergeEvents makes one finding per event: an exceedance absorbs the hotspots and the
// other pollutants' exceedances that overlap it in time (within gap); the pollutant that
// exceeds its limit most gives the finding, the others are recorded in its measures as
// "<pollutant>_peak", "<pollutant>_limit" and "<pollutant>_peak_z". Findings are returned
// by start time.
func mergeEvents(exc, hot []Finding, gap time.Duration) []Finding {
	overlaps := func(a, b Finding) bool {
		return !a.End.Add(gap).Before(b.Start) && !b.End.Add(gap).Before(a.Start)
	}
	ratio := func(f Finding) float64 { return f.Measures["peak"] / f.Measures["limit"] }
	sort.SliceStable(exc, func(i, j int) bool { return ratio(exc[i]) > ratio(exc[j]) })
	var out []Finding
	for _, f := range exc {
		merged := false
		for i := range out {
			if overlaps(out[i], f) {
				absorb(&out[i], f)
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, f)
		}
	}
	n := len(out)
	for _, h := range hot {
		merged := false
		for i := range out[:n] {
			if overlaps(out[i], h) {
				absorb(&out[i], h)
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, h)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Pollutant < out[j].Pollutant
	})
	return out
}

// absorb records finding o, of the same event, in f's measures and widens f's time span.
func absorb(f *Finding, o Finding) {
	m := func(k string) {
		if v, ok := o.Measures[k]; ok {
			f.Measures[o.Pollutant+"_"+k] = v
		}
	}
	if o.Pollutant != f.Pollutant {
		m("peak")
		m("limit")
		m("peak_z")
	} else if z, ok := o.Measures["peak_z"]; ok {
		f.Measures["peak_z"] = math.Max(f.Measures["peak_z"], z)
	}
	if o.Start.Before(f.Start) {
		f.Start = o.Start
	}
	if o.End.After(f.End) {
		f.End = o.End
	}
}

func maxAt(vals []float64, ks []int) float64 {
	m := math.Inf(-1)
	for _, k := range ks {
		m = math.Max(m, vals[k])
	}
	return m
}

// windowCoverage is the share of a limit's averaging window the readings must span for the
// mean to be assessed (GB 3095-2012: 45 minutes of an hour).
const windowCoverage = 0.75

// windowMeans returns, per reading, the mean of the readings in the window ending at it;
// NaN where the readings in the window span less than windowCoverage of it.
func windowMeans(t *Track, idx []int, vals []float64, window time.Duration) []float64 {
	out := make([]float64, len(idx))
	lo, sum := 0, 0.0
	for k := range idx {
		tk := t.Points[idx[k]].Time
		sum += vals[k]
		for !t.Points[idx[lo]].Time.After(tk.Add(-window)) {
			sum -= vals[lo]
			lo++
		}
		span := tk.Sub(t.Points[idx[lo]].Time)
		if float64(span) < windowCoverage*float64(window) {
			out[k] = math.NaN()
			continue
		}
		out[k] = sum / float64(k-lo+1)
	}
	return out
}

// trackSeries is one pollutant's readings along a track, with their background.
type trackSeries struct {
	t                *Track
	xy               []orb.Point // every point of the track, local metres
	pol              string
	idx              []int // the points with a reading of pol
	vals, med, scale []float64
}

// origin is where an event was observed: the mean position of its readings in the upper
// half of its excess over the background (the least reading of the event where there is
// no background), weighted by that excess.
func (s *trackSeries) origin(ks []int) orb.Point {
	excess := make([]float64, len(ks))
	low := maxAt(s.vals, ks)
	for _, k := range ks {
		low = math.Min(low, s.vals[k])
	}
	top := 0.0
	for i, k := range ks {
		bg := s.med[k]
		if math.IsNaN(bg) {
			bg = low
		}
		excess[i] = math.Max(s.vals[k]-bg, 0)
		top = math.Max(top, excess[i])
	}
	var x, y, w float64
	for i, k := range ks {
		if excess[i] < top/2 {
			continue
		}
		p := s.xy[s.idx[k]]
		x += excess[i] * p[0]
		y += excess[i] * p[1]
		w += excess[i]
	}
	if w == 0 {
		return s.xy[s.idx[ks[0]]]
	}
	return orb.Point{x / w, y / w}
}

// width estimates the crosswind spread of the plume event ks crossed (crosswindWidth),
// from the readings within its time span widened by its duration on each side.
func (s *trackSeries) width(ks []int, o orb.Point, from float64) float64 {
	t0, t1 := s.t.Points[s.idx[ks[0]]].Time, s.t.Points[s.idx[ks[len(ks)-1]]].Time
	d := t1.Sub(t0)
	var pts []orb.Point
	var excess []float64
	for k, i := range s.idx {
		tk := s.t.Points[i].Time
		if tk.Before(t0.Add(-d)) || tk.After(t1.Add(d)) || math.IsNaN(s.med[k]) {
			continue
		}
		pts = append(pts, s.xy[i])
		excess = append(excess, math.Max(s.vals[k]-s.med[k], 0))
	}
	return crosswindWidth(pts, excess, o, newWindFrame(from))
}

// explain ranks the parcels that may have caused the event ks, records them in f.Parcels
// and scales f's score by the top candidate's share.
func (s *trackSeries) explain(f *Finding, ks []int, parcels []Parcel, p TrackParams) {
	if len(parcels) == 0 {
		return
	}
	speed, from, hasWind := meanWind(s.t, s.idx, ks)
	directional := false
	var what string
	switch {
	case p.Medium == MediumAir && hasWind && speed >= p.MinWind:
		directional = true
		what = fmt.Sprintf("the wind comes from %.0f° (%.1f m/s)", from, speed)
	case p.Medium == MediumWater && p.FlowFrom != nil:
		directional, from = true, *p.FlowFrom
		what = fmt.Sprintf("the water comes from %.0f°", from)
	case p.Medium == MediumWater:
		what = "no flow direction"
	case hasWind:
		what = fmt.Sprintf("calm air (%.1f m/s)", speed)
	default:
		what = "no wind data"
	}
	o := s.origin(ks)
	width := 0.0
	if directional {
		width = s.width(ks, o, from)
		if width > 0 {
			f.Measures["plume_width_m"] = width
		}
	}
	cands, other := rankCandidates(o, width, parcels, directional, from, what, p)
	f.Parcels = cands
	f.Measures["detection_score"] = f.Score
	f.Measures["other_source_share"] = other
	if len(cands) > 0 {
		f.Measures["attribution_share"] = cands[0].Share
		f.Score *= cands[0].Share
	}
	if directional {
		f.Measures["wind_from_deg"] = from
		if p.Medium == MediumAir {
			f.Measures["wind_speed_ms"] = speed
		}
	}
}

// series returns the indexes of points with a reading of pol, and the readings.
func (t *Track) series(pol string) ([]int, []float64) {
	var idx []int
	var vals []float64
	for i, pt := range t.Points {
		if v, ok := pt.Readings.Get(pol); ok {
			idx = append(idx, i)
			vals = append(vals, v)
		}
	}
	return idx, vals
}

// rollingBackground returns, per reading, the median and robust standard deviation of
// the readings within ±window/2; NaN where fewer than 5 readings fall in the window.
func rollingBackground(t *Track, idx []int, vals []float64, window time.Duration) (med, scale []float64) {
	n := len(idx)
	med, scale = make([]float64, n), make([]float64, n)
	half := window / 2
	lo, hi := 0, 0
	buf := make([]float64, 0, 64)
	for k := 0; k < n; k++ {
		tk := t.Points[idx[k]].Time
		for t.Points[idx[lo]].Time.Before(tk.Add(-half)) {
			lo++
		}
		for hi < n && !t.Points[idx[hi]].Time.After(tk.Add(half)) {
			hi++
		}
		if hi-lo < 5 {
			med[k], scale[k] = math.NaN(), math.NaN()
			continue
		}
		buf = append(buf[:0], vals[lo:hi]...)
		m, mad := medianMAD(buf)
		med[k] = m
		// Floor the spread so a perfectly flat signal does not make every wiggle anomalous.
		scale[k] = math.Max(madScale*mad, 0.01*math.Abs(m)+1e-9)
	}
	return med, scale
}

// exceedanceEvents groups readings above limit into events (positions into idx).
func exceedanceEvents(t *Track, idx []int, vals []float64, limit float64, gap time.Duration) [][]int {
	var out [][]int
	var cur []int
	for k := range idx {
		if !(vals[k] > limit) { // NaN: not assessed
			continue
		}
		if len(cur) > 0 && t.Points[idx[k]].Time.Sub(t.Points[idx[cur[len(cur)-1]]].Time) > gap {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, k)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// anomalyClusters clusters anomalous readings in space and time (single linkage).
func anomalyClusters(t *Track, xy []orb.Point, idx []int, vals, med, scale []float64, p TrackParams) [][]int {
	var cand []int
	for k := range idx {
		if !math.IsNaN(med[k]) && (vals[k]-med[k])/scale[k] > p.ZThreshold {
			cand = append(cand, k)
		}
	}
	label := make([]int, len(cand))
	for i := range label {
		label[i] = -1
	}
	var out [][]int
	for i := range cand {
		if label[i] >= 0 {
			continue
		}
		label[i] = len(out)
		members := []int{i}
		for q := 0; q < len(members); q++ {
			a := cand[members[q]]
			for j := range cand {
				if label[j] >= 0 {
					continue
				}
				b := cand[j]
				pa, pb := t.Points[idx[a]], t.Points[idx[b]]
				dt := pa.Time.Sub(pb.Time)
				if dt < 0 {
					dt = -dt
				}
				if dt <= p.ClusterTime && dist(xy[idx[a]], xy[idx[b]]) <= p.ClusterDistance {
					label[j] = label[i]
					members = append(members, j)
				}
			}
		}
		if len(members) >= p.ClusterMinPoints {
			cl := make([]int, len(members))
			for m, j := range members {
				cl[m] = cand[j]
			}
			sort.Ints(cl)
			out = append(out, cl)
		}
	}
	return out
}

func dist(a, b orb.Point) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }

// finding builds the common part of a track finding for readings ks (positions into idx).
func (s *trackSeries) finding(ks []int, params map[string]float64) Finding {
	t, idx, vals, med, scale, pol := s.t, s.idx, s.vals, s.med, s.scale, s.pol
	peak := ks[0]
	for _, k := range ks {
		if vals[k] > vals[peak] {
			peak = k
		}
	}
	f := Finding{Detector: "track", Pollutant: pol, Unit: t.Units[pol], Params: params,
		Start: t.Points[idx[ks[0]]].Time, End: t.Points[idx[ks[len(ks)-1]]].Time,
		Measures: map[string]float64{"peak": vals[peak], "points": float64(len(ks)),
			"peak_lon": t.Points[idx[peak]].Lon, "peak_lat": t.Points[idx[peak]].Lat,
			"peak_line": float64(t.Points[idx[peak]].Line)}}
	if !math.IsNaN(med[peak]) {
		f.Measures["background"] = med[peak]
		f.Measures["peak_z"] = (vals[peak] - med[peak]) / scale[peak]
	}
	if len(ks) == 1 {
		p := t.Points[idx[ks[0]]]
		f.Geometry = orb.Point{p.Lon, p.Lat}
	} else {
		ls := make(orb.LineString, len(ks))
		for i, k := range ks {
			p := t.Points[idx[k]]
			ls[i] = orb.Point{p.Lon, p.Lat}
		}
		f.Geometry = ls
	}
	return f
}

// meanWind vector-averages the wind over the readings; ok is false without wind data.
func meanWind(t *Track, idx []int, ks []int) (speed, from float64, ok bool) {
	var u, v float64
	n := 0
	for _, k := range ks {
		p := t.Points[idx[k]]
		if math.IsNaN(p.WindSpeed) || math.IsNaN(p.WindDir) {
			continue
		}
		a := p.WindDir * math.Pi / 180
		u += p.WindSpeed * math.Sin(a)
		v += p.WindSpeed * math.Cos(a)
		n++
	}
	if n == 0 {
		return 0, 0, false
	}
	u, v = u/float64(n), v/float64(n)
	from = math.Mod(math.Atan2(u, v)*180/math.Pi+360, 360)
	return math.Hypot(u, v), from, true
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
