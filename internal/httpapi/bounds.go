package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/offsite/offsite"
)

// Bounds on what one request may take: time, and text the database can store.
//
// Ordinary routes answer JSON: their body must arrive within ReadTimeout and their answer be
// ready within HandlerTimeout, after which the client gets 503 and the handler's context is
// cancelled. Streaming routes (proof uploads, evidence and proof downloads through
// http.ServeContent) move large objects over slow links: they get StreamTimeout for reading
// and writing and no buffering, set per request through http.ResponseController.

// Default timeouts; the Server fields of the same names override them.
const (
	DefaultReadTimeout    = time.Minute
	DefaultHandlerTimeout = 2 * time.Minute
	DefaultStreamTimeout  = 30 * time.Minute
)

// writeGrace is how long after HandlerTimeout the answer (the 503 included) may take to write.
const writeGrace = 10 * time.Second

// streamingRoutes are the route patterns that stream bodies (ui_routes.go); every one must be
// registered (TestStreamingRoutesRegistered).
var streamingRoutes = map[string]bool{
	"GET /api/v1/ui/evidence/{key...}":              true,
	"GET /api/v1/ui/inspections/{id}/proofs/{name}": true,
	"PUT /api/v1/ui/inspections/{id}/proofs/{name}": true,
}

// timeoutBody is the answer of an ordinary route past HandlerTimeout.
const timeoutBody = `{"error":{"code":"timeout","message":"the request took too long and was stopped; nothing further was done for it"}}`

// bound applies the route's deadlines around h.
func (s *Server) bound(pattern string, h http.Handler) http.Handler {
	if streamingRoutes[pattern] {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			setDeadlines(w, s.StreamTimeout, s.StreamTimeout)
			h.ServeHTTP(w, r)
		})
	}
	th := http.TimeoutHandler(h, s.HandlerTimeout, timeoutBody)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setDeadlines(w, s.ReadTimeout, s.HandlerTimeout+writeGrace)
		th.ServeHTTP(jsonTimeout{w}, r)
	})
}

// setDeadlines sets the connection's read deadline (for the body) and write deadline (for the
// answer) from now. Writers that cannot (an httptest.ResponseRecorder) are left as they are.
func setDeadlines(w http.ResponseWriter, read, write time.Duration) {
	rc := http.NewResponseController(w)
	now := time.Now()
	_ = rc.SetReadDeadline(now.Add(read))
	_ = rc.SetWriteDeadline(now.Add(write))
}

// jsonTimeout labels http.TimeoutHandler's 503 as JSON (timeoutBody).
type jsonTimeout struct{ http.ResponseWriter }

func (w jsonTimeout) WriteHeader(code int) {
	if code == http.StatusServiceUnavailable && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w jsonTimeout) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wildcards matches the wildcards of a ServeMux pattern.
var wildcards = regexp.MustCompile(`\{([a-zA-Z_]+)(?:\.\.\.)?\}`)

// checkText refuses, before h runs, path values and query parameters that are not UTF-8 text
// or hold NUL (PostgreSQL stores neither), naming the parameter, and wraps the body of an
// ordinary route so that reading it fails the same way at the first byte that is not UTF-8.
func (s *Server) checkText(pattern, path string, h http.HandlerFunc) http.HandlerFunc {
	var names []string
	for _, m := range wildcards.FindAllStringSubmatch(path, -1) {
		names = append(names, m[1])
	}
	stream := streamingRoutes[pattern]
	return func(w http.ResponseWriter, r *http.Request) {
		for _, name := range names {
			if err := textValue(name, r.PathValue(name)); err != nil {
				s.Error(w, r, err)
				return
			}
		}
		for k, vs := range r.URL.Query() {
			if err := textValue("query parameter "+strings.ToValidUTF8(k, "?"), k); err != nil {
				s.Error(w, r, err)
				return
			}
			for _, v := range vs {
				if err := textValue(k, v); err != nil {
					s.Error(w, r, err)
					return
				}
			}
		}
		if !stream && r.Body != nil && r.Body != http.NoBody {
			r.Body = &textBody{ReadCloser: r.Body}
		}
		h(w, r)
	}
}

// textValue refuses v unless it is UTF-8 text without NUL.
func textValue(field, v string) error {
	if !utf8.ValidString(v) {
		return offsite.Invalid(field, "is not valid UTF-8 text")
	}
	if i := strings.IndexByte(v, 0); i >= 0 {
		return offsite.Invalid(field, "contains a NUL character (at byte %d)", i)
	}
	return nil
}

// errClientGone is what reading a body returns when the client closed the connection before
// sending all of it: Error answers (to nobody) and counts it as client-closed, not as a 500.
var errClientGone = errors.New("httpapi: the client closed the connection before sending the whole body")

// textBody fails a read at the first byte of the body that is not UTF-8.
type textBody struct {
	io.ReadCloser
	carry []byte // the start of a multi-byte sequence cut by the end of the last read
	off   int64  // bytes checked before carry
}

func (b *textBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.As(err, new(*http.MaxBytesError)) {
		return n, fmt.Errorf("%w: %v", errClientGone, err)
	}
	chunk := append(b.carry, p[:n]...)
	i := 0
	for i < len(chunk) {
		if chunk[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(chunk[i:]) && err == nil {
			break // the rest arrives with the next read
		}
		r, size := utf8.DecodeRune(chunk[i:])
		if r == utf8.RuneError && size == 1 {
			return 0, offsite.Invalid("body", "is not UTF-8 text (byte %d); send UTF-8, for a CSV choose \"CSV UTF-8\" when saving", b.off+int64(i))
		}
		i += size
	}
	b.off += int64(i)
	b.carry = append(b.carry[:0], chunk[i:]...)
	return n, err
}

// nulField returns the JSON path of the first string in v holding NUL, or "" when none does.
// Invalid UTF-8 never reaches here: textBody refuses it and encoding/json would replace it.
func nulField(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 {
			return path
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return nulField(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
				continue
			case f.Anonymous && name == "":
				name = path
			case name == "":
				name = join(path, f.Name)
			default:
				name = join(path, name)
			}
			if p := nulField(v.Field(i), name); p != "" {
				return p
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "" // raw JSON or bytes, checked where decoded
		}
		for i := range v.Len() {
			if p := nulField(v.Index(i), path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := it.Key()
			if k.Kind() == reflect.String && strings.IndexByte(k.String(), 0) >= 0 {
				return path
			}
			if p := nulField(it.Value(), join(path, k.String())); p != "" {
				return p
			}
		}
	}
	return ""
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
