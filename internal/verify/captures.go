package verify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// IngestedCapture is a capture whose source was hashed at ingest.
type IngestedCapture struct {
	ID       int64
	Bucket   string
	Key      string // the source object
	Checksum string // SHA-256 of the source recorded at ingest
	COGKey   string // the COG clipping reads: Key itself, or cog/<its SHA-256>.tif
}

// CaptureLister pages through ingested captures in id order, after the id given.
type CaptureLister interface {
	ListIngestedCaptures(ctx context.Context, afterID int64, limit int) ([]IngestedCapture, error)
}

// Captures lists the source object of every ingested capture with the checksum recorded for
// it, and the COG made of it (when it is not the source) with the digest its key records. A
// COG named after its source's digest (as ingest named them before) has no digest of its own
// recorded: it is listed with none and reported "unrecorded".
func Captures(l CaptureLister) Source { return captureSource{l} }

type captureSource struct{ l CaptureLister }

func (c captureSource) ListArtifacts(ctx context.Context, after string, limit int) ([]Artifact, string, error) {
	var afterID int64
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("verify: capture cursor %q is not an id", after)
		}
		afterID = n
	}
	cs, err := c.l.ListIngestedCaptures(ctx, afterID, limit)
	if err != nil {
		return nil, "", err
	}
	var arts []Artifact
	for _, x := range cs {
		owner := fmt.Sprintf("capture %d", x.ID)
		arts = append(arts, Artifact{Bucket: x.Bucket, Key: x.Key, SHA256: x.Checksum, Owner: owner + " source"})
		if x.COGKey != "" && x.COGKey != x.Key {
			arts = append(arts, Artifact{Bucket: x.Bucket, Key: x.COGKey, SHA256: cogDigest(x.COGKey, x.Checksum), Owner: owner + " cog"})
		}
	}
	next := ""
	if len(cs) == limit && limit > 0 {
		next = strconv.FormatInt(cs[len(cs)-1].ID, 10)
	}
	return arts, next, nil
}

// cogDigest is the digest a COG's key records: cog/<sha256>.tif. "" when the key records
// none, or only its source's (source).
func cogDigest(key, source string) string {
	d, ok := strings.CutPrefix(key, "cog/")
	if !ok {
		return ""
	}
	d, ok = strings.CutSuffix(d, ".tif")
	if !ok || len(d) != 64 || d == source || strings.Trim(d, "0123456789abcdef") != "" {
		return ""
	}
	return d
}
