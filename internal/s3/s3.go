// Package s3 stores captures and evidence in S3-compatible object storage through minio-go.
package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
)

// Config says how to reach object storage and which buckets to use.
type Config struct {
	Endpoint       string // host:port
	AccessKey      string
	SecretKey      string
	Region         string
	UseTLS         bool
	CapturesBucket string
	EvidenceBucket string
	// ProofsBucket holds the enterprises' self-check proofs, apart from everything a
	// pipeline reads.
	ProofsBucket string
	// SidecarPrefix is the prefix of the captures bucket under which the nightly sweep reads
	// STAC sidecars; "" means DefaultSidecarPrefix.
	SidecarPrefix string
}

// DefaultSidecarPrefix is where sidecars go unless configured otherwise.
const DefaultSidecarPrefix = "stac/"

// Prefixes of the captures bucket that only Offsite itself writes: API uploads are refused
// there, and no sidecar may name an object under them as its capture.
const (
	// COGPrefix holds the COGs ingest makes, each named by its own SHA-256.
	COGPrefix = "cog/"
	// LegacyProofPrefix held self-check proofs before they had their own bucket.
	LegacyProofPrefix = "selfcheck/"
)

// AppPrefixes are the prefixes of the captures bucket that only Offsite writes.
var AppPrefixes = []string{COGPrefix, LegacyProofPrefix}

// AppPrefix returns the prefix of AppPrefixes that key falls under, or "".
func AppPrefix(key string) string {
	for _, p := range AppPrefixes {
		if strings.HasPrefix(key, p) {
			return p
		}
	}
	return ""
}

// Store is Offsite's object storage.
type Store struct {
	Client   *minio.Client
	Captures string // bucket of raw uploads
	Evidence string // bucket of content-addressed artifacts
	Proofs   string // bucket of self-check proofs, which no pipeline reads
	// SidecarPrefix is where the nightly sweep reads sidecars in the captures bucket.
	SidecarPrefix string
}

// New returns a Store for cfg. It does not contact the server.
func New(cfg Config) (*Store, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.UseTLS,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w", cfg.Endpoint, err)
	}
	prefix := cfg.SidecarPrefix
	if prefix == "" {
		prefix = DefaultSidecarPrefix
	}
	return &Store{Client: c, Captures: cfg.CapturesBucket, Evidence: cfg.EvidenceBucket, Proofs: cfg.ProofsBucket, SidecarPrefix: prefix}, nil
}

// buckets are the store's buckets; the proofs bucket is left out when not configured.
func (s *Store) buckets() []string {
	if s.Proofs == "" {
		return []string{s.Captures, s.Evidence}
	}
	return []string{s.Captures, s.Evidence, s.Proofs}
}

// EnsureBuckets creates the captures, evidence and proofs buckets when they are missing.
func (s *Store) EnsureBuckets(ctx context.Context) (err error) {
	defer derrors.Wrap(&err, "EnsureBuckets")
	for _, b := range s.buckets() {
		ok, err := s.Client.BucketExists(ctx, b)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if err := s.Client.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
			if code := minio.ToErrorResponse(err).Code; code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return err
			}
		}
	}
	return nil
}

// Ping checks that the buckets exist and answer.
func (s *Store) Ping(ctx context.Context) error {
	for _, b := range s.buckets() {
		ok, err := s.Client.BucketExists(ctx, b)
		if err != nil {
			return fmt.Errorf("s3: bucket %s: %w", b, err)
		}
		if !ok {
			return fmt.Errorf("s3: bucket %s does not exist", b)
		}
	}
	return nil
}

var (
	_ offsite.CaptureStore  = (*Store)(nil)
	_ offsite.EvidenceStore = (*Store)(nil)
	_ offsite.ProofStore    = (*Store)(nil)
)

// StatCapture returns the size of an object in the captures bucket; a missing object is
// offsite.ErrNotFound.
func (s *Store) StatCapture(ctx context.Context, key string) (offsite.ObjectInfo, error) {
	return s.stat(ctx, s.Captures, key)
}

// StatEvidence describes an artifact; a missing one is offsite.ErrNotFound.
func (s *Store) StatEvidence(ctx context.Context, key string) (offsite.ObjectInfo, error) {
	return s.stat(ctx, s.Evidence, key)
}

func (s *Store) stat(ctx context.Context, bucket, key string) (offsite.ObjectInfo, error) {
	info, err := s.Client.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if r := minio.ToErrorResponse(err); r.StatusCode == 404 || r.Code == "NoSuchKey" {
			return offsite.ObjectInfo{}, offsite.NotFound("object %s/%s", bucket, key)
		}
		return offsite.ObjectInfo{}, fmt.Errorf("s3: stat %s/%s: %w", bucket, key, err)
	}
	return offsite.ObjectInfo{Size: info.Size, ETag: info.ETag, LastModified: info.LastModified}, nil
}

// PutCapture uploads r (size bytes, -1 if unknown) to key in the captures bucket.
func (s *Store) PutCapture(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := offsite.CheckObjectKey(key); err != nil {
		return offsite.Invalid("key", "%v", err)
	}
	_, err := s.Client.PutObject(ctx, s.Captures, key, r, size, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return fmt.Errorf("s3: put %s/%s: %w", s.Captures, key, err)
	}
	return nil
}

// PutNewCapture uploads r (size bytes) to key in the captures bucket unless an object is
// there already, which is offsite.ErrConflict: what Offsite writes there is never replaced.
func (s *Store) PutNewCapture(ctx context.Context, key string, r io.Reader, size int64) error {
	return s.putNew(ctx, s.Captures, key, r, size, "application/octet-stream")
}

// PutProof stores a self-check proof under key in the proofs bucket unless one is there
// already (offsite.ErrConflict): a proof is never replaced.
func (s *Store) PutProof(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	return s.putNew(ctx, s.Proofs, key, r, size, contentType)
}

// StatProof describes a proof; a missing one is offsite.ErrNotFound.
func (s *Store) StatProof(ctx context.Context, key string) (offsite.ObjectInfo, error) {
	return s.stat(ctx, s.Proofs, key)
}

// ProofsBucket names the bucket of proofs, "" when none is configured.
func (s *Store) ProofsBucket() string { return s.Proofs }

// OpenEvidence opens an artifact for reading; a missing one is offsite.ErrNotFound.
func (s *Store) OpenEvidence(ctx context.Context, key string) (io.ReadSeekCloser, offsite.ObjectInfo, error) {
	return s.open(ctx, s.Evidence, key)
}

// OpenProof opens a proof for reading; a missing one is offsite.ErrNotFound.
func (s *Store) OpenProof(ctx context.Context, key string) (io.ReadSeekCloser, offsite.ObjectInfo, error) {
	return s.open(ctx, s.Proofs, key)
}

// RemoveProof deletes a proof that failed its checks before it was recorded.
func (s *Store) RemoveProof(ctx context.Context, key string) error {
	if err := s.Client.RemoveObject(ctx, s.Proofs, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("s3: remove %s/%s: %w", s.Proofs, key, err)
	}
	return nil
}

// putNew writes key with If-None-Match: *, so that the server refuses to replace an object,
// atomically: of two writers racing for a key, one gets offsite.ErrConflict.
func (s *Store) putNew(ctx context.Context, bucket, key string, r io.Reader, size int64, contentType string) error {
	if err := offsite.CheckObjectKey(key); err != nil {
		return offsite.Invalid("key", "%v", err)
	}
	opts := minio.PutObjectOptions{ContentType: contentType}
	opts.SetMatchETagExcept("*")
	if _, err := s.Client.PutObject(ctx, bucket, key, r, size, opts); err != nil {
		if isPreconditionFailed(err) {
			return offsite.Conflict("object %s/%s exists and is never replaced", bucket, key)
		}
		return fmt.Errorf("s3: put %s/%s: %w", bucket, key, err)
	}
	return nil
}

func isPreconditionFailed(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusPreconditionFailed || r.Code == "PreconditionFailed"
}

// EvidenceKey is the key of an artifact with the given SHA-256 (hex) and extension (".tif").
func EvidenceKey(sum, ext string) string {
	return "sha256/" + sum[:2] + "/" + sum + ext
}

// PutEvidence stores data in the evidence bucket under a key derived from its SHA-256 and
// returns the key and the hex digest. An artifact already present is not written again:
// evidence is never overwritten. One request: a PUT with If-None-Match: *, which the server
// refuses (412) when the key exists (a HEAD first, then the PUT, made the clipping of a
// capture on arrival, two artifacts per parcel, wait on twice as many requests).
func (s *Store) PutEvidence(ctx context.Context, data []byte, ext, contentType string) (key, sum string, err error) {
	h := sha256.Sum256(data)
	sum = hex.EncodeToString(h[:])
	key = EvidenceKey(sum, ext)
	defer derrors.Wrap(&err, "PutEvidence(%s)", key)
	opts := minio.PutObjectOptions{
		ContentType:  contentType,
		UserMetadata: map[string]string{"sha256": sum},
	}
	opts.SetMatchETagExcept("*")
	if _, err := s.Client.PutObject(ctx, s.Evidence, key, bytes.NewReader(data), int64(len(data)), opts); err != nil && !isPreconditionFailed(err) {
		return "", "", err
	}
	return key, sum, nil
}

// GetEvidence reads an artifact.
func (s *Store) GetEvidence(ctx context.Context, key string) ([]byte, error) {
	return s.get(ctx, s.Evidence, key, -1)
}

// get reads an object; a missing one is offsite.ErrNotFound, one over limit bytes (when
// limit >= 0) is offsite.ErrInvalid.
func (s *Store) get(ctx context.Context, bucket, key string, limit int64) ([]byte, error) {
	obj, err := s.Client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("s3: get %s/%s: %w", bucket, key, err)
	}
	defer obj.Close()
	var r io.Reader = obj
	if limit >= 0 {
		r = io.LimitReader(obj, limit+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		if r := minio.ToErrorResponse(err); r.StatusCode == 404 || r.Code == "NoSuchKey" {
			return nil, offsite.NotFound("object %s/%s", bucket, key)
		}
		return nil, fmt.Errorf("s3: get %s/%s: %w", bucket, key, err)
	}
	if limit >= 0 && int64(len(b)) > limit {
		return nil, offsite.Invalid(key, "is larger than %d bytes", limit)
	}
	return b, nil
}

// PresignCaptureUpload returns a PUT of key into the captures bucket valid during ttl. It
// signs If-None-Match: * into the URL, so it creates the object or fails: neither it (used
// twice) nor a second URL for the key can replace an object.
func (s *Store) PresignCaptureUpload(ctx context.Context, key string, ttl time.Duration) (*offsite.Upload, error) {
	return s.presignPut(ctx, s.Captures, key, ttl, nil)
}

// PresignProofUpload returns a PUT of key into the proofs bucket valid during ttl, for a
// document of size bytes and media type contentType: both are signed into the URL with
// If-None-Match: *, so the storage refuses another size or type and never replaces an object.
func (s *Store) PresignProofUpload(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (*offsite.Upload, error) {
	return s.presignPut(ctx, s.Proofs, key, ttl, map[string]string{
		"Content-Type": contentType, "Content-Length": strconv.FormatInt(size, 10),
	})
}

func (s *Store) presignPut(ctx context.Context, bucket, key string, ttl time.Duration, headers map[string]string) (*offsite.Upload, error) {
	if err := offsite.CheckObjectKey(key); err != nil {
		return nil, offsite.Invalid("key", "%v", err)
	}
	signed := map[string]string{"If-None-Match": "*"}
	h := http.Header{}
	h.Set("If-None-Match", "*")
	for k, v := range headers {
		signed[k] = v
		h.Set(k, v)
	}
	u, err := s.Client.PresignHeader(ctx, http.MethodPut, bucket, key, ttl, nil, h)
	if err != nil {
		return nil, fmt.Errorf("s3: presign put %s/%s: %w", bucket, key, err)
	}
	return &offsite.Upload{URL: u, Headers: signed}, nil
}

// PresignEvidenceDownload returns a URL through which a client may GET an artifact during ttl.
func (s *Store) PresignEvidenceDownload(ctx context.Context, key string, ttl time.Duration) (*url.URL, error) {
	u, err := s.Client.PresignedGetObject(ctx, s.Evidence, key, ttl, nil)
	if err != nil {
		return nil, fmt.Errorf("s3: presign get %s/%s: %w", s.Evidence, key, err)
	}
	return u, nil
}

// ListCaptureObjects returns the objects of the captures bucket under prefix whose key ends
// with suffix and that were modified at or after since, in key order.
func (s *Store) ListCaptureObjects(ctx context.Context, prefix, suffix string, since time.Time) (_ []Object, err error) {
	defer derrors.Wrap(&err, "ListCaptureObjects(%q, %q)", prefix, suffix)
	var out []Object
	for obj := range s.Client.ListObjects(ctx, s.Captures, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, obj.Err
		}
		if strings.HasPrefix(obj.Key, prefix) && strings.HasSuffix(obj.Key, suffix) && !obj.LastModified.Before(since) {
			out = append(out, Object{Key: obj.Key, ObjectInfo: offsite.ObjectInfo{Size: obj.Size, ETag: obj.ETag, LastModified: obj.LastModified}})
		}
	}
	return out, nil
}

// Object is a listed object.
type Object struct {
	Key string
	offsite.ObjectInfo
}

// GetCapture reads an object of the captures bucket of at most limit bytes.
func (s *Store) GetCapture(ctx context.Context, key string, limit int64) ([]byte, error) {
	return s.get(ctx, s.Captures, key, limit)
}

// HashObject streams an object of bucket ("" for the evidence bucket) and returns its SHA-256
// in hex; a missing object is offsite.ErrNotFound.
func (s *Store) HashObject(ctx context.Context, bucket, key string) (string, error) {
	if bucket == "" {
		bucket = s.Evidence
	}
	obj, err := s.Client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", fmt.Errorf("s3: get %s/%s: %w", bucket, key, err)
	}
	defer obj.Close()
	h := sha256.New()
	if _, err := io.Copy(h, obj); err != nil {
		if r := minio.ToErrorResponse(err); r.StatusCode == http.StatusNotFound || r.Code == "NoSuchKey" {
			return "", offsite.NotFound("object %s/%s", bucket, key)
		}
		return "", fmt.Errorf("s3: read %s/%s: %w", bucket, key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
