package casefile_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/casefile"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/stac"
)

const (
	testUSCC  = "91320000134780001D"
	hashA     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
	hashB     = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"
	hashChart = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc3"
	hashInput = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd4"
	hashProof = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee5"
)

// MustPNG returns a w×h PNG of one colour.
func MustPNG(tb testing.TB, w, h int, c color.NRGBA) []byte {
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

func testCase(tb testing.TB, lang casefile.Lang) *casefile.Case {
	tb.Helper()
	at := time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC)
	parcel := orb.Polygon{{{120.1, 30.2}, {120.104, 30.2}, {120.104, 30.203}, {120.1, 30.203}, {120.1, 30.2}}}
	find := orb.Polygon{{{120.101, 30.201}, {120.102, 30.201}, {120.102, 30.202}, {120.101, 30.202}, {120.101, 30.201}}}
	item := stac.NewItem("f1", find, map[string]any{"processing:software": map[string]string{"offsite": "v1.2.3"},
		"offsite:pipeline_sha256": "pipehash", "offsite:detector": "irmad"})
	item.Links = append(item.Links, stac.Link{Rel: "derived_from", Href: "captures/s2/b.tif", Checksum: stac.Checksum(hashInput), Role: "after", CaptureID: 7, Datetime: at.Format(time.RFC3339)})
	prov, err := json.Marshal(item)
	if err != nil {
		tb.Fatal(err)
	}
	before := &offsite.Capture{ID: 6, Kind: offsite.KindSentinel2, Sensor: "Sentinel-2B MSI", AcquiredAt: at.Add(-30 * 24 * time.Hour)}
	after := &offsite.Capture{ID: 7, Kind: offsite.KindSentinel2, Sensor: "Sentinel-2A MSI", AcquiredAt: at}
	closed := at.Add(72 * time.Hour)
	approved := at.Add(48 * time.Hour)
	return &casefile.Case{
		Lang: lang, GeneratedAt: at.Add(100 * time.Hour), GeneratedBy: "officer-li",
		Enterprise: &enforce.Enterprise{USCC: testUSCC, Name: "江苏示例化工有限公司", Industry: "C2614", PermitNo: testUSCC + "001P",
			ListStatus: enforce.ListListed, Address: "南京市江北新区 88 号", Zone: "江北化工园"},
		Inspection: &enforce.Inspection{ID: 42, USCC: testUSCC, Level: enforce.LevelCity, Matter: "f1", Status: enforce.InspClosed, Listed: true,
			Warnings: []enforce.Warning{{Source: enforce.WarningFinding, Ref: "f1", Severity: "high", Message: "change new_structure", CreatedAt: at}},
			Report:   &enforce.Report{Text: "已整改：临时堆场已拆除。", SubmittedBy: "企业-王", SubmittedAt: at.Add(24 * time.Hour), ProofKeys: []string{"selfcheck/x/42/proof.pdf"}},
			SiteVisit: &enforce.SiteVisit{Trigger: enforce.TriggerOffsiteAnomaly, Reason: "复核", RequestedBy: "inspector-zhang", RequestedAt: at.Add(36 * time.Hour),
				ApprovedBy: "head-chen", ApprovedAt: &approved},
			OpenedBy: "system", OpenedAt: at, ClosedAt: &closed, CloseNote: "结案"},
		Proofs: []casefile.Proof{{Name: "proof.pdf", Key: "selfcheck/x/42/proof.pdf", SHA256: hashProof, MediaType: "application/pdf", Size: 1234}},
		Timeline: []*enforce.AuditEntry{
			{Seq: 10, At: at, Actor: "system", Role: enforce.RoleSystem, Action: enforce.AuditInspectionOpened, Subject: "inspection/42", Detail: `{"ref":"f1"}`, Hash: "h10"},
			{Seq: 12, At: approved, Actor: "head-chen", Role: enforce.RoleApprover, Action: enforce.AuditInspectionApproveSiteVisit, Subject: "inspection/42", Detail: `{}`, Hash: "h12"},
		},
		AuditCheck: &enforce.AuditReport{Checked: 12},
		Parcels: []casefile.Parcel{{
			Parcel: &offsite.Parcel{ID: "p-1", EnterpriseUSCC: testUSCC, Name: "一号厂区", Geometry: parcel},
			Findings: []casefile.Finding{{
				Finding: &offsite.Finding{ID: "f1", ParcelID: "p-1", CaptureIDs: []int64{6, 7}, Kind: "change", Class: "new_structure", Score: 0.87, AreaM2: 1234.5,
					Severity: "high", Geometry: find, Pipeline: "sentinel2", PipelineHash: "pipehash", DetectedAt: at, Provenance: prov,
					Artifacts: []offsite.Artifact{{Name: "after.tif", Key: "evidence/" + hashA + ".tif", SHA256: hashA, Size: 100, MediaType: "image/tiff"},
						{Name: "chart.png", Key: "evidence/" + hashChart + ".png", SHA256: hashChart, Size: 50, MediaType: "image/png"}}},
				Before: &casefile.Image{Name: "quicklook", PNG: MustPNG(tb, 40, 30, color.NRGBA{40, 120, 40, 255}), Capture: before},
				After:  &casefile.Image{Name: "quicklook", PNG: MustPNG(tb, 40, 30, color.NRGBA{150, 150, 150, 255}), Capture: after},
				Images: []*casefile.Image{{Name: "chart.png", SHA256: hashChart, PNG: MustPNG(tb, 60, 20, color.NRGBA{0, 0, 200, 255})}},
			}},
			Clips: []casefile.Clip{{Clip: &offsite.Clip{CaptureID: 7, ParcelID: "p-1", COGKey: "evidence/" + hashB + ".tif", COGSHA256: hashB, QuickLookKey: "q", QuickLookSHA256: hashA}, Capture: after}},
		}},
	}
}

func renderer(t *testing.T) *casefile.Renderer {
	t.Helper()
	r := casefile.NewRenderer(casefile.Config{FontPath: os.Getenv("OFFSITE_CASEFILE_FONT")})
	if err := r.Check(); err != nil {
		t.Fatalf("%v (scripts/deps.sh installs fonts-lxgw-wenkai)", err)
	}
	return r
}

// pdfText extracts the text of a PDF with poppler's pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext not found: install poppler-utils (scripts/deps.sh)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "c.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-raw", "-enc", "UTF-8", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	// -raw keeps the content order (a cell's lines together); cells wrap long hashes over
	// lines: join them for the checks.
	return strings.NewReplacer("\n", "", " ", "").Replace(string(out))
}

func TestPDFContainsTheFacts(t *testing.T) {
	r := renderer(t)
	for _, tc := range []struct {
		lang casefile.Lang
		want []string
	}{
		{casefile.Chinese, []string{"非现场检查案卷", "统一社会信用代码", "江苏示例化工有限公司", "正面清单状态", "已纳入", "新增建（构）筑物",
			"批准现场检查", "head-chen", "已整改", "校验方法", "sha256sum", "Sentinel-2AMSI"}},
		{casefile.English, []string{"Off-site inspection case file", "Unifiedsocialcreditcode", "Positive-liststatus", "listed", "new structure", "site visit", "approve", "Howtoverify"}},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.PDF(&buf, testCase(t, tc.lang)); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
				t.Fatalf("not a PDF: %q", buf.Bytes()[:16])
			}
			text := pdfText(t, buf.Bytes())
			for _, w := range append(tc.want, testUSCC, testUSCC+"001P", hashA, hashB, hashChart, hashInput, hashProof, "f1", "p-1") {
				if !strings.Contains(text, strings.ReplaceAll(w, " ", "")) {
					t.Errorf("PDF text lacks %q", w)
				}
			}
		})
	}
}

func TestDOCXOpens(t *testing.T) {
	r := renderer(t)
	var buf bytes.Buffer
	if err := r.DOCX(&buf, testCase(t, casefile.Chinese)); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	var doc string
	images := 0
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f.Name, ".xml") || strings.HasSuffix(f.Name, ".rels") {
			if err := wellFormed(data); err != nil {
				t.Errorf("%s: %v", f.Name, err)
			}
		}
		if f.Name == "word/document.xml" {
			doc = string(data)
		}
		if strings.HasPrefix(f.Name, "word/media/") {
			images++
			if _, err := png.DecodeConfig(bytes.NewReader(data)); err != nil {
				t.Errorf("%s: %v", f.Name, err)
			}
		}
	}
	if doc == "" {
		t.Fatal("no word/document.xml")
	}
	var text strings.Builder
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
		}
	}
	for _, w := range []string{testUSCC, "江苏示例化工有限公司", testUSCC + "001P", "已纳入", "统一社会信用代码", hashA, hashB, hashChart, hashProof, "批准现场检查", "sha256sum"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("document.xml lacks %q", w)
		}
	}
	// map, before, after, chart
	if images != 4 {
		t.Errorf("%d images in word/media, want 4", images)
	}
	if !strings.Contains(doc, `w:eastAsia="SimSun"`) {
		t.Error("no East Asian font named on the runs")
	}
}

func wellFormed(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestRenderMap(t *testing.T) {
	parcel := orb.Polygon{{{120.1, 30.2}, {120.104, 30.2}, {120.104, 30.203}, {120.1, 30.203}, {120.1, 30.2}}}
	find := orb.Polygon{{{120.101, 30.201}, {120.102, 30.201}, {120.102, 30.202}, {120.101, 30.202}, {120.101, 30.201}}}
	bg := MustPNG(t, 20, 20, color.NRGBA{0, 200, 0, 255})
	data, err := casefile.RenderMap(parcel, []orb.Geometry{find}, casefile.MapOptions{Size: 400, Background: bg})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != 400 || b.Dy() < 250 || b.Dy() > 400 {
		t.Errorf("size %v: want 400 wide and about 3:4", b)
	}
	count := func(want color.NRGBA) int {
		n := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if color.NRGBAModel.Convert(img.At(x, y)) == want {
					n++
				}
			}
		}
		return n
	}
	// The finding's outline (red), the parcel's (yellow) and the background inside (green)
	// are drawn; the finding is an outline, so the background shows inside it.
	red, yellow, green := count(color.NRGBA{230, 20, 20, 255}), count(color.NRGBA{255, 221, 0, 255}), count(color.NRGBA{0, 200, 0, 255})
	if red < 100 || yellow < 200 || green < 10000 {
		t.Errorf("red %d, yellow %d, green %d pixels", red, yellow, green)
	}
	// The centre of the finding is background, not red fill.
	c := color.NRGBAModel.Convert(img.At(b.Dx()*3/8, b.Dy()/2))
	if c == (color.NRGBA{230, 20, 20, 255}) {
		t.Error("finding filled")
	}
	if _, err := casefile.RenderMap(nil, nil, casefile.MapOptions{}); err == nil {
		t.Error("no parcel: no error")
	}
	if _, err := casefile.RenderMap(parcel, nil, casefile.MapOptions{Background: []byte("not a png")}); err == nil {
		t.Error("bad background: no error")
	}
}

func TestScaleBarLength(t *testing.T) {
	for _, tc := range []struct {
		w     int
		mpp   float64
		want  float64
		label string
	}{
		{800, 1, 200, "200 m"},
		{800, 0.5, 100, "100 m"},
		{800, 0.3, 50, "50 m"},
		{800, 30, 5000, "5 km"},
		{400, 0.05, 5, "5 m"},
	} {
		got, label := casefile.ScaleBarLength(tc.w, tc.mpp)
		if got != tc.want || label != tc.label {
			t.Errorf("ScaleBarLength(%d, %g) = %g %q, want %g %q", tc.w, tc.mpp, got, label, tc.want, tc.label)
		}
	}
}

func TestParseLang(t *testing.T) {
	for in, want := range map[string]casefile.Lang{"": casefile.Chinese, "zh": casefile.Chinese, "zh-CN": casefile.Chinese, "en": casefile.English} {
		if got, err := casefile.ParseLang(in); err != nil || got != want {
			t.Errorf("ParseLang(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := casefile.ParseLang("fr"); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("fr: %v", err)
	}
}
