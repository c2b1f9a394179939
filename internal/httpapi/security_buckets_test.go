package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres"
)

// presignedPut is a presigned PUT as the API returns it.
type presignedPut struct {
	URL     string            `json:"url"`
	Key     string            `json:"key"`
	Headers map[string]string `json:"headers"`
	Record  string            `json:"record"`
}

// put sends body to the presigned URL with the headers signed into it and returns the
// storage's status and answer.
func (up presignedPut) put(t *testing.T, body string) (int, string) {
	t.Helper()
	return putURL(t, up.URL, up.Headers, body)
}

func putURL(t *testing.T, u string, headers map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("PUT", u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k != "Content-Length" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// selfCheck opens an inspection of the test enterprise with a self-check requested and
// returns its path.
func (e *enfEnv) selfCheck(t *testing.T) string {
	t.Helper()
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	var opened struct {
		Inspection versioned `json:"inspection"`
	}
	e.must(t, 201, analyst, "POST", "/api/v1/warnings", map[string]any{"uscc": entUSCC, "source": "monitoring", "ref": "cems-1", "message": "NOx over the limit"}, &opened)
	path := fmt.Sprintf("/api/v1/inspections/%d", opened.Inspection.ID)
	e.must(t, 200, inspector, "POST", path+"/self-check", map[string]any{"version": opened.Inspection.Version}, nil)
	return path
}

// getObject reads an object, "" when there is none.
func (e *enfEnv) getObject(t *testing.T, bucket, key string) string {
	t.Helper()
	obj, err := e.store.Client.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return ""
		}
		t.Fatal(err)
	}
	return string(b)
}

// register records a capture of key in the captures bucket.
func (e *enfEnv) register(t *testing.T, key string) {
	t.Helper()
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC), Bucket: e.store.Captures, Key: key}
	if err := postgres.NewCaptureService(e.db).CreateCapture(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// TestSecurityProofsCannotPlantCaptures: an enterprise's proof uploads go to the proofs
// bucket, never to the captures bucket the pipelines and the nightly sweep read, whatever
// the name, type and size it asks for.
func TestSecurityProofsCannotPlantCaptures(t *testing.T) {
	e := newEnforceServer(t)
	path := e.selfCheck(t)
	sidecar := `{"type":"Feature","properties":{"datetime":"2026-05-01T02:30:00Z","offsite:kind":"vehicle-track"},"assets":{"d":{"href":"track.csv","roles":["data"]}}}`
	var apiErr apiError
	for _, tc := range []struct {
		name string
		body map[string]any
		want int
		fld  string
	}{
		{"sidecar by name", map[string]any{"name": "scene.json", "size": len(sidecar)}, 400, "name"},
		{"track by name", map[string]any{"name": "track.csv", "size": 10}, 400, "name"},
		{"pdf declared as json", map[string]any{"name": "report.pdf", "size": 10, "content_type": "application/json"}, 400, "content_type"},
		{"no size", map[string]any{"name": "report.pdf"}, 400, "size"},
		{"over the limit", map[string]any{"name": "report.pdf", "size": 2 << 20}, 400, "size"},
		{"path in name", map[string]any{"name": "../../stac/x.pdf", "size": 10}, 400, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.must(t, tc.want, enterprise, "POST", path+"/proof-uploads", tc.body, &apiErr)
			if apiErr.Error.Field != tc.fld {
				t.Errorf("refusal names %q, want %q: %+v", apiErr.Error.Field, tc.fld, apiErr.Error)
			}
		})
	}
	// A PDF-named URL carries its type and size: a sidecar sent through it is refused.
	var up presignedPut
	e.must(t, 200, enterprise, "POST", path+"/proof-uploads", map[string]any{"name": "scene.pdf", "size": len(sidecar)}, &up)
	if strings.Contains(up.URL, "/"+e.store.Captures+"/") || !strings.Contains(up.URL, "/"+e.store.Proofs+"/") {
		t.Fatalf("proof URL %s is not in the proofs bucket %s", up.URL, e.store.Proofs)
	}
	if code, _ := putURL(t, up.URL, map[string]string{"If-None-Match": "*", "Content-Type": "application/json"}, sidecar); code != 403 {
		t.Errorf("PUT with another content type: %d, want 403", code)
	}
	if code, _ := putURL(t, up.URL, map[string]string{"Content-Type": "application/pdf"}, sidecar); code != 403 {
		t.Errorf("PUT without If-None-Match: %d, want 403", code)
	}
	if code, _ := up.put(t, sidecar+" "); code != 403 {
		t.Errorf("PUT of another size: %d, want 403", code)
	}
	// Through the URL as signed, the bytes land in the proofs bucket; recording checks the
	// content, finds JSON, not a PDF, and removes it.
	if code, body := up.put(t, sidecar); code != 200 {
		t.Fatalf("PUT as signed: %d %s", code, body)
	}
	e.must(t, 400, enterprise, "POST", up.Record, nil, &apiErr)
	if apiErr.Error.Field != "body" || !strings.Contains(apiErr.Error.Message, "removed") {
		t.Errorf("recording a JSON named .pdf: %+v", apiErr.Error)
	}
	if got := e.getObject(t, e.store.Proofs, up.Key); got != "" {
		t.Errorf("the refused upload is still stored: %q", got)
	}
	objs, err := e.store.ListCaptureObjects(context.Background(), "", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 0 {
		t.Errorf("the captures bucket holds %v after proof uploads; want nothing", objs)
	}
}

// TestSecurityProofsNeverReplaced: once a proof's SHA-256 is recorded, neither the first URL
// used again, nor a second URL for the name, nor the UI route, nor an analyst's capture
// upload changes the bytes stored under its key.
func TestSecurityProofsNeverReplaced(t *testing.T) {
	e := newEnforceServer(t)
	path := e.selfCheck(t)
	const doc, forged = "%PDF-1.4 the valve was replaced", "%PDF-1.4 nothing was wrong!!"
	var up presignedPut
	e.must(t, 200, enterprise, "POST", path+"/proof-uploads", map[string]any{"name": "report.pdf", "size": len(doc)}, &up)
	// A second URL for the same name, before the first is used: both are good for one
	// creation only.
	var second presignedPut
	e.must(t, 200, enterprise, "POST", path+"/proof-uploads", map[string]any{"name": "report.pdf", "size": len(forged)}, &second)
	if code, body := up.put(t, doc); code != 200 {
		t.Fatalf("PUT proof: %d %s", code, body)
	}
	var rec struct {
		Bucket, Key, SHA256 string
		Size                int64
	}
	e.must(t, 201, enterprise, "POST", up.Record, nil, &rec)
	sum := sha256.Sum256([]byte(doc))
	if rec.SHA256 != hex.EncodeToString(sum[:]) || rec.Size != int64(len(doc)) || rec.Bucket != e.store.Proofs || rec.Key != up.Key {
		t.Fatalf("record = %+v", rec)
	}
	e.must(t, 200, enterprise, "POST", up.Record, nil, nil) // recorded before: the same record

	if code, _ := second.put(t, forged); code != 412 {
		t.Errorf("second URL: %d, want 412", code)
	}
	if code, _ := up.put(t, doc[:len(doc)-1]+"X"); code != 412 {
		t.Errorf("first URL again: %d, want 412", code)
	}
	var apiErr apiError
	e.must(t, 409, enterprise, "POST", path+"/proof-uploads", map[string]any{"name": "report.pdf", "size": len(forged)}, &apiErr)
	e.must(t, 409, enterprise, "PUT", "/api/v1/ui"+strings.TrimPrefix(path, "/api/v1")+"/proofs/report.pdf", forged, &apiErr)
	// An analyst's capture upload reaches neither the proofs bucket nor the old place of
	// proofs in the captures bucket.
	e.must(t, 400, analyst, "POST", "/api/v1/uploads", map[string]any{"key": up.Key}, &apiErr)
	if apiErr.Error.Field != "key" || !strings.Contains(apiErr.Error.Message, "only Offsite writes") {
		t.Errorf("capture upload to the proof's key: %+v", apiErr.Error)
	}
	if got := e.getObject(t, e.store.Proofs, up.Key); got != doc {
		t.Errorf("stored proof = %q, want the recorded %q", got, doc)
	}
}

// TestSecurityUploadKeys: POST /api/v1/uploads refuses the prefixes only Offsite writes, the
// sidecar prefix to anyone but an admin, and keys whose object exists or that a capture
// names; a URL it gives creates its object once.
func TestSecurityUploadKeys(t *testing.T) {
	e := newEnforceServer(t)
	ctx := context.Background()
	if err := e.store.PutCapture(ctx, "s2/registered.tif", bytes.NewReader([]byte("scene")), 5); err != nil {
		t.Fatal(err)
	}
	e.register(t, "s2/registered.tif")
	e.register(t, "s2/gone.tif") // registered, its object since removed by an operator
	if err := e.store.PutCapture(ctx, "s2/present.tif", bytes.NewReader([]byte("scene")), 5); err != nil {
		t.Fatal(err)
	}
	var apiErr apiError
	for _, tc := range []struct {
		name, token, key string
		want             int
		msg              string
	}{
		{"cog", analyst, "cog/" + strings.Repeat("ab", 32) + ".tif", 400, "only Offsite writes"},
		{"old proofs", analyst, "selfcheck/" + entUSCC + "/1/report.pdf", 400, "only Offsite writes"},
		{"sidecar as analyst", analyst, "stac/s2/scene.json", 403, "only an admin"},
		{"registered source", analyst, "s2/registered.tif", 409, "never replace"},
		{"registered source, object gone", analyst, "s2/gone.tif", 409, "a capture names"},
		{"existing object", admin, "s2/present.tif", 409, "never replace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.must(t, tc.want, tc.token, "POST", "/api/v1/uploads", map[string]any{"key": tc.key}, &apiErr)
			if !strings.Contains(apiErr.Error.Message, tc.msg) {
				t.Errorf("refusal %+v, want it to say %q", apiErr.Error, tc.msg)
			}
		})
	}
	// Nor is an object there registered as a capture's source.
	for _, key := range []string{"cog/" + strings.Repeat("ab", 32) + ".tif", "selfcheck/" + entUSCC + "/1/track.csv"} {
		e.must(t, 400, analyst, "POST", "/api/v1/captures", map[string]any{"kind": "vehicle-track", "acquired_at": "2026-03-01T02:30:00Z", "key": key}, &apiErr)
		if apiErr.Error.Field != "key" || !strings.Contains(apiErr.Error.Message, "only Offsite writes") {
			t.Errorf("registering %s: %+v", key, apiErr.Error)
		}
	}
	// An admin (the operators) may upload sidecars.
	e.must(t, 200, admin, "POST", "/api/v1/uploads", map[string]any{"key": "stac/s2/scene.json"}, nil)

	// A URL creates its object once: used again (after the capture is registered), it fails.
	var up presignedPut
	e.must(t, 200, analyst, "POST", "/api/v1/uploads", map[string]any{"key": "s2/new.tif"}, &up)
	if code, body := up.put(t, "first scene"); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	e.register(t, "s2/new.tif")
	if code, _ := up.put(t, "forged scene"); code != 412 {
		t.Errorf("URL used again: %d, want 412", code)
	}
	if code, _ := putURL(t, up.URL, nil, "forged scene"); code != 403 {
		t.Errorf("URL without its If-None-Match: %d, want 403", code)
	}
	if got := e.getObject(t, e.store.Captures, "s2/new.tif"); got != "first scene" {
		t.Errorf("stored source = %q", got)
	}
}

// TestSecurityEvidenceObjectMissing: a key with no object is 404, not audited, not presigned.
func TestSecurityEvidenceObjectMissing(t *testing.T) {
	e := newEnforceServer(t)
	key := "sha256/ab/" + strings.Repeat("ab", 32) + ".tif"
	var apiErr apiError
	e.must(t, 404, inspector, "GET", "/api/v1/evidence-objects/"+key, nil, &apiErr)
	var audit struct {
		Entries []struct{ Action string } `json:"entries"`
	}
	e.must(t, 200, admin, "GET", "/api/v1/audit?subject="+url.QueryEscape("evidence/"+key), nil, &audit)
	if len(audit.Entries) != 0 {
		t.Errorf("a missing object's download is audited: %+v", audit.Entries)
	}
	if _, err := e.store.StatEvidence(context.Background(), key); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("stat: %v", err)
	}
}
