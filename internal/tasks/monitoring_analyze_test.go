package tasks

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func TestMonitoringAnalyzeTask(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 11, 2, 9, 17, 30, 0, cst)
	a, err := NewMonitoringAnalyzeTask("MN0001", at)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMonitoringAnalyzeTask("MN0001", at.Add(40*time.Minute)) // the same hour
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseMonitoringAnalyze(a)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Hour.Equal(time.Date(2026, 11, 2, 9, 0, 0, 0, cst)) || p.MN != "MN0001" || p.Nightly {
		t.Errorf("payload %+v", p)
	}
	if MonitoringAnalyzeTaskID(p) != "monitoring:analyze:hour:MN0001:"+itoa(p.Hour.Unix()) {
		t.Errorf("id %s", MonitoringAnalyzeTaskID(p))
	}
	q, _ := ParseMonitoringAnalyze(b)
	if MonitoringAnalyzeTaskID(q) != MonitoringAnalyzeTaskID(p) {
		t.Error("two uploads of one hour queue two tasks")
	}
	n, err := NewMonitoringNightlyAnalyzeTask("MN0001", time.Date(2026, 11, 3, 0, 0, 0, 0, cst))
	if err != nil {
		t.Fatal(err)
	}
	np, _ := ParseMonitoringAnalyze(n)
	if !np.Nightly || MonitoringAnalyzeTaskID(np) == MonitoringAnalyzeTaskID(p) || !np.Hour.Equal(time.Date(2026, 11, 2, 23, 0, 0, 0, cst)) {
		t.Errorf("nightly payload %+v", np)
	}
	for _, tc := range []struct {
		name    string
		payload string
	}{
		{"MN with separators", `{"mn":"MN1;CN=9014","hour":"2026-11-02T09:00:00+08:00"}`},
		{"empty MN", `{"mn":"","hour":"2026-11-02T09:00:00+08:00"}`},
		{"not an hour", `{"mn":"MN1","hour":"2026-11-02T09:30:00+08:00"}`},
		{"no hour", `{"mn":"MN1"}`},
		{"not JSON", `{`},
	} {
		if _, err := ParseMonitoringAnalyze(asynq.NewTask(TypeMonitoringAnalyze, []byte(tc.payload))); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if _, err := NewMonitoringAnalyzeTask("bad mn!", at); err == nil {
		t.Error("a bad MN made a task")
	}
	var raw map[string]any
	_ = json.Unmarshal(a.Payload(), &raw)
	if len(raw) != 2 {
		t.Errorf("payload fields %v", raw)
	}
}

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
