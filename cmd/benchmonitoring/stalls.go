package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// secondMax keeps the longest acknowledgement latency of the frames sent in each second of a
// phase: a stall (a checkpoint's fsyncs, a pause of the receiver) shows as a run of bad
// seconds, where the phase's p99 alone cannot tell a stall from a slow path.
type secondMax struct {
	start time.Time
	max   []atomic.Int64 // ns, by second since start
}

func newSecondMax(d time.Duration) *secondMax {
	return &secondMax{start: time.Now(), max: make([]atomic.Int64, int(d/time.Second)+2)}
}

// add records a frame sent at sent and acknowledged after lat.
func (s *secondMax) add(sent time.Time, lat time.Duration) {
	i := int(sent.Sub(s.start) / time.Second)
	if i < 0 || i >= len(s.max) {
		return
	}
	for {
		old := s.max[i].Load()
		if int64(lat) <= old || s.max[i].CompareAndSwap(old, int64(lat)) {
			return
		}
	}
}

// line says how many seconds had a frame over limit and lists the worst few.
func (s *secondMax) line(limit time.Duration) string {
	type sec struct {
		at  int
		max time.Duration
	}
	var secs []sec
	bad := 0
	for i := range s.max {
		m := time.Duration(s.max[i].Load())
		if m == 0 {
			continue
		}
		if m > limit {
			bad++
		}
		secs = append(secs, sec{i, m})
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i].max > secs[j].max })
	var worst []string
	for _, x := range secs[:min(5, len(secs))] {
		worst = append(worst, fmt.Sprintf("+%d s %.0f ms", x.at, ms(x.max)))
	}
	return fmt.Sprintf("  seconds with a frame over %v: %d of %d; the worst (second sent: longest ack): %s",
		limit, bad, len(secs), strings.Join(worst, ", "))
}

// sampleWaits samples every 50 ms, until stop is closed, what the benchmark database's busy
// backends wait for (pg_stat_activity's wait event; "running" when none) and returns a line of
// shares: WAL fsyncs (IO:WALSync), WAL locks (LWLock:WALWrite), data file extension and the
// like tell where commits stall.
func (b *bench) sampleWaits(ctx context.Context, stop <-chan struct{}) string {
	conn, err := pgx.Connect(ctx, b.ownerURL)
	if err != nil {
		return "  PostgreSQL waits:         " + err.Error()
	}
	defer conn.Close(context.WithoutCancel(ctx))
	counts := map[string]int{}
	n := 0
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return waitsLine(counts, n)
		case <-ctx.Done():
			return waitsLine(counts, n)
		case <-t.C:
		}
		rows, err := conn.Query(ctx, `SELECT coalesce(wait_event_type || ':' || wait_event, 'running')
			FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()`, b.dbName)
		if err != nil {
			return "  PostgreSQL waits:         " + err.Error()
		}
		evs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "  PostgreSQL waits:         " + err.Error()
		}
		for _, e := range evs {
			counts[e]++
			n++
		}
	}
}

func waitsLine(counts map[string]int, n int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range counts {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var parts []string
	for _, x := range all[:min(6, len(all))] {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", x.k, 100*float64(x.v)/float64(max(n, 1))))
	}
	return fmt.Sprintf("  PostgreSQL waits:         %d samples of busy backends (every 50 ms): %s", n, strings.Join(parts, ", "))
}
