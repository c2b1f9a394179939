package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyBinary builds a COPY ... FROM STDIN (FORMAT binary) stream by hand, for the receiver's
// hot path: pgx.CopyFrom takes each value as an interface and looks up its encoder, which cost
// the receiver more CPU per frame than parsing the frame. Each method appends one field of the
// current tuple in PostgreSQL's binary send format.
type copyBinary struct{ b []byte }

// pgEpochMicros is 2000-01-01 00:00:00 UTC, PostgreSQL's timestamp epoch, in Unix microseconds.
const pgEpochMicros = 946684800 * 1000000

// textOID is the type of a text[]'s elements.
const textOID = 25

func (c *copyBinary) reset() {
	c.b = append(c.b[:0], "PGCOPY\n\xff\r\n\x00"...)
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // flags
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // header extension length
}

// tuple begins a row of n fields.
func (c *copyBinary) tuple(n int) { c.b = binary.BigEndian.AppendUint16(c.b, uint16(n)) }

func (c *copyBinary) length(n int) { c.b = binary.BigEndian.AppendUint32(c.b, uint32(int32(n))) }

func (c *copyBinary) null() { c.length(-1) }

func (c *copyBinary) text(s string) {
	c.length(len(s))
	c.b = append(c.b, s...)
}

// textOrNull writes "" as NULL.
func (c *copyBinary) textOrNull(s string) {
	if s == "" {
		c.null()
		return
	}
	c.text(s)
}

func (c *copyBinary) bytea(b []byte) {
	c.length(len(b))
	c.b = append(c.b, b...)
}

func (c *copyBinary) bool(v bool) {
	c.length(1)
	if v {
		c.b = append(c.b, 1)
	} else {
		c.b = append(c.b, 0)
	}
}

func (c *copyBinary) int4(v int) {
	c.length(4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(int32(v)))
}

func (c *copyBinary) float8(p *float64) {
	if p == nil {
		c.null()
		return
	}
	c.length(8)
	c.b = binary.BigEndian.AppendUint64(c.b, math.Float64bits(*p))
}

// timestamptz writes t, or NULL when t is zero.
func (c *copyBinary) timestamptz(t time.Time) {
	if t.IsZero() {
		c.null()
		return
	}
	c.length(8)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(t.UnixMicro()-pgEpochMicros))
}

// textArray writes ss as a one-dimensional text[] ('{}' when empty).
func (c *copyBinary) textArray(ss []string) {
	n := 12
	if len(ss) > 0 {
		n += 8
		for _, s := range ss {
			n += 4 + len(s)
		}
	}
	c.length(n)
	dims := 0
	if len(ss) > 0 {
		dims = 1
	}
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(dims))
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // no NULL elements
	c.b = binary.BigEndian.AppendUint32(c.b, textOID)
	if dims == 1 {
		c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(ss)))
		c.b = binary.BigEndian.AppendUint32(c.b, 1) // lower bound
		for _, s := range ss {
			c.text(s)
		}
	}
}

// jsonb writes JSON text as jsonb (format version 1).
func (c *copyBinary) jsonb(js []byte) {
	c.length(1 + len(js))
	c.b = append(c.b, 1)
	c.b = append(c.b, js...)
}

// copyIn sends the tuples written since reset into table's columns, in tx.
func (c *copyBinary) copyIn(ctx context.Context, tx pgx.Tx, table string, columns []string) error {
	c.b = binary.BigEndian.AppendUint16(c.b, 0xffff) // trailer
	cols := make([]string, len(columns))
	for i, col := range columns {
		cols[i] = pgx.Identifier{col}.Sanitize()
	}
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(c.b),
		"COPY "+pgx.Identifier{table}.Sanitize()+" ("+strings.Join(cols, ", ")+") FROM STDIN (FORMAT binary)")
	return err
}

// copyBuffers keeps the receiver's COPY buffers between batches.
var copyBuffers = sync.Pool{New: func() any { return new(copyBinary) }}
