package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/tasks"
	"github.com/offsite/offsite/internal/testenv"
)

// failingStore is the receiver's store as far as the wrapper sees it: it fails or succeeds.
type failingStore struct{ err error }

func (s failingStore) WriteBatch(context.Context, []*hj212.Record) error { return s.err }

func TestAnalysisQueue(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	redis := testenv.Redis(t)
	q := asynq.NewClient(redis)
	defer q.Close()
	cst := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, cst)
	rec := func(mn, cn string, t time.Time, quarantine string) *hj212.Record {
		return &hj212.Record{Frame: &hj212.Frame{Valid: true, MN: mn, CN: cn, Time: t}, Quarantine: quarantine}
	}
	recs := []*hj212.Record{
		rec("MN1", "2051", at.Add(time.Minute), ""), rec("MN1", "2051", at.Add(2*time.Minute), ""), rec("MN1", "2061", at, ""),
		rec("MN2", "2011", at.Add(70*time.Minute), ""),
		rec("MN3", "2051", at, "unknown MN"), // quarantined: not analysed
		rec("MN4", "9014", at, ""),           // not a data upload
	}
	// A batch that did not become durable queues nothing.
	bad := &analysisStore{Store: failingStore{errors.New("database down")}, keys: make(chan analysisKey, 10)}
	if err := bad.WriteBatch(ctx, recs); err == nil || len(bad.keys) != 0 {
		t.Fatalf("a failed batch: err %v, %d keys", err, len(bad.keys))
	}
	a := &analysisStore{Store: failingStore{}, keys: make(chan analysisKey, 10)}
	if err := a.WriteBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteBatch(ctx, recs); err != nil { // a retransmission
		t.Fatal(err)
	}
	go queueAnalyses(ctx, a.keys, q, slog.New(slog.NewTextHandler(io.Discard, nil)))
	insp := asynq.NewInspector(redis)
	defer insp.Close()
	want := map[string]bool{
		tasks.MonitoringAnalyzeTaskID(tasks.MonitoringAnalyzePayload{MN: "MN1", Hour: at}):                true,
		tasks.MonitoringAnalyzeTaskID(tasks.MonitoringAnalyzePayload{MN: "MN2", Hour: at.Add(time.Hour)}): true,
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The hours are long past: the tasks are pending at once.
		pending, err := insp.ListPendingTasks(tasks.QueueDefault)
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) { // nothing queued yet
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, p := range pending {
			got[p.ID] = true
		}
		if len(got) == len(want) && got[firstKey(want)] {
			for id := range want {
				if !got[id] {
					t.Errorf("task %s not queued; queued %v", id, got)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queued %v, want %v", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}
