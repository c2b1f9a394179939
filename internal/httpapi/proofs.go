package httpapi

// Self-check proofs. An enterprise's documents go to the proofs bucket, which no pipeline
// reads, as selfcheck/{uscc}/{inspection id}/{name}. Every write of a proof carries
// If-None-Match: *, so a proof is created once and never replaced, by anyone the API serves.
// Once stored, its size and SHA-256 are recorded among the inspection's audited steps
// (verify.ActionProofUpload), which `worker verify` re-hashes. Two ways in, one set of rules
// (name, media type by name and by content, size, never overwriting):
//
//   - PUT /api/v1/ui/inspections/{id}/proofs/{name}: the body is the document; it is checked,
//     stored and recorded at once.
//   - POST /api/v1/inspections/{id}/proof-uploads with the name and size: a presigned PUT with
//     the media type, the size and If-None-Match: * signed into it; then
//     POST /api/v1/inspections/{id}/proofs/{name} checks the stored document and records it
//     (one that fails the check is removed, unrecorded).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/verify"
)

// proofMediaTypes are the documents accepted as proof, by extension.
var proofMediaTypes = map[string]string{
	".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".tif": "image/tiff", ".tiff": "image/tiff",
}

// proofUploadTTL is how long a presigned proof upload is valid.
const proofUploadTTL = 15 * time.Minute

// sniffProof reports the media type of a document's first bytes, among proofMediaTypes.
func sniffProof(head []byte) string {
	if bytes.HasPrefix(head, []byte("II*\x00")) || bytes.HasPrefix(head, []byte("MM\x00*")) {
		return "image/tiff"
	}
	return http.DetectContentType(head)
}

// proofMediaType is the media type of a proof named name.
func proofMediaType(name string) (string, error) {
	mt, ok := proofMediaTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		return "", offsite.Invalid("name", "must end in .pdf, .png, .jpg, .jpeg, .tif or .tiff, got %q", name)
	}
	return mt, nil
}

// checkProofHead checks that a document's first bytes are of the media type its name says.
func checkProofHead(name, want string, head []byte) error {
	if len(head) == 0 {
		return offsite.Invalid("body", "is empty: send the document")
	}
	if got := sniffProof(head); !strings.HasPrefix(got, want) {
		return offsite.Invalid("body", "%q is named as %s but its content reads as %s", name, want, strings.SplitN(got, ";", 2)[0])
	}
	return nil
}

// proofKey is the key of a proof document of inspection in, from the name in the path.
func proofKey(in *enforce.Inspection, name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "/\\") || len(name) > 200 {
		return "", offsite.Invalid("name", "must be a file name without '/' of at most 200 bytes")
	}
	key := fmt.Sprintf("selfcheck/%s/%d/%s", in.USCC, in.ID, name)
	if err := offsite.CheckObjectKey(key); err != nil {
		return "", offsite.Invalid("name", "%v", err)
	}
	return key, nil
}

// proofStore is the store of proof documents, which are written and streamed by key in
// the proofs bucket.
func (s *Server) proofStore() (offsite.ProofStore, error) {
	if s.Store.ProofsBucket() == "" {
		return nil, errors.New("httpapi: no proofs bucket configured")
	}
	return s.Store, nil
}

// proofRequest is a proof named in a request: the inspection (one the principal may see),
// the file name, its key and media type, and the store.
type proofRequest struct {
	in        *enforce.Inspection
	name, key string
	mediaType string
	store     offsite.ProofStore
}

// proofTarget reads the request's inspection and the proof named name.
func (s *Server) proofTarget(r *http.Request, name string) (*proofRequest, error) {
	in, err := s.findOwnInspection(r)
	if err != nil {
		return nil, err
	}
	p := &proofRequest{in: in, name: name}
	if p.key, err = proofKey(in, name); err != nil {
		return nil, err
	}
	if p.mediaType, err = proofMediaType(name); err != nil {
		return nil, err
	}
	if p.store, err = s.proofStore(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkNewProof refuses a proof outside the self-check, over the size limit, or whose name
// is taken.
func (s *Server) checkNewProof(ctx context.Context, p *proofRequest, size int64) error {
	if p.in.Status != enforce.InspSelfCheckRequested {
		return offsite.Conflict("inspection %d is %s; proof is uploaded while a self-check is requested", p.in.ID, p.in.Status)
	}
	if size > s.MaxBodyBytes {
		return &http.MaxBytesError{Limit: s.MaxBodyBytes}
	}
	if _, err := p.store.StatProof(ctx, p.key); err == nil {
		return p.taken()
	} else if !errors.Is(err, offsite.ErrNotFound) {
		return err
	}
	return nil
}

func (p *proofRequest) taken() error {
	return offsite.Conflict("a proof named %q is already uploaded for inspection %d; proof is never overwritten, so give the file another name", p.name, p.in.ID)
}

// recordProof appends the proof's record to the inspection's audited steps.
func (s *Server) recordProof(ctx context.Context, p *proofRequest, size int64, sum string) (*verify.ProofUpload, error) {
	rec := &verify.ProofUpload{Name: p.name, Bucket: p.store.ProofsBucket(), Key: p.key, Size: size, SHA256: sum, MediaType: p.mediaType}
	if err := s.Enforce.Audit(ctx, PrincipalFromContext(ctx).Actor(), verify.ActionProofUpload, fmt.Sprintf("inspection/%d", p.in.ID), rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// findProofRecord returns the record of the proof p, nil when it has none.
func (s *Server) findProofRecord(ctx context.Context, p *proofRequest) (*verify.ProofUpload, error) {
	recs, err := s.proofRecords(ctx, p.in.ID, p.store.ProofsBucket())
	if err != nil {
		return nil, err
	}
	return recs[p.key], nil
}

// proofRecords returns the proofs recorded for inspection id in bucket (its audited
// verify.ActionProofUpload steps), by key.
func (s *Server) proofRecords(ctx context.Context, id int64, bucket string) (map[string]*verify.ProofUpload, error) {
	subject := fmt.Sprintf("inspection/%d", id)
	recs := make(map[string]*verify.ProofUpload)
	for offset := 0; ; offset += 1000 {
		es, total, err := s.Enforce.FindAudit(ctx, subject, offset, 1000)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if e.Subject != subject || e.Action != verify.ActionProofUpload {
				continue
			}
			var rec verify.ProofUpload
			if err := json.Unmarshal([]byte(e.Detail), &rec); err != nil {
				return nil, fmt.Errorf("httpapi: audit entry %d: %w", e.Seq, err)
			}
			if rec.Bucket == bucket {
				recs[rec.Key] = &rec
			}
		}
		if len(es) == 0 || offset+len(es) >= total {
			return recs, nil
		}
	}
}

// checkReportProofs refuses a report's proof key that is not a proof recorded for
// inspection id, naming the entry.
func (s *Server) checkReportProofs(ctx context.Context, id int64, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	st, err := s.proofStore()
	if err != nil {
		return err
	}
	recs, err := s.proofRecords(ctx, id, st.ProofsBucket())
	if err != nil {
		return err
	}
	for i, k := range keys {
		if recs[k] == nil {
			return offsite.Invalid(fmt.Sprintf("proof_keys[%d]", i),
				"%q is not recorded as a proof of inspection %d: upload it (proof-uploads), then record it (POST /api/v1/inspections/%d/proofs/{name}) before citing it",
				k, id, id)
		}
	}
	return nil
}

// proofUploadRequest is the body of POST /api/v1/inspections/{id}/proof-uploads.
type proofUploadRequest struct {
	Name        string `json:"name" openapi:"required" doc:"file name, e.g. report.pdf"`
	Size        int64  `json:"size" openapi:"required" doc:"the document's size in bytes"`
	ContentType string `json:"content_type" doc:"optional; must be the media type the name's extension gives"`
}

func (s *Server) handleProofUpload(w http.ResponseWriter, r *http.Request) {
	var req proofUploadRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	p, err := s.proofTarget(r, req.Name)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if req.ContentType != "" && req.ContentType != p.mediaType {
		s.Error(w, r, offsite.Invalid("content_type", "%q is named as %s, not %s", req.Name, p.mediaType, req.ContentType))
		return
	}
	if req.Size <= 0 || req.Size > s.MaxBodyBytes {
		s.Error(w, r, offsite.Invalid("size", "must be the document's size in bytes, 1 to %d, got %d", s.MaxBodyBytes, req.Size))
		return
	}
	ctx := r.Context()
	if err := s.checkNewProof(ctx, p, req.Size); err != nil {
		s.Error(w, r, err)
		return
	}
	up, err := p.store.PresignProofUpload(ctx, p.key, p.mediaType, req.Size, proofUploadTTL)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"method": "PUT", "url": up.URL.String(), "headers": up.Headers, "key": p.key, "name": p.name,
		"size": req.Size, "media_type": p.mediaType, "expires_at": s.Now().Add(proofUploadTTL).UTC(),
		"record": fmt.Sprintf("/api/v1/inspections/%d/proofs/%s", p.in.ID, p.name),
	})
}

// handleProofRecord records a proof uploaded through a presigned URL, once its content is
// checked; a proof already recorded is answered with its record.
func (s *Server) handleProofRecord(w http.ResponseWriter, r *http.Request) {
	p, err := s.proofTarget(r, r.PathValue("name"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ctx := r.Context()
	if rec, err := s.findProofRecord(ctx, p); err != nil || rec != nil {
		if err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rec)
		return
	}
	obj, _, err := p.store.OpenProof(ctx, p.key)
	if errors.Is(err, offsite.ErrNotFound) {
		err = offsite.NotFound("no proof %q uploaded for inspection %d; PUT it to the URL from proof-uploads first", p.name, p.in.ID)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	defer obj.Close()
	h := sha256.New()
	head := make([]byte, 512)
	n, err := io.ReadFull(io.TeeReader(obj, h), head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		s.Error(w, r, err)
		return
	}
	if err := checkProofHead(p.name, p.mediaType, head[:n]); err != nil {
		// Unrecorded, so nothing relies on it: remove it, or the name stays taken.
		if rerr := p.store.RemoveProof(ctx, p.key); rerr != nil {
			s.Error(w, r, rerr)
			return
		}
		s.Error(w, r, fmt.Errorf("%w; the upload was removed: upload the document again", err))
		return
	}
	size, err := io.Copy(h, obj)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	rec, err := s.recordProof(ctx, p, int64(n)+size, hex.EncodeToString(h.Sum(nil)))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rec)
}

func (s *Server) handleProofPut(w http.ResponseWriter, r *http.Request) {
	p, err := s.proofTarget(r, r.PathValue("name"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ctx := r.Context()
	if err := s.checkNewProof(ctx, p, r.ContentLength); err != nil {
		s.Error(w, r, err)
		return
	}
	if r.ContentLength < 0 {
		// The store writes a known size in one request, so that If-None-Match guards it.
		s.Error(w, r, offsite.Required("Content-Length", "is required: send the document with its length"))
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
	head := make([]byte, 512)
	n, err := io.ReadFull(body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		s.Error(w, r, err)
		return
	}
	head = head[:n]
	if err := checkProofHead(p.name, p.mediaType, head); err != nil {
		s.Error(w, r, err)
		return
	}
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(io.MultiReader(bytes.NewReader(head), body), h)}
	if err := p.store.PutProof(ctx, p.key, cr, r.ContentLength, p.mediaType); err != nil {
		switch {
		case cr.err != nil: // the client's body failed, not object storage
			err = cr.err
		case errors.Is(err, offsite.ErrConflict):
			err = p.taken()
		}
		s.Error(w, r, err)
		return
	}
	rec, err := s.recordProof(ctx, p, cr.n, hex.EncodeToString(h.Sum(nil)))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rec)
}

// countingReader counts the bytes read and keeps the first read error other than io.EOF.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

func (s *Server) handleProofGet(w http.ResponseWriter, r *http.Request) {
	p, err := s.proofTarget(r, r.PathValue("name"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ctx := r.Context()
	obj, info, err := p.store.OpenProof(ctx, p.key)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	defer obj.Close()
	if err := s.Enforce.Audit(ctx, PrincipalFromContext(ctx).Actor(), enforce.AuditInspectionProofDownload, fmt.Sprintf("inspection/%d/proofs/%s", p.in.ID, p.name), map[string]any{"key": p.key}); err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", p.mediaType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": p.name}))
	if info.ETag != "" {
		h.Set("ETag", strconv.Quote(info.ETag))
	}
	http.ServeContent(w, r, "", info.LastModified, obj)
}
