package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// identityRoutes serves principals and tokens under /mlfleet/v1 (Azure keeps principals in
// Microsoft Graph, which mlfleet does not serve). Role assignments are ARM's: see
// serveAuthorization.
func (s *Server) identityRoutes() {
	// Principals and tokens lie in no ARM scope for authorize to derive, so each call is
	// checked by package auth against what it does: any caller may mint a token no
	// stronger than its own and see itself, while creating a principal takes an Owner.
	rt := &s.router
	rt.handle(http.MethodPost, "/mlfleet/v1/tokens", s.mintToken).selfAuthorized = true
	rt.handle(http.MethodGet, "/mlfleet/v1/principals", s.listPrincipals).selfAuthorized = true
	rt.handle(http.MethodPost, "/mlfleet/v1/principals", s.createPrincipal).selfAuthorized = true
	rt.handle(http.MethodGet, "/mlfleet/v1/principals/{ref}", s.getPrincipal).selfAuthorized = true
	rt.handle(http.MethodDelete, "/mlfleet/v1/principals/{ref}", s.deletePrincipal).selfAuthorized = true
	rt.handle(http.MethodPost, "/mlfleet/v1/principals/{ref}/resetCredential", s.resetCredential).selfAuthorized = true
	rt.handle(http.MethodGet, "/tenants", s.listTenants).selfAuthorized = true
}

// listTenants lists the one tenant every principal of this server belongs to (az login
// asks for it when no --tenant is given).
func (s *Server) listTenants(w http.ResponseWriter, r *http.Request, _ params) {
	t := s.cfg.Auth.Tenant()
	writeJSON(w, http.StatusOK, listBody{Value: []map[string]any{{
		"id": "/tenants/" + t, "tenantId": t, "tenantCategory": "Home", "displayName": "mlfleet",
		"defaultDomain": "mlfleet.local", "domains": []string{"mlfleet.local"}, "tenantType": "AAD",
	}}})
}

// tokenRequest is the body of POST /mlfleet/v1/tokens.
type tokenRequest struct {
	Role string `json:"role"`
	// ExpiresInSeconds is the token's lifetime; absent (nil) means the server's default.
	ExpiresInSeconds *int64 `json:"expiresInSeconds"`
}

// TokenResponse is the answer to POST /mlfleet/v1/tokens.
type TokenResponse = armapi.AccessToken

// mintToken issues the caller a new token for its own principal: by default capped at the
// caller's strongest role for the server's default lifetime (cut to the asking token's),
// never stronger nor longer-lived than the token that asks; an explicit lifetime that
// would outlive it is a 400. The answer's role is the cap the token carries.
func (s *Server) mintToken(w http.ResponseWriter, r *http.Request, _ params) {
	var in tokenRequest
	if err := decodeOptionalBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	// An explicit 0 is refused like any other non-positive lifetime rather than read as
	// "the default": only leaving the field out asks for that. The upper bound only keeps
	// the Duration below from overflowing; MintFor refuses one that outlives the asking token.
	var ttl time.Duration
	if in.ExpiresInSeconds != nil {
		if n := *in.ExpiresInSeconds; n <= 0 || n > 1<<31 {
			writeError(w, r, arm.BadRequest(arm.CodeInvalidRequestContent,
				"expiresInSeconds must be a positive number of seconds, not %d; leave it out for the server's default lifetime (%s).", n, s.cfg.Auth.TokenLifetime()).WithTarget("expiresInSeconds"))
			return
		}
		ttl = time.Duration(*in.ExpiresInSeconds) * time.Second
	}
	secret, tok, err := s.cfg.Auth.MintFor(r.Context(), auth.PrincipalFrom(r.Context()), in.Role, ttl)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, TokenResponse{AccessToken: secret, TokenType: "Bearer", Role: tok.Role, ExpiresOn: tok.ExpiresAt})
}

// decodeOptionalBody is decodeBody for requests whose body may be empty. Only a declared
// empty body (Content-Length: 0) counts as none; a chunked body is decoded.
func decodeOptionalBody(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeBody(r, v)
}

// PrincipalBody is a principal as /mlfleet/v1/principals shows it.
type PrincipalBody = armapi.Principal

// principalBody shows a principal as Microsoft Graph would: a service principal's login
// is its appId, a user's its userPrincipalName. Secrets are never in it; createPrincipal
// and resetCredential add a service principal's new secret, once.
func (s *Server) principalBody(p *store.Principal) PrincipalBody {
	b := PrincipalBody{ID: p.ID, Type: p.Type, DisplayName: p.Name, Tenant: s.cfg.Auth.Tenant(), CreatedDateTime: p.CreatedAt}
	if p.Type == store.PrincipalServicePrincipal {
		b.AppID = p.Login
	} else {
		b.UserPrincipalName = p.Login
	}
	return b
}

// principalRequest is the body of POST /mlfleet/v1/principals.
type principalRequest struct {
	Type              string   `json:"type"`
	DisplayName       string   `json:"displayName"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Password          string   `json:"password"`
	Role              string   `json:"role"`
	Scopes            []string `json:"scopes"`
}

func (s *Server) createPrincipal(w http.ResponseWriter, r *http.Request, _ params) {
	var in principalRequest
	if err := decodeBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	if in.Type == "" {
		in.Type = store.PrincipalServicePrincipal
	}
	// Scopes are checked and spelled as stored before anything is created, so that a
	// typo fails the request instead of leaving a principal with no role.
	for i, scope := range in.Scopes {
		canonical, err := s.existingScope(r, scope)
		if err != nil {
			writeError(w, r, err)
			return
		}
		in.Scopes[i] = canonical
	}
	cp, err := s.cfg.Auth.CreatePrincipal(r.Context(), auth.PrincipalFrom(r.Context()), auth.NewPrincipal{
		Type: in.Type, Name: in.DisplayName, Login: in.UserPrincipalName, Password: in.Password, Role: in.Role, Scopes: in.Scopes})
	if err != nil {
		writeError(w, r, err)
		return
	}
	b := s.principalBody(cp.Principal)
	if cp.Principal.Type == store.PrincipalServicePrincipal {
		b.Password = cp.Secret
	}
	for _, ra := range cp.Assignments {
		b.RoleAssignments = append(b.RoleAssignments, roleAssignmentID(ra))
	}
	writeJSON(w, http.StatusCreated, b)
}

func (s *Server) listPrincipals(w http.ResponseWriter, r *http.Request, _ params) {
	ps, err := s.cfg.Auth.ListPrincipals(r.Context(), auth.PrincipalFrom(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := []PrincipalBody{}
	for _, p := range ps {
		out = append(out, s.principalBody(p))
	}
	writeJSON(w, http.StatusOK, listBody{Value: out})
}

func (s *Server) getPrincipal(w http.ResponseWriter, r *http.Request, p params) {
	pr, err := s.cfg.Auth.GetPrincipal(r.Context(), auth.PrincipalFrom(r.Context()), p["ref"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.principalBody(pr))
}

func (s *Server) deletePrincipal(w http.ResponseWriter, r *http.Request, p params) {
	if err := s.cfg.Auth.DeletePrincipal(r.Context(), auth.PrincipalFrom(r.Context()), p["ref"]); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// resetRequest is the body of POST /mlfleet/v1/principals/{ref}/resetCredential: a user's
// new password (a service principal gets a new secret).
type resetRequest struct {
	Password string `json:"password"`
}

func (s *Server) resetCredential(w http.ResponseWriter, r *http.Request, p params) {
	var in resetRequest
	if err := decodeOptionalBody(r, &in); err != nil {
		writeError(w, r, err)
		return
	}
	pr, secret, err := s.cfg.Auth.ResetSecret(r.Context(), auth.PrincipalFrom(r.Context()), p["ref"], in.Password)
	if err != nil {
		writeError(w, r, err)
		return
	}
	b := s.principalBody(pr)
	if pr.Type == store.PrincipalServicePrincipal {
		b.Password = secret
	}
	writeJSON(w, http.StatusOK, b)
}

// checkScope answers 400 InvalidScope for a scope that is neither "/" nor an ARM id (a
// subscription's, a resource group's or a resource's), as ARM does, rather than treat it
// as a scope that nothing is under.
func checkScope(scope string) error {
	if scope = strings.TrimRight(scope, "/"); scope == "" {
		return nil
	}
	if _, err := arm.ParseID(scope); err != nil {
		return arm.BadRequest("InvalidScope", "The scope '%s' is not valid: use '/', /subscriptions/{id}, /subscriptions/{id}/resourceGroups/{name} or a resource id.", scope)
	}
	return nil
}

// existingScope checks that a role assignment's scope is "/" or the id of something that
// exists, and returns it with the case it was created with. An assignment at a scope that
// does not exist would grant nothing today and, silently, a role on whatever is later
// created under that name.
func (s *Server) existingScope(r *http.Request, scope string) (string, error) {
	scope = strings.TrimRight(scope, "/")
	if scope == "" {
		return "/", nil
	}
	if err := checkScope(scope); err != nil {
		return "", err
	}
	res, err := s.cfg.Store.GetResource(r.Context(), scope)
	if errors.Is(err, store.ErrNotFound) {
		return "", arm.NotFound("ScopeNotFound", "The scope '%s' does not exist: create it first, or check its spelling.", scope)
	}
	if err != nil {
		return "", err
	}
	return res.ID, nil
}
