package main

import (
	"context"
	"fmt"
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

// TestServeTimeRequest: the logger's time calibration request (1013, HJ 212-2017 Annex C.4)
// is answered, once stored, with the notice reply 9013 and the platform's request to set the
// time (1012, Annex C.3); the logger's request reply (9011) and execution result (9012) to that
// request are stored and get no answer (the sources of the flow are quoted in
// internal/hj212's TestReplies).
func TestServeTimeRequest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := testenv.PostgresURL(t)
	addr, db := startReceiver(t, url, hj212.Config{})
	const mn = "010000A8900016F000169DC0"
	if err := postgres.NewMonitoringStore(db).SetCredential(ctx, mn, "123456"); err != nil {
		t.Fatal(err)
	}
	lg := dialLogger(t, addr)
	next := lg.next
	req := hj212.Encode("QN=20160801085857223;ST=32;CN=1013;PW=123456;MN=" + mn + ";Flag=5;CP=&&PolId=w01018&&")
	lg.sendRaw(req)
	notice := next()
	// The request is durable before anything answers it.
	if n := count(t, db, "SELECT count(*) FROM monitoring_frames WHERE sha256 = $1 AND cn = '1013'", hj212.Hash(req)); n != 1 {
		t.Errorf("the 1013 was answered with %d stored copies of it, want 1", n)
	}
	if notice.CN != hj212.CNNotice || notice.QN != "20160801085857223" || notice.MN != mn || notice.Flag != 4 {
		t.Errorf("first reply %s, want the notice reply 9013 with the request's QN and Flag=4", notice.Raw)
	}
	set := next()
	if set.CN != hj212.CNSetTime || !set.AckRequested() || set.MN != mn || set.PW != "123456" || set.Params["PolId"] != "w01018" {
		t.Fatalf("second reply %s, want a 1012 for the logger's MN and PolId, asking for replies", set.Raw)
	}
	if _, err := time.ParseInLocation("20060102150405", set.Params["SystemTime"], time.FixedZone("CST", 8*3600)); err != nil {
		t.Errorf("1012 SystemTime: %v", err)
	}

	// The logger answers the 1012 as a request: 9011 QnRtn=1, then 9012 ExeRtn=1, with its QN.
	// Neither is answered: the next thing the receiver sends is the 9014 of a data upload.
	for _, cp := range []string{"CN=9011;PW=123456;MN=" + mn + ";Flag=4;CP=&&QnRtn=1&&", "CN=9012;PW=123456;MN=" + mn + ";Flag=4;CP=&&ExeRtn=1&&"} {
		lg.send("QN=" + set.QN + ";ST=91;" + cp)
	}
	now := time.Now().Truncate(time.Minute)
	lg.send(hj212test.Frame(mn, "123456", hj212.CNMinute, now, 1, 3, 1))
	if ack := next(); ack.CN != hj212.CNDataAck {
		t.Errorf("reply %s after the logger's 9011 and 9012, want the upload's 9014", ack.Raw)
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_frames WHERE mn = $1 AND qn = $2 AND cn IN ('9011', '9012') AND valid", mn, set.QN); n != 2 {
		t.Errorf("%d of the logger's replies to the 1012 stored, want 2 (9011 and 9012)", n)
	}

	// A wrong password: refused with QnRtn=3, the time not set.
	lg.send("QN=20160801085857224;ST=32;CN=1013;PW=654321;MN=" + mn + ";Flag=5;CP=&&&&")
	if f := next(); f.CN != hj212.CNRequestReply || f.QN != "20160801085857224" {
		t.Errorf("reply %s to a wrong password, want 9011 QnRtn=3", f.Raw)
	} else if f.Params["QnRtn"] != "3" {
		t.Errorf("QnRtn %q, want 3", f.Params["QnRtn"])
	}
	lg.send(hj212test.Frame(mn, "123456", hj212.CNMinute, now.Add(time.Minute), 2, 3, 2))
	if f := next(); f.CN != hj212.CNDataAck {
		t.Errorf("reply %s, want the 9014 (no 1012 for a wrong password)", f.Raw)
	}
}

// TestServeDataRequest: a data request queued for a point (the API's POST
// /monitoring/points/{mn}/data-requests) is sent to its logger once it is connected, as
// HJ 212-2017 Annex C.21 writes it ("CN=2061;...;Flag=5;CP=&&BeginTime=...;EndTime=...&&",
// caoyiliang/HJ212 Test/Program.cs); the logger's request reply and execution result are
// recorded with it, and the hour data it sends again is stored. A request of a logger not
// connected waits.
func TestServeDataRequest(t *testing.T) {
	defer func(poll, over time.Duration, n int) { requestPoll, requestOverTime, requestAttempts = poll, over, n }(requestPoll, requestOverTime, requestAttempts)
	requestPoll, requestOverTime, requestAttempts = 100*time.Millisecond, 3*time.Second, 3
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := testenv.PostgresURL(t)
	addr, db := startReceiver(t, url, hj212.Config{})
	hash, err := monitoring.HashPassword("654321")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO enterprises (uscc, name, industry) VALUES ('91320500MA1N2B3C4L', 'plant', 'steel');
		INSERT INTO monitoring_points (mn, uscc, outlet, geom, pw_hash) VALUES
			('REQ0001', '91320500MA1N2B3C4L', 'DA001', ST_SetSRID(ST_MakePoint(120.6, 31.3), 4326), '`+hash+`'),
			('REQ0002', '91320500MA1N2B3C4L', 'DA002', ST_SetSRID(ST_MakePoint(120.6, 31.3), 4326), '`+hash+`')`); err != nil {
		t.Fatal(err)
	}
	gap := time.Now().Truncate(time.Hour).Add(-5 * time.Hour)
	var id, idle int64
	for _, r := range []struct {
		mn string
		to *int64
	}{{"REQ0001", &id}, {"REQ0002", &idle}} {
		if err := db.Pool.QueryRow(ctx, `INSERT INTO monitoring_data_requests (mn, cn, begin_time, end_time, requested_by)
			VALUES ($1, '2061', $2, $3, 'analyst') RETURNING id`, r.mn, gap, gap.Add(2*time.Hour)).Scan(r.to); err != nil {
			t.Fatal(err)
		}
	}
	lg := dialLogger(t, addr)
	next, send := lg.next, lg.send
	// The logger makes itself known with a minute upload, then the request comes.
	send(hj212test.Frame("REQ0001", "654321", hj212.CNMinute, time.Now().Truncate(time.Minute), 1, 3, 1))
	if f := next(); f.CN != hj212.CNDataAck {
		t.Fatalf("reply %s to the upload, want 9014", f.Raw)
	}
	// A request, not an upload: no DataTime, which Parse asks of a 2061 it stores.
	raw := lg.raw()
	seg := string(raw[6 : len(raw)-6])
	cst := time.FixedZone("CST", 8*3600)
	want := ";ST=31;CN=2061;PW=654321;MN=REQ0001;Flag=5;CP=&&BeginTime=" + gap.In(cst).Format("20060102150405") +
		";EndTime=" + gap.Add(2*time.Hour).In(cst).Format("20060102150405") + "&&"
	qn, rest, _ := strings.Cut(strings.TrimPrefix(seg, "QN="), ";")
	if !strings.HasPrefix(seg, "QN=") || len(qn) != 17 || ";"+rest != want || fmt.Sprintf("%04X", hj212.CRC16([]byte(seg))) != string(raw[len(raw)-6:len(raw)-2]) {
		t.Fatalf("request %q, want QN=<17 digits>%s with its CRC", raw, want)
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_data_requests WHERE id = $1 AND qn = $2 AND sent_at IS NOT NULL", id, qn); n != 1 {
		t.Errorf("the request is not marked sent with its QN %s", qn)
	}
	req := &hj212.Frame{QN: qn}
	// The logger answers as a request asks (Annex C.21): 9011, the data, 9012.
	send("QN=" + req.QN + ";ST=91;CN=9011;PW=654321;MN=REQ0001;Flag=4;CP=&&QnRtn=1&&")
	for h := range 3 {
		send(hj212test.Frame("REQ0001", "654321", hj212.CNHour, gap.Add(time.Duration(h)*time.Hour), h, 3, 40+h))
		if f := next(); f.CN != hj212.CNDataAck {
			t.Fatalf("reply %s to the hour data sent again, want 9014", f.Raw)
		}
	}
	send("QN=" + req.QN + ";ST=91;CN=9012;PW=654321;MN=REQ0001;Flag=4;CP=&&ExeRtn=1&&")
	send(hj212test.Frame("REQ0001", "654321", hj212.CNMinute, time.Now().Truncate(time.Minute).Add(time.Minute), 2, 3, 2))
	if f := next(); f.CN != hj212.CNDataAck {
		t.Fatalf("reply %s, want 9014 (none to the logger's 9011 and 9012)", f.Raw)
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_data_requests WHERE id = $1 AND qn_rtn = '1' AND exe_rtn = '1' AND replied_at IS NOT NULL", id); n != 1 {
		t.Error("the logger's 9011 QnRtn=1 and 9012 ExeRtn=1 are not recorded with the request")
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'REQ0001' AND cn = '2061' AND data_time >= $1 AND data_time <= $2", gap, gap.Add(2*time.Hour)); n != 9 {
		t.Errorf("%d hour values of the gap stored, want 9 (3 hours × 3 factors)", n)
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_data_requests WHERE id = $1 AND sent_at IS NULL", idle); n != 1 {
		t.Error("the request of a logger not connected was marked sent")
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_data_requests WHERE id = $1 AND attempts = 1", id); n != 1 {
		t.Error("the request answered at once was sent more than once")
	}

	// A logger that does not answer gets the request again with its QN, 3 times in all.
	other := dialLogger(t, addr)
	other.send(hj212test.Frame("REQ0002", "654321", hj212.CNMinute, time.Now().Truncate(time.Minute), 3, 3, 3))
	if f := other.next(); f.CN != hj212.CNDataAck {
		t.Fatalf("reply %s to the upload, want 9014", f.Raw)
	}
	var qns []string
	for range 3 {
		seg := string(other.raw())
		qn, _, _ := strings.Cut(strings.TrimPrefix(seg[6:], "QN="), ";")
		qns = append(qns, qn)
	}
	if qns[0] != qns[1] || qns[1] != qns[2] {
		t.Errorf("the request sent again with QNs %v, want its own each time", qns)
	}
	other.c.SetReadDeadline(time.Now().Add(3 * requestOverTime / 2))
	if b, err := other.r.Next(); err == nil {
		t.Errorf("a fourth sending: %q", b)
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_data_requests WHERE id = $1 AND attempts = 3 AND replied_at IS NULL AND qn = $2", idle, qns[0]); n != 1 {
		t.Error("the unanswered request is not recorded sent 3 times with its QN")
	}
}

// rawLogger is a logger's connection to the receiver driven frame by frame: send writes the
// frame of a data segment, raw reads the receiver's next frame as sent, next reads it parsed
// (the test fails on one that is not valid).
type rawLogger struct {
	t *testing.T
	c net.Conn
	r *hj212.Reader
}

func dialLogger(t *testing.T, addr string) *rawLogger {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawLogger{t: t, c: c, r: hj212.NewReader(c, 0)}
}

func (l *rawLogger) sendRaw(b []byte) {
	l.t.Helper()
	if _, err := l.c.Write(b); err != nil {
		l.t.Fatal(err)
	}
}

func (l *rawLogger) send(data string) {
	l.t.Helper()
	l.sendRaw(hj212.Encode(data))
}

func (l *rawLogger) raw() []byte {
	l.t.Helper()
	b, err := l.r.Next()
	if err != nil {
		l.t.Fatalf("reading from the receiver: %v", err)
	}
	return b
}

func (l *rawLogger) next() *hj212.Frame {
	l.t.Helper()
	b := l.raw()
	f := hj212.Parse(b)
	if !f.Valid {
		l.t.Fatalf("frame %q: %s", b, f.Reason)
	}
	return f
}
