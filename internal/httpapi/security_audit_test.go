package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/internal/enforce"
)

// asOwner runs sql as the schema's owner with audit_log's triggers disabled and UPDATE and
// DELETE granted: what a database administrator can do, and the application's role cannot.
func (e *enfEnv) asOwner(t *testing.T, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.owner)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `GRANT UPDATE, DELETE ON audit_log TO CURRENT_USER;
		ALTER TABLE audit_log DISABLE TRIGGER USER;
		`+sql+`;
		ALTER TABLE audit_log ENABLE TRIGGER USER;`); err != nil {
		t.Fatalf("as the owner: %s: %v", sql, err)
	}
}

type auditVerification struct {
	OK          bool                `json:"ok"`
	Checked     int64               `json:"checked"`
	Checkpoint  *enforce.AuditHead  `json:"checkpoint"`
	FirstBroken *enforce.ChainBreak `json:"first_broken"`
}

// TestAuditVerifyRouteFindsTampering: GET /api/v1/audit/verify reports an edited entry, a
// chain whose hashes were recomputed with plain SHA-256 after the edit, and entries deleted
// up to the latest checkpoint (the first keyed entry is checkpointed at once).
func TestAuditVerifyRouteFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name, sql string
		seq       int64
		reason    string
	}{
		{"edit", `UPDATE audit_log SET detail = '{"parcels":7}' WHERE seq = 2`, 2, "was changed or its hash recomputed"},
		// seq 3 is the last entry, so recomputing its SHA-256 after the edit leaves the links intact.
		{"edit and recompute with SHA-256", `UPDATE audit_log SET detail = '{}', hash = encode(sha256(convert_to(
			'offsite-audit/v1' || E'\n' || seq || E'\n' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\n' ||
			actor || E'\n' || role || E'\n' || action || E'\n' || subject || E'\n' || prev_hash || E'\n' || '{}', 'UTF8')), 'hex') WHERE seq = 3`, 3, "without the key"},
		{"delete every entry", `DELETE FROM audit_log`, 1, "were deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnforceServerSeeded(t, false) // the seeded accounts' entries would shift the seqs
			e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
			for i := 0; i < 2; i++ {
				e.must(t, 200, inspector, "GET", "/api/v1/enterprises/"+entUSCC+"/evidence", nil, nil)
			}
			var ver auditVerification
			e.must(t, 200, approver, "GET", "/api/v1/audit/verify", nil, &ver)
			if !ver.OK || ver.Checked != 3 || ver.Checkpoint == nil || ver.Checkpoint.Seq != 1 {
				t.Fatalf("before: %+v (checkpoint %+v)", ver, ver.Checkpoint)
			}
			e.asOwner(t, tc.sql)
			e.must(t, 200, approver, "GET", "/api/v1/audit/verify", nil, &ver)
			if b := ver.FirstBroken; ver.OK || b == nil || b.Seq != tc.seq || !strings.Contains(b.Reason, tc.reason) {
				t.Errorf("after: ok %v, break %+v; want seq %d with %q", ver.OK, b, tc.seq, tc.reason)
			}
		})
	}
}
