package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/testenv"
)

func put(t *testing.T, up *offsite.Upload, headers map[string]string, body string) int {
	t.Helper()
	req, err := http.NewRequest("PUT", up.URL.String(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestPresignedPutsNeverReplace checks, against the S3 gateway itself, that what the store
// signs into a presigned PUT holds: If-None-Match: * (the gateway answers 412 to a second
// creation, 403 to a PUT without the header), and a proof's media type and size.
func TestPresignedPutsNeverReplace(t *testing.T) {
	st, err := s3.New(testenv.S3Config(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	up, err := st.PresignCaptureUpload(ctx, "s2/a.tif", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if up.Headers["If-None-Match"] != "*" {
		t.Fatalf("signed headers %v", up.Headers)
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"without If-None-Match", nil, 403},
		{"first", up.Headers, 200},
		{"again", up.Headers, 412},
	} {
		if got := put(t, up, tc.headers, "scene "+tc.name); got != tc.want {
			t.Errorf("capture PUT %s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := get(t, st, st.Captures, "s2/a.tif"); got != "scene first" {
		t.Errorf("stored %q", got)
	}

	const doc = "%PDF-1.4 proof"
	pu, err := st.PresignProofUpload(ctx, "selfcheck/x/1/r.pdf", "application/pdf", int64(len(doc)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	withType := func(ct string) map[string]string { return map[string]string{"If-None-Match": "*", "Content-Type": ct} }
	for _, tc := range []struct {
		name, body string
		headers    map[string]string
		want       int
	}{
		{"another type", doc, withType("application/json"), 403},
		{"another size", doc + "!", withType("application/pdf"), 403},
		{"as signed", doc, withType("application/pdf"), 200},
		{"again, same size", "%PDF-1.4 forgd", withType("application/pdf"), 412},
	} {
		if got := put(t, pu, tc.headers, tc.body); got != tc.want {
			t.Errorf("proof PUT %s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if strings.Contains(pu.URL.Path, st.Captures) {
		t.Errorf("proof URL %s is in the captures bucket", pu.URL)
	}
	// The store's own writes refuse to replace too.
	if err := st.PutProof(ctx, "selfcheck/x/1/r.pdf", strings.NewReader("%PDF forged"), 11, "application/pdf"); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("PutProof over a proof: %v, want a conflict", err)
	}
	if err := st.PutNewCapture(ctx, "s2/a.tif", bytes.NewReader([]byte("x")), 1); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("PutNewCapture over a source: %v, want a conflict", err)
	}
	if got := get(t, st, st.Proofs, "selfcheck/x/1/r.pdf"); got != doc {
		t.Errorf("stored proof %q", got)
	}
}

func get(t *testing.T, st *s3.Store, bucket, key string) string {
	t.Helper()
	obj, err := st.Client.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// PutEvidence writes an artifact in one conditional request: an artifact stored already is
// answered with its key and left as it is, never replaced, even by other bytes under its key.
func TestPutEvidenceNeverReplaces(t *testing.T) {
	cfg := testenv.S3Config(t)
	st, err := s3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := []byte("evidence " + time.Now().Format(time.RFC3339Nano))
	key, sum, err := st.PutEvidence(ctx, data, ".txt", "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	if key != s3.EvidenceKey(sum, ".txt") {
		t.Fatalf("key %s for digest %s", key, sum)
	}
	again, againSum, err := st.PutEvidence(ctx, data, ".txt", "text/plain")
	if err != nil || again != key || againSum != sum {
		t.Fatalf("second put: %s %s %v; want %s %s", again, againSum, err, key, sum)
	}
	got, err := st.GetEvidence(ctx, key)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored %q, %v; want %q", got, err, data)
	}
	// Other bytes already under the key of data (not written by PutEvidence): they stay.
	other := []byte("other " + time.Now().Format(time.RFC3339Nano))
	sum2 := fmt.Sprintf("%x", sha256.Sum256(other))
	squat := s3.EvidenceKey(sum2, ".txt")
	if _, err := st.Client.PutObject(ctx, cfg.EvidenceBucket, squat, bytes.NewReader([]byte("squatter")), 8, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if k, _, err := st.PutEvidence(ctx, other, ".txt", "text/plain"); err != nil || k != squat {
		t.Fatalf("put over an existing key: %s, %v", k, err)
	}
	if got, err := st.GetEvidence(ctx, squat); err != nil || string(got) != "squatter" {
		t.Errorf("object under %s is %q, %v: replaced", squat, got, err)
	}
}

// BenchmarkPutEvidence stores small artifacts (a clip's COG and quick-look are a few KB) as
// clipping on arrival does: one after another, and 8 at a time (the worker's evidence
// uploads); "head" is the existence check PutEvidence made before each PUT until it became
// one conditional PUT. Numbers are printed, not asserted: the gateway shares the cores.
func BenchmarkPutEvidence(b *testing.B) {
	st, err := s3.New(testenv.S3Config(b))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	stamp := time.Now().UnixNano()
	var n atomic.Int64 // every artifact is new
	artifact := func() []byte {
		return []byte(fmt.Sprintf("artifact %d %d %s", stamp, n.Add(1), bytes.Repeat([]byte("x"), 4000)))
	}
	b.Run("serial", func(b *testing.B) {
		for range b.N {
			if _, _, err := st.PutEvidence(ctx, artifact(), ".bin", "application/octet-stream"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("8-at-once", func(b *testing.B) {
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		for range b.N {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if _, _, err := st.PutEvidence(ctx, artifact(), ".bin", "application/octet-stream"); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	})
	b.Run("head", func(b *testing.B) {
		for range b.N {
			sum := fmt.Sprintf("%x", sha256.Sum256(artifact()))
			if _, err := st.StatEvidence(ctx, s3.EvidenceKey(sum, ".bin")); err == nil {
				b.Fatal("an artifact never stored exists")
			}
		}
	})
}
