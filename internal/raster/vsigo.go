package raster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
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

	preMu sync.Mutex
	pre   []*span // ranges fetched ahead of GDAL's reads (preload)
}

// span is a byte range of an object fetched ahead of GDAL's reads; done is
// closed once data is filled in (or err set).
type span struct {
	bucket, key string
	off, end    int64
	done        chan struct{}
	data        []byte // set before done is closed
	err         error
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
		// GDAL reads through a per-handle cache of 64 KB chunks. It must
		// hold the largest block: with 1 MB, reading a 2.5 MB block of an
		// 8-band scene evicted its first chunks before they were used, and
		// every block was fetched again 64 KB at a time (bench-survey: 4,787
		// GETs and 1.0 GB for two 113 MB scenes; with 16 MB, 253 and 0.46 GB).
		vsiErr = godal.RegisterVSIHandler(goVSIPrefix, vsi,
			godal.VSIHandlerStripPrefix(true),
			godal.VSIHandlerBufferSize(vsiBuffer),
			godal.VSIHandlerCacheSize(16<<20))
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
	for si, err := range errs {
		if errors.Is(err, io.EOF) {
			// A range GDAL asks for together with others lies in the file's blocks:
			// the object is shorter than its header says.
			errs[si] = fmt.Errorf("raster: s3://%s/%s ends before byte %d", bucket, key, offs[spans[si].last]+int64(len(bufs[spans[si].last])))
		}
	}
	return lens, errors.Join(errs...)
}

// preloadChunk is the largest GET of a preload, and preloadGap the largest
// hole between two ranges fetched in one GET.
const (
	preloadChunk = 16 << 20
	preloadGap   = 256 << 10
	// vsiBuffer is GDAL's read granularity on the handler: preloaded ranges
	// are widened to it so that GDAL's aligned reads fall inside them.
	vsiBuffer = 64 << 10
)

// preload starts fetching the byte ranges rs ([offset, end) pairs, sorted or
// not) of an object with few large GETs, two at a time,
// in file order. GDAL's reads that fall inside a preloaded range wait for it
// and are served from memory instead of one GET each: the gateway's cost is
// per request, and fetching runs ahead of decoding. The ranges are kept
// until release.
func (c *s3Client) preload(bucket, key string, rs [][2]int64) {
	slices.SortFunc(rs, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var spans []*span
	for _, r := range rs {
		lo, hi := r[0]/vsiBuffer*vsiBuffer, (r[1]+vsiBuffer-1)/vsiBuffer*vsiBuffer
		if n := len(spans); n > 0 {
			if last := spans[n-1]; lo <= last.end+preloadGap && hi-last.off <= preloadChunk {
				last.end = max(last.end, hi)
				continue
			}
		}
		spans = append(spans, &span{bucket: bucket, key: key, off: lo, end: hi, done: make(chan struct{})})
	}
	sem := make(chan struct{}, 2)
	go func() {
		for _, sp := range spans {
			sem <- struct{}{}
			c.start(sp, func() { <-sem })
		}
	}()
	c.preMu.Lock()
	c.pre = append(c.pre, spans...)
	c.preMu.Unlock()
}

// startSpan starts fetching [off, end) of an object, widened to GDAL's read
// granularity, and keeps it for reads until drop.
func (c *s3Client) startSpan(bucket, key string, off, end int64) *span {
	sp := &span{bucket: bucket, key: key, off: off / vsiBuffer * vsiBuffer, end: (end + vsiBuffer - 1) / vsiBuffer * vsiBuffer, done: make(chan struct{})}
	c.preMu.Lock()
	c.pre = append(c.pre, sp)
	c.preMu.Unlock()
	c.start(sp, func() {})
	return sp
}

// start fetches sp in a goroutine and calls then when done.
func (c *s3Client) start(sp *span, then func()) {
	go func() {
		defer then()
		buf := make([]byte, sp.end-sp.off)
		n, err := c.get(sp.bucket, sp.key, buf, sp.off)
		if errors.Is(err, io.EOF) {
			err = nil
		}
		sp.data, sp.err = buf[:n], err
		close(sp.done)
	}()
}

// drop forgets one span.
func (c *s3Client) drop(sp *span) {
	c.preMu.Lock()
	c.pre = slices.DeleteFunc(c.pre, func(x *span) bool { return x == sp })
	c.preMu.Unlock()
}

// release drops the preloaded ranges.
func (c *s3Client) release() {
	c.preMu.Lock()
	c.pre = nil
	c.preMu.Unlock()
}

// fromPreloaded copies [off, off+len(buf)) from a preloaded range that
// holds all of it, waiting for its fetch; ok is false when none does (or
// its fetch failed), and the caller fetches the bytes itself.
func (c *s3Client) fromPreloaded(bucket, key string, buf []byte, off int64) (int, bool) {
	c.preMu.Lock()
	var hit *span
	for _, sp := range c.pre {
		if sp.key == key && sp.bucket == bucket && off >= sp.off && off+int64(len(buf)) <= sp.end {
			hit = sp
			break
		}
	}
	c.preMu.Unlock()
	if hit == nil {
		return 0, false
	}
	select {
	case <-hit.done:
	case <-c.ctx.Done():
		return 0, false
	}
	if hit.err != nil || off+int64(len(buf)) > hit.off+int64(len(hit.data)) {
		return 0, false
	}
	return copy(buf, hit.data[off-hit.off:]), true
}

// readAt fetches len(buf) bytes at off with one ranged GET, or copies them
// from a preloaded range.
func (c *s3Client) readAt(bucket, key string, buf []byte, off int64) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	if n, ok := c.fromPreloaded(bucket, key, buf, off); ok {
		return n, nil
	}
	return c.get(bucket, key, buf, off)
}

// get fetches len(buf) bytes at off with one ranged GET.
func (c *s3Client) get(bucket, key string, buf []byte, off int64) (int, error) {
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
	if minio.ToErrorResponse(err).StatusCode == http.StatusRequestedRangeNotSatisfiable {
		// Past the end: the object is empty or shorter than its header says,
		// which no retry fixes (so no failure is counted).
		return 0, fmt.Errorf("raster: s3://%s/%s ends before byte %d", bucket, key, off)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		c.failures.Add(1)
		return n, fmt.Errorf("raster: read s3://%s/%s at %d: %w", bucket, key, off, err)
	}
	return n, err
}

// preloadBlocks starts fetching the stored blocks of bands (0-based) that
// window win of s touches, when s is read through the Go reader; release
// drops them. Other scenes, and files whose block layout GDAL does not
// report, are read as GDAL asks.
func (a *access) preloadBlocks(s *scene, src Source, m *meta, win window, bands []int) {
	if a.client == nil {
		return
	}
	in, ok := win.intersect(window{0, 0, m.width, m.height})
	if !ok {
		return
	}
	all := s.ds.Bands()
	if s.ds.Metadata("INTERLEAVE", godal.Domain("IMAGE_STRUCTURE")) == "PIXEL" {
		bands = []int{0}
	}
	var rs [][2]int64
	for row := in.Y / m.blockH; row <= (in.Y+in.H-1)/m.blockH; row++ {
		for col := in.X / m.blockW; col <= (in.X+in.W-1)/m.blockW; col++ {
			suffix := strconv.Itoa(col) + "_" + strconv.Itoa(row)
			for _, b := range bands {
				off, err1 := strconv.ParseInt(all[b].Metadata("BLOCK_OFFSET_"+suffix, godal.Domain("TIFF")), 10, 64)
				n, err2 := strconv.ParseInt(all[b].Metadata("BLOCK_SIZE_"+suffix, godal.Domain("TIFF")), 10, 64)
				if err1 != nil || err2 != nil {
					return
				}
				if n > 0 {
					rs = append(rs, [2]int64{off, off + n})
				}
			}
		}
	}
	a.client.preload(src.Bucket, src.Key, rs)
}
