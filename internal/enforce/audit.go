package enforce

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// GenesisHash is the previous hash of the first audit entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// AuditEntry is one entry of the hash-chained audit log. Hash covers every other field,
// PrevHash included, so changing, removing or reordering an entry breaks the chain from there
// on.
//
// Entries are keyed (KeyID set): Hash is an HMAC-SHA256 under the audit key named by KeyID,
// a secret kept outside the database, so whoever can write the table but does not hold the
// key cannot recompute the chain after an edit. Entries written before keys were introduced
// (KeyID empty, seq up to the chain's anchor, see ChainVerifier.LegacyUntil) carry a plain
// SHA-256; the first keyed entry chains to the last of them, so its HMAC seals them too.
type AuditEntry struct {
	Seq      int64       `json:"seq"`
	At       time.Time   `json:"at"`
	Actor    string      `json:"actor"`
	Role     Role        `json:"role"`
	Action   AuditAction `json:"action"`  // e.g. "list.notice", "inspection.approve", "evidence.view"
	Subject  string      `json:"subject"` // e.g. "enterprise/9132...", "inspection/12"
	Detail   string      `json:"detail"`  // compact JSON, hashed byte for byte
	KeyID    string      `json:"key_id,omitempty"`
	PrevHash string      `json:"prev_hash"`
	Hash     string      `json:"hash"`
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

// ---------------------------------------------------------------- keys

// AuditKey is a secret HMAC key and the id entries and heads name it by.
type AuditKey struct {
	ID     string
	Secret []byte
}

// AuditKeys are the keys of a chain: Current seals new entries and heads; every key, older
// ones included, verifies what it sealed, so a key can be rotated without rewriting the log.
type AuditKeys struct {
	Current AuditKey
	byID    map[string]AuditKey
}

// MinAuditKeyBytes is the shortest accepted secret.
const MinAuditKeyBytes = 32

var auditKeyIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ErrNoAuditKey is returned where an entry or head must be sealed and no key is configured.
var ErrNoAuditKey = errors.New("enforce: no audit key")

// ParseAuditKeys reads keys written as "id:hex" separated by commas or newlines, the current
// key first. Each secret is at least MinAuditKeyBytes bytes, written in hex; ids are 1–64
// characters of letters, digits, '.', '_' and '-', and distinct. Empty lines and lines
// starting with '#' are skipped.
func ParseAuditKeys(s string) (*AuditKeys, error) {
	ks := &AuditKeys{byID: map[string]AuditKey{}}
	n := 0
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		f = strings.TrimSpace(f)
		if f == "" || strings.HasPrefix(f, "#") {
			continue
		}
		n++
		id, h, ok := strings.Cut(f, ":")
		if !ok || !auditKeyIDRE.MatchString(id) {
			return nil, fmt.Errorf("enforce: audit key %d is not id:hex with an id of 1-64 letters, digits, '.', '_' or '-'", n)
		}
		secret, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil || len(secret) < MinAuditKeyBytes {
			return nil, fmt.Errorf("enforce: audit key %q: must be at least %d bytes, random, written in hex (e.g. `openssl rand -hex 32`)", id, MinAuditKeyBytes)
		}
		if _, dup := ks.byID[id]; dup {
			return nil, fmt.Errorf("enforce: audit key id %q is given twice", id)
		}
		k := AuditKey{ID: id, Secret: secret}
		ks.byID[id] = k
		if n == 1 {
			ks.Current = k
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("enforce: no audit key given")
	}
	return ks, nil
}

// NewAuditKey returns a random key with the given id, in the form ParseAuditKeys reads.
func NewAuditKey(id string) (string, error) {
	b := make([]byte, MinAuditKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return id + ":" + hex.EncodeToString(b), nil
}

// Key returns the key with the given id.
func (ks *AuditKeys) Key(id string) (AuditKey, bool) {
	if ks == nil {
		return AuditKey{}, false
	}
	k, ok := ks.byID[id]
	return k, ok
}

// ---------------------------------------------------------------- entries

// clean strips newlines from a field that is hashed as one line.
func clean(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// writeContent writes the lines an entry's hash covers after the version line.
func (e *AuditEntry) writeContent(h hash.Hash, withKey bool) {
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n%s\n%s\n",
		strconv.FormatInt(e.Seq, 10), e.At.UTC().Format("2006-01-02T15:04:05.000000Z"),
		clean(e.Actor), clean(string(e.Role)), clean(string(e.Action)), clean(e.Subject))
	if withKey {
		fmt.Fprintf(h, "%s\n", clean(e.KeyID))
	}
	fmt.Fprintf(h, "%s\n%s", clean(e.PrevHash), e.Detail)
}

// ComputeHash returns the hash of a legacy (unkeyed) entry: hex SHA-256 over the lines
//
//	offsite-audit/v1, seq, at (UTC, RFC 3339 with microseconds), actor, role, action,
//	subject, prev_hash, detail
//
// joined with "\n"; every field but detail is first stripped of "\n".
func (e *AuditEntry) ComputeHash() string {
	h := sha256.New()
	h.Write([]byte("offsite-audit/v1\n"))
	e.writeContent(h, false)
	return hex.EncodeToString(h.Sum(nil))
}

// ComputeMAC returns the hash of a keyed entry: hex HMAC-SHA256 under key over the lines
//
//	offsite-audit/v2, seq, at, actor, role, action, subject, key_id, prev_hash, detail
//
// written as for ComputeHash.
func (e *AuditEntry) ComputeMAC(key AuditKey) string {
	h := hmac.New(sha256.New, key.Secret)
	h.Write([]byte("offsite-audit/v2\n"))
	e.writeContent(h, true)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets the entry's sequence number, key id, previous hash and hash, after its
// predecessor (nil for the first entry), under key. At is truncated to the microseconds the
// database keeps.
func (e *AuditEntry) Seal(prev *AuditEntry, key AuditKey) {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Seq, e.PrevHash = 1, GenesisHash
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.KeyID = key.ID
	e.Hash = e.ComputeMAC(key)
}

// ---------------------------------------------------------------- heads

// AuditHead is a signed checkpoint of the chain, kept outside the database: the entry at Seq
// had Hash. LegacyUntil is the chain's anchor (the last unkeyed entry), which never changes.
// MAC is an HMAC-SHA256 under the key KeyID over the other fields.
type AuditHead struct {
	Seq         int64     `json:"seq"`
	Hash        string    `json:"hash"`
	At          time.Time `json:"at"` // the entry's time
	LegacyUntil int64     `json:"legacy_until"`
	KeyID       string    `json:"key_id"`
	MAC         string    `json:"mac"`
}

// AuditHeadStore keeps signed heads where the database's roles cannot write.
type AuditHeadStore interface {
	// PutAuditHead stores a head; storing the same head again is not an error.
	PutAuditHead(ctx context.Context, h *AuditHead) error
	// LatestAuditHead returns the head of the highest seq, or nil when there is none.
	LatestAuditHead(ctx context.Context) (*AuditHead, error)
}

func (h *AuditHead) computeMAC(key AuditKey) string {
	m := hmac.New(sha256.New, key.Secret)
	fmt.Fprintf(m, "offsite-audit-head/v1\n%d\n%s\n%s\n%d\n%s", h.Seq, clean(h.Hash),
		h.At.UTC().Format("2006-01-02T15:04:05.000000Z"), h.LegacyUntil, clean(h.KeyID))
	return hex.EncodeToString(m.Sum(nil))
}

// NewAuditHead returns the signed head for entry e of a chain anchored at legacyUntil. It
// refuses an entry that does not verify: a head must never vouch for a forged entry.
func NewAuditHead(keys *AuditKeys, e *AuditEntry, legacyUntil int64) (*AuditHead, error) {
	if keys == nil {
		return nil, ErrNoAuditKey
	}
	if reason := checkEntry(keys, e, legacyUntil); reason != "" {
		return nil, fmt.Errorf("enforce: will not checkpoint audit entry %d: %s", e.Seq, reason)
	}
	h := &AuditHead{Seq: e.Seq, Hash: e.Hash, At: e.At.UTC().Truncate(time.Microsecond), LegacyUntil: legacyUntil, KeyID: keys.Current.ID}
	h.MAC = h.computeMAC(keys.Current)
	return h, nil
}

// CheckAuditHead reports why a head's signature does not verify under keys ("" when it
// does).
func CheckAuditHead(keys *AuditKeys, h *AuditHead) string {
	k, ok := keys.Key(h.KeyID)
	if !ok {
		return fmt.Sprintf("checkpoint of entry %d is signed with unknown audit key %q", h.Seq, h.KeyID)
	}
	if !hmac.Equal([]byte(h.MAC), []byte(h.computeMAC(k))) {
		return fmt.Sprintf("checkpoint of entry %d has a bad signature: it was not written by Offsite", h.Seq)
	}
	return ""
}

// ---------------------------------------------------------------- verification

// ChainBreak names the first entry where the chain is broken.
type ChainBreak struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// checkEntry reports why e's own hash is wrong ("" when it is right): entries up to
// legacyUntil are unkeyed SHA-256, later ones HMACs under a known key.
func checkEntry(keys *AuditKeys, e *AuditEntry, legacyUntil int64) string {
	if e.Seq <= legacyUntil {
		if e.KeyID != "" {
			return fmt.Sprintf("entry is keyed (%q) but lies before the chain's anchor (entry %d): the anchor was moved", e.KeyID, legacyUntil)
		}
		if want := e.ComputeHash(); e.Hash != want {
			return fmt.Sprintf("hash %s does not match the entry's content (recomputed %s): the entry was changed", e.Hash, want)
		}
		return ""
	}
	if e.KeyID == "" {
		return fmt.Sprintf("entry has no key id but follows the chain's anchor (entry %d): an unkeyed hash was written in place of the HMAC", legacyUntil)
	}
	k, ok := keys.Key(e.KeyID)
	if !ok {
		return fmt.Sprintf("entry is sealed with unknown audit key %q", e.KeyID)
	}
	if !hmac.Equal([]byte(e.Hash), []byte(e.ComputeMAC(k))) {
		return fmt.Sprintf("HMAC %s does not match the entry's content under key %q: the entry was changed or its hash recomputed without the key", e.Hash, e.KeyID)
	}
	return ""
}

// ChainVerifier checks a chain entry by entry, so that long logs can be streamed. Set Keys
// (every key the chain may use), LegacyUntil (the chain's anchor: the last unkeyed entry,
// 0 when every entry is keyed) and Head (the latest checkpoint, nil when there is none), then
// call Next for every entry in seq order and Finish at the end.
type ChainVerifier struct {
	Keys        *AuditKeys
	LegacyUntil int64
	Head        *AuditHead

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
	if e.Seq != wantSeq {
		return &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("sequence number %d follows %d: entries missing or reordered", e.Seq, wantSeq-1)}
	}
	if e.PrevHash != wantPrev {
		return &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("prev_hash %s is not the hash %s of entry %d", e.PrevHash, wantPrev, wantSeq-1)}
	}
	if reason := checkEntry(v.Keys, e, v.LegacyUntil); reason != "" {
		return &ChainBreak{Seq: e.Seq, Reason: reason}
	}
	if h := v.Head; h != nil && e.Seq == h.Seq && e.Hash != h.Hash {
		return &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("hash %s is not the hash %s its checkpoint of %s recorded: the chain was rewritten", e.Hash, h.Hash, h.At.UTC().Format(time.RFC3339))}
	}
	return nil
}

// Finish reports a chain that ends before its latest checkpoint: entries were deleted from
// the end. Call it after the last entry.
func (v *ChainVerifier) Finish() *ChainBreak {
	var last int64
	if v.prev != nil {
		last = v.prev.Seq
	}
	if h := v.Head; h != nil && last < h.Seq {
		return &ChainBreak{Seq: last + 1, Reason: fmt.Sprintf("the chain ends at entry %d but a checkpoint recorded entry %d: entries %d to %d were deleted", last, h.Seq, last+1, h.Seq)}
	}
	return nil
}

// CheckHead checks the checkpoint against the keys and the chain's anchor before the chain is
// streamed; a head that fails is a break of its own.
func (v *ChainVerifier) CheckHead() *ChainBreak {
	h := v.Head
	if h == nil {
		return nil
	}
	if reason := CheckAuditHead(v.Keys, h); reason != "" {
		return &ChainBreak{Seq: h.Seq, Reason: reason}
	}
	if h.LegacyUntil != v.LegacyUntil {
		return &ChainBreak{Seq: min(h.LegacyUntil, v.LegacyUntil) + 1, Reason: fmt.Sprintf("the chain's anchor is entry %d in the database but entry %d in its checkpoint: the anchor was moved", v.LegacyUntil, h.LegacyUntil)}
	}
	return nil
}

// VerifyChain checks a whole chain against keys, its anchor and its latest checkpoint (nil
// for none) and returns the first break, or nil.
func VerifyChain(entries []AuditEntry, keys *AuditKeys, legacyUntil int64, head *AuditHead) *ChainBreak {
	v := ChainVerifier{Keys: keys, LegacyUntil: legacyUntil, Head: head}
	if b := v.CheckHead(); b != nil {
		return b
	}
	for i := range entries {
		if b := v.Next(&entries[i]); b != nil {
			return b
		}
	}
	return v.Finish()
}

// AuditReport is the outcome of verifying the stored chain.
type AuditReport struct {
	Checked     int64       `json:"checked"`
	LegacyUntil int64       `json:"legacy_until"`
	Checkpoint  *AuditHead  `json:"checkpoint,omitempty"` // the latest head it was checked against
	FirstBroken *ChainBreak `json:"first_broken,omitempty"`
}
