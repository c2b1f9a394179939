package postgres

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite/internal/hj212"
)

func mustRecord(tb testing.TB, data, quarantine string) *hj212.Record {
	tb.Helper()
	f := hj212.Parse(hj212.Encode(data))
	r := hj212.NewRecord(f, "192.0.2.1:5000", time.Now())
	r.Quarantine = quarantine
	return r
}

func countRows(tb testing.TB, db *DB, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestMonitoringStore(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := NewMonitoringStore(db)
	now := time.Now()
	if err := s.EnsureMonths(ctx, now, 1, 2); err != nil {
		t.Fatal(err)
	}
	dt := now.In(shanghai).Truncate(time.Hour).Format("20060102150405")
	up := func(qn, mn string) string {
		return "QN=" + qn + ";ST=31;CN=2061;PW=123456;MN=" + mn + ";Flag=5;CP=&&DataTime=" + dt +
			";a21026-Avg=12.5,a21026-ZsAvg=20.1,a21026-Flag=N;a19001-Avg=***,a19001-Flag=M&&"
	}
	first := mustRecord(t, up("20240501120000001", "MN1"), "")
	if !first.Frame.Valid {
		t.Fatal(first.Frame.Reason)
	}
	refused := hj212.NewRecord(hj212.Parse([]byte("##0005ABCDE0000\r\n")), "192.0.2.1:5000", now)
	if err := s.WriteBatch(ctx, []*hj212.Record{first, first, refused}); err != nil {
		t.Fatal(err)
	}
	// The same frame again, and a retransmission under another QN (other bytes, same values).
	again := mustRecord(t, up("20240501120000002", "MN1"), "")
	if err := s.WriteBatch(ctx, []*hj212.Record{first, again}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_frames WHERE mn = 'MN1'"); n != 2 {
		t.Errorf("%d frames of MN1, want 2 (two distinct frames, the repeat not doubled)", n)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'MN1'"); n != 2 {
		t.Errorf("%d values of MN1, want 2 (retransmissions never double)", n)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values_default"); n != 0 {
		t.Errorf("%d values in the default partition, want 0 (month partitions made ahead)", n)
	}
	var zs float64
	var flag, extra, sha string
	if err := db.Pool.QueryRow(ctx, `SELECT zs_avg, flag, frame_sha256 FROM monitoring_values WHERE factor = 'a21026'`).Scan(&zs, &flag, &sha); err != nil {
		t.Fatal(err)
	}
	if zs != 20.1 || flag != "N" || sha != first.SHA256 {
		t.Errorf("a21026: zs_avg %v flag %q frame %s", zs, flag, sha)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT extra::text FROM monitoring_values WHERE factor = 'a19001'`).Scan(&extra); err != nil || extra != `{"Avg": "***"}` {
		t.Errorf("a19001 extra = %s, %v", extra, err)
	}
	var valid bool
	var reason string
	if err := db.Pool.QueryRow(ctx, `SELECT valid, reason FROM monitoring_frames WHERE sha256 = $1`, refused.SHA256).Scan(&valid, &reason); err != nil || valid || !strings.HasPrefix(reason, "CRC") {
		t.Errorf("refused frame stored as valid=%v reason=%q (%v)", valid, reason, err)
	}

	// Quarantine: frames kept, no values until released.
	q := mustRecord(t, up("20240501120000003", "STRANGER"), "unknown MN")
	if err := s.WriteBatch(ctx, []*hj212.Record{q}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'STRANGER'"); n != 0 {
		t.Errorf("%d values of a quarantined MN, want 0", n)
	}
	list, err := s.ListQuarantine(ctx, 10)
	if err != nil || len(list) != 1 || list[0].MN != "STRANGER" || list[0].Reason != "unknown MN" || list[0].Frames != 1 {
		t.Fatalf("ListQuarantine = %+v, %v", list, err)
	}

	// Sub-packets: values once the message is complete, across batches.
	p1 := mustRecord(t, "QN=20240501120000009;ST=31;CN=2061;PW=1;MN=MN2;Flag=7;PNUM=2;PNO=1;CP=&&DataTime="+dt+";a21026-Avg=1&&", "")
	p2 := mustRecord(t, "QN=20240501120000009;ST=31;CN=2061;PW=1;MN=MN2;Flag=7;PNUM=2;PNO=2;CP=&&a21002-Avg=2&&", "")
	if err := s.WriteBatch(ctx, []*hj212.Record{p1}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'MN2'"); n != 0 {
		t.Errorf("%d values from half a message", n)
	}
	if err := s.WriteBatch(ctx, []*hj212.Record{p2}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'MN2'"); n != 2 {
		t.Errorf("%d values from a complete message, want 2", n)
	}

	// A month without a partition lands in the default one and moves when its partition is made.
	old := now.AddDate(0, -6, 0).In(shanghai)
	oldDT := time.Date(old.Year(), old.Month(), 10, 8, 0, 0, 0, shanghai)
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := hj212.Parse(hj212.Encode("QN=20240501120000010;ST=31;CN=2061;PW=1;MN=MN3;Flag=4;CP=&&DataTime=" + oldDT.Format("20060102150405") + ";a21026-Avg=1&&")).Rows("00")
	if err := insertRows(ctx, tx, rows, true); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values_default"); n != 1 {
		t.Fatalf("%d rows in default, want 1", n)
	}
	if err := s.ensureMonth(ctx, oldDT); err != nil {
		t.Fatal(err)
	}
	part := fmt.Sprintf("monitoring_values_%04d%02d", oldDT.Year(), oldDT.Month())
	if n := countRows(t, db, "SELECT count(*) FROM "+part); n != 1 {
		t.Errorf("%d rows in %s after it was made, want 1", n, part)
	}

	// The application's role cannot rewrite or remove evidence.
	for _, sql := range []string{
		"UPDATE monitoring_frames SET raw = 'x'",
		"DELETE FROM monitoring_frames",
		"DELETE FROM monitoring_values",
		"UPDATE " + part + " SET rtd = 0",
		"TRUNCATE monitoring_frames",
		"INSERT INTO monitoring_frames (sha256, raw, valid) VALUES (repeat('0', 64), 'x', true)",
	} {
		if _, err := db.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s: allowed to the application's role", sql)
		}
	}
}

func TestMonitoringCredentials(t *testing.T) {
	ctx := context.Background()
	s := NewMonitoringStore(MustOpen(t))
	if err := s.SetCredential(ctx, "MN1", "123456"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mn, pw string
		want   hj212.Verdict
	}{{"MN1", "123456", hj212.VerdictOK}, {"MN1", "654321", hj212.VerdictWrongPW}, {"MN9", "123456", hj212.VerdictUnknownMN}} {
		if got, err := s.Check(ctx, tc.mn, tc.pw); err != nil || got != tc.want {
			t.Errorf("Check(%s, %s) = %v, %v; want %v", tc.mn, tc.pw, got, err, tc.want)
		}
	}
	if err := s.SetCredential(ctx, "MN;1", "x"); err == nil {
		t.Error("an MN with ';' accepted")
	}
}

func TestMonitoringCSVImport(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := NewMonitoringStore(db)
	csv := "\ufeffMN,监测时间,数据类型,因子编码,平均值,折算平均值,标记\n" +
		"MN7,2024-05-01 13:00:00,hour,a21026,12.5,20.1,N\n" +
		"MN7,2024-05-01 13:00:00,hour,a19001,8.2,,N\n" +
		"MN7,2024-05-01,day,a21026,11.0,19.0,\n"
	recs, err := hj212.ReadCSV(strings.NewReader(csv), "export.csv", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // importing twice changes nothing
		if err := s.WriteBatch(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'MN7'"); n != 3 {
		t.Errorf("%d values, want 3", n)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_frames WHERE mn = 'MN7' AND version = 'csv' AND remote_addr = 'csv:export.csv'"); n != 3 {
		t.Errorf("%d csv rows kept as evidence, want 3", n)
	}
	var avg float64
	if err := db.Pool.QueryRow(ctx, "SELECT avg FROM monitoring_values WHERE mn = 'MN7' AND cn = '2031'").Scan(&avg); err != nil || avg != 11 {
		t.Errorf("day avg = %v, %v", avg, err)
	}
}

// TestMonitoringStoreRace: a retransmission stored by another transaction while a batch is
// being written (its COPY meets the other's row in the unique index) is written again the
// safe way: no error, nothing doubled.
func TestMonitoringStoreRace(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := NewMonitoringStore(db)
	now := time.Now()
	if err := s.EnsureMonths(ctx, now, 0, 1); err != nil {
		t.Fatal(err)
	}
	dt := now.In(shanghai).Truncate(time.Hour).Format("20060102150405")
	rec := mustRecord(t, "QN=20240501120000001;ST=31;CN=2061;PW=1;MN=RACE1;Flag=5;CP=&&DataTime="+dt+";a21026-Avg=1;a21002-Avg=2&&", "")
	other := mustRecord(t, "QN=20240501120000002;ST=31;CN=2061;PW=1;MN=RACE2;Flag=5;CP=&&DataTime="+dt+";a21026-Avg=1&&", "")
	// Transaction A stores the frame and its values, uncommitted.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := insertFrames(ctx, tx, new(copyBinary), []*hj212.Record{rec}, true); err != nil {
		t.Fatal(err)
	}
	if err := insertRows(ctx, tx, rec.Frame.Rows(rec.SHA256), true); err != nil {
		t.Fatal(err)
	}
	// B writes the same frame and another: its COPY waits on A's uncommitted row.
	done := make(chan error, 1)
	go func() { done <- s.WriteBatch(ctx, []*hj212.Record{rec, other}) }()
	time.Sleep(500 * time.Millisecond)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("WriteBatch racing a committed duplicate: %v", err)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_frames"); n != 2 {
		t.Errorf("%d frames, want 2", n)
	}
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values"); n != 3 {
		t.Errorf("%d values, want 3", n)
	}
}

// TestMonitoringStoreColumns: what the receiver's hand-encoded binary COPY stores reads back as
// the record it came from, every column of frames and values, by the fast way (COPY into the
// tables) and by the safe way (a batch holding a frame stored already).
func TestMonitoringStoreColumns(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := NewMonitoringStore(db)
	now := time.Now()
	if err := s.EnsureMonths(ctx, now, 0, 1); err != nil {
		t.Fatal(err)
	}
	dt := now.In(shanghai).Truncate(time.Minute).Add(-time.Minute)
	// Deviations (no QN, DataTime with milliseconds, a 2005 factor code), all numeric fields,
	// a value that is not a number, sub-packets, a quarantined frame.
	full := mustRecord(t, "ST=31;CN=2051;PW=1;MN=COLS1;Flag=5;CP=&&DataTime="+dt.Format("20060102150405")+"250"+
		";a21026-Rtd=1.5,a21026-Avg=-2,a21026-Min=3e2,a21026-Max=4.25,a21026-Cou=5,a21026-ZsRtd=6,a21026-ZsAvg=7,a21026-ZsMin=8,a21026-ZsMax=9,a21026-Flag=D"+
		";B02-Avg=x1,B02-EFlag=z&&", "")
	part := mustRecord(t, "QN=20240501120000009;ST=31;CN=2061;PW=1;MN=COLS2;Flag=7;PNUM=3;PNO=2;CP=&&a21002-Avg=2&&", "")
	quarantined := mustRecord(t, "QN=20240501120000010;ST=31;CN=2051;PW=9;MN=COLS3;Flag=5;CP=&&DataTime="+dt.Format("20060102150405")+";a21026-Avg=1&&", "wrong PW")
	refused := hj212.NewRecord(hj212.Parse([]byte("##0005ABCDE0000\r\n")), "192.0.2.9:7", now)
	recs := []*hj212.Record{full, part, quarantined, refused}
	check := func(way string) {
		t.Helper()
		for _, r := range recs {
			f := r.Frame
			var (
				received                                       time.Time
				addr, reason, version, qn, st, cn, mn, qreason string
				raw                                            []byte
				valid, quar                                    bool
				dataTime                                       *time.Time
				devs                                           []string
				pnum, pno                                      *int32
			)
			err := db.Pool.QueryRow(ctx, `SELECT received_at, remote_addr, raw, valid, reason, version, qn, st, cn, mn, data_time,
				deviations, quarantined, quarantine_reason, pnum, pno FROM monitoring_frames WHERE sha256 = $1`, r.SHA256).
				Scan(&received, &addr, &raw, &valid, &reason, &version, &qn, &st, &cn, &mn, &dataTime, &devs, &quar, &qreason, &pnum, &pno)
			if err != nil {
				t.Fatalf("%s: frame %s: %v", way, f.Raw, err)
			}
			wantDevs := f.Deviations
			if wantDevs == nil {
				wantDevs = []string{}
			}
			if !received.Equal(r.ReceivedAt.Truncate(time.Microsecond)) || addr != r.RemoteAddr || !bytes.Equal(raw, f.Raw) ||
				valid != f.Valid || reason != f.Reason || version != f.Version || qn != f.QN || st != f.ST || cn != f.CN ||
				mn != f.MN || !cmp.Equal(devs, wantDevs) || quar != (r.Quarantine != "") || qreason != r.Quarantine {
				t.Errorf("%s: frame %s stored as %v %q %v %q %q %q %q %q %q %q %v %q", way, f.Raw, received, addr, valid, reason,
					version, qn, st, cn, mn, devs, quar, qreason)
			}
			if (dataTime == nil) != f.Time.IsZero() || dataTime != nil && !dataTime.Equal(f.Time) {
				t.Errorf("%s: data_time %v, want %v", way, dataTime, f.Time)
			}
			if f.PNUM > 0 && (pnum == nil || pno == nil || int(*pnum) != f.PNUM || int(*pno) != f.PNO) || f.PNUM == 0 && (pnum != nil || pno != nil) {
				t.Errorf("%s: pnum %v pno %v, want %d %d", way, pnum, pno, f.PNUM, f.PNO)
			}
		}
		type value struct {
			Time                                                time.Time
			Rtd, Avg, Min, Max, Cou, ZsRtd, ZsAvg, ZsMin, ZsMax *float64
			Flag                                                *string
			Extra                                               map[string]string
			SHA                                                 string
		}
		var got []value
		rows, err := db.Pool.Query(ctx, `SELECT data_time, rtd, avg, min, max, cou, zs_rtd, zs_avg, zs_min, zs_max, flag, extra, frame_sha256
			FROM monitoring_values WHERE mn IN ('COLS1', 'COLS2', 'COLS3') ORDER BY factor DESC`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v value
			if err := rows.Scan(&v.Time, &v.Rtd, &v.Avg, &v.Min, &v.Max, &v.Cou, &v.ZsRtd, &v.ZsAvg, &v.ZsMin, &v.ZsMax, &v.Flag, &v.Extra, &v.SHA); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		num := func(x float64) *float64 { return &x }
		flag := "D"
		want := []value{
			{Time: full.Frame.Time, Rtd: num(1.5), Avg: num(-2), Min: num(300), Max: num(4.25), Cou: num(5), ZsRtd: num(6), ZsAvg: num(7),
				ZsMin: num(8), ZsMax: num(9), Flag: &flag, Extra: map[string]string{}, SHA: full.SHA256},
			{Time: full.Frame.Time, Extra: map[string]string{"Avg": "x1", "EFlag": "z"}, SHA: full.SHA256},
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("%s: values (-want +got):\n%s", way, diff)
		}
	}
	if err := s.WriteBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	check("COPY")
	// The same frames again with one new frame: the batch meets the stored ones and is
	// written the safe way, leaving them as they are.
	other := mustRecord(t, "QN=20240501120000011;ST=31;CN=2051;PW=1;MN=COLS4;Flag=5;CP=&&DataTime="+dt.Format("20060102150405")+";a21026-Avg=1&&", "")
	if err := s.WriteBatch(ctx, append(recs, other)); err != nil {
		t.Fatal(err)
	}
	check("INSERT ... ON CONFLICT")
	if n := countRows(t, db, "SELECT count(*) FROM monitoring_values WHERE mn = 'COLS4'"); n != 1 {
		t.Errorf("%d values of the new frame in a batch written the safe way, want 1", n)
	}
}
