package detect

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// TrackColumns maps the columns of a track (CSV header names, or GeoJSON property names) to
// the fields Offsite needs. Zero values take the defaults given.
type TrackColumns struct {
	Time       string `yaml:"time"`        // default "time"
	TimeLayout string `yaml:"time_layout"` // Go time layout, or "unix" (seconds); default RFC 3339
	Lon        string `yaml:"lon"`         // default "lon"; GeoJSON Point geometry when absent
	Lat        string `yaml:"lat"`         // default "lat"
	WindSpeed  string `yaml:"wind_speed"`  // optional, m/s
	WindDir    string `yaml:"wind_dir"`    // optional, degrees the wind blows from
	// Readings lists the measured quantities.
	Readings []ReadingColumn `yaml:"readings"`
}

// ReadingColumn is one measured quantity of a track.
type ReadingColumn struct {
	Pollutant string `yaml:"pollutant"` // name used in limits and findings, e.g. "pm25", "cod"
	Column    string `yaml:"column"`    // default Pollutant
	// Unit of the values (see CanonicalUnit), unless UnitColumn names a column giving
	// each row's unit.
	Unit       string `yaml:"unit"`
	UnitColumn string `yaml:"unit_column"`
}

func (c TrackColumns) withDefaults() TrackColumns {
	if c.Time == "" {
		c.Time = "time"
	}
	if c.Lon == "" {
		c.Lon = "lon"
	}
	if c.Lat == "" {
		c.Lat = "lat"
	}
	for i := range c.Readings {
		if c.Readings[i].Column == "" {
			c.Readings[i].Column = c.Readings[i].Pollutant
		}
	}
	return c
}

// Validate checks the column mapping.
func (c TrackColumns) Validate() error {
	if len(c.Readings) == 0 {
		return &ParamError{"readings", "must list at least one reading"}
	}
	seen := map[string]bool{}
	for i, r := range c.Readings {
		f := fmt.Sprintf("readings[%d]", i)
		if r.Pollutant == "" {
			return &ParamError{f + ".pollutant", "must be set"}
		}
		if seen[r.Pollutant] {
			return &ParamError{f + ".pollutant", fmt.Sprintf("%q listed twice", r.Pollutant)}
		}
		seen[r.Pollutant] = true
		if (r.Unit == "") == (r.UnitColumn == "") {
			return &ParamError{f, "set exactly one of unit and unit_column"}
		}
		if r.Unit != "" {
			if _, _, err := convertUnit(r.Pollutant, 1, r.Unit); err != nil {
				return &ParamError{f + ".unit", err.Error()}
			}
		}
	}
	if (c.WindSpeed == "") != (c.WindDir == "") {
		return &ParamError{"wind_speed", "wind_speed and wind_dir go together"}
	}
	return nil
}

// TrackPoint is one validated observation, readings in canonical units.
type TrackPoint struct {
	Line      int // CSV line number, or GeoJSON feature number, 1-based
	Time      time.Time
	Lon, Lat  float64
	WindSpeed float64 // m/s; NaN when the track has no wind
	WindDir   float64 // degrees the wind blows from; NaN when the track has no wind
	Readings  map[string]float64
}

// Track is a validated, time-ordered track.
type Track struct {
	Points []TrackPoint
	// Units gives each pollutant's canonical unit.
	Units map[string]string
}

// TrackProblem is one problem in a track, by line (or feature) and column.
type TrackProblem struct {
	Line    int
	Column  string
	Problem string
}

// TrackError lists every problem found in a track.
type TrackError struct {
	Problems []TrackProblem
}

func (e *TrackError) Error() string {
	var b strings.Builder
	b.WriteString("detect: invalid track: ")
	for i, p := range e.Problems {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-10)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Column != "" {
			fmt.Fprintf(&b, "line %d, column %s: %s", p.Line, p.Column, p.Problem)
		} else {
			fmt.Fprintf(&b, "line %d: %s", p.Line, p.Problem)
		}
	}
	return b.String()
}

// CanonicalUnit returns the unit in which readings measured in unit are stored, with the
// factor that converts them. Air mass concentrations become µg/m³ (ng/m³, µg/m³, mg/m³);
// mixing ratios (ppb, ppm) become µg/m³ for gases of known molar mass (so2, no2, no, o3,
// co, nh3, h2s, benzene, toluene, xylene, hcho), at 25 °C and 1 atm, else ppb; water mass
// concentrations become mg/L (µg/L, mg/L, g/L); turbidity NTU (FNU taken as equal);
// conductivity µS/cm (mS/cm); pH and °C as they are.
func CanonicalUnit(pollutant, unit string) (canonical string, factor float64, err error) {
	u := strings.ToLower(strings.TrimSpace(unit))
	r := strings.NewReplacer("µ", "u", "μ", "u", "³", "3", "^", "", " ", "", "℃", "degc", "°c", "degc")
	u = r.Replace(u)
	switch u {
	case "ng/m3":
		return "ug/m3", 0.001, nil
	case "ug/m3":
		return "ug/m3", 1, nil
	case "mg/m3":
		return "ug/m3", 1000, nil
	case "ppb", "ppm":
		f := 1.0
		if u == "ppm" {
			f = 1000
		}
		if mw, ok := molarMass[strings.ToLower(pollutant)]; ok {
			return "ug/m3", f * mw / 24.45, nil
		}
		return "ppb", f, nil
	case "ug/l":
		return "mg/L", 0.001, nil
	case "mg/l":
		return "mg/L", 1, nil
	case "g/l":
		return "mg/L", 1000, nil
	case "ntu", "fnu":
		return "NTU", 1, nil
	case "us/cm":
		return "uS/cm", 1, nil
	case "ms/cm":
		return "uS/cm", 1000, nil
	case "ph":
		return "pH", 1, nil
	case "degc", "c":
		return "degC", 1, nil
	}
	return "", 0, fmt.Errorf("unknown unit %q", unit)
}

// molarMass in g/mol of gases whose mixing ratios convert to mass concentrations.
var molarMass = map[string]float64{
	"so2": 64.066, "no2": 46.0055, "no": 30.006, "o3": 47.997, "co": 28.010, "nh3": 17.031,
	"h2s": 34.08, "benzene": 78.11, "toluene": 92.14, "xylene": 106.16, "hcho": 30.026,
}

func convertUnit(pollutant string, v float64, unit string) (float64, string, error) {
	c, f, err := CanonicalUnit(pollutant, unit)
	if err != nil {
		return 0, "", err
	}
	return v * f, c, nil
}

// trackParser validates rows of any source.
type trackParser struct {
	cols     TrackColumns
	track    Track
	problems []TrackProblem
}

func (p *trackParser) add(line int, col, format string, args ...any) {
	p.problems = append(p.problems, TrackProblem{line, col, fmt.Sprintf(format, args...)})
}

// row validates one observation; get returns a field's text and whether the field exists.
func (p *trackParser) row(line int, get func(col string) (string, bool), geom *orb.Point) {
	c := p.cols
	pt := TrackPoint{Line: line, WindSpeed: math.NaN(), WindDir: math.NaN(), Readings: map[string]float64{}}
	ok := true
	if s, has := get(c.Time); !has || strings.TrimSpace(s) == "" {
		p.add(line, c.Time, "missing time")
		ok = false
	} else if t, err := parseTime(strings.TrimSpace(s), c.TimeLayout); err != nil {
		p.add(line, c.Time, "bad time %q", s)
		ok = false
	} else {
		pt.Time = t
	}
	num := func(col string) (float64, bool, bool) { // value, present, valid
		s, has := get(col)
		s = strings.TrimSpace(s)
		if !has || s == "" {
			return 0, false, true
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			p.add(line, col, "not a number: %q", s)
			return 0, true, false
		}
		return v, true, true
	}
	lon, hasLon, okLon := num(c.Lon)
	lat, hasLat, okLat := num(c.Lat)
	if geom != nil && !hasLon && !hasLat {
		lon, lat, hasLon, hasLat = geom[0], geom[1], true, true
	}
	switch {
	case !okLon || !okLat:
		ok = false
	case !hasLon || !hasLat:
		p.add(line, c.Lon, "missing coordinates")
		ok = false
	case lon < -180 || lon > 180:
		p.add(line, c.Lon, "longitude %v out of range", lon)
		ok = false
	case lat < -90 || lat > 90:
		p.add(line, c.Lat, "latitude %v out of range", lat)
		ok = false
	case lon == 0 && lat == 0:
		p.add(line, c.Lon, "coordinates 0,0 (no fix)")
		ok = false
	}
	pt.Lon, pt.Lat = lon, lat
	if c.WindSpeed != "" {
		ws, hasWS, okWS := num(c.WindSpeed)
		wd, hasWD, okWD := num(c.WindDir)
		if okWS && hasWS {
			if ws < 0 || ws > 75 {
				p.add(line, c.WindSpeed, "wind speed %v m/s out of range", ws)
				ok = false
			}
			pt.WindSpeed = ws
		}
		if okWD && hasWD {
			if wd < 0 || wd > 360 {
				p.add(line, c.WindDir, "wind direction %v out of range [0,360]", wd)
				ok = false
			}
			pt.WindDir = math.Mod(wd, 360)
		}
		ok = ok && okWS && okWD
	}
	for _, rc := range c.Readings {
		v, has, good := num(rc.Column)
		if !good {
			ok = false
			continue
		}
		if !has {
			continue
		}
		unit, unitCol := rc.Unit, rc.Column
		if rc.UnitColumn != "" {
			unitCol = rc.UnitColumn
			unit, _ = get(rc.UnitColumn)
		}
		cv, canon, err := convertUnit(rc.Pollutant, v, unit)
		if err != nil {
			p.add(line, unitCol, "%v", err)
			ok = false
			continue
		}
		if prev, seen := p.track.Units[rc.Pollutant]; seen && prev != canon {
			p.add(line, unitCol, "unit %q measures %s, earlier rows measure %s", unit, canon, prev)
			ok = false
			continue
		}
		if v < 0 && canon != "degC" {
			p.add(line, rc.Column, "negative reading %v", v)
			ok = false
			continue
		}
		p.track.Units[rc.Pollutant] = canon
		pt.Readings[rc.Pollutant] = cv
	}
	if !ok {
		return
	}
	if n := len(p.track.Points); n > 0 && !pt.Time.IsZero() {
		prev := p.track.Points[n-1]
		switch {
		case pt.Time.Equal(prev.Time):
			p.add(line, c.Time, "duplicate time %s (also line %d)", pt.Time.Format(time.RFC3339), prev.Line)
			return
		case pt.Time.Before(prev.Time):
			p.add(line, c.Time, "time %s before line %d's %s (unsorted)", pt.Time.Format(time.RFC3339), prev.Line, prev.Time.Format(time.RFC3339))
			return
		}
	}
	p.track.Points = append(p.track.Points, pt)
}

func parseTime(s, layout string) (time.Time, error) {
	switch layout {
	case "", time.RFC3339:
		return time.Parse(time.RFC3339, s)
	case "unix":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, err
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	return time.Parse(layout, s)
}

func (p *trackParser) result() (*Track, error) {
	if len(p.problems) > 0 {
		return nil, &TrackError{Problems: p.problems}
	}
	if len(p.track.Points) == 0 {
		return nil, errors.New("detect: track has no points")
	}
	return &p.track, nil
}

func newTrackParser(cols TrackColumns) (*trackParser, error) {
	cols = cols.withDefaults()
	if err := cols.Validate(); err != nil {
		return nil, err
	}
	return &trackParser{cols: cols, track: Track{Units: map[string]string{}}}, nil
}

// ParseTrackCSV reads a track from CSV with a header row, validating every row; a
// *TrackError lists each problem by line and column. Lines count from 1 (the header).
func ParseTrackCSV(r io.Reader, cols TrackColumns) (*Track, error) {
	p, err := newTrackParser(cols)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("detect: track header: %w", err)
	}
	index := map[string]int{}
	for i, h := range header {
		index[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	required := []string{p.cols.Time, p.cols.Lon, p.cols.Lat}
	if p.cols.WindSpeed != "" {
		required = append(required, p.cols.WindSpeed, p.cols.WindDir)
	}
	for _, rc := range p.cols.Readings {
		required = append(required, rc.Column)
		if rc.UnitColumn != "" {
			required = append(required, rc.UnitColumn)
		}
	}
	for _, col := range required {
		if _, ok := index[col]; !ok {
			p.add(1, col, "no such column in the header")
		}
	}
	if len(p.problems) > 0 {
		return nil, &TrackError{Problems: p.problems}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				p.add(pe.Line, "", "%v", pe.Err)
				continue
			}
			return nil, fmt.Errorf("detect: read track: %w", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		p.row(line, func(col string) (string, bool) {
			i, ok := index[col]
			if !ok || i >= len(rec) {
				return "", false
			}
			return rec[i], true
		}, nil)
	}
	return p.result()
}

// ParseTrackGeoJSON reads a track from a GeoJSON FeatureCollection of Points whose
// properties hold the columns; problems are reported by feature number (1-based) as Line.
func ParseTrackGeoJSON(r io.Reader, cols TrackColumns) (*Track, error) {
	p, err := newTrackParser(cols)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("detect: read track: %w", err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return nil, fmt.Errorf("detect: track geojson: %w", err)
	}
	for i, f := range fc.Features {
		var geom *orb.Point
		if pt, ok := f.Geometry.(orb.Point); ok {
			geom = &pt
		} else if f.Geometry != nil {
			p.add(i+1, "geometry", "is a %s, want a Point", f.Geometry.GeoJSONType())
			continue
		}
		props := f.Properties
		p.row(i+1, func(col string) (string, bool) {
			v, ok := props[col]
			if !ok || v == nil {
				return "", false
			}
			switch v := v.(type) {
			case string:
				return v, true
			case float64:
				return strconv.FormatFloat(v, 'g', -1, 64), true
			case json.Number:
				return v.String(), true
			}
			return fmt.Sprint(v), true
		}, geom)
	}
	return p.result()
}

// sortedPollutants returns the track's pollutants in name order.
func (t *Track) sortedPollutants() []string {
	var out []string
	for k := range t.Units {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
