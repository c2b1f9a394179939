package hj212

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/offsite/offsite/internal/metrics"
)

// Record is what the receiver stores of one frame.
type Record struct {
	Frame      *Frame
	SHA256     string // hex SHA-256 of Frame.Raw
	RemoteAddr string
	ReceivedAt time.Time
	// Quarantine says why a valid frame is kept apart from the analysed data ("unknown MN",
	// "wrong PW"); empty when its MN and PW are known. Values of a quarantined frame are not
	// stored until an administrator releases it.
	Quarantine string
}

// NewRecord returns the record of frame f received from addr at t.
func NewRecord(f *Frame, addr string, t time.Time) *Record {
	return &Record{Frame: f, SHA256: Hash(f.Raw), RemoteAddr: addr, ReceivedAt: t}
}

// Store writes records durably: every frame verbatim, and the values of valid data uploads
// not in quarantine (sub-packets once their message is complete). Writing the same frame or
// value again changes nothing. When WriteBatch returns nil, all records are durable.
type Store interface {
	WriteBatch(ctx context.Context, recs []*Record) error
}

// BatchConfig tunes a Batcher.
type BatchConfig struct {
	// Workers is the number of transactions in flight at once. Default 4.
	Workers int
	// MaxBatch is the largest number of records per transaction. Default 1000.
	MaxBatch int
	// Queue is the number of records that may wait for a worker. Default 20000.
	Queue int
	// MinBatch and Linger make batches grow under load: a worker that finds fewer than
	// MinBatch records queued while another transaction is in flight waits up to Linger, from
	// taking its first record, for more. A lone frame on an idle receiver (no transaction in
	// flight) is written at once. Defaults 64 and 4 ms; Linger < 0 turns the wait off.
	MinBatch int
	Linger   time.Duration
}

// Batcher gathers the records of all connections into few transactions: each worker takes
// whatever has queued while the previous transaction ran, so that batches grow with load and
// an idle receiver writes a lone frame at once.
type Batcher struct {
	store   Store
	cfg     BatchConfig
	in      chan *job
	metrics *metrics.Receiver
	done    chan struct{}

	inflight atomic.Int32 // transactions running
}

type job struct {
	rec  *Record
	done chan error // nil: nobody waits
}

// ErrQueueFull is returned when the batcher's queue is full.
var ErrQueueFull = errors.New("hj212: store queue full")

// NewBatcher returns a Batcher writing to store; Run starts it.
func NewBatcher(store Store, cfg BatchConfig, m *metrics.Receiver) *Batcher {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1000
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 20000
	}
	if cfg.MinBatch <= 0 {
		cfg.MinBatch = 64
	}
	if cfg.Linger == 0 {
		cfg.Linger = 4 * time.Millisecond
	}
	return &Batcher{store: store, cfg: cfg, in: make(chan *job, cfg.Queue), metrics: m, done: make(chan struct{})}
}

// Run writes batches until ctx is done.
func (b *Batcher) Run(ctx context.Context) {
	finished := make(chan struct{}, b.cfg.Workers)
	for range b.cfg.Workers {
		go func() {
			b.work(ctx)
			finished <- struct{}{}
		}()
	}
	for range b.cfg.Workers {
		<-finished
	}
	close(b.done)
}

func (b *Batcher) work(ctx context.Context) {
	batch := make([]*job, 0, b.cfg.MaxBatch)
	recs := make([]*Record, 0, b.cfg.MaxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-b.in:
			batch = append(batch[:0], j)
		}
		first := time.Now()
		if !b.gather(ctx, &batch, first, linger) {
			return
		}
		recs = recs[:0]
		for _, j := range batch {
			recs = append(recs, j.rec)
		}
		start := time.Now()
		b.inflight.Add(1)
		err := b.store.WriteBatch(ctx, recs)
		b.inflight.Add(-1)
		if b.metrics != nil {
			b.metrics.BatchSeconds.Observe(time.Since(start).Seconds())
			b.metrics.BatchFrames.Observe(float64(len(batch)))
		}
		for _, j := range batch {
			if j.done != nil {
				j.done <- err
			}
		}
	}
}

// gather adds to batch what is queued: everything there is, up to MaxBatch; and, while the
// batch is smaller than MinBatch and another transaction is in flight, what arrives until
// Linger has passed since first. Each transaction costs PostgreSQL a commit (a WAL fsync) and
// a few statements whatever its size: at 5,000 frames/s, transactions of 4 frames cost its
// backends 175 µs of CPU per frame, of 30 frames under 100. false when ctx is done.
func (b *Batcher) gather(ctx context.Context, batch *[]*job, first time.Time, linger *time.Timer) bool {
	armed := false
	defer func() {
		if armed {
			linger.Stop()
		}
	}()
	for len(*batch) < b.cfg.MaxBatch {
		select {
		case j := <-b.in:
			*batch = append(*batch, j)
			continue
		default:
		}
		if len(*batch) >= b.cfg.MinBatch || b.cfg.Linger < 0 || b.inflight.Load() == 0 {
			return true
		}
		if !armed {
			wait := b.cfg.Linger - time.Since(first)
			if wait <= 0 {
				return true
			}
			linger.Reset(wait)
			armed = true
		}
		select {
		case j := <-b.in:
			*batch = append(*batch, j)
		case <-linger.C:
			armed = false
			return true
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// Write queues rec and waits until it is durable.
func (b *Batcher) Write(ctx context.Context, rec *Record) error {
	done, err := b.Submit(ctx, rec)
	if err != nil {
		return err
	}
	return b.Wait(ctx, done)
}

// Submit queues rec and returns the channel that receives the outcome of its transaction: nil
// once it is durable. It waits only for room in the queue.
func (b *Batcher) Submit(ctx context.Context, rec *Record) (<-chan error, error) {
	j := &job{rec: rec, done: make(chan error, 1)}
	select {
	case b.in <- j:
		return j.done, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.done:
		return nil, errBatcherStopped
	}
}

// Wait waits for the outcome of a record submitted.
func (b *Batcher) Wait(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-b.done:
		return errBatcherStopped
	}
}

var errBatcherStopped = errors.New("hj212: batcher stopped")

// Enqueue queues rec without waiting (refused frames, which are not acknowledged anyway).
func (b *Batcher) Enqueue(rec *Record) error {
	select {
	case b.in <- &job{rec: rec}:
		return nil
	default:
		return ErrQueueFull
	}
}
