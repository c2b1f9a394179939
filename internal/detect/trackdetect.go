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
	// Limits gives each pollutant's limit in its canonical unit (see CanonicalUnit);
	// readings above it are exceedances.
	Limits map[string]float64 `yaml:"limits"`
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
	// MaxDistance is how far from the peak reading a parcel may be; default 1000 m.
	MaxDistance float64 `yaml:"max_distance_m"`
	// Sector is the full angular width, centred on the direction the wind (or the water)
	// comes from, in which a parcel counts as upwind (upstream); default 60°.
	Sector float64 `yaml:"sector_deg"`
	// MinWind is the wind speed below which the air is calm and the nearest parcels within
	// CalmDistance are named instead; default 0.5 m/s.
	MinWind float64 `yaml:"min_wind_ms"`
	// CalmDistance: see MinWind; default 300 m. For water without FlowFrom, parcels within
	// CalmDistance of the peak are named, nearest first.
	CalmDistance float64 `yaml:"calm_distance_m"`
	// FlowFrom is the direction (degrees) the water comes from; when set, water findings
	// name parcels upstream within MaxDistance like air findings name parcels upwind.
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
	if p.Sector == 0 {
		p.Sector = 60
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
	names := make([]string, 0, len(p.Limits))
	for k := range p.Limits {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := positive("limits."+k, p.Limits[k]); err != nil {
			return err
		}
	}
	if !(p.Sector > 0 && p.Sector <= 360) {
		return &ParamError{"sector_deg", "must be in (0,360]"}
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
	)
}

func (p TrackParams) record() map[string]float64 {
	m := map[string]float64{
		"background_window_s": p.BackgroundWindow.Seconds(), "z_threshold": p.ZThreshold,
		"max_gap_s": p.MaxGap.Seconds(), "cluster_distance_m": p.ClusterDistance,
		"cluster_time_s": p.ClusterTime.Seconds(), "cluster_min_points": float64(p.ClusterMinPoints),
		"max_distance_m": p.MaxDistance, "sector_deg": p.Sector, "min_wind_ms": p.MinWind,
		"calm_distance_m": p.CalmDistance,
	}
	for k, v := range p.Limits {
		m["limit_"+k] = v
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

// DetectTrack finds exceedances and hotspots along a validated track and attributes them
// to parcels (geometries in lon/lat):
//   - exceedances: readings above the pollutant's limit, consecutive ones (no more than
//     MaxGap apart) joined into one event, geometry the points' line (a point if one);
//   - hotspots: readings more than ZThreshold robust standard deviations above the rolling
//     median of a BackgroundWindow-wide window, clustered in space and time (ClusterDistance,
//     ClusterTime, at least ClusterMinPoints), geometry the cluster's points;
//   - attribution (air): with wind of at least MinWind, averaged over the event, parcels
//     within MaxDistance of the peak reading whose direction from it lies within Sector/2 of
//     the direction the wind comes from, best aligned and nearest first; in calm air the
//     parcels within CalmDistance, nearest first. Water: parcels within CalmDistance of the
//     peak, nearest first, or with FlowFrom set those upstream within MaxDistance.
//
// Every match records its reason as text. A track too short for a background still yields
// its exceedances.
func DetectTrack(t *Track, p TrackParams, parcels []Parcel) ([]Finding, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	if t == nil || len(t.Points) == 0 {
		return nil, nil
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
	var out []Finding
	for _, pol := range t.sortedPollutants() {
		idx, vals := t.series(pol)
		if len(idx) == 0 {
			continue
		}
		med, scale := rollingBackground(t, idx, vals, p.BackgroundWindow)
		if limit, ok := p.Limits[pol]; ok {
			for _, ev := range exceedanceEvents(t, idx, vals, limit, p.MaxGap) {
				f := trackFinding(t, xy, ev, vals, idx, med, scale, pol, params)
				f.Kind = KindExceedance
				f.Class = ClassAirExceedance
				if p.Medium == MediumWater {
					f.Class = ClassWaterExceed
				}
				f.Measures["limit"] = limit
				f.Score = clamp01(0.5 + 0.5*(f.Measures["peak"]/limit-1))
				f.Parcels = attributeTrack(t, xy, idx, vals, ev, local, p)
				out = append(out, f)
			}
		}
		for _, cl := range anomalyClusters(t, xy, idx, vals, med, scale, p) {
			f := trackFinding(t, xy, cl, vals, idx, med, scale, pol, params)
			f.Kind = KindHotspot
			f.Class = ClassAirHotspot
			if p.Medium == MediumWater {
				f.Class = ClassWaterHotspot
			}
			f.Score = clamp01(1 - p.ZThreshold/math.Max(f.Measures["peak_z"], p.ZThreshold))
			f.Parcels = attributeTrack(t, xy, idx, vals, cl, local, p)
			out = append(out, f)
		}
	}
	return out, nil
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
		if vals[k] <= limit {
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

// trackFinding builds the common part of a track finding for readings ks (positions into idx).
func trackFinding(t *Track, xy []orb.Point, ks []int, vals []float64, idx []int, med, scale []float64, pol string, params map[string]float64) Finding {
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

// bearing is the compass direction from a to b in degrees.
func bearing(a, b orb.Point) float64 {
	return math.Mod(math.Atan2(b[0]-a[0], b[1]-a[1])*180/math.Pi+360, 360)
}

func angleDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 360)
	if d > 180 {
		d = 360 - d
	}
	return d
}

// sectorOffset is the least angle between the direction dir and the directions from p to
// the parcel's vertices, its centroid and its nearest boundary point; 0 when p is inside.
func sectorOffset(p orb.Point, g orb.Geometry, dir float64) float64 {
	best := 180.0
	for _, poly := range polygons(g) {
		var cx, cy float64
		n := 0
		for _, q := range poly[0] {
			best = math.Min(best, angleDiff(bearing(p, q), dir))
			cx += q[0]
			cy += q[1]
			n++
		}
		if n > 0 {
			best = math.Min(best, angleDiff(bearing(p, orb.Point{cx / float64(n), cy / float64(n)}), dir))
		}
	}
	return best
}

// attributeTrack names the parcels a track finding comes from, best first. ks are
// positions into the pollutant series idx/vals.
func attributeTrack(t *Track, xy []orb.Point, idx []int, vals []float64, ks []int, parcels []Parcel, p TrackParams) []ParcelMatch {
	if len(parcels) == 0 {
		return nil
	}
	peak := ks[0]
	for _, k := range ks {
		if vals[k] > vals[peak] {
			peak = k
		}
	}
	at := xy[idx[peak]]
	type cand struct {
		m    ParcelMatch
		rank float64
	}
	var cands []cand
	speed, from, hasWind := meanWind(t, idx, ks)
	directional := false
	var dir float64
	var what string
	switch {
	case p.Medium == MediumAir && hasWind && speed >= p.MinWind:
		directional, dir = true, from
		what = fmt.Sprintf("the wind comes from %.0f° (%.1f m/s)", from, speed)
	case p.Medium == MediumWater && p.FlowFrom != nil:
		directional, dir = true, *p.FlowFrom
		what = fmt.Sprintf("the water comes from %.0f°", dir)
	}
	half := p.Sector / 2
	for _, pc := range parcels {
		if pc.Geometry == nil {
			continue
		}
		d := pointGeometryDistance(at, pc.Geometry)
		if directional {
			if d > p.MaxDistance {
				continue
			}
			off := 0.0
			if d > 0 {
				off = sectorOffset(at, pc.Geometry, dir)
			}
			if off > half {
				continue
			}
			side := "upwind"
			if p.Medium == MediumWater {
				side = "upstream"
			}
			reason := fmt.Sprintf("%s: the parcel lies %.0f m from the peak reading, %.0f° off the direction %s, within the %.0f° sector and %.0f m", side, d, off, what, p.Sector, p.MaxDistance)
			if d == 0 {
				reason = fmt.Sprintf("the peak reading lies inside the parcel; %s", what)
			}
			cands = append(cands, cand{ParcelMatch{pc.ID, d, reason}, d/p.MaxDistance + off/half})
			continue
		}
		if d > p.CalmDistance {
			continue
		}
		var reason string
		switch {
		case p.Medium == MediumWater:
			reason = fmt.Sprintf("nearby: the parcel lies %.0f m from the peak reading, within %.0f m", d, p.CalmDistance)
		case hasWind:
			reason = fmt.Sprintf("calm air (%.1f m/s): the parcel lies %.0f m from the peak reading, within %.0f m", speed, d, p.CalmDistance)
		default:
			reason = fmt.Sprintf("no wind data: the parcel lies %.0f m from the peak reading, within %.0f m", d, p.CalmDistance)
		}
		cands = append(cands, cand{ParcelMatch{pc.ID, d, reason}, d})
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].rank < cands[j].rank })
	out := make([]ParcelMatch, len(cands))
	for i, c := range cands {
		out[i] = c.m
	}
	return out
}
