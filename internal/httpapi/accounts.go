package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/account"
	"github.com/offsite/offsite/internal/enforce"
)

// The routes of people and agencies (issue 16): sign-in and sign-out, one's own password, and
// the administration of agencies, users and API tokens. Every change is audited by the
// account commands; an administrator reaches the users and agencies of its agency and under.

var (
	rolesAdmin = []enforce.Role{RoleAdmin}
	// rolesStaff are every role but the enterprise's.
	rolesStaff = []enforce.Role{RoleAdmin, RoleAnalyst, RoleInspector, RoleApprover}
)

func (s *Server) registerAccountRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/login", operation{
		Response: me{},
		Summary:  "Sign in with name and password: opens a session",
		Description: "Sets the HttpOnly, SameSite=Strict session cookie (Secure over TLS) and returns the user and its csrf_token, which every " +
			"unsafe request on the session sends in the X-CSRF-Token header. Failed sign-ins are counted per account and per client address; " +
			"past the limit the account or address is locked out for a while (429 with Retry-After).",
		Roles:     rolesPublic,
		Body:      loginRequest{},
		Responses: map[string]string{"200": "user and csrf_token; the session cookie is set", "400": "missing name or password", "401": "wrong name or password, or the account is disabled", "429": "locked out after too many failed sign-ins"},
	}, s.handleLogin)
	s.handle(mux, "POST", "/api/v1/logout", operation{
		Summary:   "Sign out: ends the session of the cookie",
		Roles:     rolesOwnRead,
		Responses: map[string]string{"204": "ended", "400": "the request came with an API token, not a session"},
	}, s.handleLogout)
	s.handle(mux, "POST", "/api/v1/me/password", operation{
		Summary:   "Change one's own password; every session of the user ends",
		Roles:     rolesOwnRead,
		Body:      passwordChange{},
		Responses: map[string]string{"204": "changed", "400": "wrong current password, or the new one is too weak"},
	}, s.handleOwnPassword)

	s.handle(mux, "GET", "/api/v1/agencies", operation{
		Response:  objectOf(map[string]any{"agencies": []*account.Agency{}}),
		Summary:   "The agencies the caller's agency reaches (its own and those under it), by path",
		Roles:     rolesStaff,
		Responses: map[string]string{"200": "agencies"},
	}, s.handleAgencyList)
	s.handle(mux, "POST", "/api/v1/agencies", operation{
		Response:    account.Agency{},
		Summary:     "Create an agency under one the caller reaches: a city under a province, a county under a city",
		Description: "Without parent_id a new province; only an administrator of no agency may create one. Audited.",
		Roles:       rolesAdmin,
		Body:        bodyOf(account.NewAgency{}, map[string]map[string]any{"": {"required": []string{"name"}}}),
		Responses:   map[string]string{"201": "created", "400": "bad name or parent", "403": "parent outside the caller's agency", "409": "name taken under that parent"},
	}, s.handleAgencyCreate)
	s.handle(mux, "PATCH", "/api/v1/agencies/{id}", operation{
		Response:  account.Agency{},
		Summary:   "Rename an agency; audited",
		Roles:     rolesAdmin,
		Body:      agencyRename{},
		Responses: map[string]string{"200": "renamed", "403": "outside the caller's agency", "404": "no such agency", "409": "stale version or name taken"},
	}, s.handleAgencyRename)

	s.handle(mux, "GET", "/api/v1/users", operation{
		Response:  objectOf(map[string]any{"users": []*account.User{}}),
		Summary:   "The users of the caller's agency and those under it",
		Roles:     rolesAdmin,
		Responses: map[string]string{"200": "users"},
	}, s.handleUserList)
	s.handle(mux, "POST", "/api/v1/users", operation{
		Response: account.User{},
		Summary:  "Create a user in an agency the caller reaches",
		Description: "An enterprise's account (role enterprise) names the enterprise's uscc and belongs to its agency. Without a password the user " +
			"signs in with API tokens only. Audited.",
		Roles: rolesAdmin,
		Body: bodyOf(account.NewUser{}, map[string]map[string]any{"": {"required": []string{"name", "role"}},
			"role": {"enum": enforce.Names(enforce.TokenRoles)}}),
		Responses: map[string]string{"201": "created", "400": "bad name, role, agency, uscc or password", "403": "agency outside the caller's", "409": "name taken"},
	}, s.handleUserCreate)
	s.handle(mux, "GET", "/api/v1/users/{id}", operation{
		Response:  account.User{},
		Summary:   "One user",
		Roles:     rolesAdmin,
		Responses: map[string]string{"200": "user", "403": "outside the caller's agency", "404": "no such user"},
	}, s.handleUserGet)
	s.handle(mux, "PATCH", "/api/v1/users/{id}", operation{
		Response:    account.User{},
		Summary:     "Change a user's display name, role, agency, enterprise, or disable it (its sessions end); audited",
		Description: "An administrator cannot change its own role or agency, or disable itself.",
		Roles:       rolesAdmin,
		Body: bodyOf(account.UserUpdate{}, map[string]map[string]any{"": {"required": []string{"version"}}, "version": version,
			"role": {"enum": enforce.Names(enforce.TokenRoles)}}),
		Responses: map[string]string{"200": "changed", "400": "bad field", "403": "outside the caller's agency", "404": "no such user", "409": "stale version, or a change to oneself"},
	}, s.handleUserUpdate)
	s.handle(mux, "POST", "/api/v1/users/{id}/password", operation{
		Summary:   "Reset a user's password; every session of the user ends; audited",
		Roles:     rolesAdmin,
		Body:      passwordReset{},
		Responses: map[string]string{"204": "reset", "400": "too weak", "403": "outside the caller's agency", "404": "no such user"},
	}, s.handleUserPassword)
	s.handle(mux, "GET", "/api/v1/users/{id}/tokens", operation{
		Response:  objectOf(map[string]any{"tokens": []*account.Token{}}),
		Summary:   "A user's API tokens (never the tokens themselves)",
		Roles:     rolesAdmin,
		Responses: map[string]string{"200": "tokens", "403": "outside the caller's agency", "404": "no such user"},
	}, s.handleTokenList)
	s.handle(mux, "POST", "/api/v1/users/{id}/tokens", operation{
		Response:    objectOf(map[string]any{"token": "", "record": &account.Token{}}),
		Summary:     "Create an API token for a user, for a machine; the token is in this answer only",
		Description: "Only the token's SHA-256 is stored. expires_in_days is 1 to 365. Audited.",
		Roles:       rolesAdmin,
		Body:        tokenRequest{},
		Responses:   map[string]string{"201": "the token and its record", "400": "bad name or expiry", "403": "outside the caller's agency", "404": "no such user"},
	}, s.handleTokenCreate)
	s.handle(mux, "POST", "/api/v1/tokens/{id}/revoke", operation{
		Response:  account.Token{},
		Summary:   "Revoke an API token; audited",
		Roles:     rolesAdmin,
		Responses: map[string]string{"200": "revoked", "403": "outside the caller's agency", "404": "no such token", "409": "already revoked"},
	}, s.handleTokenRevoke)
}

// Request bodies of the account routes.
type (
	loginRequest struct {
		Name     string `json:"name" openapi:"required"`
		Password string `json:"password" openapi:"required"`
	}
	passwordChange struct {
		Current  string `json:"current_password" openapi:"required"`
		Password string `json:"password" openapi:"required" doc:"the new password"`
	}
	agencyRename struct {
		Version int    `json:"version" openapi:"required" doc:"the version read; a stale version is refused with 409"`
		Name    string `json:"name" openapi:"required"`
	}
	passwordReset struct {
		Password string `json:"password" openapi:"required"`
	}
	tokenRequest struct {
		Name          string `json:"name" openapi:"required"`
		ExpiresInDays int    `json:"expires_in_days" openapi:"required" doc:"1 to 365"`
	}
)

func (s *Server) accounts() (*account.Accounts, error) {
	if s.Accounts == nil {
		return nil, errors.New("httpapi: accounts are not configured")
	}
	return s.Accounts, nil
}

// clientAddr is the client's IP address, what failed sign-ins are counted against. It is the
// connection's peer, unless the peer is one of s.TrustedProxies: then it is the rightmost
// X-Forwarded-For entry that is not a trusted proxy (each proxy appends the address it was
// reached from, so entries left of it may be the client's own inventions). When every entry
// is a trusted proxy it is the leftmost; an entry that is not an IP address ends the walk at
// the trusted hop to its right, so that no client picks the address it is counted under.
func (s *Server) clientAddr(r *http.Request) string {
	return ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.TrustedProxies)
}

// ClientAddr is clientAddr over a request's peer (host:port), its X-Forwarded-For header
// lines and the trusted proxies.
func ClientAddr(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) string {
	peer := remoteAddr
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		peer = host
	}
	ip, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(ip, trusted) {
		return peer
	}
	var hops []string
	for _, line := range forwardedFor {
		hops = append(hops, strings.Split(line, ",")...)
	}
	client := ip
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // not an address: the trusted hop to its right is what is known
		}
		client = hop.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client.String()
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (s *Server) sessionCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: r.TLS != nil || s.SecureCookie, SameSite: http.SameSiteStrictMode}
}

func (s *Server) expiredSessionCookie(r *http.Request) *http.Cookie {
	return s.sessionCookie(r, "", -1)
}

// me is what /api/v1/me and sign-in return of the caller.
type me struct {
	Principal
	DisplayName string `json:"display_name,omitempty"`
	// CSRFToken is sent in X-CSRF-Token with every unsafe request of a session.
	CSRFToken  string   `json:"csrf_token,omitempty"`
	Operations []string `json:"operations"`
}

func (s *Server) meOf(p Principal) me {
	ops := []string{}
	for _, rt := range s.routes {
		if rolePermitted(rt.op.Roles, p.Role) || rolePermitted(rt.op.Roles, RolePublic) {
			ops = append(ops, rt.method+" "+rt.path)
		}
	}
	m := me{Principal: p, Operations: ops}
	if p.session != "" {
		m.CSRFToken = account.CSRFToken(p.session)
	}
	return m
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	acc, err := s.accounts()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var in loginRequest
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	switch {
	case in.Name == "":
		s.Error(w, r, offsite.Required("name", "is required"))
		return
	case in.Password == "":
		s.Error(w, r, offsite.Required("password", "is required"))
		return
	case len(in.Password) > account.MaxPasswordLength:
		s.Error(w, r, offsite.Invalid("password", "is longer than %d bytes", account.MaxPasswordLength))
		return
	}
	u, secret, err := acc.Login(r.Context(), in.Name, in.Password, s.clientAddr(r))
	if err != nil {
		var le *account.LockedError
		if errors.As(err, &le) {
			w.Header().Set("Retry-After", fmt.Sprint(int(time.Until(le.Until).Seconds())+1))
		}
		s.Error(w, r, err)
		return
	}
	http.SetCookie(w, s.sessionCookie(r, secret, int(acc.SessionTTL().Seconds())))
	p := principalOf(u)
	p.session = secret
	m := s.meOf(p)
	m.DisplayName = u.DisplayName
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFromContext(r.Context())
	if p.session == "" {
		s.Error(w, r, offsite.Invalid("session", "this request came with an API token, which has no session: revoke the token instead"))
		return
	}
	u, err := s.Accounts.Store.FindUserByID(r.Context(), p.UserID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Accounts.Logout(r.Context(), u, p.session); err != nil {
		s.Error(w, r, err)
		return
	}
	http.SetCookie(w, s.expiredSessionCookie(r))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleOwnPassword(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFromContext(r.Context())
	if p.UserID == 0 || s.Accounts == nil {
		s.Error(w, r, offsite.Invalid("user", "this principal has no account (a fixed token)"))
		return
	}
	var in passwordChange
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.Accounts.Store.FindUserByID(r.Context(), p.UserID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Accounts.ChangePassword(r.Context(), u, in.Current, in.Password); err != nil {
		s.Error(w, r, err)
		return
	}
	http.SetCookie(w, s.expiredSessionCookie(r))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleAgencyList(w http.ResponseWriter, r *http.Request) {
	acc, err := s.accounts()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	as, err := acc.Store.FindAgencies(r.Context(), scope(r.Context()))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"agencies": as})
}

func (s *Server) handleAgencyCreate(w http.ResponseWriter, r *http.Request) {
	accountCommand(s, w, r, http.StatusCreated, func(ctx context.Context, acc *account.Accounts, a enforce.Actor, _ int64, in *account.NewAgency) (any, error) {
		return acc.CreateAgency(ctx, a, *in)
	})
}

func (s *Server) handleAgencyRename(w http.ResponseWriter, r *http.Request) {
	accountCommand(s, w, r, http.StatusOK, func(ctx context.Context, acc *account.Accounts, a enforce.Actor, id int64, in *agencyRename) (any, error) {
		return acc.RenameAgency(ctx, a, id, in.Version, in.Name)
	})
}

func (s *Server) handleUserList(w http.ResponseWriter, r *http.Request) {
	acc, err := s.accounts()
	if err != nil {
		s.Error(w, r, err)
		return
	}
	us, err := acc.Store.FindUsers(r.Context(), scope(r.Context()))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	accountCommand(s, w, r, http.StatusCreated, func(ctx context.Context, acc *account.Accounts, a enforce.Actor, _ int64, in *account.NewUser) (any, error) {
		return acc.CreateUser(ctx, a, *in)
	})
}

// userParam reads {id} and loads the user (authorize has checked its agency).
func (s *Server) userParam(r *http.Request) (*account.User, error) {
	acc, err := s.accounts()
	if err != nil {
		return nil, err
	}
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	return acc.Store.FindUserByID(r.Context(), id)
}

func (s *Server) handleUserGet(w http.ResponseWriter, r *http.Request) {
	u, err := s.userParam(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) handleUserUpdate(w http.ResponseWriter, r *http.Request) {
	accountCommand(s, w, r, http.StatusOK, func(ctx context.Context, acc *account.Accounts, a enforce.Actor, id int64, in *account.UserUpdate) (any, error) {
		return acc.UpdateUser(ctx, a, id, *in)
	})
}

func (s *Server) handleUserPassword(w http.ResponseWriter, r *http.Request) {
	accountCommand(s, w, r, http.StatusNoContent, func(ctx context.Context, acc *account.Accounts, a enforce.Actor, id int64, in *passwordReset) (any, error) {
		return nil, acc.SetPassword(ctx, a, id, in.Password)
	})
}

func (s *Server) handleTokenList(w http.ResponseWriter, r *http.Request) {
	u, err := s.userParam(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ts, err := s.Accounts.Store.FindTokens(r.Context(), u.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

func (s *Server) handleTokenCreate(w http.ResponseWriter, r *http.Request) {
	accountCommand(s, w, r, http.StatusCreated, func(ctx context.Context, acc *account.Accounts, a enforce.Actor, id int64, in *tokenRequest) (any, error) {
		t, secret, err := acc.CreateToken(ctx, a, id, in.Name, time.Duration(in.ExpiresInDays)*24*time.Hour)
		return map[string]any{"token": secret, "record": t}, err
	})
}

func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request) {
	accountCommand(s, w, r, http.StatusOK, func(ctx context.Context, acc *account.Accounts, a enforce.Actor, id int64, _ *noBody) (any, error) {
		return acc.RevokeToken(ctx, a, id)
	})
}

// noBody is the input of a command that reads no request body.
type noBody struct{}

// accountCommand runs an account command as the caller: the accounts configured, the path's
// {id} when the route has one, the JSON body decoded into a new In (none for noBody); the
// result is written with code, or the error through s.Error. The one shape of the handlers of
// account, agency and token changes.
func accountCommand[In any](s *Server, w http.ResponseWriter, r *http.Request, code int,
	run func(ctx context.Context, acc *account.Accounts, a enforce.Actor, id int64, in *In) (any, error)) {
	err := func() error {
		acc, err := s.accounts()
		if err != nil {
			return err
		}
		var id int64
		if r.PathValue("id") != "" {
			if id, err = idParam(r, "id"); err != nil {
				return err
			}
		}
		in := new(In)
		if _, none := any(in).(*noBody); !none {
			if err := s.decodeJSON(w, r, in); err != nil {
				return err
			}
		}
		out, err := run(r.Context(), acc, PrincipalFromContext(r.Context()).Actor(), id, in)
		if err != nil {
			return err
		}
		if code == http.StatusNoContent {
			w.WriteHeader(code)
		} else {
			writeJSON(w, code, out)
		}
		return nil
	}()
	if err != nil {
		s.Error(w, r, err)
	}
}
