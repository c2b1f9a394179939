package offsite

import (
	"errors"
	"fmt"
	"strings"
)

// CheckObjectKey rejects object keys that are empty, too long, absolute, contain ".." segments,
// backslashes or control characters, or look like a GDAL virtual path or URL.
func CheckObjectKey(key string) error {
	switch {
	case key == "":
		return errors.New("is empty")
	case len(key) > 1024:
		return errors.New("is longer than 1024 bytes")
	case strings.HasPrefix(key, "/"):
		return errors.New("must not start with '/'")
	case strings.Contains(key, "\\"):
		return errors.New("must not contain '\\'")
	case strings.Contains(key, "://"):
		return errors.New("must be a key in the captures bucket, not a URL")
	case strings.Contains(strings.ToLower(key), "/vsi") || strings.HasPrefix(strings.ToLower(key), "vsi"):
		return errors.New("must not name a GDAL virtual file system")
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." || seg == "." || seg == "" {
			return fmt.Errorf("has an empty, '.' or '..' segment")
		}
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return errors.New("contains a control character")
		}
	}
	return nil
}
