// Package casefile writes case files (案卷): the evidence of one off-site inspection, or of
// one enterprise, as a PDF and a Word (DOCX) document an enforcement officer can put into a
// case. A case file holds the enterprise's facts (name, USCC, permit number, list status), a
// map of each parcel with its findings over the later quick-look, the before and after
// quick-looks with their acquisition dates and sensors, each finding's measurements, class
// and score, the SHA-256 of every artifact with its STAC provenance, any other PNG of a
// finding (the chart of a monitoring matter), the audited timeline with the self-check
// report, the site-visit approval and the disposition, and how to re-hash all of it.
//
// The package renders what it is given: it reads no storage. Chinese is the default
// language; English is complete beside it.
package casefile

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// Lang is the language of a case file.
type Lang string

// Languages.
const (
	Chinese Lang = "zh"
	English Lang = "en"
)

// ParseLang reads a lang query value: "" and "zh" (or zh-CN) are Chinese, "en" English.
func ParseLang(s string) (Lang, error) {
	switch strings.ToLower(s) {
	case "", "zh", "zh-cn", "zh-hans":
		return Chinese, nil
	case "en", "en-us", "en-gb":
		return English, nil
	}
	return "", offsite.Invalid("lang", "must be zh or en, got %q", s)
}

// Case is what a case file shows.
type Case struct {
	Lang        Lang
	GeneratedAt time.Time
	GeneratedBy string
	Enterprise  *enforce.Enterprise
	// Inspection is the inspection of an inspection case file; nil for an enterprise's.
	Inspection *enforce.Inspection
	// Inspections are the enterprise's inspections, listed in an enterprise case file.
	Inspections []*enforce.Inspection
	// Proofs are the recorded self-check proof documents of Inspection.
	Proofs []Proof
	// Timeline is the inspection's audit entries, oldest first (for an enterprise case
	// file, the enterprise's).
	Timeline []*enforce.AuditEntry
	// AuditCheck is the result of recomputing the audit chain when the file was made; nil
	// when it was not checked.
	AuditCheck *enforce.AuditReport
	Parcels    []Parcel
}

// Proof is a recorded self-check proof document.
type Proof struct {
	Name, Key, SHA256, MediaType string
	Size                         int64
}

// Parcel is a parcel of the enterprise with the findings the case file shows.
type Parcel struct {
	Parcel   *offsite.Parcel
	Findings []Finding
	// Clips are the parcel's clips (for their hashes), each with its capture when known.
	Clips []Clip
}

// Clip is a stored clip of a capture to the parcel.
type Clip struct {
	*offsite.Clip
	Capture *offsite.Capture // nil when not found
	// QuickLookPNG is the clip's quick-look, the map's background when no finding has an
	// after image; nil when not loaded.
	QuickLookPNG []byte
}

// Finding is a finding with its images.
type Finding struct {
	*offsite.Finding
	// Before and After are the quick-looks of the finding's captures (nil when absent).
	Before, After *Image
	// Images are the finding's own PNG artifacts (a monitoring chart, marked quick-looks).
	Images []*Image
}

// Image is a stored PNG shown in the case file.
type Image struct {
	Name    string // artifact name or "quicklook"
	Key     string
	SHA256  string
	PNG     []byte
	Capture *offsite.Capture // the capture it shows, when it shows one
}

// Config configures the renderers.
type Config struct {
	// FontPath is a TrueType font with CJK glyphs, embedded (subset) in the PDF. Default
	// DefaultFontPath (Debian's fonts-lxgw-wenkai).
	FontPath string
}

// DefaultFontPath is LXGW WenKai (Debian's fonts-lxgw-wenkai): a TrueType font (fpdf reads no
// TrueType collections or CFF fonts) with both Latin and the Chinese characters of GB 2312 and
// the Table of General Standard Chinese Characters. DroidSansFallbackFull.ttf has more CJK
// characters but no Latin letters, which would print as empty boxes.
const DefaultFontPath = "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"

// Renderer renders case files; it reads its font once. Safe for concurrent use.
type Renderer struct {
	cfg  Config
	once sync.Once
	font []byte
	err  error
}

// NewRenderer returns a renderer of cfg.
func NewRenderer(cfg Config) *Renderer {
	if cfg.FontPath == "" {
		cfg.FontPath = DefaultFontPath
	}
	return &Renderer{cfg: cfg}
}

// loadFont reads the font file once.
func (r *Renderer) loadFont() ([]byte, error) {
	r.once.Do(func() {
		r.font, r.err = os.ReadFile(r.cfg.FontPath)
		if r.err != nil {
			r.err = fmt.Errorf("casefile: CJK font (install fonts-lxgw-wenkai or set the font path): %w", r.err)
		}
	})
	return r.font, r.err
}

// Check reads the font: for a service to fail at start rather than at its first report.
func (r *Renderer) Check() error {
	_, err := r.loadFont()
	return err
}

// Title is the case file's title in its language.
func (c *Case) Title() string {
	l := c.labels()
	if c.Inspection != nil {
		return fmt.Sprintf(l.titleInspection, c.Inspection.ID)
	}
	return l.titleEnterprise
}

// FileName is a file name for the case file with extension ext (".pdf", ".docx"): ASCII only.
func (c *Case) FileName(ext string) string {
	if c.Inspection != nil {
		return fmt.Sprintf("casefile-inspection-%d-%s%s", c.Inspection.ID, c.Lang, ext)
	}
	return fmt.Sprintf("casefile-enterprise-%s-%s%s", c.Enterprise.USCC, c.Lang, ext)
}

func (c *Case) labels() *labels {
	if c.Lang == English {
		return &labelsEN
	}
	return &labelsZH
}

// provenance is what a case file shows of a finding's STAC Item.
type provenance struct {
	Inputs   []provInput
	Software string
	Pipeline string // the pipeline's SHA-256
	Detector string
}

type provInput struct {
	Role, Href, Checksum, Datetime string
	CaptureID                      int64
	Size                           int64
}

// readProvenance reads the derived_from links and processing fields of a STAC Item; a
// provenance it cannot read is shown as such, not hidden.
func readProvenance(raw json.RawMessage) (*provenance, error) {
	var it struct {
		Properties map[string]any `json:"properties"`
		Links      []struct {
			Rel       string `json:"rel"`
			Href      string `json:"href"`
			Checksum  string `json:"file:checksum"`
			Size      int64  `json:"file:size"`
			Datetime  string `json:"datetime"`
			Role      string `json:"offsite:role"`
			CaptureID int64  `json:"offsite:capture_id"`
		} `json:"links"`
	}
	if len(raw) == 0 {
		return &provenance{}, nil
	}
	if err := json.Unmarshal(raw, &it); err != nil {
		return nil, err
	}
	p := &provenance{}
	for _, l := range it.Links {
		if l.Rel != "derived_from" {
			continue
		}
		p.Inputs = append(p.Inputs, provInput{Role: l.Role, Href: l.Href, Checksum: strings.TrimPrefix(l.Checksum, "1220"),
			Datetime: l.Datetime, CaptureID: l.CaptureID, Size: l.Size})
	}
	if s, ok := it.Properties["processing:software"].(map[string]any); ok {
		var parts []string
		for k, v := range s {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
		sort.Strings(parts)
		p.Software = strings.Join(parts, ", ")
	}
	p.Pipeline, _ = it.Properties["offsite:pipeline_sha256"].(string)
	p.Detector, _ = it.Properties["offsite:detector"].(string)
	return p, nil
}
