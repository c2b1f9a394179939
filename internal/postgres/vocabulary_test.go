package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// TestEffectiveListStatusOneRule holds the SQL function list_effective_status equal to
// enforce.EffectiveListStatus.
func TestEffectiveListStatusOneRule(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	before, after := now.Add(-time.Second), now.Add(time.Second)
	for _, st := range enforce.ListStatuses {
		for _, to := range []*time.Time{nil, &before, &now, &after} {
			var got enforce.ListStatus
			if err := db.Pool.QueryRow(ctx, "SELECT list_effective_status($1, $2, $3)", st, to, now).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if want := enforce.EffectiveListStatus(st, to, now); got != want {
				t.Errorf("%s valid to %v: SQL %s, Go %s", st, to, got, want)
			}
		}
	}
}

// TestVocabularyChecks: the schema accepts every constant of the typed vocabulary and refuses
// anything else.
func TestVocabularyChecks(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	for _, a := range enforce.AuditActions {
		if err := s.Audit(ctx, admin, a, "enterprise/"+testUSCC, nil); err != nil {
			t.Errorf("audit action %s: %v", a, err)
		}
	}
	for _, r := range enforce.Roles {
		if err := s.Audit(ctx, enforce.Actor{Name: "x", Role: r}, enforce.AuditEvidenceView, "enterprise/"+testUSCC, nil); err != nil {
			t.Errorf("role %s: %v", r, err)
		}
	}
	var nActions, nRoles int
	if err := s.db.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM audit_actions), (SELECT count(*) FROM audit_roles)").Scan(&nActions, &nRoles); err != nil {
		t.Fatal(err)
	}
	if nActions != len(enforce.AuditActions) || nRoles != len(enforce.Roles) {
		t.Errorf("schema has %d audit actions and %d roles, Go %d and %d: a migration must insert what enforce adds",
			nActions, nRoles, len(enforce.AuditActions), len(enforce.Roles))
	}
	if err := s.Audit(ctx, admin, "list.frobnicate", "enterprise/"+testUSCC, nil); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("unknown audit action: %v", err)
	}
	if err := s.Audit(ctx, enforce.Actor{Name: "x", Role: "root"}, enforce.AuditEvidenceView, "enterprise/"+testUSCC, nil); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("unknown role: %v", err)
	}
	insert := func(level, status, doc string) error {
		_, err := s.db.Pool.Exec(ctx, `INSERT INTO inspections (uscc, level, matter, status, listed, doc, opened_at)
			VALUES ($1, $2, 'm', $3, false, $4, now())`, testUSCC, level, status, doc)
		return formatError(err)
	}
	for _, st := range enforce.InspectionStatuses {
		if err := insert(string(enforce.LevelCity), string(st), "{}"); err != nil {
			t.Errorf("inspection status %s: %v", st, err)
		}
		if st != enforce.InspClosed { // at most one open inspection
			if _, err := s.db.Pool.Exec(ctx, "UPDATE inspections SET status = 'closed' WHERE uscc = $1", testUSCC); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tr := range enforce.Triggers {
		if err := insert(string(enforce.LevelCity), "closed", `{"site_visit": {"trigger": "`+string(tr)+`"}}`); err != nil {
			t.Errorf("trigger %s: %v", tr, err)
		}
	}
	for _, bad := range [][3]string{{"city", "pending", "{}"}, {"city", "closed", `{"site_visit": {"trigger": "whim"}}`}, {"high", "closed", "{}"}} {
		if err := insert(bad[0], bad[1], bad[2]); !errors.Is(err, offsite.ErrInvalid) {
			t.Errorf("inspection %v: %v, want a check violation", bad, err)
		}
	}
}
