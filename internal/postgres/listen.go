package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Listener says what Listen listens on and whom it tells. Its functions run on the listening
// goroutine, one at a time; nil ones are skipped.
type Listener struct {
	// Channels are the channels listened on.
	Channels []string
	// AppName is the application_name of the listening connection (pg_stat_activity).
	AppName string
	// PingEvery, when not zero, is how long the connection may stay silent before it is
	// checked (SELECT 1, answered within PingEvery): a connection that hangs is dropped and
	// dialled again. Zero: it is waited on until it fails.
	PingEvery time.Duration

	// Notified is called with each notification.
	Notified func(ctx context.Context, n *pgconn.Notification)
	// Listening is called each time the connection is (again) listening, before any
	// notification: what was notified while it was not is lost, for the caller to make up.
	Listening func()
	// Answered is called each time a check found the connection answering.
	Answered func()
	// Lost is called with the error that ended a connection, before it is dialled again.
	Lost func(err error)
}

// Listen listens on l.Channels from a connection of its own (not the pool's) until ctx ends,
// telling l of what it hears. A lost connection is dialled again after a pause that doubles
// from 1 s to 30 s while it cannot listen.
func (db *DB) Listen(ctx context.Context, l Listener) {
	pause := time.Second
	for ctx.Err() == nil {
		listened, err := db.listen(ctx, l)
		if ctx.Err() != nil {
			return
		}
		if l.Lost != nil {
			l.Lost(err)
		}
		if listened {
			pause = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
}

// listen is one connection of Listen; listened says whether it got to listen.
func (db *DB) listen(ctx context.Context, l Listener) (listened bool, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("listen on %s: %w", strings.Join(l.Channels, ", "), err)
		}
	}()
	cfg := db.Pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = l.AppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range l.Channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return false, err
		}
	}
	if l.Listening != nil {
		l.Listening()
	}
	for {
		wctx, cancel := ctx, context.CancelFunc(func() {})
		if l.PingEvery > 0 {
			wctx, cancel = context.WithTimeout(ctx, l.PingEvery)
		}
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			if l.Notified != nil {
				l.Notified(ctx, n)
			}
			continue
		case ctx.Err() != nil:
			return true, ctx.Err()
		case wctx.Err() == nil:
			return true, err
		}
		// Nothing arrived: make sure the connection still answers (a notification it got
		// meanwhile is kept by pgx for the next wait).
		pctx, cancel := context.WithTimeout(ctx, l.PingEvery)
		_, err = conn.Exec(pctx, "SELECT 1")
		cancel()
		if err != nil {
			return true, err
		}
		if l.Answered != nil {
			l.Answered()
		}
	}
}

// OutboxChannel is the channel on which the outbox announces each row written, with its id
// (migration 0072).
const OutboxChannel = "offsite_outbox"

// ListenerAppName is the application_name of ListenOutbox's connection.
const ListenerAppName = "offsite-outbox-listener"

// OutboxListener is told what ListenOutbox hears. Its functions run on the listening
// goroutine, one at a time; nil ones are skipped.
type OutboxListener struct {
	// Written is called with the id of each outbox row committed.
	Written func(ctx context.Context, id int64)
	// Listening is called each time the connection is (again) listening: rows committed
	// while it was not are left to the sweep.
	Listening func()
	// Lost is called with the error that ended a connection, before it is dialled again.
	Lost func(err error)
}

// ListenOutbox listens on OutboxChannel (Listen) until ctx ends, telling l of each row written.
func (db *DB) ListenOutbox(ctx context.Context, l OutboxListener) {
	db.Listen(ctx, Listener{
		Channels: []string{OutboxChannel},
		AppName:  ListenerAppName,
		Notified: func(ctx context.Context, n *pgconn.Notification) {
			id, err := strconv.ParseInt(n.Payload, 10, 64)
			if err == nil && l.Written != nil {
				l.Written(ctx, id)
			}
		},
		Listening: l.Listening,
		Lost:      l.Lost,
	})
}
