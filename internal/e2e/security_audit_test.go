package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/tasks"
)

// TestNightlyAuditCheckpoint: the nightly audit:checkpoint task writes the signed head of the
// newest entry, and the verify route checks the chain against it.
func TestNightlyAuditCheckpoint(t *testing.T) {
	s := startSystem(t)
	check, err := enforce.USCCCheckChar("91320594MA1W6K2Q3")
	if err != nil {
		t.Fatal(err)
	}
	uscc := "91320594MA1W6K2Q3" + string(check)
	if code := s.call(t, "POST", "/api/v1/enterprises", map[string]any{"uscc": uscc, "name": "某公司", "industry": "C2614"}, nil); code != 201 {
		t.Fatalf("POST enterprise: %d", code)
	}
	for i := 0; i < 2; i++ {
		if code := s.call(t, "GET", "/api/v1/enterprises/"+uscc+"/evidence", nil, nil); code != 200 {
			t.Fatalf("GET evidence: %d", code)
		}
	}
	head, err := s.store.LatestAuditHead(context.Background())
	if err != nil || head == nil || head.Seq != 1 {
		t.Fatalf("head after the first entry: %+v %v", head, err)
	}
	if _, err := s.client.Enqueue(tasks.NewAuditCheckpointTask(), asynq.TaskID("audit-checkpoint-test"), asynq.Retention(time.Hour)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := s.inspect.GetTaskInfo(tasks.QueueNightly, "audit-checkpoint-test")
		if err == nil && info.State == asynq.TaskStateCompleted {
			break
		}
		if err == nil && info.State == asynq.TaskStateArchived || time.Now().After(deadline) {
			t.Fatalf("audit checkpoint task: %+v %v", info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if head, err = s.store.LatestAuditHead(context.Background()); err != nil || head == nil || head.Seq != 3 {
		t.Fatalf("head after the nightly checkpoint: %+v %v", head, err)
	}
	var ver struct {
		OK         bool               `json:"ok"`
		Checked    int64              `json:"checked"`
		Checkpoint *enforce.AuditHead `json:"checkpoint"`
	}
	if code := s.call(t, "GET", "/api/v1/audit/verify", nil, &ver); code != 200 || !ver.OK || ver.Checked != 3 || ver.Checkpoint == nil || ver.Checkpoint.Seq != 3 {
		t.Errorf("verify: %d %+v", code, ver)
	}
}
