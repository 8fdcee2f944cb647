package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// signIn creates a service principal with role at scope and returns one of its tokens.
func (f *fixture) signIn(t *testing.T, name, role, scope string) (*CreatedPrincipal, string) {
	t.Helper()
	cp, _ := f.sp(t, name, role, scope)
	secret, _, _, err := f.a.Login(context.Background(), cp.Principal.Login, cp.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return cp, secret
}

// roleAt authenticates secret and returns its role at scope, or the error.
func (f *fixture) roleAt(secret, scope string) (string, error) {
	p, err := f.a.Authenticate(context.Background(), secret)
	if err != nil {
		return "", err
	}
	return p.RoleAt(scope), nil
}

// TestTokenCacheSeesItsOwnChangesAtOnce: what goes through the Authenticator (a secret
// reset, a role assigned or removed, a principal deleted) applies to the very next request,
// cached or not.
func TestTokenCacheSeesItsOwnChangesAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cp, secret := f.signIn(t, "cached", RoleReader, rg1)
	if role, err := f.roleAt(secret, rg1); err != nil || role != RoleReader {
		t.Fatalf("first check: %q, %v", role, err)
	}

	ra, _, err := f.a.AssignRole(ctx, f.admin, "0a000000-0000-4000-8000-000000000001", rg2, cp.Principal.ID, RoleContributor)
	if err != nil {
		t.Fatal(err)
	}
	if role, err := f.roleAt(secret, rg2); err != nil || role != RoleContributor {
		t.Errorf("after a role is assigned: %q, %v", role, err)
	}
	if _, err := f.a.DeleteRoleAssignment(ctx, f.admin, rg2, ra.Name); err != nil {
		t.Fatal(err)
	}
	if role, err := f.roleAt(secret, rg2); err != nil || role != "" {
		t.Errorf("after the role is removed: %q, %v", role, err)
	}

	if _, _, err := f.a.ResetSecret(ctx, f.admin, cp.Principal.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.roleAt(secret, rg1); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("token after a secret reset: %v", err)
	}

	other, again := f.signIn(t, "cached too", RoleReader, rg1)
	if _, err := f.roleAt(again, rg1); err != nil {
		t.Fatal(err)
	}
	if err := f.a.DeletePrincipal(ctx, f.admin, other.Principal.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.roleAt(again, rg1); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("token after its principal is deleted: %v", err)
	}
}

// TestTokenCacheBoundsWhatItCannotSee: a change made in the store directly (as another
// replica makes it) shows after at most the cache's TTL, or at once after Forget; a token
// never outlives its expiry in the cache; and a negative TTL caches nothing.
func TestTokenCacheBoundsWhatItCannotSee(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cp, secret := f.signIn(t, "elsewhere", RoleReader, rg1)
	if _, err := f.roleAt(secret, rg1); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeletePrincipal(ctx, cp.Principal.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.roleAt(secret, rg1); err != nil {
		t.Fatalf("within the TTL the cached answer stands: %v", err)
	}
	f.clock.now = f.clock.now.Add(DefaultCacheTTL)
	if _, err := f.roleAt(secret, rg1); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("after the TTL: %v", err)
	}

	cp, secret = f.signIn(t, "forgotten", RoleReader, rg1)
	if _, err := f.roleAt(secret, rg1); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeletePrincipal(ctx, cp.Principal.ID); err != nil {
		t.Fatal(err)
	}
	f.a.Forget()
	if _, err := f.roleAt(secret, rg1); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("after Forget: %v", err)
	}

	short, _, err := f.a.MintFor(ctx, f.admin, RoleReader, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.roleAt(short, rg1); err != nil {
		t.Fatal(err)
	}
	f.clock.now = f.clock.now.Add(time.Minute + time.Millisecond/2)
	if _, err := f.roleAt(short, rg1); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("an expired token answered from the cache: %v", err)
	}

	uncached := New(f.s, Options{Tenant: "tenant-1", CacheTTL: -1})
	uncached.now = f.clock.Now
	cp, secret = f.signIn(t, "uncached", RoleReader, rg1)
	if _, err := uncached.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeletePrincipal(ctx, cp.Principal.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := uncached.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("without a cache: %v", err)
	}
}

// TestTokenCacheDropsAnAnswerReadBeforeAForget: a check that read the store before a
// change and caches after the change's Forget would keep the old answer for a TTL; the
// generation makes put drop it.
func TestTokenCacheDropsAnAnswerReadBeforeAForget(t *testing.T) {
	t.Parallel()
	c := tokenCache{ttl: time.Minute}
	now := time.Now()
	_, gen := c.get("h", now)
	c.forget()
	c.put("h", &Principal{ID: "p"}, now, gen)
	if p, _ := c.get("h", now); p != nil {
		t.Fatalf("an answer read before a forget was cached: %+v", p)
	}
	_, gen = c.get("h", now)
	c.put("h", &Principal{ID: "p"}, now, gen)
	if p, _ := c.get("h", now); p == nil || p.ID != "p" {
		t.Fatalf("an answer read after the forget: %+v", p)
	}
}

// TestTokenCacheRace checks tokens while roles are assigned and removed, under -race: no
// data race, and every answer is one the store gave.
func TestTokenCacheRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cp, secret := f.signIn(t, "racer", RoleReader, rg1)
	const checkers = 4
	testutil.Race(t, checkers+1, func(i int) error {
		if i == checkers { // the writer
			for j := range 10 {
				name := fmt.Sprintf("0a000000-0000-4000-8000-%012d", 100+j)
				if _, _, err := f.a.AssignRole(context.Background(), f.admin, name, rg2, cp.Principal.ID, RoleOwner); err != nil {
					return err
				}
				if _, err := f.a.DeleteRoleAssignment(context.Background(), f.admin, rg2, name); err != nil {
					return err
				}
			}
			return nil
		}
		for range 50 {
			if role, err := f.roleAt(secret, rg1); err != nil || role != RoleReader {
				return fmt.Errorf("role at rg1: %q, %v", role, err)
			}
		}
		return nil
	})
}
