package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/account"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// AccountStore keeps users, agencies, sessions, API tokens and failed sign-ins
// (account.Store); its changes are appended to the enforcement audit chain.
type AccountStore struct{ s *EnforceService }

var _ account.Store = (*AccountStore)(nil)

// NewAccountStore returns the account store of s's database and audit chain.
func NewAccountStore(s *EnforceService) *AccountStore { return &AccountStore{s: s} }

// InTx runs fn in a transaction with the audit chain's locks.
func (st *AccountStore) InTx(ctx context.Context, fn func(account.Tx) error) (err error) {
	defer derrors.Wrap(&err, "AccountStore.InTx")
	err = st.s.inTx(ctx, func(tx pgx.Tx) error { return fn(&accountTx{s: st.s, tx: tx}) })
	st.s.auth.invalidate() // a token, user or agency may have changed
	return formatError(err)
}

type accountTx struct {
	s  *EnforceService
	tx pgx.Tx
}

const userColumns = `u.id, u.name, u.display_name, u.role, u.agency_id, a.path, COALESCE(u.uscc, ''), u.password_hash <> '',
	u.password_changed_at, u.disabled, u.version, u.created_at, u.updated_at`

const userFrom = ` FROM users u JOIN agencies a ON a.id = u.agency_id`

func scanUser(row pgx.Row, extra ...any) (*account.User, error) {
	u := &account.User{}
	err := row.Scan(append([]any{&u.ID, &u.Name, &u.DisplayName, &u.Role, &u.AgencyID, &u.AgencyPath, &u.USCC, &u.HasPassword,
		&u.PasswordChangedAt, &u.Disabled, &u.Version, &u.CreatedAt, &u.UpdatedAt}, extra...)...)
	return u, err
}

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return offsite.NotFound(format, args...)
	}
	return formatError(err)
}

// FindUserForLogin returns the user named name and its password hash.
func (st *AccountStore) FindUserForLogin(ctx context.Context, name string) (_ *account.User, hash string, err error) {
	defer derrors.Wrap(&err, "FindUserForLogin(%q)", name)
	u, err := scanUser(st.s.db.Pool.QueryRow(ctx, "SELECT "+userColumns+", u.password_hash"+userFrom+" WHERE u.name = $1", name), &hash)
	if err != nil {
		return nil, "", notFound(err, "user %q", name)
	}
	return u, hash, nil
}

// UserBySession returns the enabled user of an unexpired session.
func (st *AccountStore) UserBySession(ctx context.Context, hash [32]byte, now time.Time) (_ *account.User, err error) {
	defer derrors.Wrap(&err, "UserBySession")
	u, err := scanUser(st.s.db.Pool.QueryRow(ctx, "SELECT "+userColumns+userFrom+` JOIN sessions s ON s.user_id = u.id
		WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND NOT u.disabled`, hash[:], now))
	if err != nil {
		return nil, notFound(err, "session")
	}
	return u, nil
}

// UserByToken returns the enabled user of an active API token and notes its use (at most once
// a minute). While CacheAuth runs, the answer is kept for a while (authCache).
func (st *AccountStore) UserByToken(ctx context.Context, hash [32]byte, now time.Time) (_ *account.User, err error) {
	defer derrors.Wrap(&err, "UserByToken")
	if u, ok := st.s.auth.token(hash, now); ok {
		return u, nil
	}
	gen := st.s.auth.begin()
	var tokenID int64
	var lastUsed *time.Time
	var expires time.Time
	u, err := scanUser(st.s.db.Pool.QueryRow(ctx, "SELECT "+userColumns+", t.id, t.last_used_at, t.expires_at"+userFrom+` JOIN api_tokens t ON t.user_id = u.id
		WHERE t.token_sha256 = $1 AND t.expires_at > $2 AND t.revoked_at IS NULL AND NOT u.disabled`, hash[:], now), &tokenID, &lastUsed, &expires)
	if err != nil {
		return nil, notFound(err, "token")
	}
	if lastUsed == nil || now.Sub(*lastUsed) > time.Minute {
		if _, err := st.s.db.Pool.Exec(ctx, "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", tokenID, now); err != nil {
			return nil, formatError(err)
		}
	}
	st.s.auth.putToken(gen, hash, u, expires, now)
	return u, nil
}

// FindUserByID returns one user.
func (st *AccountStore) FindUserByID(ctx context.Context, id int64) (_ *account.User, err error) {
	defer derrors.Wrap(&err, "FindUserByID(%d)", id)
	u, err := scanUser(st.s.db.Pool.QueryRow(ctx, "SELECT "+userColumns+userFrom+" WHERE u.id = $1", id))
	if err != nil {
		return nil, notFound(err, "user %d", id)
	}
	return u, nil
}

// FindUsers returns the users of the agencies under scope, by name.
func (st *AccountStore) FindUsers(ctx context.Context, scope int64) (_ []*account.User, err error) {
	defer derrors.Wrap(&err, "FindUsers(%d)", scope)
	rows, err := st.s.db.Pool.Query(ctx, "SELECT "+userColumns+userFrom+" WHERE $1 = 0 OR $1 = ANY(a.path) ORDER BY u.name", scope)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*account.User, error) { return scanUser(r) })
	if out == nil {
		out = []*account.User{}
	}
	return out, formatError(err)
}

const tokenColumns = `id, user_id, name, created_by, created_at, expires_at, revoked_at, COALESCE(revoked_by, ''), last_used_at`

func scanToken(row pgx.Row) (*account.Token, error) {
	t := &account.Token{}
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.RevokedBy, &t.LastUsedAt)
	return t, err
}

// FindTokens returns the user's API tokens, newest first.
func (st *AccountStore) FindTokens(ctx context.Context, userID int64) (_ []*account.Token, err error) {
	defer derrors.Wrap(&err, "FindTokens(%d)", userID)
	rows, err := st.s.db.Pool.Query(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE user_id = $1 ORDER BY id DESC", userID)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*account.Token, error) { return scanToken(r) })
	if out == nil {
		out = []*account.Token{}
	}
	return out, formatError(err)
}

const agencyColumns = `id, name, level, parent_id, path, version, created_at, updated_at`

func scanAgency(row pgx.Row) (*account.Agency, error) {
	a := &account.Agency{}
	err := row.Scan(&a.ID, &a.Name, &a.Level, &a.ParentID, &a.Path, &a.Version, &a.CreatedAt, &a.UpdatedAt)
	return a, err
}

// FindAgencyByID returns one agency.
func (st *AccountStore) FindAgencyByID(ctx context.Context, id int64) (_ *account.Agency, err error) {
	defer derrors.Wrap(&err, "FindAgencyByID(%d)", id)
	a, err := scanAgency(st.s.db.Pool.QueryRow(ctx, "SELECT "+agencyColumns+" FROM agencies WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "agency %d", id)
	}
	return a, nil
}

// FindAgencies returns the agencies under scope, by path.
func (st *AccountStore) FindAgencies(ctx context.Context, scope int64) (_ []*account.Agency, err error) {
	defer derrors.Wrap(&err, "FindAgencies(%d)", scope)
	rows, err := st.s.db.Pool.Query(ctx, "SELECT "+agencyColumns+" FROM agencies WHERE $1 = 0 OR $1 = ANY(path) ORDER BY path", scope)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*account.Agency, error) { return scanAgency(r) })
	if out == nil {
		out = []*account.Agency{}
	}
	return out, formatError(err)
}

// LockedUntil returns the latest running lockout among keys.
func (st *AccountStore) LockedUntil(ctx context.Context, keys []string, now time.Time) (until time.Time, err error) {
	defer derrors.Wrap(&err, "LockedUntil")
	var t *time.Time
	err = st.s.db.Pool.QueryRow(ctx, "SELECT max(locked_until) FROM login_throttle WHERE key = ANY($1) AND locked_until > $2", keys, now).Scan(&t)
	if err != nil || t == nil {
		return time.Time{}, formatError(err)
	}
	return *t, nil
}

// CountFailure adds a failed sign-in to key and returns the count of its window.
func (st *AccountStore) CountFailure(ctx context.Context, key string, now time.Time, window time.Duration) (n int, err error) {
	defer derrors.Wrap(&err, "CountFailure(%q)", key)
	err = st.s.db.Pool.QueryRow(ctx, `INSERT INTO login_throttle AS t (key, failures, window_start) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN t.window_start < $2 - $3::interval THEN 1 ELSE t.failures + 1 END,
			window_start = CASE WHEN t.window_start < $2 - $3::interval THEN $2 ELSE t.window_start END
		RETURNING failures`, key, now, window).Scan(&n)
	return n, formatError(err)
}

// LockOut locks key until until.
func (st *AccountStore) LockOut(ctx context.Context, key string, until time.Time) (err error) {
	defer derrors.Wrap(&err, "LockOut(%q)", key)
	_, err = st.s.db.Pool.Exec(ctx, "UPDATE login_throttle SET locked_until = $2, failures = 0 WHERE key = $1", key, until)
	return formatError(err)
}

// ClearFailures forgets key's failures.
func (st *AccountStore) ClearFailures(ctx context.Context, key string) (err error) {
	defer derrors.Wrap(&err, "ClearFailures(%q)", key)
	_, err = st.s.db.Pool.Exec(ctx, "DELETE FROM login_throttle WHERE key = $1", key)
	return formatError(err)
}

func (t *accountTx) LockUser(ctx context.Context, id int64) (*account.User, error) {
	u, err := scanUser(t.tx.QueryRow(ctx, "SELECT "+userColumns+userFrom+" WHERE u.id = $1 FOR UPDATE OF u", id))
	if err != nil {
		return nil, notFound(err, "user %d", id)
	}
	return u, nil
}

func (t *accountTx) UserExists(ctx context.Context, name string) (exists bool, err error) {
	err = t.tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM users WHERE name = $1)", name).Scan(&exists)
	return exists, err
}

func (t *accountTx) CreateUser(ctx context.Context, u *account.User, hash string) error {
	var changed *time.Time
	err := t.tx.QueryRow(ctx, `INSERT INTO users (name, display_name, role, agency_id, uscc, password_hash, password_changed_at)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, CASE WHEN $6 = '' THEN NULL ELSE now() END)
		RETURNING id, version, created_at, updated_at, password_changed_at`, u.Name, u.DisplayName, u.Role, u.AgencyID, u.USCC, hash).
		Scan(&u.ID, &u.Version, &u.CreatedAt, &u.UpdatedAt, &changed)
	if fe := formatError(err); errors.Is(fe, offsite.ErrConflict) {
		return offsite.Conflict("a user named %q exists", u.Name)
	} else if err != nil {
		return fe
	}
	u.PasswordChangedAt = changed
	return t.tx.QueryRow(ctx, "SELECT path FROM agencies WHERE id = $1", u.AgencyID).Scan(&u.AgencyPath)
}

func (t *accountTx) SaveUser(ctx context.Context, u *account.User) error {
	err := t.tx.QueryRow(ctx, `UPDATE users SET display_name = $2, role = $3, agency_id = $4, uscc = NULLIF($5, ''), disabled = $6,
		version = version + 1, updated_at = now() WHERE id = $1 RETURNING version, updated_at`,
		u.ID, u.DisplayName, u.Role, u.AgencyID, u.USCC, u.Disabled).Scan(&u.Version, &u.UpdatedAt)
	if err != nil {
		return err
	}
	return t.tx.QueryRow(ctx, "SELECT path FROM agencies WHERE id = $1", u.AgencyID).Scan(&u.AgencyPath)
}

func (t *accountTx) SetPassword(ctx context.Context, id int64, hash string, at time.Time) error {
	_, err := t.tx.Exec(ctx, `UPDATE users SET password_hash = $2, password_changed_at = $3, version = version + 1, updated_at = now()
		WHERE id = $1`, id, hash, at)
	return err
}

func (t *accountTx) CreateSession(ctx context.Context, userID int64, hash [32]byte, address string, created, expires time.Time) error {
	// Ended sessions go as new ones come.
	if _, err := t.tx.Exec(ctx, "DELETE FROM sessions WHERE expires_at < $1", created); err != nil {
		return err
	}
	_, err := t.tx.Exec(ctx, "INSERT INTO sessions (token_sha256, user_id, address, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
		hash[:], userID, address, created, expires)
	return err
}

func (t *accountTx) DeleteSession(ctx context.Context, hash [32]byte) (userID int64, err error) {
	err = t.tx.QueryRow(ctx, "DELETE FROM sessions WHERE token_sha256 = $1 RETURNING user_id", hash[:]).Scan(&userID)
	if err != nil {
		return 0, notFound(err, "session")
	}
	return userID, nil
}

func (t *accountTx) DeleteSessions(ctx context.Context, userID int64) (int, error) {
	tag, err := t.tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
	return int(tag.RowsAffected()), err
}

func (t *accountTx) CreateToken(ctx context.Context, tok *account.Token, hash [32]byte) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO api_tokens (token_sha256, user_id, name, created_by, expires_at) VALUES ($1, $2, $3, $4, $5)
		RETURNING id, created_at`, hash[:], tok.UserID, tok.Name, tok.CreatedBy, tok.ExpiresAt).Scan(&tok.ID, &tok.CreatedAt)
	if fe := formatError(err); errors.Is(fe, offsite.ErrConflict) {
		return offsite.Conflict("the same token is stored already")
	}
	return err
}

func (t *accountTx) LockToken(ctx context.Context, id int64) (*account.Token, error) {
	tok, err := scanToken(t.tx.QueryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = $1 FOR UPDATE", id))
	if err != nil {
		return nil, notFound(err, "token %d", id)
	}
	return tok, nil
}

func (t *accountTx) SaveToken(ctx context.Context, tok *account.Token) error {
	_, err := t.tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = $2, revoked_by = NULLIF($3, '') WHERE id = $1", tok.ID, tok.RevokedAt, tok.RevokedBy)
	return err
}

func (t *accountTx) LockAgency(ctx context.Context, id int64) (*account.Agency, error) {
	a, err := scanAgency(t.tx.QueryRow(ctx, "SELECT "+agencyColumns+" FROM agencies WHERE id = $1 FOR UPDATE", id))
	if err != nil {
		return nil, notFound(err, "agency %d", id)
	}
	return a, nil
}

func (t *accountTx) FirstProvince(ctx context.Context) (*account.Agency, error) {
	a, err := scanAgency(t.tx.QueryRow(ctx, "SELECT "+agencyColumns+" FROM agencies WHERE id = first_province()"))
	if err != nil {
		return nil, notFound(err, "province")
	}
	return a, nil
}

func (t *accountTx) CreateAgency(ctx context.Context, a *account.Agency) error {
	err := t.tx.QueryRow(ctx, `INSERT INTO agencies (id, name, level, parent_id, path)
		SELECT n.id, $1, $2, $3, COALESCE((SELECT path FROM agencies WHERE id = $3), '{}') || n.id
		FROM (SELECT nextval('agencies_id_seq') AS id) n
		RETURNING id, path, version, created_at, updated_at`, a.Name, a.Level, a.ParentID).
		Scan(&a.ID, &a.Path, &a.Version, &a.CreatedAt, &a.UpdatedAt)
	if fe := formatError(err); errors.Is(fe, offsite.ErrConflict) {
		return offsite.Conflict("an agency named %q exists there", a.Name)
	}
	return err
}

func (t *accountTx) SaveAgency(ctx context.Context, a *account.Agency) error {
	err := t.tx.QueryRow(ctx, "UPDATE agencies SET name = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version, updated_at",
		a.ID, a.Name).Scan(&a.Version, &a.UpdatedAt)
	if fe := formatError(err); errors.Is(fe, offsite.ErrConflict) {
		return offsite.Conflict("an agency named %q exists there", a.Name)
	}
	return err
}

func (t *accountTx) EnterpriseAgency(ctx context.Context, uscc string) (*account.Agency, error) {
	a, err := scanAgency(t.tx.QueryRow(ctx, "SELECT "+agencyColumns+" FROM agencies WHERE id = (SELECT agency_id FROM enterprises WHERE uscc = $1)", uscc))
	if err != nil {
		return nil, notFound(err, "enterprise %s", uscc)
	}
	return a, nil
}

func (t *accountTx) Append(ctx context.Context, a enforce.Actor, action enforce.AuditAction, subject string, detail any) error {
	return t.s.appendAudit(ctx, t.tx, a, action, subject, detail)
}

// agencyOf maps what a route addresses to the query of its agency's path.
var agencyOf = map[string]string{
	"enterprise":       `SELECT ag.path FROM enterprises e JOIN agencies ag ON ag.id = e.agency_id WHERE e.uscc = $1`,
	"list_entry":       `SELECT ag.path FROM list_entries l JOIN enterprises e ON e.uscc = l.uscc JOIN agencies ag ON ag.id = e.agency_id WHERE l.id::text = $1`,
	"inspection":       `SELECT ag.path FROM inspections i JOIN enterprises e ON e.uscc = i.uscc JOIN agencies ag ON ag.id = e.agency_id WHERE i.id::text = $1`,
	"parcel":           `SELECT ag.path FROM parcels p JOIN enterprises e ON e.uscc = p.uscc JOIN agencies ag ON ag.id = e.agency_id WHERE p.id = $1`,
	"user":             `SELECT ag.path FROM users u JOIN agencies ag ON ag.id = u.agency_id WHERE u.id::text = $1`,
	"agency":           `SELECT path FROM agencies WHERE id::text = $1`,
	"monitoring_point": `SELECT ag.path FROM monitoring_points m JOIN enterprises e ON e.uscc = m.uscc JOIN agencies ag ON ag.id = e.agency_id WHERE m.mn = $1`,
	"token":            `SELECT ag.path FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN agencies ag ON ag.id = u.agency_id WHERE t.id::text = $1`,
	// An evidence object belongs to the enterprise of the parcel of the clip or finding
	// that holds it (a finding of no parcel: its own enterprise).
	"evidence_object": `SELECT ag.path FROM (
		SELECT c.parcel_id AS parcel, '' AS uscc FROM clips c WHERE c.cog_key = $1 OR c.quicklook_key = $1
		UNION ALL
		SELECT f.parcel_id, f.uscc FROM findings f WHERE f.artifacts @> jsonb_build_array(jsonb_build_object('key', $1::text))
	) x LEFT JOIN parcels p ON p.id = x.parcel JOIN enterprises e ON e.uscc = coalesce(nullif(p.uscc, ''), x.uscc)
	JOIN agencies ag ON ag.id = e.agency_id LIMIT 1`,
	"intake_matter": `SELECT ag.path FROM intake_matters m JOIN enterprises e ON e.uscc = m.uscc JOIN agencies ag ON ag.id = e.agency_id WHERE m.id::text = $1`,
	"webhook":       `SELECT ag.path FROM webhook_subscriptions w JOIN agencies ag ON ag.id = w.agency_id WHERE w.id::text = $1`,
	// A notification delivery belongs to the agency of its event; an event of no agency to
	// the first province.
	"notification_delivery": `SELECT coalesce(outbox_path(o.uscc, o.subject), (SELECT path FROM agencies WHERE id = first_province()))
		FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id WHERE d.id::text = $1`,
	// A draw belongs to the agency of the user who ran it.
	"draw": `SELECT ag.path FROM draws d JOIN users u ON u.name = d.created_by JOIN agencies ag ON ag.id = u.agency_id WHERE d.id::text = $1`,
}

// AgencyPathOf returns the agency path of the record of kind (enterprise, list_entry,
// inspection, parcel, user, agency, token, evidence_object, intake_matter, webhook, notification_delivery, draw) named key; ErrNotFound when there is none (or it
// belongs to no agency, as a parcel of no enterprise).
func (s *EnforceService) AgencyPathOf(ctx context.Context, kind, key string) (_ []int64, err error) {
	defer derrors.Wrap(&err, "AgencyPathOf(%s, %q)", kind, key)
	q, ok := agencyOf[kind]
	if !ok {
		return nil, fmt.Errorf("no agency for records of kind %q", kind)
	}
	// An enterprise's agency, asked by every request on its routes, is kept while CacheAuth
	// runs (authCache); the records of other kinds are rarer.
	now := time.Now()
	if kind == "enterprise" {
		if path, ok := s.auth.agencyPath(key, now); ok {
			return path, nil
		}
	}
	gen := s.auth.begin()
	var path []int64
	if err := s.db.Pool.QueryRow(ctx, q, key).Scan(&path); err != nil {
		return nil, notFound(err, "%s %s", kind, key)
	}
	if kind == "enterprise" {
		s.auth.putAgencyPath(gen, key, path, now)
	}
	return path, nil
}
