package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestHelpVersionUsage: help is asked for, not an error (exit 0), for the receiver and each
// command; bad usage exits 2 naming the problem; none of these needs a service.
func TestHelpVersionUsage(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		out, want  string // "stdout" or "stderr", and what it must contain
		wantStatus int
	}{
		{[]string{"help"}, "stdout", "Exit status", 0},
		{[]string{"--help"}, "stdout", "decode       print one JSON object", 0},
		{[]string{"-h"}, "stdout", "Commands:", 0},
		{[]string{"version"}, "stdout", "receiver ", 0},
		{[]string{"--version"}, "stdout", "receiver ", 0},
		{[]string{"help", "serve"}, "stdout", "-max-conns", 0},
		{[]string{"serve", "--help"}, "stderr", "-idle-timeout", 0},
		{[]string{"decode", "-h"}, "stderr", "usage: receiver decode", 0},
		{[]string{"quarantine", "-h"}, "stderr", "-limit", 0},
		{[]string{"recieve"}, "stderr", `unknown command "recieve"`, 2},
		{[]string{"serve", "--no-such-flag"}, "stderr", "no-such-flag", 2},
		{[]string{"serve", "extra"}, "stderr", "unexpected arguments", 2},
		{[]string{"serve", "-max-frame", "10"}, "stderr", "-max-frame 10", 2},
		{[]string{"decode", "a", "b"}, "stderr", "one FILE at most", 2},
		{[]string{"quarantine", "-limit", "0"}, "stderr", "-limit of at least 1", 2},
		{[]string{"import-csv"}, "stderr", "give one or more CSV files", 2},
		{[]string{"credentials"}, "stderr", "give one MN", 2},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, strings.NewReader(""), &stdout, &stderr)
			if st := program(nil).ExitStatus(err, &stderr); st != tc.wantStatus {
				t.Errorf("exit status %d (err %v), want %d", st, err, tc.wantStatus)
			}
			got := stdout.String()
			if tc.out == "stderr" {
				got = stderr.String()
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s = %q, want it to contain %q", tc.out, got, tc.want)
			}
		})
	}
}

// TestIdleWatch: memory is released once per quiet spell that follows frames, never while
// frames come, and not at start.
func TestIdleWatch(t *testing.T) {
	w := idleWatch{last: 0, released: true}
	var got []bool
	for _, n := range []int64{0, 0, 5, 9, 9, 9, 9, 10, 10, 10} {
		got = append(got, w.tick(n))
	}
	want := []bool{false, false, false, false, true, false, false, false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ticks released %v, want %v", got, want)
		}
	}
}
