package hj212

import (
	"context"
	"sync"
	"testing"
	"time"
)

// gate is a Store whose first transaction waits until released; it records batch sizes.
type gate struct {
	mu      sync.Mutex
	sizes   []int
	first   chan struct{} // closed when the first transaction has begun
	release chan struct{}
	once    sync.Once
}

func (g *gate) WriteBatch(ctx context.Context, recs []*Record) error {
	g.mu.Lock()
	g.sizes = append(g.sizes, len(recs))
	n := len(g.sizes)
	g.mu.Unlock()
	if n == 1 {
		g.once.Do(func() { close(g.first) })
		<-g.release
	}
	return nil
}

// TestBatcherLinger: a lone record on an idle batcher is written at once; while a transaction
// is in flight, the next waits for MinBatch records (within Linger) instead of going with one.
func TestBatcherLinger(t *testing.T) {
	for _, tc := range []struct {
		name   string
		linger time.Duration
		want   []int // batch sizes: the lone record, then the five sent while it is in flight
	}{
		{"linger", time.Hour, []int{1, 5}},
		{"no linger", -1, []int{1, 1, 1, 1, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g := &gate{first: make(chan struct{}), release: make(chan struct{})}
			b := NewBatcher(g, BatchConfig{Workers: 2, MinBatch: 5, Linger: tc.linger}, nil)
			go b.Run(ctx)
			rec := &Record{Frame: &Frame{}}
			first, err := b.Submit(ctx, rec)
			if err != nil {
				t.Fatal(err)
			}
			<-g.first
			var waits []<-chan error
			for range 5 {
				done, err := b.Submit(ctx, rec)
				if err != nil {
					t.Fatal(err)
				}
				if tc.linger < 0 {
					// Without a linger each record goes alone: wait for it, so that the
					// sizes do not depend on timing.
					if err := b.Wait(ctx, done); err != nil {
						t.Fatal(err)
					}
					continue
				}
				waits = append(waits, done)
			}
			for _, done := range waits {
				if err := b.Wait(ctx, done); err != nil {
					t.Fatal(err)
				}
			}
			close(g.release)
			if err := b.Wait(ctx, first); err != nil {
				t.Fatal(err)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if len(g.sizes) != len(tc.want) {
				t.Fatalf("batch sizes %v, want %v", g.sizes, tc.want)
			}
			for i := range tc.want {
				if g.sizes[i] != tc.want[i] {
					t.Fatalf("batch sizes %v, want %v", g.sizes, tc.want)
				}
			}
		})
	}
}
