package worker

import (
	"context"
	"sync"

	"github.com/offsite/offsite"
)

// ingestFlights lets the tasks of one worker process that need the same capture ingested at
// the same time (its clip task on arrival, a pipeline run on the pair queued right after it,
// a survey part pairing with it) wait for one ingest instead of each fetching and inspecting
// the object: the one that starts it ingests, the others take its result. Other processes
// may still ingest it too (their results are the same; the record is idempotent).
type ingestFlights struct {
	mu      sync.Mutex
	flights map[int64]*ingestFlight
}

type ingestFlight struct {
	done chan struct{}
	c    *offsite.Capture
	err  error
}

// ingestOnce returns capture c ingested: as the database has it when it is ingested already
// (by a task that finished meanwhile), else from this process's ingest of it in progress,
// else from an ingest started here. A waiting task whose context ends stops waiting.
func (h *ClipHandler) ingestOnce(ctx context.Context, c *offsite.Capture) (*offsite.Capture, error) {
	f := &h.ingesting
	f.mu.Lock()
	if fl, ok := f.flights[c.ID]; ok {
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.c, fl.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	fl := &ingestFlight{done: make(chan struct{})}
	if f.flights == nil {
		f.flights = map[int64]*ingestFlight{}
	}
	f.flights[c.ID] = fl
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.flights, c.ID)
		f.mu.Unlock()
		close(fl.done)
	}()
	// An ingest that ended between the caller's read of c and now is not done again.
	fl.c, fl.err = h.Captures.FindCaptureByID(ctx, c.ID)
	if fl.err == nil && fl.c.IngestedAt == nil {
		fl.c, fl.err = h.ingest(ctx, fl.c)
	}
	return fl.c, fl.err
}
