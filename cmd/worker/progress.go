package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress prints how far a long run is on stderr: items done of the total, the rate and the
// time left, on one line rewritten in place. It is silent unless on is set (a terminal, and
// no --quiet; or --progress).
type progress struct {
	w     io.Writer
	label string
	on    bool
	start time.Time
	mu    sync.Mutex
	last  time.Time
	wrote bool
	// pending is the last update not yet shown, printed by Done.
	pending     bool
	done, total int
	// now is the clock; tests replace it.
	now func() time.Time
}

// newProgress returns a progress line for label on w; mode is "auto" (on when w is a
// terminal), "on" or "off".
func newProgress(w io.Writer, label, mode string) *progress {
	on := mode == "on" || (mode == "auto" && isTerminal(w))
	return &progress{w: w, label: label, on: on, now: time.Now, start: time.Now()}
}

// progressMode is the mode that --quiet and --progress select.
func progressMode(quiet, force bool) string {
	switch {
	case quiet:
		return "off"
	case force:
		return "on"
	}
	return "auto"
}

// isTerminal reports whether w is a character device (a terminal), not a file or pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Update reports done of total items; lines are at most 5 a second, and the last one always.
func (p *progress) Update(done, total int) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = done, total
	now := p.now()
	if done < total && now.Sub(p.last) < 200*time.Millisecond {
		p.pending = true
		return
	}
	p.last = now
	p.show(now)
}

// show prints the line for p.done of p.total.
func (p *progress) show(now time.Time) {
	done, total := p.done, p.total
	p.pending = false
	el := now.Sub(p.start).Seconds()
	line := fmt.Sprintf("%s: %d/%d parcels", p.label, done, total)
	if el > 0 && done > 0 {
		rate := float64(done) / el
		line += fmt.Sprintf(", %.1f/s", rate)
		if done < total {
			line += ", ETA " + (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
		}
	}
	fmt.Fprintf(p.w, "\r%-70s", line)
	p.wrote = true
}

// Done ends the progress line so that what follows starts on a line of its own.
func (p *progress) Done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		p.show(p.now())
	}
	if p.wrote {
		fmt.Fprintln(p.w)
		p.wrote = false
	}
}
