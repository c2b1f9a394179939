package raster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/airbusgeo/godal"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// goVSIPrefix is where the Go S3 reader is registered with GDAL. Names are
// /vsioffsite/<client id>/<bucket>/<key>; they are built here from checked
// sources only, never taken from input.
const goVSIPrefix = "/vsioffsite/"

// s3Client is one minio-go client registered with the Go VSI handler for
// the duration of a call, with a count of the bytes it fetched.
type s3Client struct {
	ctx      context.Context // the call's context: reads stop when it ends
	mc       *minio.Client
	fetched  atomic.Int64
	gets     atomic.Int64
	failures atomic.Int64 // failed fetches: a read error is then not the scene's fault
}

// goVSI dispatches GDAL reads under goVSIPrefix to registered clients.
type goVSI struct {
	mu      sync.Mutex
	next    int
	clients map[string]*s3Client
}

var (
	vsiOnce sync.Once
	vsiErr  error
	vsi     = &goVSI{clients: map[string]*s3Client{}}
)

// registerGoVSI installs the Go VSI handler with GDAL (once per process).
func registerGoVSI() error {
	vsiOnce.Do(func() {
		vsiErr = godal.RegisterVSIHandler(goVSIPrefix, vsi,
			godal.VSIHandlerStripPrefix(true),
			godal.VSIHandlerBufferSize(64<<10),
			godal.VSIHandlerCacheSize(1<<20))
		if vsiErr != nil {
			vsiErr = fmt.Errorf("raster: register go vsi handler: %w", vsiErr)
		}
	})
	return vsiErr
}

// newMinio returns a minio-go client for cfg.
func newMinio(cfg S3Config) (*minio.Client, error) {
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	mc, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseTLS, Region: region, MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("raster: s3 client: %w", err)
	}
	return mc, nil
}

// add registers a client for cfg and returns its id.
func (v *goVSI) add(ctx context.Context, cfg S3Config) (string, *s3Client, error) {
	mc, err := newMinio(cfg)
	if err != nil {
		return "", nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.next++
	id := strconv.Itoa(v.next)
	c := &s3Client{ctx: ctx, mc: mc}
	v.clients[id] = c
	return id, c, nil
}

// remove unregisters a client.
func (v *goVSI) remove(id string) {
	v.mu.Lock()
	delete(v.clients, id)
	v.mu.Unlock()
}

// resolve splits "<id>/<bucket>/<key>" and finds the client.
func (v *goVSI) resolve(name string) (*s3Client, string, string, error) {
	parts := strings.SplitN(name, "/", 3)
	if len(parts) != 3 {
		return nil, "", "", fmt.Errorf("raster: bad go vsi name %q", name)
	}
	v.mu.Lock()
	c := v.clients[parts[0]]
	v.mu.Unlock()
	if c == nil {
		return nil, "", "", errors.New("raster: go vsi client is closed")
	}
	return c, parts[1], parts[2], nil
}

// Size implements godal.KeySizerReaderAt.
func (v *goVSI) Size(name string) (int64, error) {
	c, bucket, key, err := v.resolve(name)
	if err != nil {
		return 0, err
	}
	info, err := c.mc.StatObject(c.ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("raster: stat s3://%s/%s: %w", bucket, key, err)
	}
	return info.Size, nil
}

// ReadAt implements godal.KeySizerReaderAt with one ranged GET.
func (v *goVSI) ReadAt(name string, buf []byte, off int64) (int, error) {
	c, bucket, key, err := v.resolve(name)
	if err != nil {
		return 0, err
	}
	return c.readAt(bucket, key, buf, off)
}

// ReadAtMulti implements godal.KeyMultiReader: adjacent ranges are merged
// into one GET and the GETs run concurrently.
func (v *goVSI) ReadAtMulti(name string, bufs [][]byte, offs []int64) ([]int, error) {
	c, bucket, key, err := v.resolve(name)
	if err != nil {
		return nil, err
	}
	lens := make([]int, len(bufs))
	type span struct{ first, last int }
	var spans []span
	for i := range bufs {
		if n := len(spans); n > 0 {
			l := spans[n-1].last
			if offs[l]+int64(len(bufs[l])) == offs[i] {
				spans[n-1].last = i
				continue
			}
		}
		spans = append(spans, span{i, i})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(spans))
	for si, sp := range spans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sp.first == sp.last {
				lens[sp.first], errs[si] = c.readAt(bucket, key, bufs[sp.first], offs[sp.first])
				return
			}
			total := 0
			for i := sp.first; i <= sp.last; i++ {
				total += len(bufs[i])
			}
			tmp := make([]byte, total)
			n, err := c.readAt(bucket, key, tmp, offs[sp.first])
			pos := 0
			for i := sp.first; i <= sp.last; i++ {
				lens[i] = copy(bufs[i], tmp[pos:min(n, pos+len(bufs[i]))])
				pos += len(bufs[i])
			}
			errs[si] = err
		}()
	}
	wg.Wait()
	return lens, errors.Join(errs...)
}

// readAt fetches len(buf) bytes at off with one ranged GET.
func (c *s3Client) readAt(bucket, key string, buf []byte, off int64) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, off+int64(len(buf))-1); err != nil {
		return 0, err
	}
	obj, err := c.mc.GetObject(c.ctx, bucket, key, opts)
	if err != nil {
		c.failures.Add(1)
		return 0, fmt.Errorf("raster: get s3://%s/%s: %w", bucket, key, err)
	}
	n, err := io.ReadFull(obj, buf)
	c.fetched.Add(int64(n))
	c.gets.Add(1)
	if cerr := obj.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		c.failures.Add(1)
		return n, fmt.Errorf("raster: read s3://%s/%s at %d: %w", bucket, key, off, err)
	}
	return n, err
}
