package monitoring

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"sort"
	"strings"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/offsite/offsite"
)

// ChartPoint is one value of a charted series.
type ChartPoint struct {
	Time  time.Time
	Value float64
	Valid bool
}

// Chart describes a chart of one pollutant's series around events.
type Chart struct {
	Title  string
	Unit   string
	Points []ChartPoint
	// Limit draws the permit limit as a line when positive.
	Limit float64
	// Spans are the periods of events, shaded.
	Spans [][2]time.Time
	// From and To bound the time axis; zero: the points' extent.
	From, To time.Time
	// Width and Height in pixels; zero: 800 × 300.
	Width, Height int
}

var (
	chartBG     = color.RGBA{255, 255, 255, 255}
	chartAxis   = color.RGBA{60, 60, 60, 255}
	chartGrid   = color.RGBA{225, 225, 225, 255}
	chartLine   = color.RGBA{31, 94, 168, 255}
	chartBad    = color.RGBA{160, 160, 160, 255}
	chartLimit  = color.RGBA{200, 30, 30, 255}
	chartSpan   = color.RGBA{255, 220, 200, 255}
	chartMargin = struct{ left, right, top, bottom int }{64, 16, 24, 36}
)

// PNG draws the chart: the series (valid values joined by a line, excluded ones as grey
// dots), the limit, the events' periods shaded, and the axes labelled in CST. Pure Go; the
// same input gives the same bytes, so a chart stored as evidence can be redrawn and checked.
func (c *Chart) PNG() ([]byte, error) {
	w, h := c.Width, c.Height
	if w <= 0 || h <= 0 {
		w, h = 800, 300
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{chartBG}, image.Point{}, draw.Src)
	from, to := c.From, c.To
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range c.Points {
		if from.IsZero() || c.From.IsZero() && p.Time.Before(from) {
			from = p.Time
		}
		if to.IsZero() || c.To.IsZero() && p.Time.After(to) {
			to = p.Time
		}
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	if c.Limit > 0 {
		lo, hi = math.Min(lo, c.Limit), math.Max(hi, c.Limit)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	hi += (hi - lo) * 0.08
	if !to.After(from) {
		to = from.Add(time.Hour)
	}
	m := chartMargin
	pw, ph := w-m.left-m.right, h-m.top-m.bottom
	x := func(t time.Time) int { return m.left + int(float64(pw)*float64(t.Sub(from))/float64(to.Sub(from))) }
	y := func(v float64) int { return m.top + ph - int(float64(ph)*(v-lo)/(hi-lo)) }
	for _, s := range c.Spans {
		x0, x1 := max(x(s[0]), m.left), min(x(s[1]), m.left+pw)
		if x1 <= x0 {
			x1 = x0 + 2
		}
		draw.Draw(img, image.Rect(x0, m.top, x1, m.top+ph), &image.Uniform{chartSpan}, image.Point{}, draw.Src)
	}
	// Grid and y labels: 5 steps.
	for i := 0; i <= 5; i++ {
		v := lo + (hi-lo)*float64(i)/5
		yy := y(v)
		hline(img, m.left, m.left+pw, yy, chartGrid, 1)
		label(img, 4, yy+4, fmt.Sprintf("%.4g", v))
	}
	// x labels: up to 7 ticks on whole hours of CST, from midnight.
	span := to.Sub(from)
	step := time.Hour
	for _, h := range []int{1, 2, 3, 6, 12, 24, 48, 96, 168} {
		step = time.Duration(h) * time.Hour
		if span/step <= 7 {
			break
		}
	}
	for t := dayOf(from); !t.After(to); t = t.Add(step) {
		if t.Before(from) {
			continue
		}
		xx := x(t)
		vline(img, xx, m.top, m.top+ph, chartGrid)
		label(img, xx-20, h-m.bottom+14, t.In(CST).Format("01-02 15h"))
	}
	hline(img, m.left, m.left+pw, m.top+ph, chartAxis, 1)
	vline(img, m.left, m.top, m.top+ph, chartAxis)
	if c.Limit > 0 {
		yy := y(c.Limit)
		for xx := m.left; xx < m.left+pw; xx += 8 {
			hline(img, xx, min(xx+5, m.left+pw), yy, chartLimit, 2)
		}
		label(img, m.left+pw-90, yy-4, fmt.Sprintf("limit %g", c.Limit))
	}
	var prev *image.Point
	var prevT time.Time
	gap := 2 * time.Hour
	for _, p := range c.Points {
		pt := image.Pt(x(p.Time), y(p.Value))
		if !p.Valid {
			dot(img, pt, chartBad)
			continue
		}
		if prev != nil && p.Time.Sub(prevT) <= gap {
			line(img, *prev, pt, chartLine)
		}
		dot(img, pt, chartLine)
		prev, prevT = &pt, p.Time
	}
	label(img, m.left, 14, c.Title+" ("+c.Unit+", CST)")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color, thick int) {
	for t := 0; t < thick; t++ {
		for x := x0; x <= x1; x++ {
			img.Set(x, y+t, c)
		}
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	for y := y0; y <= y1; y++ {
		img.Set(x, y, c)
	}
}

func dot(img *image.RGBA, p image.Point, c color.Color) {
	for dx := -2; dx <= 2; dx++ {
		for dy := -2; dy <= 2; dy++ {
			if dx*dx+dy*dy <= 5 {
				img.Set(p.X+dx, p.Y+dy, c)
			}
		}
	}
}

// line draws a 2-pixel line (Bresenham).
func line(img *image.RGBA, a, b image.Point, c color.Color) {
	dx, dy := abs(b.X-a.X), -abs(b.Y-a.Y)
	sx, sy := 1, 1
	if a.X > b.X {
		sx = -1
	}
	if a.Y > b.Y {
		sy = -1
	}
	e := dx + dy
	for {
		img.Set(a.X, a.Y, c)
		img.Set(a.X, a.Y+1, c)
		if a == b {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			a.X += sx
		}
		if e2 <= dx {
			e += dx
			a.Y += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// label writes ASCII text; other characters are drawn as the font's replacement.
func label(img *image.RGBA, x, y int, s string) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(chartAxis), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// EventChart is the chart of an event: its pollutant's hourly values from a day before to
// a day after (as far as hours reach), the limit, the event's period shaded.
func EventChart(e *Event, hours []Hourly, convert func(Hourly) (float64, bool)) *Chart {
	from, to := e.Start.Add(-24*time.Hour), e.End.Add(24*time.Hour)
	c := &Chart{Title: fmt.Sprintf("%s %s %s %s", e.MN, e.Outlet, e.Pollutant, e.Rule), Unit: e.Unit, Limit: e.Limit,
		Spans: [][2]time.Time{{e.Start, e.End}}, From: from, To: to}
	if e.Rule == RuleO2High {
		c.Unit = "%"
	} else if e.O2Ref != nil {
		c.Title += fmt.Sprintf(" at %g%% O2", *e.O2Ref)
	}
	for _, h := range hours {
		if h.Hour.Before(from) || !h.Hour.Before(to) {
			continue
		}
		v := h.Value
		if !h.Valid && !math.IsNaN(h.FlaggedValue) {
			v = h.FlaggedValue
		}
		if convert != nil {
			if cv, ok := convert(Hourly{Hour: h.Hour, Value: v, Converted: h.Converted}); ok {
				v = cv
			}
		}
		c.Points = append(c.Points, ChartPoint{Time: h.Hour, Value: v, Valid: h.Valid})
	}
	return c
}

// PointChart is the chart of one pollutant of a point from from to to: its hourly values
// (converted to the limit's reference oxygen when it has one), its hourly limit, and spans
// (the events on it) shaded. ErrInvalid when the pollutant is not in the vocabulary.
func PointChart(in Input, pollutant string, from, to time.Time, spans [][2]time.Time, p Params) (*Chart, error) {
	pol, ok := Pollutants[pollutant]
	if !ok {
		return nil, offsite.Invalid("pollutant", "%q is not one of %s", pollutant, strings.Join(PollutantIDs(), ", "))
	}
	p.withDefaults()
	medium := OutletMedium(in.Point.Outlet)
	a := &analysis{in: in, p: p, medium: medium, all: map[string]*series{}}
	var lim *Limit
	for i := range in.Limits {
		if in.Limits[i].Pollutant == pollutant {
			lim = &in.Limits[i]
		}
	}
	for _, id := range []string{pollutant, O2} {
		if ss, ok := in.Samples[id]; ok {
			sorted := append([]Sample(nil), ss...)
			sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
			a.all[id] = &series{pollutant: Pollutants[id], samples: sorted, hours: p.Validity.Hours(sorted, medium)}
		}
	}
	a.o2 = hourMap(a.all[O2])
	s := a.all[pollutant]
	if s == nil {
		s = &series{pollutant: pol}
	}
	s.limit = lim
	title := fmt.Sprintf("%s %s %s", in.Point.MN, in.Point.Outlet, pollutant)
	c := &Chart{Title: title, Unit: pol.Unit, Spans: spans, From: from, To: to}
	if lim != nil {
		if lim.Hourly != nil {
			c.Limit = *lim.Hourly
		}
		if lim.O2Ref != nil {
			c.Title += fmt.Sprintf(" at %g%% O2", *lim.O2Ref)
		}
	}
	for _, h := range s.hours {
		if h.Hour.Before(from) || !h.Hour.Before(to) {
			continue
		}
		v := h.Value
		if !h.Valid && !math.IsNaN(h.FlaggedValue) {
			v = h.FlaggedValue
		}
		if cv, ok := a.converted(s, h, v); ok {
			v = cv
		}
		c.Points = append(c.Points, ChartPoint{Time: h.Hour, Value: v, Valid: h.Valid})
	}
	return c, nil
}
