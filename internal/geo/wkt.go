package geo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// ParseWKT parses a POLYGON or MULTIPOLYGON in WKT (OGC 06-103), case
// insensitive, with holes, "EMPTY", and Z, M or ZM coordinates (extra
// ordinates are dropped). An EWKT "SRID=n;" prefix is accepted for n = 4326
// (WGS84) and 4490 (CGCS2000); coordinates are longitude, latitude.
// Errors wrap ErrInvalid and give the byte offset of the problem.
func ParseWKT(s string) (orb.Geometry, error) {
	p := &wktParser{s: s}
	g, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("%w: wkt: %v", ErrInvalid, err)
	}
	return g, nil
}

type wktParser struct {
	s    string
	pos  int
	dims int // ordinates per position, 0 until known
}

func (p *wktParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *wktParser) skipSpace() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

// word reads an identifier (letters, digits, '=' and '_').
func (p *wktParser) word() string {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || p.pos > start && c >= '0' && c <= '9' {
			p.pos++
			continue
		}
		break
	}
	return strings.ToUpper(p.s[start:p.pos])
}

// peekWord returns the next identifier without consuming it.
func (p *wktParser) peekWord() string {
	save := p.pos
	w := p.word()
	p.pos = save
	return w
}

func (p *wktParser) expect(c byte) error {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return p.errorf("unexpected end, want %q", c)
	}
	if p.s[p.pos] != c {
		return p.errorf("found %q, want %q", p.s[p.pos], c)
	}
	p.pos++
	return nil
}

// next reports whether the next non-space byte is c, consuming it if so.
func (p *wktParser) next(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *wktParser) parse() (orb.Geometry, error) {
	p.skipSpace()
	if len(p.s)-p.pos >= 5 && strings.EqualFold(p.s[p.pos:p.pos+5], "SRID=") {
		p.pos += 5
		end := strings.IndexByte(p.s[p.pos:], ';')
		if end < 0 {
			return nil, p.errorf(`"SRID=" without ";"`)
		}
		srid := strings.TrimSpace(p.s[p.pos : p.pos+end])
		if srid != "4326" && srid != "4490" {
			return nil, p.errorf("SRID %q: only 4326 (WGS84) and 4490 (CGCS2000) are accepted", srid)
		}
		p.pos += end + 1
	}
	typ := p.word()
	switch typ {
	case "POLYGON", "MULTIPOLYGON":
	case "":
		return nil, p.errorf("want POLYGON or MULTIPOLYGON")
	default:
		return nil, p.errorf("geometry type %s, want POLYGON or MULTIPOLYGON", typ)
	}
	switch p.peekWord() {
	case "Z", "M":
		p.word()
		p.dims = 3
	case "ZM":
		p.word()
		p.dims = 4
	}
	var g orb.Geometry
	if p.peekWord() == "EMPTY" {
		p.word()
		if typ == "POLYGON" {
			g = orb.Polygon{}
		} else {
			g = orb.MultiPolygon{}
		}
	} else {
		var err error
		if typ == "POLYGON" {
			g, err = p.polygon()
		} else {
			g, err = p.multiPolygon()
		}
		if err != nil {
			return nil, err
		}
	}
	p.skipSpace()
	if p.pos < len(p.s) {
		return nil, p.errorf("unexpected %q after the geometry", p.s[p.pos:min(len(p.s), p.pos+10)])
	}
	return g, nil
}

func (p *wktParser) multiPolygon() (orb.MultiPolygon, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var mp orb.MultiPolygon
	for {
		if p.peekWord() == "EMPTY" {
			p.word()
		} else {
			poly, err := p.polygon()
			if err != nil {
				return nil, err
			}
			mp = append(mp, poly)
		}
		if !p.next(',') {
			break
		}
	}
	if mp == nil {
		mp = orb.MultiPolygon{}
	}
	return mp, p.expect(')')
}

func (p *wktParser) polygon() (orb.Polygon, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var poly orb.Polygon
	for {
		r, err := p.ring()
		if err != nil {
			return nil, err
		}
		poly = append(poly, r)
		if !p.next(',') {
			break
		}
	}
	return poly, p.expect(')')
}

func (p *wktParser) ring() (orb.Ring, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var r orb.Ring
	for {
		pt, err := p.point()
		if err != nil {
			return nil, err
		}
		r = append(r, pt)
		if !p.next(',') {
			break
		}
	}
	return r, p.expect(')')
}

// point reads one position of 2 to 4 ordinates; all positions of a
// geometry must have the same number.
func (p *wktParser) point() (orb.Point, error) {
	var pt orb.Point
	n := 0
	for {
		p.skipSpace()
		if p.pos >= len(p.s) || strings.IndexByte("+-.0123456789", p.s[p.pos]) < 0 {
			break
		}
		start := p.pos
		for p.pos < len(p.s) && strings.IndexByte("+-.0123456789eE", p.s[p.pos]) >= 0 {
			p.pos++
		}
		v, err := strconv.ParseFloat(p.s[start:p.pos], 64)
		if err != nil {
			p.pos = start
			return pt, p.errorf("bad number %q", p.s[start:min(len(p.s), start+20)])
		}
		if n < 2 {
			pt[n] = v
		}
		n++
		if n > 4 {
			return pt, p.errorf("more than 4 ordinates in a position")
		}
	}
	if n < 2 {
		return pt, p.errorf("a position needs at least 2 numbers, found %d", n)
	}
	if p.dims == 0 {
		p.dims = n
	} else if n != p.dims {
		return pt, p.errorf("position has %d ordinates, want %d", n, p.dims)
	}
	return pt, nil
}
