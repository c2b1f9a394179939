package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/offsite/offsite"
)

// A finding's properties and artifacts are jsonb. encoding/json, validating and then decoding
// by reflection, took a tenth of the evidence route's CPU for ten findings' artifact lists
// (one object of five plain fields each) and empty property objects. These read the common
// shapes directly from jsonb's text and leave anything else to encoding/json: the results are
// the same (the tests compare them).

// decodeProperties decodes a finding's properties: nil for SQL NULL.
func decodeProperties(b []byte) (map[string]any, error) {
	if b == nil {
		return nil, nil
	}
	if string(bytes.TrimSpace(b)) == "{}" {
		return map[string]any{}, nil
	}
	var m map[string]any
	err := json.Unmarshal(b, &m)
	return m, err
}

// decodeArtifacts decodes a finding's artifacts: nil for SQL NULL.
func decodeArtifacts(b []byte) ([]offsite.Artifact, error) {
	if b == nil {
		return nil, nil
	}
	if as, ok := parseArtifacts(b); ok {
		return as, nil
	}
	var as []offsite.Artifact
	err := json.Unmarshal(b, &as)
	return as, err
}

// errShape stops parseArtifacts at anything it leaves to encoding/json.
var errShape = errors.New("not the common shape")

// parseArtifacts reads an array of objects whose members are the five fields of
// offsite.Artifact, named exactly so, strings without escapes and an integer size. ok is
// false for anything else.
func parseArtifacts(b []byte) (_ []offsite.Artifact, ok bool) {
	p := jsonText{b: b}
	if p.next() != '[' {
		return nil, false
	}
	out := []offsite.Artifact{}
	if p.peek() == ']' {
		p.i++
		return out, p.end()
	}
	for {
		var a offsite.Artifact
		if err := p.artifact(&a); err != nil {
			return nil, false
		}
		out = append(out, a)
		switch p.next() {
		case ',':
			continue
		case ']':
			return out, p.end()
		}
		return nil, false
	}
}

// jsonText reads tokens of JSON text.
type jsonText struct {
	b []byte
	i int
}

func (p *jsonText) skipSpace() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// peek returns the next byte after white space (0 at the end).
func (p *jsonText) peek() byte {
	p.skipSpace()
	if p.i >= len(p.b) {
		return 0
	}
	return p.b[p.i]
}

// next consumes and returns the next byte after white space (0 at the end).
func (p *jsonText) next() byte {
	c := p.peek()
	if c != 0 {
		p.i++
	}
	return c
}

// end reports whether only white space is left.
func (p *jsonText) end() bool { return p.peek() == 0 && p.i == len(p.b) }

// plainString reads a string without escapes or control characters.
func (p *jsonText) plainString() (string, error) {
	if p.next() != '"' {
		return "", errShape
	}
	start := p.i
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			s := string(p.b[start:p.i])
			p.i++
			return s, nil
		case c == '\\' || c < 0x20:
			return "", errShape
		}
	}
	return "", errShape
}

func (p *jsonText) artifact(a *offsite.Artifact) error {
	if p.next() != '{' {
		return errShape
	}
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		key, err := p.plainString()
		if err != nil {
			return err
		}
		if p.next() != ':' {
			return errShape
		}
		if key == "size" {
			p.skipSpace()
			start := p.i
			for p.i < len(p.b) && (p.b[p.i] == '-' || '0' <= p.b[p.i] && p.b[p.i] <= '9') {
				p.i++
			}
			if a.Size, err = strconv.ParseInt(string(p.b[start:p.i]), 10, 64); err != nil {
				return errShape
			}
		} else {
			v, err := p.plainString()
			if err != nil {
				return err
			}
			switch key {
			case "name":
				a.Name = v
			case "key":
				a.Key = v
			case "sha256":
				a.SHA256 = v
			case "media_type":
				a.MediaType = v
			default:
				return errShape
			}
		}
		switch p.next() {
		case ',':
			continue
		case '}':
			return nil
		}
		return errShape
	}
}
