package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/hj212/hj212test"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/testenv"
)

// startReceiver runs `receiver serve` in this process on a fresh database and returns its
// address and the database.
func startReceiver(t *testing.T, dbURL string, cfg hj212.Config) (string, *postgres.DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := NewMain()
	m.Logger = m.Logger.With("test", t.Name())
	m.DatabaseURL, m.Addr, m.MetricsAddr, m.Server = dbURL, "127.0.0.1:0", "off", cfg
	ready := make(chan string, 1)
	m.Ready = func(addr string) { ready <- addr }
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("receiver: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("receiver did not start")
	}
	t.Cleanup(func() {
		cancel()
		<-done
		m.Close()
	})
	db, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return addr, db
}

func count(t *testing.T, db *postgres.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// eventually polls sql for up to 5 s until it counts want, and returns the last count.
func eventually(t *testing.T, db *postgres.DB, want int, sql string, args ...any) int {
	t.Helper()
	n := 0
	for range 50 {
		if n = count(t, db, sql, args...); n == want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := testenv.PostgresURL(t)
	addr, db := startReceiver(t, url, hj212.Config{MaxConnsPerAddr: 3, IdleTimeout: 2 * time.Second})
	if err := postgres.NewMonitoringStore(db).SetCredential(ctx, "MN0001", "123456"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Minute)

	// A known logger: every frame acknowledged and its values stored.
	lg := &hj212test.Logger{Addr: addr, MN: "MN0001", PW: "123456", AckTimeout: 5 * time.Second, Retries: 1}
	defer lg.Close()
	for i := range 3 {
		if _, err := lg.Send(ctx, hj212test.Frame("MN0001", "123456", hj212.CNMinute, now.Add(time.Duration(i)*time.Minute), i, 10, i)); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'MN0001'"); n != 30 {
		t.Errorf("%d values, want 30", n)
	}
	if lg.Resent != 0 {
		t.Errorf("%d frames resent on a healthy receiver", lg.Resent)
	}

	// On the same connection: a frame with a wrong CRC is refused (no reply) and the
	// connection stays up for the next one.
	bad := hj212.Encode(hj212test.Frame("MN0001", "123456", hj212.CNMinute, now.Add(time.Hour), 9, 10, 9))
	copy(bad[len(bad)-6:], "0000")
	if err := lg.WriteRaw(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := lg.Send(ctx, hj212test.Frame("MN0001", "123456", hj212.CNMinute, now.Add(2*time.Hour), 10, 10, 10)); err != nil {
		t.Fatal(err)
	}
	if lg.Reconnects != 0 || lg.Resent != 0 {
		t.Errorf("after a refused frame: %d reconnects, %d resent; the connection should have stayed up", lg.Reconnects, lg.Resent)
	}
	// Refused frames are stored without anyone waiting: look a moment later.
	if n := eventually(t, db, 1, "SELECT count(*) FROM monitoring_frames WHERE NOT valid AND reason LIKE 'CRC%'"); n != 1 {
		t.Errorf("%d refused frames stored, want 1", n)
	}

	// An unknown MN and a wrong password: kept in quarantine, acknowledged, no values.
	for _, tc := range []struct{ mn, pw, reason string }{{"STRANGER01", "000000", "unknown MN"}, {"MN0001", "999999", "wrong PW"}} {
		q := &hj212test.Logger{Addr: addr, AckTimeout: 5 * time.Second, Retries: 1}
		if _, err := q.Send(ctx, hj212test.Frame(tc.mn, tc.pw, hj212.CNMinute, now.Add(3*time.Hour), 20, 10, 20)); err != nil {
			t.Fatalf("%s: %v", tc.reason, err)
		}
		q.Close()
		if n := count(t, db, "SELECT count(*) FROM monitoring_frames WHERE mn = $1 AND quarantined AND quarantine_reason = $2", tc.mn, tc.reason); n != 1 {
			t.Errorf("%s: %d quarantined frames, want 1", tc.reason, n)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_values WHERE data_time = $1", now.Add(3*time.Hour)); n != 0 {
		t.Errorf("%d values from quarantined frames", n)
	}

	// Split and merged reads: two frames in one write, then one frame byte by byte.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f1 := hj212.Encode(hj212test.Frame("MN0001", "123456", hj212.CNRealTime, now.Add(4*time.Hour), 30, 10, 30))
	f2 := hj212.Encode(hj212test.Frame("MN0001", "123456", hj212.CNRealTime, now.Add(5*time.Hour), 31, 10, 31))
	f3 := hj212.Encode(hj212test.Frame("MN0001", "123456", hj212.CNRealTime, now.Add(6*time.Hour), 32, 10, 32))
	if _, err := c.Write(append(append([]byte{}, f1...), f2...)); err != nil {
		t.Fatal(err)
	}
	for _, b := range f3 {
		if _, err := c.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	r := hj212.NewReader(c, 0)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range 3 {
		raw, err := r.Next()
		if err != nil {
			t.Fatalf("ack %d: %v", i, err)
		}
		if f := hj212.Parse(raw); !f.Valid || f.CN != hj212.CNDataAck {
			t.Errorf("reply %q", raw)
		}
	}

	// Bounds: a fourth connection from one address is closed at once; an idle one after the
	// idle timeout.
	var conns []net.Conn
	for range 2 {
		cc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		conns = append(conns, cc)
	}
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	over.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := over.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("connection beyond the per-address bound: read err %v, want EOF (closed)", err)
	}
	conns[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := conns[0].Read(make([]byte, 1)); err != io.EOF || time.Since(start) > 8*time.Second {
		t.Errorf("idle connection: read err %v after %v, want EOF after about 2 s", err, time.Since(start))
	}
}

// TestServeRegistry: a monitoring point of the registry (monitoring_points) is checked with
// its own password.
func TestServeRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := testenv.PostgresURL(t)
	addr, db := startReceiver(t, url, hj212.Config{})
	hash, err := monitoring.HashPassword("654321")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO enterprises (uscc, name, industry) VALUES ('91320500MA1N2B3C4L', 'plant', 'steel');
		INSERT INTO monitoring_points (mn, uscc, outlet, geom, pw_hash)
		VALUES ('REG0001', '91320500MA1N2B3C4L', 'DA001', ST_SetSRID(ST_MakePoint(120.6, 31.3), 4326), '`+hash+`')`); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Minute)
	for _, tc := range []struct {
		pw                  string
		values, quarantined int
	}{{"654321", 10, 0}, {"123456", 0, 1}} {
		lg := &hj212test.Logger{Addr: addr, AckTimeout: 5 * time.Second, Retries: 1}
		if _, err := lg.Send(ctx, hj212test.Frame("REG0001", tc.pw, hj212.CNMinute, now, 0, 10, len(tc.pw))); err != nil {
			t.Fatal(err)
		}
		lg.Close()
		now = now.Add(time.Minute)
		if n := count(t, db, "SELECT count(*) FROM monitoring_frames WHERE mn = 'REG0001' AND quarantined AND quarantine_reason = 'wrong PW'"); n != tc.quarantined {
			t.Errorf("PW %s: %d frames quarantined for a wrong PW, want %d", tc.pw, n, tc.quarantined)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'REG0001'"); n != 10 {
		t.Errorf("%d values of the registered point, want 10 (its right password's frame)", n)
	}
}

func TestDecode(t *testing.T) {
	in := "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n" +
		"noise##0136ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&4980\r\n" +
		"##0139ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817000;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&4980\r\n" +
		"##0101QN=2016"
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"decode"}, strings.NewReader(in), &out, &errb); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		`{"valid":true,"sha256":"6a412b466149a501c5f09ad61dcd719199f6b16e800a316310191bbb1cd239d4","version":"2017","qn":"20160801085857223","mn":"010000A8900016F000169DC0","st":"32","cn":"1062","flag":5,"params":{"RtdInterval":"30"},"values":{},"deviations":[]}`,
		`{"valid":false,"reason":"CRC 4980 does not match the data segment's 3C00",`,
		`{"valid":true,"sha256":"08fc70280e880a9e0e0b1f5c07769de4cfafa414a042ddf66ad62e71b91a7dd5","version":"2005","mn":"LD130133000015","st":"32","cn":"2011","datatime":"20160824003817000","values":{"011":{"Flag":"N","Rtd":"231.0"},"060":{"Flag":"N","Rtd":"1.803"},"B01":{"Rtd":"36.91"}},"deviations":["no-qn","no-flag","factor-codes-2005","datatime-milliseconds"]}`,
		`{"valid":false,"reason":"truncated: the input ended inside the frame",`,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], want[i])
		}
	}
	if !strings.Contains(errb.String(), "4 frames, 2 valid, 2 refused; 5 bytes outside frames") {
		t.Errorf("summary %q", errb.String())
	}
	if err := run(context.Background(), []string{"decode", "/nonexistent/x"}, nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "/nonexistent/x") {
		t.Errorf("missing file: %v", err)
	}
}

func TestWithPoolSize(t *testing.T) {
	for _, tc := range []struct {
		url  string
		n    int
		want string
	}{
		{"postgres://a@h/db", 4, "postgres://a@h/db?pool_max_conns=4"},
		{"postgres://a@h/db?sslmode=disable", 6, "postgres://a@h/db?sslmode=disable&pool_max_conns=6"},
		{"postgresql://a@h/db?pool_max_conns=2", 6, "postgresql://a@h/db?pool_max_conns=2"},
		{"host=h dbname=db", 3, "host=h dbname=db pool_max_conns=3"},
		{"postgres://a@h/db", 0, "postgres://a@h/db?pool_max_conns=4"},
	} {
		if got := withPoolSize(tc.url, tc.n); got != tc.want {
			t.Errorf("withPoolSize(%q, %d) = %q, want %q", tc.url, tc.n, got, tc.want)
		}
	}
}
