package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/offsite/offsite/internal/monitoring"
)

// TestMonitoringDataRequestRoutes: staff ask a point's logger to send the hour data of a gap
// again; the request is validated field by field, audited, and listed unsent until the
// receiver sends it (cmd/receiver's TestServeDataRequest).
func TestMonitoringDataRequestRoutes(t *testing.T) {
	e := newEnforceServer(t)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/monitoring/points", map[string]any{"mn": "RMN1", "uscc": entUSCC, "outlet": "DA001",
		"location": []float64{120.1, 30.2}, "password": "123456"}, nil)
	const path = "/api/v1/monitoring/points/RMN1/data-requests"
	body := func(cn, begin, end string) map[string]any {
		return map[string]any{"cn": cn, "begin_time": begin, "end_time": end, "finding_id": "f1"}
	}
	for _, tc := range []struct {
		name   string
		token  string
		path   string
		body   any
		status int
		field  string
	}{
		{"the enterprise may not", enterprise, path, body("2061", "2026-11-02T08:00:00+08:00", "2026-11-02T11:00:00+08:00"), 403, ""},
		{"an inspector may not", inspector, path, body("2061", "2026-11-02T08:00:00+08:00", "2026-11-02T11:00:00+08:00"), 403, ""},
		{"real-time data is not kept by a logger", analyst, path, body("2011", "2026-11-02T08:00:00+08:00", "2026-11-02T11:00:00+08:00"), 400, "cn"},
		{"no begin", analyst, path, body("2061", "", "2026-11-02T11:00:00+08:00"), 400, "begin_time"},
		{"not a time", analyst, path, body("2061", "2026-11-02T08:00:00+08:00", "11 o'clock"), 400, "end_time"},
		{"end before begin", analyst, path, body("2061", "2026-11-02T08:00:00+08:00", "2026-11-02T07:00:00+08:00"), 400, "end_time"},
		{"minute data of a week", analyst, path, body("2051", "2026-11-02", "2026-11-09"), 400, "end_time"},
		{"unknown point", analyst, "/api/v1/monitoring/points/NOPE1/data-requests", body("2061", "2026-11-02T08:00:00+08:00", "2026-11-02T11:00:00+08:00"), 404, ""},
		{"queued", analyst, path, body("2061", "2026-11-02T08:00:00+08:00", "2026-11-02T11:00:00+08:00"), 201, ""},
	} {
		st, b := e.call(t, tc.token, "POST", tc.path, tc.body, nil)
		if st != tc.status {
			t.Errorf("%s: status %d (%s), want %d", tc.name, st, b, tc.status)
			continue
		}
		var problem apiError
		if tc.field != "" && (json.Unmarshal(b, &problem) != nil || problem.Field != tc.field && problem.Error.Field != tc.field) {
			t.Errorf("%s: error does not name %s: %s", tc.name, tc.field, b)
		}
	}
	var list struct {
		Requests []monitoring.DataRequest `json:"data_requests"`
	}
	e.must(t, 200, inspector, "GET", path, nil, &list)
	if len(list.Requests) != 1 {
		t.Fatalf("requests %+v, want the one queued", list.Requests)
	}
	r := list.Requests[0]
	if r.CN != "2061" || r.FindingID != "f1" || r.SentAt != nil || r.QN != "" || r.Params() != "BeginTime=20261102080000;EndTime=20261102110000" {
		t.Errorf("request %+v (params %s)", r, r.Params())
	}
	e.must(t, 403, enterprise, "GET", path, nil, nil)
	var log struct {
		Entries []struct{ Action string } `json:"entries"`
	}
	e.must(t, 200, admin, "GET", "/api/v1/audit?subject="+monitoring.PointSubject("RMN1")+"&limit=100", nil, &log)
	n := 0
	for _, en := range log.Entries {
		if en.Action == "monitoring_point.request_data" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d request_data audit entries, want 1: %+v", n, log.Entries)
	}
}
