package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/webui"
)

// newUIServer returns newServer's API with the web interface mounted, and its store.
func newUIServer(t *testing.T) (*httptest.Server, *s3.Store) {
	t.Helper()
	srv, _ := newServer(t)
	srv.UI = webui.Handler(webui.Config{Pipelines: []string{"sentinel2"}, CaptureKinds: []string{"sentinel2"}})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs, srv.Store.(*s3.Store)
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// TestMe lists the operations of the caller's role, which the interface uses to show only
// permitted actions.
func TestMe(t *testing.T) {
	hs, _ := newUIServer(t)
	e := &enfEnv{hs: hs}
	for _, tc := range []struct {
		role      enforce.Role
		has, hasn []string
	}{
		{httpapi.RoleAnalyst, []string{"POST /api/v1/surveys", "GET /api/v1/ui/enterprises", "GET /public/positive-list"}, []string{"POST /api/v1/inspections/{id}/approve", "PUT /api/v1/ui/inspections/{id}/proofs/{name}"}},
		{httpapi.RoleApprover, []string{"POST /api/v1/inspections/{id}/approve", "POST /api/v1/positive-list/{id}/list"}, []string{"POST /api/v1/surveys", "POST /api/v1/inspections/{id}/self-check"}},
		{httpapi.RoleEnterprise, []string{"POST /api/v1/inspections/{id}/report", "GET /api/v1/me", "PUT /api/v1/ui/inspections/{id}/proofs/{name}", "GET /api/v1/ui/inspections/{id}/proofs/{name}"}, []string{"GET /api/v1/enterprises/{uscc}/evidence", "GET /api/v1/ui/evidence/{key...}"}},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			var me struct {
				Name, Role, USCC string
				Operations       []string
			}
			e.must(t, 200, tokenOf[tc.role], "GET", "/api/v1/me", nil, &me)
			if me.Role != string(tc.role) || me.Name != "test-"+string(tc.role) {
				t.Errorf("me = %+v", me)
			}
			for _, op := range tc.has {
				if !slices.Contains(me.Operations, op) {
					t.Errorf("operations lack %q", op)
				}
			}
			for _, op := range tc.hasn {
				if slices.Contains(me.Operations, op) {
					t.Errorf("operations have %q, which the role may not call", op)
				}
			}
		})
	}
	if code, _ := e.call(t, "", "GET", "/api/v1/me", nil, nil); code != 401 {
		t.Errorf("GET /api/v1/me without a token: %d, want 401", code)
	}
}

// TestUIEnterprisesOpenWarnings filters enterprises by open warnings and counts them.
func TestUIEnterprisesOpenWarnings(t *testing.T) {
	hs, _ := newUIServer(t)
	e := &enfEnv{hs: hs}
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(otherUSCC, 120.2, 30.3), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "source": "monitoring", "ref": "cod-1", "message": "COD over the limit"}, nil)
	e.must(t, 200, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "source": "monitoring", "ref": "nh3-1", "message": "NH3-N over the limit"}, nil)
	type row struct {
		USCC            string `json:"uscc"`
		OpenInspections int    `json:"open_inspections"`
		OpenWarnings    int    `json:"open_warnings"`
	}
	for _, tc := range []struct {
		query string
		want  []row
	}{
		{"", []row{{entUSCC, 1, 2}, {otherUSCC, 0, 0}}},
		{"?open_warnings=true", []row{{entUSCC, 1, 2}}},
		{"?open_warnings=false", []row{{otherUSCC, 0, 0}}},
		{"?open_warnings=false&zone=west", []row{}},
		{"?open_warnings=true&q=" + entUSCC[:6], []row{{entUSCC, 1, 2}}},
		{"?open_warnings=true&offset=1", []row{}},
		{"?bbox=120.15,30.25,120.3,30.4", []row{{otherUSCC, 0, 0}}},
		{"?open_warnings=true&bbox=120.15,30.25,120.3,30.4", []row{}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var out struct {
				Enterprises []row `json:"enterprises"`
				Total       int   `json:"total"`
			}
			e.must(t, 200, inspector, "GET", "/api/v1/ui/enterprises"+tc.query, nil, &out)
			slices.SortFunc(out.Enterprises, func(a, b row) int { return strings.Compare(a.USCC, b.USCC) })
			if len(out.Enterprises) != len(tc.want) || (len(tc.want) > 0 && !slices.Equal(out.Enterprises, tc.want)) {
				t.Errorf("got %+v, want %+v", out.Enterprises, tc.want)
			}
		})
	}
	for q, field := range map[string]string{"?open_warnings=maybe": "open_warnings", "?list_status=asleep": "list_status", "?limit=0": "limit", "?bbox=1,2": "bbox"} {
		var ae apiError
		if code, _ := e.call(t, inspector, "GET", "/api/v1/ui/enterprises"+q, nil, &ae); code != 400 || ae.Error.Field != field {
			t.Errorf("%s: %d %+v, want 400 naming %s", q, code, ae, field)
		}
	}
	if code, _ := e.call(t, enterprise, "GET", "/api/v1/ui/enterprises", nil, nil); code != 403 {
		t.Errorf("enterprise token: %d, want 403", code)
	}
}

// TestUIEvidence serves evidence bytes through the API, audits downloads, and refuses bad
// keys and roles that may not read evidence.
func TestUIEvidence(t *testing.T) {
	hs, store := newUIServer(t)
	e := &enfEnv{hs: hs}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...)
	key, _, err := store.PutEvidence(context.Background(), png, ".png", "image/png")
	if err != nil {
		t.Fatal(err)
	}
	get := func(token, path string, header ...string) *http.Response {
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get(inspector, "/api/v1/ui/evidence/"+key)
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(body.Bytes(), png) || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Content-Disposition") != "" {
		t.Fatalf("GET evidence: %d %q %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body.Len())
	}
	if resp.Header.Get("Content-Length") != strconv.Itoa(len(png)) || resp.Header.Get("ETag") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("GET evidence headers: Content-Length %q, ETag %q, Cache-Control %q", resp.Header.Get("Content-Length"), resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
	}
	etag := resp.Header.Get("ETag")
	resp = get(inspector, "/api/v1/ui/evidence/"+key, "If-None-Match", etag)
	if resp.StatusCode != 304 {
		t.Errorf("GET with If-None-Match %s: %d, want 304", etag, resp.StatusCode)
	}
	resp = get(inspector, "/api/v1/ui/evidence/"+key, "Range", "bytes=8-11")
	body.Reset()
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != 206 || !bytes.Equal(body.Bytes(), png[8:12]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 8-11/%d", len(png)) {
		t.Errorf("GET range 8-11: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Range"), body.Bytes())
	}
	countDownloads := func() int {
		var out struct {
			Entries []struct {
				Action string `json:"action"`
			} `json:"entries"`
		}
		e.must(t, 200, admin, "GET", "/api/v1/audit?subject=evidence/"+key, nil, &out)
		n := 0
		for _, en := range out.Entries {
			if en.Action == "evidence.download" {
				n++
			}
		}
		return n
	}
	if n := countDownloads(); n != 0 {
		t.Errorf("viewing audited %d downloads", n)
	}
	resp = get(approver, "/api/v1/ui/evidence/"+key+"?download=true")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if n := countDownloads(); n != 1 {
		t.Errorf("download audited %d times, want 1", n)
	}
	resp = get(inspector, "/api/v1/ui/evidence/"+key+"?download=true", "If-None-Match", etag)
	if resp.StatusCode != 304 {
		t.Errorf("download with If-None-Match: %d, want 304", resp.StatusCode)
	}
	if n := countDownloads(); n != 2 {
		t.Errorf("downloads audited %d times, want 2 (a revalidated download is a download)", n)
	}
	if code, _ := e.call(t, inspector, "GET", "/api/v1/ui/evidence/sha256/00/"+strings.Repeat("0", 64)+".png?download=true", nil, nil); code != 404 {
		t.Errorf("download of a missing object: %d, want 404", code)
	}
	for _, tc := range []struct {
		name, token, key string
		code             int
	}{
		{"missing", inspector, "sha256/00/" + strings.Repeat("0", 64) + ".png", 404},
		{"backslash", inspector, `sha256\\x.png`, 400},
		{"gdal path", inspector, "vsicurl/x.png", 400},
		{"enterprise", enterprise, key, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := get(tc.token, "/api/v1/ui/evidence/"+tc.key); r.StatusCode != tc.code {
				t.Errorf("%d, want %d", r.StatusCode, tc.code)
			}
		})
	}
}

// TestUIEvidenceStream serves an object larger than any single buffer whole and by ranges,
// byte for byte, as it streams from object storage.
func TestUIEvidenceStream(t *testing.T) {
	hs, store := newUIServer(t)
	data := make([]byte, 5<<20+7)
	for i := range data {
		data[i] = byte(i*7 + i>>13)
	}
	key, _, err := store.PutEvidence(context.Background(), data, ".tif", "image/tiff")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, rng  string
		code       int
		start, end int // of data, end exclusive
	}{
		{"whole", "", 200, 0, len(data)},
		{"middle", "bytes=1048570-3145735", 206, 1048570, 3145736},
		{"suffix", "bytes=-100", 206, len(data) - 100, len(data)},
		{"open end", "bytes=5242880-", 206, 5242880, len(data)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", hs.URL+"/api/v1/ui/evidence/"+key, nil)
			req.Header.Set("Authorization", "Bearer "+inspector)
			if tc.rng != "" {
				req.Header.Set("Range", tc.rng)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body bytes.Buffer
			if _, err := body.ReadFrom(resp.Body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code || resp.ContentLength != int64(tc.end-tc.start) || !bytes.Equal(body.Bytes(), data[tc.start:tc.end]) {
				t.Errorf("%d, Content-Length %d, %d bytes; want %d with bytes %d..%d", resp.StatusCode, resp.ContentLength, body.Len(), tc.code, tc.start, tc.end)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/tiff") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// TestUIProofs uploads self-check proof through the API as the enterprise, records its
// size and SHA-256 among the inspection's steps, refuses what is not a fresh PDF or image
// while a self-check is requested, and serves it back, audited, to staff and its owner.
func TestUIProofs(t *testing.T) {
	hs, _ := newUIServer(t)
	e := &enfEnv{hs: hs}
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(otherUSCC, 121, 31), nil)
	var opened struct {
		Inspection versioned `json:"inspection"`
	}
	e.must(t, 201, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": otherUSCC, "source": "monitoring", "ref": "o-1", "message": "COD"}, &opened)
	other := opened.Inspection
	e.must(t, 201, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "source": "monitoring", "ref": "f-1", "message": "SWIR hotspot"}, &opened)
	in := opened.Inspection
	base := fmt.Sprintf("/api/v1/inspections/%d", in.ID)
	proofs := fmt.Sprintf("/api/v1/ui/inspections/%d/proofs/", in.ID)
	pdf := "%PDF-1.4\n" + strings.Repeat("self-check of the kiln\n", 40)
	var apiErr apiError
	// Before the self-check is requested there is nothing to prove.
	e.must(t, 409, enterprise, "PUT", proofs+"early.pdf", pdf, &apiErr)
	e.must(t, 200, inspector, "POST", base+"/self-check", map[string]any{"version": in.Version}, &in)
	e.must(t, 200, inspector, "POST", fmt.Sprintf("/api/v1/inspections/%d/self-check", other.ID), map[string]any{"version": other.Version}, nil)

	type proof struct {
		Name      string `json:"name"`
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		SHA256    string `json:"sha256"`
		MediaType string `json:"media_type"`
	}
	sum := sha256.Sum256([]byte(pdf))
	for _, name := range []string{"report.pdf", "自查报告.pdf"} {
		var got proof
		e.must(t, 201, enterprise, "PUT", proofs+""+url.PathEscape(name), pdf, &got)
		want := proof{Name: name, Key: fmt.Sprintf("selfcheck/%s/%d/%s", entUSCC, in.ID, name), Size: int64(len(pdf)), SHA256: hex.EncodeToString(sum[:]), MediaType: "application/pdf"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PUT %s (-want +got):\n%s", name, diff)
		}
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 64)...)
	e.must(t, 201, enterprise, "PUT", proofs+"photo.PNG", string(png), nil)

	for _, tc := range []struct {
		name, token, path, body string
		code                    int
		field                   string
	}{
		{"again", enterprise, proofs + "report.pdf", pdf, 409, ""},
		{"not an image", enterprise, proofs + "photo.png", pdf, 400, "body"},
		{"not a document", enterprise, proofs + "notes.txt", "plain words", 400, "name"},
		{"empty", enterprise, proofs + "empty.pdf", "", 400, "body"},
		{"too large", enterprise, proofs + "big.pdf", "%PDF-1.4\n" + strings.Repeat("x", 64<<10), 413, ""},
		{"control character", enterprise, proofs + "a%01.pdf", pdf, 400, "name"},
		{"another enterprise", enterprise, fmt.Sprintf("/api/v1/ui/inspections/%d/proofs/r.pdf", other.ID), pdf, 403, ""},
		{"staff", inspector, proofs + "r.pdf", pdf, 403, ""},
		{"no such inspection", admin, "/api/v1/ui/inspections/999999/proofs/r.pdf", pdf, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ae apiError
			code, data := e.call(t, tc.token, "PUT", tc.path, tc.body, nil)
			_ = json.Unmarshal(data, &ae)
			if code != tc.code || ae.Error.Field != tc.field {
				t.Errorf("%d %s, want %d naming %q", code, data, tc.code, tc.field)
			}
		})
	}

	// Every upload is a step of the inspection, with its digest.
	var tl struct {
		Steps []struct {
			Action string `json:"action"`
			Actor  string `json:"actor"`
			Detail string `json:"detail"`
		} `json:"steps"`
	}
	e.must(t, 200, enterprise, "GET", base+"/timeline", nil, &tl)
	var uploads []string
	for _, st := range tl.Steps {
		if st.Action == "inspection.proof_upload" {
			uploads = append(uploads, st.Detail)
			if st.Actor != "test-enterprise" || !strings.Contains(st.Detail, hex.EncodeToString(sum[:])) && !strings.Contains(st.Detail, "photo.PNG") {
				t.Errorf("upload step by %s: %s", st.Actor, st.Detail)
			}
		}
	}
	if len(uploads) != 3 {
		t.Errorf("%d upload steps, want 3: %v", len(uploads), uploads)
	}

	// The report cites the proof; staff and the enterprise read it back, each read audited.
	key := fmt.Sprintf("selfcheck/%s/%d/report.pdf", entUSCC, in.ID)
	e.must(t, 200, enterprise, "POST", base+"/report", map[string]any{"version": in.Version, "text": "the valve was replaced", "proof_keys": []string{key}}, &in)
	for _, tok := range []string{inspector, enterprise} {
		req, _ := http.NewRequest("GET", hs.URL+proofs+""+url.PathEscape("自查报告.pdf"), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || body.String() != pdf || resp.Header.Get("Content-Type") != "application/pdf" ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(resp.Header.Get("Content-Disposition"), "%E8%87%AA") {
			t.Errorf("GET proof: %d %q %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body.Len())
		}
	}
	var audit struct {
		Entries []struct {
			Action string `json:"action"`
		} `json:"entries"`
	}
	e.must(t, 200, admin, "GET", "/api/v1/audit?subject="+url.QueryEscape(fmt.Sprintf("inspection/%d/proofs/自查报告.pdf", in.ID)), nil, &audit)
	if len(audit.Entries) != 2 || audit.Entries[0].Action != "inspection.proof_download" {
		t.Errorf("proof downloads audited: %+v, want 2", audit.Entries)
	}
	e.must(t, 404, inspector, "GET", proofs+"missing.pdf", nil, nil)
	e.must(t, 403, enterprise, "GET", fmt.Sprintf("/api/v1/ui/inspections/%d/proofs/r.pdf", other.ID), nil, nil)
}

// TestUIMounted serves the interface under /ui/ with its configuration, and sends / there.
func TestUIMounted(t *testing.T) {
	hs, _ := newUIServer(t)
	c := &http.Client{CheckRedirect: noRedirect}
	resp, err := c.Get(hs.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.Get(hs.URL + "/ui/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cfg struct {
		Pipelines []string `json:"pipelines"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil || resp.StatusCode != 200 || !slices.Equal(cfg.Pipelines, []string{"sentinel2"}) {
		t.Errorf("config.json: %d %+v %v", resp.StatusCode, cfg, err)
	}
}
