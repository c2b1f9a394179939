package s3

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/minio/minio-go/v7"

	"github.com/offsite/offsite"
)

// open opens key in bucket for streaming: one HEAD now, then one GET for the whole object
// or per range as it is read, none when nothing is read. A missing object is
// offsite.ErrNotFound.
func (s *Store) open(ctx context.Context, bucket, key string) (io.ReadSeekCloser, offsite.ObjectInfo, error) {
	info, err := s.Client.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if er := minio.ToErrorResponse(err); er.StatusCode == http.StatusNotFound || er.Code == "NoSuchKey" {
			return nil, offsite.ObjectInfo{}, offsite.NotFound("object %s", key)
		}
		return nil, offsite.ObjectInfo{}, fmt.Errorf("s3: stat %s/%s: %w", bucket, key, err)
	}
	// GetObject sends nothing until the first Read or Seek; the ETag match keeps the bytes
	// those of the stat.
	opts := minio.GetObjectOptions{}
	if info.ETag != "" {
		if err := opts.SetMatchETag(info.ETag); err != nil {
			return nil, offsite.ObjectInfo{}, fmt.Errorf("s3: get %s/%s: %w", bucket, key, err)
		}
	}
	obj, err := s.Client.GetObject(ctx, bucket, key, opts)
	if err != nil {
		return nil, offsite.ObjectInfo{}, fmt.Errorf("s3: get %s/%s: %w", bucket, key, err)
	}
	oi := offsite.ObjectInfo{Size: info.Size, ETag: info.ETag, LastModified: info.LastModified}
	return &object{ReadSeeker: obj, closer: obj, size: info.Size}, oi, nil
}

// object is an object opened for reading: an io.ReadSeeker whose size is known from its
// stat, so a seek (http.ServeContent's to the end, to learn the size) costs no request.
type object struct {
	io.ReadSeeker
	closer io.Closer
	size   int64
	off    int64 // the offset the next Read reads from
	at     int64 // the offset ReadSeeker is at
}

func (o *object) Read(p []byte) (int, error) {
	if o.off != o.at {
		if _, err := o.ReadSeeker.Seek(o.off, io.SeekStart); err != nil {
			return 0, err
		}
		o.at = o.off
	}
	n, err := o.ReadSeeker.Read(p)
	o.off += int64(n)
	o.at = o.off
	return n, err
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, fmt.Errorf("s3: seek whence %d", whence)
	}
	if offset < 0 || offset > o.size {
		return 0, fmt.Errorf("s3: seek to %d outside 0..%d", offset, o.size)
	}
	o.off = offset
	return offset, nil
}

func (o *object) Close() error { return o.closer.Close() }
