package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/offsite/offsite/internal/enforce"
)

// ActionProofUpload is the audit action that records a self-check proof; its detail is a
// ProofUpload and its subject the inspection ("inspection/12").
const ActionProofUpload = enforce.AuditInspectionProofUpload

// ProofUpload is what the audit log records of a self-check proof once it is stored.
type ProofUpload struct {
	Name string `json:"name"`
	// Bucket is where the proof is stored; records made before proofs had their own bucket
	// have none (their proofs are in the captures bucket).
	Bucket    string `json:"bucket,omitempty"`
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	MediaType string `json:"media_type"`
}

// AuditLog pages through audit entries whose subject starts with subject, newest first.
type AuditLog interface {
	FindAudit(ctx context.Context, subject string, offset, limit int) ([]*enforce.AuditEntry, int, error)
}

// Proofs lists the proofs the audit log records, as artifacts in the bucket each record
// names (legacyBucket for records that name none). Its cursor is an offset into the
// inspections' audit entries: entries appended while it runs shift the pages, so a proof may
// be listed twice, never skipped.
func Proofs(log AuditLog, legacyBucket string) Source {
	return proofSource{log: log, legacy: legacyBucket}
}

type proofSource struct {
	log    AuditLog
	legacy string
}

func (p proofSource) ListArtifacts(ctx context.Context, after string, limit int) ([]Artifact, string, error) {
	offset := 0
	if after != "" {
		n, err := strconv.Atoi(after)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("verify: proof cursor %q is not an offset", after)
		}
		offset = n
	}
	es, total, err := p.log.FindAudit(ctx, "inspection/", offset, limit)
	if err != nil {
		return nil, "", err
	}
	var arts []Artifact
	for _, e := range es {
		if e.Action != ActionProofUpload {
			continue
		}
		var u ProofUpload
		if err := json.Unmarshal([]byte(e.Detail), &u); err != nil {
			return nil, "", fmt.Errorf("verify: audit entry %d: proof record: %w", e.Seq, err)
		}
		if u.Bucket == "" {
			u.Bucket = p.legacy
		}
		arts = append(arts, Artifact{Bucket: u.Bucket, Key: u.Key, SHA256: u.SHA256,
			Owner: fmt.Sprintf("%s proof %s (audit entry %d)", e.Subject, u.Name, e.Seq)})
	}
	next := ""
	if offset+len(es) < total && len(es) > 0 {
		next = strconv.Itoa(offset + len(es))
	}
	return arts, next, nil
}
