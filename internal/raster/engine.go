package raster

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/airbusgeo/godal"
)

// block identifies a scene block by its column and row.
type block struct{ col, row int }

// engine reads the blocks parcels need and assembles the parcels.
type engine struct {
	m    *meta
	jobs []job
	opts ClipOptions

	order   []block         // blocks to read, row-major
	users   map[block][]int // job indices touching each block
	mu      sync.Mutex      // guards bufs and pending
	bufs    [][]byte        // per job: window pixels, allocated on first block
	pending []int           // per job: blocks still to arrive
}

// newEngine indexes which blocks each job needs.
func newEngine(m *meta, jobs []job, opts ClipOptions) *engine {
	e := &engine{m: m, jobs: jobs, opts: opts, users: map[block][]int{},
		bufs: make([][]byte, len(jobs)), pending: make([]int, len(jobs))}
	scene := window{0, 0, m.width, m.height}
	for i, j := range jobs {
		in, _ := j.win.intersect(scene)
		for row := in.Y / m.blockH; row <= (in.Y+in.H-1)/m.blockH; row++ {
			for col := in.X / m.blockW; col <= (in.X+in.W-1)/m.blockW; col++ {
				b := block{col, row}
				if _, ok := e.users[b]; !ok {
					e.order = append(e.order, b)
				}
				e.users[b] = append(e.users[b], i)
				e.pending[i]++
			}
		}
	}
	sort.Slice(e.order, func(a, b int) bool {
		if e.order[a].row != e.order[b].row {
			return e.order[a].row < e.order[b].row
		}
		return e.order[a].col < e.order[b].col
	})
	return e
}

// runStats are the engine's counters.
type runStats struct {
	Clipped    int
	BlocksRead int
	BytesRead  int64
	BlockBytes int64
}

// run reads every needed block with one dataset handle per reader (first
// is already open and is closed by run), finishes parcels as soon as their
// last block arrives, and emits them from the calling goroutine.
func (e *engine) run(ctx context.Context, a *access, src Source, first *scene, emit func(ClipOutput) error) (st runStats, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// Two readers per core, so that one fetches while the other decodes;
	// one finisher per core.
	workers := runtime.GOMAXPROCS(0)
	readersN := max(1, min(2*workers, len(e.order)))
	finishersN := workers
	blocks := make(chan runBlock)
	done := make(chan int, len(e.jobs))
	outs := make(chan ClipOutput, 2*workers)

	var readErr, finishErr error
	var errMu sync.Mutex
	fail := func(p *error, err error) {
		errMu.Lock()
		if *p == nil {
			*p = err
		}
		errMu.Unlock()
		cancel(err)
	}

	// Feed blocks in row-major order. From object storage through the Go
	// reader, blocks stored next to each other are fetched in one GET, up to
	// fetchBudget bytes ahead of the readers: the gateway's cost is per
	// request, and fetching runs ahead of decoding.
	runs := e.fetchRuns(a, first)
	tokens := make(chan struct{}, fetchBudget/fetchToken)
	started := make(chan *fetchRun, len(runs))
	go func() {
		defer close(started)
		for _, r := range runs {
			if r.end > r.off {
				for range r.tokens() {
					select {
					case tokens <- struct{}{}:
					case <-ctx.Done():
						return
					}
				}
				r.sp = a.client.startSpan(src.Bucket, src.Key, r.off, r.end)
			}
			r.left.Store(int32(len(r.blocks)))
			started <- r
		}
	}()
	go func() {
		defer close(blocks)
		for r := range started {
			for _, b := range r.blocks {
				select {
				case blocks <- runBlock{b, r}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	// Readers: decode blocks and scatter them into the parcels.
	var readers sync.WaitGroup
	var statsMu sync.Mutex
	for w := 0; w < readersN; w++ {
		s := first
		if w > 0 {
			var err error
			if s, err = a.openScene(src); err != nil {
				fail(&readErr, err)
				break
			}
		} else {
			first = nil
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer func() {
				if cerr := s.close(); cerr != nil {
					fail(&readErr, cerr)
				}
			}()
			buf := make([]byte, e.m.bands*e.m.blockW*e.m.blockH*e.m.pt.size)
			for rb := range blocks {
				if ctx.Err() != nil {
					return
				}
				b := rb.b
				n, err := e.readBlock(ctx, a, s, b, buf)
				rb.r.read(a, tokens)
				if err != nil {
					fail(&readErr, err)
					return
				}
				stored := e.storedSize(s, b)
				statsMu.Lock()
				st.BlocksRead++
				st.BytesRead += n
				st.BlockBytes += stored
				statsMu.Unlock()
				e.scatter(b, buf, done)
			}
		}()
	}
	if first != nil { // a reader failed to open before taking first
		if cerr := first.close(); cerr != nil {
			fail(&readErr, cerr)
		}
	}
	go func() {
		readers.Wait()
		close(done)
	}()

	// Finishers: mask and encode complete parcels.
	var finishers sync.WaitGroup
	for w := 0; w < finishersN; w++ {
		finishers.Add(1)
		go func() {
			defer finishers.Done()
			for i := range done {
				if ctx.Err() != nil {
					continue // drain
				}
				e.mu.Lock()
				pix := e.bufs[i]
				e.bufs[i] = nil
				e.mu.Unlock()
				out, err := finishParcel(ctx, e.m, e.jobs[i], pix, e.opts)
				if err != nil {
					fail(&finishErr, err)
					continue
				}
				select {
				case outs <- out:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() {
		finishers.Wait()
		close(outs)
	}()

	var emitErr error
	for out := range outs {
		if emitErr != nil || ctx.Err() != nil {
			continue // drain
		}
		if err := emit(out); err != nil {
			emitErr = err
			cancel(err)
			continue
		}
		st.Clipped++
	}
	switch {
	case readErr != nil:
		return st, readErr
	case finishErr != nil:
		return st, finishErr
	case emitErr != nil:
		return st, emitErr
	case context.Cause(ctx) != nil && !errors.Is(context.Cause(ctx), context.Canceled):
		return st, context.Cause(ctx)
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	return st, nil
}

// fetchBudget bounds the bytes fetched ahead of the readers, in tokens of
// fetchToken bytes; fetchRunMax bounds one GET.
const (
	fetchBudget = 32 << 20
	fetchToken  = 1 << 20
	fetchRunMax = 8 << 20
)

// fetchRun is a run of blocks read one after another and stored next to
// each other, fetched in one GET ([off, end) of the file) when end > off.
type fetchRun struct {
	blocks   []block
	off, end int64
	sp       *span
	left     atomic.Int32 // blocks not yet read
}

// runBlock is a block to read and its run.
type runBlock struct {
	b block
	r *fetchRun
}

// tokens is the run's share of fetchBudget.
func (r *fetchRun) tokens() int { return int((r.end - r.off + fetchToken - 1) / fetchToken) }

// read records one block of r read; after the last, the fetched bytes go and
// their tokens return.
func (r *fetchRun) read(a *access, tokens chan struct{}) {
	if r.left.Add(-1) != 0 || r.sp == nil {
		return
	}
	a.client.drop(r.sp)
	r.sp = nil // let the bytes go
	for range r.tokens() {
		<-tokens
	}
}

// fetchRuns groups the blocks to read (in order) into runs stored next to
// each other, at most fetchRunMax bytes each, when s is read through the Go
// reader and its blocks hold all bands; otherwise every block is a run of
// its own that GDAL fetches as it reads.
func (e *engine) fetchRuns(a *access, s *scene) []*fetchRun {
	single := func() []*fetchRun {
		runs := make([]*fetchRun, len(e.order))
		for i, b := range e.order {
			runs[i] = &fetchRun{blocks: []block{b}}
		}
		return runs
	}
	if a.client == nil || e.m.bands > 1 && s.ds.Metadata("INTERLEAVE", godal.Domain("IMAGE_STRUCTURE")) != "PIXEL" {
		return single()
	}
	band := s.ds.Bands()[0]
	var runs []*fetchRun
	for _, b := range e.order {
		suffix := strconv.Itoa(b.col) + "_" + strconv.Itoa(b.row)
		off, err1 := strconv.ParseInt(band.Metadata("BLOCK_OFFSET_"+suffix, godal.Domain("TIFF")), 10, 64)
		n, err2 := strconv.ParseInt(band.Metadata("BLOCK_SIZE_"+suffix, godal.Domain("TIFF")), 10, 64)
		if err1 != nil || err2 != nil {
			return single()
		}
		if k := len(runs); k > 0 && n > 0 {
			// COG tiles sit between a 4-byte size leader and a 4-byte trailer.
			if last := runs[k-1]; off >= last.end && off-last.end <= 16 && last.blocks[0].row == b.row && off+n-last.off <= fetchRunMax {
				last.blocks = append(last.blocks, b)
				last.end = off + n
				continue
			}
		}
		r := &fetchRun{blocks: []block{b}}
		if n > 0 {
			r.off, r.end = off, off+n
		}
		runs = append(runs, r)
	}
	return runs
}

// blockWindow returns the pixels of block b (smaller at the scene edges).
func (e *engine) blockWindow(b block) window {
	x, y := b.col*e.m.blockW, b.row*e.m.blockH
	return window{x, y, min(e.m.blockW, e.m.width-x), min(e.m.blockH, e.m.height-y)}
}

// readBlock decodes block b, all bands, band-sequential into buf.
func (e *engine) readBlock(ctx context.Context, a *access, s *scene, b block, buf []byte) (int64, error) {
	w := e.blockWindow(b)
	n := e.m.bands * w.W * w.H * e.m.pt.size
	if err := s.ds.Read(w.X, w.Y, e.m.pt.view(buf[:n]), w.W, w.H, godal.BandInterleaved(),
		godal.ConfigOption(s.cfg...), s.log); err != nil {
		return 0, a.readError(ctx, fmt.Sprintf("read %s block %d,%d", s.name, b.col, b.row), err)
	}
	return int64(n), nil
}

// storedSize returns the bytes block b occupies in a TIFF (all bands), or
// 0 when the driver does not say.
func (e *engine) storedSize(s *scene, b block) int64 {
	bands := s.ds.Bands()
	if s.ds.Metadata("INTERLEAVE", godal.Domain("IMAGE_STRUCTURE")) == "PIXEL" {
		bands = bands[:1]
	}
	var total int64
	key := "BLOCK_SIZE_" + strconv.Itoa(b.col) + "_" + strconv.Itoa(b.row)
	for _, band := range bands {
		n, err := strconv.ParseInt(band.Metadata(key, godal.Domain("TIFF")), 10, 64)
		if err != nil {
			return 0
		}
		total += n
	}
	return total
}

// scatter copies block b's pixels into every parcel that needs them and
// sends parcels whose last block this was to done.
func (e *engine) scatter(b block, buf []byte, done chan<- int) {
	bw := e.blockWindow(b)
	es := e.m.pt.size
	bn := bw.W * bw.H
	for _, i := range e.users[b] {
		j := e.jobs[i]
		e.mu.Lock()
		dst := e.bufs[i]
		if dst == nil {
			dst = make([]byte, e.m.bands*j.win.W*j.win.H*es)
			fill(dst, e.m.pt.encode(fillValue(e.m)))
			e.bufs[i] = dst
		}
		e.mu.Unlock()
		in, _ := j.win.intersect(bw)
		wn := j.win.W * j.win.H
		for band := 0; band < e.m.bands; band++ {
			for y := in.Y; y < in.Y+in.H; y++ {
				so := (band*bn + (y-bw.Y)*bw.W + (in.X - bw.X)) * es
				do := (band*wn + (y-j.win.Y)*j.win.W + (in.X - j.win.X)) * es
				copy(dst[do:do+in.W*es], buf[so:so+in.W*es])
			}
		}
		e.mu.Lock()
		e.pending[i]--
		last := e.pending[i] == 0
		e.mu.Unlock()
		if last {
			done <- i
		}
	}
}
