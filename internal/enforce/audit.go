package enforce

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GenesisHash is the previous hash of the first audit entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// AuditEntry is one entry of the hash-chained audit log. Hash covers every other field,
// PrevHash included, so changing, removing or reordering an entry breaks the chain from there
// on.
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Role     string    `json:"role"`
	Action   string    `json:"action"`  // e.g. "list.notice", "inspection.approve", "evidence.view"
	Subject  string    `json:"subject"` // e.g. "enterprise/9132...", "inspection/12"
	Detail   string    `json:"detail"`  // compact JSON, hashed byte for byte
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// CompactDetail marshals v as compact JSON for an entry's Detail.
func CompactDetail(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// ComputeHash returns the entry's hash: hex SHA-256 over the lines
//
//	offsite-audit/v1, seq, at (UTC, RFC 3339 with microseconds), actor, role, action,
//	subject, prev_hash, detail
//
// joined with "\n"; every field but detail is first stripped of "\n".
func (e *AuditEntry) ComputeHash() string {
	clean := func(s string) string { return strings.ReplaceAll(s, "\n", " ") }
	h := sha256.New()
	fmt.Fprintf(h, "offsite-audit/v1\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s",
		strconv.FormatInt(e.Seq, 10), e.At.UTC().Format("2006-01-02T15:04:05.000000Z"),
		clean(e.Actor), clean(e.Role), clean(e.Action), clean(e.Subject), clean(e.PrevHash), e.Detail)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets the entry's sequence number, previous hash and hash, after its predecessor
// (nil for the first entry). At is truncated to the microseconds the database keeps.
func (e *AuditEntry) Seal(prev *AuditEntry) {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Seq, e.PrevHash = 1, GenesisHash
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = e.ComputeHash()
}

// ChainBreak names the first entry where the chain is broken.
type ChainBreak struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// ChainVerifier checks a chain entry by entry, so that long logs can be streamed.
type ChainVerifier struct {
	prev    *AuditEntry
	Checked int64
}

// Next checks the next entry (in seq order) and returns the break it finds, if any.
func (v *ChainVerifier) Next(e *AuditEntry) *ChainBreak {
	wantSeq, wantPrev := int64(1), GenesisHash
	if v.prev != nil {
		wantSeq, wantPrev = v.prev.Seq+1, v.prev.Hash
	}
	v.Checked++
	cp := *e
	v.prev = &cp
	switch {
	case e.Seq != wantSeq:
		return &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("sequence number %d follows %d: entries missing or reordered", e.Seq, wantSeq-1)}
	case e.PrevHash != wantPrev:
		return &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("prev_hash %s is not the hash %s of entry %d", e.PrevHash, wantPrev, wantSeq-1)}
	case e.Hash != e.ComputeHash():
		return &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("hash %s does not match the entry's content (recomputed %s): the entry was changed", e.Hash, e.ComputeHash())}
	}
	return nil
}

// VerifyChain checks a whole chain and returns the first break, or nil.
func VerifyChain(entries []AuditEntry) *ChainBreak {
	var v ChainVerifier
	for i := range entries {
		if b := v.Next(&entries[i]); b != nil {
			return b
		}
	}
	return nil
}
