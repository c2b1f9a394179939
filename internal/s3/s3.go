// Package s3 stores captures and evidence in S3-compatible object storage through minio-go.
package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
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
}

// Store is Offsite's object storage.
type Store struct {
	Client   *minio.Client
	Captures string // bucket of raw uploads
	Evidence string // bucket of content-addressed artifacts
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
	return &Store{Client: c, Captures: cfg.CapturesBucket, Evidence: cfg.EvidenceBucket}, nil
}

// EnsureBuckets creates the captures and evidence buckets when they are missing.
func (s *Store) EnsureBuckets(ctx context.Context) (err error) {
	defer derrors.Wrap(&err, "EnsureBuckets")
	for _, b := range []string{s.Captures, s.Evidence} {
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

// Ping checks that both buckets exist and answer.
func (s *Store) Ping(ctx context.Context) error {
	for _, b := range []string{s.Captures, s.Evidence} {
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

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Size         int64
	ETag         string
	LastModified time.Time
}

// StatCapture returns the size of an object in the captures bucket; a missing object is
// offsite.ErrNotFound.
func (s *Store) StatCapture(ctx context.Context, key string) (ObjectInfo, error) {
	return s.stat(ctx, s.Captures, key)
}

func (s *Store) stat(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	info, err := s.Client.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if r := minio.ToErrorResponse(err); r.StatusCode == 404 || r.Code == "NoSuchKey" {
			return ObjectInfo{}, offsite.NotFound("object %s/%s", bucket, key)
		}
		return ObjectInfo{}, fmt.Errorf("s3: stat %s/%s: %w", bucket, key, err)
	}
	return ObjectInfo{Size: info.Size, ETag: info.ETag, LastModified: info.LastModified}, nil
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

// EvidenceKey is the key of an artifact with the given SHA-256 (hex) and extension (".tif").
func EvidenceKey(sum, ext string) string {
	return "sha256/" + sum[:2] + "/" + sum + ext
}

// PutEvidence stores data in the evidence bucket under a key derived from its SHA-256 and
// returns the key and the hex digest. An artifact already present is not written again:
// evidence is never overwritten.
func (s *Store) PutEvidence(ctx context.Context, data []byte, ext, contentType string) (key, sum string, err error) {
	h := sha256.Sum256(data)
	sum = hex.EncodeToString(h[:])
	key = EvidenceKey(sum, ext)
	defer derrors.Wrap(&err, "PutEvidence(%s)", key)
	if _, err := s.stat(ctx, s.Evidence, key); err == nil {
		return key, sum, nil
	} else if !errors.Is(err, offsite.ErrNotFound) {
		return "", "", err
	}
	opts := minio.PutObjectOptions{
		ContentType:  contentType,
		UserMetadata: map[string]string{"sha256": sum},
	}
	if _, err := s.Client.PutObject(ctx, s.Evidence, key, bytes.NewReader(data), int64(len(data)), opts); err != nil {
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

// PresignCaptureUpload returns a URL through which a client may PUT key into the captures
// bucket during ttl.
func (s *Store) PresignCaptureUpload(ctx context.Context, key string, ttl time.Duration) (*url.URL, error) {
	if err := offsite.CheckObjectKey(key); err != nil {
		return nil, offsite.Invalid("key", "%v", err)
	}
	u, err := s.Client.PresignedPutObject(ctx, s.Captures, key, ttl)
	if err != nil {
		return nil, fmt.Errorf("s3: presign put %s/%s: %w", s.Captures, key, err)
	}
	return u, nil
}

// PresignEvidenceDownload returns a URL through which a client may GET an artifact during ttl.
func (s *Store) PresignEvidenceDownload(ctx context.Context, key string, ttl time.Duration) (*url.URL, error) {
	u, err := s.Client.PresignedGetObject(ctx, s.Evidence, key, ttl, nil)
	if err != nil {
		return nil, fmt.Errorf("s3: presign get %s/%s: %w", s.Evidence, key, err)
	}
	return u, nil
}

// ListCaptureObjects returns the objects of the captures bucket whose key ends with suffix and
// that were modified at or after since, in key order.
func (s *Store) ListCaptureObjects(ctx context.Context, suffix string, since time.Time) (_ []Object, err error) {
	defer derrors.Wrap(&err, "ListCaptureObjects(%q)", suffix)
	var out []Object
	for obj := range s.Client.ListObjects(ctx, s.Captures, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			return nil, obj.Err
		}
		if strings.HasSuffix(obj.Key, suffix) && !obj.LastModified.Before(since) {
			out = append(out, Object{Key: obj.Key, ObjectInfo: ObjectInfo{Size: obj.Size, ETag: obj.ETag, LastModified: obj.LastModified}})
		}
	}
	return out, nil
}

// Object is a listed object.
type Object struct {
	Key string
	ObjectInfo
}

// GetCapture reads an object of the captures bucket of at most limit bytes.
func (s *Store) GetCapture(ctx context.Context, key string, limit int64) ([]byte, error) {
	return s.get(ctx, s.Captures, key, limit)
}
