package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
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
const timeoutBody = `{"type":"urn:offsite:problem:timeout","title":"Service Unavailable","status":503,"detail":"the request took too long and was stopped; nothing further was done for it","code":"timeout","error":{"code":"timeout","message":"the request took too long and was stopped; nothing further was done for it"}}`

// closeGrace is how long a handler whose request context was cancelled (the client went
// away, or its body stopped arriving) may take to finish its answer.
const closeGrace = time.Second

// bound applies the route's deadlines around h: the connection's read deadline (for the
// body) and write deadline through http.ResponseController, and for ordinary routes a
// handler deadline.
func (s *Server) bound(pattern string, h http.Handler) http.Handler {
	if streamingRoutes[pattern] {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			now := time.Now()
			// Writers that cannot (an httptest.ResponseRecorder) are left as they are.
			_ = rc.SetReadDeadline(now.Add(s.StreamTimeout))
			_ = rc.SetWriteDeadline(now.Add(s.StreamTimeout))
			h.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		end := now.Add(s.HandlerTimeout + writeGrace)
		_ = rc.SetWriteDeadline(end)
		// A read deadline also bounds the server's wait for the client to hang up once the
		// body is read (which cancels the request's context): the body gets ReadTimeout,
		// the rest of the request the handler deadline.
		if r.Body != nil && r.Body != http.NoBody {
			_ = rc.SetReadDeadline(now.Add(s.ReadTimeout))
			r.Body = &textBody{ReadCloser: r.Body, atEOF: func() { _ = rc.SetReadDeadline(end) }}
		} else {
			_ = rc.SetReadDeadline(end)
		}
		s.withDeadline(w, r, h)
	})
}

// withDeadline runs h with HandlerTimeout on its context, its answer held back until it
// returns; past the deadline the client gets 503 (timeoutBody) while h, told through its
// context, finishes on its own, its answer dropped. This is http.TimeoutHandler, except that
// a cancelled request (the body stopped arriving, the client hung up) lets h answer for
// itself (408, or nothing for nobody) instead of a bare 503.
func (s *Server) withDeadline(w http.ResponseWriter, r *http.Request, h http.Handler) {
	ctx, cancel := context.WithTimeout(r.Context(), s.HandlerTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	hw := &heldWriter{header: make(http.Header), body: heldBodies.Get().(*bytes.Buffer)}
	done := make(chan struct{})
	panicked := make(chan any, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				panicked <- p
			}
		}()
		h.ServeHTTP(hw, r)
		close(done)
	}()
	finished := false
	select {
	case p := <-panicked:
		panic(p)
	case <-done:
		finished = true
	case <-ctx.Done():
		if ctx.Err() == context.Canceled {
			select {
			case p := <-panicked:
				panic(p)
			case <-done:
				finished = true
			case <-time.After(closeGrace):
			}
		}
	}
	hw.mu.Lock()
	defer hw.mu.Unlock()
	if !finished {
		hw.dropped = true
		if ctx.Err() == context.DeadlineExceeded {
			w.Header().Set("Content-Type", ProblemContentType)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, timeoutBody)
		}
		return
	}
	if hw.code == 0 {
		hw.code = http.StatusOK
	}
	// h is done with hw: its body goes back to the pool once sent.
	defer func() {
		if hw.body.Cap() <= maxPooledJSON {
			hw.body.Reset()
			heldBodies.Put(hw.body)
		}
	}()
	notModified := conventionHeaders(r, hw) // ETag, list headers (conventions.go)
	for k, v := range hw.header {
		w.Header()[k] = v
	}
	if notModified {
		w.Header().Del("Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(hw.code)
	_, _ = w.Write(hw.body.Bytes())
}

// heldBodies holds the buffers of answers withDeadline held, between requests: an evidence
// answer is some 17 KB, which a new buffer reached by growing (and copying) ten times.
var heldBodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// heldWriter holds a handler's answer until withDeadline sends or drops it.
type heldWriter struct {
	mu      sync.Mutex
	header  http.Header
	code    int
	body    *bytes.Buffer // from heldBodies
	dropped bool
	page    *listPage // the JSON list written, if any (notePage)
}

func (w *heldWriter) Header() http.Header { return w.header }

func (w *heldWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.code == 0 && !w.dropped {
		w.code = code
	}
}

func (w *heldWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dropped {
		return 0, http.ErrHandlerTimeout
	}
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(b)
}

// wildcards matches the wildcards of a ServeMux pattern.
var wildcards = regexp.MustCompile(`\{([a-zA-Z_]+)(?:\.\.\.)?\}`)

// checkText refuses, before h runs, path values and query parameters that are not UTF-8 text
// or hold NUL (PostgreSQL stores neither), naming the parameter. The body of an ordinary
// route is checked as it is read (textBody, set by bound).
func (s *Server) checkText(path string, h http.HandlerFunc) http.HandlerFunc {
	var names []string
	for _, m := range wildcards.FindAllStringSubmatch(path, -1) {
		names = append(names, m[1])
	}
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

// textBody fails a read at the first byte of the body that is not UTF-8, and tells a client
// that went away from a body that is merely invalid.
type textBody struct {
	io.ReadCloser
	atEOF func() // called once the whole body is read
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
	if err == io.EOF && b.atEOF != nil {
		b.atEOF()
		b.atEOF = nil
	}
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
