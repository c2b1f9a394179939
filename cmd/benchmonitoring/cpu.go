package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times (100 on Linux).
const clockTicks = 100

// cpuSeconds returns the user+system CPU time of process pid, in seconds.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields are counted after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	// utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
	u, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return (u + st) / clockTicks, nil
}

// postgresCPU returns the CPU time of every process named postgres (the server and its
// backends, whoever they serve: other work on the machine counts too, which the load average
// printed beside it shows).
func postgresCPU() float64 {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	total := 0.0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		if c, err := cpuSeconds(pid); err == nil {
			total += c
		}
	}
	return total
}

// loadAverage returns the 1, 5 and 15 minute load averages as /proc/loadavg prints them.
func loadAverage() string {
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

// cpuMark is the CPU used so far by the receiver, the loggers (this process) and PostgreSQL.
type cpuMark struct {
	at                        time.Time
	receiver, loggers, server float64
}

func (b *bench) mark() cpuMark {
	m := cpuMark{at: time.Now(), server: postgresCPU()}
	m.receiver, _ = cpuSeconds(b.proc.Process.Pid)
	m.loggers, _ = cpuSeconds(os.Getpid())
	return m
}

// cpuLine prints the CPU used since from, as cores busy on average, the receiver's per frame
// acknowledged, and the load average (2 cores shared with other work: numbers move with it).
func cpuLine(from, to cpuMark, frames int) string {
	el := to.at.Sub(from.at).Seconds()
	rec := to.receiver - from.receiver
	s := fmt.Sprintf("  CPU (cores busy):         receiver %.2f, loggers %.2f, PostgreSQL %.2f; load average %s",
		rec/el, (to.loggers-from.loggers)/el, (to.server-from.server)/el, loadAverage())
	if frames > 0 {
		s += fmt.Sprintf("; receiver %.0f µs CPU per frame acknowledged", rec/float64(frames)*1e6)
	}
	return s
}
