package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func testPrincipals(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	sp := &Principal{ID: "11111111-1111-1111-1111-111111111111", Type: PrincipalServicePrincipal,
		Login: "AAAAAAAA-0000-0000-0000-000000000001", Name: "ci", SecretHash: "h1", CreatedBy: "admin"}
	user := &Principal{ID: "22222222-2222-2222-2222-222222222222", Type: PrincipalUser,
		Login: "alice@mlfleet.local", Name: "Alice", SecretHash: "h2", CreatedBy: "admin"}
	for _, p := range []*Principal{sp, user} {
		if err := s.CreatePrincipal(ctx, p); err != nil {
			t.Fatalf("CreatePrincipal %s: %v", p.Login, err)
		}
	}
	wantErr(t, "CreatePrincipal same login", s.CreatePrincipal(ctx, &Principal{ID: "33333333-0000-0000-0000-000000000000",
		Type: PrincipalUser, Login: "ALICE@mlfleet.local"}), ErrConflict)
	wantErr(t, "CreatePrincipal same id", s.CreatePrincipal(ctx, &Principal{ID: sp.ID, Type: PrincipalUser, Login: "bob"}), ErrConflict)

	for _, ref := range []string{sp.ID, "aaaaaaaa-0000-0000-0000-000000000001"} {
		got, err := s.GetPrincipal(ctx, ref)
		if err != nil || got.ID != sp.ID || got.Login != sp.Login || got.SecretHash != "h1" || got.CreatedAt.IsZero() {
			t.Fatalf("GetPrincipal(%s) = %+v, %v", ref, got, err)
		}
	}
	if _, err := s.GetPrincipal(ctx, "nobody"); err == nil {
		t.Fatal("GetPrincipal(nobody) found something")
	}
	list, err := s.ListPrincipals(ctx)
	if err != nil || len(list) != 2 || list[0].ID != sp.ID {
		t.Fatalf("ListPrincipals = %v, %v", list, err)
	}

	// Resetting the secret revokes the principal's tokens, and only its.
	mine := &Token{Hash: randomHex(t, 32), Name: "ci", Role: "Owner", PrincipalID: sp.ID, CreatedAt: ms}
	hers := &Token{Hash: randomHex(t, 32), Name: "alice", Role: "Owner", PrincipalID: user.ID, CreatedAt: ms}
	for _, tok := range []*Token{mine, hers} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.GetToken(ctx, mine.Hash); err != nil || got.PrincipalID != sp.ID {
		t.Fatalf("GetToken = %+v, %v; want principal %s", got, err, sp.ID)
	}
	if err := s.SetPrincipalSecret(ctx, sp.ID, "h1b"); err != nil {
		t.Fatalf("SetPrincipalSecret: %v", err)
	}
	_, err = s.GetToken(ctx, mine.Hash)
	wantErr(t, "token after reset", err, ErrNotFound)
	if _, err := s.GetToken(ctx, hers.Hash); err != nil {
		t.Fatalf("other principal's token after reset: %v", err)
	}
	if got, _ := s.GetPrincipal(ctx, sp.ID); got.SecretHash != "h1b" {
		t.Fatalf("secret hash = %q after reset", got.SecretHash)
	}
	wantErr(t, "SetPrincipalSecret missing", s.SetPrincipalSecret(ctx, "nobody", "x"), ErrNotFound)

	// Deleting a principal takes its tokens and role assignments with it.
	if err := s.CreateRoleAssignment(ctx, &RoleAssignment{Name: "ra-1", Scope: "/", PrincipalID: user.ID, Role: "Reader"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePrincipal(ctx, user.ID); err != nil {
		t.Fatalf("DeletePrincipal: %v", err)
	}
	_, err = s.GetToken(ctx, hers.Hash)
	wantErr(t, "token after delete", err, ErrNotFound)
	if as, _ := s.ListRoleAssignments(ctx, RoleAssignmentFilter{PrincipalID: user.ID}); len(as) != 0 {
		t.Fatalf("assignments after delete: %v", as)
	}
	wantErr(t, "DeletePrincipal again", s.DeletePrincipal(ctx, user.ID), ErrNotFound)
}

func testRoleAssignments(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	const (
		p1  = "11111111-1111-1111-1111-111111111111"
		p2  = "22222222-2222-2222-2222-222222222222"
		sub = "/subscriptions/00000000-0000-0000-0000-00000000000a"
	)
	rg := sub + "/resourceGroups/RG1"
	res := rg + "/providers/Microsoft.ContainerService/managedClusters/c1"
	all := []*RoleAssignment{
		{Name: "a-root", Scope: "/", PrincipalID: p1, Role: "Owner"},
		{Name: "a-sub", Scope: sub, PrincipalID: p2, Role: "Reader"},
		{Name: "a-rg", Scope: rg, PrincipalID: p2, Role: "Contributor"},
		{Name: "a-res", Scope: res, PrincipalID: p2, Role: "Owner"},
		{Name: "a-rg10", Scope: sub + "/resourceGroups/rg10", PrincipalID: p2, Role: "Reader"},
	}
	for _, a := range all {
		if err := s.CreateRoleAssignment(ctx, a); err != nil {
			t.Fatalf("CreateRoleAssignment %s: %v", a.Name, err)
		}
	}
	wantErr(t, "same name", s.CreateRoleAssignment(ctx, &RoleAssignment{Name: "A-ROOT", Scope: sub, PrincipalID: p1, Role: "Reader"}), ErrConflict)
	wantErr(t, "same grant", s.CreateRoleAssignment(ctx, &RoleAssignment{Name: "other", Scope: strings.ToUpper(rg), PrincipalID: p2, Role: "Contributor"}), ErrConflict)

	names := func(f RoleAssignmentFilter) []string {
		t.Helper()
		as, err := s.ListRoleAssignments(ctx, f)
		if err != nil {
			t.Fatalf("ListRoleAssignments(%+v): %v", f, err)
		}
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		f    RoleAssignmentFilter
		want []string
	}{
		{RoleAssignmentFilter{}, []string{"a-res", "a-rg", "a-rg10", "a-root", "a-sub"}},
		{RoleAssignmentFilter{PrincipalID: p1}, []string{"a-root"}},
		{RoleAssignmentFilter{AtOrBelow: rg}, []string{"a-res", "a-rg"}},
		{RoleAssignmentFilter{AtOrBelow: "/"}, []string{"a-res", "a-rg", "a-rg10", "a-root", "a-sub"}},
		{RoleAssignmentFilter{Around: strings.ToUpper(rg)}, []string{"a-res", "a-rg", "a-root", "a-sub"}},
		{RoleAssignmentFilter{Around: rg, PrincipalID: p2}, []string{"a-res", "a-rg", "a-sub"}},
		{RoleAssignmentFilter{Around: sub + "/resourceGroups/rg1x"}, []string{"a-root", "a-sub"}},
	} {
		if got := names(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("ListRoleAssignments(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
	got, err := s.GetRoleAssignment(ctx, "A-RG")
	if err != nil || got.Scope != rg || got.Role != "Contributor" || got.PrincipalID != p2 || time.Since(got.CreatedAt) > time.Hour {
		t.Fatalf("GetRoleAssignment = %+v, %v", got, err)
	}
	n, err := s.DeleteRoleAssignmentsAtOrBelow(ctx, rg)
	if err != nil || n != 2 {
		t.Fatalf("DeleteRoleAssignmentsAtOrBelow = %d, %v; want 2", n, err)
	}
	if err := s.DeleteRoleAssignment(ctx, "a-sub"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteRoleAssignment again", s.DeleteRoleAssignment(ctx, "a-sub"), ErrNotFound)
	_, err = s.GetRoleAssignment(ctx, "a-sub")
	wantErr(t, "GetRoleAssignment deleted", err, ErrNotFound)
	if got := names(RoleAssignmentFilter{}); !slices.Equal(got, []string{"a-rg10", "a-root"}) {
		t.Fatalf("left after deletes: %v", got)
	}
}

// testAuthenticate: one query returns a token with its principal and the principal's
// role assignments by scope; a token without a principal gets the fallback's; a missing
// token, a token whose principal is gone and a revoked token are ErrNotFound.
func testAuthenticate(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	admin := &Principal{ID: "00000000-0000-0000-0000-0000000000aa", Type: PrincipalUser, Login: "admin", Name: "Admin", CreatedBy: "mlfleet"}
	sp := &Principal{ID: "11111111-1111-1111-1111-11111111111B", Type: PrincipalServicePrincipal, Login: "app1", Name: "ci", SecretHash: "h", CreatedBy: "admin"}
	for _, p := range []*Principal{admin, sp} {
		if err := s.CreatePrincipal(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []*RoleAssignment{
		{Name: "ra-2", Scope: "/subscriptions/s1/resourceGroups/rg1", PrincipalID: sp.ID, Role: "Contributor", CreatedBy: "admin"},
		{Name: "ra-1", Scope: "/subscriptions/s1", PrincipalID: sp.ID, Role: "Reader", CreatedBy: "admin"},
		{Name: "ra-3", Scope: "/", PrincipalID: admin.ID, Role: "Owner", CreatedBy: "mlfleet"},
	} {
		if err := s.CreateRoleAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	exp := ms.Add(time.Hour)
	mine := &Token{Hash: randomHex(t, 32), Name: "ci", Role: "Reader", PrincipalID: strings.ToLower(sp.ID), CreatedAt: ms, ExpiresAt: exp}
	legacy := &Token{Hash: randomHex(t, 32), Name: "old", Role: "Owner", CreatedAt: ms}
	for _, tok := range []*Token{mine, legacy} {
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	tok, p, ras, err := s.Authenticate(ctx, mine.Hash, admin.ID)
	if err != nil || tok.Role != "Reader" || !tok.ExpiresAt.Equal(exp) || p.ID != sp.ID || p.Login != "app1" || p.Type != PrincipalServicePrincipal {
		t.Fatalf("Authenticate = %+v %+v %v", tok, p, err)
	}
	if len(ras) != 2 || ras[0].Name != "ra-1" || ras[1].Role != "Contributor" || ras[0].PrincipalID != sp.ID || ras[0].CreatedAt.IsZero() {
		t.Fatalf("assignments = %+v, want ra-1 then ra-2", ras)
	}
	tok, p, ras, err = s.Authenticate(ctx, legacy.Hash, strings.ToUpper(admin.ID))
	if err != nil || tok.Name != "old" || p.ID != admin.ID || len(ras) != 1 || ras[0].Scope != "/" {
		t.Fatalf("legacy token = %+v %+v %+v %v, want the admin's", tok, p, ras, err)
	}
	_, _, _, err = s.Authenticate(ctx, randomHex(t, 32), admin.ID)
	wantErr(t, "unknown token", err, ErrNotFound)
	_, _, _, err = s.Authenticate(ctx, legacy.Hash, "nobody")
	wantErr(t, "legacy token without an admin", err, ErrNotFound)
	// A principal without assignments still authenticates, with none.
	if err := s.DeleteRoleAssignment(ctx, "ra-3"); err != nil {
		t.Fatal(err)
	}
	if _, p, ras, err := s.Authenticate(ctx, legacy.Hash, admin.ID); err != nil || p.ID != admin.ID || len(ras) != 0 {
		t.Fatalf("without assignments = %+v %+v %v", p, ras, err)
	}
	// Revocation is immediate: a reset secret deletes the tokens.
	if err := s.SetPrincipalSecret(ctx, sp.ID, "h2"); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = s.Authenticate(ctx, mine.Hash, admin.ID)
	wantErr(t, "revoked token", err, ErrNotFound)
}
