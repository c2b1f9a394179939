package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/offsite/offsite/internal/enforce"
)

// TestListenOutbox: the listener hears of each outbox row when its transaction commits (not
// of a row rolled back), and listens again after its connection is killed.
func TestListenOutbox(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := MustOpen(t)
	written, listening, lost := make(chan int64, 10), make(chan struct{}, 10), make(chan error, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.ListenOutbox(ctx, OutboxListener{
			Written:   func(_ context.Context, id int64) { written <- id },
			Listening: func() { listening <- struct{}{} },
			Lost:      func(err error) { lost <- err },
		})
	}()
	wait := func(what string, ch <-chan struct{}) { t.Helper(); waitFor(t, what, ch) }
	wait("listening", listening)

	write := func(rollback bool) int64 {
		t.Helper()
		n := &enforce.Notification{Event: enforce.EventNightlyFinished, Subject: "nightly-run/1", Title: "nightly"}
		err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			if err := insertOutbox(ctx, tx, n, ""); err != nil {
				return err
			}
			if rollback {
				return errRollback
			}
			return nil
		})
		if err != nil && !(rollback && err == errRollback) {
			t.Fatal(err)
		}
		return n.ID
	}
	heard := func() int64 {
		t.Helper()
		select {
		case id := <-written:
			return id
		case <-time.After(30 * time.Second):
			t.Fatal("no row heard of after 30 s")
		}
		return 0
	}
	write(true) // rolled back: never announced
	if id, got := write(false), heard(); got != id {
		t.Errorf("heard of row %d, want %d (the rolled-back one is not announced)", got, id)
	}

	// The connection is killed (a database restart, a proxy's idle timeout): the listener
	// says so, dials again and hears the next row.
	var killed int
	if err := db.Pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, ListenerAppName).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("killed %d listener connections: %v", killed, err)
	}
	select {
	case err := <-lost:
		if err == nil {
			t.Error("lost with no error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the lost connection is not reported")
	}
	wait("listening again", listening)
	if id, got := write(false), heard(); got != id {
		t.Errorf("after reconnecting heard of row %d, want %d", got, id)
	}
	cancel()
	wait("stopped", done)
}

var errRollback = rollbackError{}

type rollbackError struct{}

func (rollbackError) Error() string { return "roll back" }

// TestListen: one connection hears every channel it listens on, with each notification's
// channel and payload, and its silence is checked: Answered is called while nothing arrives.
func TestListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := MustOpen(t)
	heard, listening, answered := make(chan string, 10), make(chan struct{}, 10), make(chan struct{}, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Listen(ctx, Listener{
			Channels: []string{"offsite_test_a", "offsite test b"}, AppName: "offsite-listen-test", PingEvery: 50 * time.Millisecond,
			Notified:  func(_ context.Context, n *pgconn.Notification) { heard <- n.Channel + ":" + n.Payload },
			Listening: func() { listening <- struct{}{} },
			Answered: func() {
				select {
				case answered <- struct{}{}:
				default:
				}
			},
			Lost: func(err error) { t.Errorf("lost: %v", err) },
		})
	}()
	waitFor(t, "listening", listening)
	for _, n := range []string{"offsite test b:2", "offsite_test_a:1"} {
		ch, payload, _ := strings.Cut(n, ":")
		if _, err := db.Pool.Exec(ctx, "SELECT pg_notify($1, $2)", ch, payload); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-heard:
			if got != n {
				t.Errorf("heard %q, want %q", got, n)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s not heard after 30 s", n)
		}
	}
	waitFor(t, "checked while silent", answered)
	cancel()
	waitFor(t, "stopped", done)
}

// waitFor waits for ch for up to 30 seconds (a bound for a stalled machine, not a measure of
// speed), failing t with what did not happen.
func waitFor(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("not %s after 30 s", what)
	}
}
