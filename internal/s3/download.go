package s3

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// PresignCaptureDownload returns a URL through which a client may GET a capture's object
// during ttl (the data asset of its STAC Item).
func (s *Store) PresignCaptureDownload(ctx context.Context, key string, ttl time.Duration) (*url.URL, error) {
	u, err := s.Client.PresignedGetObject(ctx, s.Captures, key, ttl, nil)
	if err != nil {
		return nil, fmt.Errorf("s3: presign get %s/%s: %w", s.Captures, key, err)
	}
	return u, nil
}
