package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// benchIdentity stores a principal with three role assignments and a token of it.
func benchIdentity(b *testing.B) (Store, *Token, *Principal) {
	b.Helper()
	s := mustOpen(b, filepath.Join(b.TempDir(), "mlfleet.db"))
	ctx := context.Background()
	p := &Principal{ID: "11111111-1111-1111-1111-111111111111", Type: PrincipalUser, Login: "alice", Name: "Alice", SecretHash: "h", CreatedBy: "admin"}
	if err := s.CreatePrincipal(ctx, p); err != nil {
		b.Fatal(err)
	}
	for i, scope := range []string{"/", "/subscriptions/s1", "/subscriptions/s1/resourceGroups/rg1"} {
		if err := s.CreateRoleAssignment(ctx, &RoleAssignment{Name: string(rune('a' + i)), Scope: scope, PrincipalID: p.ID, Role: "Reader", CreatedBy: "admin"}); err != nil {
			b.Fatal(err)
		}
	}
	tok := &Token{Hash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Name: "t", Role: "Owner", PrincipalID: "11111111-1111-1111-1111-111111111111", CreatedAt: time.Now()}
	if err := s.CreateToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	return s, tok, p
}

// BenchmarkAuthenticate is what a request's authentication reads: one query joining the
// token, its principal and the principal's role assignments (SQLite).
func BenchmarkAuthenticate(b *testing.B) {
	s, tok, _ := benchIdentity(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ras, err := s.Authenticate(ctx, tok.Hash, ""); err != nil || len(ras) != 3 {
			b.Fatal(err, len(ras))
		}
	}
}

// BenchmarkAuthenticateThreeReads reads the same with three queries, as requests did
// before Authenticate.
func BenchmarkAuthenticateThreeReads(b *testing.B) {
	s, tok, p := benchIdentity(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetToken(ctx, tok.Hash); err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetPrincipal(ctx, p.ID); err != nil {
			b.Fatal(err)
		}
		if ras, err := s.ListRoleAssignments(ctx, RoleAssignmentFilter{PrincipalID: p.ID}); err != nil || len(ras) != 3 {
			b.Fatal(err)
		}
	}
}
