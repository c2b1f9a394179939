// Package verify re-hashes stored objects, evidence artifacts, capture sources and their
// COGs, and self-check proofs, and reports any whose bytes no longer match the SHA-256
// recorded for them.
package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/offsite/offsite"
)

// Artifact is one stored object and the digest recorded for it.
type Artifact struct {
	// Bucket is where the object is; "" is the evidence bucket, whose keys are derived from
	// the digest (so a key without its digest was altered).
	Bucket string `json:"bucket,omitempty"`
	Key    string `json:"key"`
	// SHA256 is the recorded digest; "" when none was recorded (reported as "unrecorded").
	SHA256 string `json:"sha256"`
	// Owner says what the artifact belongs to, e.g. "capture 12 parcel SIP-001 cog".
	Owner string `json:"owner"`
}

// Source pages through recorded artifacts: after is the cursor returned with the previous
// page ("" for the first); an empty next cursor ends the listing.
type Source interface {
	ListArtifacts(ctx context.Context, after string, limit int) (arts []Artifact, next string, err error)
}

// Store hashes a stored object, streaming it; bucket "" is the evidence bucket. A missing
// object is offsite.ErrNotFound.
type Store interface {
	HashObject(ctx context.Context, bucket, key string) (sha256 string, err error)
}

// Problem is an artifact that failed verification.
type Problem struct {
	Artifact
	Actual string `json:"actual_sha256,omitempty"` // digest of the stored bytes; "" when missing
	// Issue is "missing", "mismatch", "key" (an evidence key without its digest) or
	// "unrecorded" (no digest was recorded to check against).
	Issue string `json:"issue"`
}

// Report is the outcome of a verification run.
type Report struct {
	Checked  int       `json:"checked"`
	OK       int       `json:"ok"`
	Problems []Problem `json:"problems"`
}

// Run re-hashes every artifact src lists and compares it with its recorded digest (and an
// evidence artifact's key).
func Run(ctx context.Context, src Source, store Store) (*Report, error) {
	rep := &Report{Problems: []Problem{}}
	after := ""
	for {
		arts, next, err := src.ListArtifacts(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		for _, a := range arts {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			rep.Checked++
			p, err := check(ctx, store, a)
			if err != nil {
				return nil, fmt.Errorf("verify %s: %w", a.Key, err)
			}
			if p != nil {
				rep.Problems = append(rep.Problems, *p)
				continue
			}
			rep.OK++
		}
		if next == "" {
			return rep, nil
		}
		after = next
	}
}

func check(ctx context.Context, store Store, a Artifact) (*Problem, error) {
	// An evidence key is derived from the digest: a row whose key does not carry its own
	// digest was altered, whatever the bytes say.
	if a.Bucket == "" && !strings.Contains(a.Key, a.SHA256) {
		return &Problem{Artifact: a, Issue: "key"}, nil
	}
	if a.SHA256 == "" {
		return &Problem{Artifact: a, Issue: "unrecorded"}, nil
	}
	got, err := store.HashObject(ctx, a.Bucket, a.Key)
	if errors.Is(err, offsite.ErrNotFound) {
		return &Problem{Artifact: a, Issue: "missing"}, nil
	} else if err != nil {
		return nil, err
	}
	if got != a.SHA256 {
		return &Problem{Artifact: a, Actual: got, Issue: "mismatch"}, nil
	}
	return nil, nil
}

// Join lists the artifacts of several sources one after the other. Its cursor is
// "<source index>:<that source's cursor>".
func Join(srcs ...Source) Source { return joined(srcs) }

type joined []Source

func (j joined) ListArtifacts(ctx context.Context, after string, limit int) ([]Artifact, string, error) {
	i, cursor := 0, ""
	if after != "" {
		n, c, ok := strings.Cut(after, ":")
		if _, err := fmt.Sscan(n, &i); !ok || err != nil || i < 0 || i >= len(j) {
			return nil, "", offsite.Invalid("after", "cursor %q is not source:cursor", after)
		}
		cursor = c
	}
	for ; i < len(j); i, cursor = i+1, "" {
		arts, next, err := j[i].ListArtifacts(ctx, cursor, limit)
		if err != nil {
			return nil, "", err
		}
		switch {
		case next != "":
			return arts, fmt.Sprintf("%d:%s", i, next), nil
		case i+1 < len(j):
			// This source is done; the next call starts the next one.
			return arts, fmt.Sprintf("%d:", i+1), nil
		default:
			return arts, "", nil
		}
	}
	return nil, "", nil
}
