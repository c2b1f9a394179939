package hj212

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/offsite/offsite/internal/metrics"
)

// Verdict is what the credentials say of a frame's MN and PW.
type Verdict int

const (
	VerdictOK        Verdict = iota // MN known, PW right
	VerdictUnknownMN                // MN not registered
	VerdictWrongPW                  // MN registered, PW wrong
)

// Quarantine returns why a frame with this verdict is kept in quarantine, or "".
func (v Verdict) Quarantine() string {
	switch v {
	case VerdictUnknownMN:
		return "unknown MN"
	case VerdictWrongPW:
		return "wrong PW"
	}
	return ""
}

// Credentials checks a logger's MN and PW (the registry of monitoring points).
type Credentials interface {
	Check(ctx context.Context, mn, pw string) (Verdict, error)
}

// Writer is where the server puts records: Submit queues rec and returns a channel that
// receives nil once it is durable, Wait waits for that; Enqueue queues without a channel.
// *Batcher implements it.
type Writer interface {
	Submit(ctx context.Context, rec *Record) (<-chan error, error)
	Wait(ctx context.Context, done <-chan error) error
	Enqueue(rec *Record) error
}

// Config bounds the server.
type Config struct {
	// MaxFrame is the largest frame read, in bytes. Default DefaultMaxFrame (the most a
	// four-digit length can announce).
	MaxFrame int
	// MaxConns is the most connections open at once. Default 20000.
	MaxConns int
	// MaxConnsPerAddr is the most connections open at once from one IP address. Default 64.
	MaxConnsPerAddr int
	// IdleTimeout closes a connection that sent nothing for this long. Default 10 minutes
	// (a logger sends real-time data every 30 s and minute data every few minutes).
	IdleTimeout time.Duration
	// WriteTimeout bounds the sending of one reply. Default 10 s.
	WriteTimeout time.Duration
	// CredentialTTL is how long a credential check is remembered. Default 1 minute.
	CredentialTTL time.Duration
	// Handlers is the number of goroutines that parse the frames of all connections, check
	// their credentials and hand them to the Writer. Default 64: a handler waits for the
	// registry when a logger's credentials are not cached, so there are more of them than
	// cores, and still a fixed few stacks for any number of connections.
	Handlers int
}

// Server accepts data loggers' connections and stores what they send; it acknowledges a
// frame only once the frame is durable, so that a logger retransmits what was lost.
type Server struct {
	Config      Config
	Writer      Writer
	Credentials Credentials
	Logger      *slog.Logger
	Metrics     *metrics.Receiver
	Now         func() time.Time
	// OnReply, when set, is called with each reply of a logger to a request of the platform
	// (9011 QnRtn, 9012 ExeRtn) once it is durable, from valid credentials only, on the
	// connection's goroutine.
	OnReply func(f *Frame)

	handled atomic.Int64 // frames read
	work    chan *frameJob

	mu     sync.Mutex
	perIP  map[string]int
	conns  map[net.Conn]struct{}
	peers  map[string]*peer // MN → the connection its logger last sent from with its credentials right
	lastQN atomic.Int64     // the last QN of SendRequest, in ms since the epoch
	cache  map[string]cached
	// renewals bounds the credential renewals running in the background.
	renewals chan struct{}
	wg       sync.WaitGroup
	closed   bool
}

type cached struct {
	v        Verdict
	expires  time.Time
	renewing bool // a renewal is under way
}

func (s *Server) defaults() {
	c := &s.Config
	if c.MaxFrame <= 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 20000
	}
	if c.MaxConnsPerAddr <= 0 {
		c.MaxConnsPerAddr = 64
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 10 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.CredentialTTL <= 0 {
		c.CredentialTTL = time.Minute
	}
	if c.Handlers <= 0 {
		c.Handlers = 64
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// start sets the defaults and empties the server's state.
func (s *Server) start() {
	s.defaults()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perIP = map[string]int{}
	s.conns = map[net.Conn]struct{}{}
	s.cache = map[string]cached{}
	s.renewals = make(chan struct{}, 4)
	s.peers = map[string]*peer{}
}

// Serve accepts connections on ln until ctx is done, then closes them all and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.start()
	s.work = make(chan *frameJob)
	var handlers sync.WaitGroup
	for range s.Config.Handlers {
		handlers.Go(func() {
			for j := range s.work {
				j.done <- s.prepare(ctx, j.raw, j.addr)
			}
		})
	}
	defer func() {
		close(s.work)
		handlers.Wait()
	}()
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	defer stop()
	var err error
	for {
		var c net.Conn
		c, err = ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			break
		}
		if !s.admit(c) {
			c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.release(c)
			s.serveConn(ctx, c)
		}()
	}
	s.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func hostOf(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

func (s *Server) admit(c net.Conn) bool {
	host := hostOf(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	reason := ""
	switch {
	case s.closed:
		reason = "closing"
	case len(s.conns) >= s.Config.MaxConns:
		reason = "total"
	case s.perIP[host] >= s.Config.MaxConnsPerAddr:
		reason = "per_address"
	}
	if reason != "" {
		if s.Metrics != nil {
			s.Metrics.ConnsRejected.WithLabelValues(reason).Inc()
		}
		return false
	}
	s.perIP[host]++
	s.conns[c] = struct{}{}
	if s.Metrics != nil {
		s.Metrics.Connections.Inc()
	}
	return true
}

func (s *Server) release(c net.Conn) {
	c.Close()
	host := hostOf(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[host]--; s.perIP[host] <= 0 {
		delete(s.perIP, host)
	}
	delete(s.conns, c)
	if s.Metrics != nil {
		s.Metrics.Connections.Dec()
	}
}

// serveConn reads frames until the logger leaves, stays idle too long, or the server stops.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	r := NewReader(c, s.Config.MaxFrame)
	addr := c.RemoteAddr().String()
	pc := &peer{c: c}
	defer s.forget(pc)
	var idle time.Time // the read deadline set
	for {
		// The idle deadline is moved once an eighth of IdleTimeout has passed, not at every
		// frame (each move re-arms a runtime timer: 7% of the receiver's CPU at 5,000 frames/s):
		// a silent connection is closed after between 7/8 and all of IdleTimeout.
		if now := s.Now(); idle.Sub(now) < s.Config.IdleTimeout-s.Config.IdleTimeout/8 {
			idle = now.Add(s.Config.IdleTimeout)
			if err := c.SetReadDeadline(idle); err != nil {
				return
			}
		}
		skipped := r.Skipped
		unit, err := r.Next()
		if s.Metrics != nil && r.Skipped > skipped {
			s.Metrics.SkippedBytes.Add(float64(r.Skipped - skipped))
		}
		if err != nil {
			if errors.Is(err, ErrTruncated) {
				// A connection cut mid-frame: the part is neither stored nor acknowledged; the
				// logger sends the frame again.
				s.count("refused", "truncated")
			}
			return
		}
		s.handled.Add(1)
		// The frame is parsed and handed to the Writer by one of the server's handlers, whose
		// stacks are grown once for all frames; this goroutine, idle most of its life, keeps
		// a small stack and waits for durability before answering.
		j := &frameJob{raw: bytes.Clone(unit), addr: addr, done: make(chan prepared, 1)}
		select {
		case s.work <- j:
		case <-ctx.Done():
			return
		}
		if err := s.finish(ctx, pc, <-j.done); err != nil {
			s.Logger.Debug("connection closed", "remote", addr, "err", err)
			return
		}
	}
}

// Handled returns the number of frames read since the server started.
func (s *Server) Handled() int64 { return s.handled.Load() }

func (s *Server) count(outcome, kind string) {
	if s.Metrics == nil {
		return
	}
	s.Metrics.Frames.WithLabelValues(outcome).Inc()
	if kind != "" {
		s.Metrics.Refused.WithLabelValues(kind).Inc()
	}
}

// frameJob is a frame for a handler to prepare.
type frameJob struct {
	raw  []byte
	addr string
	done chan prepared
}

// prepared is a frame parsed and handed to the Writer: what its connection waits for and
// then sends.
type prepared struct {
	read       time.Time
	f          *Frame
	quarantine string
	durable    <-chan error // nil: nothing to wait for, nothing to answer
	replies    [][]byte
}

// prepare parses one frame, checks its credentials and submits it to the Writer.
func (s *Server) prepare(ctx context.Context, raw []byte, addr string) prepared {
	p := prepared{read: time.Now()}
	f := Parse(raw)
	p.f = f
	rec := NewRecord(f, addr, s.Now())
	if !f.Valid {
		// Kept as evidence of what was sent, never acknowledged: the logger retransmits.
		s.count("refused", RefusalKind(f.Reason))
		if err := s.Writer.Enqueue(rec); err != nil {
			s.Logger.Warn("refused frame not stored", "remote", addr, "err", err)
		}
		return p
	}
	if s.Metrics != nil {
		for _, d := range f.Deviations {
			s.Metrics.Deviations.WithLabelValues(d).Inc()
		}
	}
	v, err := s.check(ctx, f.MN, f.PW)
	if err != nil {
		// Without the registry the frame cannot be classified; the logger will send it again.
		s.count("store_failed", "")
		s.Logger.Error("check credentials", "mn", f.MN, "err", err)
		return p
	}
	rec.Quarantine = v.Quarantine()
	p.quarantine = rec.Quarantine
	if p.durable, err = s.Writer.Submit(ctx, rec); err != nil {
		s.count("store_failed", "")
		s.Logger.Error("store frame", "mn", f.MN, "cn", f.CN, "err", err)
		return p
	}
	// Built now, sent only once the frame is durable.
	p.replies = Replies(f, v, s.Now())
	return p
}

// finish waits until a prepared frame is durable, then sends the replies it asks for; an
// error ends the connection.
func (s *Server) finish(ctx context.Context, pc *peer, p prepared) error {
	if p.durable == nil {
		return nil
	}
	if err := s.Writer.Wait(ctx, p.durable); err != nil {
		s.count("store_failed", "")
		s.Logger.Error("store frame", "mn", p.f.MN, "cn", p.f.CN, "err", err)
		return nil
	}
	if p.quarantine != "" {
		s.count("quarantined", "")
	} else {
		s.count("stored", "")
		if s.Metrics != nil {
			s.Metrics.Values.Add(float64(len(p.f.Values)))
		}
		s.remember(pc, p.f)
		if s.OnReply != nil && (p.f.CN == CNRequestReply || p.f.CN == CNExecResult) {
			s.OnReply(p.f)
		}
	}
	if len(p.replies) == 0 {
		return nil
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if err := pc.writeDeadline(s.Now(), s.Config.WriteTimeout); err != nil {
		return err
	}
	for _, r := range p.replies {
		if _, err := pc.c.Write(r); err != nil {
			return err
		}
	}
	if s.Metrics != nil {
		s.Metrics.AckSeconds.Observe(time.Since(p.read).Seconds())
	}
	return nil
}

// peer is a connection and what addresses its logger's requests: the MN, PW, ST and version
// of its last frame with its credentials right. mu serialises the writes on c.
type peer struct {
	c               net.Conn
	mu              sync.Mutex
	mn, pw, st, ver string
	wdl             time.Time // the write deadline set on c
}

// writeDeadline makes sure that a write on pc's connection from now has between half and all
// of timeout to finish, moving the deadline only when less than half is left (a move per reply
// re-arms a runtime timer). pc.mu is held.
func (pc *peer) writeDeadline(now time.Time, timeout time.Duration) error {
	if pc.wdl.Sub(now) >= timeout/2 {
		return nil
	}
	pc.wdl = now.Add(timeout)
	return pc.c.SetWriteDeadline(pc.wdl)
}

// remember makes pc the connection of f's logger, for SendRequest; the server's lock is taken
// only when the connection's logger or its header changes.
func (s *Server) remember(pc *peer, f *Frame) {
	if f.MN == "" || IsReply(f.CN) || pc.mn == f.MN && pc.pw == f.PW && pc.st == f.ST && pc.ver == f.Version {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pc.mu.Lock()
	if pc.mn != "" && pc.mn != f.MN && s.peers[pc.mn] == pc {
		delete(s.peers, pc.mn)
	}
	pc.mn, pc.pw, pc.st, pc.ver = f.MN, f.PW, f.ST, f.Version
	pc.mu.Unlock()
	if s.peers != nil {
		s.peers[f.MN] = pc
	}
}

// forget drops pc, whose connection ends, as its logger's connection.
func (s *Server) forget(pc *peer) {
	if pc.mn == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peers[pc.mn] == pc {
		delete(s.peers, pc.mn)
	}
}

// ErrNotConnected is returned by SendRequest when no logger of the MN is connected.
var ErrNotConnected = errors.New("hj212: the logger is not connected")

// Connected reports whether a logger of mn is connected (it sent a frame with its credentials
// right on a connection still open).
func (s *Server) Connected(mn string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peers[mn] != nil
}

// NextQN returns a request number (QN, yyyyMMddHHmmsszzz in China Standard Time) that no other
// call of this server returned: the time, moved on by a millisecond when taken.
func (s *Server) NextQN() string {
	for {
		last := s.lastQN.Load()
		ms := s.now().UnixMilli()
		if ms <= last {
			ms = last + 1
		}
		if s.lastQN.CompareAndSwap(last, ms) {
			t := time.UnixMilli(ms).In(cst)
			return t.Format("20060102150405") + t.Format(".000")[1:]
		}
	}
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// SendRequest sends the platform's request cn with command parameters cp (without the &&)
// and QN qn to the connected logger of mn, addressed with the PW and ST of its frames and
// asking for its replies (Flag 5; HJ/T 212-2005 has no Flag). ErrNotConnected when none is.
func (s *Server) SendRequest(mn, qn, cn, cp string) error {
	s.mu.Lock()
	pc := s.peers[mn]
	s.mu.Unlock()
	if pc == nil {
		return ErrNotConnected
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	b := command(&Frame{QN: qn, ST: pc.st, PW: pc.pw, MN: pc.mn, Version: pc.ver}, cn, cp)
	if err := pc.writeDeadline(s.now(), s.Config.WriteTimeout); err != nil {
		return err
	}
	_, err := pc.c.Write(b)
	return err
}

// check asks the credentials, remembering answers for CredentialTTL. A logger's answer is
// renewed ahead of its expiry, in the background, by the first frame that finds it in the last
// quarter of its life, and the frame is answered from the cache meanwhile: loggers connected
// together (a receiver restart, a network back) would otherwise all miss the cache in the same
// second, a minute later and every minute after, each frame waiting for the registry (at
// 10,000 loggers, 20,000 queries in two seconds and acknowledgements held up by 0.5 s).
// Expiries are also spread over ±10% of the TTL. An answer older than the TTL is never used.
func (s *Server) check(ctx context.Context, mn, pw string) (Verdict, error) {
	key := mn + "\x00" + pw
	now := s.Now()
	ttl := s.Config.CredentialTTL
	s.mu.Lock()
	e, ok := s.cache[key]
	renew := ok && now.Before(e.expires) && !e.renewing && e.expires.Sub(now) < ttl/4
	if renew {
		e.renewing = true
		s.cache[key] = e
	}
	s.mu.Unlock()
	if ok && now.Before(e.expires) {
		if renew {
			select {
			case s.renewals <- struct{}{}:
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					defer func() { <-s.renewals }()
					rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					defer cancel()
					if _, err := s.lookup(rctx, key, mn, pw); err != nil {
						s.Logger.Warn("renew credentials", "mn", mn, "err", err)
					}
				}()
			default:
				// Enough renewals running: a later frame tries again.
				s.mu.Lock()
				if c, ok := s.cache[key]; ok {
					c.renewing = false
					s.cache[key] = c
				}
				s.mu.Unlock()
			}
		}
		return e.v, nil
	}
	return s.lookup(ctx, key, mn, pw)
}

// lookup asks the credentials and remembers the answer.
func (s *Server) lookup(ctx context.Context, key, mn, pw string) (Verdict, error) {
	if s.Credentials == nil {
		return VerdictUnknownMN, nil
	}
	v, err := s.Credentials.Check(ctx, mn, pw)
	if err != nil {
		return 0, err
	}
	ttl := s.Config.CredentialTTL
	// Spread over [0.9, 1.1) of the TTL by the key's hash and the time: no two loggers' answers
	// need to expire together.
	h := fnv.New32a()
	h.Write([]byte(key))
	jitter := time.Duration(uint64(ttl/5) * uint64((h.Sum32()^uint32(time.Now().UnixNano()))%1024) / 1024)
	s.mu.Lock()
	if len(s.cache) > 100000 {
		s.cache = map[string]cached{}
	}
	s.cache[key] = cached{v: v, expires: s.Now().Add(ttl - ttl/10 + jitter)}
	s.mu.Unlock()
	return v, nil
}

// Replies returns what the platform sends back for a stored frame f, following the
// communication flows of HJ 212-2017 (6.6) as its Annex C shows them:
//   - a data upload whose Flag asks for a reply: the data acknowledgement (9014);
//   - the logger's time calibration request (1013, Annex C.4) is a notice: the platform
//     answers with the notice reply (9013) when the Flag asks for one, then executes it by
//     sending its own request to set the logger's time (1012, Annex C.3), with Flag 5 so that
//     the logger answers that request with its request reply (9011 QnRtn) and execution
//     result (9012 ExeRtn), which the receiver stores like any frame;
//   - another request: the request reply 9011 with QnRtn 2 (refused: the receiver executes
//     none);
//   - any of these from an unknown MN: QnRtn 2; with a wrong PW: QnRtn 3 (and no 1012);
//   - the logger's own replies (9011–9014): none.
//
// The server sends them only once f is durable.
func Replies(f *Frame, v Verdict, now time.Time) [][]byte {
	switch {
	case IsReply(f.CN):
		return nil
	case IsUpload(f.CN):
		if f.AckRequested() {
			return [][]byte{Reply(f, CNDataAck, "")}
		}
		return nil
	}
	ack := f.Flag < 0 || f.AckRequested()
	var out [][]byte
	switch {
	case v == VerdictWrongPW:
		if ack {
			out = append(out, Reply(f, CNRequestReply, "QnRtn=3"))
		}
	case v == VerdictUnknownMN:
		if ack {
			out = append(out, Reply(f, CNRequestReply, "QnRtn=2"))
		}
	case f.CN == CNTimeRequest:
		if ack {
			out = append(out, Reply(f, CNNotice, ""))
		}
		t := now.In(cst)
		cp := "SystemTime=" + t.Format("20060102150405")
		if pol, ok := f.Params["PolId"]; ok {
			cp = "PolId=" + pol + ";" + cp
		}
		set := *f
		set.QN = t.Format("20060102150405") + t.Format(".000")[1:]
		out = append(out, command(&set, CNSetTime, cp))
	default:
		if ack {
			out = append(out, Reply(f, CNRequestReply, "QnRtn=2"))
		}
	}
	return out
}

// command returns a platform request to the logger of f.
func command(f *Frame, cn, cp string) []byte {
	if f.Version == "2005" {
		return Encode("QN=" + f.QN + ";ST=" + f.ST + ";CN=" + cn + ";PW=" + f.PW + ";MN=" + f.MN + ";CP=&&" + cp + "&&")
	}
	return Encode("QN=" + f.QN + ";ST=" + f.ST + ";CN=" + cn + ";PW=" + f.PW + ";MN=" + f.MN + ";Flag=5;CP=&&" + cp + "&&")
}

// RefusalKind classifies a refusal reason for metrics: length, crc, truncated or format.
func RefusalKind(reason string) string {
	switch {
	case strings.HasPrefix(reason, "length field"), strings.HasPrefix(reason, "not terminated"), strings.Contains(reason, "too short"):
		return "length"
	case strings.HasPrefix(reason, "CRC"):
		return "crc"
	case strings.HasPrefix(reason, "truncated"):
		return "truncated"
	}
	return "format"
}
