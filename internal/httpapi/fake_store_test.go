package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/verify"
)

// fakeStore is object storage in memory, for handler tests that need no S3 gateway. Proofs
// are never replaced, as in the real store.
type fakeStore struct {
	mu       sync.Mutex
	evidence map[string][]byte
	proofs   map[string][]byte
	modTime  time.Time
}

var _ httpapi.ObjectStore = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{evidence: map[string][]byte{}, proofs: map[string][]byte{}, modTime: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
}

func (f *fakeStore) info(b []byte) offsite.ObjectInfo {
	sum := sha256.Sum256(b)
	return offsite.ObjectInfo{Size: int64(len(b)), ETag: hex.EncodeToString(sum[:]), LastModified: f.modTime}
}

func (f *fakeStore) lookup(m map[string][]byte, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := m[key]
	if !ok {
		return nil, offsite.NotFound("object %s", key)
	}
	return b, nil
}

func (f *fakeStore) stat(m map[string][]byte, key string) (offsite.ObjectInfo, error) {
	b, err := f.lookup(m, key)
	if err != nil {
		return offsite.ObjectInfo{}, err
	}
	return f.info(b), nil
}

func (f *fakeStore) open(m map[string][]byte, key string) (io.ReadSeekCloser, offsite.ObjectInfo, error) {
	b, err := f.lookup(m, key)
	if err != nil {
		return nil, offsite.ObjectInfo{}, err
	}
	return nopCloser{bytes.NewReader(b)}, f.info(b), nil
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

func (f *fakeStore) StatCapture(ctx context.Context, key string) (offsite.ObjectInfo, error) {
	return offsite.ObjectInfo{}, offsite.NotFound("object %s", key)
}

func (f *fakeStore) PresignCaptureUpload(ctx context.Context, key string, ttl time.Duration) (*offsite.Upload, error) {
	return &offsite.Upload{URL: &url.URL{Scheme: "http", Host: "fake", Path: "/captures/" + key}}, nil
}

func (f *fakeStore) StatEvidence(ctx context.Context, key string) (offsite.ObjectInfo, error) {
	return f.stat(f.evidence, key)
}

func (f *fakeStore) OpenEvidence(ctx context.Context, key string) (io.ReadSeekCloser, offsite.ObjectInfo, error) {
	return f.open(f.evidence, key)
}

func (f *fakeStore) GetEvidence(ctx context.Context, key string) ([]byte, error) {
	return f.lookup(f.evidence, key)
}

func (f *fakeStore) PresignEvidenceDownload(ctx context.Context, key string, ttl time.Duration) (*url.URL, error) {
	return &url.URL{Scheme: "http", Host: "fake", Path: "/evidence/" + key}, nil
}

func (f *fakeStore) ProofsBucket() string { return "fake-proofs" }

func (f *fakeStore) StatProof(ctx context.Context, key string) (offsite.ObjectInfo, error) {
	return f.stat(f.proofs, key)
}

func (f *fakeStore) OpenProof(ctx context.Context, key string) (io.ReadSeekCloser, offsite.ObjectInfo, error) {
	return f.open(f.proofs, key)
}

func (f *fakeStore) PutProof(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.proofs[key]; ok {
		return offsite.Conflict("object %s exists and is never replaced", key)
	}
	f.proofs[key] = b
	return nil
}

func (f *fakeStore) RemoveProof(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.proofs, key)
	return nil
}

func (f *fakeStore) PresignProofUpload(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (*offsite.Upload, error) {
	return &offsite.Upload{URL: &url.URL{Scheme: "http", Host: "fake", Path: "/proofs/" + key}}, nil
}

func (f *fakeStore) HashObject(ctx context.Context, bucket, key string) (string, error) {
	b, err := f.lookup(f.evidence, key)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// fakeEnforce answers the few enforcement calls the evidence and proof routes make: one
// inspection, and audit entries kept in order. Any other call panics.
type fakeEnforce struct {
	enforce.Service
	inspection *enforce.Inspection
	mu         sync.Mutex
	audited    []string // action subject
}

func (f *fakeEnforce) FindInspectionByID(ctx context.Context, id int64) (*enforce.Inspection, error) {
	if f.inspection == nil || id != f.inspection.ID {
		return nil, offsite.NotFound("inspection %d", id)
	}
	in := *f.inspection
	return &in, nil
}

func (f *fakeEnforce) Audit(ctx context.Context, a enforce.Actor, action enforce.AuditAction, subject string, detail any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audited = append(f.audited, string(action)+" "+subject)
	return nil
}

// newFakeServer returns an API whose object storage and enforcement records are fakes.
func newFakeServer(t *testing.T, in *enforce.Inspection) (*httptest.Server, *fakeStore, *fakeEnforce) {
	t.Helper()
	store, enf := newFakeStore(), &fakeEnforce{inspection: in}
	srv := &httpapi.Server{Store: store, Enforce: enf, Tokens: mustTestTokens(t), MaxBodyBytes: 64 << 10}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs, store, enf
}

// fakeCall sends a request with token and returns the response and its body.
func fakeCall(t *testing.T, hs *httptest.Server, token, method, path string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, hs.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestUIEvidenceFakeStore serves evidence from a fake object store: the bytes, the ETag
// and revalidation, ranges, 404 for a missing object, and an audited download.
func TestUIEvidenceFakeStore(t *testing.T) {
	hs, store, enf := newFakeServer(t, nil)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{9}, 50)...)
	key := "sha256/ab/" + strings.Repeat("ab", 32) + ".png"
	store.evidence[key] = png
	etag := strconv.Quote(store.info(png).ETag)

	for _, tc := range []struct {
		name, token, path string
		header            []string
		code              int
		body              []byte
		contentType       string
	}{
		{"whole", inspector, key, nil, 200, png, "image/png"},
		{"range", inspector, key, []string{"Range", "bytes=8-11"}, 206, png[8:12], "image/png"},
		{"revalidated", inspector, key, []string{"If-None-Match", etag}, 304, nil, "image/png"},
		{"missing", inspector, "sha256/00/" + strings.Repeat("0", 64) + ".png", nil, 404, nil, ""},
		{"bad key", inspector, "vsicurl/x.png", nil, 400, nil, ""},
		{"enterprise", enterprise, key, nil, 403, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fakeCall(t, hs, tc.token, "GET", "/api/v1/ui/evidence/"+tc.path, nil, tc.header...)
			if resp.StatusCode != tc.code {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, tc.code)
			}
			if tc.code >= 400 {
				return
			}
			if diff := cmp.Diff(tc.body, body, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if got := resp.Header.Get("ETag"); got != etag {
				t.Errorf("ETag %q, want %q", got, etag)
			}
			if got := resp.Header.Get("Content-Type"); tc.code != 304 && got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
		})
	}
	if len(enf.audited) != 0 {
		t.Errorf("viewing audited %q", enf.audited)
	}
	resp, body := fakeCall(t, hs, approver, "GET", "/api/v1/ui/evidence/"+key+"?download=true", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, png) || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if diff := cmp.Diff([]string{"evidence.download evidence/" + key}, enf.audited); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

// TestUIProofsFakeStore uploads a proof through the API into a fake object store, reads it
// back, and is refused a second upload of the name and a document whose content is not
// what its name says.
func TestUIProofsFakeStore(t *testing.T) {
	in := &enforce.Inspection{ID: 7, USCC: entUSCC, Status: enforce.InspSelfCheckRequested}
	hs, store, enf := newFakeServer(t, in)
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 200)...)
	path := "/api/v1/ui/inspections/7/proofs/report.pdf"
	key := "selfcheck/" + entUSCC + "/7/report.pdf"

	if resp, body := fakeCall(t, hs, enterprise, "PUT", path, pdf); resp.StatusCode != 201 {
		t.Fatalf("PUT proof: %d %s", resp.StatusCode, body)
	}
	if !bytes.Equal(store.proofs[key], pdf) {
		t.Fatalf("stored %d bytes under %s, want the %d sent", len(store.proofs[key]), key, len(pdf))
	}
	if resp, body := fakeCall(t, hs, enterprise, "PUT", path, pdf); resp.StatusCode != 409 {
		t.Errorf("second PUT: %d %s, want 409", resp.StatusCode, body)
	}
	if resp, body := fakeCall(t, hs, enterprise, "PUT", "/api/v1/ui/inspections/7/proofs/photo.png", pdf); resp.StatusCode != 400 || !strings.Contains(string(body), "body") {
		t.Errorf("PDF named .png: %d %s, want 400 naming the body", resp.StatusCode, body)
	}
	resp, body := fakeCall(t, hs, inspector, "GET", path, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, pdf) || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("GET proof: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if resp, _ := fakeCall(t, hs, inspector, "GET", "/api/v1/ui/inspections/7/proofs/none.pdf", nil); resp.StatusCode != 404 {
		t.Errorf("GET missing proof: %d, want 404", resp.StatusCode)
	}
	want := []string{string(verify.ActionProofUpload) + " inspection/7", "inspection.proof_download inspection/7/proofs/report.pdf"}
	if diff := cmp.Diff(want, enf.audited); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}
