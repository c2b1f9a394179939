package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/offsite/offsite"
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

// Principal is the holder of a token.
type Principal struct {
	Name string       `json:"name"`
	Role enforce.Role `json:"role"`
	USCC string       `json:"uscc,omitempty"` // for RoleEnterprise: the enterprise it speaks for
}

// Actor is the principal as the audit log records it.
func (p Principal) Actor() enforce.Actor {
	return enforce.Actor{Name: p.Name, Role: p.Role, USCC: p.USCC}
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

// Tokens maps token hashes to principals.
type Tokens struct {
	byHash map[[32]byte]Principal
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

// authorize wraps h so that only op.Roles reach it: a missing or unknown token gets 401, a
// role not listed gets 403. A route with no roles refuses everyone.
func (s *Server) authorize(op operation, h http.HandlerFunc) http.HandlerFunc {
	roles := op.Roles
	public := rolePermitted(roles, RolePublic)
	return func(w http.ResponseWriter, r *http.Request) {
		token, hasToken := bearerToken(r)
		if hasToken {
			p, ok := s.Tokens.Lookup(token)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				s.Error(w, r, fmt.Errorf("the token is not valid: %w", offsite.ErrUnauthorized))
				return
			}
			r = r.WithContext(NewContextWithPrincipal(r.Context(), p))
			if public || rolePermitted(roles, p.Role) {
				h(w, r)
				return
			}
			s.Error(w, r, fmt.Errorf("role %s may not %s %s (allowed: %s): %w", p.Role, r.Method, r.URL.Path, strings.Join(enforce.Names(roles), ", "), offsite.ErrForbidden))
			return
		}
		if public {
			h(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer`)
		s.Error(w, r, fmt.Errorf("an Authorization: Bearer token is required: %w", offsite.ErrUnauthorized))
	}
}

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
