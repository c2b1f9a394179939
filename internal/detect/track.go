package detect

import (
	"bufio"
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
	// Time zones by name (time_zone) must not depend on the machine's zoneinfo.
	_ "time/tzdata"

	"github.com/paulmach/orb"
)

// TrackColumns maps the columns of a track (CSV header names, or GeoJSON property names) to
// the fields Offsite needs. Zero values take the defaults given.
type TrackColumns struct {
	Time string `yaml:"time"` // default "time"
	// TimeLayout is the layout of the times: a Go reference-time layout such as
	// "2006-01-02 15:04:05" or "2006/01/02 15:04", "unix" (seconds since 1970, UTC), or
	// empty for RFC 3339 ("2026-06-01T08:00:00+08:00").
	TimeLayout string `yaml:"time_layout"`
	// TimeZone is the zone of times written without an offset: an IANA name such as
	// "Asia/Shanghai", or "UTC"; default UTC. Times with an offset keep it.
	TimeZone  string `yaml:"time_zone"`
	Lon       string `yaml:"lon"`        // default "lon"; GeoJSON Point geometry when absent
	Lat       string `yaml:"lat"`        // default "lat"
	WindSpeed string `yaml:"wind_speed"` // optional, m/s
	WindDir   string `yaml:"wind_dir"`   // optional, degrees the wind blows from
	// Readings lists the measured quantities.
	Readings []ReadingColumn `yaml:"readings"`
	// MaxRows bounds the rows (or features) of a track; a longer one is refused when its
	// next row is read. Default DefaultMaxTrackRows.
	MaxRows int `yaml:"max_rows"`
	// MaxBadShare is the share of rows that may be bad (a reading "NA" or not a number, a
	// negative reading, a bad time or position, a duplicate or unsorted time): up to it they
	// are skipped and reported by line (Track.Skipped); beyond it the track is refused with
	// every problem by line. Default 0: any bad row refuses the track.
	MaxBadShare float64 `yaml:"max_bad_share"`
}

// DefaultMaxTrackRows is the default TrackColumns.MaxRows: 23 days of one reading a second.
const DefaultMaxTrackRows = 2_000_000

// ReadingColumn is one measured quantity of a track.
type ReadingColumn struct {
	Pollutant string `yaml:"pollutant"` // name used in limits and findings, e.g. "pm25", "cod"
	Column    string `yaml:"column"`    // default Pollutant
	// Unit of the values (see CanonicalUnit), unless UnitColumn names a column giving
	// each row's unit.
	Unit       string `yaml:"unit"`
	UnitColumn string `yaml:"unit_column"`
	// MolarMass (g/mol) converts mixing ratios (ppm, ppb) of this reading to µg/m³ at 25 °C
	// and 1 atm when the pollutant is not one whose molar mass Offsite knows (e.g. VOCs
	// from a PID calibrated to isobutylene: 56.11).
	MolarMass float64 `yaml:"molar_mass"`
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
	if c.MaxRows == 0 {
		c.MaxRows = DefaultMaxTrackRows
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
		if r.MolarMass < 0 {
			return &ParamError{f + ".molar_mass", "must be > 0"}
		}
		if r.Unit != "" {
			if _, _, err := canonicalUnit(r.Pollutant, r.Unit, r.MolarMass); err != nil {
				return &ParamError{f + ".unit", err.Error()}
			}
		}
	}
	if (c.WindSpeed == "") != (c.WindDir == "") {
		return &ParamError{"wind_speed", "wind_speed and wind_dir go together"}
	}
	if c.MaxRows < 0 {
		return &ParamError{"max_rows", "must not be negative"}
	}
	if !(c.MaxBadShare >= 0 && c.MaxBadShare < 1) {
		return &ParamError{"max_bad_share", "must be in [0,1)"}
	}
	if _, err := c.location(); err != nil {
		return &ParamError{"time_zone", err.Error()}
	}
	return nil
}

// location is the zone of times without an offset.
func (c TrackColumns) location() (*time.Location, error) {
	if c.TimeZone == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(c.TimeZone)
}

// TrackPoint is one validated observation, readings in canonical units.
type TrackPoint struct {
	Line      int // CSV line number, or GeoJSON feature number, 1-based
	Time      time.Time
	Lon, Lat  float64
	WindSpeed float64 // m/s; NaN when the track has no wind
	WindDir   float64 // degrees the wind blows from; NaN when the track has no wind
	Readings  Readings
}

// Readings are one point's readings, in canonical units. They share their pollutant names
// with the other points of the track and their values with a block of neighbours, so that
// a million points take a hundred-odd megabytes, not a map each.
type Readings struct {
	names *[]string // the track's pollutants, in column order
	vals  []float64 // parallel to *names; NaN where the row has no reading
}

// Get returns the reading of pollutant and whether the point has one.
func (r Readings) Get(pollutant string) (float64, bool) {
	if r.names == nil {
		return 0, false
	}
	for i, n := range *r.names {
		if n == pollutant {
			v := r.vals[i]
			return v, !math.IsNaN(v)
		}
	}
	return 0, false
}

// Track is a validated, time-ordered track.
type Track struct {
	Points []TrackPoint
	// Units gives each pollutant's canonical unit.
	Units map[string]string
	// Rows is the number of rows (features) read; SkippedRows of them were bad and
	// skipped (up to TrackColumns.MaxBadShare), for the problems in Skipped (the first
	// maxTrackProblems) and SkippedMore more.
	Rows, SkippedRows int
	Skipped           []TrackProblem
	SkippedMore       int
}

// TrackProblem is one problem in a track, by line (or feature) and column.
type TrackProblem struct {
	Line    int
	Column  string
	Problem string
}

// TrackError lists the problems found in a track: the first maxTrackProblems, and how
// many more there were.
type TrackError struct {
	Problems []TrackProblem
	More     int
	// BadRows of Rows had problems (0 and 0 for problems of the header).
	BadRows, Rows int
}

// maxTrackProblems bounds the problems a TrackError keeps: a million bad rows are counted,
// not listed.
const maxTrackProblems = 1000

func (e *TrackError) Error() string {
	var b strings.Builder
	b.WriteString("detect: invalid track: ")
	if e.BadRows > 0 {
		fmt.Fprintf(&b, "%d of %d rows bad: ", e.BadRows, e.Rows)
	}
	for i, p := range e.Problems {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-10+e.More)
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
	if len(e.Problems) <= 10 && e.More > 0 {
		fmt.Fprintf(&b, "; and %d more", e.More)
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
	return canonicalUnit(pollutant, unit, 0)
}

// canonicalUnit is CanonicalUnit with a molar mass (g/mol) for mixing ratios of a pollutant
// whose molar mass is not known (0: none). Particle number concentrations (#/cm³, also
// written 1/cm3, cm-3, pt/cm3) stay #/cm3: no mass follows from a count.
func canonicalUnit(pollutant, unit string, molar float64) (canonical string, factor float64, err error) {
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
		if molar > 0 {
			return "ug/m3", f * molar / 24.45, nil
		}
		return "ppb", f, nil
	case "#/cm3", "1/cm3", "cm-3", "pt/cm3", "particles/cm3", "#/cc":
		return "#/cm3", 1, nil
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
	c, f, err := canonicalUnit(pollutant, unit, 0)
	if err != nil {
		return 0, "", err
	}
	return v * f, c, nil
}

// trackParser validates rows of any source and keeps, of each valid row, only what the
// track's columns name: the time, position, wind and readings, in compact form.
type trackParser struct {
	cols     TrackColumns
	names    *[]string // the pollutants, in column order, shared by every point's Readings
	track    Track
	problems []TrackProblem
	more     int // problems beyond maxTrackProblems
	rows     int
	badRows  int  // rows with a problem, skipped
	fatal    bool // a problem no share of bad rows excuses (the track is too long)
	loc      *time.Location
	molar    map[string]float64         // molar masses given by the columns
	scratch  []float64                  // the readings of the row being validated
	block    []float64                  // room for the readings of the rows to come
	convs    map[unitKey]unitConv       // unit conversions met so far
	zones    map[zoneKey]*time.Location // time zones met so far, shared by the points' times
}

type unitKey struct{ pollutant, unit string }

type unitConv struct {
	canonical string
	factor    float64
	err       error
}

type zoneKey struct {
	name   string
	offset int
}

// maxInterned bounds the unit conversions and time zones a parser remembers: a hostile
// track with a new unit or offset on every row is parsed, only not faster.
const maxInterned = 64

// readingsBlock is how many rows' readings are allocated at once.
const readingsBlock = 4096

func (p *trackParser) add(line int, col, format string, args ...any) {
	if len(p.problems) >= maxTrackProblems {
		p.more++
		return
	}
	p.problems = append(p.problems, TrackProblem{line, col, fmt.Sprintf(format, args...)})
}

// next counts a row and reports whether the track is still within MaxRows; the row past it
// is a problem, and the caller stops reading.
func (p *trackParser) next(line int) bool {
	p.rows++
	if p.rows > p.cols.MaxRows {
		p.add(line, "", "more than %d rows: the track is too long", p.cols.MaxRows)
		p.fatal = true
		return false
	}
	return true
}

// convert converts v measured in unit to pollutant's canonical unit (CanonicalUnit),
// remembering the conversions it met.
func (p *trackParser) convert(pollutant string, v float64, unit string) (float64, string, error) {
	k := unitKey{pollutant, unit}
	c, ok := p.convs[k]
	if !ok {
		c.canonical, c.factor, c.err = canonicalUnit(pollutant, unit, p.molar[pollutant])
		if len(p.convs) < maxInterned {
			p.convs[k] = c
		}
	}
	if c.err != nil {
		return 0, "", c.err
	}
	return v * c.factor, c.canonical, nil
}

// intern returns t in a time zone shared with the earlier points of the same zone: parsing
// an offset allocates a zone per row.
func (p *trackParser) intern(t time.Time) time.Time {
	loc := t.Location()
	if loc == time.UTC || loc == time.Local {
		return t
	}
	name, offset := t.Zone()
	k := zoneKey{name, offset}
	if z, ok := p.zones[k]; ok {
		return t.In(z)
	}
	if len(p.zones) < maxInterned {
		p.zones[k] = loc
	}
	return t
}

// keep copies a valid row's readings into the current block.
func (p *trackParser) keep(vals []float64) []float64 {
	n := len(vals)
	if len(p.block) < n {
		p.block = make([]float64, n*readingsBlock)
	}
	out := p.block[:n:n]
	p.block = p.block[n:]
	copy(out, vals)
	return out
}

// row validates one observation; get returns a field's text and whether the field exists.
func (p *trackParser) row(line int, get func(col string) (string, bool), geom *orb.Point) {
	before := len(p.problems) + p.more
	p.validRow(line, get, geom)
	if len(p.problems)+p.more > before {
		p.badRows++
	}
}

// validRow validates one observation and keeps it when valid.
func (p *trackParser) validRow(line int, get func(col string) (string, bool), geom *orb.Point) {
	c := p.cols
	pt := TrackPoint{Line: line, WindSpeed: math.NaN(), WindDir: math.NaN()}
	ok := true
	if s, has := get(c.Time); !has || strings.TrimSpace(s) == "" {
		p.add(line, c.Time, "missing time")
		ok = false
	} else if t, err := parseTime(strings.TrimSpace(s), c.TimeLayout, p.loc); err != nil {
		p.add(line, c.Time, "bad time %q", s)
		ok = false
	} else {
		pt.Time = p.intern(t)
	}
	num := func(col string) (float64, bool, bool) { // value, present, valid
		s, has := get(col)
		s = strings.TrimSpace(s)
		if !has || s == "" {
			return 0, false, true
		}
		if naMarkers[strings.ToLower(s)] {
			p.add(line, col, "no value (%s)", s)
			return 0, true, false
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
	vals := p.scratch
	for i, rc := range c.Readings {
		vals[i] = math.NaN()
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
		cv, canon, err := p.convert(rc.Pollutant, v, unit)
		if err != nil {
			p.add(line, unitCol, "%v", err)
			ok = false
			continue
		}
		prev, seen := p.track.Units[rc.Pollutant]
		if seen && prev != canon {
			p.add(line, unitCol, "unit %q measures %s, earlier rows measure %s", unit, canon, prev)
			ok = false
			continue
		}
		if v < 0 && canon != "degC" {
			p.add(line, rc.Column, "negative reading %v", v)
			ok = false
			continue
		}
		if !seen {
			p.track.Units[rc.Pollutant] = canon
		}
		vals[i] = cv
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
	pt.Readings = Readings{names: p.names, vals: p.keep(vals)}
	p.track.Points = append(p.track.Points, pt)
}

// naMarkers are what loggers write for a missing value.
var naMarkers = map[string]bool{"na": true, "n/a": true, "nan": true, "null": true, "none": true, "-": true, "--": true}

func parseTime(s, layout string, loc *time.Location) (time.Time, error) {
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
	return time.ParseInLocation(layout, s, loc)
}

func (p *trackParser) result() (*Track, error) {
	if len(p.problems) > 0 && (p.fatal || float64(p.badRows) > p.cols.MaxBadShare*float64(p.rows)) {
		return nil, &TrackError{Problems: p.problems, More: p.more, BadRows: p.badRows, Rows: p.rows}
	}
	p.track.Rows, p.track.SkippedRows = p.rows, p.badRows
	p.track.Skipped, p.track.SkippedMore = p.problems, p.more
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
	names := make([]string, len(cols.Readings))
	for i, rc := range cols.Readings {
		names[i] = rc.Pollutant
	}
	loc, err := cols.location()
	if err != nil {
		return nil, &ParamError{"time_zone", err.Error()}
	}
	molar := map[string]float64{}
	for _, rc := range cols.Readings {
		if rc.MolarMass > 0 {
			molar[rc.Pollutant] = rc.MolarMass
		}
	}
	return &trackParser{cols: cols, names: &names, track: Track{Units: map[string]string{}}, loc: loc, molar: molar,
		scratch: make([]float64, len(names)), convs: map[unitKey]unitConv{}, zones: map[zoneKey]*time.Location{}}, nil
}

// trackBuffer is the read buffer of the track parsers: tracks are read as a stream, a row
// or feature at a time, never whole.
const trackBuffer = 64 << 10

// ParseTrackCSV reads a track from CSV with a header row, validating every row; a
// *TrackError lists each problem by line and column. Lines count from 1 (the header). It
// reads r as a stream and keeps only the columns named; a track of more than
// cols.MaxRows rows is refused.
func ParseTrackCSV(r io.Reader, cols TrackColumns) (*Track, error) {
	p, err := newTrackParser(cols)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bufio.NewReaderSize(r, trackBuffer))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
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
	var rec []string
	get := func(col string) (string, bool) {
		i, ok := index[col]
		if !ok || i >= len(rec) {
			return "", false
		}
		return rec[i], true
	}
	for {
		rec, err = cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				p.add(pe.Line, "", "%v", pe.Err)
				p.rows++
				p.badRows++
				continue
			}
			return nil, fmt.Errorf("detect: read track: %w", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if !p.next(line) {
			break
		}
		p.row(line, get, nil)
	}
	return p.result()
}

// trackFeature is what ParseTrackGeoJSON reads of a feature.
type trackFeature struct {
	Type       string                     `json:"type"`
	Geometry   *trackGeometry             `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type trackGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// ParseTrackGeoJSON reads a track from a GeoJSON FeatureCollection of Points whose
// properties hold the columns; problems are reported by feature number (1-based) as Line.
// It reads r as a stream, a feature at a time, and keeps only the properties named; a
// track of more than cols.MaxRows features is refused.
func ParseTrackGeoJSON(r io.Reader, cols TrackColumns) (*Track, error) {
	p, err := newTrackParser(cols)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(r, trackBuffer))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("detect: track geojson: %w", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("detect: track geojson: %w", err)
		}
		switch tok {
		case "type":
			var typ string
			if err := dec.Decode(&typ); err != nil {
				return nil, fmt.Errorf("detect: track geojson: type: %w", err)
			}
			if typ != "FeatureCollection" {
				return nil, fmt.Errorf("detect: track geojson: type %q, want FeatureCollection", typ)
			}
		case "features":
			if done, err := p.features(dec); err != nil || done {
				if err != nil {
					return nil, err
				}
				return p.result()
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fmt.Errorf("detect: track geojson: %v: %w", tok, err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, fmt.Errorf("detect: track geojson: %w", err)
	}
	return p.result()
}

// features reads the features array, a feature at a time. It reports whether the track
// went past MaxRows (the rest is not read).
func (p *trackParser) features(dec *json.Decoder) (bool, error) {
	if err := expectDelim(dec, '['); err != nil {
		return false, fmt.Errorf("detect: track geojson: features: %w", err)
	}
	f := trackFeature{Properties: map[string]json.RawMessage{}}
	get := func(col string) (string, bool) {
		raw, ok := f.Properties[col]
		if !ok || len(raw) == 0 || string(raw) == "null" {
			return "", false
		}
		var s string
		if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
			return s, true
		}
		return string(raw), true
	}
	for i := 1; dec.More(); i++ {
		if !p.next(i) {
			return true, nil
		}
		f.Type, f.Geometry = "", nil
		clear(f.Properties)
		if err := dec.Decode(&f); err != nil {
			return false, fmt.Errorf("detect: track geojson: feature %d: %w", i, err)
		}
		if f.Type != "Feature" {
			return false, fmt.Errorf("detect: track geojson: feature %d: not a feature: type=%s", i, f.Type)
		}
		var geom *orb.Point
		if g := f.Geometry; g != nil {
			var c []float64
			switch {
			case g.Type != "Point":
				p.add(i, "geometry", "is a %s, want a Point", g.Type)
				p.badRows++
				continue
			case json.Unmarshal(g.Coordinates, &c) != nil || len(c) < 2:
				p.add(i, "geometry", "a Point needs [lon, lat] coordinates")
				p.badRows++
				continue
			}
			geom = &orb.Point{c[0], c[1]}
		}
		p.row(i, get, geom)
	}
	if err := expectDelim(dec, ']'); err != nil {
		return false, fmt.Errorf("detect: track geojson: features: %w", err)
	}
	return false, nil
}

// expectDelim reads the next token, which must be d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("found %v where %v was expected", tok, d)
	}
	return nil
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
