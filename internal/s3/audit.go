package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// AuditHeadPrefix is where the audit chain's signed heads are kept in the evidence bucket, one
// object per checkpointed entry, named by its zero-padded seq so that names sort by seq.
const AuditHeadPrefix = "audit/heads/"

var _ enforce.AuditHeadStore = (*Store)(nil)

// AuditHeadKey is the key of the head of entry seq.
func AuditHeadKey(seq int64) string { return fmt.Sprintf("%s%020d.json", AuditHeadPrefix, seq) }

// PutAuditHead stores a head in the evidence bucket. A head is never overwritten: writing the
// same head again does nothing, and a different head for the same entry is refused.
func (s *Store) PutAuditHead(ctx context.Context, h *enforce.AuditHead) (err error) {
	key := AuditHeadKey(h.Seq)
	defer derrors.Wrap(&err, "PutAuditHead(%s)", key)
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	old, err := s.get(ctx, s.Evidence, key, 1<<16)
	switch {
	case err == nil && bytes.Equal(old, b):
		return nil
	case err == nil:
		return fmt.Errorf("a different head of entry %d is stored already: %w", h.Seq, offsite.ErrConflict)
	case !errors.Is(err, offsite.ErrNotFound):
		return err
	}
	_, err = s.Client.PutObject(ctx, s.Evidence, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{ContentType: "application/json"})
	return err
}

// LatestAuditHead returns the head of the highest seq in the evidence bucket, or nil when
// there is none.
func (s *Store) LatestAuditHead(ctx context.Context) (_ *enforce.AuditHead, err error) {
	defer derrors.Wrap(&err, "LatestAuditHead")
	latest := ""
	for obj := range s.Client.ListObjects(ctx, s.Evidence, minio.ListObjectsOptions{Prefix: AuditHeadPrefix}) {
		if obj.Err != nil {
			return nil, obj.Err
		}
		if strings.HasSuffix(obj.Key, ".json") && obj.Key > latest {
			latest = obj.Key
		}
	}
	if latest == "" {
		return nil, nil
	}
	b, err := s.get(ctx, s.Evidence, latest, 1<<16)
	if err != nil {
		return nil, err
	}
	h := &enforce.AuditHead{}
	if err := json.Unmarshal(b, h); err != nil {
		return nil, fmt.Errorf("head %s: %w", latest, err)
	}
	if AuditHeadKey(h.Seq) != latest {
		return nil, fmt.Errorf("head %s records entry %d", latest, h.Seq)
	}
	return h, nil
}
