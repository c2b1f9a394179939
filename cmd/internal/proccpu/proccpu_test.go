package proccpu

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command with spaces and parentheses, as /proc shows it.
	line := "4242 (post gres: x (y)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 37 0 0 20 0 1 0 100 0 0"
	got, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 287 * 10 * time.Millisecond; got != want {
		t.Errorf("parseStat = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 utime 12"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
}

// burn uses about d of CPU.
func burn(d time.Duration) {
	b := []byte("x")
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 1000 {
			s := sha256.Sum256(b)
			b = s[:]
		}
	}
}

// TestSelfAndProcess: this process's CPU time grows with work, read either way, and a
// process's time counts only while it is watched.
func TestSelfAndProcess(t *testing.T) {
	s0, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	p0, err := Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	g := Watch([]int{os.Getpid(), -1})
	burn(300 * time.Millisecond)
	s1, _ := Self()
	p1, _ := Process(os.Getpid())
	if s1 <= s0 || p1 <= p0 {
		t.Fatalf("CPU time did not grow with work: self %v→%v, /proc %v→%v", s0, s1, p0, p1)
	}
	used, gone := g.Used([]int{os.Getpid()})
	if used <= 0 || used > p1 || gone != 0 {
		t.Errorf("Used = %v, %d gone; want the time since Watch (≤ %v) and none gone", used, gone, p1)
	}
	// A process that ends is gone; one started since counts from zero.
	cmd := exec.Command("sleep", "0")
	if err := cmd.Run(); err != nil {
		t.Skip("no sleep command:", err)
	}
	g = Watch([]int{cmd.Process.Pid, os.Getpid()})
	if len(g.start) != 1 {
		t.Errorf("watched %d processes, want only this one (the other has ended)", len(g.start))
	}
	if _, err := Process(cmd.Process.Pid); err == nil {
		t.Error("an ended process's CPU time was read")
	}
}

func TestLoadAverage(t *testing.T) {
	f := strings.Fields(LoadAverage())
	if len(f) != 3 {
		t.Fatalf("LoadAverage() = %q, want three numbers", LoadAverage())
	}
	for _, x := range f {
		if v, err := strconv.ParseFloat(x, 64); err != nil || v < 0 {
			t.Errorf("load average %q is not a non-negative number", x)
		}
	}
}
