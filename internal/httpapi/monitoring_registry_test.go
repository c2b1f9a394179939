package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/worker"
)

func TestMonitoringRoutes(t *testing.T) {
	e := newEnforceServer(t)
	ctx := context.Background()
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(otherUSCC, 120.3, 30.4), nil)
	point := func(mn, uscc, outlet, pw string) map[string]any {
		return map[string]any{"mn": mn, "uscc": uscc, "outlet": outlet, "name": "stack", "location": []float64{120.1, 30.2}, "password": pw}
	}
	var apiErr apiError
	for _, tc := range []struct {
		name   string
		token  string
		body   any
		status int
		field  string
	}{
		{"enterprise may not register", enterprise, point("MN1", entUSCC, "DA001", "123456"), 403, ""},
		{"bad outlet", analyst, point("MN1", entUSCC, "A001", "123456"), 400, "outlet"},
		{"no password", analyst, point("MN1", entUSCC, "DA001", ""), 400, "password"},
		{"MN with separators", analyst, point("MN1;CN=2011", entUSCC, "DA001", "123456"), 400, "mn"},
		{"unknown field", analyst, `{"mn":"MN1","uscc":"` + entUSCC + `","outlet":"DA001","location":[120,30],"password":"123456","pw_hash":"x"}`, 400, ""},
		{"registered", analyst, point("MN1", entUSCC, "DA001", "123456"), 201, ""},
		{"again", analyst, point("MN1", entUSCC, "DA001", "123456"), 409, ""},
		{"other enterprise's point", analyst, point("MN9", otherUSCC, "DA001", "654321"), 201, ""},
	} {
		apiErr = apiError{}
		st, body := e.call(t, tc.token, "POST", "/api/v1/monitoring/points", tc.body, nil)
		if st != tc.status {
			t.Errorf("%s: status %d (%s), want %d", tc.name, st, body, tc.status)
			continue
		}
		var problem struct {
			Field string `json:"field"`
		}
		if tc.field != "" && (json.Unmarshal(body, &problem) != nil || problem.Field != tc.field) {
			t.Errorf("%s: error does not name %s: %s", tc.name, tc.field, body)
		}
		if st == 201 && strings.Contains(string(body), "sha256$") {
			t.Errorf("%s: the password hash is in the answer", tc.name)
		}
	}
	e.must(t, 200, analyst, "PUT", "/api/v1/enterprises/"+entUSCC+"/monitoring/limits/DA001/so2", map[string]any{"hourly": 100, "o2_ref": 6, "basis": "GB 13223-2011"}, nil)
	e.must(t, 400, analyst, "PUT", "/api/v1/enterprises/"+entUSCC+"/monitoring/limits/DA001/benzene", map[string]any{"hourly": 1}, &apiErr)
	if apiErr.Error.Field != "pollutant" {
		t.Errorf("unknown pollutant: %+v", apiErr.Error)
	}
	e.must(t, 403, enterprise, "PUT", "/api/v1/enterprises/"+entUSCC+"/monitoring/limits/DA001/so2", map[string]any{"hourly": 1000}, nil)

	// A day of hour uploads with an exceedance at 07:00–09:00, analysed by the worker.
	mon := postgres.NewMonitoringRegistry(e.enf)
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, monitoring.CST)
	for i := 0; i < 12; i++ {
		so2, o2 := 40+float64(i%3), 6+0.1*float64(i%2)
		if i == 7 || i == 8 {
			so2, o2 = 90, 11
		}
		raw := fmt.Sprintf("CN=2061;MN=MN1;DataTime=%d;a21026-Avg=%g;a19001-Avg=%g", i, so2, o2)
		sum := sha256.Sum256([]byte(raw))
		if err := mon.StoreUpload(ctx, &postgres.LoggerUpload{SHA256: hex.EncodeToString(sum[:]), Raw: []byte(raw), CN: "2061", MN: "MN1",
			DataTime: day.Add(time.Duration(i) * time.Hour), Values: []postgres.LoggerValue{{Factor: "a21026", Avg: &so2, Flag: "N"}, {Factor: "a19001", Avg: &o2, Flag: "N"}}}); err != nil {
			t.Fatal(err)
		}
	}
	h := &worker.MonitoringHandler{Deps: &worker.Deps{Monitoring: mon, Findings: postgres.NewFindingService(e.db), Store: e.store,
		EvidenceBucket: e.store.Evidence, Warnings: &enforce.Inspections{Store: postgres.NewInspectionStore(e.enf), Config: enforce.DefaultConfig()},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	if _, err := h.Analyze(ctx, "MN1", day.Add(11*time.Hour)); err != nil {
		t.Fatal(err)
	}

	var view struct {
		Points []struct {
			MN     string `json:"mn"`
			Medium string `json:"medium"`
		} `json:"points"`
		Events []struct {
			ID         string         `json:"id"`
			Class      string         `json:"class"`
			Properties map[string]any `json:"properties"`
		} `json:"events"`
		Exceedances []struct {
			Status string `json:"status"`
		} `json:"exceedances"`
	}
	body := e.must(t, 200, enterprise, "GET", "/api/v1/enterprises/"+entUSCC+"/monitoring", nil, &view)
	if len(view.Points) != 1 || view.Points[0].Medium != "gas" || len(view.Exceedances) != 1 || view.Exceedances[0].Status != monitoring.ReportUnreported {
		t.Errorf("monitoring view: %s", body)
	}
	if strings.Contains(string(body), "sha256$") {
		t.Error("the view holds a password hash")
	}
	found := false
	for _, ev := range view.Events {
		found = found || ev.Class == monitoring.RuleExceedanceHourly && len(ev.Properties["frames"].([]any)) == 2
	}
	if !found {
		t.Errorf("no exceedance event with its two frames: %s", body)
	}
	e.must(t, 403, enterprise, "GET", "/api/v1/enterprises/"+otherUSCC+"/monitoring", nil, nil)
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	e.must(t, 200, analyst, "GET", "/api/v1/findings?kind=monitoring", nil, &fc)
	if len(fc.Features) != len(view.Events) || fc.Features[0].Properties["uscc"] != entUSCC {
		t.Errorf("monitoring findings listed: %d, want %d on %s", len(fc.Features), len(view.Events), entUSCC)
	}

	// The series chart.
	chart := "/api/v1/monitoring/points/MN1/chart.png?pollutant=so2&from=2026-11-01&to=2026-11-03"
	req, _ := http.NewRequest("GET", e.hs.URL+chart, nil)
	req.Header.Set("Authorization", "Bearer "+enterprise)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	png, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || string(png[1:4]) != "PNG" {
		t.Errorf("chart: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	e.must(t, 400, enterprise, "GET", "/api/v1/monitoring/points/MN1/chart.png?pollutant=gold", nil, nil)
	e.must(t, 400, enterprise, "GET", "/api/v1/monitoring/points/MN1/chart.png?pollutant=so2&from=2026-01-01&to=2026-11-01", nil, nil)
	e.must(t, 403, enterprise, "GET", "/api/v1/monitoring/points/MN9/chart.png?pollutant=so2", nil, nil)
	e.must(t, 404, analyst, "GET", "/api/v1/monitoring/points/NOPE/chart.png?pollutant=so2", nil, nil)

	// The inspection opened on the enterprise asks for its self-check, and offers the
	// unreported exceedance to the disposition.
	var list struct {
		Items []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"inspections"`
	}
	lb := e.must(t, 200, inspector, "GET", "/api/v1/inspections?uscc="+entUSCC, nil, &list)
	if len(list.Items) != 1 || list.Items[0].Status != string(enforce.InspSelfCheckRequested) {
		t.Fatalf("inspections: %s", lb)
	}
	var facts struct {
		Unreported   bool `json:"unreported_exceedance"`
		SelfReported bool `json:"self_reported"`
		Violation    struct {
			Unreported bool `json:"unreported_exceedance"`
		} `json:"violation"`
		Preview struct {
			Rule, Penalty string
		} `json:"disposition_preview"`
	}
	fb := e.must(t, 200, inspector, "GET", fmt.Sprintf("/api/v1/inspections/%d/monitoring", list.Items[0].ID), nil, &facts)
	if !facts.Unreported || facts.SelfReported || !facts.Violation.Unreported || facts.Preview.Penalty != enforce.PenaltyStandard {
		t.Errorf("facts: %s", fb)
	}

	// Self-reports: the enterprise for its own point only; too late to cover this one.
	var rep struct {
		Covers []string `json:"covers"`
	}
	e.must(t, 201, enterprise, "POST", "/api/v1/enterprises/"+entUSCC+"/monitoring/reports",
		map[string]any{"mn": "MN1", "pollutant": "so2", "started_at": "2026-11-02T07:00:00+08:00", "text": "FGD pump stopped"}, &rep)
	if len(rep.Covers) != 0 {
		t.Errorf("a late report covers %v", rep.Covers)
	}
	e.must(t, 403, enterprise, "POST", "/api/v1/enterprises/"+otherUSCC+"/monitoring/reports",
		map[string]any{"mn": "MN9", "started_at": "2026-11-02T07:00:00+08:00", "text": "x"}, nil)
	e.must(t, 403, enterprise, "POST", "/api/v1/enterprises/"+entUSCC+"/monitoring/reports",
		map[string]any{"mn": "MN9", "started_at": "2026-11-02T07:00:00+08:00", "text": "x"}, nil)
	e.must(t, 400, enterprise, "POST", "/api/v1/enterprises/"+entUSCC+"/monitoring/reports",
		map[string]any{"mn": "MN1", "started_at": "yesterday", "text": "x"}, &apiErr)
	if apiErr.Error.Field != "started_at" {
		t.Errorf("bad time: %+v", apiErr.Error)
	}
}

// TestMonitoringQuarantineRoutes lists the frames kept in quarantine and releases those of a
// point registered afterwards, as an administrator; other roles may do neither.
func TestMonitoringQuarantineRoutes(t *testing.T) {
	e := newEnforceServer(t)
	ctx := context.Background()
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	dt := time.Now().In(monitoring.CST).Truncate(time.Hour).Add(-time.Hour).Format("20060102150405")
	var recs []*hj212.Record
	for i, pw := range []string{"123456", "123456", "guess1"} {
		f := hj212.Parse(hj212.Encode(fmt.Sprintf("QN=2024050112000000%d;ST=31;CN=2061;PW=%s;MN=QMN1;Flag=5;CP=&&DataTime=%s;a21026-Avg=%d&&", i, pw, dt, 10+i)))
		r := hj212.NewRecord(f, "192.0.2.7:4000", time.Now())
		r.Quarantine = "unknown MN"
		recs = append(recs, r)
	}
	if err := postgres.NewMonitoringStore(e.db).WriteBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var q struct {
		Quarantine []monitoring.QuarantinedMN `json:"quarantine"`
	}
	e.must(t, 200, admin, "GET", "/api/v1/monitoring/quarantine", nil, &q)
	if len(q.Quarantine) != 1 || q.Quarantine[0].MN != "QMN1" || q.Quarantine[0].Frames != 3 || q.Quarantine[0].USCC != "" {
		t.Fatalf("quarantine: %+v", q.Quarantine)
	}
	e.must(t, 403, analyst, "GET", "/api/v1/monitoring/quarantine", nil, nil)
	e.must(t, 400, admin, "GET", "/api/v1/monitoring/quarantine?limit=0", nil, nil)
	e.must(t, 404, admin, "POST", "/api/v1/monitoring/points/QMN1/quarantine/release", nil, nil)
	e.must(t, 201, analyst, "POST", "/api/v1/monitoring/points", map[string]any{"mn": "QMN1", "uscc": entUSCC, "outlet": "DA001",
		"location": []float64{120.1, 30.2}, "password": "123456"}, nil)
	e.must(t, 200, admin, "GET", "/api/v1/monitoring/quarantine", nil, &q)
	if len(q.Quarantine) != 1 || q.Quarantine[0].USCC != entUSCC {
		t.Fatalf("quarantine after registering: %+v", q.Quarantine)
	}
	e.must(t, 403, analyst, "POST", "/api/v1/monitoring/points/QMN1/quarantine/release", nil, nil)
	var rel monitoring.Release
	e.must(t, 200, admin, "POST", "/api/v1/monitoring/points/QMN1/quarantine/release", nil, &rel)
	if rel != (monitoring.Release{MN: "QMN1", Released: 2, Kept: 1}) {
		t.Errorf("release: %+v", rel)
	}
	e.must(t, 200, admin, "GET", "/api/v1/monitoring/quarantine", nil, &q)
	if len(q.Quarantine) != 1 || q.Quarantine[0].Frames != 1 {
		t.Errorf("quarantine after release: %+v", q.Quarantine)
	}
}
