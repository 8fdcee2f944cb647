package auth

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// clock is a settable time source for an Authenticator under test.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newAuthenticator(t *testing.T) (*Authenticator, store.Store, *clock) {
	t.Helper()
	s := openStore(t)
	c := &clock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	a := New(s)
	a.now = c.Now
	return a, s, c
}

func TestMintAuthenticate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		role string
		ttl  time.Duration
		// after is how long after minting the token is presented.
		after   time.Duration
		wantErr error
	}{
		{name: "owner without expiry", role: RoleOwner, after: 10 * 365 * 24 * time.Hour},
		{name: "reader within ttl", role: RoleReader, ttl: time.Hour, after: 59 * time.Minute},
		{name: "contributor at expiry", role: RoleContributor, ttl: time.Hour, after: time.Hour},
		{name: "expired", role: RoleContributor, ttl: time.Hour, after: time.Hour + time.Second, wantErr: ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a, s, c := newAuthenticator(t)
			minted := c.now
			secret, tok, err := a.Mint(ctx, "ci-"+tt.role, tt.role, tt.ttl)
			if err != nil {
				t.Fatalf("Mint: %v", err)
			}
			if !strings.HasPrefix(secret, tokenPrefix) {
				t.Errorf("secret %q lacks the %q prefix", secret, tokenPrefix)
			}
			if tok.Hash == secret || strings.Contains(tok.Hash, secret) {
				t.Errorf("token hash %q holds the secret", tok.Hash)
			}
			if tok.Hash != Hash(secret) {
				t.Errorf("token hash = %q, want Hash(secret) %q", tok.Hash, Hash(secret))
			}
			if tt.ttl == 0 && !tok.ExpiresAt.IsZero() {
				t.Errorf("ExpiresAt = %v, want zero (never expires)", tok.ExpiresAt)
			}
			if tt.ttl > 0 && !tok.ExpiresAt.Equal(minted.Add(tt.ttl)) {
				t.Errorf("ExpiresAt = %v, want %v", tok.ExpiresAt, minted.Add(tt.ttl))
			}

			// The store keeps the hash, never the secret.
			stored, err := s.GetToken(ctx, Hash(secret))
			if err != nil {
				t.Fatalf("GetToken(Hash(secret)): %v", err)
			}
			if stored.Hash == secret {
				t.Error("the store holds the secret itself")
			}
			if _, err := s.GetToken(ctx, secret); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetToken(secret) = %v, want ErrNotFound: the secret must not be a key", err)
			}

			c.now = minted.Add(tt.after)
			p, err := a.Authenticate(ctx, secret)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Authenticate = %+v, %v; want %v", p, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if p.Name != "ci-"+tt.role || p.Role != tt.role || !p.ExpiresAt.Equal(tok.ExpiresAt) {
				t.Errorf("Authenticate = %+v, want name %q, role %q, expires %v", p, "ci-"+tt.role, tt.role, tok.ExpiresAt)
			}
		})
	}
}

func TestAuthenticateRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _, _ := newAuthenticator(t)
	secret, _, err := a.Mint(ctx, "admin", RoleOwner, 0)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	tests := []struct {
		name   string
		secret string
	}{
		{name: "empty", secret: ""},
		{name: "unknown", secret: "mlf_unknown"},
		{name: "hash instead of secret", secret: Hash(secret)},
		{name: "secret with extra character", secret: secret + "x"},
		{name: "secret in other case", secret: strings.ToUpper(secret)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := a.Authenticate(ctx, tt.secret)
			if !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("Authenticate(%q) = %+v, %v; want ErrUnauthenticated", tt.secret, p, err)
			}
		})
	}
}

func TestMintErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		role string
	}{
		{name: "empty role", role: ""},
		{name: "unknown role", role: "Admin"},
		{name: "role in other case", role: "owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, _, _ := newAuthenticator(t)
			if secret, _, err := a.Mint(context.Background(), "x", tt.role, 0); err == nil {
				t.Errorf("Mint(role %q) = %q, want an error", tt.role, secret)
			}
		})
	}
}

func TestMintGivesDistinctSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, _, _ := newAuthenticator(t)
	seen := map[string]bool{}
	for range 20 {
		secret, _, err := a.Mint(ctx, "same-name", RoleReader, 0)
		if err != nil {
			t.Fatalf("Mint: %v", err)
		}
		if seen[secret] {
			t.Fatalf("Mint returned %q twice", secret)
		}
		seen[secret] = true
	}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		role   string
		method string
		secret bool
		want   bool
	}{
		{name: "reader GET", role: RoleReader, method: http.MethodGet, want: true},
		{name: "reader HEAD", role: RoleReader, method: http.MethodHead, want: true},
		{name: "reader PUT", role: RoleReader, method: http.MethodPut, want: false},
		{name: "reader PATCH", role: RoleReader, method: http.MethodPatch, want: false},
		{name: "reader POST", role: RoleReader, method: http.MethodPost, want: false},
		{name: "reader DELETE", role: RoleReader, method: http.MethodDelete, want: false},
		{name: "reader secret GET", role: RoleReader, method: http.MethodGet, secret: true, want: false},
		{name: "reader secret POST", role: RoleReader, method: http.MethodPost, secret: true, want: false},
		{name: "contributor GET", role: RoleContributor, method: http.MethodGet, want: true},
		{name: "contributor PUT", role: RoleContributor, method: http.MethodPut, want: true},
		{name: "contributor DELETE", role: RoleContributor, method: http.MethodDelete, want: true},
		{name: "contributor POST", role: RoleContributor, method: http.MethodPost, want: true},
		{name: "contributor secret GET", role: RoleContributor, method: http.MethodGet, secret: true, want: true},
		{name: "contributor secret POST", role: RoleContributor, method: http.MethodPost, secret: true, want: true},
		{name: "owner secret POST", role: RoleOwner, method: http.MethodPost, secret: true, want: true},
		{name: "owner DELETE", role: RoleOwner, method: http.MethodDelete, want: true},
		{name: "unknown role GET", role: "Guest", method: http.MethodGet, want: false},
		{name: "empty role GET", role: "", method: http.MethodGet, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Allowed(tt.role, tt.method, tt.secret); got != tt.want {
				t.Errorf("Allowed(%q, %q, secret=%v) = %v, want %v", tt.role, tt.method, tt.secret, got, tt.want)
			}
		})
	}
}

func TestCanGrant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		role string
		want string
		ok   bool
	}{
		{name: "owner grants owner", role: RoleOwner, want: RoleOwner, ok: true},
		{name: "owner grants contributor", role: RoleOwner, want: RoleContributor, ok: true},
		{name: "owner grants reader", role: RoleOwner, want: RoleReader, ok: true},
		{name: "contributor cannot grant owner", role: RoleContributor, want: RoleOwner, ok: false},
		{name: "contributor grants contributor", role: RoleContributor, want: RoleContributor, ok: true},
		{name: "contributor grants reader", role: RoleContributor, want: RoleReader, ok: true},
		{name: "reader cannot grant owner", role: RoleReader, want: RoleOwner, ok: false},
		{name: "reader cannot grant contributor", role: RoleReader, want: RoleContributor, ok: false},
		{name: "reader grants reader", role: RoleReader, want: RoleReader, ok: true},
		{name: "owner cannot grant unknown role", role: RoleOwner, want: "Admin", ok: false},
		{name: "owner cannot grant empty role", role: RoleOwner, want: "", ok: false},
		{name: "unknown role cannot grant reader", role: "Guest", want: RoleReader, ok: false},
		{name: "unknown role cannot grant unknown role", role: "Guest", want: "Guest", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := CanGrant(tt.role, tt.want); got != tt.ok {
				t.Errorf("CanGrant(%q, %q) = %v, want %v", tt.role, tt.want, got, tt.ok)
			}
		})
	}
}

func TestPrincipalContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  context.Context
		want Principal
	}{
		{name: "background work acts as system owner", ctx: context.Background(), want: Principal{Name: "system", Role: RoleOwner}},
		{
			name: "request principal",
			ctx:  WithPrincipal(context.Background(), &Principal{Name: "ci", Role: RoleReader}),
			want: Principal{Name: "ci", Role: RoleReader},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := PrincipalFrom(tt.ctx); *got != tt.want {
				t.Errorf("PrincipalFrom = %+v, want %+v", *got, tt.want)
			}
		})
	}
}
