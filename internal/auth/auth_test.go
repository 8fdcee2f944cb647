package auth

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// clock is a settable time source for an Authenticator under test.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

const (
	sub = "/subscriptions/00000000-0000-0000-0000-0000000000aa"
	rg1 = sub + "/resourceGroups/rg1"
	rg2 = sub + "/resourceGroups/rg2"
	mc1 = rg1 + "/providers/Microsoft.ContainerService/managedClusters/c1"
)

// fixture is an Authenticator with its admin bootstrapped.
type fixture struct {
	a     *Authenticator
	s     store.Store
	clock *clock
	admin *Principal
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	s := storetest.OpenSQLite(t)
	c := &clock{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	a := New(s, Options{Tenant: "tenant-1"})
	a.now = c.Now
	ctx := context.Background()
	if _, err := a.Bootstrap(ctx); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	secret, err := a.MintAdmin(ctx)
	if err != nil {
		t.Fatalf("MintAdmin: %v", err)
	}
	admin, err := a.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("Authenticate admin: %v", err)
	}
	return &fixture{a: a, s: s, clock: c, admin: admin}
}

// sp creates a service principal with role at scopes and returns its caller.
func (f *fixture) sp(t *testing.T, name, role string, scopes ...string) (*CreatedPrincipal, *Principal) {
	t.Helper()
	ctx := context.Background()
	cp, err := f.a.CreatePrincipal(ctx, f.admin, NewPrincipal{Type: store.PrincipalServicePrincipal, Name: name, Role: role, Scopes: scopes})
	if err != nil {
		t.Fatalf("CreatePrincipal %s: %v", name, err)
	}
	secret, _, _, err := f.a.Login(ctx, cp.Principal.Login, cp.Secret)
	if err != nil {
		t.Fatalf("Login %s: %v", name, err)
	}
	p, err := f.a.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("Authenticate %s: %v", name, err)
	}
	return cp, p
}

func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	var ae *arm.Error
	if !errors.As(err, &ae) || ae.Status != status {
		t.Fatalf("%s: err = %v, want an ARM error with status %d", what, err, status)
	}
}

func TestBootstrapIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	id, err := f.a.Bootstrap(ctx)
	if err != nil || id != f.admin.ID {
		t.Fatalf("second Bootstrap = %q, %v; want %q", id, err, f.admin.ID)
	}
	as, _ := f.s.ListRoleAssignments(ctx, store.RoleAssignmentFilter{PrincipalID: id})
	if len(as) != 1 || as[0].Scope != "/" || as[0].Role != RoleOwner {
		t.Fatalf("admin assignments = %+v, want one Owner at /", as)
	}
	if f.admin.Name != AdminLogin || !f.admin.IsRootOwner() || !f.admin.ExpiresAt.IsZero() {
		t.Fatalf("admin = %+v", f.admin)
	}
}

func TestRoleAtInheritsDownwards(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, p := f.sp(t, "ci", RoleReader, sub)
	if _, _, err := f.a.AssignRole(ctx, f.admin, newGUID(), rg1, p.ID, RoleContributor); err != nil {
		t.Fatal(err)
	}
	p, _ = f.a.Authenticate(ctx, mustLogin(t, f, p))
	for _, tc := range []struct{ scope, want string }{
		{"/", ""},
		{"/subscriptions/other", ""},
		{sub, RoleReader},
		{rg2, RoleReader},
		{rg1, RoleContributor},
		{strings.ToUpper(mc1), RoleContributor},
		{sub + "/resourceGroups/rg10", RoleReader},
	} {
		if got := p.RoleAt(tc.scope); got != tc.want {
			t.Errorf("RoleAt(%s) = %q, want %q", tc.scope, got, tc.want)
		}
	}
	err := p.Check("Microsoft.ContainerService/managedClusters/write", rg2+"/providers/Microsoft.ContainerService/managedClusters/x")
	wantStatus(t, "write in rg2", err, 403)
	for _, want := range []string{p.Name, p.ID, "Microsoft.ContainerService/managedClusters/write", rg2 + "/providers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("403 message %q does not name %q", err, want)
		}
	}
	if err := p.Check("Microsoft.ContainerService/managedClusters/write", mc1); err != nil {
		t.Errorf("write in rg1: %v", err)
	}
	if err := p.Check(ActionRoleAssignmentWrite, rg1); err == nil {
		t.Error("a Contributor may grant access")
	}
}

func mustLogin(t *testing.T, f *fixture, p *Principal) string {
	t.Helper()
	// Service principals in these tests get a new secret to log in again.
	_, secret, err := f.a.ResetSecret(context.Background(), f.admin, p.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _, err := f.a.Login(context.Background(), p.Name, secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRoleAllows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		role, action string
		want         bool
	}{
		{RoleReader, "Microsoft.ContainerService/managedClusters/read", true},
		{RoleReader, "Microsoft.ContainerService/managedClusters/write", false},
		{RoleReader, "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action", false},
		{RoleContributor, "Microsoft.ContainerService/managedClusters/delete", true},
		{RoleContributor, "Microsoft.MachineLearningServices/workspaces/computes/listKeys/action", true},
		{RoleContributor, "Microsoft.Authorization/roleAssignments/write", false},
		{RoleContributor, "Microsoft.Authorization/policyAssignments/delete", false},
		{RoleContributor, "Microsoft.Authorization/roleAssignments/read", true},
		{RoleOwner, "Microsoft.Authorization/roleAssignments/write", true},
		{"", "Microsoft.Resources/subscriptions/read", false},
	} {
		if got := RoleAllows(tc.role, tc.action); got != tc.want {
			t.Errorf("RoleAllows(%q, %q) = %v, want %v", tc.role, tc.action, got, tc.want)
		}
	}
}

func TestWithin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id, scope string
		want      bool
	}{
		{rg1, "/", true},
		{"/", "/", true},
		{rg1, sub, true},
		{rg1, strings.ToUpper(rg1), true},
		{sub + "/resourceGroups/rg10", rg1, false},
		{sub, rg1, false},
		{mc1, rg1, true},
	} {
		if got := Within(tc.id, tc.scope); got != tc.want {
			t.Errorf("Within(%s, %s) = %v, want %v", tc.id, tc.scope, got, tc.want)
		}
	}
}

func TestMintForNeverExceedsTheCaller(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// A Reader-capped one-minute-and-a-half token from the admin.
	_, short, err := f.a.MintFor(ctx, f.admin, RoleReader, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	reader := &Principal{ID: f.admin.ID, Name: f.admin.Name, Cap: short.Role, ExpiresAt: short.ExpiresAt, assignments: f.admin.assignments}
	if reader.RoleAt(sub) != RoleReader {
		t.Fatalf("capped admin RoleAt = %q, want Reader", reader.RoleAt(sub))
	}
	_, _, err = f.a.MintFor(ctx, reader, RoleOwner, time.Hour)
	wantStatus(t, "Reader mints Owner", err, 403)
	_, _, err = f.a.MintFor(ctx, reader, "", 366*24*time.Hour)
	wantStatus(t, "past the max lifetime", err, 400)
	// A lifetime past the parent's is refused, naming the longest one allowed, rather than
	// cut short without a word (F-ID1); left out, the default is cut to the parent's.
	_, _, err = f.a.MintFor(ctx, reader, "", time.Hour)
	wantStatus(t, "outliving the parent", err, 400)
	if !strings.Contains(err.Error(), "ask for at most 90 seconds") {
		t.Errorf("outliving the parent: %v, want the longest lifetime allowed named", err)
	}
	_, tok, err := f.a.MintFor(ctx, reader, "", 0)
	if err != nil {
		t.Fatalf("MintFor within limits: %v", err)
	}
	if !tok.ExpiresAt.Equal(short.ExpiresAt) || tok.Role != RoleReader {
		t.Fatalf("minted %+v, want role Reader expiring with its parent at %v", tok, short.ExpiresAt)
	}
	f.clock.now = f.clock.now.Add(45 * time.Second)
	_, _, err = f.a.MintFor(ctx, reader, "", time.Hour)
	wantStatus(t, "parent about to expire", err, 400)
	_, def, err := f.a.MintFor(ctx, f.admin, "", 0)
	if err != nil || !def.ExpiresAt.Equal(f.clock.now.Add(time.Hour)) {
		t.Fatalf("default lifetime: %+v, %v", def, err)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	secret, tok, err := f.a.MintFor(ctx, f.admin, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, ""); err != ErrUnauthenticated {
		t.Errorf("Authenticate(\"\") = %v, want ErrUnauthenticated", err)
	}
	for _, bad := range []string{"mlf_nope", tok.Hash, strings.ToUpper(secret), secret + "x"} {
		if _, err := f.a.Authenticate(ctx, bad); !errors.Is(err, ErrInvalidToken) || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v, want ErrInvalidToken", bad, err)
		}
	}
	f.clock.now = f.clock.now.Add(time.Hour + time.Second)
	var expired *ExpiredTokenError
	if _, err := f.a.Authenticate(ctx, secret); !errors.As(err, &expired) || !errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired token: %v, want an *ExpiredTokenError", err)
	}
	if !expired.ExpiresAt.Equal(tok.ExpiresAt) || !expired.Now.Equal(f.clock.now) {
		t.Errorf("expired token: %+v, want expiry %v at %v", expired, tok.ExpiresAt, f.clock.now)
	}
}

func TestLegacyTokenActsAsCappedAdmin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	secret := tokenPrefix + "legacy-reader"
	if err := f.s.CreateToken(ctx, &store.Token{Hash: Hash(secret), Name: "old", Role: RoleReader, CreatedAt: f.clock.now}); err != nil {
		t.Fatal(err)
	}
	p, err := f.a.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != f.admin.ID || p.RoleAt(sub) != RoleReader {
		t.Fatalf("legacy token = %+v at %s: %s", p, sub, p.RoleAt(sub))
	}
}

func TestLoginAndRevocation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cp, p := f.sp(t, "deployer", RoleContributor, rg1)
	if cp.Principal.SecretHash == "" || strings.Contains(cp.Principal.SecretHash, cp.Secret) || len(cp.Secret) != 40 {
		t.Fatalf("secret %q stored as %q", cp.Secret, cp.Principal.SecretHash)
	}
	stored, _ := f.s.GetPrincipal(ctx, cp.Principal.ID)
	if strings.Contains(stored.SecretHash, cp.Secret) {
		t.Fatal("the store holds the secret")
	}
	for _, bad := range []struct{ login, secret string }{
		{cp.Principal.Login, cp.Secret + "x"},
		{cp.Principal.Login, ""},
		{"no-such-app", cp.Secret},
		{AdminLogin, ""},
	} {
		if _, _, _, err := f.a.Login(ctx, bad.login, bad.secret); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Login(%q, %q) = %v, want ErrInvalidCredentials", bad.login, bad.secret, err)
		}
	}
	token, _, _, err := f.a.Login(ctx, cp.Principal.Login, cp.Secret)
	if err != nil {
		t.Fatal(err)
	}
	// Resetting the credential stops every token of the principal at once.
	_, newSecret, err := f.a.ResetSecret(ctx, f.admin, cp.Principal.Login, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("token after reset: %v", err)
	}
	if _, _, _, err := f.a.Login(ctx, cp.Principal.Login, cp.Secret); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("old secret after reset: %v", err)
	}
	token, _, _, err = f.a.Login(ctx, cp.Principal.Login, newSecret)
	if err != nil {
		t.Fatal(err)
	}
	// A Contributor cannot manage principals; the admin deletes this one, and its token dies.
	if err := f.a.DeletePrincipal(ctx, p, cp.Principal.ID); err == nil {
		t.Fatal("a Contributor deleted a principal")
	}
	if err := f.a.DeletePrincipal(ctx, f.admin, cp.Principal.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("token after delete: %v", err)
	}
	wantStatus(t, "delete the admin", f.a.DeletePrincipal(ctx, f.admin, AdminLogin), 400)
}

func TestCreatePrincipalChecksTheCaller(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, contributor := f.sp(t, "contrib", RoleContributor, sub)
	_, err := f.a.CreatePrincipal(ctx, contributor, NewPrincipal{Type: store.PrincipalServicePrincipal, Name: "x"})
	wantStatus(t, "Contributor creates a principal", err, 403)

	_, rgOwner := f.sp(t, "rg-owner", RoleOwner, rg1)
	// An Owner of rg1 may create principals and grant roles in rg1, not elsewhere.
	_, err = f.a.CreatePrincipal(ctx, rgOwner, NewPrincipal{Type: store.PrincipalServicePrincipal, Name: "y", Role: RoleReader, Scopes: []string{rg2}})
	wantStatus(t, "rg1 Owner grants in rg2", err, 403)
	if ps, _ := f.s.ListPrincipals(ctx); len(ps) != 3 {
		t.Fatalf("a refused create left a principal: %d principals", len(ps))
	}
	cp, err := f.a.CreatePrincipal(ctx, rgOwner, NewPrincipal{Type: store.PrincipalServicePrincipal, Name: "y", Role: "reader", Scopes: []string{mc1}})
	if err != nil || len(cp.Assignments) != 1 || cp.Assignments[0].Role != RoleReader {
		t.Fatalf("rg1 Owner grants on a cluster in rg1: %+v, %v", cp, err)
	}
	// Its creator may delete it; the Contributor may not even see it.
	if _, err := f.a.GetPrincipal(ctx, contributor, cp.Principal.ID); err == nil {
		t.Fatal("a Contributor sees another principal")
	}
	if err := f.a.DeletePrincipal(ctx, rgOwner, cp.Principal.ID); err != nil {
		t.Fatalf("creator deletes: %v", err)
	}
	for _, bad := range []NewPrincipal{
		{Type: "Group", Name: "g"},
		{Type: store.PrincipalServicePrincipal, Name: " "},
		{Type: store.PrincipalUser, Name: "u", Login: "bad name", Password: "long enough"},
		{Type: store.PrincipalUser, Name: "u", Login: "u@x", Password: "short"},
		{Type: store.PrincipalServicePrincipal, Name: "r", Role: "Admin", Scopes: []string{sub}},
		{Type: store.PrincipalServicePrincipal, Name: "r", Role: RoleReader},
	} {
		_, err := f.a.CreatePrincipal(ctx, f.admin, bad)
		wantStatus(t, "bad input "+bad.Name, err, 400)
	}
}

func TestAssignAndListRoles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cpA, a := f.sp(t, "a", RoleReader, rg1)
	cpB, _ := f.sp(t, "b", RoleContributor, rg2)
	name := newGUID()
	ra, created, err := f.a.AssignRole(ctx, f.admin, name, mc1, cpB.Principal.Login, RoleOwner)
	if err != nil || !created || ra.PrincipalID != cpB.Principal.ID {
		t.Fatalf("AssignRole = %+v, %v, %v", ra, created, err)
	}
	if _, created, err := f.a.AssignRole(ctx, f.admin, name, mc1, cpB.Principal.ID, RoleOwner); err != nil || created {
		t.Fatalf("same assignment again = %v, %v; want the existing one", created, err)
	}
	_, _, err = f.a.AssignRole(ctx, f.admin, newGUID(), mc1, cpB.Principal.ID, RoleOwner)
	wantStatus(t, "same grant, new name", err, 409)
	_, _, err = f.a.AssignRole(ctx, a, newGUID(), rg1, cpA.Principal.ID, RoleOwner)
	wantStatus(t, "a Reader elevates itself", err, 403)

	// a, Reader on rg1, sees the assignments at rg1 and below, not b's in rg2 nor the admin's.
	list, err := f.a.ListRoleAssignments(ctx, a, sub, "", false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ra := range list {
		got = append(got, ra.Scope)
	}
	slices.Sort(got)
	if want := []string{rg1, mc1}; !slices.Equal(got, want) {
		t.Fatalf("a lists %v, want %v", got, want)
	}
	_, err = f.a.ListRoleAssignments(ctx, a, "/subscriptions/other", "", false)
	wantStatus(t, "list elsewhere", err, 403)
	if _, err := f.a.DeleteRoleAssignment(ctx, a, mc1, name); err == nil {
		t.Fatal("a Reader deleted a role assignment")
	}
	if old, err := f.a.DeleteRoleAssignment(ctx, f.admin, mc1, name); err != nil || old == nil {
		t.Fatalf("DeleteRoleAssignment = %v, %v", old, err)
	}
	if old, err := f.a.DeleteRoleAssignment(ctx, f.admin, mc1, name); err != nil || old != nil {
		t.Fatalf("DeleteRoleAssignment again = %v, %v; want nothing", old, err)
	}
	_, err = f.a.DeleteRoleAssignment(ctx, f.admin, "/", adminAssignment)
	wantStatus(t, "remove the admin's root Owner", err, 400)
}

func TestReadableUnder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, p := f.sp(t, "r", RoleReader, rg1, mc1)
	if all, scopes := p.ReadableUnder(sub); all || !slices.Equal(scopes, []string{rg1, mc1}) {
		t.Fatalf("ReadableUnder(sub) = %v, %v", all, scopes)
	}
	if all, _ := p.ReadableUnder(rg1); !all {
		t.Fatal("ReadableUnder(rg1) is not all")
	}
	if all, scopes := p.ReadableUnder(rg2); all || len(scopes) != 0 {
		t.Fatalf("ReadableUnder(rg2) = %v, %v", all, scopes)
	}
	if !p.SeesAnything(sub) || p.SeesAnything(rg2) || !p.SeesAnything("/") {
		t.Fatal("SeesAnything is wrong")
	}
}

func TestSecretHash(t *testing.T) {
	t.Parallel()
	h := hashSecret("correct horse")
	if !checkSecret(h, "correct horse") || checkSecret(h, "correct hors") || checkSecret("", "") || checkSecret("pbkdf2-sha256$x$y$z", "") {
		t.Fatal("checkSecret is wrong")
	}
	if hashSecret("correct horse") == h {
		t.Fatal("two hashes of one secret are equal: no salt")
	}
}

func TestPrincipalContext(t *testing.T) {
	t.Parallel()
	if p := PrincipalFrom(context.Background()); p != System || p.RoleAt(sub) != RoleOwner {
		t.Fatalf("PrincipalFrom(background) = %+v", p)
	}
	p := &Principal{Name: "x", Cap: RoleReader}
	if got := PrincipalFrom(WithPrincipal(context.Background(), p)); got != p {
		t.Fatalf("PrincipalFrom = %+v, want %+v", got, p)
	}
}

func TestSweepAssignments(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if err := f.s.CreateResource(ctx, &store.Resource{ID: sub, Type: "Microsoft.Resources/subscriptions", Name: "s"}); err != nil {
		t.Fatal(err)
	}
	_, p := f.sp(t, "p", RoleReader, sub, rg1)
	n, err := f.a.SweepAssignments(ctx)
	if err != nil || n != 1 {
		t.Fatalf("SweepAssignments = %d, %v; want 1 (rg1 does not exist)", n, err)
	}
	left, _ := f.s.ListRoleAssignments(ctx, store.RoleAssignmentFilter{PrincipalID: p.ID})
	if len(left) != 1 || left[0].Scope != sub {
		t.Fatalf("left %+v, want the subscription's", left)
	}
	if n, _ := f.a.SweepAssignments(ctx); n != 0 {
		t.Fatalf("second sweep deleted %d", n)
	}
}

func TestRefreshTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	cp, err := f.a.CreatePrincipal(ctx, f.admin, NewPrincipal{Type: store.PrincipalUser, Name: "Bob", Login: "bob", Password: "bobs password"})
	if err != nil {
		t.Fatal(err)
	}
	refresh, err := f.a.IssueRefresh(ctx, cp.Principal.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, refresh); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a refresh token authenticates: %v", err)
	}
	access, _, p, err := f.a.Refresh(ctx, refresh)
	if err != nil || p.ID != cp.Principal.ID {
		t.Fatalf("Refresh = %v, %v", p, err)
	}
	if _, err := f.a.Authenticate(ctx, access); err != nil {
		t.Fatalf("refreshed token: %v", err)
	}
	if _, _, _, err := f.a.Refresh(ctx, access); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("an access token refreshes: %v", err)
	}
	// A new password ends the sign-in.
	if _, _, err := f.a.ResetSecret(ctx, f.admin, "bob", "a new password"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.a.Refresh(ctx, refresh); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("refresh after reset: %v", err)
	}
	f.clock.now = f.clock.now.Add(refreshLifetime + time.Second)
	if _, _, _, err := f.a.Refresh(ctx, refresh); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("expired refresh: %v", err)
	}
}

func TestSigningKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "k.pem")
	k, err := LoadOrCreateSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateSigningKey(path)
	if err != nil || again.ID != k.ID {
		t.Fatalf("reloaded key %v, %v; want id %s", again, err, k.ID)
	}
	tok, err := k.Sign(map[string]any{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := again.Verify(tok); err != nil || c["sub"] != "x" {
		t.Fatalf("Verify = %v, %v", c, err)
	}
	dot := strings.LastIndexByte(tok, '.')
	sig, err := b64.DecodeString(tok[dot+1:])
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 31, 32, 63} {
		forged := bytes.Clone(sig)
		forged[i] ^= 1
		if _, err := k.Verify(tok[:dot+1] + b64.EncodeToString(forged)); err == nil {
			t.Fatalf("a signature with byte %d changed verifies", i)
		}
	}
	// 64 bytes take 86 characters, the last one with 4 unused bits: setting
	// them spells the same signature another way, which Verify refuses.
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	other := tok[:len(tok)-1] + string(alphabet[last|1])
	if _, err := k.Verify(other); err == nil {
		t.Fatal("a non-canonical spelling of the signature verifies")
	}
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// TestClientSecretShape: client secrets are 40 URL-safe characters, and none starts with
// '-', which az login would take for a flag (one in 64 did).
func TestClientSecretShape(t *testing.T) {
	t.Parallel()
	for range 2000 {
		s := newClientSecret()
		if len(s) != 40 || strings.HasPrefix(s, "-") || strings.ContainsAny(s, "+/=") {
			t.Fatalf("client secret %q", s)
		}
	}
}
