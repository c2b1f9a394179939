package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/testenv"
)

// TestHealthz: the worker's public /healthz printed PostgreSQL's and Redis's errors, which
// name internal addresses. It shows each dependency up or down; the reason is logged.
func TestHealthz(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, testenv.Postgres(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	dead := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	for _, tc := range []struct {
		name  string
		redis asynq.RedisClientOpt
		code  int
		want  string
	}{
		{"up", testenv.Redis(t), http.StatusOK, `{"status":"ok","checks":[{"name":"postgres","ok":true},{"name":"redis","ok":true}]}`},
		{"redis down", asynq.RedisClientOpt{Addr: dead}, http.StatusServiceUnavailable, `{"status":"unavailable","checks":[{"name":"postgres","ok":true},{"name":"redis","ok":false}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			rec := httptest.NewRecorder()
			healthz(logger, db, tc.redis).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			body := strings.Join(strings.Fields(rec.Body.String()), "")
			if rec.Code != tc.code || body != tc.want {
				t.Errorf("got %d %s, want %d %s", rec.Code, body, tc.code, tc.want)
			}
			if strings.Contains(body, dead) {
				t.Errorf("the answer names the address: %s", body)
			}
			if tc.code != http.StatusOK && !strings.Contains(logs.String(), dead) {
				t.Errorf("the reason is not logged: %s", logs.String())
			}
		})
	}
}
