package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/postgres"
)

// requestPoll is how often the receiver looks for data requests queued for its loggers
// (monitoring_data_requests, queued through the API); requestOverTime is how long it waits
// for the logger's reply before sending a request again, at most requestAttempts times in
// all (HJ 212-2017: the requester sends again, with the same QN, a request not answered
// within its timeout OverTime, up to ReCount times; a minute allows for loggers on mobile
// links). Run reads them once.
var (
	requestPoll     = 5 * time.Second
	requestOverTime = time.Minute
	requestAttempts = 4
)

// sendDataRequests sends, every poll until ctx is done, the data requests queued for
// loggers connected to srv (HJ 212-2017 Annex C.20–C.23: CN 2061 and the like with BeginTime
// and EndTime, Flag 5): each is marked sent with its QN first, so that the logger's replies,
// which echo the QN, find it, and unmarked when the sending fails. A request not answered
// within overTime is sent again with the same QN, attempts times in all. A request of a
// logger not connected waits for it. Requests are few (staff ask for them), so the oldest
// 1000 pending are read each time.
func sendDataRequests(ctx context.Context, store *postgres.MonitoringStore, srv *hj212.Server, poll, overTime time.Duration, attempts int, logger *slog.Logger) {
	every(ctx, poll, func() {
		reqs, err := store.PendingDataRequests(ctx, time.Now().Add(-overTime), attempts, 1000)
		if err != nil {
			logger.Error("read data requests", "err", err)
			return
		}
		for _, r := range reqs {
			if !srv.Connected(r.MN) {
				continue
			}
			qn := r.QN
			if qn == "" {
				qn = srv.NextQN()
			}
			if err := store.MarkDataRequestSent(ctx, r.ID, qn, time.Now()); err != nil {
				logger.Error("mark data request sent", "id", r.ID, "err", err)
				continue
			}
			if err := srv.SendRequest(r.MN, qn, r.CN, r.Params()); err != nil {
				logger.Warn("send data request", "id", r.ID, "mn", r.MN, "err", err)
				if err := store.UnmarkDataRequestSent(ctx, r.ID, qn); err != nil {
					logger.Error("unmark data request", "id", r.ID, "err", err)
				}
				continue
			}
			logger.Info("data request sent", "id", r.ID, "mn", r.MN, "cn", r.CN, "qn", qn, "attempt", r.Attempts+1)
		}
	})
}

// every calls fn each period until ctx ends; the first call is one period after the start.
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// recordReply records a logger's reply to a data request (9011 QnRtn, 9012 ExeRtn), matched by
// its MN and QN; replies to other requests (the 1012 that answers a time calibration request)
// match none and are only stored as frames.
func recordReply(store *postgres.MonitoringStore, logger *slog.Logger) func(f *hj212.Frame) {
	return func(f *hj212.Frame) {
		key := "QnRtn"
		if f.CN == hj212.CNExecResult {
			key = "ExeRtn"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		qn := f.QN
		if qn == "" {
			qn = f.Params["QN"] // HJ/T 212-2005 carries it in CP
		}
		if _, err := store.RecordDataRequestReply(ctx, f.MN, qn, f.CN, f.Params[key], time.Now()); err != nil {
			logger.Error("record data request reply", "mn", f.MN, "qn", f.QN, "err", err)
		}
	}
}
