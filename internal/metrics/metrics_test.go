package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/offsite/offsite/internal/testenv"
)

func TestMiddlewareOutcomes(t *testing.T) {
	m := New()
	h := m.Middleware(asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		switch string(t.Payload()) {
		case "retry":
			return errors.New("s3 down")
		case "fail":
			return fmt.Errorf("corrupt: %w", asynq.SkipRetry)
		}
		return nil
	}))
	for _, p := range []string{"ok", "ok", "retry", "fail"} {
		_ = h.ProcessTask(context.Background(), asynq.NewTask("capture:clip", []byte(p)))
	}
	for outcome, want := range map[string]float64{"ok": 2, "retry": 1, "failed": 1} {
		if got := testutil.ToFloat64(m.Tasks.WithLabelValues("capture:clip", outcome)); got != want {
			t.Errorf("tasks{outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	m.AddRead(1000, -1)
	m.AddRead(500, 200)
	if got := testutil.ToFloat64(m.Decoded); got != 1500 {
		t.Errorf("decoded = %v", got)
	}
	if got := testutil.ToFloat64(m.BytesFetched); got != 200 {
		t.Errorf("fetched = %v", got)
	}
	var nilM *Metrics
	nilM.AddRead(1, 1) // must not panic
}

func TestQueueCollector(t *testing.T) {
	redis := testenv.Redis(t)
	c := asynq.NewClient(redis)
	defer c.Close()
	for i := range 3 {
		if _, err := c.Enqueue(asynq.NewTask("x", []byte{byte(i)}), asynq.Queue("default")); err != nil {
			t.Fatal(err)
		}
	}
	insp := asynq.NewInspector(redis)
	defer insp.Close()
	m := New()
	m.Registry.MustRegister(NewQueueCollector(insp))
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `offsite_queue_tasks{queue="default",state="pending"} 3`) {
		t.Errorf("metrics lack the pending count:\n%s", body)
	}
}
