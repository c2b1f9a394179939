package evalset

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/detect"
)

// TrackCase is one generated track with its parcels and true events.
type TrackCase struct {
	Name     string
	Pipeline string // "vehicle-track" or "boat-track"
	CSV      []byte // in the pipeline's column layout
	Parcels  []detect.Parcel
	Events   []TrackEvent
}

// TrackEvent is an injected emission: readings of Pollutant above its limit between Start
// and End, caused by parcel ParcelID.
type TrackEvent struct {
	Pollutant  string
	Start, End time.Time
	ParcelID   string
}

// GenerateTracks builds n vehicle tracks and n boat runs alone, from seed; the same
// arguments always yield the same cases.
func GenerateTracks(seed uint64, n int) []*TrackCase {
	r := rand.New(rand.NewPCG(seed, 0x7ac5))
	var out []*TrackCase
	for k := 0; k < n; k++ {
		out = append(out, genVehicleTrack(r, k), genBoatTrack(r, k))
	}
	return out
}

// frame converts local metres to lon/lat around an origin.
type frame struct{ lon0, lat0 float64 }

func (f frame) lonlat(x, y float64) orb.Point {
	const r = 6371008.8
	ky := r * math.Pi / 180
	kx := ky * math.Cos(f.lat0*math.Pi/180)
	return orb.Point{f.lon0 + x/kx, f.lat0 + y/ky}
}

func (f frame) square(cx, cy, side float64) orb.Polygon {
	h := side / 2
	return orb.Polygon{orb.Ring{f.lonlat(cx-h, cy-h), f.lonlat(cx+h, cy-h), f.lonlat(cx+h, cy+h), f.lonlat(cx-h, cy+h), f.lonlat(cx-h, cy-h)}}
}

func lognormal(r *rand.Rand, m, s float64) float64 { return m * math.Exp(s*r.NormFloat64()) }

// genVehicleTrack drives a survey vehicle through crosswind transects downwind of six
// source parcels among twenty, with parcels that emit nothing in the upwind sector of each
// windy transect and beside the first sources.
func genVehicleTrack(r *rand.Rand, k int) *TrackCase {
	f := frame{lon0: 120.3 + 0.2*float64(k), lat0: 31.5}
	tc := &TrackCase{Name: "vehicle" + itoa(k+1), Pipeline: "vehicle-track"}
	type site struct{ x, y float64 }
	var sites []site
	for len(sites) < 20 {
		s := site{-4000 + 8000*r.Float64(), -3000 + 6000*r.Float64()}
		ok := true
		for _, o := range sites {
			if math.Hypot(s.x-o.x, s.y-o.y) < 400 {
				ok = false
			}
		}
		if ok {
			sites = append(sites, s)
			tc.Parcels = append(tc.Parcels, detect.Parcel{ID: fmt.Sprintf("%s-p%d", tc.Name, len(sites)), Geometry: f.square(s.x, s.y, 60+90*r.Float64())})
		}
	}
	// A neighbour 300–450 m from each of the first sites, in a random direction: a
	// competitor for attribution.
	for i := 0; i < 6; i++ {
		a := 2 * math.Pi * r.Float64()
		d := 300 + 150*r.Float64()
		tc.Parcels = append(tc.Parcels, detect.Parcel{ID: fmt.Sprintf("%s-n%d", tc.Name, i+1), Geometry: f.square(sites[i].x+d*math.Cos(a), sites[i].y+d*math.Sin(a), 80)})
	}
	var buf bytes.Buffer
	buf.WriteString("time,lon,lat,wind_speed,wind_dir,tvoc,pm25,pm10,so2,no2\n")
	t := time.Date(2026, 6, 1, 1+k, 0, 0, 0, time.UTC)
	x, y := -4500.0, -3500.0
	write := func(px, py, ws, wd, voc float64) {
		p := f.lonlat(px, py)
		fmt.Fprintf(&buf, "%s,%.7f,%.7f,%.2f,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f\n", t.Format(time.RFC3339), p[0], p[1], ws, wd, voc,
			lognormal(r, 35, 0.1), lognormal(r, 60, 0.1), lognormal(r, 8, 0.1), lognormal(r, 20, 0.1))
		t = t.Add(5 * time.Second)
	}
	perm := r.Perm(len(sites))
	var extra []site
	for e := 0; e < 6; e++ {
		src := sites[perm[e]]
		theta := 360 * r.Float64()
		speed := 2.5 + 2.5*r.Float64()
		d := 150 + 350*r.Float64()
		if e == 5 {
			// Calm air: the vehicle passes 120–200 m from the source.
			speed, d = 0.3, 120+80*r.Float64()
		}
		th := theta * math.Pi / 180
		ux, uy := -math.Sin(th), -math.Cos(th) // downwind
		vx, vy := math.Cos(th), -math.Sin(th)  // crosswind
		ex, ey := src.x+d*ux, src.y+d*uy
		if e < 5 {
			// Two to four parcels that emit nothing in the upwind sector of the transect, as
			// in an industrial park: within 30° of the direction the wind comes from and
			// 150–900 m away, apart from every other parcel and off the road.
			for n, want := 0, 2+r.IntN(3); n < want; {
				phi := (60*r.Float64() - 30) * math.Pi / 180
				rho := 150 + 750*r.Float64()
				// Upwind of (ex, ey) at angle phi off the axis.
				cx := ex - rho*(ux*math.Cos(phi)-vx*math.Sin(phi))
				cy := ey - rho*(uy*math.Cos(phi)-vy*math.Sin(phi))
				ok := math.Abs(rho*math.Cos(phi)) > 100
				for _, o := range sites {
					ok = ok && math.Hypot(cx-o.x, cy-o.y) >= 150
				}
				for _, o := range extra {
					ok = ok && math.Hypot(cx-o.x, cy-o.y) >= 150
				}
				if !ok {
					continue
				}
				extra = append(extra, site{cx, cy})
				n++
				tc.Parcels = append(tc.Parcels, detect.Parcel{ID: fmt.Sprintf("%s-u%d", tc.Name, len(extra)), Geometry: f.square(cx, cy, 60+90*r.Float64())})
			}
		}
		sx, sy := ex-600*vx, ey-600*vy
		// Drive to the transect's start at 12 m/s.
		dist := math.Hypot(sx-x, sy-y)
		steps := int(dist / 60)
		for i := 0; i < steps; i++ {
			a := float64(i) / float64(steps)
			write(x+(sx-x)*a, y+(sy-y)*a, math.Max(0, speed+0.3*r.NormFloat64()), math.Mod(theta+6*r.NormFloat64()+360, 360), lognormal(r, 80, 0.15))
		}
		// Crosswind transect at 8 m/s through the plume.
		peak := 1200 + 2800*r.Float64()
		sigma := 0.2*d + 25
		start := t
		for i := 0; i <= 150; i++ {
			s := -600 + 8*float64(i)
			voc := lognormal(r, 80, 0.15) + peak*math.Exp(-s*s/(2*sigma*sigma))
			// GPS jitter of a few metres; wind vane noise of 12°.
			write(ex+s*vx+3*r.NormFloat64(), ey+s*vy+3*r.NormFloat64(), math.Max(0, speed+0.4*r.NormFloat64()), math.Mod(theta+12*r.NormFloat64()+360, 360), voc)
		}
		tc.Events = append(tc.Events, TrackEvent{Pollutant: "vocs", Start: start, End: t, ParcelID: tc.Parcels[perm[e]].ID})
		x, y = ex+600*vx, ey+600*vy
	}
	tc.CSV = buf.Bytes()
	return tc
}

// genBoatTrack runs an unmanned boat down a river past eight bankside parcels, four of
// which discharge.
func genBoatTrack(r *rand.Rand, k int) *TrackCase {
	f := frame{lon0: 119.8 + 0.2*float64(k), lat0: 31.2}
	tc := &TrackCase{Name: "boat" + itoa(k+1), Pipeline: "boat-track"}
	river := func(x float64) float64 { return 300 * math.Sin(2*math.Pi*x/3000) }
	type outfall struct {
		x         float64
		id        string
		discharge bool
		peak      float64
	}
	var outs []outfall
	for i := 0; i < 8; i++ {
		x := 300 + 700*float64(i) + 100*r.Float64()
		side := 1.0
		if i%2 == 1 {
			side = -1
		}
		off := side * (60 + 60*r.Float64())
		id := fmt.Sprintf("%s-p%d", tc.Name, i+1)
		tc.Parcels = append(tc.Parcels, detect.Parcel{ID: id, Geometry: f.square(x, river(x)+off, 50+30*r.Float64())})
		outs = append(outs, outfall{x: x, id: id, discharge: r.IntN(2) == 0 || i < 2, peak: 40 + 40*r.Float64()})
	}
	var buf bytes.Buffer
	buf.WriteString("time,lon,lat,turbidity,cod,nh3n,tp\n")
	t := time.Date(2026, 6, 2, 2+k, 0, 0, 0, time.UTC)
	type span struct {
		first, last time.Time
		seen        bool
	}
	spans := make([]span, len(outs))
	for x := 0.0; x <= 6000; x += 20 {
		cod := lognormal(r, 12, 0.08)
		turb := lognormal(r, 15, 0.08)
		for j, o := range outs {
			if !o.discharge {
				continue
			}
			dx := x - o.x
			add := o.peak * math.Exp(-dx*dx/(2*40*40))
			cod += add
			turb += add / 3
			if cod > 20 && math.Abs(dx) < 200 {
				if !spans[j].seen {
					spans[j].first, spans[j].seen = t, true
				}
				spans[j].last = t
			}
		}
		p := f.lonlat(x, river(x))
		fmt.Fprintf(&buf, "%s,%.7f,%.7f,%.1f,%.2f,%.3f,%.3f\n", t.Format(time.RFC3339), p[0], p[1], turb, cod, lognormal(r, 0.5, 0.08), lognormal(r, 0.1, 0.08))
		t = t.Add(10 * time.Second)
	}
	for j, o := range outs {
		if o.discharge && spans[j].seen {
			tc.Events = append(tc.Events, TrackEvent{Pollutant: "cod", Start: spans[j].first, End: spans[j].last, ParcelID: o.id})
		}
	}
	tc.CSV = buf.Bytes()
	return tc
}
