package worker

import (
	"container/list"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/internal/s3"
)

// SceneCache keeps the local copies of captures that ingest fetched, so that the tasks of the
// same worker process that read the capture next (clipping on arrival, the pipeline run on the
// pair) read the copy instead of fetching the same windows from object storage again. Files
// are named by the SHA-256 of their bytes, which the database records (the capture's checksum
// when its object is used as it is, the digest in its cog/ key otherwise): no user input
// names a path, and a file is only used for the digest it was stored under. The least
// recently used copies are removed past MaxBytes. A nil *SceneCache caches nothing.
type SceneCache struct {
	dir      string
	maxBytes int64

	mu    sync.Mutex
	used  int64
	lru   *list.List               // of *cacheEntry, most recent first
	byKey map[string]*list.Element // by hex digest
}

type cacheEntry struct {
	digest string
	size   int64
}

// NewSceneCache returns a cache in dir (created; a directory of the process's own, such as
// a subdirectory of its TempDir) holding at most maxBytes; maxBytes <= 0 gives nil, no cache.
func NewSceneCache(dir string, maxBytes int64) (*SceneCache, error) {
	if maxBytes <= 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("worker: scene cache: %w", err)
	}
	return &SceneCache{dir: dir, maxBytes: maxBytes, lru: list.New(), byKey: map[string]*list.Element{}}, nil
}

// Dir is the cache's directory (for raster.Env.LocalDirs); "" for a nil cache.
func (c *SceneCache) Dir() string {
	if c == nil {
		return ""
	}
	return c.dir
}

// validDigest reports whether d is a lower-case hex SHA-256.
func validDigest(d string) bool {
	if len(d) != 64 || strings.ToLower(d) != d {
		return false
	}
	_, err := hex.DecodeString(d)
	return err == nil
}

func (c *SceneCache) path(digest string) string { return filepath.Join(c.dir, digest+".tif") }

// Add moves the file at path (on the same file system) into the cache under digest, the
// SHA-256 of its bytes; a file too large for the cache, or a bad digest, is removed instead.
func (c *SceneCache) Add(digest, path string) {
	if c == nil {
		return
	}
	st, err := os.Stat(path)
	if err != nil || !validDigest(digest) || st.Size() > c.maxBytes {
		os.Remove(path)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[digest]; ok {
		c.lru.MoveToFront(el)
		os.Remove(path)
		return
	}
	if err := os.Rename(path, c.path(digest)); err != nil {
		os.Remove(path)
		return
	}
	c.byKey[digest] = c.lru.PushFront(&cacheEntry{digest: digest, size: st.Size()})
	c.used += st.Size()
	// An open file removed here stays readable by whoever opened it.
	for c.used > c.maxBytes {
		el := c.lru.Back()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.byKey, e.digest)
		c.used -= e.size
		os.Remove(c.path(e.digest))
	}
}

// Lookup returns the path of the copy with digest, or "".
func (c *SceneCache) Lookup(digest string) string {
	if c == nil || !validDigest(digest) {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[digest]
	if !ok {
		return ""
	}
	c.lru.MoveToFront(el)
	return c.path(digest)
}

// readableDigest is the SHA-256 of the object capture c's pixels are read from (COGKey): the
// digest in a cog/<sha256>.tif key, or the capture's checksum when its object is used as it
// is. "" when neither is known.
func readableDigest(c *offsite.Capture) string {
	if c.COGKey == c.Key {
		return c.Checksum
	}
	if d, ok := strings.CutPrefix(c.COGKey, s3.COGPrefix); ok {
		if d, ok := strings.CutSuffix(d, ".tif"); ok && validDigest(d) {
			return d
		}
	}
	return ""
}

// sceneSource is where capture c's pixels are read from: this process's copy when it has
// one, its COG object otherwise.
func (d *Deps) sceneSource(c *offsite.Capture) raster.Source {
	if p := d.Scenes.Lookup(readableDigest(c)); p != "" {
		return raster.FileSource(p)
	}
	return raster.S3Source(c.Bucket, c.COGKey)
}
