// Package migrations holds Offsite's schema migrations and applies them. It is a package of
// its own, importing only pgx, so that internal/testenv can prepare test databases without
// importing internal/postgres (whose tests import testenv).
//
// Migrations run as the database owner; the application connects as the role AppRole, which
// migration 0020 creates when missing and grants what the application needs (no more: on
// audit_log only SELECT and INSERT).
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed *.sql
var files embed.FS

// AppRole is the role the migrations grant the application's privileges to. A deployment that
// logs in under another name makes its login role a member of it.
const AppRole = "offsite_app"

// lockID is the advisory lock key that serialises migrations across processes.
const lockID = 0x0FF517E

// Migration is one file of the schema.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// All returns the migrations in version order.
func All() ([]Migration, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migrations: file %q is not named NNNN_name.sql", e.Name())
		}
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations: %s and %s share version %d", ms[i-1].Name, ms[i].Name, ms[i].Version)
		}
	}
	return ms, nil
}

// Apply applies pending migrations over conn, each in its own transaction, under an advisory
// lock so that several processes starting at once apply each migration exactly once. conn's
// role becomes the owner of what the migrations create.
func Apply(ctx context.Context, conn *pgx.Conn) (err error) {
	ms, err := All()
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return err
	}
	defer func() {
		// Unlock on a fresh context: the caller's may be cancelled.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockID); uerr != nil && err == nil {
			err = uerr
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("apply %s: %w", m.Name, err)
		}
	}
	return nil
}

// ApplyURL connects to url (as the database owner) and applies pending migrations.
func ApplyURL(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return Apply(ctx, conn)
}

// Querier is a connection, pool or transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func appliedVersions(ctx context.Context, q Querier) (map[int]bool, error) {
	rows, err := q.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	for _, v := range vs {
		applied[v] = true
	}
	return applied, nil
}

// Pending returns the names of the migrations not yet applied to the database q reads;
// reading needs only SELECT on schema_migrations, which the application's role has.
func Pending(ctx context.Context, q Querier) ([]string, error) {
	ms, err := All()
	if err != nil {
		return nil, err
	}
	var exists bool
	rows, err := q.Query(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL")
	if err != nil {
		return nil, err
	}
	if exists, err = pgx.CollectExactlyOneRow(rows, pgx.RowTo[bool]); err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	if exists {
		if applied, err = appliedVersions(ctx, q); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, m := range ms {
		if !applied[m.Version] {
			out = append(out, m.Name)
		}
	}
	return out, nil
}
