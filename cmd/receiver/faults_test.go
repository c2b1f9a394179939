package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/hj212/hj212test"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/testenv"
)

// pgProxy forwards TCP to PostgreSQL and can be cut: every connection closed and new ones
// refused, as when the database is down, without touching the shared server.
type pgProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	p := &pgProxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.cut() })
	return p
}

func (p *pgProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[u] = true, true
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close(); c.Close() }()
			go func() { io.Copy(c, u); u.Close(); c.Close() }()
		}
	}()
}

// cut closes the listener and every connection.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// restore listens again on the same address.
func (p *pgProxy) restore(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Errorf("proxy listen again on %s: %v", p.addr, err)
		return
	}
	p.serve(ln)
}

// TestFaults: simulated loggers that send again what was not acknowledged, as HJ 212-2017
// asks, against a receiver process that is killed (SIGKILL) and restarted, whose database
// goes away for OFFSITE_FAULT_DB_DOWN (default 10 s; the 30 s with
// OFFSITE_FAULT_DB_DOWN=30s), and a logger whose connection is cut mid-frame. Afterwards the
// database holds every acknowledged frame once and one value per factor of each: nothing
// lost, nothing doubled.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a receiver process")
	}
	down := 10 * time.Second
	if v := os.Getenv("OFFSITE_FAULT_DB_DOWN"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("OFFSITE_FAULT_DB_DOWN: %v", err)
		}
		down = d
	}
	pg := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "receiver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db, err := postgres.Open(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const loggers, factors = 4, 10
	store := postgres.NewMonitoringStore(db)
	for i := range loggers + 1 {
		if err := store.SetCredential(ctx, fmt.Sprintf("FAULT%04d", i), "123456"); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newPGProxy(t, u.Host)
	u.Host = proxy.addr
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	logPath := filepath.Join(t.TempDir(), "receiver.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	// The receiver queues analyses in Redis: a database of the test's own, not development's 0.
	redis := testenv.Redis(t)
	var proc *exec.Cmd
	start := func() {
		proc = exec.Command(bin, "serve", "-addr", addr, "-metrics-addr", "off")
		proc.Env = append(os.Environ(), "OFFSITE_DATABASE_URL="+u.String(), "OFFSITE_DATABASE_OWNER_URL=", "OFFSITE_LOG_LEVEL=warn",
			"OFFSITE_REDIS_ADDR="+redis.Addr, "OFFSITE_REDIS_DB="+strconv.Itoa(redis.DB))
		proc.Stdout, proc.Stderr = logf, logf
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		for range 200 {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		b, _ := os.ReadFile(logPath)
		t.Fatalf("receiver did not start:\n%s", b)
	}
	start()
	defer func() {
		if proc.Process != nil {
			proc.Process.Kill()
			proc.Wait()
		}
	}()

	base := time.Now().Truncate(time.Hour).Add(-time.Hour)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	sent := make([]int, loggers)
	stats := make([]*hj212test.Logger, loggers)
	for i := range loggers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mn := fmt.Sprintf("FAULT%04d", i)
			l := &hj212test.Logger{Addr: addr, MN: mn, PW: "123456", AckTimeout: time.Second}
			stats[i] = l
			defer l.Close()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := l.Send(ctx, hj212test.Frame(mn, "123456", hj212.CNMinute, base.Add(time.Duration(k)*time.Minute), k, factors, k)); err != nil {
					t.Errorf("%s frame %d: %v", mn, k, err)
					return
				}
				sent[i] = k + 1
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Second)

	// kill -9 of the receiver, restarted a second later.
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	proc.Wait()
	time.Sleep(time.Second)
	start()
	time.Sleep(2 * time.Second)

	// The database unavailable for a while.
	proxy.cut()
	time.Sleep(down)
	proxy.restore(t)
	time.Sleep(2 * time.Second)

	// A connection cut mid-frame, then the frame sent whole on a new connection.
	mid := fmt.Sprintf("FAULT%04d", loggers)
	frame := hj212test.Frame(mid, "123456", hj212.CNMinute, base, 0, factors, 0)
	cutter := &hj212test.Logger{Addr: addr, MN: mid, PW: "123456", AckTimeout: time.Second}
	raw := hj212.Encode(frame)
	if err := cutter.WriteRaw(ctx, raw[:len(raw)/2]); err != nil {
		t.Fatal(err)
	}
	cutter.Close()
	if _, err := cutter.Send(ctx, frame); err != nil {
		t.Fatal(err)
	}
	cutter.Close()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	total := 0
	for i := range loggers {
		mn := fmt.Sprintf("FAULT%04d", i)
		total += sent[i]
		t.Logf("%s: %d frames acknowledged, %d sent again, %d reconnections", mn, sent[i], stats[i].Resent, stats[i].Reconnects)
		if n := count(t, db, "SELECT count(*) FROM monitoring_frames WHERE mn = $1 AND valid", mn); n != sent[i] {
			t.Errorf("%s: %d frames stored, want %d (each once)", mn, n, sent[i])
		}
		if n := count(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = $1", mn); n != sent[i]*factors {
			t.Errorf("%s: %d values stored, want %d", mn, n, sent[i]*factors)
		}
		if n := count(t, db, "SELECT count(DISTINCT data_time) FROM monitoring_values WHERE mn = $1 AND data_time < $2", mn, base.Add(time.Duration(sent[i])*time.Minute)); n != sent[i] {
			t.Errorf("%s: %d minutes stored of the %d acknowledged", mn, n, sent[i])
		}
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = $1", mid); n != factors {
		t.Errorf("frame cut mid-way then sent whole: %d values, want %d", n, factors)
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_frames WHERE mn = $1", mid); n != 1 {
		t.Errorf("frame cut mid-way then sent whole: %d frames stored, want 1 (the part is not a frame)", n)
	}
	resent := 0
	for _, l := range stats {
		resent += l.Resent
	}
	if resent == 0 {
		t.Errorf("no frame was sent again: the faults did not bite")
	}
	t.Logf("%d frames acknowledged in all, %d sent again; database down %v", total, resent, down)
}
