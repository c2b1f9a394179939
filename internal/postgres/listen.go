package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

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

// ListenOutbox listens on OutboxChannel from a connection of its own (not the pool's) until
// ctx ends, telling l of each row written. A lost connection is dialled again after a pause
// that doubles from 1 s to 30 s while dialling fails.
func (db *DB) ListenOutbox(ctx context.Context, l OutboxListener) {
	pause := time.Second
	for ctx.Err() == nil {
		listened, err := db.listenOutbox(ctx, l)
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

// listenOutbox is one connection of ListenOutbox; listened says whether it got to listen.
func (db *DB) listenOutbox(ctx context.Context, l OutboxListener) (listened bool, err error) {
	cfg := db.Pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ListenerAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("listen on %s: %w", OutboxChannel, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+OutboxChannel); err != nil {
		return false, fmt.Errorf("listen on %s: %w", OutboxChannel, err)
	}
	if l.Listening != nil {
		l.Listening()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("listen on %s: %w", OutboxChannel, err)
		}
		id, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil || n.Channel != OutboxChannel {
			continue // not the trigger's
		}
		if l.Written != nil {
			l.Written(ctx, id)
		}
	}
}
