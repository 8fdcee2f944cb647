// Package auth is mlfleet's identity: principals (users and service principals), role
// assignments at a scope, and the bearer tokens minted for a principal.
//
// A request's caller is a Principal loaded from its token: who it is, the strongest role
// the token allows (its cap) and the principal's role assignments. The caller may perform
// an action over a scope when an assignment at that scope or above it grants a role that
// allows the action, and the token's cap allows it too (see access.go).
//
// Token secrets are random, shown once, and stored as SHA-256 hashes; principal secrets
// (passwords, client secrets) are stored as salted PBKDF2 hashes (see secret.go).
//
// A checked token's Principal is cached for a second (cache.go): a client's burst of
// requests reads the store once. Changes made through the Authenticator empty the cache,
// so they apply to the next request; a change made elsewhere (another replica) applies
// within the second.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Roles, from the most to the least powerful.
const (
	RoleOwner       = "Owner"
	RoleContributor = "Contributor"
	RoleReader      = "Reader"
)

var (
	// ErrUnauthenticated means no valid token was presented. Every failure of
	// Authenticate is, or wraps, it.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrInvalidToken means a token was presented that is no access token of this server:
	// unknown, revoked (a credential reset, a deleted principal) or a refresh token. It
	// wraps ErrUnauthenticated.
	ErrInvalidToken = fmt.Errorf("invalid token: %w", ErrUnauthenticated)
	// ErrForbidden means the caller may not make the call (see ForbiddenError for the
	// details ARM reports).
	ErrForbidden = errors.New("forbidden")
	// ErrInvalidCredentials means a login named an unknown principal or a wrong secret.
	ErrInvalidCredentials = errors.New("invalid credentials")
)

// ExpiredTokenError is an access token of this server presented after it expired. It
// wraps ErrUnauthenticated; the caller fixes it by getting a new token.
type ExpiredTokenError struct {
	// ExpiresAt is when the token expired, Now when it was presented (both UTC).
	ExpiresAt, Now time.Time
}

func (e *ExpiredTokenError) Error() string {
	return fmt.Sprintf("token expired at %s", e.ExpiresAt.Format(time.RFC3339))
}

// Unwrap returns ErrUnauthenticated.
func (e *ExpiredTokenError) Unwrap() error { return ErrUnauthenticated }

// tokenPrefix marks mlfleet tokens so they are recognisable in logs and secret scanners.
const tokenPrefix = "mlf_"

// AdminLogin is the login of the bootstrap admin: the principal of the token `mlfleet
// serve` writes on first start, Owner at the root scope "/" (every subscription).
const AdminLogin = "admin"

// adminAssignment names the admin's root Owner assignment, so that every start (of every
// replica) ensures the same one.
const adminAssignment = "6d6c666c-6565-7400-0000-0000000a0d31"

// Options tune an Authenticator. Zero fields take the defaults.
type Options struct {
	// Tenant is the tenant id principals belong to.
	Tenant string
	// TokenLifetime is how long a minted token lives unless asked otherwise (default 1 h).
	TokenLifetime time.Duration
	// MaxTokenLifetime caps what a caller may ask for (default 24 h).
	MaxTokenLifetime time.Duration
	// SigningKey signs ID tokens (nil: sign-ins get no ID token).
	SigningKey *SigningKey
	// CacheTTL is how long a checked token is trusted without reading the store again
	// (default DefaultCacheTTL; negative: every request reads the store). Changes made
	// through this Authenticator take effect at once; others (another replica's, a
	// resource group's delete) after at most CacheTTL.
	CacheTTL time.Duration
}

// Authenticator checks tokens against the store, mints new ones and manages principals.
type Authenticator struct {
	store store.Store
	opts  Options
	now   func() time.Time
	// adminID is the bootstrap admin's principal id, set by Bootstrap.
	adminID string
	cache   tokenCache
}

// New returns an Authenticator backed by s.
func New(s store.Store, opts Options) *Authenticator {
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.MaxTokenLifetime <= 0 {
		opts.MaxTokenLifetime = 24 * time.Hour
	}
	opts.TokenLifetime = min(opts.TokenLifetime, opts.MaxTokenLifetime)
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	return &Authenticator{store: s, opts: opts, now: time.Now, cache: tokenCache{ttl: max(opts.CacheTTL, 0)}}
}

// Tenant returns the tenant id principals belong to.
func (a *Authenticator) Tenant() string { return a.opts.Tenant }

// SigningKey returns the key ID tokens are signed with (nil when there is none).
func (a *Authenticator) SigningKey() *SigningKey { return a.opts.SigningKey }

// TokenLifetime returns the default lifetime of a minted token.
func (a *Authenticator) TokenLifetime() time.Duration { return a.opts.TokenLifetime }

// Bootstrap makes sure the admin principal exists and is Owner at the root scope, and
// returns its id. Every server start calls it; replicas may race, and agree.
func (a *Authenticator) Bootstrap(ctx context.Context) (string, error) {
	admin, err := a.store.GetPrincipal(ctx, AdminLogin)
	if errors.Is(err, store.ErrNotFound) {
		admin = &store.Principal{ID: newGUID(), Type: store.PrincipalUser, Login: AdminLogin, Name: "mlfleet admin", CreatedBy: "mlfleet"}
		err = a.store.CreatePrincipal(ctx, admin)
		if errors.Is(err, store.ErrConflict) {
			admin, err = a.store.GetPrincipal(ctx, AdminLogin)
		}
	}
	if err != nil {
		return "", fmt.Errorf("bootstrap admin: %w", err)
	}
	ra := &store.RoleAssignment{Name: adminAssignment, Scope: "/", PrincipalID: admin.ID, Role: RoleOwner, CreatedBy: "mlfleet"}
	if err := a.store.CreateRoleAssignment(ctx, ra); err != nil && !errors.Is(err, store.ErrConflict) {
		return "", fmt.Errorf("bootstrap admin: %w", err)
	}
	a.adminID = admin.ID
	return admin.ID, nil
}

// MintAdmin mints a token for the bootstrap admin that never expires: the one `mlfleet
// serve` writes into its home on first start.
func (a *Authenticator) MintAdmin(ctx context.Context) (string, error) {
	if a.adminID == "" {
		return "", fmt.Errorf("mint admin token: Bootstrap has not run")
	}
	secret, _, err := a.mint(ctx, a.adminID, AdminLogin, RoleOwner, time.Time{})
	return secret, err
}

// MintFor mints a token for the caller's own principal, valid for ttl (0 = the default
// lifetime, cut to the asking token's expiry) with at most role ("" = the caller's
// effective cap, effectiveCap). A token is never stronger or longer-lived than the one that
// asked for it: a ttl that would outlive it is refused, naming the longest one allowed.
func (a *Authenticator) MintFor(ctx context.Context, caller *Principal, role string, ttl time.Duration) (string, *store.Token, error) {
	asked := role != ""
	if role == "" {
		role = caller.effectiveCap()
	}
	if !validRole(role) {
		return "", nil, badInput("role must be Owner, Contributor or Reader, not '%s'.", role)
	}
	// As Azure issues no token for a role the caller was never granted, a role asked for by
	// name must be one the principal holds somewhere; the token's cap alone (an Owner cap
	// for every sign-in) does not grant it.
	if held := caller.strongestRole(); asked && rank(role) > rank(held) {
		return "", nil, arm.Errorf(http.StatusForbidden, arm.CodeAuthorizationFailed,
			"The client '%s' with object id '%s' does not hold the %s role at any scope (its strongest role: %s), so it cannot get a %s token: ask for a role it holds, or ask an Owner to assign it %s (mlfleet role assignment create).",
			caller.Name, caller.ID, role, orNone(held), role, role)
	}
	if rank(role) > rank(caller.Cap) {
		return "", nil, arm.Errorf(http.StatusForbidden, arm.CodeAuthorizationFailed,
			"A token limited to the %s role cannot mint a %s token: a token is never stronger than the one that asks for it.", caller.Cap, role)
	}
	if caller.ID == "" {
		return "", nil, ErrForbidden
	}
	if ttl > 0 && !caller.ExpiresAt.IsZero() {
		now := a.now().UTC()
		if left := caller.ExpiresAt.Sub(now).Truncate(time.Second); ttl > left && left >= time.Minute {
			return "", nil, badInput("A token lifetime of %s would outlive the token that asks for it, which expires at %s: ask for at most %d seconds, or leave the lifetime out to get one that expires with it.",
				ttl, caller.ExpiresAt.UTC().Format(time.RFC3339), int64(left/time.Second))
		}
	}
	expires, err := a.expiry(ttl, caller.ExpiresAt)
	if err != nil {
		return "", nil, err
	}
	return a.mint(ctx, caller.ID, caller.Name, role, expires)
}

// Login checks a principal's login and secret (a service principal's appId and client
// secret, a user's name and password) and mints a token for it with the default lifetime.
func (a *Authenticator) Login(ctx context.Context, login, secret string) (string, *store.Token, *store.Principal, error) {
	p, err := a.store.GetPrincipal(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the time a check would, so that timing does not tell which logins exist.
		checkSecret(dummyHash, secret)
		return "", nil, nil, ErrInvalidCredentials
	}
	if err != nil {
		return "", nil, nil, fmt.Errorf("login: %w", err)
	}
	if p.ID == a.adminID || !checkSecret(p.SecretHash, secret) {
		return "", nil, nil, ErrInvalidCredentials
	}
	expires, err := a.expiry(0, time.Time{})
	if err != nil {
		return "", nil, nil, err
	}
	tokenSecret, tok, err := a.mint(ctx, p.ID, p.Login, RoleOwner, expires)
	return tokenSecret, tok, p, err
}

// refreshRole marks a refresh token in the tokens table: it renews a sign-in at the token
// endpoint and is never accepted as a bearer token.
const refreshRole = "refresh"

// refreshLifetime is how long a user's sign-in lasts without signing in again.
const refreshLifetime = 14 * 24 * time.Hour

// IssueRefresh returns a refresh token for the principal id: what a user's client keeps
// to get new access tokens without the password.
func (a *Authenticator) IssueRefresh(ctx context.Context, id, name string) (string, error) {
	secret, _, err := a.mint(ctx, id, name, refreshRole, a.now().UTC().Add(refreshLifetime))
	return secret, err
}

// Refresh mints a new access token from a refresh token, for its principal; it fails with
// ErrInvalidCredentials when the refresh token is unknown, expired or revoked.
func (a *Authenticator) Refresh(ctx context.Context, refresh string) (string, *store.Token, *store.Principal, error) {
	tok, err := a.store.GetToken(ctx, Hash(refresh))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (tok.Role != refreshRole || a.now().After(tok.ExpiresAt))) {
		return "", nil, nil, ErrInvalidCredentials
	}
	if err != nil {
		return "", nil, nil, fmt.Errorf("refresh: %w", err)
	}
	p, err := a.store.GetPrincipal(ctx, tok.PrincipalID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, nil, ErrInvalidCredentials
	}
	if err != nil {
		return "", nil, nil, fmt.Errorf("refresh: %w", err)
	}
	expires, err := a.expiry(0, time.Time{})
	if err != nil {
		return "", nil, nil, err
	}
	secret, access, err := a.mint(ctx, p.ID, p.Login, RoleOwner, expires)
	return secret, access, p, err
}

// expiry is when a token asked for with ttl expires: the default lifetime when ttl is 0,
// never after MaxTokenLifetime from now nor after notAfter (when set).
func (a *Authenticator) expiry(ttl time.Duration, notAfter time.Time) (time.Time, error) {
	if ttl == 0 {
		ttl = a.opts.TokenLifetime
	}
	if ttl < time.Minute || ttl > a.opts.MaxTokenLifetime {
		return time.Time{}, badInput("A token lives between 1 minute and %s (the server's --token-max-lifetime), not %s.", a.opts.MaxTokenLifetime, ttl)
	}
	now := a.now().UTC()
	expires := now.Add(ttl)
	if !notAfter.IsZero() && expires.After(notAfter) {
		if !notAfter.After(now.Add(time.Minute)) {
			return time.Time{}, badInput("The token asking for a new one expires at %s: it is too close to expiry to mint another.", notAfter.Format(time.RFC3339))
		}
		expires = notAfter
	}
	return expires, nil
}

func (a *Authenticator) mint(ctx context.Context, principalID, name, role string, expires time.Time) (string, *store.Token, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("mint token: %w", err)
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	tok := &store.Token{Hash: Hash(secret), Name: name, Role: role, PrincipalID: principalID, CreatedAt: a.now().UTC(), ExpiresAt: expires}
	if err := a.store.CreateToken(ctx, tok); err != nil {
		return "", nil, fmt.Errorf("mint token: %w", err)
	}
	return secret, tok, nil
}

// Authenticate returns the principal of a secret token, with its role assignments. It
// fails with ErrUnauthenticated for no token, ErrInvalidToken for one this server does not
// accept and an *ExpiredTokenError for an expired one (all three are ErrUnauthenticated).
func (a *Authenticator) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if secret == "" {
		return nil, ErrUnauthenticated
	}
	hash, now := Hash(secret), a.now()
	cached, gen := a.cache.get(hash, now)
	if cached != nil {
		return cached, nil
	}
	// One query: the token, its principal (the admin for a token minted before principals
	// existed, capped by its role) and the principal's role assignments.
	tok, p, assignments, err := a.store.Authenticate(ctx, hash, a.adminID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if tok.Role == refreshRole {
		return nil, ErrInvalidToken
	}
	if !tok.ExpiresAt.IsZero() && now.After(tok.ExpiresAt) {
		return nil, &ExpiredTokenError{ExpiresAt: tok.ExpiresAt.UTC(), Now: now.UTC()}
	}
	principal := &Principal{ID: p.ID, Name: p.Login, DisplayName: p.Name, Type: p.Type, Cap: tok.Role,
		ExpiresAt: tok.ExpiresAt, assignments: assignments}
	a.cache.put(hash, principal, now, gen)
	return principal, nil
}

// Hash returns the hex SHA-256 of a secret token.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func validRole(r string) bool { return rank(r) > 0 }

func rank(r string) int {
	switch r {
	case RoleOwner:
		return 3
	case RoleContributor:
		return 2
	case RoleReader:
		return 1
	}
	return 0
}

// CanonicalRole returns the built-in role named r in any case, or "".
func CanonicalRole(r string) string {
	for _, role := range []string{RoleOwner, RoleContributor, RoleReader} {
		if equalFold(role, r) {
			return role
		}
	}
	return ""
}

// newGUID returns a random (version 4) GUID in lowercase.
func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or the system (Owner of everything) for
// background work.
func PrincipalFrom(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok {
		return p
	}
	return System
}
