// Package postgres implements Offsite's domain services on PostgreSQL with PostGIS, through pgx.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/postgres/migrations"
)

// DB is a connection pool to Offsite's database.
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects to the database at url, as the application's role, and checks that its
// schema is current: the application does not migrate (see Migrate).
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
	pending, err := migrations.Pending(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if len(pending) > 0 {
		pool.Close()
		return nil, fmt.Errorf("%w: %d migrations not applied (%s); apply them as the database owner", ErrSchemaNotCurrent, len(pending), strings.Join(pending, ", "))
	}
	return db, nil
}

// ErrSchemaNotCurrent is returned by Open when migrations are pending.
var ErrSchemaNotCurrent = errors.New("postgres: schema is not current")

// Migrate connects to ownerURL, as the role that owns (or is to own) the schema, and applies
// pending migrations under an advisory lock, so that several processes starting at once apply
// each exactly once.
func Migrate(ctx context.Context, ownerURL string) (err error) {
	defer derrors.Wrap(&err, "postgres.Migrate")
	return migrations.ApplyURL(ctx, ownerURL)
}

// CheckAppRole refuses a connection whose role could rewrite the audit log: a superuser, a
// member of audit_log's owner, or a role with UPDATE, DELETE, TRUNCATE or TRIGGER on it. The
// api and worker connect as migrations.AppRole, which can only read and append.
func (db *DB) CheckAppRole(ctx context.Context) (err error) {
	defer derrors.Wrap(&err, "CheckAppRole")
	var role, owner string
	var super, member, write bool
	err = db.Pool.QueryRow(ctx, `SELECT current_user, r.rolsuper, t.tableowner,
			pg_has_role(current_user, t.tableowner, 'MEMBER'),
			has_table_privilege('audit_log', 'UPDATE, DELETE, TRUNCATE, TRIGGER')
		FROM pg_roles r, pg_tables t
		WHERE r.rolname = current_user AND t.schemaname = 'public' AND t.tablename = 'audit_log'`).
		Scan(&role, &super, &owner, &member, &write)
	if err != nil {
		return err
	}
	switch {
	case super:
		return fmt.Errorf("role %s is a superuser and could rewrite the audit log: connect as %s", role, migrations.AppRole)
	case member:
		return fmt.Errorf("role %s owns audit_log (as %s) and could rewrite the audit log: connect as %s and give the owner's URL only for migrations", role, owner, migrations.AppRole)
	case write:
		return fmt.Errorf("role %s may UPDATE, DELETE, TRUNCATE or add triggers to audit_log: revoke them, or connect as %s", role, migrations.AppRole)
	}
	return nil
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
		case "23514", "22023": // check_violation, invalid_parameter_value
			return fmt.Errorf("%s: %w", pe.Message, offsite.ErrInvalid)
		// XX000 (internal_error, what PostGIS raises when a function fails) stays an internal
		// error: input reaches PostGIS validated, so it is a fault of ours, logged in full and
		// answered as "internal error" without the database's message.
		case "22021", "22P05": // character_not_in_repertoire (invalid UTF-8, NUL), untranslatable_character
			// The HTTP edge refuses such text naming the field; this catches what got past it.
			return fmt.Errorf("text is not valid UTF-8 or holds a NUL character (%s): %w", pe.Message, offsite.ErrInvalid)
		}
	}
	return err
}
