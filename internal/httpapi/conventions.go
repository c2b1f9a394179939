package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/offsite/offsite/internal/msgs"
)

// The API's conventions, applied by the router to every route, so that a route gets them by
// being registered with Server.handle and answering through writeJSON and Server.Error:
//
//   - every error is an RFC 7807 problem (application/problem+json), 404 and 405 of the router
//     included;
//   - CORS for the origins in Server.CORSOrigins (none by default);
//   - a JSON answer to GET or HEAD carries a strong ETag, and If-None-Match answers 304;
//   - a JSON list (an object with "total", and "offset" and "limit" where it is paged) carries
//     X-Total-Count and RFC 8288 Link headers (first, prev, next, last).

// ProblemContentType is the media type of every error answer (RFC 7807).
const ProblemContentType = "application/problem+json"

// problemTypePrefix + code is a problem's type URI.
const problemTypePrefix = "urn:offsite:problem:"

// problem is the RFC 7807 body of every error answer. Code and Field are extension members:
// Code names the category (the last segment of Type), Field the input at fault. Error
// repeats code, field and message in the shape error bodies had before problem details, for
// clients written against it.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	// Message is the detail as a sentence of the message catalog (internal/msgs), where it
	// has a fixed form: a client renders it in its own language from the code.
	Message *msgs.Message `json:"message,omitempty"`
	// Rows lists the rows at fault of a refused import.
	Rows  any         `json:"rows,omitempty"`
	Error errorFields `json:"error"`
}

type errorFields struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// newProblem returns the problem of an answer with status, category code, the input field at
// fault (or "") and the message for the client: detail in English, and m, when not nil, the
// same as a sentence of the catalog. A request asking for Chinese (msgs.RequestLang) gets the
// title, and the detail where m gives it, in Chinese; error.message stays English.
func newProblem(r *http.Request, status int, code, field, detail string, m *msgs.Message) *problem {
	p := &problem{Type: problemTypePrefix + code, Title: http.StatusText(status), Status: status, Detail: detail,
		Code: code, Field: field, Message: m, Error: errorFields{Code: code, Field: field, Message: detail}}
	if p.Title == "" {
		p.Title = code
	}
	if lang := msgs.RequestLang(r); lang != msgs.EN {
		if t := msgs.TitleOf(status); t != "" {
			p.Title = msgs.New(t).Text(lang)
		}
		if m != nil {
			p.Detail = m.Text(lang)
		}
	}
	if r != nil && r.URL != nil {
		p.Instance = r.URL.Path
	}
	return p
}

// writeProblem writes p as the answer.
func writeProblem(w http.ResponseWriter, p *problem) {
	b, err := json.Marshal(p)
	if err != nil { // a problem is strings and numbers (and import rows, which marshal)
		b = []byte(`{"type":"urn:offsite:problem:internal","title":"Internal Server Error","status":500,"detail":"internal error","code":"internal","error":{"code":"internal","message":"internal error"}}`)
		p.Status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Del("Content-Length")
	w.Header().Del("ETag")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}

// routed answers what mux does not route (no pattern matches: 404; the path matches for
// other methods: 405 with Allow) with a problem instead of the router's plain text.
func (s *Server) routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		c := &capturedHeader{header: http.Header{}}
		h.ServeHTTP(c, r)
		switch c.status {
		case http.StatusNotFound:
			m := msgs.New(msgs.NoRoute, "path", r.URL.Path)
			writeProblem(w, newProblem(r, http.StatusNotFound, "not_found", "path", m.Text(msgs.EN), &m))
		case http.StatusMethodNotAllowed:
			allow := c.header.Get("Allow")
			w.Header().Set("Allow", allow)
			m := msgs.New(msgs.MethodNotAllowed, "method", r.Method, "path", r.URL.Path, "allow", allow)
			writeProblem(w, newProblem(r, http.StatusMethodNotAllowed, "method_not_allowed", "method", m.Text(msgs.EN), &m))
		default: // not seen from a ServeMux without a pattern; answered as it was
			for k, v := range c.header {
				w.Header()[k] = v
			}
			w.WriteHeader(c.status)
			_, _ = w.Write(c.body)
		}
	})
}

// capturedHeader records an answer the router wrote itself.
type capturedHeader struct {
	header http.Header
	status int
	body   []byte
}

func (c *capturedHeader) Header() http.Header { return c.header }
func (c *capturedHeader) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *capturedHeader) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body = append(c.body, b...)
	return len(b), nil
}

// ---------------------------------------------------------------- CORS

// corsAllowHeaders are the request headers a browser may send cross-origin.
const corsAllowHeaders = "Authorization, Content-Type, If-None-Match, If-Match"

// corsExposeHeaders are the answer headers a cross-origin script may read.
const corsExposeHeaders = "ETag, Link, X-Total-Count, Location, Allow, WWW-Authenticate"

// corsMaxAge is how long (seconds) a browser may cache a preflight's answer.
const corsMaxAge = "600"

// ParseCORSOrigins reads allowed origins separated by commas or spaces: each
// scheme://host[:port] with scheme http or https and nothing after, or "*" (any origin; tokens
// travel in the Authorization header, never cookies, so no credentials are allowed).
func ParseCORSOrigins(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if f == "*" {
			out = append(out, f)
			continue
		}
		u, err := url.Parse(f)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("httpapi: CORS origin %q is not scheme://host[:port] (http or https) or *", f)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// corsAllowed reports whether origin may call the API.
func (s *Server) corsAllowed(origin string) bool {
	if origin == "" {
		return false
	}
	return slices.Contains(s.CORSOrigins, "*") || slices.Contains(s.CORSOrigins, strings.ToLower(origin))
}

// cors adds CORS headers for allowed origins and answers their preflight requests with the
// methods the path's routes accept. Other origins get no CORS headers (the browser refuses
// the answer to their scripts) and their preflights are the router's 405.
func (s *Server) cors(mux *http.ServeMux, next http.Handler) http.Handler {
	if len(s.CORSOrigins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		if !s.corsAllowed(origin) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		if slices.Contains(s.CORSOrigins, "*") {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		want := r.Header.Get("Access-Control-Request-Method")
		if r.Method != http.MethodOptions || want == "" {
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			next.ServeHTTP(w, r)
			return
		}
		// Preflight: the methods routed for this path.
		var allowed []string
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) == 0 {
			next.ServeHTTP(w, r) // no such route: the router's 404
			return
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", strings.Join(allowed, ", "))
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	})
}

// ---------------------------------------------------------------- lists and ETags

// listPage is what writeJSON learnt of a JSON list: its total, and its window where it is
// paged (offset and limit in the body; -1 otherwise).
type listPage struct {
	total, offset, limit int
}

// pageOf returns the page of a list body: a map with an integer "total", and "offset" and
// "limit" when it is paged; nil for anything else.
func pageOf(v any) *listPage {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	total, ok := asInt(m["total"])
	if !ok {
		return nil
	}
	p := &listPage{total: total, offset: -1, limit: -1}
	if off, ok := asInt(m["offset"]); ok {
		if lim, ok := asInt(m["limit"]); ok && lim > 0 && off >= 0 {
			p.offset, p.limit = off, lim
		}
	}
	return p
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case int32:
		return int(n), true
	}
	return 0, false
}

// notePage tells the writer holding w's answer (heldWriter) of the list v, so that its
// answer carries the list's headers.
func notePage(w http.ResponseWriter, v any) {
	p := pageOf(v)
	if p == nil {
		return
	}
	for w != nil {
		if hw, ok := w.(*heldWriter); ok {
			hw.page = p
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// pageLinks returns the RFC 8288 Link header of page p of the list at r's URL: first and
// last always, prev and next where they exist; the URLs keep r's other query parameters.
func pageLinks(r *http.Request, p *listPage) string {
	link := func(offset int, rel string) string {
		q := r.URL.Query()
		q.Set("offset", strconv.Itoa(offset))
		q.Set("limit", strconv.Itoa(p.limit))
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	links := []string{link(0, "first")}
	if p.offset > 0 {
		links = append(links, link(max(0, p.offset-p.limit), "prev"))
	}
	if p.offset+p.limit < p.total {
		links = append(links, link(p.offset+p.limit, "next"))
	}
	last := 0
	if p.total > 0 {
		last = (p.total - 1) / p.limit * p.limit
	}
	links = append(links, link(last, "last"))
	return strings.Join(links, ", ")
}

// isJSON reports whether a Content-Type is JSON (application/json or a +json type).
func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// strongETag returns the strong entity tag of a body: its SHA-256, shortened.
func strongETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatches reports whether an If-None-Match header value names etag (weak comparison, as
// RFC 9110 has for If-None-Match).
func etagMatches(ifNoneMatch, etag string) bool {
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// conventionHeaders sets the list and ETag headers of an answer held in hw before it is sent,
// and reports whether it is to be answered 304 Not Modified instead.
func conventionHeaders(r *http.Request, hw *heldWriter) (notModified bool) {
	if hw.code != http.StatusOK || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	h := hw.header
	if !isJSON(h.Get("Content-Type")) || problemType(h) {
		return false
	}
	if p := hw.page; p != nil {
		h.Set("X-Total-Count", strconv.Itoa(p.total))
		if p.limit > 0 {
			h.Set("Link", pageLinks(r, p))
		}
	}
	if h.Get("ETag") == "" {
		h.Set("ETag", strongETag(hw.body.Bytes()))
	}
	inm := r.Header.Get("If-None-Match")
	return inm != "" && etagMatches(inm, h.Get("ETag"))
}

func problemType(h http.Header) bool {
	return strings.HasPrefix(h.Get("Content-Type"), ProblemContentType)
}
