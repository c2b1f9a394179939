package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/hj212"
	"github.com/offsite/offsite/internal/hj212/hj212test"
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
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := hj212.NewReader(c, 0)
	next := func() *hj212.Frame {
		t.Helper()
		raw, err := r.Next()
		if err != nil {
			t.Fatalf("reading the receiver's reply: %v", err)
		}
		f := hj212.Parse(raw)
		if !f.Valid {
			t.Fatalf("reply %q: %s", raw, f.Reason)
		}
		return f
	}
	req := hj212.Encode("QN=20160801085857223;ST=32;CN=1013;PW=123456;MN=" + mn + ";Flag=5;CP=&&PolId=w01018&&")
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
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
		if _, err := c.Write(hj212.Encode("QN=" + set.QN + ";ST=91;" + cp)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Truncate(time.Minute)
	if _, err := c.Write(hj212.Encode(hj212test.Frame(mn, "123456", hj212.CNMinute, now, 1, 3, 1))); err != nil {
		t.Fatal(err)
	}
	if ack := next(); ack.CN != hj212.CNDataAck {
		t.Errorf("reply %s after the logger's 9011 and 9012, want the upload's 9014", ack.Raw)
	}
	if n := count(t, db, "SELECT count(*) FROM monitoring_frames WHERE mn = $1 AND qn = $2 AND cn IN ('9011', '9012') AND valid", mn, set.QN); n != 2 {
		t.Errorf("%d of the logger's replies to the 1012 stored, want 2 (9011 and 9012)", n)
	}

	// A wrong password: refused with QnRtn=3, the time not set.
	if _, err := c.Write(hj212.Encode("QN=20160801085857224;ST=32;CN=1013;PW=654321;MN=" + mn + ";Flag=5;CP=&&&&")); err != nil {
		t.Fatal(err)
	}
	if f := next(); f.CN != hj212.CNRequestReply || f.QN != "20160801085857224" {
		t.Errorf("reply %s to a wrong password, want 9011 QnRtn=3", f.Raw)
	} else if f.Params["QnRtn"] != "3" {
		t.Errorf("QnRtn %q, want 3", f.Params["QnRtn"])
	}
	if _, err := c.Write(hj212.Encode(hj212test.Frame(mn, "123456", hj212.CNMinute, now.Add(time.Minute), 2, 3, 2))); err != nil {
		t.Fatal(err)
	}
	if f := next(); f.CN != hj212.CNDataAck {
		t.Errorf("reply %s, want the 9014 (no 1012 for a wrong password)", f.Raw)
	}
}
