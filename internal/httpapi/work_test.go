package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/msgs"
	"github.com/offsite/offsite/internal/postgres"
)

// otherEnterprise speaks for otherUSCC: what it must not reach is entUSCC's.
const otherEnterprise = "tok-enterprise2-0123456789"

func newWorkServer(t *testing.T) *enfEnv {
	t.Helper()
	var es []httpapi.TokenEntry
	for role, tok := range tokenOf {
		e := httpapi.TokenEntry{Token: tok, Name: "test-" + string(role), Role: role}
		if role == httpapi.RoleEnterprise {
			e.USCC = entUSCC
		}
		es = append(es, e)
	}
	es = append(es, httpapi.TokenEntry{Token: approver2Token, Name: "test-approver2", Role: httpapi.RoleApprover},
		httpapi.TokenEntry{Token: otherEnterprise, Name: "test-enterprise2", Role: httpapi.RoleEnterprise, USCC: otherUSCC})
	tokens, err := httpapi.NewTokens(es)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnforceServerWith(t, tokens)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120, 30), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(otherUSCC, 121, 30), nil)
	return e
}

type inboxOut struct {
	Items []struct {
		Kind    string     `json:"kind"`
		Subject string     `json:"subject"`
		USCC    string     `json:"uscc"`
		DueAt   *time.Time `json:"due_at"`
		Overdue bool       `json:"overdue"`
	} `json:"items"`
	Total int `json:"total"`
}

// kinds returns the inbox of token as "kind subject" lines, overdue ones marked with "!".
func (e *enfEnv) kinds(t *testing.T, token string) []string {
	t.Helper()
	var box inboxOut
	e.must(t, 200, token, "GET", "/api/v1/inbox", nil, &box)
	var out []string
	for _, it := range box.Items {
		s := it.Kind + " " + it.Subject
		if it.Overdue {
			s += " !"
		}
		out = append(out, s)
	}
	if box.Total != len(box.Items) {
		t.Errorf("inbox total %d, %d items", box.Total, len(box.Items))
	}
	return out
}

func has(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

type inspDoc struct {
	ID                int64      `json:"id"`
	Status            string     `json:"status"`
	Version           int        `json:"version"`
	SelfCheckDeadline *time.Time `json:"self_check_deadline"`
	WithdrawnReports  int        `json:"withdrawn_reports"`
	Report            *struct {
		Text       string `json:"text"`
		Late       bool   `json:"late"`
		Amendments int    `json:"amendments"`
	} `json:"report"`
	Extensions []struct {
		Decision string `json:"decision"`
	} `json:"extensions"`
	Warnings []struct {
		Source string `json:"source"`
	} `json:"warnings"`
	SiteVisit *struct {
		Trigger string `json:"trigger"`
	} `json:"site_visit"`
	Disposition *struct {
		Rule      string `json:"rule"`
		Waived    bool   `json:"waived"`
		Violation struct {
			SelfReported bool `json:"self_reported"`
		} `json:"violation"`
	} `json:"disposition"`
}

// TestEnterpriseSide walks the enterprise's own side: the evidence its inspection cites (and
// nothing of another's), its inbox with the deadline, an extension asked and granted, its
// report amended and withdrawn, the overdue marks, and its standing.
func TestEnterpriseSide(t *testing.T) {
	e := newWorkServer(t)
	ctx := context.Background()
	for i, u := range []string{entUSCC, otherUSCC} {
		fc := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"p%d"},"geometry":{"type":"Polygon","coordinates":[[[%d,30],[%d.01,30],[%d.01,30.01],[%d,30.01],[%d,30]]]}}]}`, i, 120+i, 120+i, 120+i, 120+i, 120+i)
		e.must(t, 200, analyst, "PUT", "/api/v1/enterprises/"+u+"/parcels", fc, nil)
	}
	own := append([]byte("\x89PNG\r\n\x1a\n"), strings.Repeat("own", 30)...)
	others := append([]byte("\x89PNG\r\n\x1a\n"), strings.Repeat("oth", 30)...)
	ownKey, _, err := e.store.PutEvidence(ctx, own, ".png", "image/png")
	if err != nil {
		t.Fatal(err)
	}
	othersKey, _, err := e.store.PutEvidence(ctx, others, ".png", "image/png")
	if err != nil {
		t.Fatal(err)
	}
	finding := func(id, parcel string, lon float64, key string) *offsite.Finding {
		sq := orb.Polygon{{{lon + 0.002, 30.002}, {lon + 0.004, 30.002}, {lon + 0.004, 30.004}, {lon + 0.002, 30.004}, {lon + 0.002, 30.002}}}
		return &offsite.Finding{ID: id, ParcelID: parcel, CaptureIDs: []int64{1}, Kind: "hotspot", Class: "thermal_anomaly", Score: 0.9, AreaM2: 400,
			Severity: "high", Geometry: sq, Pipeline: "sentinel2", PipelineHash: "abc", DetectedAt: e.clock.Now(), Provenance: json.RawMessage(`{"type":"Feature"}`),
			Artifacts: []offsite.Artifact{{Name: "after.png", Key: key, MediaType: "image/png"}}}
	}
	if err := postgres.NewFindingService(e.db).RecordFindings(ctx, []*offsite.Finding{
		finding("aa112233445566778899aabbccddeeff", "p0", 120, ownKey), finding("bb112233445566778899aabbccddeeff", "p1", 121, othersKey)}); err != nil {
		t.Fatal(err)
	}
	e.listEnterprise(t, entUSCC)
	var opened struct {
		Inspection inspDoc `json:"inspection"`
	}
	e.must(t, 201, inspector, "POST", "/api/v1/warnings", map[string]any{"source": "finding", "ref": "aa112233445566778899aabbccddeeff"}, &opened)
	e.must(t, 201, inspector, "POST", "/api/v1/warnings", map[string]any{"source": "finding", "ref": "bb112233445566778899aabbccddeeff"}, nil)
	in := opened.Inspection
	path := fmt.Sprintf("/api/v1/inspections/%d", in.ID)
	// The officers are told with the warning's message as the body, also as a catalog
	// sentence (the inbox and e-mails say it in Chinese).
	var told string
	var toldMsg msgs.Message
	if err := e.db.Pool.QueryRow(ctx, `SELECT body, body_message FROM outbox WHERE event = 'warning.new' AND subject = $1`, fmt.Sprintf("inspection/%d", in.ID)).Scan(&told, &toldMsg); err != nil {
		t.Fatal(err)
	}
	if toldMsg.Code != msgs.NoteWarningFinding || toldMsg.Text(msgs.EN) != told || !strings.Contains(toldMsg.Text(msgs.ZH), "遥感发现") {
		t.Errorf("warning.new body %q, body_message %+v", told, toldMsg)
	}
	if got := e.kinds(t, inspector); !has(got, fmt.Sprintf("open_warning inspection/%d", in.ID)) {
		t.Errorf("inspector's inbox %v: no open warning", got)
	}

	// The evidence the inspection cites, and only that, reaches the enterprise.
	var ev struct {
		Features []struct {
			ID         string `json:"id"`
			Properties struct {
				Downloads map[string]string `json:"downloads"`
			} `json:"properties"`
		} `json:"features"`
	}
	e.must(t, 200, enterprise, "GET", path+"/evidence", nil, &ev)
	if len(ev.Features) != 1 || ev.Features[0].Properties.Downloads["after.png"] != path+"/evidence/"+ownKey {
		t.Fatalf("cited evidence: %+v", ev)
	}
	code, body := e.call(t, enterprise, "GET", path+"/evidence/"+ownKey, nil, nil)
	if code != 200 || string(body) != string(own) {
		t.Errorf("download cited artifact: %d, %d bytes", code, len(body))
	}
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
			Role   string `json:"role"`
		} `json:"entries"`
	}
	e.must(t, 200, admin, "GET", "/api/v1/audit?subject=evidence/"+ownKey, nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Action != "evidence.download" || audit.Entries[0].Role != "enterprise" {
		t.Errorf("download audit: %+v", audit.Entries)
	}
	for _, tc := range []struct {
		name, token, path string
		want              int
	}{
		{"another enterprise's evidence list", otherEnterprise, path + "/evidence", 403},
		{"another enterprise's artifact", otherEnterprise, path + "/evidence/" + ownKey, 403},
		{"an artifact the inspection does not cite", enterprise, path + "/evidence/" + othersKey, 404},
		{"a key outside the evidence", enterprise, path + "/evidence/..%2Fx", 400},
		{"the staff evidence route", enterprise, "/api/v1/enterprises/" + entUSCC + "/evidence", 403},
		{"another enterprise's standing", otherEnterprise, "/api/v1/enterprises/" + entUSCC + "/standing", 403},
	} {
		if code, body := e.call(t, tc.token, "GET", tc.path, nil, nil); code != tc.want {
			t.Errorf("%s: %d, want %d: %s", tc.name, code, tc.want, body)
		}
	}

	// Self-check requested: in the enterprise's inbox with its deadline.
	deadline := e.clock.Now().Add(5 * 24 * time.Hour).Truncate(time.Second)
	e.must(t, 200, inspector, "POST", path+"/self-check", map[string]any{"version": in.Version, "deadline": deadline.Format(time.RFC3339)}, &in)
	var box inboxOut
	e.must(t, 200, enterprise, "GET", "/api/v1/inbox", nil, &box)
	if len(box.Items) != 1 || box.Items[0].Kind != "self_check_requested" || box.Items[0].DueAt == nil || !box.Items[0].DueAt.Equal(deadline) || box.Items[0].Overdue {
		t.Fatalf("enterprise inbox: %+v", box)
	}
	if got := e.kinds(t, otherEnterprise); len(got) != 0 {
		t.Errorf("the other enterprise's inbox: %v", got)
	}

	// An extension: too long, then asked, twice, by another, refused without a note, granted.
	var apiErr apiError
	e.must(t, 400, enterprise, "POST", path+"/extension", map[string]any{"version": in.Version, "until": deadline.Add(40 * 24 * time.Hour).Format(time.RFC3339), "reason": "audit"}, &apiErr)
	if apiErr.Error.Field != "until" {
		t.Errorf("too long an extension: %+v", apiErr)
	}
	until := deadline.Add(10 * 24 * time.Hour)
	e.must(t, 403, otherEnterprise, "POST", path+"/extension", map[string]any{"version": in.Version, "until": until.Format(time.RFC3339), "reason": "x"}, nil)
	e.must(t, 200, enterprise, "POST", path+"/extension", map[string]any{"version": in.Version, "until": until.Format(time.RFC3339), "reason": "the lab needs two weeks"}, &in)
	e.must(t, 409, enterprise, "POST", path+"/extension", map[string]any{"version": in.Version, "until": until.Format(time.RFC3339), "reason": "again"}, nil)
	if got := e.kinds(t, inspector); !has(got, fmt.Sprintf("extension_to_decide inspection/%d", in.ID)) {
		t.Errorf("inspector's inbox %v: no extension to decide", got)
	}
	e.must(t, 403, enterprise, "POST", path+"/extension/decide", map[string]any{"version": in.Version, "grant": true}, nil)
	e.must(t, 400, inspector, "POST", path+"/extension/decide", map[string]any{"version": in.Version, "grant": false}, &apiErr)
	if apiErr.Error.Field != "note" {
		t.Errorf("refusal without a note: %+v", apiErr)
	}
	e.must(t, 200, inspector, "POST", path+"/extension/decide", map[string]any{"version": in.Version, "grant": true}, &in)
	if !in.SelfCheckDeadline.Equal(until) || len(in.Extensions) != 1 || in.Extensions[0].Decision != "granted" {
		t.Errorf("granted: deadline %v, extensions %+v", in.SelfCheckDeadline, in.Extensions)
	}

	// The report: submitted, amended, withdrawn, and submitted again after the deadline.
	e.must(t, 200, enterprise, "POST", path+"/report", map[string]any{"version": in.Version, "text": "the kiln was stopped"}, &in)
	e.must(t, 403, otherEnterprise, "POST", path+"/report/amend", map[string]any{"version": in.Version, "text": "x"}, nil)
	e.must(t, 200, enterprise, "POST", path+"/report/amend", map[string]any{"version": in.Version, "text": "the kiln was stopped and its filter replaced"}, &in)
	if in.Report == nil || in.Report.Amendments != 1 || in.Report.Late || !strings.Contains(in.Report.Text, "filter") {
		t.Errorf("amended: %+v", in.Report)
	}
	var withdrawn inspDoc // decoded afresh: the report is absent from the answer
	e.must(t, 200, enterprise, "POST", path+"/report/withdraw", map[string]any{"version": in.Version, "reason": "wrong figures"}, &withdrawn)
	in = withdrawn
	if in.Status != "self_check_requested" || in.Report != nil || in.WithdrawnReports != 1 {
		t.Errorf("withdrawn: %+v", in)
	}
	e.clock.Add(16 * 24 * time.Hour) // past the extended deadline
	if got := e.kinds(t, enterprise); !has(got, fmt.Sprintf("self_check_requested inspection/%d !", in.ID)) {
		t.Errorf("enterprise inbox past the deadline: %v", got)
	}
	if got := e.kinds(t, admin); !has(got, fmt.Sprintf("self_check_overdue inspection/%d !", in.ID)) {
		t.Errorf("admin inbox past the deadline: %v", got)
	}
	var counts struct {
		Total   int            `json:"total"`
		Overdue int            `json:"overdue"`
		ByKind  map[string]int `json:"by_kind"`
	}
	e.must(t, 200, inspector, "GET", "/api/v1/inbox/counts", nil, &counts)
	if counts.ByKind["self_check_overdue"] != 1 || counts.Overdue < 1 || counts.Total != len(e.kinds(t, inspector)) {
		t.Errorf("inspector counts: %+v", counts)
	}
	e.must(t, 200, enterprise, "POST", path+"/report", map[string]any{"version": in.Version, "text": "figures corrected"}, &in)
	if in.Report == nil || !in.Report.Late {
		t.Errorf("late report: %+v", in.Report)
	}
	e.must(t, 409, enterprise, "POST", path+"/extension", map[string]any{"version": in.Version, "until": until.Add(time.Hour).Format(time.RFC3339), "reason": "x"}, nil)
	if got := e.kinds(t, inspector); !has(got, fmt.Sprintf("report_to_review inspection/%d", in.ID)) {
		t.Errorf("inspector's inbox %v: no report to review", got)
	}
	e.must(t, 200, inspector, "POST", path+"/review", map[string]any{"version": in.Version, "outcome": "close", "notes": "fixed"}, &in)
	e.must(t, 409, enterprise, "POST", path+"/report/amend", map[string]any{"version": in.Version, "text": "too late"}, nil)

	// Its standing: the list entry with validity and health-check status, the visits.
	var standing struct {
		ListEntries []struct {
			Status      string     `json:"status"`
			ValidTo     *time.Time `json:"valid_to"`
			HealthCheck string     `json:"health_check"`
			Admission   any        `json:"admission"`
		} `json:"list_entries"`
		HealthVisits []any `json:"health_visits"`
	}
	e.must(t, 200, enterprise, "GET", "/api/v1/enterprises/"+entUSCC+"/standing", nil, &standing)
	if len(standing.ListEntries) != 1 || standing.ListEntries[0].Status != "listed" || standing.ListEntries[0].ValidTo == nil ||
		standing.ListEntries[0].HealthCheck != enforce.HealthPending || standing.ListEntries[0].Admission != nil {
		t.Errorf("standing: %+v", standing)
	}
}

// TestHealthVisitsComingDue: a listed enterprise without its health-check visit shows in the
// inspector's inbox once its validity ends within the configured days, and in the admin's
// once overdue; a visit takes it out.
func TestHealthVisitsComingDue(t *testing.T) {
	e := newWorkServer(t)
	entry := e.listEnterprise(t, entUSCC)
	subject := fmt.Sprintf("health_visit_due list-entry/%d", entry.ID)
	if got := e.kinds(t, inspector); has(got, subject) {
		t.Errorf("due at once: %v", got)
	}
	e.clock.Add(3*365*24*time.Hour - 100*24*time.Hour) // 100 days before the end of validity
	if got := e.kinds(t, inspector); !has(got, subject) {
		t.Errorf("inspector inbox 100 days before the end: %v", got)
	}
	if got := e.kinds(t, admin); has(got, subject) || has(got, subject+" !") {
		t.Errorf("admin sees a visit not yet overdue: %v", got)
	}
	if got := e.kinds(t, admin); !has(got, fmt.Sprintf("list_entry_to_file list-entry/%d", entry.ID)) {
		t.Errorf("admin inbox: no entry to file: %v", got)
	}
	e.clock.Add(101 * 24 * time.Hour)
	if got := e.kinds(t, admin); !has(got, subject+" !") {
		t.Errorf("admin inbox after the end: %v", got)
	}
	e.must(t, 201, inspector, "POST", "/api/v1/enterprises/"+entUSCC+"/health-visits", map[string]any{"visited_at": e.clock.Now().Add(-102 * 24 * time.Hour).Format(time.RFC3339)}, nil)
	if got := e.kinds(t, inspector); has(got, subject) || has(got, subject+" !") {
		t.Errorf("visited, still in the inbox: %v", got)
	}
}

// TestIncidentSelfReported: an inspection that begins with the enterprise's own report is
// decided as self-reported (四.9) whatever the closer says; one found first is not.
func TestIncidentSelfReported(t *testing.T) {
	e := newWorkServer(t)
	e.listEnterprise(t, entUSCC)
	e.listEnterprise(t, otherUSCC)
	occurred := e.clock.Now().Add(-2 * time.Hour).Format(time.RFC3339)
	e.must(t, 403, otherEnterprise, "POST", "/api/v1/incidents", map[string]any{"uscc": entUSCC, "occurred_at": occurred, "description": "x"}, nil)
	var apiErr apiError
	e.must(t, 400, enterprise, "POST", "/api/v1/incidents", map[string]any{"occurred_at": occurred}, &apiErr)
	if apiErr.Error.Field != "description" {
		t.Errorf("no description: %+v", apiErr)
	}
	var rep struct {
		Incident   enforce.Incident `json:"incident"`
		Inspection inspDoc          `json:"inspection"`
	}
	e.must(t, 201, enterprise, "POST", "/api/v1/incidents", map[string]any{"occurred_at": occurred, "description": "the scrubber pump failed for 40 minutes", "measures": "pump replaced"}, &rep)
	if rep.Incident.USCC != entUSCC || rep.Inspection.Status != "open" || len(rep.Inspection.Warnings) != 1 || rep.Inspection.Warnings[0].Source != "self_report" {
		t.Fatalf("incident: %+v", rep)
	}
	// The other enterprise was found by monitoring first, then reported.
	e.must(t, 201, inspector, "POST", "/api/v1/warnings", map[string]any{"uscc": otherUSCC, "source": "monitoring", "ref": "cems-1", "message": "SO2 over the limit"}, nil)
	var late struct {
		Inspection inspDoc `json:"inspection"`
	}
	e.must(t, 201, otherEnterprise, "POST", "/api/v1/incidents", map[string]any{"occurred_at": occurred, "description": "SO2 exceedance"}, &late)
	var incs struct {
		Incidents []enforce.Incident `json:"incidents"`
	}
	e.must(t, 200, otherEnterprise, "GET", "/api/v1/incidents", nil, &incs)
	if len(incs.Incidents) != 1 || incs.Incidents[0].USCC != otherUSCC {
		t.Errorf("the other enterprise's incidents: %+v", incs)
	}
	e.must(t, 403, otherEnterprise, "GET", "/api/v1/incidents?uscc="+entUSCC, nil, nil)

	violation := map[string]any{"non_wilful": true, "fixed_in_time": true}
	for _, tc := range []struct {
		name     string
		in       inspDoc
		selfRep  bool
		wantRule string
	}{
		{"reported first", rep.Inspection, true, enforce.RuleSelfReported},
		{"found first", late.Inspection, false, enforce.RuleStandard},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := fmt.Sprintf("/api/v1/inspections/%d", tc.in.ID)
			var cur inspDoc
			e.must(t, 200, inspector, "GET", path, nil, &cur)
			if tc.selfRep {
				e.must(t, 400, approver, "POST", path+"/close", map[string]any{"version": cur.Version, "note": "x", "violation": map[string]any{"unreported_exceedance": true}}, &apiErr)
				if apiErr.Error.Field != "violation.unreported_exceedance" {
					t.Errorf("unreported exceedance of a self-report: %+v", apiErr)
				}
			}
			e.must(t, 200, approver, "POST", path+"/close", map[string]any{"version": cur.Version, "note": "decided", "violation": violation}, &cur)
			if cur.Disposition == nil || cur.Disposition.Rule != tc.wantRule || cur.Disposition.Violation.SelfReported != tc.selfRep || cur.Disposition.Waived != tc.selfRep {
				t.Errorf("disposition: %+v", cur.Disposition)
			}
		})
	}
}

// TestIntake: a complaint opens a matter; a media report of the same enterprise's open
// matter joins it; the same report twice is refused; a site visit on the complaint trigger is
// requested from the matter and approved.
func TestIntake(t *testing.T) {
	e := newWorkServer(t)
	e.listEnterprise(t, entUSCC)
	now := e.clock.Now().Format(time.RFC3339)
	report := func(source, ref string) map[string]any {
		return map[string]any{"source": source, "source_ref": ref, "summary": "black smoke at night", "uscc": entUSCC, "received_at": now, "reporter": "resident"}
	}
	var apiErr apiError
	for _, tc := range []struct {
		field string
		body  map[string]any
	}{
		{"source", map[string]any{"source": "routine", "source_ref": "r", "summary": "s", "uscc": entUSCC, "received_at": now}},
		{"source_ref", map[string]any{"source": "complaint", "summary": "s", "uscc": entUSCC, "received_at": now}},
		{"received_at", map[string]any{"source": "complaint", "source_ref": "r", "summary": "s", "uscc": entUSCC, "received_at": e.clock.Now().Add(time.Hour).Format(time.RFC3339)}},
	} {
		e.must(t, 400, inspector, "POST", "/api/v1/intake", tc.body, &apiErr)
		if apiErr.Error.Field != tc.field {
			t.Errorf("bad %s: %+v", tc.field, apiErr)
		}
	}
	type intakeOut struct {
		Outcome string `json:"outcome"`
		Matter  struct {
			ID           int64  `json:"id"`
			InspectionID int64  `json:"inspection_id"`
			Trigger      string `json:"trigger"`
		} `json:"matter"`
	}
	var first, second intakeOut
	e.must(t, 201, inspector, "POST", "/api/v1/intake", report("complaint", "12369-2026-0001"), &first)
	e.must(t, 200, analyst, "POST", "/api/v1/intake", report("media_report", "Evening News 2026-05-02"), &second)
	if first.Outcome != "opened" || second.Outcome != "joined" || second.Matter.ID != first.Matter.ID || first.Matter.Trigger != "complaint" {
		t.Fatalf("intake: %+v then %+v", first, second)
	}
	e.must(t, 409, inspector, "POST", "/api/v1/intake", report("complaint", "12369-2026-0001"), nil)
	var matter struct {
		Reports []struct {
			Source string `json:"source"`
		} `json:"reports"`
		InspectionStatus string `json:"inspection_status"`
	}
	e.must(t, 200, inspector, "GET", fmt.Sprintf("/api/v1/intake/matters/%d", first.Matter.ID), nil, &matter)
	if len(matter.Reports) != 2 || matter.Reports[1].Source != "media_report" || matter.InspectionStatus != "open" {
		t.Errorf("matter: %+v", matter)
	}
	if got := e.kinds(t, inspector); !has(got, fmt.Sprintf("intake_matter intake-matter/%d", first.Matter.ID)) {
		t.Errorf("inspector's inbox: %v", got)
	}
	e.must(t, 400, inspector, "POST", fmt.Sprintf("/api/v1/intake/matters/%d/site-visit", first.Matter.ID), map[string]any{"reason": ""}, nil)
	var in inspDoc
	e.must(t, 200, inspector, "POST", fmt.Sprintf("/api/v1/intake/matters/%d/site-visit", first.Matter.ID), map[string]any{"reason": "two reports of night smoke"}, &in)
	if in.Status != "site_visit_requested" || in.SiteVisit == nil || in.SiteVisit.Trigger != "complaint" {
		t.Fatalf("site visit from the matter: %+v", in)
	}
	if got := e.kinds(t, approver); !has(got, fmt.Sprintf("site_visit_to_approve inspection/%d", in.ID)) {
		t.Errorf("approver's inbox: %v", got)
	}
	e.must(t, 200, approver, "POST", fmt.Sprintf("/api/v1/inspections/%d/approve", in.ID), map[string]any{"version": in.Version}, &in)
	if got := e.kinds(t, inspector); has(got, fmt.Sprintf("intake_matter intake-matter/%d", first.Matter.ID)) || !has(got, fmt.Sprintf("site_visit_to_record inspection/%d", in.ID)) {
		t.Errorf("inspector's inbox after approval: %v", got)
	}
	var list struct {
		Matters []any `json:"matters"`
		Total   int   `json:"total"`
	}
	e.must(t, 200, approver, "GET", "/api/v1/intake/matters?uscc="+entUSCC+"&open=true", nil, &list)
	if list.Total != 1 {
		t.Errorf("open matters: %+v", list)
	}
	// Notified in the outbox, in the transaction of each event.
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE event IN ('intake.received', 'site_visit.approval_requested')`).Scan(&n); err != nil || n != 2 {
		t.Errorf("outbox rows: %d, %v", n, err)
	}
}

// TestNotificationPreferencesAndWebhooks checks what a user may choose and what an admin may
// subscribe: only the events of the role, an address for e-mail, only configured hosts.
func TestNotificationPreferencesAndWebhooks(t *testing.T) {
	e := newWorkServer(t)
	var apiErr apiError
	for _, tc := range []struct {
		token string
		body  map[string]any
		field string
	}{
		{enterprise, map[string]any{"inapp_events": []string{"warning.new"}}, "inapp_events[0]"},
		{inspector, map[string]any{"email_events": []string{"warning.new"}}, "email"},
		{inspector, map[string]any{"email": "a@b.org\r\nBcc: x@y.org", "email_events": []string{"warning.new"}}, "email"},
		{inspector, map[string]any{"inapp_events": []string{"no.such"}}, "inapp_events[0]"},
	} {
		e.must(t, 400, tc.token, "PUT", "/api/v1/notifications/preferences", tc.body, &apiErr)
		if apiErr.Error.Field != tc.field {
			t.Errorf("%v: field %q, want %q", tc.body, apiErr.Error.Field, tc.field)
		}
	}
	e.must(t, 200, enterprise, "PUT", "/api/v1/notifications/preferences", map[string]any{"email": "ehs@example.org", "email_events": []string{"self_check.requested", "self_check.overdue"}}, nil)
	var prefs struct {
		Preferences enforce.NotificationPrefs `json:"preferences"`
		Events      []string                  `json:"events"`
	}
	e.must(t, 200, enterprise, "GET", "/api/v1/notifications/preferences", nil, &prefs)
	if prefs.Preferences.Email != "ehs@example.org" || len(prefs.Preferences.EmailEvents) != 2 || prefs.Preferences.InAppEvents != nil || len(prefs.Events) == 0 {
		t.Errorf("preferences: %+v", prefs)
	}
	for _, u := range []string{"http://127.0.0.1:6379/", "http://169.254.169.254/latest", "file:///etc/passwd", "https://user:pw@hooks.example.org/x", "https://hooks.example.org.evil.com/"} {
		e.must(t, 400, admin, "POST", "/api/v1/webhooks", map[string]any{"name": "p", "url": u, "events": []string{"warning.new"}}, &apiErr)
		if apiErr.Error.Field != "url" {
			t.Errorf("webhook to %s: %+v", u, apiErr)
		}
	}
	var hook struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
	}
	e.must(t, 201, admin, "POST", "/api/v1/webhooks", map[string]any{"name": "province", "url": "https://hooks.example.org/offsite", "events": []string{"warning.new"}}, &hook)
	if len(hook.Secret) != 64 {
		t.Errorf("secret %q", hook.Secret)
	}
	_, body := e.call(t, admin, "GET", "/api/v1/webhooks", nil, nil)
	if strings.Contains(string(body), hook.Secret) {
		t.Errorf("the list shows the secret: %s", body)
	}
	code, body := e.call(t, admin, "GET", "/api/v1/audit?subject=webhook/"+fmt.Sprint(hook.ID), nil, nil)
	if code != 200 || !strings.Contains(string(body), "webhook.subscribe") || strings.Contains(string(body), hook.Secret) {
		t.Errorf("subscription audit: %d %s", code, body)
	}
	e.must(t, 204, admin, "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", hook.ID), nil, nil)
	e.must(t, 404, admin, "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", hook.ID), nil, nil)
	req, _ := http.NewRequest("GET", e.hs.URL+"/api/v1/notifications?unread=maybe", nil)
	req.Header.Set("Authorization", "Bearer "+inspector)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("unread=maybe: %d", resp.StatusCode)
	}
}
