// Package msgs is the catalog of the sentences Offsite's server writes for people in a fixed
// form, each in Chinese and English: the titles and generic details of problem answers, the
// refusals of a missing field, the reasons of a positive-list evaluation, notification titles.
// A sentence travels as a Message (a code and its arguments) beside the English text the
// server has always written, so an API client reads English as before, a request asking for
// Chinese (?lang=zh or Accept-Language) reads Chinese, and the web interface renders the code
// in the language the user chose from web/src/msgcatalog.ts, which `go generate
// ./internal/msgs` writes from this catalog.
//
// Text a person wrote (a complaint's summary, a reason given) is never a Message: it is shown
// as written.
package msgs

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

//go:generate go run ./gen ../../web/src/msgcatalog.ts

// Code names a sentence of the catalog.
type Code string

// Message is a sentence of the catalog with its arguments, filled into {name} placeholders.
// An argument holds a value as the server knows it (a field name, a fact, a number); the web
// interface translates the arguments that are domain codes (msgcatalog.ts argVocab).
type Message struct {
	Code Code              `json:"code"`
	Args map[string]string `json:"args,omitempty"`
}

// New returns the message of code with arguments given as name, value pairs.
func New(code Code, kv ...string) Message {
	if len(kv)%2 != 0 {
		panic("msgs: odd argument list for " + string(code))
	}
	m := Message{Code: code}
	if len(kv) > 0 {
		m.Args = make(map[string]string, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			m.Args[kv[i]] = kv[i+1]
		}
	}
	return m
}

// With returns m with one more argument.
func (m Message) With(name, value string) Message {
	args := maps.Clone(m.Args)
	if args == nil {
		args = map[string]string{}
	}
	args[name] = value
	m.Args = args
	return m
}

// Lang is a language of the catalog.
type Lang string

// The languages: Chinese, the default of the web interface, and English, the API's default.
const (
	ZH Lang = "zh"
	EN Lang = "en"
)

// Text is m in language l; a code the catalog lacks is given as it is, with its arguments.
func (m Message) Text(l Lang) string {
	e, ok := catalog[m.Code]
	if !ok {
		return fmt.Sprintf("%s %v", m.Code, m.Args)
	}
	s := e.en
	if l == ZH {
		s = e.zh
	}
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		name := p[1 : len(p)-1]
		v, ok := m.Args[name]
		if !ok {
			return p
		}
		if zh, ok := argValues[name][v]; ok && l == ZH {
			return zh
		}
		return v
	})
}

// String is m in English.
func (m Message) String() string { return m.Text(EN) }

var placeholder = regexp.MustCompile(`\{[a-z_0-9]+\}`)

// RequestLang is the language a request asks for: ?lang=zh or en first, then the first of
// Accept-Language's languages that is Chinese or English (by q), else English.
func RequestLang(r *http.Request) Lang {
	if r == nil {
		return EN
	}
	if r.URL != nil {
		switch strings.ToLower(r.URL.Query().Get("lang")) {
		case "zh", "zh-cn", "zh-hans":
			return ZH
		case "en":
			return EN
		}
	}
	best, bestQ := EN, 0.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				continue
			}
		}
		tag = strings.ToLower(strings.TrimSpace(tag))
		var l Lang
		switch {
		case tag == "zh" || strings.HasPrefix(tag, "zh-"):
			l = ZH
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			l = EN
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}

// Codes lists the catalog's codes, sorted.
func Codes() []Code { return slices.Sorted(maps.Keys(catalog)) }

// Placeholders lists the {names} of s, sorted and without repeats.
func Placeholders(s string) []string {
	var out []string
	for _, p := range placeholder.FindAllString(s, -1) {
		out = append(out, p[1:len(p)-1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Texts returns the Chinese and English text of code, ok false when the catalog lacks it.
func Texts(code Code) (zh, en string, ok bool) {
	e, ok := catalog[code]
	return e.zh, e.en, ok
}
