package hj212

import (
	"strings"
	"testing"
	"time"
)

func TestReadCSVRefuses(t *testing.T) {
	for _, tc := range []struct{ name, csv, want string }{
		{"empty", "", "empty file"},
		{"unknown column", "mn,datatime,cn,factor,speed\n", `column 5 "speed"`},
		{"missing column", "mn,datatime,factor\nM,2024-05-01 13:00,a\n", "no cn column"},
		{"bad time", "mn,datatime,cn,factor\nM,yesterday,2061,a21026\n", `line 2: datatime "yesterday"`},
		{"bad number", "mn,datatime,cn,factor,avg\nM,2024-05-01 13:00,2061,a21026,12,5\n", "wrong number of fields"},
		{"not a number", "mn,datatime,cn,factor,avg\nM,2024-05-01 13:00,2061,a21026,abc\n", `Avg "abc" is not a number`},
		{"hour off the hour", "mn,datatime,cn,factor\nM,2024-05-01 13:30,2061,a21026\n", "on the hour"},
		{"bad flag", "mn,datatime,cn,factor,flag\nM,2024-05-01 13:00,2061,a21026,X\n", `flag "X"`},
		{"bad mn", "mn,datatime,cn,factor\nM;1,2024-05-01 13:00,2061,a21026\n", `mn "M;1"`},
		{"no rows", "mn,datatime,cn,factor\n", "no rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tc.csv), "f.csv", time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "f.csv") {
				t.Errorf("err = %v, want it to name f.csv and contain %q", err, tc.want)
			}
		})
	}
}

func TestReadCSV(t *testing.T) {
	recs, err := ReadCSV(strings.NewReader("mn,datatime,cn,factor,avg,flag\r\nM1,2024/05/01 13:00,2061,a21026,12.5,N\r\n"), "f.csv", time.Now())
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %v", recs, err)
	}
	f := recs[0].Frame
	if f.MN != "M1" || f.CN != "2061" || f.DataTime != "20240501130000" || string(f.Raw) != "mn,datatime,cn,factor,avg,flag\nM1,2024/05/01 13:00,2061,a21026,12.5,N" {
		t.Errorf("frame %+v raw %q", f, f.Raw)
	}
	if rows := f.Rows(recs[0].SHA256); len(rows) != 1 || *rows[0].Avg != 12.5 || rows[0].Flag != "N" {
		t.Errorf("rows %+v", rows)
	}
}
