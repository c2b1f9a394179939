package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/account"
	"github.com/offsite/offsite/internal/casefile"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/testenv"
)

// clock is a settable clock for the enforcement rules.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testHash makes password hashing cheap in tests (the cost is a parameter, not the rule).
var testHash = account.HashParams{Memory: 1024, Time: 1, Threads: 1}

type enfEnv struct {
	hs    *httptest.Server
	db    *postgres.DB
	owner string // URL of the schema's owner
	clock *clock
	store *s3.Store
	enf   *postgres.EnforceService
	srv   *httpapi.Server // settings read per request may be changed before the first
}

// newEnforceServer returns an API with the enforcement service on a fresh database, test
// buckets and every test token.
func newEnforceServer(t *testing.T) *enfEnv {
	t.Helper()
	return newEnforceServerOpts(t, mustTestTokens(t), true)
}

// newEnforceServerSeeded is newEnforceServer; with seed false every test token stays in the
// fixed table and the audit log starts empty.
func newEnforceServerSeeded(t *testing.T, seed bool) *enfEnv {
	t.Helper()
	return newEnforceServerOpts(t, mustTestTokens(t), seed)
}

// newEnforceServerWith is newEnforceServer with the given tokens.
func newEnforceServerWith(t *testing.T, tokens *httpapi.Tokens) *enfEnv {
	t.Helper()
	return newEnforceServerOpts(t, tokens, true)
}

// newEnforceServerOpts is newEnforceServer with the given tokens, their staff seeded as
// accounts when seed is set.
func newEnforceServerOpts(t *testing.T, tokens *httpapi.Tokens, seed bool) *enfEnv {
	t.Helper()
	pg := testenv.Postgres(t)
	db, err := postgres.Open(context.Background(), pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	store, err := s3.New(testenv.S3Config(t))
	if err != nil {
		t.Fatal(err)
	}
	_, keys := testenv.AuditKey(t)
	c := &clock{now: time.Now()}
	captures := postgres.NewCaptureService(db)
	srv := &httpapi.Server{
		Parcels: postgres.NewParcelService(db), Captures: captures, Clips: captures, Artifacts: captures, Findings: postgres.NewFindingService(db), Surveys: postgres.NewSurveyService(db), Store: store, CapturesBucket: store.Captures,
		Tokens: tokens, Now: c.Now, MaxBodyBytes: 1 << 20,
		CaseFiles: &httpapi.CaseFiles{Renderer: casefile.NewRenderer(casefile.Config{FontPath: os.Getenv("OFFSITE_CASEFILE_FONT")}), Store: store},
		GIS:       postgres.NewGISService(db), CaptureDownloads: store,
	}
	enf := postgres.NewEnforceService(db, postgres.AuditConfig{Keys: keys, Heads: store})
	srv.Work, srv.Notify, srv.WebhookHosts = postgres.NewWorkService(db), postgres.NewNotifyService(enf), []string{"hooks.example.org"}
	srv.Enforce, srv.EnterpriseStore, srv.InspectionStore, srv.ListStore, srv.DrawStore = enf, postgres.NewEnterpriseStore(enf), postgres.NewInspectionStore(enf), postgres.NewListStore(enf), postgres.NewDrawStore(enf)
	// The staff tokens are API tokens of accounts of the first province, seeded as cmd/api
	// seeds the token file; the enterprise's token stays in the fixed table (its enterprise
	// is recorded by the tests themselves).
	srv.Accounts = &account.Accounts{Store: postgres.NewAccountStore(enf), Now: c.Now, Config: account.Config{Hash: testHash}}
	srv.Agencies = enf
	// As cmd/api runs: tokens' users and enterprises' agencies kept in memory.
	cctx, stopCache := context.WithCancel(context.Background())
	cacheDone := make(chan struct{})
	go func() { defer close(cacheDone); enf.CacheAuth(cctx, nil) }()
	t.Cleanup(func() { stopCache(); <-cacheDone })
	var staff []account.SeedEntry
	for _, e := range srv.Tokens.SeedEntries() {
		if seed && e.Role != httpapi.RoleEnterprise {
			staff = append(staff, e)
		}
	}
	if n, err := srv.Accounts.Seed(context.Background(), staff, 24*time.Hour); seed && (err != nil || n != len(staff)) {
		t.Fatalf("seed: %d, %v", n, err)
	}
	mon := postgres.NewMonitoringRegistry(enf)
	srv.Monitoring, srv.MonitoringStore = mon, mon
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &enfEnv{hs: hs, db: db, owner: pg.OwnerURL, clock: c, store: store, enf: enf, srv: srv}
}

// call sends body (a string or a value marshalled as JSON) with token ("" for none) and
// decodes a JSON answer into out when non-nil.
func (e *enfEnv) call(t *testing.T, token, method, path string, body any, out any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.hs.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, data
}

// try is call that reports a failed request as status 0 with the error as body.
func (e *enfEnv) try(t *testing.T, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.hs.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// must calls and fails the test unless the status is want.
func (e *enfEnv) must(t *testing.T, want int, token, method, path string, body any, out any) []byte {
	t.Helper()
	code, data := e.call(t, token, method, path, body, out)
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, data)
	}
	return data
}

var (
	admin      = tokenOf[httpapi.RoleAdmin]
	analyst    = tokenOf[httpapi.RoleAnalyst]
	inspector  = tokenOf[httpapi.RoleInspector]
	approver   = tokenOf[httpapi.RoleApprover]
	enterprise = tokenOf[httpapi.RoleEnterprise]
)

func enterpriseBody(uscc string, lon, lat float64) map[string]any {
	return map[string]any{"uscc": uscc, "name": "Enterprise " + uscc[:8], "industry": "C3120", "permit_no": uscc + "001P",
		"address": "88 Harbour Road", "zone": "east", "location": []float64{lon, lat}, "complaint_channel": "12369"}
}

func goodFacts() map[string]any {
	return map[string]any{"equipment_level": "advanced", "discharge_compliant": true, "total_emissions_within_permit": true,
		"monitoring_connected": true, "risk_management": true, "information_disclosed": true, "credit_rating": "A", "rectification_complete": true}
}

type versioned struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	Version int    `json:"version"`
}

// listEnterprise takes uscc onto the list through the API, moving the clock past the notice.
func (e *enfEnv) listEnterprise(t *testing.T, uscc string) versioned {
	t.Helper()
	var v versioned
	e.must(t, 201, analyst, "POST", "/api/v1/positive-list", map[string]any{"uscc": uscc, "facts": goodFacts()}, &v)
	now := e.clock.Now()
	e.must(t, 200, analyst, "POST", fmt.Sprintf("/api/v1/positive-list/%d/notice", v.ID), map[string]any{
		"version": v.Version, "notice_start": now.Format(time.RFC3339), "notice_end": now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}, &v)
	e.clock.Add(8 * 24 * time.Hour)
	e.must(t, 200, approver, "POST", fmt.Sprintf("/api/v1/positive-list/%d/list", v.ID), map[string]any{"version": v.Version}, &v)
	if v.Status != "listed" {
		t.Fatalf("status %s after listing", v.Status)
	}
	return v
}

func TestEnterpriseRoutes(t *testing.T) {
	e := newEnforceServer(t)
	var apiErr apiError
	body := enterpriseBody(entUSCC, 120.1, 30.2)
	body["uscc"] = "91110000600037341M"
	e.must(t, 400, analyst, "POST", "/api/v1/enterprises", body, &apiErr)
	if apiErr.Error.Field != "uscc" || !strings.Contains(apiErr.Error.Message, `expected 'L'`) {
		t.Errorf("wrong check character: %+v", apiErr.Error)
	}
	body["permit_no"] = entUSCC + "001P"
	body["legacy_override"] = true
	e.must(t, 400, analyst, "POST", "/api/v1/enterprises", body, &apiErr)
	if apiErr.Error.Field != "permit_no" || !strings.Contains(apiErr.Error.Message, "not the enterprise's USCC") {
		t.Errorf("permit of another USCC: %+v", apiErr.Error)
	}
	body["permit_no"] = "91110000600037341M001P"
	var created struct {
		LegacyUSCC bool `json:"legacy_uscc"`
		Version    int  `json:"version"`
	}
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", body, &created)
	if !created.LegacyUSCC {
		t.Error("legacy override not recorded")
	}
	var audit struct {
		Entries []struct{ Action, Detail string } `json:"entries"`
	}
	e.must(t, 200, approver, "GET", "/api/v1/audit?subject=enterprise/91110000600037341M", nil, &audit)
	if len(audit.Entries) != 2 || audit.Entries[1].Action != "enterprise.uscc_override" {
		t.Errorf("override audit: %+v", audit.Entries)
	}

	// GCJ-02 location is converted.
	gb := enterpriseBody(entUSCC, 120.1, 30.2)
	gb["location_gcj02"] = true
	var got struct {
		Location []float64 `json:"location"`
		Version  int       `json:"version"`
	}
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", gb, &got)
	if got.Location[0] >= 120.1 || got.Location[0] < 120.09 {
		t.Errorf("GCJ-02 location not converted: %v", got.Location)
	}
	// The enterprise sees itself only.
	e.must(t, 200, enterprise, "GET", "/api/v1/enterprises/"+entUSCC, nil, nil)
	e.must(t, 403, enterprise, "GET", "/api/v1/enterprises/91110000600037341M", nil, nil)
	// Stale update.
	upd := enterpriseBody(entUSCC, 120.1, 30.2)
	upd["version"] = got.Version
	e.must(t, 200, analyst, "PUT", "/api/v1/enterprises/"+entUSCC, upd, nil)
	e.must(t, 409, analyst, "PUT", "/api/v1/enterprises/"+entUSCC, upd, nil)
	// Parcels in GCJ-02.
	fc := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"p1"},"geometry":{"type":"Polygon","coordinates":[[[120.1,30.2],[120.11,30.2],[120.11,30.21],[120.1,30.21],[120.1,30.2]]]}}]}`
	e.must(t, 200, analyst, "PUT", "/api/v1/enterprises/"+entUSCC+"/parcels?gcj02=true", fc, nil)
	var ev struct {
		Parcels []struct {
			ParcelID string          `json:"parcel_id"`
			Clips    json.RawMessage `json:"clips"`
		} `json:"parcels"`
	}
	e.must(t, 200, inspector, "GET", "/api/v1/enterprises/"+entUSCC+"/evidence", nil, &ev)
	if len(ev.Parcels) != 1 || ev.Parcels[0].ParcelID != "p1" || string(ev.Parcels[0].Clips) != "[]" {
		t.Errorf("evidence: %+v", ev)
	}
	// Evidence downloads go through the API: audited, then redirected to a presigned URL.
	evKey, _, err := e.store.PutEvidence(context.Background(), []byte("clip bytes"), ".tif", "image/tiff")
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", e.hs.URL+"/api/v1/evidence-objects/"+evKey, nil)
	req.Header.Set("Authorization", "Bearer "+inspector)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 302 || !strings.Contains(loc, evKey) || !strings.Contains(loc, "X-Amz-Signature") {
		t.Errorf("evidence download: %d %q", resp.StatusCode, loc)
	}
	e.must(t, 200, approver, "GET", "/api/v1/audit?subject=evidence/"+evKey, nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Action != "evidence.download" {
		t.Errorf("download audit: %+v", audit.Entries)
	}
	e.must(t, 400, inspector, "GET", "/api/v1/evidence-objects/a%5Cb", nil, nil)
	var list struct {
		Total int `json:"total"`
	}
	e.must(t, 200, inspector, "GET", "/api/v1/enterprises?bbox=120,30,121,31&list_status=none", nil, &list)
	if list.Total != 2 {
		t.Errorf("search: total %d", list.Total)
	}
	e.must(t, 400, inspector, "GET", "/api/v1/enterprises?list_status=maybe", nil, &apiErr)
	if apiErr.Error.Field != "list_status" {
		t.Errorf("bad list_status: %+v", apiErr.Error)
	}
}

func TestEnterpriseImportCSV(t *testing.T) {
	e := newEnforceServer(t)
	header := "uscc,name,industry,permit_no,key_discharger,address,zone,lon,lat,complaint_channel\n"
	bad := header +
		entUSCC + ",Good,C3120," + entUSCC + "001P,true,1 Road,east,120.1,30.2,12369\n" +
		"91110000600037341M,Bad check,C3120,,false,,,,,\n" +
		otherUSCC + ",,C3120,,false,,,,,\n" +
		otherUSCC + ",Bad lon,C3120,,maybe,,,x,30,\n" +
		entUSCC + ",Duplicate,C3120,,false,,,,,\n"
	var rep struct {
		Error struct{ Field string } `json:"error"`
		Rows  []struct {
			Row     int
			Field   string
			Problem string
		} `json:"rows"`
	}
	e.must(t, 400, analyst, "POST", "/api/v1/enterprises/import", bad, &rep)
	var got []string
	for _, r := range rep.Rows {
		got = append(got, fmt.Sprintf("%d %s", r.Row, r.Field))
	}
	want := []string{"2 uscc", "3 name", "4 key_discharger", "4 lon", "5 uscc"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("row errors %v, want %v (%+v)", got, want, rep.Rows)
	}
	if !strings.Contains(rep.Rows[0].Problem, "expected 'L'") {
		t.Errorf("check character problem: %q", rep.Rows[0].Problem)
	}
	var list struct{ Total int }
	e.must(t, 200, analyst, "GET", "/api/v1/enterprises", nil, &list)
	if list.Total != 0 {
		t.Fatalf("%d enterprises after a refused import", list.Total)
	}
	good := "\xef\xbb\xbf" + header + entUSCC + ",Good,C3120," + entUSCC + "001P,true,1 Road,east,120.1,30.2,12369\n" +
		otherUSCC + ",Other,C,,false,,,,,\n"
	e.must(t, 200, analyst, "POST", "/api/v1/enterprises/import", good, nil)
	e.must(t, 200, analyst, "GET", "/api/v1/enterprises", nil, &list)
	if list.Total != 2 {
		t.Errorf("%d enterprises after import", list.Total)
	}
	var apiErr apiError
	e.must(t, 400, analyst, "POST", "/api/v1/enterprises/import", "uscc,name\n", &apiErr)
	if apiErr.Error.Field != "header" {
		t.Errorf("missing columns: %+v", apiErr.Error)
	}
}

func TestPositiveListLifecycleAndPublicList(t *testing.T) {
	e := newEnforceServer(t)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(otherUSCC, 121, 31), nil)
	var apiErr apiError
	e.must(t, 400, analyst, "POST", "/api/v1/positive-list", map[string]any{"uscc": otherUSCC, "facts": map[string]any{"credit_rating": "C"}}, &apiErr)
	if apiErr.Error.Field != "facts" || !strings.Contains(apiErr.Error.Message, "credit_rating is C") {
		t.Errorf("admission refusal: %+v", apiErr.Error)
	}
	var v versioned
	e.must(t, 201, analyst, "POST", "/api/v1/positive-list", map[string]any{"uscc": entUSCC, "facts": goodFacts()}, &v)
	now := e.clock.Now()
	notice := func(days int) map[string]any {
		return map[string]any{"version": v.Version, "notice_start": now.Format(time.RFC3339), "notice_end": now.Add(time.Duration(days) * 24 * time.Hour).Format(time.RFC3339)}
	}
	e.must(t, 400, analyst, "POST", fmt.Sprintf("/api/v1/positive-list/%d/notice", v.ID), notice(3), &apiErr)
	if apiErr.Error.Field != "notice_end" || !strings.Contains(apiErr.Error.Message, "minimum is 7 days") {
		t.Errorf("short notice: %+v", apiErr.Error)
	}
	// Two concurrent notices at the same version: exactly one wins.
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = e.call(t, analyst, "POST", fmt.Sprintf("/api/v1/positive-list/%d/notice", v.ID), notice(7+i), nil)
		}()
	}
	wg.Wait()
	sort.Ints(codes)
	if codes[0] != 200 || codes[1] != 409 {
		t.Fatalf("concurrent notices: %v, want [200 409]", codes)
	}
	e.must(t, 200, analyst, "GET", fmt.Sprintf("/api/v1/positive-list/%d", v.ID), nil, &v)
	var notices struct {
		Notices []struct {
			USCC      string    `json:"uscc"`
			NoticeEnd time.Time `json:"notice_end"`
		} `json:"notices"`
	}
	e.must(t, 200, "", "GET", "/public/notices", nil, &notices)
	if len(notices.Notices) != 1 || notices.Notices[0].USCC != entUSCC {
		t.Errorf("public notices: %+v", notices)
	}
	e.must(t, 200, analyst, "POST", fmt.Sprintf("/api/v1/positive-list/%d/objections", v.ID), map[string]any{"version": v.Version, "text": "smoke at night", "raised_by": "resident"}, &v)
	e.clock.Add(8 * 24 * time.Hour)
	e.must(t, 409, approver, "POST", fmt.Sprintf("/api/v1/positive-list/%d/list", v.ID), map[string]any{"version": v.Version}, &apiErr)
	if !strings.Contains(apiErr.Error.Message, "objection 1 is not resolved") {
		t.Errorf("listing with an open objection: %+v", apiErr.Error)
	}
	e.must(t, 200, approver, "POST", fmt.Sprintf("/api/v1/positive-list/%d/objections/1/resolve", v.ID), map[string]any{"version": v.Version, "outcome": "dismissed", "resolution": "patrols found nothing"}, &v)
	e.must(t, 200, approver, "POST", fmt.Sprintf("/api/v1/positive-list/%d/list", v.ID), map[string]any{"version": v.Version}, &v)

	var entry struct {
		Status      string `json:"status"`
		HealthCheck string `json:"health_check"`
		ValidTo     time.Time
	}
	e.must(t, 200, inspector, "GET", fmt.Sprintf("/api/v1/positive-list/%d", v.ID), nil, &entry)
	if entry.Status != "listed" || entry.HealthCheck != "pending" {
		t.Errorf("entry: %+v", entry)
	}
	e.must(t, 201, inspector, "POST", "/api/v1/enterprises/"+entUSCC+"/health-visits", map[string]any{"visited_at": e.clock.Now().Add(time.Minute).Format(time.RFC3339), "notes": "advice on ledgers"}, nil)
	e.must(t, 200, inspector, "GET", fmt.Sprintf("/api/v1/positive-list/%d", v.ID), nil, &entry)
	if entry.HealthCheck != "done" {
		t.Errorf("health check after visit: %s", entry.HealthCheck)
	}

	// Public list: no token, only the published fields.
	var pub struct {
		Enterprises []map[string]any `json:"enterprises"`
		Total       int              `json:"total"`
	}
	e.must(t, 200, "", "GET", "/public/positive-list", nil, &pub)
	if pub.Total != 1 || len(pub.Enterprises) != 1 {
		t.Fatalf("public list: %+v", pub)
	}
	var keys []string
	for k := range pub.Enterprises[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "address,complaint_channel,industry,name,permit_no,uscc,valid_from,valid_to" {
		t.Errorf("public fields: %v", keys)
	}
	data := e.must(t, 200, "", "GET", "/public/positive-list?format=csv", nil, nil)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][2] != entUSCC || len(recs[1]) != 8 || recs[0][2] != "统一社会信用代码" {
		t.Errorf("public CSV: %q %v", recs, err)
	}
	data = e.must(t, 200, "", "GET", "/public/positive-list?format=csv&lang=en", nil, nil)
	recs, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil || len(recs) != 2 || strings.Join(recs[0], ",") != strings.Join(enforce.PublicationCSVHeader, ",") {
		t.Errorf("public CSV in English: %q %v", recs, err)
	}
	e.must(t, 400, "", "GET", "/public/positive-list?format=csv&lang=fr", nil, nil)
	// Export for filing.
	data = e.must(t, 200, approver, "GET", "/api/v1/positive-list/export", nil, nil)
	if !bytes.Contains(data, []byte(entUSCC)) || !bytes.Contains(data, []byte("admission_path")) {
		t.Errorf("export: %s", data)
	}
	// Filing of the admission: the city files, the province records its receipt.
	var fe struct {
		versioned
		FiledAt *time.Time `json:"filed_at"`
		ToFile  string     `json:"to_file"`
		Filings []struct {
			Change, Receipt string
		} `json:"filings"`
		Adjustment *struct{ Kind string } `json:"adjustment"`
	}
	path := fmt.Sprintf("/api/v1/positive-list/%d", v.ID)
	e.must(t, 409, approver, "POST", path+"/filing/receipt", map[string]any{"version": v.Version, "receipt": "R-1"}, nil) // nothing submitted
	e.must(t, 200, analyst, "POST", path+"/filing", map[string]any{"version": v.Version}, &fe)
	e.must(t, 409, analyst, "POST", path+"/filing", map[string]any{"version": fe.Version}, nil) // awaits receipt
	e.must(t, 400, approver, "POST", path+"/filing/receipt", map[string]any{"version": fe.Version}, nil)
	fe.ToFile = "" // omitted when empty: decoding leaves the field as it was
	e.must(t, 200, approver, "POST", path+"/filing/receipt", map[string]any{"version": fe.Version, "receipt": "浙环备〔2026〕17号"}, &fe)
	if fe.FiledAt == nil || fe.ToFile != "" || len(fe.Filings) != 1 || fe.Filings[0].Change != "admission" || fe.Filings[0].Receipt != "浙环备〔2026〕17号" {
		t.Errorf("after the receipt: %+v", fe)
	}
	v = fe.versioned
	// Barring removal: a list adjustment, on notice first, then applied, filed and published.
	e.must(t, 400, approver, "POST", path+"/remove", map[string]any{"version": v.Version, "category": "falsified_records", "reason": "ledger rewritten"}, nil)
	now = e.clock.Now()
	e.must(t, 200, approver, "POST", path+"/remove", map[string]any{"version": v.Version, "category": "falsified_records", "reason": "ledger rewritten",
		"notice_start": now.Format(time.RFC3339), "notice_end": now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}, &fe)
	if fe.Status != "listed" || fe.Adjustment == nil || fe.Adjustment.Kind != "removal" {
		t.Fatalf("removal on notice: %+v", fe)
	}
	e.must(t, 200, analyst, "POST", path+"/objections", map[string]any{"version": fe.Version, "text": "they fixed it", "raised_by": "neighbour"}, &fe)
	e.must(t, 409, approver, "POST", path+"/adjustment/apply", map[string]any{"version": fe.Version}, nil) // notice not over
	e.clock.Add(8 * 24 * time.Hour)
	e.must(t, 409, approver, "POST", path+"/adjustment/apply", map[string]any{"version": fe.Version}, nil) // objection open
	e.must(t, 200, approver, "POST", path+"/objections/1/resolve", map[string]any{"version": fe.Version, "outcome": "dismissed", "resolution": "records checked"}, &fe)
	fe.Adjustment = nil
	e.must(t, 200, approver, "POST", path+"/adjustment/apply", map[string]any{"version": fe.Version}, &fe)
	if fe.Status != "removed" || fe.ToFile != "removal" || fe.Adjustment != nil {
		t.Errorf("removal applied: %+v", fe)
	}
	v = fe.versioned
	var removals struct {
		Removals []struct{ USCC, Category string } `json:"removals"`
	}
	e.must(t, 200, "", "GET", "/public/removals", nil, &removals)
	if len(removals.Removals) != 1 || removals.Removals[0].USCC != entUSCC || removals.Removals[0].Category != "falsified_records" {
		t.Errorf("public removals: %+v", removals)
	}
	if csvData := e.must(t, 200, "", "GET", "/public/removals?format=csv", nil, nil); !bytes.Contains(csvData, []byte(entUSCC+",falsified_records,")) || bytes.Contains(csvData, []byte("ledger")) {
		t.Errorf("public removals CSV: %s", csvData)
	}
	e.must(t, 200, analyst, "POST", path+"/filing", map[string]any{"version": v.Version}, &fe)
	e.must(t, 409, analyst, "POST", "/api/v1/positive-list", map[string]any{"uscc": entUSCC, "facts": goodFacts()}, &apiErr)
	if !strings.Contains(apiErr.Error.Message, "barred") {
		t.Errorf("re-admission: %+v", apiErr.Error)
	}
	e.must(t, 200, "", "GET", "/public/positive-list", nil, &pub)
	if pub.Total != 0 {
		t.Errorf("public list after removal: %d", pub.Total)
	}
}

type inspectionOut struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	Version   int    `json:"version"`
	Listed    bool   `json:"listed"`
	SiteVisit *struct {
		ApprovedBy string `json:"approved_by"`
	} `json:"site_visit"`
	Disposition *struct {
		Rule   string `json:"rule"`
		Waived bool   `json:"waived"`
	} `json:"disposition"`
}

func TestInspectionWorkflowRoutes(t *testing.T) {
	e := newEnforceServer(t)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(otherUSCC, 121, 31), nil)
	e.listEnterprise(t, entUSCC)
	var opened struct {
		Outcome    string        `json:"outcome"`
		Inspection inspectionOut `json:"inspection"`
	}
	e.must(t, 201, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "source": "monitoring", "ref": "f-1", "message": "SWIR hotspot on the kiln"}, &opened)
	in := opened.Inspection
	if !in.Listed || in.Status != "open" {
		t.Fatalf("opened: %+v", opened)
	}
	e.must(t, 200, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "source": "monitoring", "ref": "cems-9", "message": "NOx over the limit"}, &opened)
	if opened.Outcome != "joined" || opened.Inspection.ID != in.ID {
		t.Fatalf("second warning: %+v", opened)
	}
	in = opened.Inspection
	path := fmt.Sprintf("/api/v1/inspections/%d", in.ID)
	// A routine site visit to a listed enterprise is refused; so is an off-site anomaly before the self-check.
	var apiErr apiError
	e.must(t, 400, inspector, "POST", path+"/site-visit", map[string]any{"version": in.Version, "trigger": "routine", "reason": "plan"}, &apiErr)
	e.must(t, 400, inspector, "POST", path+"/site-visit", map[string]any{"version": in.Version, "trigger": "offsite_anomaly", "reason": "x"}, &apiErr)
	if apiErr.Error.Field != "trigger" {
		t.Errorf("trigger refusal: %+v", apiErr.Error)
	}
	e.must(t, 200, inspector, "POST", path+"/self-check", map[string]any{"version": in.Version}, &in)
	// The enterprise uploads proof and reports; the other enterprise cannot see it.
	const doc = "%PDF-1.4 self-check"
	var up presignedPut
	e.must(t, 200, enterprise, "POST", path+"/proof-uploads", map[string]any{"name": "report.pdf", "size": len(doc)}, &up)
	if code, body := up.put(t, doc); code != 200 {
		t.Fatalf("PUT proof: %d %s", code, body)
	}
	e.must(t, 201, enterprise, "POST", path+"/proofs/report.pdf", nil, nil)
	e.must(t, 400, enterprise, "POST", path+"/report", map[string]any{"version": in.Version, "text": "fixed", "proof_keys": []string{"selfcheck/" + otherUSCC + "/1/x.pdf"}}, &apiErr)
	// Keys under the inspection's prefix that were never uploaded, or uploaded and not
	// recorded (no size or SHA-256 among the audited steps), are refused, naming the entry.
	var unrecorded presignedPut
	e.must(t, 200, enterprise, "POST", path+"/proof-uploads", map[string]any{"name": "unrecorded.pdf", "size": len(doc)}, &unrecorded)
	if code, body := unrecorded.put(t, doc); code != 200 {
		t.Fatalf("PUT proof: %d %s", code, body)
	}
	prefix := fmt.Sprintf("selfcheck/%s/%d/", entUSCC, in.ID)
	for i, k := range []string{prefix + "never-uploaded.pdf", unrecorded.Key} {
		apiErr = apiError{}
		keys := []string{up.Key, k}
		e.must(t, 400, enterprise, "POST", path+"/report", map[string]any{"version": in.Version, "text": "fixed", "proof_keys": keys}, &apiErr)
		if apiErr.Error.Field != "proof_keys[1]" || !strings.Contains(apiErr.Error.Message, "not recorded") {
			t.Errorf("case %d: unrecorded proof %s: %+v", i, k, apiErr.Error)
		}
	}
	e.must(t, 200, enterprise, "POST", path+"/report", map[string]any{"version": in.Version, "text": "the valve was replaced", "proof_keys": []string{up.Key}}, &in)
	e.must(t, 200, enterprise, "GET", path, nil, nil)
	e.must(t, 200, inspector, "POST", path+"/review", map[string]any{"version": in.Version, "outcome": "site_visit", "notes": "readings still high"}, &in)
	if in.Status != "site_visit_requested" {
		t.Fatalf("after review: %+v", in)
	}
	e.must(t, 409, inspector, "POST", path+"/site-visit/record", map[string]any{"version": in.Version, "checklist": []any{}}, &apiErr)
	if !strings.Contains(apiErr.Error.Message, "not been approved") {
		t.Errorf("visit before approval: %+v", apiErr.Error)
	}
	e.must(t, 403, inspector, "POST", path+"/approve", map[string]any{"version": in.Version}, nil)
	e.must(t, 200, approver, "POST", path+"/approve", map[string]any{"version": in.Version}, &in)
	if in.SiteVisit == nil || in.SiteVisit.ApprovedBy != "test-approver" {
		t.Errorf("approval: %+v", in.SiteVisit)
	}
	var cfg struct {
		SiteChecklist []string `json:"site_checklist"`
	}
	e.must(t, 200, inspector, "GET", "/api/v1/config", nil, &cfg)
	var items []map[string]string
	for _, c := range cfg.SiteChecklist {
		items = append(items, map[string]string{"item": c, "result": "compliant"})
	}
	e.must(t, 200, inspector, "POST", path+"/site-visit/record", map[string]any{"version": in.Version, "checklist": items}, &in)
	e.must(t, 200, approver, "POST", path+"/close", map[string]any{"version": in.Version, "note": "valve leak, fixed the same day",
		"violation": map[string]any{"first_violation": true, "minor": true, "promptly_corrected": true}}, &in)
	if in.Status != "closed" || in.Disposition == nil || !in.Disposition.Waived || !strings.HasPrefix(in.Disposition.Rule, "四.9") {
		t.Errorf("closed: %+v %+v", in, in.Disposition)
	}
	var tl struct {
		Steps []struct{ Action, Actor string } `json:"steps"`
	}
	e.must(t, 200, enterprise, "GET", path+"/timeline", nil, &tl)
	var actions []string
	for _, st := range tl.Steps {
		actions = append(actions, st.Action)
	}
	if want := "inspection.opened,inspection.warning_joined,inspection.request_self_check,inspection.proof_upload,inspection.submit_report,inspection.review," +
		"inspection.approve_site_visit,inspection.record_site_visit,inspection.close,disposition.waived"; strings.Join(actions, ",") != want {
		t.Errorf("timeline %v\nwant %s", actions, want)
	}
	// The same matter raised by the province is linked, not repeated.
	e.must(t, 200, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "level": "province", "source": "monitoring", "ref": "f-1", "message": "hotspot"}, &opened)
	if opened.Outcome != "linked" || opened.Inspection.Status != "closed" {
		t.Errorf("province warning: %+v", opened)
	}
	// Enterprise tokens see only their own inspections.
	var mine struct{ Total int }
	e.must(t, 200, enterprise, "GET", "/api/v1/inspections", nil, &mine)
	if mine.Total != 2 {
		t.Errorf("enterprise sees %d inspections", mine.Total)
	}
	e.must(t, 403, enterprise, "GET", "/api/v1/inspections?uscc="+otherUSCC, nil, nil)
	var st struct {
		ListedSiteInspections int `json:"listed_site_inspections"`
		WaivedPenalties       int `json:"waived_penalties"`
		SelfCheck             struct {
			Answered int `json:"answered"`
		} `json:"self_check"`
		Warnings []struct {
			Zone  string
			Count int
		}
	}
	e.must(t, 200, approver, "GET", "/api/v1/stats?from=2020-01-01&to="+e.clock.Now().Add(48*time.Hour).Format(time.RFC3339), nil, &st)
	if st.ListedSiteInspections != 1 || st.WaivedPenalties != 1 || st.SelfCheck.Answered != 1 || len(st.Warnings) != 1 || st.Warnings[0].Count != 3 {
		t.Errorf("stats: %+v", st)
	}
}

func TestDrawAndAuditVerify(t *testing.T) {
	e := newEnforceServer(t)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(otherUSCC, 121, 31), nil)
	var d struct {
		ID     int64 `json:"id"`
		Result struct {
			Seed    string `json:"seed"`
			Targets []struct {
				USCC       string   `json:"uscc"`
				Inspectors []string `json:"inspectors"`
			} `json:"targets"`
		} `json:"result"`
	}
	ins := []map[string]any{{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}, {"id": "e", "conflicts": []string{entUSCC, otherUSCC}}}
	e.must(t, 201, approver, "POST", "/api/v1/draws", map[string]any{"seed": "00000000000000ff", "inspectors": ins}, &d)
	if d.Result.Seed != "00000000000000ff" || len(d.Result.Targets) != 1 {
		t.Fatalf("draw: %+v", d)
	}
	// Whoever may read the recorded draw can repeat it from its seed, pool and inspectors.
	var pub struct {
		Result enforce.DrawResult `json:"result"`
	}
	e.must(t, 200, approver, "GET", fmt.Sprintf("/api/v1/draws/%d", d.ID), nil, &pub)
	seed, err := enforce.ParseSeed(pub.Result.Seed)
	if err != nil {
		t.Fatal(err)
	}
	redo, err := enforce.Draw(pub.Result.Config, seed, pub.Result.Pool, pub.Result.Inspectors)
	if err != nil || fmt.Sprint(redo.Targets) != fmt.Sprint(pub.Result.Targets) || len(pub.Result.Pool) != 2 {
		t.Errorf("repeating the published draw: %v %v, published %v", redo, err, pub.Result.Targets)
	}
	// The next draw does not send the same inspectors to the same enterprise.
	next := d
	next.Result.Targets = nil // decode into fresh memory, not d's
	e.must(t, 201, approver, "POST", "/api/v1/draws", map[string]any{"seed": "00000000000000ff", "inspectors": ins}, &next)
	for _, a := range next.Result.Targets[0].Inspectors {
		for _, b := range d.Result.Targets[0].Inspectors {
			if next.Result.Targets[0].USCC == d.Result.Targets[0].USCC && a == b {
				t.Errorf("inspector %s drawn for %s twice running", a, d.Result.Targets[0].USCC)
			}
		}
	}
	var apiErr apiError
	e.must(t, 400, approver, "POST", "/api/v1/draws", map[string]any{"seed": "xyz", "inspectors": ins}, &apiErr)
	if apiErr.Error.Field != "seed" {
		t.Errorf("bad seed: %+v", apiErr.Error)
	}

	var ver struct {
		OK          bool  `json:"ok"`
		Checked     int64 `json:"checked"`
		FirstBroken *struct {
			Seq    int64  `json:"seq"`
			Reason string `json:"reason"`
		} `json:"first_broken"`
	}
	e.must(t, 200, approver, "GET", "/api/v1/audit/verify", nil, &ver)
	if !ver.OK || ver.Checked < 4 {
		t.Fatalf("verify: %+v", ver)
	}
	// Through the application role nothing can be changed.
	if _, err := e.db.Pool.Exec(context.Background(), "UPDATE audit_log SET detail = '{}' WHERE seq = 2"); err == nil {
		t.Fatal("UPDATE of audit_log succeeded")
	}
	// The table owner bypasses the guard: the chain names the entry.
	e.asOwner(t, `UPDATE audit_log SET detail = '{}' WHERE seq = 2`)
	e.must(t, 200, approver, "GET", "/api/v1/audit/verify", nil, &ver)
	if ver.OK || ver.FirstBroken == nil || ver.FirstBroken.Seq != 2 {
		t.Errorf("tampered: %+v %+v", ver, ver.FirstBroken)
	}
}

// TestEveryRouteAndRole calls every documented route with no token and with each role's
// token and checks that exactly the roles in its x-roles get past authorisation.
func TestEveryRouteAndRole(t *testing.T) {
	e := newEnforceServer(t)
	// Records the {id} and {uscc} paths point at.
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/positive-list", map[string]any{"uscc": entUSCC, "facts": goodFacts()}, nil)
	e.must(t, 201, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "source": "monitoring", "ref": "f", "message": "m"}, nil)
	e.must(t, 201, approver, "POST", "/api/v1/draws", map[string]any{"inspectors": []map[string]string{{"id": "a"}, {"id": "b"}}}, nil)

	var doc struct {
		Paths map[string]map[string]struct {
			Roles []string `json:"x-roles"`
		} `json:"paths"`
	}
	e.must(t, 200, "", "GET", "/openapi.json", nil, &doc)
	type call struct{ method, path string }
	var calls []call
	roles := map[call][]string{}
	for path, ops := range doc.Paths {
		for m, op := range ops {
			c := call{strings.ToUpper(m), path}
			calls = append(calls, c)
			roles[c] = op.Roles
			if len(op.Roles) == 0 {
				t.Errorf("%s %s has no roles: nobody may call it", c.method, path)
			}
		}
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].path+calls[i].method < calls[j].path+calls[j].method })
	fill := strings.NewReplacer("{id}", "1", "{uscc}", entUSCC, "{n}", "1", "{collectionId}", "enterprises", "{featureId}", entUSCC, "{key}", "sha256/ab.tif")
	tokens := map[string]string{"public": ""}
	for r, tok := range tokenOf {
		tokens[string(r)] = tok
	}
	n := 0
	for _, c := range calls {
		for role, tok := range tokens {
			n++
			allowed := false
			for _, r := range roles[c] {
				allowed = allowed || r == role || r == string(httpapi.RolePublic)
			}
			code, body := e.try(t, tok, c.method, fill.Replace(c.path), "{}")
			switch {
			case code == 0:
				// The server closed the connection without an answer: a handler panicked
				// (GET /api/v1/zones/{id} did, on a server without a ZoneService).
				t.Errorf("%s %s as %s: no answer (a handler panicked?): %s", c.method, c.path, role, body)
			case !allowed && role == "public" && code != 401:
				t.Errorf("%s %s without a token: %d, want 401: %s", c.method, c.path, code, body)
			case !allowed && role != "public" && code != 403:
				t.Errorf("%s %s as %s: %d, want 403: %s", c.method, c.path, role, code, body)
			case allowed && (code == 401 || code == 403):
				t.Errorf("%s %s as %s: %d, want it past authorisation: %s", c.method, c.path, role, code, body)
			}
		}
	}
	t.Logf("%d routes × %d roles = %d calls", len(calls), len(tokens), n)
	// An unknown token is refused everywhere but on public routes too.
	if code, _ := e.call(t, "not-a-token-0123456789", "GET", "/public/positive-list", nil, nil); code != 401 {
		t.Errorf("unknown token on a public route: %d, want 401", code)
	}
}

// TestOGCWithOgrinfo opens the collections with GDAL's OAPIF driver, as QGIS does.
func TestOGCWithOgrinfo(t *testing.T) {
	if _, err := exec.LookPath("ogrinfo"); err != nil {
		t.Fatal("ogrinfo not found: install gdal-bin (make deps)")
	}
	e := newEnforceServer(t)
	for i, u := range []string{entUSCC, otherUSCC, "91350100M00010001T"} {
		e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(u, 120+float64(i), 30), nil)
		fc := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"p%d"},"geometry":{"type":"Polygon","coordinates":[[[%d,30],[%d.01,30],[%d.01,30.01],[%d,30.01],[%d,30]]]}}]}`, i, 120+i, 120+i, 120+i, 120+i, 120+i)
		e.must(t, 200, analyst, "PUT", "/api/v1/enterprises/"+u+"/parcels", fc, nil)
	}
	// A finding on parcel p1 (of otherUSCC, at 121°E).
	sq := orb.Polygon{{{121.002, 30.002}, {121.004, 30.002}, {121.004, 30.004}, {121.002, 30.004}, {121.002, 30.002}}}
	if err := postgres.NewFindingService(e.db).RecordFindings(context.Background(), []*offsite.Finding{{
		ID: "00112233445566778899aabbccddeeff", ParcelID: "p1", CaptureIDs: []int64{1}, Kind: "hotspot", Class: "thermal_anomaly",
		Score: 0.9, AreaM2: 400, Severity: "high", Geometry: sq, Pipeline: "sentinel2", PipelineHash: "abc",
		DetectedAt: time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC), Provenance: json.RawMessage(`{"type":"Feature"}`),
	}}); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Parcels []struct {
			Findings []struct {
				ID       string          `json:"id"`
				Geometry json.RawMessage `json:"geometry"`
			} `json:"findings"`
		} `json:"parcels"`
	}
	e.must(t, 200, inspector, "GET", "/api/v1/enterprises/"+otherUSCC+"/evidence", nil, &ev)
	if len(ev.Parcels) != 1 || len(ev.Parcels[0].Findings) != 1 || !strings.Contains(string(ev.Parcels[0].Findings[0].Geometry), "Polygon") {
		t.Errorf("evidence with a finding: %+v", ev)
	}
	// A warning from the finding: the enterprise comes from the finding's parcel.
	var opened struct {
		Outcome    string `json:"outcome"`
		Inspection struct {
			USCC     string `json:"uscc"`
			Warnings []struct{ Severity, Message string }
		} `json:"inspection"`
	}
	e.must(t, 201, analyst, "POST", "/api/v1/warnings", map[string]any{"source": "finding", "ref": "00112233445566778899aabbccddeeff"}, &opened)
	if opened.Inspection.USCC != otherUSCC || opened.Inspection.Warnings[0].Severity != "high" || !strings.Contains(opened.Inspection.Warnings[0].Message, "thermal_anomaly") {
		t.Errorf("warning from a finding: %+v", opened)
	}
	var apiErr apiError
	e.must(t, 400, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "source": "finding", "ref": "00112233445566778899aabbccddeeff"}, &apiErr)
	if apiErr.Error.Field != "ref" || !strings.Contains(apiErr.Error.Message, "not "+entUSCC) {
		t.Errorf("finding of another enterprise: %+v", apiErr.Error)
	}
	e.must(t, 400, analyst, "POST", "/api/v1/warnings", map[string]any{"source": "finding", "ref": "nope"}, &apiErr)
	// Paging: numberMatched and a next link.
	var page struct {
		NumberMatched  int `json:"numberMatched"`
		NumberReturned int `json:"numberReturned"`
		Links          []struct{ Rel, Href string }
	}
	e.must(t, 200, inspector, "GET", "/ogc/collections/enterprises/items?limit=2&bbox=119,29,122,31&datetime=2020-01-01T00:00:00Z/..", nil, &page)
	if page.NumberMatched != 3 || page.NumberReturned != 2 || len(page.Links) != 2 || page.Links[1].Rel != "next" {
		t.Errorf("page: %+v", page)
	}
	e.must(t, 200, inspector, "GET", "/ogc/collections/parcels/items?bbox=120.5,29,121.5,31", nil, &page)
	if page.NumberMatched != 1 {
		t.Errorf("parcels in bbox: %d", page.NumberMatched)
	}
	e.must(t, 200, inspector, "GET", "/ogc/collections/enterprises/items?datetime=../2001-01-01T00:00:00Z", nil, &page)
	if page.NumberMatched != 0 {
		t.Errorf("enterprises updated before 2001: %d", page.NumberMatched)
	}
	e.must(t, 400, inspector, "GET", "/ogc/collections/enterprises/items?datetime=yesterday", nil, nil)
	e.must(t, 200, inspector, "GET", "/ogc/collections/findings/items?datetime=2026-04-01T00:00:00Z/2026-06-01T00:00:00Z", nil, &page)
	if page.NumberMatched != 1 {
		t.Errorf("findings in May 2026: %d", page.NumberMatched)
	}
	e.must(t, 200, inspector, "GET", "/ogc/collections/findings/items/00112233445566778899aabbccddeeff", nil, nil)
	e.must(t, 404, inspector, "GET", "/ogc/collections/findings/items/ffff", nil, nil)
	e.must(t, 404, inspector, "GET", "/ogc/collections/surveys/items", nil, nil)

	hdr := filepath.Join(t.TempDir(), "headers.txt")
	if err := os.WriteFile(hdr, []byte("Authorization: Bearer "+inspector+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ layer, want string }{
		{"enterprises", "Feature Count: 3"},
		{"parcels", "Feature Count: 3"},
		{"findings", "Feature Count: 1"},
	} {
		cmd := exec.Command("ogrinfo", "-ro", "-so", "--config", "GDAL_HTTP_HEADER_FILE", hdr,
			"OAPIF:"+e.hs.URL+"/ogc", tc.layer)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("ogrinfo %s: %v\n%s", tc.layer, err, out)
		}
	}
	cmd := exec.Command("ogrinfo", "-ro", "-al", "-q", "--config", "GDAL_HTTP_HEADER_FILE", hdr, "OAPIF:"+e.hs.URL+"/ogc", "enterprises")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "uscc (String) = "+otherUSCC) || !strings.Contains(string(out), "POINT (121 30)") {
		t.Errorf("ogrinfo -al enterprises: %v\n%s", err, out)
	}
	// Without a token the driver is refused.
	if out, err := exec.Command("ogrinfo", "-ro", "-so", "OAPIF:"+e.hs.URL+"/ogc").CombinedOutput(); err == nil {
		t.Errorf("ogrinfo without a token succeeded:\n%s", out)
	}
}
