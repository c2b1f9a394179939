package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/tasks"
)

// analysisStore queues the monitoring analysis of each MN-hour whose data the store made
// durable (tasks.NewMonitoringAnalyzeTask: run a few minutes after the hour's end, one task per
// MN-hour). Queueing never holds up the acknowledgements: keys go to a buffered channel that
// one goroutine empties; a key that finds the channel full is dropped, and the nightly
// analysis covers its day.
type analysisStore struct {
	hj212.Store
	keys chan analysisKey
}

type analysisKey struct {
	mn   string
	hour time.Time
}

// dataCNs are the data uploads that the analysis reads.
var dataCNs = map[string]bool{"2011": true, "2051": true, "2061": true, "2031": true}

// WriteBatch implements hj212.Store.
func (a *analysisStore) WriteBatch(ctx context.Context, recs []*hj212.Record) error {
	if err := a.Store.WriteBatch(ctx, recs); err != nil {
		return err
	}
	for _, r := range recs {
		f := r.Frame
		if f == nil || !f.Valid || r.Quarantine != "" || !dataCNs[f.CN] || f.Time.IsZero() {
			continue
		}
		select {
		case a.keys <- analysisKey{f.MN, f.Time.Truncate(time.Hour)}:
		default:
		}
	}
	return nil
}

// queueAnalyses enqueues the keys of a until ctx is done, each MN-hour once per process (the
// task id makes a second enqueue a no-op anyway).
func queueAnalyses(ctx context.Context, keys <-chan analysisKey, q interface {
	EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error)
}, logger *slog.Logger) {
	done := map[analysisKey]bool{}
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			for k := range done {
				if time.Since(k.hour) > 3*time.Hour {
					delete(done, k)
				}
			}
		case k := <-keys:
			if done[k] {
				continue
			}
			task, err := tasks.NewMonitoringAnalyzeTask(k.mn, k.hour)
			if err != nil {
				done[k] = true // an MN the task refuses: nothing to analyse
				continue
			}
			if _, err := q.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
				logger.Warn("queue the monitoring analysis", "mn", k.mn, "hour", k.hour, "err", err)
				continue
			}
			done[k] = true
		}
	}
}

// redisOpt is the Redis of the analysis queue, from the variables the api and worker read:
// OFFSITE_REDIS_ADDR (default 127.0.0.1:6379), OFFSITE_REDIS_DB, OFFSITE_REDIS_PASSWORD.
func redisOpt() (asynq.RedisClientOpt, error) {
	opt := asynq.RedisClientOpt{Addr: envOr("OFFSITE_REDIS_ADDR", "127.0.0.1:6379"), Password: os.Getenv("OFFSITE_REDIS_PASSWORD")}
	if v := os.Getenv("OFFSITE_REDIS_DB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 15 {
			return opt, errors.New("OFFSITE_REDIS_DB must be 0..15")
		}
		opt.DB = n
	}
	return opt, nil
}
