package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/cmd/internal/proccpu"
)

// backends returns the process ids of the PostgreSQL backends connected to the benchmark's
// database (the receiver's, and the benchmark's own few).
func (b *bench) backends(ctx context.Context) []int {
	rows, err := b.pg.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1", b.dbName)
	if err != nil {
		return nil
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil
	}
	out := make([]int, len(pids))
	for i, p := range pids {
		out[i] = int(p)
	}
	return out
}

// cpuMark is the CPU used so far by the receiver and the loggers (this process), and the
// PostgreSQL backends of the benchmark's database as they are now.
type cpuMark struct {
	at                time.Time
	receiver, loggers time.Duration
	server            *proccpu.Group
}

func (b *bench) mark(ctx context.Context) cpuMark {
	m := cpuMark{at: time.Now(), server: proccpu.Watch(b.backends(ctx))}
	m.receiver, _ = proccpu.Process(b.proc.Process.Pid)
	m.loggers, _ = proccpu.Self()
	return m
}

// cpuLine prints the CPU used since from, as cores busy on average, the receiver's per frame
// acknowledged, and the load average (2 cores shared with other work: the numbers move with
// it). PostgreSQL is the backends of the benchmark's database, not the server's own
// processes (WAL writer, checkpointer), which serve everyone on the machine.
func (b *bench) cpuLine(ctx context.Context, from cpuMark, frames int) string {
	rec, _ := proccpu.Process(b.proc.Process.Pid)
	self, _ := proccpu.Self()
	pg, _ := from.server.Used(b.backends(ctx))
	el := time.Since(from.at).Seconds()
	s := fmt.Sprintf("  CPU (cores busy):         receiver %.2f, loggers %.2f, PostgreSQL backends %.2f; load average %s",
		(rec-from.receiver).Seconds()/el, (self-from.loggers).Seconds()/el, pg.Seconds()/el, proccpu.LoadAverage())
	if frames > 0 {
		s += fmt.Sprintf("; receiver %.0f µs, PostgreSQL %.0f µs CPU per frame acknowledged",
			float64((rec-from.receiver).Microseconds())/float64(frames), float64(pg.Microseconds())/float64(frames))
	}
	return s
}
