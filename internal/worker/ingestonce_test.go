package worker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/metrics"
)

// A capture's clip task on arrival and a pipeline run on its pair queued right after it (and
// a survey part pairing with it) all ask this process to ingest it, each holding the capture
// as it was before ingest. It is fetched and inspected once: the others wait for that ingest,
// or read the record it left.
func TestIngestOnceIngestsOnce(t *testing.T) {
	e := mustHandlerEnv(t)
	e.h.Metrics = metrics.New()
	c := e.capture(t, fmt.Sprintf("ingest-once/%d.tif", time.Now().UnixNano()), mustSceneBytes(t, 1024, 1024, 3, true))
	const callers = 4
	got := make([]*offsite.Capture, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = e.h.ingestOnce(context.Background(), c)
		}()
	}
	wg.Wait()
	// One more after they are done, still holding the capture as it was before.
	late, err := e.h.ingestOnce(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if got[i].IngestedAt == nil || got[i].Checksum == "" || got[i].Checksum != late.Checksum || got[i].COGKey != late.COGKey {
			t.Errorf("caller %d got ingested_at %v, checksum %q, cog %q; the last got %q, %q", i, got[i].IngestedAt, got[i].Checksum, got[i].COGKey, late.Checksum, late.COGKey)
		}
	}
	m := e.h.Metrics
	ingests := testutil.ToFloat64(m.Conversions.WithLabelValues("none")) + testutil.ToFloat64(m.Conversions.WithLabelValues("cog"))
	if ingests != 1 {
		t.Errorf("%v ingests of one capture asked for by %d callers, want 1", ingests, callers+1)
	}
}
