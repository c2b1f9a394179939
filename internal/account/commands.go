package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// Store keeps users, agencies, sessions, tokens and failed sign-ins.
type Store interface {
	// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
	InTx(ctx context.Context, fn func(Tx) error) error

	// FindUserForLogin returns the user named name and its password hash; ErrNotFound when
	// there is none.
	FindUserForLogin(ctx context.Context, name string) (*User, string, error)
	// UserBySession returns the enabled user of an unexpired session at now; ErrNotFound
	// otherwise.
	UserBySession(ctx context.Context, hash [32]byte, now time.Time) (*User, error)
	// UserByToken returns the enabled user of an active API token at now and notes its use;
	// ErrNotFound otherwise.
	UserByToken(ctx context.Context, hash [32]byte, now time.Time) (*User, error)
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUsers returns the users of the agencies under scope (0: all), by name.
	FindUsers(ctx context.Context, scope int64) ([]*User, error)
	FindTokens(ctx context.Context, userID int64) ([]*Token, error)
	FindAgencyByID(ctx context.Context, id int64) (*Agency, error)
	// FindAgencies returns the agencies under scope (0: all), by path.
	FindAgencies(ctx context.Context, scope int64) ([]*Agency, error)

	// LockedUntil returns the latest lockout among keys still running at now (zero: none).
	LockedUntil(ctx context.Context, keys []string, now time.Time) (time.Time, error)
	// CountFailure adds a failed sign-in to key, starting a new count when the last began
	// before now-window, and returns the count.
	CountFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// LockOut locks key until until and resets its count.
	LockOut(ctx context.Context, key string, until time.Time) error
	// ClearFailures forgets the failed sign-ins of key.
	ClearFailures(ctx context.Context, key string) error
}

// Tx is what the account commands load, lock, save and append in a transaction.
type Tx interface {
	LockUser(ctx context.Context, id int64) (*User, error)
	// UserExists reports whether a user named name exists.
	UserExists(ctx context.Context, name string) (bool, error)
	// CreateUser stores a new user with its password hash, setting ID, AgencyPath, Version
	// and times; a taken name is ErrConflict.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// SaveUser stores DisplayName, Role, AgencyID, Disabled, setting the new Version and
	// AgencyPath.
	SaveUser(ctx context.Context, u *User) error
	SetPassword(ctx context.Context, id int64, hash string, at time.Time) error
	CreateSession(ctx context.Context, userID int64, hash [32]byte, address string, created, expires time.Time) error
	// DeleteSession ends a session and returns its user; ErrNotFound when there is none.
	DeleteSession(ctx context.Context, hash [32]byte) (int64, error)
	// DeleteSessions ends every session of the user and returns how many.
	DeleteSessions(ctx context.Context, userID int64) (int, error)
	// CreateToken stores a token by its hash, setting ID and CreatedAt.
	CreateToken(ctx context.Context, t *Token, hash [32]byte) error
	LockToken(ctx context.Context, id int64) (*Token, error)
	SaveToken(ctx context.Context, t *Token) error
	LockAgency(ctx context.Context, id int64) (*Agency, error)
	// FirstProvince returns the first province (the agency of seeded users).
	FirstProvince(ctx context.Context) (*Agency, error)
	// CreateAgency stores a new agency, setting ID, Path, Version and times.
	CreateAgency(ctx context.Context, a *Agency) error
	SaveAgency(ctx context.Context, a *Agency) error
	// EnterpriseAgency returns the agency of the enterprise.
	EnterpriseAgency(ctx context.Context, uscc string) (*Agency, error)
	Append(ctx context.Context, a enforce.Actor, action enforce.AuditAction, subject string, detail any) error
}

// Accounts holds the account commands.
type Accounts struct {
	Store  Store
	Config Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	dummyOnce sync.Once
	dummy     string // dummyHash(Config.Hash), made on first use
}

// cfg is the configuration with its defaults filled in.
func (c *Accounts) cfg() Config {
	cfg := c.Config
	cfg.WithDefaults()
	return cfg
}

func (c *Accounts) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// LockedError refuses a sign-in while its account or address is locked out. It matches
// offsite.ErrRateLimited.
type LockedError struct {
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again after %s", e.Until.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, offsite.ErrRateLimited) true.
func (e *LockedError) Unwrap() error { return offsite.ErrRateLimited }

// ErrBadCredentials is the one answer to an unknown name or a wrong password.
var ErrBadCredentials = fmt.Errorf("the name or the password is wrong: %w", offsite.ErrUnauthorized)

func userKey(name string) string { return "user:" + name }
func addrKey(addr string) string { return "addr:" + addr }

// Login checks name and password from the client address addr and opens a session. It
// refuses while the account or the address is locked out (LockedError); each failure counts
// against both, and the one that reaches its limit is locked for Config.Lockout. An unknown
// name costs the same time as a wrong password and gets the same answer.
func (c *Accounts) Login(ctx context.Context, name, password, addr string) (*User, string, error) {
	cfg := c.cfg()
	now := c.now()
	name = strings.ToLower(strings.TrimSpace(name))
	keys := []string{userKey(name), addrKey(addr)}
	until, err := c.Store.LockedUntil(ctx, keys, now)
	if err != nil {
		return nil, "", err
	}
	if !until.IsZero() {
		return nil, "", &LockedError{Until: until}
	}
	u, hash, err := c.Store.FindUserForLogin(ctx, name)
	switch {
	case errors.Is(err, offsite.ErrNotFound):
		c.dummyOnce.Do(func() { c.dummy = dummyHash(cfg.Hash) })
		hash, u = c.dummy, nil
	case err != nil:
		return nil, "", err
	}
	ok, err := VerifyPassword(password, hash)
	if err != nil {
		return nil, "", fmt.Errorf("user %q: %w", name, err)
	}
	if !ok || u == nil {
		return nil, "", c.failed(ctx, cfg, u, name, addr, now)
	}
	if u.Disabled {
		return nil, "", fmt.Errorf("the account %s is disabled: %w", name, offsite.ErrUnauthorized)
	}
	if err := c.Store.ClearFailures(ctx, userKey(name)); err != nil {
		return nil, "", err
	}
	secret := NewSecret(SessionPrefix)
	err = c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.CreateSession(ctx, u.ID, SecretHash(secret), addr, now, now.Add(cfg.SessionTTL)); err != nil {
			return err
		}
		return tx.Append(ctx, u.Actor(), enforce.AuditUserLogin, UserSubject(u.ID), map[string]any{"address": addr, "expires_at": now.Add(cfg.SessionTTL)})
	})
	if err != nil {
		return nil, "", err
	}
	return u, secret, nil
}

// failed counts a failed sign-in against the account and the address and locks either that
// reaches its limit; a lockout of an existing account is audited.
func (c *Accounts) failed(ctx context.Context, cfg Config, u *User, name, addr string, now time.Time) error {
	for _, k := range []struct {
		key string
		max int
	}{{userKey(name), cfg.MaxAccountFailures}, {addrKey(addr), cfg.MaxAddressFailures}} {
		n, err := c.Store.CountFailure(ctx, k.key, now, cfg.FailureWindow)
		if err != nil {
			return err
		}
		if n < k.max {
			continue
		}
		until := now.Add(cfg.Lockout)
		if err := c.Store.LockOut(ctx, k.key, until); err != nil {
			return err
		}
		if u != nil && k.key == userKey(name) {
			err := c.Store.InTx(ctx, func(tx Tx) error {
				return tx.Append(ctx, enforce.Actor{Name: u.Name, Role: u.Role}, enforce.AuditUserLockout, UserSubject(u.ID),
					map[string]any{"failures": n, "address": addr, "locked_until": until})
			})
			if err != nil {
				return err
			}
		}
	}
	return ErrBadCredentials
}

// Logout ends the session secret.
func (c *Accounts) Logout(ctx context.Context, u *User, secret string) error {
	return c.Store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.DeleteSession(ctx, SecretHash(secret)); err != nil {
			return err
		}
		return tx.Append(ctx, u.Actor(), enforce.AuditUserLogout, UserSubject(u.ID), nil)
	})
}

// Session returns the user of a session secret; ErrUnauthorized when it is unknown, expired
// or its user disabled.
func (c *Accounts) Session(ctx context.Context, secret string) (*User, error) {
	u, err := c.Store.UserBySession(ctx, SecretHash(secret), c.now())
	if errors.Is(err, offsite.ErrNotFound) {
		return nil, fmt.Errorf("the session has ended or is not valid; sign in again: %w", offsite.ErrUnauthorized)
	}
	return u, err
}

// Token returns the user of an API token; ErrUnauthorized when it is unknown, expired,
// revoked or its user disabled.
func (c *Accounts) Token(ctx context.Context, secret string) (*User, error) {
	u, err := c.Store.UserByToken(ctx, SecretHash(secret), c.now())
	if errors.Is(err, offsite.ErrNotFound) {
		return nil, fmt.Errorf("the token is not valid (unknown, expired or revoked): %w", offsite.ErrUnauthorized)
	}
	return u, err
}

// outOfScope refuses an actor a record of an agency not under its own.
func outOfScope(a enforce.Actor, what string) error {
	return fmt.Errorf("%s belongs to an agency outside %s's: %w", what, a.Name, offsite.ErrForbidden)
}

// NewAgency describes an agency to create.
type NewAgency struct {
	Name     string `json:"name"`
	ParentID int64  `json:"parent_id"` // 0: a new province
}

// CreateAgency creates an agency under parent (one level below it), or a province when
// ParentID is 0 (only an actor who reaches every agency may).
func (c *Accounts) CreateAgency(ctx context.Context, a enforce.Actor, n NewAgency) (*Agency, error) {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || len(n.Name) > 200 {
		return nil, offsite.Required("name", "is required, at most 200 bytes")
	}
	out := &Agency{Name: n.Name, Level: enforce.LevelProvince}
	err := c.Store.InTx(ctx, func(tx Tx) error {
		if n.ParentID == 0 {
			if a.Agency != 0 {
				return fmt.Errorf("only a user of no agency creates a province; give parent_id: %w", offsite.ErrForbidden)
			}
		} else {
			p, err := tx.LockAgency(ctx, n.ParentID)
			if errors.Is(err, offsite.ErrNotFound) {
				return offsite.Invalid("parent_id", "agency %d does not exist", n.ParentID)
			}
			if err != nil {
				return err
			}
			if !Under(a.Agency, p.Path) {
				return outOfScope(a, fmt.Sprintf("agency %d", p.ID))
			}
			out.Level = ChildLevel(p.Level)
			if out.Level == "" {
				return offsite.Invalid("parent_id", "agency %d is a county: nothing lies under a county", p.ID)
			}
			out.ParentID = &p.ID
		}
		if err := tx.CreateAgency(ctx, out); err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditAgencyCreate, AgencySubject(out.ID), out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RenameAgency renames an agency the actor reaches.
func (c *Accounts) RenameAgency(ctx context.Context, a enforce.Actor, id int64, version int, name string) (*Agency, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return nil, offsite.Required("name", "is required, at most 200 bytes")
	}
	var out *Agency
	err := c.Store.InTx(ctx, func(tx Tx) error {
		ag, err := tx.LockAgency(ctx, id)
		if err != nil {
			return err
		}
		if !Under(a.Agency, ag.Path) {
			return outOfScope(a, fmt.Sprintf("agency %d", id))
		}
		if ag.Version != version {
			return offsite.Conflict("agency %d is at version %d, not %d", id, ag.Version, version)
		}
		old := ag.Name
		ag.Name = name
		if err := tx.SaveAgency(ctx, ag); err != nil {
			return err
		}
		out = ag
		return tx.Append(ctx, a, enforce.AuditAgencyUpdate, AgencySubject(id), map[string]any{"name": name, "was": old})
	})
	return out, err
}

// NewUser describes a user to create. An enterprise's account names its USCC and belongs to
// the enterprise's agency (AgencyID may then be 0).
type NewUser struct {
	Name        string       `json:"name"`
	DisplayName string       `json:"display_name"`
	Role        enforce.Role `json:"role"`
	AgencyID    int64        `json:"agency_id"`
	USCC        string       `json:"uscc"`
	// Password is the initial password; "" creates a user that signs in with API tokens only.
	Password string `json:"password"`
}

// placeUser checks u's role, USCC and agency against what the actor reaches, filling
// AgencyID for an enterprise's account.
func placeUser(ctx context.Context, tx Tx, a enforce.Actor, u *User) error {
	if err := CheckRole(u.Role); err != nil {
		return err
	}
	if u.Role == enforce.RoleEnterprise {
		u.USCC = strings.ToUpper(strings.TrimSpace(u.USCC))
		if u.USCC == "" {
			return offsite.Invalid("uscc", "an enterprise's account names the enterprise's USCC")
		}
		ag, err := tx.EnterpriseAgency(ctx, u.USCC)
		if errors.Is(err, offsite.ErrNotFound) {
			return offsite.Invalid("uscc", "enterprise %s is not recorded", u.USCC)
		}
		if err != nil {
			return err
		}
		if u.AgencyID != 0 && u.AgencyID != ag.ID {
			return offsite.Invalid("agency_id", "an enterprise's account belongs to the enterprise's agency (%d)", ag.ID)
		}
		u.AgencyID = ag.ID
	} else if u.USCC != "" {
		return offsite.Invalid("uscc", "only an enterprise's account names a USCC")
	}
	if u.AgencyID == 0 {
		return offsite.Required("agency_id", "is required")
	}
	ag, err := tx.LockAgency(ctx, u.AgencyID)
	if errors.Is(err, offsite.ErrNotFound) {
		return offsite.Invalid("agency_id", "agency %d does not exist", u.AgencyID)
	}
	if err != nil {
		return err
	}
	if !Under(a.Agency, ag.Path) {
		return outOfScope(a, fmt.Sprintf("agency %d", ag.ID))
	}
	u.AgencyPath = ag.Path
	return nil
}

// CreateUser creates a user in an agency the actor reaches.
func (c *Accounts) CreateUser(ctx context.Context, a enforce.Actor, n NewUser) (*User, error) {
	cfg := c.cfg()
	n.Name = strings.ToLower(strings.TrimSpace(n.Name))
	if err := CheckName(n.Name); err != nil {
		return nil, err
	}
	if len(n.DisplayName) > 200 {
		return nil, offsite.Invalid("display_name", "is longer than 200 bytes")
	}
	hash := ""
	if n.Password != "" {
		if err := CheckPassword(n.Name, n.Password); err != nil {
			return nil, err
		}
		hash = HashPassword(n.Password, cfg.Hash)
	}
	u := &User{Name: n.Name, DisplayName: n.DisplayName, Role: n.Role, AgencyID: n.AgencyID, USCC: n.USCC, HasPassword: hash != ""}
	err := c.Store.InTx(ctx, func(tx Tx) error {
		if err := placeUser(ctx, tx, a, u); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u, hash); err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditUserCreate, UserSubject(u.ID), u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UserUpdate changes a user; nil fields stay. Version is the version read.
type UserUpdate struct {
	Version     int           `json:"version"`
	DisplayName *string       `json:"display_name"`
	Role        *enforce.Role `json:"role"`
	AgencyID    *int64        `json:"agency_id"`
	USCC        *string       `json:"uscc"`
	Disabled    *bool         `json:"disabled"`
}

// UpdateUser sets a user's display name, role, agency, enterprise or disabled flag. Disabling
// a user ends its sessions; its API tokens stop working while it is disabled. An actor cannot
// disable itself or change its own role or agency (so the last administrator stays one).
func (c *Accounts) UpdateUser(ctx context.Context, a enforce.Actor, id int64, up UserUpdate) (*User, error) {
	var out *User
	err := c.Store.InTx(ctx, func(tx Tx) error {
		u, err := tx.LockUser(ctx, id)
		if err != nil {
			return err
		}
		if !Under(a.Agency, u.AgencyPath) {
			return outOfScope(a, "user "+u.Name)
		}
		if u.Version != up.Version {
			return offsite.Conflict("user %d is at version %d, not %d: it changed since it was read", id, u.Version, up.Version)
		}
		self := u.Name == a.Name
		detail := map[string]any{}
		if up.DisplayName != nil {
			if len(*up.DisplayName) > 200 {
				return offsite.Invalid("display_name", "is longer than 200 bytes")
			}
			u.DisplayName, detail["display_name"] = *up.DisplayName, *up.DisplayName
		}
		if up.Role != nil || up.AgencyID != nil || up.USCC != nil {
			if self {
				return offsite.Conflict("you cannot change your own role, agency or enterprise; ask another administrator")
			}
			if up.Role != nil {
				u.Role = *up.Role
			}
			if up.USCC != nil {
				u.USCC = *up.USCC
			}
			if u.Role != enforce.RoleEnterprise && up.USCC == nil {
				u.USCC = ""
			}
			if up.AgencyID != nil {
				u.AgencyID = *up.AgencyID
			} else if u.Role == enforce.RoleEnterprise {
				u.AgencyID = 0 // the enterprise's
			}
			if err := placeUser(ctx, tx, a, u); err != nil {
				return err
			}
			detail["role"], detail["agency_id"], detail["uscc"] = u.Role, u.AgencyID, u.USCC
		}
		if up.Disabled != nil && *up.Disabled != u.Disabled {
			if self && *up.Disabled {
				return offsite.Conflict("you cannot disable your own account")
			}
			u.Disabled, detail["disabled"] = *up.Disabled, *up.Disabled
			if u.Disabled {
				n, err := tx.DeleteSessions(ctx, u.ID)
				if err != nil {
					return err
				}
				detail["sessions_ended"] = n
			}
		}
		if err := tx.SaveUser(ctx, u); err != nil {
			return err
		}
		out = u
		return tx.Append(ctx, a, enforce.AuditUserUpdate, UserSubject(id), detail)
	})
	return out, err
}

// SetPassword sets a user's password: an administrator's reset (the actor reaches the
// user's agency) or the user's own change (old must then be its current password, checked
// by the caller through ChangePassword). Every session of the user ends.
func (c *Accounts) SetPassword(ctx context.Context, a enforce.Actor, id int64, password string) error {
	cfg := c.cfg()
	return c.Store.InTx(ctx, func(tx Tx) error {
		u, err := tx.LockUser(ctx, id)
		if err != nil {
			return err
		}
		if !Under(a.Agency, u.AgencyPath) {
			return outOfScope(a, "user "+u.Name)
		}
		if err := CheckPassword(u.Name, password); err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, id, HashPassword(password, cfg.Hash), c.now()); err != nil {
			return err
		}
		n, err := tx.DeleteSessions(ctx, id)
		if err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditUserPassword, UserSubject(id), map[string]any{"by": a.Name, "sessions_ended": n})
	})
}

// ChangePassword changes the user's own password after checking the current one.
func (c *Accounts) ChangePassword(ctx context.Context, u *User, current, password string) error {
	_, hash, err := c.Store.FindUserForLogin(ctx, u.Name)
	if err != nil {
		return err
	}
	ok, err := VerifyPassword(current, hash)
	if err != nil {
		return err
	}
	if !ok {
		return offsite.Invalid("current_password", "is not your current password")
	}
	a := u.Actor()
	a.Agency = 0 // one's own account is always within reach
	return c.SetPassword(ctx, a, u.ID, password)
}

// CreateToken creates an API token for a user the actor reaches, valid for ttl (at most
// Config.MaxTokenTTL). The secret is returned once and stored only as its hash.
func (c *Accounts) CreateToken(ctx context.Context, a enforce.Actor, userID int64, name string, ttl time.Duration) (*Token, string, error) {
	cfg := c.cfg()
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return nil, "", offsite.Required("name", "is required, at most 200 bytes: say what the token is for")
	}
	if ttl <= 0 || ttl > cfg.MaxTokenTTL {
		return nil, "", offsite.Invalid("expires_in_days", "must be between 1 and %d days", int(cfg.MaxTokenTTL.Hours()/24))
	}
	secret := NewSecret(TokenPrefix)
	now := c.now()
	t := &Token{UserID: userID, Name: name, CreatedBy: a.Name, ExpiresAt: now.Add(ttl)}
	err := c.Store.InTx(ctx, func(tx Tx) error {
		u, err := tx.LockUser(ctx, userID)
		if err != nil {
			return err
		}
		if !Under(a.Agency, u.AgencyPath) {
			return outOfScope(a, "user "+u.Name)
		}
		if err := tx.CreateToken(ctx, t, SecretHash(secret)); err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditTokenCreate, TokenSubject(t.ID), map[string]any{"user": u.Name, "name": name, "expires_at": t.ExpiresAt})
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// RevokeToken revokes an API token of a user the actor reaches.
func (c *Accounts) RevokeToken(ctx context.Context, a enforce.Actor, id int64) (*Token, error) {
	var out *Token
	err := c.Store.InTx(ctx, func(tx Tx) error {
		t, err := tx.LockToken(ctx, id)
		if err != nil {
			return err
		}
		u, err := tx.LockUser(ctx, t.UserID)
		if err != nil {
			return err
		}
		if !Under(a.Agency, u.AgencyPath) {
			return outOfScope(a, "user "+u.Name)
		}
		if t.RevokedAt != nil {
			return offsite.Conflict("token %d was revoked at %s", id, t.RevokedAt.Format(time.RFC3339))
		}
		now := c.now()
		t.RevokedAt, t.RevokedBy = &now, a.Name
		if err := tx.SaveToken(ctx, t); err != nil {
			return err
		}
		out = t
		return tx.Append(ctx, a, enforce.AuditTokenRevoke, TokenSubject(id), map[string]any{"user": u.Name, "name": t.Name})
	})
	return out, err
}

// SeedEntry is a user to create with an API token whose hash is known: the first
// administrator, from the token file.
type SeedEntry struct {
	Name   string
	Role   enforce.Role
	USCC   string
	SHA256 [32]byte
}

// SeedActor is who the audit log says seeded the first users.
var SeedActor = enforce.Actor{Name: "token-file", Role: enforce.RoleSystem}

// Seed creates each entry whose name no user has yet as a user of the first province (an
// enterprise's: of its enterprise's agency), with the entry's token as its API token, valid
// for ttl; it reports how many it created. An existing account is never changed: once the
// first administrator exists, it manages accounts through the API and the file only matters
// for names that were never used.
func (c *Accounts) Seed(ctx context.Context, entries []SeedEntry, ttl time.Duration) (int, error) {
	n := 0
	err := c.Store.InTx(ctx, func(tx Tx) error {
		root, err := tx.FirstProvince(ctx)
		if err != nil {
			return err
		}
		now := c.now()
		for _, e := range entries {
			u := &User{Name: strings.ToLower(e.Name), Role: e.Role, USCC: e.USCC}
			if err := CheckName(u.Name); err != nil {
				return fmt.Errorf("seed %q: %w", e.Name, err)
			}
			if exists, err := tx.UserExists(ctx, u.Name); err != nil || exists {
				if err != nil {
					return err
				}
				continue
			}
			if e.Role != enforce.RoleEnterprise {
				u.AgencyID = root.ID
			}
			if err := placeUser(ctx, tx, enforce.Actor{}, u); err != nil {
				return fmt.Errorf("seed %q: %w", e.Name, err)
			}
			if err := tx.CreateUser(ctx, u, ""); err != nil {
				return fmt.Errorf("seed %q: %w", e.Name, err)
			}
			t := &Token{UserID: u.ID, Name: "token file", CreatedBy: SeedActor.Name, ExpiresAt: now.Add(ttl)}
			if err := tx.CreateToken(ctx, t, e.SHA256); err != nil {
				return fmt.Errorf("seed %q: %w", e.Name, err)
			}
			if err := tx.Append(ctx, SeedActor, enforce.AuditUserCreate, UserSubject(u.ID), map[string]any{"user": u, "token": t.ID, "token_expires_at": t.ExpiresAt}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// SessionTTL is how long a new session lasts.
func (c *Accounts) SessionTTL() time.Duration { return c.cfg().SessionTTL }
