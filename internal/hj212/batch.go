package hj212

import (
	"context"
	"errors"
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
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-b.in:
			batch = append(batch[:0], j)
		}
	gather:
		for len(batch) < b.cfg.MaxBatch {
			select {
			case j := <-b.in:
				batch = append(batch, j)
			default:
				break gather
			}
		}
		recs = recs[:0]
		for _, j := range batch {
			recs = append(recs, j.rec)
		}
		start := time.Now()
		err := b.store.WriteBatch(ctx, recs)
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
