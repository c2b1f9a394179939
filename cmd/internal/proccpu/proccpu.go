// Package proccpu reads the CPU time processes have used, from Linux's /proc, for the
// benchmarks: on a shared machine latency moves with everyone else's load, CPU time per
// request much less.
package proccpu

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc's times: USER_HZ, 100 on every Linux architecture Go runs on
// (sysconf(_SC_CLK_TCK)).
const clockTick = 10 * time.Millisecond

// Process returns the user and system CPU time process pid has used, its threads included.
func Process(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStat(string(b))
}

// parseStat reads utime and stime from the text of /proc/PID/stat.
func parseStat(s string) (time.Duration, error) {
	// The command, in parentheses, may hold spaces and parentheses: the fields start after
	// the last ')'. utime and stime are fields 14 and 15 of the line, 12 and 13 after it.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("proccpu: no command in /proc stat line")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("proccpu: %d fields after the command, want at least 13", len(f))
	}
	ut, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proccpu: utime: %w", err)
	}
	st, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proccpu: stime: %w", err)
	}
	return time.Duration(ut+st) * clockTick, nil
}

// Self returns the CPU time (user and system) of the calling process.
func Self() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// Group follows the CPU time of a set of processes that changes while it is watched, such as
// a database server's backends: processes that start during the watch count from zero.
type Group struct {
	start map[int]time.Duration
}

// Watch notes the CPU time of pids now. Processes that cannot be read are left out.
func Watch(pids []int) *Group {
	g := &Group{start: map[int]time.Duration{}}
	for _, pid := range pids {
		if t, err := Process(pid); err == nil {
			g.start[pid] = t
		}
	}
	return g
}

// Used returns the CPU time used since Watch by pids, the processes now in the set (those
// not in it at Watch count from zero: they started since), and how many of the watched
// processes are gone (their time since Watch is lost).
func (g *Group) Used(pids []int) (used time.Duration, gone int) {
	seen := map[int]bool{}
	for _, pid := range pids {
		t, err := Process(pid)
		if err != nil {
			continue
		}
		seen[pid] = true
		used += t - g.start[pid]
	}
	for pid := range g.start {
		if !seen[pid] {
			gone++
		}
	}
	return used, gone
}

// LoadAverage returns the machine's 1, 5 and 15 minute load averages as /proc/loadavg prints
// them, or "?" where it cannot be read: benchmarks print it beside their figures.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
