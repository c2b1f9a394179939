// Package account holds Offsite's people and agencies (issue 16): the enforcement bodies as
// a tree (province → city → county), users with a role in one agency, password sign-in with
// server-side sessions, API tokens for machines, and the limits on failed sign-ins.
//
// The rules are commands over a narrow store (Store), as in internal/enforce: load, decide,
// save and append the audit entry in one transaction. Secrets are kept only as hashes:
// passwords with argon2id (golang.org/x/crypto/argon2), session and API tokens (256 random
// bits each) with SHA-256. The package imports no adapter.
package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// Agency is an enforcement body: a province's department, a city's bureau or a county's
// branch. Everything an agency does reaches the enterprises of the agency and of those under it.
type Agency struct {
	ID       int64         `json:"id"`
	Name     string        `json:"name"`
	Level    enforce.Level `json:"level"`
	ParentID *int64        `json:"parent_id,omitempty"`
	// Path lists the agency's ancestors from its province down to the agency itself.
	Path      []int64   `json:"path"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Levels are the levels an agency may have; a child is one level below its parent.
var Levels = []enforce.Level{enforce.LevelProvince, enforce.LevelCity, enforce.LevelCounty}

// ChildLevel is the level of an agency under one of level, "" below a county.
func ChildLevel(level enforce.Level) enforce.Level {
	switch level {
	case enforce.LevelProvince:
		return enforce.LevelCity
	case enforce.LevelCity:
		return enforce.LevelCounty
	}
	return ""
}

// Under reports whether the agency whose path is path lies under scope (or is scope). A scope
// of 0 reaches everything (the workers and the system).
func Under(scope int64, path []int64) bool {
	return scope == 0 || slices.Contains(path, scope)
}

// User is a person or machine with a role in an agency.
type User struct {
	ID          int64        `json:"id"`
	Name        string       `json:"name"` // the sign-in name
	DisplayName string       `json:"display_name"`
	Role        enforce.Role `json:"role"`
	AgencyID    int64        `json:"agency_id"`
	// AgencyPath is the path of the user's agency (Agency.Path).
	AgencyPath []int64 `json:"agency_path"`
	// USCC is, for an enterprise's account, the enterprise it speaks for.
	USCC              string     `json:"uscc,omitempty"`
	HasPassword       bool       `json:"has_password"`
	PasswordChangedAt *time.Time `json:"password_changed_at,omitempty"`
	Disabled          bool       `json:"disabled"`
	Version           int        `json:"version"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// Actor is the user as the audit log and the enforcement commands see it.
func (u *User) Actor() enforce.Actor {
	return enforce.Actor{Name: u.Name, Role: u.Role, USCC: u.USCC, Agency: u.AgencyID}
}

// Token is an API token of a user, for machines. The token itself is shown once, when it is
// created; only its SHA-256 is stored.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Active reports whether the token may be used at now.
func (t *Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && now.Before(t.ExpiresAt)
}

// Config bounds sessions, tokens and failed sign-ins. Zero fields take the defaults.
type Config struct {
	// SessionTTL is how long a session lasts from sign-in; default 12 hours.
	SessionTTL time.Duration
	// MaxTokenTTL is the longest validity of an API token; default 365 days.
	MaxTokenTTL time.Duration
	// MaxAccountFailures failed sign-ins to one account within FailureWindow lock the
	// account for Lockout; default 5.
	MaxAccountFailures int
	// MaxAddressFailures failed sign-ins from one client address within FailureWindow lock
	// that address out for Lockout; default 20.
	MaxAddressFailures int
	// FailureWindow default 15 minutes; Lockout default 15 minutes.
	FailureWindow, Lockout time.Duration
	// Hash is the argon2id cost; zero fields take DefaultHashParams'.
	Hash HashParams
}

// WithDefaults fills the zero fields.
func (c *Config) WithDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.SessionTTL, 12*time.Hour)
	def(&c.MaxTokenTTL, 365*24*time.Hour)
	def(&c.FailureWindow, 15*time.Minute)
	def(&c.Lockout, 15*time.Minute)
	if c.MaxAccountFailures <= 0 {
		c.MaxAccountFailures = 5
	}
	if c.MaxAddressFailures <= 0 {
		c.MaxAddressFailures = 20
	}
	c.Hash.withDefaults()
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{1,63}$`)

// CheckName checks a sign-in name: 2 to 64 characters of a-z, 0-9, ".", "_", "@", "-",
// starting with a letter or digit.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return offsite.Invalid("name", "%q is not a sign-in name: 2 to 64 characters of a-z, 0-9, '.', '_', '@', '-', starting with a letter or digit", name)
	}
	return nil
}

// MinPasswordLength and MaxPasswordLength bound a password, in bytes.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// CheckPassword checks a new password of the user named name.
func CheckPassword(name, password string) error {
	switch {
	case len(password) < MinPasswordLength:
		return offsite.Invalid("password", "is shorter than %d characters", MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return offsite.Invalid("password", "is longer than %d bytes", MaxPasswordLength)
	case strings.EqualFold(password, name) || strings.Contains(strings.ToLower(password), name):
		return offsite.Invalid("password", "must not contain the sign-in name")
	case strings.ContainsRune(password, 0):
		return offsite.Invalid("password", "contains a NUL character")
	}
	return nil
}

// CheckRole checks the role of a user.
func CheckRole(role enforce.Role) error {
	if !slices.Contains(enforce.TokenRoles, role) {
		return offsite.Invalid("role", "%q is not one of %s", role, strings.Join(enforce.Names(enforce.TokenRoles), ", "))
	}
	return nil
}

// NewSecret returns a new session or API token: 256 random bits, base64url, with a prefix
// saying what it is ("ost_" for API tokens, "oss_" for sessions) so that a leaked one is
// recognisable.
func NewSecret(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Prefixes of secrets.
const (
	TokenPrefix   = "ost_"
	SessionPrefix = "oss_"
)

// SecretHash is how a session or API token is stored and looked up.
func SecretHash(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// CSRFToken is the anti-forgery token of a session: a hash of the session secret under a
// distinct label, so that it reveals nothing of the secret and needs no storage. The web
// interface sends it in the X-CSRF-Token header with every unsafe request.
func CSRFToken(session string) string {
	h := sha256.Sum256([]byte("offsite csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// Subjects of the audit log.
func UserSubject(id int64) string   { return fmt.Sprintf("user/%d", id) }
func AgencySubject(id int64) string { return fmt.Sprintf("agency/%d", id) }
func TokenSubject(id int64) string  { return fmt.Sprintf("token/%d", id) }
