package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/stac"
)

// mustPNG returns a w×h PNG of one colour.
func mustPNG(tb testing.TB, w, h int, c color.NRGBA) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// caseEvidence is what caseFixture stored: the hashes a case file must list.
type caseEvidence struct {
	findingID                             string
	beforeQL, afterQL, afterCOG, chartPNG string // SHA-256
	inspection                            int64
}

// caseFixture stores, for entUSCC, a parcel with two Sentinel-2 captures, their clips and
// quick-looks, a change finding with a PNG chart artifact and STAC provenance, and an
// inspection opened from the finding that went through the self-check (with a proof), the
// review and the approval of a site visit.
func caseFixture(t *testing.T, e *enfEnv) caseEvidence {
	t.Helper()
	ctx := context.Background()
	body := enterpriseBody(entUSCC, 120.1, 30.2)
	body["name"] = "江苏示例化工有限公司"
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", body, nil)
	e.listEnterprise(t, entUSCC)
	fc := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"cf-p1","name":"一号厂区"},"geometry":{"type":"Polygon","coordinates":[[[120.1,30.2],[120.104,30.2],[120.104,30.203],[120.1,30.203],[120.1,30.2]]]}}]}`
	e.must(t, 200, analyst, "PUT", "/api/v1/enterprises/"+entUSCC+"/parcels", fc, nil)
	captures := postgres.NewCaptureService(e.db)
	at := time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC)
	var caps [2]*offsite.Capture
	var ev caseEvidence
	for i, sensor := range []string{"Sentinel-2B MSI", "Sentinel-2A MSI"} {
		caps[i] = &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: at.Add(time.Duration(i-1) * 30 * 24 * time.Hour), Sensor: sensor,
			Bucket: e.store.Captures, Key: fmt.Sprintf("s2/scene-%d.tif", i)}
		if err := captures.CreateCapture(ctx, caps[i]); err != nil {
			t.Fatal(err)
		}
		ql := mustPNG(t, 40, 30, color.NRGBA{uint8(60 + 100*i), 120, 60, 255})
		qlKey, qlSum, err := e.store.PutEvidence(ctx, ql, ".png", "image/png")
		if err != nil {
			t.Fatal(err)
		}
		cogKey, cogSum, err := e.store.PutEvidence(ctx, []byte(fmt.Sprintf("cog %d", i)), ".tif", "image/tiff")
		if err != nil {
			t.Fatal(err)
		}
		if err := captures.RecordClips(ctx, []*offsite.Clip{{CaptureID: caps[i].ID, ParcelID: "cf-p1", COGKey: cogKey, COGSHA256: cogSum, COGBytes: 5,
			QuickLookKey: qlKey, QuickLookSHA256: qlSum, Width: 40, Height: 30, ValidPixels: 1200}}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			ev.beforeQL = qlSum
		} else {
			ev.afterQL, ev.afterCOG = qlSum, cogSum
		}
	}
	chart := mustPNG(t, 60, 20, color.NRGBA{0, 0, 200, 255})
	chartKey, chartSum, err := e.store.PutEvidence(ctx, chart, ".png", "image/png")
	if err != nil {
		t.Fatal(err)
	}
	ev.chartPNG = chartSum
	sq := orb.Polygon{{{120.101, 30.201}, {120.102, 30.201}, {120.102, 30.202}, {120.101, 30.202}, {120.101, 30.201}}}
	ev.findingID = "cafe0000cafe0000cafe0000cafe0000"
	item := stac.NewItem(ev.findingID, sq, map[string]any{"offsite:detector": "irmad", "offsite:pipeline_sha256": "pipehash"})
	item.Links = append(item.Links, stac.Link{Rel: "derived_from", Href: "s3://captures/s2/scene-1.tif", Checksum: stac.Checksum(strings.Repeat("7", 64)), Role: "after", CaptureID: caps[1].ID})
	prov, err := json.Marshal(item)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewFindingService(e.db).RecordFindings(ctx, []*offsite.Finding{{
		ID: ev.findingID, ParcelID: "cf-p1", CaptureIDs: []int64{caps[0].ID, caps[1].ID}, Kind: "change", Class: "new_structure",
		Score: 0.87, AreaM2: 1234.5, Severity: "high", Geometry: sq, Pipeline: "sentinel2", PipelineHash: "pipehash", DetectedAt: at,
		Provenance: prov, Artifacts: []offsite.Artifact{{Name: "chart.png", Key: chartKey, SHA256: chartSum, Size: int64(len(chart)), MediaType: "image/png"}},
	}}); err != nil {
		t.Fatal(err)
	}
	var opened struct {
		Inspection inspectionOut `json:"inspection"`
	}
	e.must(t, 201, analyst, "POST", "/api/v1/warnings", map[string]any{"source": "finding", "ref": ev.findingID}, &opened)
	in := opened.Inspection
	ev.inspection = in.ID
	path := fmt.Sprintf("/api/v1/inspections/%d", in.ID)
	e.must(t, 200, inspector, "POST", path+"/self-check", map[string]any{"version": in.Version}, &in)
	const doc = "%PDF-1.4 self-check"
	var up presignedPut
	e.must(t, 200, enterprise, "POST", path+"/proof-uploads", map[string]any{"name": "report.pdf", "size": len(doc)}, &up)
	if code, body := up.put(t, doc); code != 200 {
		t.Fatalf("PUT proof: %d %s", code, body)
	}
	e.must(t, 201, enterprise, "POST", path+"/proofs/report.pdf", nil, nil)
	e.must(t, 200, enterprise, "POST", path+"/report", map[string]any{"version": in.Version, "text": "临时堆场已拆除", "proof_keys": []string{up.Key}}, &in)
	e.must(t, 200, inspector, "POST", path+"/review", map[string]any{"version": in.Version, "outcome": "site_visit", "notes": "需现场核实"}, &in)
	e.must(t, 200, approver, "POST", path+"/approve", map[string]any{"version": in.Version}, &in)
	return ev
}

// get fetches path with token and returns the answer and its body.
func (e *enfEnv) get(t *testing.T, token, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", e.hs.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext not found: install poppler-utils (scripts/deps.sh)")
	}
	in := filepath.Join(t.TempDir(), "c.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-raw", "-enc", "UTF-8", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return strings.NewReplacer("\n", "", " ", "").Replace(string(out))
}

// pdfImages counts the images of a PDF with poppler's pdfimages.
func pdfImages(t *testing.T, pdf []byte) int {
	t.Helper()
	in := filepath.Join(t.TempDir(), "c.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfimages", "-list", in).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfimages: %v: %s", err, out)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n")[2:] { // two header lines
		if f := strings.Fields(line); len(f) > 2 && f[2] == "image" {
			n++
		}
	}
	return n
}

// docxImages counts the pictures in word/media.
func docxImages(t *testing.T, data []byte) int {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "word/media/") {
			n++
		}
	}
	return n
}

func docxText(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("DOCX is not a zip: %v", err)
	}
	var text strings.Builder
	found := false
	for _, f := range zr.File {
		if f.Name != "word/document.xml" {
			continue
		}
		found = true
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(rc)
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("word/document.xml: %v", err)
			}
			if cd, ok := tok.(xml.CharData); ok {
				text.Write(cd)
			}
		}
		rc.Close()
	}
	if !found {
		t.Fatal("no word/document.xml")
	}
	return text.String()
}

func TestCaseFiles(t *testing.T) {
	e := newEnforceServer(t)
	ev := caseFixture(t, e)
	path := fmt.Sprintf("/api/v1/inspections/%d/report", ev.inspection)
	facts := []string{entUSCC, entUSCC + "001P", "江苏示例化工有限公司", ev.findingID, ev.beforeQL, ev.afterQL, ev.afterCOG, ev.chartPNG, strings.Repeat("7", 64)}

	resp, pdf := e.get(t, inspector, path+".pdf")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF: %d %s: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), pdf)
	}
	text := pdfToText(t, pdf)
	for _, w := range append(facts, "统一社会信用代码", "排污许可证编号", "正面清单状态", "已纳入", "新增建（构）筑物", "批准现场检查",
		"test-approver", "临时堆场已拆除", "Sentinel-2AMSI", "审计哈希链完整", "sha256sum") {
		if !strings.Contains(text, strings.ReplaceAll(w, " ", "")) {
			t.Errorf("inspection PDF lacks %q", w)
		}
	}
	// The map, the before and after quick-looks and the chart are in it.
	if n := pdfImages(t, pdf); n != 4 {
		t.Errorf("inspection PDF has %d images, want 4 (map, before, after, chart)", n)
	}
	// The self-check proof's SHA-256.
	proofSum := sha256.Sum256([]byte("%PDF-1.4 self-check"))
	if !strings.Contains(text, hex.EncodeToString(proofSum[:])) {
		t.Error("inspection PDF lacks the proof's SHA-256")
	}
	// Stored as evidence with its hash, and audited.
	sum := sha256.Sum256(pdf)
	if got := resp.Header.Get("X-Content-SHA256"); got != hex.EncodeToString(sum[:]) {
		t.Errorf("X-Content-SHA256 %s, body hashes to %x", got, sum)
	}
	stored, err := e.store.GetEvidence(context.Background(), resp.Header.Get("X-Evidence-Key"))
	if err != nil || !bytes.Equal(stored, pdf) {
		t.Errorf("stored case file: %v (%d bytes, want %d)", err, len(stored), len(pdf))
	}
	var audit struct {
		Entries []struct{ Action, Detail, Subject string } `json:"entries"`
	}
	e.must(t, 200, approver, "GET", fmt.Sprintf("/api/v1/audit?subject=inspection/%d", ev.inspection), nil, &audit)
	if len(audit.Entries) == 0 || audit.Entries[0].Action != "casefile.generate" || !strings.Contains(audit.Entries[0].Detail, hex.EncodeToString(sum[:])) {
		t.Errorf("latest audit entry: %+v", audit.Entries[:min(1, len(audit.Entries))])
	}

	resp, docx := e.get(t, approver, path+".docx?lang=zh")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "wordprocessingml") {
		t.Fatalf("DOCX: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	dt := docxText(t, docx)
	if n := docxImages(t, docx); n != 4 {
		t.Errorf("inspection DOCX has %d images, want 4 (map, before, after, chart)", n)
	}
	for _, w := range append(facts, "统一社会信用代码", "已纳入", "批准现场检查") {
		if !strings.Contains(dt, w) {
			t.Errorf("inspection DOCX lacks %q", w)
		}
	}

	// The enterprise's case file, in English.
	resp, pdf = e.get(t, analyst, "/api/v1/enterprises/"+entUSCC+"/report.pdf?lang=en")
	if resp.StatusCode != 200 {
		t.Fatalf("enterprise PDF: %d %s", resp.StatusCode, pdf)
	}
	text = pdfToText(t, pdf)
	for _, w := range append(facts, "Unified social credit code", "Positive-list status", "listed", fmt.Sprint(ev.inspection)) {
		if !strings.Contains(text, strings.ReplaceAll(w, " ", "")) {
			t.Errorf("enterprise PDF lacks %q", w)
		}
	}
	resp, docx = e.get(t, analyst, "/api/v1/enterprises/"+entUSCC+"/report.docx")
	if resp.StatusCode != 200 {
		t.Fatalf("enterprise DOCX: %d", resp.StatusCode)
	}
	if dt := docxText(t, docx); !strings.Contains(dt, ev.chartPNG) || !strings.Contains(dt, entUSCC) {
		t.Error("enterprise DOCX lacks the chart's hash or the USCC")
	}

	// Refusals.
	for _, c := range []struct {
		token, path string
		want        int
		field       string
	}{
		{inspector, path + ".pdf?lang=fr", 400, `"lang"`},
		{inspector, path + ".pdf?format=a4", 400, `"format"`},
		{enterprise, path + ".pdf", 403, ""},
		{inspector, "/api/v1/inspections/999999/report.pdf", 404, ""},
		{inspector, "/api/v1/enterprises/" + otherUSCC + "/report.docx", 404, ""},
	} {
		resp, body := e.get(t, c.token, c.path)
		if resp.StatusCode != c.want || !strings.Contains(string(body), c.field) {
			t.Errorf("%s: %d %s, want %d naming %s", c.path, resp.StatusCode, body, c.want, c.field)
		}
	}
}

// A quick-look whose stored bytes no longer match their recorded SHA-256 is not put into a
// case file.
func TestCaseFileRefusesAlteredEvidence(t *testing.T) {
	e := newEnforceServer(t)
	ev := caseFixture(t, e)
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE clips SET quicklook_sha256 = $1 WHERE quicklook_sha256 = $2`, strings.Repeat("0", 64), ev.afterQL); err != nil {
		t.Skipf("the app role may not alter clips: %v", err)
	}
	resp, body := e.get(t, inspector, fmt.Sprintf("/api/v1/inspections/%d/report.pdf", ev.inspection))
	if resp.StatusCode != 500 {
		t.Errorf("altered quick-look: %d %.200s, want 500", resp.StatusCode, body)
	}
}

// An inspection opened by monitoring data names no stored finding: its case file maps every
// parcel of the enterprise over its latest clip and says where the warning came from.
func TestCaseFileOfMonitoringMatter(t *testing.T) {
	e := newEnforceServer(t)
	ctx := context.Background()
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(otherUSCC, 121, 31), nil)
	fc := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"parcel_id":"m-p1"},"geometry":{"type":"Polygon","coordinates":[[[121,31],[121.002,31],[121.002,31.002],[121,31.002],[121,31]]]}}]}`
	e.must(t, 200, analyst, "PUT", "/api/v1/enterprises/"+otherUSCC+"/parcels", fc, nil)
	captures := postgres.NewCaptureService(e.db)
	c := &offsite.Capture{Kind: offsite.KindDroneRGB, AcquiredAt: time.Date(2026, 7, 1, 1, 0, 0, 0, time.UTC), Sensor: "DJI M300", Bucket: e.store.Captures, Key: "drone/m.tif"}
	if err := captures.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	qlKey, qlSum, err := e.store.PutEvidence(ctx, mustPNG(t, 30, 30, color.NRGBA{90, 90, 90, 255}), ".png", "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if err := captures.RecordClips(ctx, []*offsite.Clip{{CaptureID: c.ID, ParcelID: "m-p1", COGKey: "k.tif", COGSHA256: strings.Repeat("c", 64),
		QuickLookKey: qlKey, QuickLookSHA256: qlSum, Width: 30, Height: 30}}); err != nil {
		t.Fatal(err)
	}
	var opened struct {
		Inspection inspectionOut `json:"inspection"`
	}
	e.must(t, 201, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": otherUSCC, "source": "monitoring", "ref": "cems-9", "message": "NOx 超标 3 小时"}, &opened)
	resp, pdf := e.get(t, inspector, fmt.Sprintf("/api/v1/inspections/%d/report.pdf", opened.Inspection.ID))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, pdf)
	}
	text := pdfToText(t, pdf)
	for _, w := range []string{otherUSCC, "m-p1", "在线监测", "NOx超标3小时", qlSum, "DJIM300"} {
		if !strings.Contains(text, w) {
			t.Errorf("monitoring case file lacks %q", w)
		}
	}
}
