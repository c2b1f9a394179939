package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/casefile"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/verify"
)

// CaseFiles configures the case-file routes: the renderer and where the files are stored as
// evidence.
type CaseFiles struct {
	Renderer *casefile.Renderer
	// Store keeps each case file in the evidence bucket under a key derived from its
	// SHA-256 (s3.Store).
	Store interface {
		PutEvidence(ctx context.Context, data []byte, ext, contentType string) (key, sum string, err error)
	}
	// MaxFindings is the most findings an enterprise case file shows, newest first;
	// default DefaultCaseFileFindings.
	MaxFindings int
}

// DefaultCaseFileFindings is the default of CaseFiles.MaxFindings.
const DefaultCaseFileFindings = 50

// caseFileClips is the most clips a case file lists of a parcel without findings shown: the
// latest.
const caseFileClips = 20

// caseFileFormat is one format of the case-file routes.
type caseFileFormat struct {
	ext, mediaType string
	render         func(r *casefile.Renderer, w *bytes.Buffer, c *casefile.Case) error
}

var caseFileFormats = []caseFileFormat{
	{".pdf", "application/pdf", func(r *casefile.Renderer, w *bytes.Buffer, c *casefile.Case) error { return r.PDF(w, c) }},
	{".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		func(r *casefile.Renderer, w *bytes.Buffer, c *casefile.Case) error { return r.DOCX(w, c) }},
}

// registerReportRoutes registers the case files (案卷) of inspections and enterprises.
func (s *Server) registerReportRoutes(mux *http.ServeMux) {
	for _, f := range caseFileFormats {
		desc := "Stored as evidence under a key derived from its SHA-256 and audited (casefile.generate, with key and SHA-256); " +
			"the answer carries X-Content-SHA256 and X-Evidence-Key. Chinese unless lang=en."
		query := map[string]string{"lang": "zh (default) or en"}
		s.handle(mux, "GET", "/api/v1/inspections/{id}/report"+f.ext, operation{
			ResponseType: f.mediaType,
			Summary:      "The inspection's case file (案卷) as " + f.ext[1:] + ": enterprise facts, map, quick-looks, findings, hashes with provenance, audited timeline with self-check and approvals",
			Description:  desc, Roles: rolesRead, Query: query,
			Responses: map[string]string{"200": "the case file (" + f.mediaType + ")", "400": "bad query parameter", "404": "no such inspection"},
		}, s.handleCaseFile(f, false))
		s.handle(mux, "GET", "/api/v1/enterprises/{uscc}/report"+f.ext, operation{
			ResponseType: f.mediaType,
			Summary:      "The enterprise's case file (案卷) as " + f.ext[1:] + ": facts, parcels with maps, findings, hashes with provenance, inspections and audited steps",
			Description:  desc, Roles: rolesRead, Query: query,
			Responses: map[string]string{"200": "the case file (" + f.mediaType + ")", "400": "bad query parameter", "404": "no such enterprise"},
		}, s.handleCaseFile(f, true))
	}
}

func (s *Server) handleCaseFile(f caseFileFormat, enterprise bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if s.CaseFiles == nil || s.CaseFiles.Renderer == nil || s.CaseFiles.Store == nil {
			s.Error(w, r, fmt.Errorf("case files are not configured on this server: %w", offsite.ErrNotFound))
			return
		}
		if err := onlyParams(r, "lang"); err != nil {
			s.Error(w, r, err)
			return
		}
		lang, err := casefile.ParseLang(r.URL.Query().Get("lang"))
		if err != nil {
			s.Error(w, r, err)
			return
		}
		var c *casefile.Case
		var subject string
		if enterprise {
			c, err = s.enterpriseCase(ctx, r.PathValue("uscc"))
		} else {
			var in *enforce.Inspection
			if in, err = s.findOwnInspection(r); err == nil {
				c, err = s.inspectionCase(ctx, in)
			}
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if c.Inspection != nil {
			subject = fmt.Sprintf("inspection/%d", c.Inspection.ID)
		} else {
			subject = enforce.EnterpriseSubject(c.Enterprise.USCC)
		}
		p := PrincipalFromContext(ctx)
		c.Lang, c.GeneratedAt, c.GeneratedBy = lang, s.Now(), p.Name
		var buf bytes.Buffer
		if err := f.render(s.CaseFiles.Renderer, &buf, c); err != nil {
			s.Error(w, r, err)
			return
		}
		key, sum, err := s.CaseFiles.Store.PutEvidence(ctx, buf.Bytes(), f.ext, f.mediaType)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		detail := map[string]any{"key": key, "sha256": sum, "size": buf.Len(), "media_type": f.mediaType, "lang": lang}
		if err := s.Enforce.Audit(ctx, p.Actor(), enforce.AuditCasefileGenerate, subject, detail); err != nil {
			s.Error(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.mediaType)
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		h.Set("Content-Disposition", `attachment; filename="`+c.FileName(f.ext)+`"`)
		h.Set("X-Content-SHA256", sum)
		h.Set("X-Evidence-Key", key)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	}
}

// onlyParams refuses query parameters other than names.
func onlyParams(r *http.Request, names ...string) error {
	for k := range r.URL.Query() {
		if !slices.Contains(names, k) {
			if len(names) == 0 {
				return offsite.Invalid(k, "is not a parameter of this route (it takes none)")
			}
			return offsite.Invalid(k, "is not a parameter of this route (known: %v)", names)
		}
	}
	return nil
}

// inspectionCase gathers an inspection's case file: its findings (those its warnings name
// or were confirmed by), their parcels, images and provenance, the audited steps with the
// self-check proofs, and the audit chain's check.
func (s *Server) inspectionCase(ctx context.Context, in *enforce.Inspection) (*casefile.Case, error) {
	ent, err := s.Enforce.FindEnterpriseByUSCC(ctx, in.USCC)
	if err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	for _, w := range in.Warnings {
		refs[w.Ref] = true
		for _, id := range w.SeenIn {
			refs[id] = true
		}
	}
	c := &casefile.Case{Enterprise: ent, Inspection: in}
	if c.Parcels, err = s.caseParcels(ctx, in.USCC, func(f *offsite.Finding) bool { return refs[f.ID] }, 0, true); err != nil {
		return nil, err
	}
	subject := fmt.Sprintf("inspection/%d", in.ID)
	if c.Timeline, err = s.auditSteps(ctx, subject); err != nil {
		return nil, err
	}
	for _, e := range c.Timeline {
		if e.Action != verify.ActionProofUpload {
			continue
		}
		var rec verify.ProofUpload
		if err := json.Unmarshal([]byte(e.Detail), &rec); err != nil {
			return nil, fmt.Errorf("httpapi: audit entry %d: %w", e.Seq, err)
		}
		c.Proofs = append(c.Proofs, casefile.Proof{Name: rec.Name, Key: rec.Key, SHA256: rec.SHA256, MediaType: rec.MediaType, Size: rec.Size})
	}
	if c.AuditCheck, err = s.Enforce.VerifyAudit(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// enterpriseCase gathers an enterprise's case file: its parcels with their latest findings
// (at most CaseFiles.MaxFindings), its inspections and its audited steps.
func (s *Server) enterpriseCase(ctx context.Context, uscc string) (*casefile.Case, error) {
	ent, err := s.Enforce.FindEnterpriseByUSCC(ctx, uscc)
	if err != nil {
		return nil, err
	}
	c := &casefile.Case{Enterprise: ent}
	limit := s.CaseFiles.MaxFindings
	if limit <= 0 {
		limit = DefaultCaseFileFindings
	}
	if c.Parcels, err = s.caseParcels(ctx, uscc, func(*offsite.Finding) bool { return true }, limit, false); err != nil {
		return nil, err
	}
	if c.Inspections, _, err = s.Enforce.FindInspections(ctx, enforce.InspectionFilter{USCC: uscc, Limit: 1000}); err != nil {
		return nil, err
	}
	if c.Timeline, err = s.auditSteps(ctx, enforce.EnterpriseSubject(uscc)); err != nil {
		return nil, err
	}
	if c.AuditCheck, err = s.Enforce.VerifyAudit(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// auditSteps returns the audit entries of exactly subject, oldest first.
func (s *Server) auditSteps(ctx context.Context, subject string) ([]*enforce.AuditEntry, error) {
	var steps []*enforce.AuditEntry
	for offset := 0; ; offset += 1000 {
		es, total, err := s.Enforce.FindAudit(ctx, subject, offset, 1000)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if e.Subject == subject { // FindAudit matches subjects by prefix
				steps = append(steps, e)
			}
		}
		if len(es) == 0 || offset+len(es) >= total {
			break
		}
	}
	slices.Reverse(steps) // FindAudit is newest first
	return steps, nil
}

// caseParcels reads the enterprise's evidence (audited as viewed) and keeps the findings
// keep selects, at most limit of them (0: all), newest first, with the captures, quick-looks
// and PNG artifacts they show; with onlyWithFindings, only the parcels of those findings
// unless none was kept (an inspection whose warnings name no stored finding, such as a
// monitoring matter recorded elsewhere, shows every parcel with its latest clip).
func (s *Server) caseParcels(ctx context.Context, uscc string, keep func(*offsite.Finding) bool, limit int, onlyWithFindings bool) ([]casefile.Parcel, error) {
	ev, err := s.enterprises.Evidence(ctx, PrincipalFromContext(ctx).Actor(), uscc)
	if err != nil {
		return nil, err
	}
	ld := &caseLoader{s: s, captures: map[int64]*offsite.Capture{}}
	kept := 0
	var out []casefile.Parcel
	for _, e := range ev {
		p := casefile.Parcel{Parcel: e.Parcel}
		clipOf := map[int64]*offsite.Clip{}
		for _, cl := range e.Clips {
			if clipOf[cl.CaptureID] == nil {
				clipOf[cl.CaptureID] = cl
			}
		}
		used := map[int64]bool{}
		for _, f := range e.Findings {
			if !keep(f) || (limit > 0 && kept >= limit) {
				continue
			}
			kept++
			cf := casefile.Finding{Finding: f}
			ids := f.CaptureIDs
			for i, id := range ids {
				cl := clipOf[id]
				if cl == nil {
					continue
				}
				used[id] = true
				img, err := ld.image(ctx, "quicklook", cl.QuickLookKey, cl.QuickLookSHA256, id)
				if err != nil {
					return nil, err
				}
				if i == len(ids)-1 {
					cf.After = img
				} else if i == 0 {
					cf.Before = img
				}
			}
			// Every PNG of the finding is shown with its name and hash: the chart of a
			// monitoring finding (HJ 212 data) comes into the case file this way.
			for _, a := range f.Artifacts {
				if a.MediaType != "image/png" {
					continue
				}
				img, err := ld.image(ctx, a.Name, a.Key, a.SHA256, 0)
				if err != nil {
					return nil, err
				}
				cf.Images = append(cf.Images, img)
			}
			p.Findings = append(p.Findings, cf)
		}
		for _, cl := range e.Clips { // newest first
			if len(p.Findings) > 0 && !used[cl.CaptureID] {
				continue
			}
			if len(p.Findings) == 0 && len(p.Clips) == caseFileClips {
				break
			}
			capt, err := ld.capture(ctx, cl.CaptureID)
			if err != nil {
				return nil, err
			}
			c := casefile.Clip{Clip: cl, Capture: capt}
			if len(p.Findings) == 0 && len(p.Clips) == 0 {
				// No finding to draw the map over: the latest clip's quick-look.
				img, err := ld.image(ctx, "quicklook", cl.QuickLookKey, cl.QuickLookSHA256, cl.CaptureID)
				if err != nil {
					return nil, err
				}
				c.QuickLookPNG = img.PNG
			}
			p.Clips = append(p.Clips, c)
		}
		out = append(out, p)
	}
	if kept == 0 || !onlyWithFindings {
		return out, nil
	}
	// Keep the parcels of the findings shown.
	var withFindings []casefile.Parcel
	for _, p := range out {
		if len(p.Findings) > 0 {
			withFindings = append(withFindings, p)
		}
	}
	return withFindings, nil
}

// caseLoader reads the captures and images of a case file, each once.
type caseLoader struct {
	s        *Server
	captures map[int64]*offsite.Capture
}

func (ld *caseLoader) capture(ctx context.Context, id int64) (*offsite.Capture, error) {
	if c, ok := ld.captures[id]; ok {
		return c, nil
	}
	c, err := ld.s.Captures.FindCaptureByID(ctx, id)
	if err != nil && !errors.Is(err, offsite.ErrNotFound) {
		return nil, err
	}
	ld.captures[id] = c // nil when gone: the case file shows the id
	return c, nil
}

// image reads a stored PNG and checks it against its recorded SHA-256: a case file never
// shows an image that is not the recorded one.
func (ld *caseLoader) image(ctx context.Context, name, key, sum string, captureID int64) (*casefile.Image, error) {
	data, err := ld.s.Store.GetEvidence(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("httpapi: case file: evidence %s: %w", key, err)
	}
	got := sha256.Sum256(data)
	if hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("httpapi: case file: evidence %s has SHA-256 %x, recorded %s: refusing to show it", key, got, sum)
	}
	img := &casefile.Image{Name: name, Key: key, SHA256: sum, PNG: data}
	if captureID != 0 {
		if img.Capture, err = ld.capture(ctx, captureID); err != nil {
			return nil, err
		}
	}
	return img, nil
}
