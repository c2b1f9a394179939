package process

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sink stores artifacts. Local mode writes them to a directory (DirSink); the workers store
// them in the evidence bucket under keys derived from their SHA-256.
type Sink interface {
	// Put stores data under name (a slash-separated relative path chosen by Run) and
	// returns where it went (recorded in the manifest as the artifact's path) and the hex
	// SHA-256 of data.
	Put(ctx context.Context, name string, data []byte, mediaType string) (ref string, sha256 string, err error)
}

// DirSink writes artifacts to files under Dir; an artifact's ref is its name.
type DirSink struct {
	Dir string
}

var _ Sink = DirSink{}

// Put writes Dir/name through a temporary file and a rename, so that a reader never sees a
// partial file.
func (d DirSink) Put(ctx context.Context, name string, data []byte, mediaType string) (string, string, error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	if err := checkArtifactName(name); err != nil {
		return "", "", fmt.Errorf("process: artifact %q: %v", name, err)
	}
	path := filepath.Join(d.Dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", "", fmt.Errorf("process: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return "", "", fmt.Errorf("process: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return "", "", fmt.Errorf("process: write %s: %w", path, werr)
	}
	sum := sha256.Sum256(data)
	return name, hex.EncodeToString(sum[:]), nil
}

// checkArtifactName accepts relative slash-separated names without empty, dot or dot-dot
// segments, backslashes or NULs.
func checkArtifactName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") {
		return fmt.Errorf("not a relative path")
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("has an empty, . or .. segment")
		}
	}
	return nil
}
