package hj212

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// ErrTruncated is returned by Reader.Next when the stream ends inside a frame (a connection
// cut mid-frame): the partial frame comes with it and is never acknowledged.
var ErrTruncated = errors.New("hj212: stream ended inside a frame")

// Reader splits a byte stream into frames, whatever the reads' boundaries: a frame split over
// several reads, several frames in one read. A frame runs from "##" to the first CR LF, or to
// just before the next "##" when a frame lacks its CR LF; what stands between frames is
// skipped and counted. It reads into an array of its own of smallBuffer bytes, which holds a
// data upload of about ten factors, so that such a frame takes one read; a longer frame moves
// to a larger buffer (at most MaxFrame bytes), given back once it is read.
type Reader struct {
	r        io.Reader
	buf      []byte // small, or a larger buffer while a longer frame is read (big)
	big      bool
	start    int
	end      int
	maxFrame int
	small    [smallBuffer]byte
	// Skipped counts the bytes read outside any frame.
	Skipped int64
}

// DefaultMaxFrame is the largest frame a four-digit length field can announce.
const DefaultMaxFrame = 2 + 4 + MaxDataLen + 4 + 2

// NewReader returns a Reader of r whose frames are at most maxFrame bytes (0 takes
// DefaultMaxFrame); a longer run of bytes is cut at maxFrame and returned as one (refused)
// frame.
func NewReader(r io.Reader, maxFrame int) *Reader {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	return &Reader{r: r, maxFrame: maxFrame}
}

// smallBuffer is the size of a Reader's own buffer: a ten-factor upload is about 470 bytes.
const smallBuffer = 512

var (
	header = []byte("##")
	crlf   = []byte("\r\n")
)

// Next returns the next frame's bytes, valid only until the following call. At the end of
// the stream it returns io.EOF, or ErrTruncated with the partial frame.
func (r *Reader) Next() ([]byte, error) {
	for {
		if frame, ok := r.scan(); ok {
			return frame, nil
		}
		if err := r.fill(); err != nil {
			if r.end > r.start {
				rest := r.buf[r.start:r.end]
				r.start, r.end = 0, 0
				if bytes.HasPrefix(rest, header) {
					return rest, ErrTruncated
				}
				r.Skipped += int64(len(rest))
			}
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, err
		}
	}
}

// scan looks for a complete frame in the buffer.
func (r *Reader) scan() ([]byte, bool) {
	b := r.buf[r.start:r.end]
	i := bytes.Index(b, header)
	if i < 0 {
		// Keep a last '#' that may begin a header.
		keep := 0
		if len(b) > 0 && b[len(b)-1] == '#' {
			keep = 1
		}
		r.Skipped += int64(len(b) - keep)
		r.start = r.end - keep
		return nil, false
	}
	if i > 0 {
		r.Skipped += int64(i)
		r.start += i
		b = b[i:]
	}
	limit := len(b)
	if limit > r.maxFrame {
		limit = r.maxFrame
	}
	end := -1
	if j := bytes.Index(b[2:limit], crlf); j >= 0 {
		end = 2 + j + 2
	}
	if j := bytes.Index(b[2:limit], header); j >= 0 && (end < 0 || 2+j < end) {
		end = 2 + j
	}
	if end < 0 {
		if len(b) < r.maxFrame {
			return nil, false
		}
		end = r.maxFrame
	}
	r.start += end
	return b[:end], true
}

// bufPool keeps the first size of larger buffer, for frames a little over smallBuffer.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 2*smallBuffer); return &b }}

// fill reads more bytes, compacting and growing the buffer as needed.
func (r *Reader) fill() error {
	if r.start == r.end {
		r.start, r.end = 0, 0
		if r.big {
			if len(r.buf) == 2*smallBuffer {
				b := r.buf
				bufPool.Put(&b)
			}
			r.big = false
		}
		r.buf = r.small[:]
	}
	if r.start > 0 && r.end == len(r.buf) {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		size := 2 * len(r.buf)
		if size > r.maxFrame+smallBuffer {
			size = r.maxFrame + smallBuffer
		}
		var nb []byte
		if size == 2*smallBuffer {
			nb = *bufPool.Get().(*[]byte)
		} else {
			nb = make([]byte, size)
		}
		copy(nb, r.buf[r.start:r.end])
		if r.big && len(r.buf) == 2*smallBuffer {
			b := r.buf
			bufPool.Put(&b)
		}
		r.end -= r.start
		r.start = 0
		r.buf, r.big = nb, true
	}
	n, err := r.r.Read(r.buf[r.end:])
	r.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		return io.ErrNoProgress
	}
	return err
}
