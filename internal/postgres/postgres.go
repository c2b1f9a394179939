// Package postgres implements Offsite's domain services on PostgreSQL with PostGIS, through pgx.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockID is the advisory lock key that serialises migrations across processes.
const migrationLockID = 0x0FF517E

// DB is a connection pool to Offsite's database.
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects to the database at url and applies pending migrations.
func Open(ctx context.Context, url string) (_ *DB, err error) {
	defer derrors.Wrap(&err, "postgres.Open")
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db := &DB{Pool: pool}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Ping checks that the database answers and PostGIS is installed.
func (db *DB) Ping(ctx context.Context) error {
	var v string
	if err := db.Pool.QueryRow(ctx, "SELECT postgis_lib_version()").Scan(&v); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("postgres: migration file %q is not named NNNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("postgres: migrations %s and %s share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// Migrate applies pending migrations, each in its own transaction, under an advisory lock so
// that several processes starting at once apply each migration exactly once.
func (db *DB) Migrate(ctx context.Context) (err error) {
	defer derrors.Wrap(&err, "Migrate")
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		return err
	}
	defer func() {
		// Unlock on a fresh context: the caller's may be cancelled.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockID); uerr != nil && err == nil {
			err = uerr
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return err
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return err
	}
	for _, v := range vs {
		applied[v] = true
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("apply %s: %w", m.name, err)
		}
	}
	return nil
}

// formatError translates driver errors into the domain's categories.
func formatError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return offsite.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", pe.Detail, offsite.ErrConflict)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%s: %w", pe.Detail, offsite.ErrInvalid)
		case "23514", "22023", "XX000": // check_violation, invalid_parameter_value, internal (PostGIS)
			return fmt.Errorf("%s: %w", pe.Message, offsite.ErrInvalid)
		case "22021", "22P05": // character_not_in_repertoire (invalid UTF-8, NUL), untranslatable_character
			// The HTTP edge refuses such text naming the field; this catches what got past it.
			return fmt.Errorf("text is not valid UTF-8 or holds a NUL character (%s): %w", pe.Message, offsite.ErrInvalid)
		}
	}
	return err
}
