package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/account"
	"github.com/offsite/offsite/internal/enforce"
)

// Roles. A route lists the roles that may call it; anything else is refused (deny by
// default). RoleEnterprise reaches only its own records and its self-check uploads.
// The roles are enforce's (enforce.Role).
const (
	RoleAdmin      = enforce.RoleAdmin
	RoleAnalyst    = enforce.RoleAnalyst
	RoleInspector  = enforce.RoleInspector
	RoleApprover   = enforce.RoleApprover
	RoleEnterprise = enforce.RoleEnterprise
	RolePublic     = enforce.RolePublic // no token needed
)

// Roles lists every role a token may have.
var Roles = enforce.TokenRoles

var (
	rolesPublic = []enforce.Role{RolePublic}
	// rolesRead are the staff who read parcels, captures, enterprises and inspections.
	rolesRead = []enforce.Role{RoleAdmin, RoleAnalyst, RoleInspector, RoleApprover}
	// rolesWrite change parcels, captures and enterprise data.
	rolesWrite = []enforce.Role{RoleAdmin, RoleAnalyst}
)

func rolePermitted(roles []enforce.Role, role enforce.Role) bool { return slices.Contains(roles, role) }

// Principal is who makes a request: a user signed in with a session or an API token.
type Principal struct {
	Name string       `json:"name"`
	Role enforce.Role `json:"role"`
	USCC string       `json:"uscc,omitempty"` // for RoleEnterprise: the enterprise it speaks for
	// UserID is the account's id; 0 for a principal of the fixed token table (Server.Tokens).
	UserID int64 `json:"user_id,omitempty"`
	// Agency is the agency the principal works for: it reaches the records of that agency and
	// of those under it (AgencyPath is the agency's path). 0 reaches every agency: only the
	// principals of the fixed token table, which cmd/api does not use.
	Agency     int64   `json:"agency_id,omitempty"`
	AgencyPath []int64 `json:"agency_path,omitempty"`
	// session is the session secret when the request came with the session cookie.
	session string
}

// Actor is the principal as the audit log and the enforcement commands see it.
func (p Principal) Actor() enforce.Actor {
	return enforce.Actor{Name: p.Name, Role: p.Role, USCC: p.USCC, Agency: p.Agency}
}

func principalOf(u *account.User) Principal {
	return Principal{Name: u.Name, Role: u.Role, USCC: u.USCC, UserID: u.ID, Agency: u.AgencyID, AgencyPath: u.AgencyPath}
}

// TokenEntry configures one token. Give the token itself or, better, its SHA-256 in hex, so
// that the file holds no secret.
type TokenEntry struct {
	Token  string       `json:"token,omitempty"`
	SHA256 string       `json:"sha256,omitempty"`
	Name   string       `json:"name"`
	Role   enforce.Role `json:"role"`
	USCC   string       `json:"uscc,omitempty"`
}

// Tokens maps token hashes to principals: the token file (OFFSITE_API_TOKENS_FILE). cmd/api
// reads it only to seed the first accounts (SeedEntries) into an empty database; a Server
// whose Tokens is set also accepts its tokens as they are, with no agency scope (tests and
// tools that run without accounts).
type Tokens struct {
	byHash  map[[32]byte]Principal
	entries []account.SeedEntry
}

// SeedEntries returns the file's entries as accounts to seed, in file order.
func (t *Tokens) SeedEntries() []account.SeedEntry {
	if t == nil {
		return nil
	}
	return t.entries
}

// NewTokens checks the entries and builds the table.
func NewTokens(entries []TokenEntry) (*Tokens, error) {
	t := &Tokens{byHash: map[[32]byte]Principal{}}
	names := map[string]bool{}
	for i, e := range entries {
		where := fmt.Sprintf("tokens[%d]", i)
		var h [32]byte
		switch {
		case e.Token != "" && e.SHA256 != "":
			return nil, fmt.Errorf("%s: give token or sha256, not both", where)
		case e.Token != "":
			if len(e.Token) < 16 {
				return nil, fmt.Errorf("%s: token is shorter than 16 characters", where)
			}
			h = sha256.Sum256([]byte(e.Token))
		case e.SHA256 != "":
			b, err := hex.DecodeString(e.SHA256)
			if err != nil || len(b) != 32 {
				return nil, fmt.Errorf("%s: sha256 must be 64 hexadecimal digits", where)
			}
			copy(h[:], b)
		default:
			return nil, fmt.Errorf("%s: token or sha256 is required", where)
		}
		if strings.TrimSpace(e.Name) == "" {
			return nil, fmt.Errorf("%s: name is required", where)
		}
		if names[e.Name] {
			return nil, fmt.Errorf("%s: name %q is used twice", where, e.Name)
		}
		names[e.Name] = true
		if !rolePermitted(Roles, e.Role) {
			return nil, fmt.Errorf("%s: role %q is not one of %s", where, e.Role, strings.Join(enforce.Names(Roles), ", "))
		}
		if e.Role == RoleEnterprise {
			if err := enforce.CheckUSCC(e.USCC); err != nil {
				return nil, fmt.Errorf("%s: an enterprise token needs the enterprise's uscc: %v", where, err)
			}
		} else if e.USCC != "" {
			return nil, fmt.Errorf("%s: only enterprise tokens have a uscc", where)
		}
		if _, dup := t.byHash[h]; dup {
			return nil, fmt.Errorf("%s: the same token is configured twice", where)
		}
		t.byHash[h] = Principal{Name: e.Name, Role: e.Role, USCC: e.USCC}
		t.entries = append(t.entries, account.SeedEntry{Name: e.Name, Role: e.Role, USCC: e.USCC, SHA256: h})
	}
	return t, nil
}

// ReadTokens reads a JSON array of TokenEntry.
func ReadTokens(r io.Reader) (*Tokens, error) {
	var entries []TokenEntry
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return NewTokens(entries)
}

// Lookup returns the principal of a token.
func (t *Tokens) Lookup(token string) (Principal, bool) {
	if t == nil || token == "" {
		return Principal{}, false
	}
	p, ok := t.byHash[sha256.Sum256([]byte(token))]
	return p, ok
}

type principalKey struct{}

// NewContextWithPrincipal returns ctx carrying p.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the request's principal; Role is RolePublic for a request
// without a token.
func PrincipalFromContext(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey{}).(Principal); ok {
		return p
	}
	return Principal{Name: "anonymous", Role: RolePublic}
}

// SessionCookie is the name of the session cookie of the web interface.
const SessionCookie = "offsite_session"

// CSRFHeader carries the session's anti-forgery token (account.CSRFToken) on every unsafe
// request authenticated by the session cookie.
const CSRFHeader = "X-CSRF-Token"

// authenticate returns the request's principal: from an API token (Authorization: Bearer),
// else from the session cookie, else anonymous (RolePublic). A token or session that is not
// valid is an error; an unsafe request on a session without its CSRF token is refused.
func (s *Server) authenticate(r *http.Request) (Principal, error) {
	ctx := r.Context()
	if token, hasToken := bearerToken(r); hasToken {
		if s.Accounts != nil && token != "" {
			u, err := s.Accounts.Token(ctx, token)
			if err == nil {
				return principalOf(u), nil
			}
			if !errors.Is(err, offsite.ErrUnauthorized) {
				return Principal{}, err
			}
		}
		if p, ok := s.Tokens.Lookup(token); ok {
			return p, nil
		}
		return Principal{}, fmt.Errorf("the token is not valid (unknown, expired or revoked): %w", offsite.ErrUnauthorized)
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" && s.Accounts != nil {
		u, err := s.Accounts.Session(ctx, c.Value)
		if err != nil {
			return Principal{}, err
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			got := r.Header.Get(CSRFHeader)
			if subtle.ConstantTimeCompare([]byte(got), []byte(account.CSRFToken(c.Value))) != 1 {
				return Principal{}, fmt.Errorf("the %s header is missing or wrong: a signed-in page sends the token it got at sign-in: %w", CSRFHeader, offsite.ErrForbidden)
			}
		}
		p := principalOf(u)
		p.session = c.Value
		return p, nil
	}
	return PrincipalFromContext(ctx), nil
}

// authorize wraps h, the handler of the route at path, so that only op.Roles reach it: a
// missing or unknown token or session gets 401, a role not listed gets 403. A route with no
// roles refuses everyone. Then the agency scope: a route whose path names an enterprise, list
// entry, inspection, parcel, user, agency, token, draw or evidence object (agencyParam) refuses, with 403, a
// principal whose agency does not reach that record's, unless the route's command does
// (operation.ReachInCommand).
func (s *Server) authorize(path string, op operation, h http.HandlerFunc) http.HandlerFunc {
	roles := op.Roles
	public := rolePermitted(roles, RolePublic)
	kind, param := agencyParam(path)
	if op.ReachInCommand {
		kind = ""
	}
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			if _, hasToken := bearerToken(r); public && !hasToken && errors.Is(err, offsite.ErrForbidden) {
				h(w, r) // a session without its CSRF token acts as nobody on a public route
				return
			}
			if errors.Is(err, offsite.ErrUnauthorized) {
				if _, hasToken := bearerToken(r); hasToken {
					w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				} else if public {
					// An ended session does not keep anyone from the public routes.
					http.SetCookie(w, s.expiredSessionCookie(r))
					h(w, r)
					return
				}
				http.SetCookie(w, s.expiredSessionCookie(r))
			}
			s.Error(w, r, err)
			return
		}
		if p.Role == RolePublic {
			if public {
				h(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer`)
			s.Error(w, r, fmt.Errorf("sign in, or send an Authorization: Bearer token: %w", offsite.ErrUnauthorized))
			return
		}
		r = r.WithContext(NewContextWithPrincipal(r.Context(), p))
		if !public && !rolePermitted(roles, p.Role) {
			s.Error(w, r, fmt.Errorf("role %s may not %s %s (allowed: %s): %w", p.Role, r.Method, r.URL.Path, strings.Join(enforce.Names(roles), ", "), offsite.ErrForbidden))
			return
		}
		if kind != "" && !public {
			if err := s.checkAgency(r.Context(), p, kind, r.PathValue(param)); err != nil {
				s.Error(w, r, err)
				return
			}
		}
		h(w, r)
	}
}

// agencyParams maps the path parameters that name a record to its kind, by the path segment
// before them. Every route addressing such a record is scoped by its agency in authorize.
var agencyParams = []struct{ segment, param, kind string }{
	{"/enterprises/", "uscc", "enterprise"},
	{"/positive-list/", "id", "list_entry"},
	{"/inspections/", "id", "inspection"},
	{"/parcels/", "id", "parcel"},
	{"/users/", "id", "user"},
	{"/agencies/", "id", "agency"},
	{"/tokens/", "id", "token"},
	{"/api/v1/draws/", "id", "draw"},
	{"/monitoring/points/", "mn", "monitoring_point"},
	{"/intake/matters/", "id", "intake_matter"},
	{"/api/v1/webhooks/", "id", "webhook"},
	{"/notification-deliveries/", "id", "notification_delivery"},
	{"/evidence-objects/", "key", "evidence_object"},
	{"/ui/evidence/", "key", "evidence_object"},
}

// agencyParam returns the kind of record a route path addresses and its parameter, or "".
func agencyParam(path string) (kind, param string) {
	for _, a := range agencyParams {
		if strings.Contains(path, a.segment+"{"+a.param+"}") || strings.Contains(path, a.segment+"{"+a.param+"...}") {
			return a.kind, a.param
		}
	}
	return "", ""
}

// checkAgency refuses p a record of kind named key whose agency p does not reach. An unknown
// record passes: the handler answers 404.
func (s *Server) checkAgency(ctx context.Context, p Principal, kind, key string) error {
	if p.Agency == 0 || s.Agencies == nil || !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
		return nil // bad text is refused naming its parameter (checkText)
	}
	path, err := s.Agencies.AgencyPathOf(ctx, kind, key)
	switch {
	case errors.Is(err, offsite.ErrNotFound) && kind == "evidence_object" && len(p.AgencyPath) > 1:
		// Below the top agency, only the objects of a clip or finding of an enterprise in
		// reach: an object of none (or no object) is no agency's but the top's.
		return fmt.Errorf("evidence object %s belongs to no clip or finding of an enterprise of your agency (%d): it is outside it: %w", key, p.Agency, offsite.ErrForbidden)
	case errors.Is(err, offsite.ErrNotFound):
		return nil
	case err != nil:
		return err
	case !account.Under(p.Agency, path):
		return fmt.Errorf("%s %s belongs to an agency outside yours (%d): %w", strings.ReplaceAll(kind, "_", " "), key, p.Agency, offsite.ErrForbidden)
	}
	return nil
}

// AgencyResolver finds the agency of the record a route addresses (postgres.EnforceService).
type AgencyResolver interface {
	// AgencyPathOf returns the agency path of the record of kind named key; ErrNotFound when
	// there is none.
	AgencyPathOf(ctx context.Context, kind, key string) ([]int64, error)
}

// scope is the agency that bounds the lists a request reads (0: all).
func scope(ctx context.Context) int64 { return PrincipalFromContext(ctx).Agency }

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true // present but unusable: refused as invalid
	}
	return strings.TrimSpace(tok), true
}

// checkOwn refuses an enterprise principal access to another enterprise's records.
func checkOwn(ctx context.Context, uscc string) error {
	p := PrincipalFromContext(ctx)
	if p.Role == RoleEnterprise && p.USCC != uscc {
		return fmt.Errorf("an enterprise token reaches only its own records: %w", offsite.ErrForbidden)
	}
	return nil
}

// randomSeed returns a seed for a draw from the system's random source.
func randomSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return binary.BigEndian.Uint64(b[:])
}
