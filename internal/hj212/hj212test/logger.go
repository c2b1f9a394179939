// Package hj212test simulates data loggers for tests and benchmarks of the HJ 212 receiver:
// each sends its frames over TCP and, as HJ 212-2017 (6.3) asks of a logger whose frame was not
// acknowledged in time, sends it again, reconnecting when the connection is gone.
package hj212test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite/internal/hj212"
)

// Logger is one simulated data logger. It is not safe for concurrent use.
type Logger struct {
	Addr, MN, PW string
	// AckTimeout is how long it waits for a 9014 before sending the frame again. Default 5 s.
	AckTimeout time.Duration
	// Retries is how often a frame is sent again before Send gives up; 0: until ctx is done.
	Retries int

	conn net.Conn
	r    *hj212.Reader
	// Resent counts the frames sent more than once; Reconnects the connections made after the
	// first.
	Resent, Reconnects int
	dialed             bool
}

// Frame returns the data segment of a data upload (cn 2011 real-time, 2051 minute, ...) at
// t with factors factors whose values derive from seq, with Flag=5 (version 2017, reply asked).
// It is built with appends rather than fmt: the benchmark's 10,000 loggers share the machine's
// cores with the receiver they measure.
func Frame(mn, pw, cn string, t time.Time, qnSeq, factors int, seq int) string {
	lt := t.In(cst)
	b := make([]byte, 0, 96+factors*40)
	b = append(b, "QN="...)
	b = lt.AppendFormat(b, "20060102150405")
	b = appendPadded(b, qnSeq%1000, 3)
	b = append(b, ";ST=31;CN="...)
	b = append(b, cn...)
	b = append(b, ";PW="...)
	b = append(b, pw...)
	b = append(b, ";MN="...)
	b = append(b, mn...)
	b = append(b, ";Flag=5;CP=&&DataTime="...)
	b = lt.AppendFormat(b, "20060102150405")
	field := "Avg"
	if cn == hj212.CNRealTime {
		field = "Rtd"
	}
	for i := range factors {
		code := ""
		if i < len(Factors) {
			code = Factors[i]
		} else {
			code = "a9" + string(appendPadded(nil, i, 4))
		}
		b = append(b, ';')
		b = append(b, code...)
		b = append(b, '-')
		b = append(b, field...)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64((seq+i)%500), 10)
		b = append(b, '.')
		b = appendPadded(b, (seq*7+i)%1000, 3)
		b = append(b, ',')
		b = append(b, code...)
		b = append(b, "-Flag=N"...)
	}
	b = append(b, "&&"...)
	return string(b)
}

// cst is China Standard Time, in which loggers write QN and DataTime.
var cst = time.FixedZone("CST", 8*3600)

// appendPadded appends n (≥ 0) in decimal, zero-padded to width digits.
func appendPadded(b []byte, n, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// Factors are flue-gas factor codes of HJ 212-2017 used by Frame.
var Factors = []string{"a21026", "a21002", "a34013", "a19001", "a01012", "a01013", "a01014", "a01011", "a00000", "a21005"}

// ErrGaveUp is returned by Send after Retries unacknowledged attempts.
var ErrGaveUp = errors.New("hj212test: frame never acknowledged")

func (l *Logger) dial(ctx context.Context) error {
	if l.conn != nil {
		return nil
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", l.Addr)
	if err != nil {
		return err
	}
	if l.dialed {
		l.Reconnects++
	}
	l.dialed = true
	l.conn, l.r = c, hj212.NewReader(c, 0)
	return nil
}

// Connect opens the logger's connection (Send does when needed).
func (l *Logger) Connect(ctx context.Context) error { return l.dial(ctx) }

// Close closes the connection.
func (l *Logger) Close() error {
	if l.conn == nil {
		return nil
	}
	err := l.conn.Close()
	l.conn = nil
	return err
}

// Send sends the frame of data segment data and waits for its 9014 (matched by QN), sending it
// again after AckTimeout or a lost connection, until acknowledged. It returns the time from
// the last sending to its acknowledgement.
func (l *Logger) Send(ctx context.Context, data string) (time.Duration, error) {
	frame := hj212.Encode(data)
	qn := qnOf(data)
	timeout := l.AckTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if l.Retries > 0 && attempt > l.Retries {
			return 0, ErrGaveUp
		}
		if attempt > 0 {
			l.Resent++
		}
		if err := l.dial(ctx); err != nil {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		start := time.Now()
		if _, err := l.conn.Write(frame); err != nil {
			l.Close()
			continue
		}
		if err := l.awaitAck(qn, start.Add(timeout)); err != nil {
			// Timed out or connection lost: a new connection, the frame again.
			l.Close()
			continue
		}
		return time.Since(start), nil
	}
}

// qnOf returns the QN field of data segment data, "" when it has none.
func qnOf(data string) string {
	head, _, _ := strings.Cut(data, "CP=&&")
	for item := range strings.SplitSeq(head, ";") {
		if v, ok := strings.CutPrefix(item, "QN="); ok {
			return v
		}
	}
	return ""
}

func (l *Logger) awaitAck(qn string, deadline time.Time) error {
	if err := l.conn.SetReadDeadline(deadline); err != nil {
		return err
	}
	for {
		raw, err := l.r.Next()
		if err != nil {
			return err
		}
		f := hj212.Parse(raw)
		if f.Valid && f.CN == hj212.CNDataAck && f.QN == qn {
			return nil
		}
	}
}

// WriteRaw writes b on the logger's connection as it is (a partial frame, garbage).
func (l *Logger) WriteRaw(ctx context.Context, b []byte) error {
	if err := l.dial(ctx); err != nil {
		return err
	}
	_, err := l.conn.Write(b)
	return err
}
