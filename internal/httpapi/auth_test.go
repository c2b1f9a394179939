package httpapi_test

import (
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
)

// Test tokens, one per role; the enterprise token speaks for entUSCC.
const (
	entUSCC   = "91110000600037341L"
	otherUSCC = "91320000134780001D"
)

var tokenOf = map[enforce.Role]string{
	httpapi.RoleAdmin:      "tok-admin-0123456789",
	httpapi.RoleAnalyst:    "tok-analyst-0123456789",
	httpapi.RoleInspector:  "tok-inspector-0123456789",
	httpapi.RoleApprover:   "tok-approver-0123456789",
	httpapi.RoleEnterprise: "tok-enterprise-0123456789",
}

// approver2Token is a second approver, for the rule that the requester cannot approve.
const approver2Token = "tok-approver2-0123456789"

func mustTestTokens(tb testing.TB) *httpapi.Tokens {
	tb.Helper()
	var es []httpapi.TokenEntry
	for role, tok := range tokenOf {
		e := httpapi.TokenEntry{Token: tok, Name: "test-" + string(role), Role: role}
		if role == httpapi.RoleEnterprise {
			e.USCC = entUSCC
		}
		es = append(es, e)
	}
	es = append(es, httpapi.TokenEntry{Token: approver2Token, Name: "test-approver2", Role: httpapi.RoleApprover})
	t, err := httpapi.NewTokens(es)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestReadTokens(t *testing.T) {
	for _, tc := range []struct {
		name, json, err string
	}{
		{"ok", `[{"sha256": "` + strings.Repeat("ab", 32) + `", "name": "a", "role": "admin"}, {"token": "0123456789abcdef", "name": "e", "role": "enterprise", "uscc": "` + entUSCC + `"}]`, ""},
		{"short token", `[{"token": "short", "name": "a", "role": "admin"}]`, "shorter than 16"},
		{"bad role", `[{"token": "0123456789abcdef", "name": "a", "role": "root"}]`, `role "root"`},
		{"public is not a token role", `[{"token": "0123456789abcdef", "name": "a", "role": "public"}]`, `role "public"`},
		{"enterprise without uscc", `[{"token": "0123456789abcdef", "name": "a", "role": "enterprise"}]`, "needs the enterprise's uscc"},
		{"uscc on staff", `[{"token": "0123456789abcdef", "name": "a", "role": "admin", "uscc": "` + entUSCC + `"}]`, "only enterprise tokens"},
		{"duplicate", `[{"token": "0123456789abcdef", "name": "a", "role": "admin"}, {"token": "0123456789abcdef", "name": "b", "role": "admin"}]`, "configured twice"},
		{"both", `[{"token": "0123456789abcdef", "sha256": "` + strings.Repeat("ab", 32) + `", "name": "a", "role": "admin"}]`, "not both"},
		{"unknown field", `[{"tok": "x"}]`, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := httpapi.ReadTokens(strings.NewReader(tc.json))
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("ReadTokens = %v, want %q", err, tc.err)
			}
		})
	}
}
