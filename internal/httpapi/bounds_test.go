package httpapi

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStreamingRoutesRegistered: every pattern bound.go treats as streaming is a route the
// server has, so that renaming one cannot silently put it under the handler deadline.
func TestStreamingRoutesRegistered(t *testing.T) {
	s := &Server{}
	s.Handler()
	have := map[string]bool{}
	for _, r := range s.routes {
		have[r.method+" "+r.path] = true
	}
	for p := range streamingRoutes {
		if !have[p] {
			t.Errorf("streaming route %q is not registered", p)
		}
	}
}

// TestDeadlinesSpareStreamingRoutes runs a download slower than the handler deadline and an
// upload slower than the body deadline: under a streaming pattern both complete, under an
// ordinary one they are cut off (503, 408).
func TestDeadlinesSpareStreamingRoutes(t *testing.T) {
	s := &Server{ReadTimeout: 200 * time.Millisecond, HandlerTimeout: 300 * time.Millisecond, StreamTimeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	download := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		for i := range 8 {
			fmt.Fprintf(w, "chunk %d\n", i)
			_ = rc.Flush()
			time.Sleep(100 * time.Millisecond)
		}
	})
	upload := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		fmt.Fprintf(w, "%d bytes", len(b))
	})
	const (
		streamGet = "GET /api/v1/ui/evidence/{key...}"
		streamPut = "PUT /api/v1/ui/inspections/{id}/proofs/{name}"
	)
	mux := http.NewServeMux()
	mux.Handle(streamGet, s.bound(streamGet, download))
	mux.Handle("GET /api/v1/plain", s.bound("GET /api/v1/plain", download))
	mux.Handle(streamPut, s.bound(streamPut, upload))
	mux.Handle("PUT /api/v1/plain", s.bound("PUT /api/v1/plain", upload))
	hs := httptest.NewServer(mux)
	defer hs.Close()

	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/api/v1/ui/evidence/a/b.tif", 200, "chunk 7\n"},
		{"GET", "/api/v1/plain", 503, `"timeout"`},
		{"PUT", "/api/v1/ui/inspections/1/proofs/p.pdf", 200, "6 bytes"},
		{"PUT", "/api/v1/plain", 408, `"request_timeout"`},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var body io.Reader
			if tc.method == "PUT" {
				body = &trickle{data: []byte("proof!"), every: 100 * time.Millisecond}
			}
			req, err := http.NewRequest(tc.method, hs.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = int64(len("proof!"))
			if body == nil {
				req.ContentLength = 0
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) {
				t.Errorf("%d %q, want %d with %q", resp.StatusCode, b, tc.status, tc.body)
			}
		})
	}
}

// trickle reads out data a byte at a time, waiting every before each.
type trickle struct {
	data  []byte
	every time.Duration
}

func (t *trickle) Read(p []byte) (int, error) {
	if len(t.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(t.every)
	p[0] = t.data[0]
	t.data = t.data[1:]
	return 1, nil
}
