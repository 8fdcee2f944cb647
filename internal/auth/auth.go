// Package auth issues and checks mlfleet's bearer tokens. A token is a random secret shown
// once; the store keeps only its SHA-256 hash, with a role that says what it may do.
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

	"github.com/mlfleet/mlfleet/internal/store"
)

// Roles, from the most to the least powerful.
const (
	RoleOwner       = "Owner"
	RoleContributor = "Contributor"
	RoleReader      = "Reader"
)

var (
	// ErrUnauthenticated means no valid token was presented.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden means the token's role does not allow the call.
	ErrForbidden = errors.New("forbidden")
)

// tokenPrefix marks mlfleet tokens so they are recognisable in logs and secret scanners.
const tokenPrefix = "mlf_"

// Authenticator checks tokens against the store and mints new ones.
type Authenticator struct {
	store store.Store
	now   func() time.Time
}

// New returns an Authenticator backed by s.
func New(s store.Store) *Authenticator {
	return &Authenticator{store: s, now: time.Now}
}

// Principal is who a request acts as.
type Principal struct {
	Name      string
	Role      string
	ExpiresAt time.Time
}

// Mint creates a token with this name and role, valid for ttl (0 = never expires), and
// returns the secret, which is not stored and cannot be recovered.
func (a *Authenticator) Mint(ctx context.Context, name, role string, ttl time.Duration) (secret string, tok *store.Token, err error) {
	if !validRole(role) {
		return "", nil, fmt.Errorf("mint token: unknown role %q", role)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("mint token: %w", err)
	}
	secret = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := a.now().UTC()
	tok = &store.Token{Hash: Hash(secret), Name: name, Role: role, CreatedAt: now}
	if ttl > 0 {
		tok.ExpiresAt = now.Add(ttl)
	}
	if err := a.store.CreateToken(ctx, tok); err != nil {
		return "", nil, fmt.Errorf("mint token: %w", err)
	}
	return secret, tok, nil
}

// Authenticate returns the principal of a secret token, or ErrUnauthenticated.
func (a *Authenticator) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if secret == "" {
		return nil, ErrUnauthenticated
	}
	tok, err := a.store.GetToken(ctx, Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if !tok.ExpiresAt.IsZero() && a.now().After(tok.ExpiresAt) {
		return nil, ErrUnauthenticated
	}
	return &Principal{Name: tok.Name, Role: tok.Role, ExpiresAt: tok.ExpiresAt}, nil
}

// Allowed reports whether role may make a call with this HTTP method. secret marks calls
// that reveal secrets (listKeys, credentials), which readers may not make.
func Allowed(role, method string, secret bool) bool {
	switch role {
	case RoleOwner, RoleContributor:
		return true
	case RoleReader:
		return (method == http.MethodGet || method == http.MethodHead) && !secret
	}
	return false
}

// CanGrant reports whether a principal with role may mint a token with role want.
func CanGrant(role, want string) bool {
	return rank(role) >= rank(want) && rank(want) > 0
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

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or one named "system" for background work.
func PrincipalFrom(ctx context.Context) *Principal {
	if p, ok := ctx.Value(principalKey{}).(*Principal); ok {
		return p
	}
	return &Principal{Name: "system", Role: RoleOwner}
}
