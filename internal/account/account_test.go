package account

import (
	"errors"
	"strings"
	"testing"

	"github.com/offsite/offsite"
)

var cheap = HashParams{Memory: 1024, Time: 1, Threads: 1}

func TestPasswordHash(t *testing.T) {
	h := HashPassword("correct horse 1", cheap)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if h2 := HashPassword("correct horse 1", cheap); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		password, hash string
		ok, bad        bool
	}{
		{"correct horse 1", h, true, false},
		{"correct horse 2", h, false, false},
		{"", h, false, false},
		{"correct horse 1", "", false, false},
		{"correct horse 1", "$2a$10$notargon", false, true},
		{"correct horse 1", strings.Replace(h, "m=1024", "m=0", 1), false, true},
	} {
		ok, err := VerifyPassword(tc.password, tc.hash)
		if ok != tc.ok || (err != nil) != tc.bad {
			t.Errorf("VerifyPassword(%q, %q) = %v, %v", tc.password, tc.hash, ok, err)
		}
	}
}

func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		field          string
	}{
		{"li.wei", "correct horse 1", ""},
		{"x", "correct horse 1", "name"},
		{"Li Wei", "correct horse 1", "name"},
		{"li.wei", "short", "password"},
		{"li.wei", "my li.wei password", "password"},
		{"li.wei", strings.Repeat("a", MaxPasswordLength+1), "password"},
	} {
		err := CheckName(tc.name)
		if err == nil {
			err = CheckPassword(tc.name, tc.password)
		}
		var fe *offsite.FieldError
		if tc.field == "" && err != nil || tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
			t.Errorf("%q/%q: %v, want field %q", tc.name, tc.password, err, tc.field)
		}
	}
	if a, b := NewSecret(TokenPrefix), NewSecret(TokenPrefix); a == b || len(a) != 4+43 {
		t.Errorf("secrets %q %q", a, b)
	}
	if CSRFToken("oss_a") == CSRFToken("oss_b") || strings.Contains(CSRFToken("oss_a"), "oss_a") {
		t.Error("CSRF tokens do not depend on the session or reveal it")
	}
	if !Under(2, []int64{1, 2, 5}) || Under(3, []int64{1, 2, 5}) || !Under(0, []int64{7}) {
		t.Error("Under")
	}
}
