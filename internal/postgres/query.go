package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// sqlFilter builds the WHERE clause of a search: each condition names its argument $?, which
// becomes the argument's placeholder.
type sqlFilter struct {
	conds []string
	args  []any
}

// add appends the condition cond on the argument v; every $? in cond stands for v.
func (f *sqlFilter) add(cond string, v any) {
	f.conds = append(f.conds, strings.ReplaceAll(cond, "$?", f.param(v)))
}

// param appends the argument v and returns its placeholder, for a condition on more than one
// argument.
func (f *sqlFilter) param(v any) string {
	f.args = append(f.args, v)
	return fmt.Sprintf("$%d", len(f.args))
}

// cond is the conjunction of the conditions, "true" when there are none.
func (f *sqlFilter) cond() string {
	if len(f.conds) == 0 {
		return "true"
	}
	return strings.Join(f.conds, " AND ")
}

// where is the WHERE clause, "" when there are no conditions.
func (f *sqlFilter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + f.cond()
}

// pageSQL is the LIMIT and OFFSET of a page; limit <= 0 means no limit.
func pageSQL(offset, limit int) string {
	q := ""
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	if offset > 0 {
		q += fmt.Sprintf(" OFFSET %d", offset)
	}
	return q
}
