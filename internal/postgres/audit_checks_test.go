package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestAuditLogChecks: the audit log's CHECK constraints (0130, without regular expressions)
// accept hashes of 64 lowercase hexadecimal digits and key ids of 1 to 64 of A–Z a–z 0–9 . _ -
// (or none, before keys), and refuse anything else with a check violation.
func TestAuditLogChecks(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	good := strings.Repeat("0123456789abcdef", 4)
	key := "k1"
	for _, tc := range []struct {
		name       string
		prev, hash string
		keyID      *string
		refused    string // the constraint that refuses the row; "" when it is stored
	}{
		{name: "good", prev: good, hash: good, keyID: &key},
		{name: "no key (before keys)", prev: good, hash: good},
		{name: "key of 64", prev: good, hash: good, keyID: ptr(strings.Repeat("A-z.9_", 10) + "abcd")},
		{name: "upper-case hash", prev: good, hash: strings.ToUpper(good), keyID: &key, refused: "audit_log_hash_check"},
		{name: "hash of 63", prev: good, hash: good[1:], keyID: &key, refused: "audit_log_hash_check"},
		{name: "hash of 65", prev: good, hash: good + "0", keyID: &key, refused: "audit_log_hash_check"},
		{name: "hash with g", prev: good, hash: "g" + good[1:], keyID: &key, refused: "audit_log_hash_check"},
		{name: "hash with a newline", prev: good, hash: good[1:] + "\n", keyID: &key, refused: "audit_log_hash_check"},
		{name: "hash of 64 non-ASCII", prev: good, hash: strings.Repeat("é", 64), keyID: &key, refused: "audit_log_hash_check"},
		{name: "prev hash with a space", prev: " " + good[1:], hash: good, keyID: &key, refused: "audit_log_prev_hash_check"},
		{name: "empty key", prev: good, hash: good, keyID: ptr(""), refused: "audit_log_key_id_check"},
		{name: "key of 65", prev: good, hash: good, keyID: ptr(strings.Repeat("k", 65)), refused: "audit_log_key_id_check"},
		{name: "key with a slash", prev: good, hash: good, keyID: ptr("k/1"), refused: "audit_log_key_id_check"},
		{name: "key with a non-ASCII letter", prev: good, hash: good, keyID: ptr("kä"), refused: "audit_log_key_id_check"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Inserted and rolled back: the chain of the other tests is not touched.
			errStored := errors.New("stored")
			err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, role, action, subject, detail, key_id, prev_hash, hash)
					VALUES (9000000001, now(), 'checks', 'inspector', 'evidence.view', 'enterprise/x', '{}', $1, $2, $3)`, tc.keyID, tc.prev, tc.hash); err != nil {
					return err
				}
				return errStored
			})
			var pe *pgconn.PgError
			switch {
			case tc.refused == "" && !errors.Is(err, errStored):
				t.Errorf("refused: %v", err)
			case tc.refused != "" && (!errors.As(err, &pe) || pe.Code != "23514" || pe.ConstraintName != tc.refused):
				t.Errorf("got %v, want a check violation of %s", err, tc.refused)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
