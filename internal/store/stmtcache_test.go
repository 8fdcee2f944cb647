package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestStatementCacheIsBounded: queries that differ only in inlined paging numbers do not
// grow the statement cache past its bound, and keep working past it, in and out of
// transactions.
func TestStatementCacheIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mustCreate(t, st, resource(subID, rgType, "rg1"))
	for i := range maxCachedStatements + 50 {
		rs, err := st.ListResources(ctx, ListOptions{Limit: 1, Offset: i})
		if err != nil || (i == 0 && len(rs) != 1) || (i > 0 && len(rs) != 0) {
			t.Fatalf("ListResources(offset %d) = %d rows, %v", i, len(rs), err)
		}
	}
	err = st.InTx(ctx, func(tx Store) error {
		_, err := tx.ListResources(ctx, ListOptions{Limit: 1, Offset: maxCachedStatements + 100})
		if err != nil {
			return err
		}
		_, err = tx.GetResource(ctx, subID+"/resourceGroups/rg1")
		return err
	})
	if err != nil {
		t.Fatalf("in a transaction: %v", err)
	}
	c := st.(*sqlStore).cache
	c.mu.Lock()
	n := len(c.m)
	c.mu.Unlock()
	if n > maxCachedStatements || n == 0 {
		t.Fatalf("%d statements cached, want 1..%d", n, maxCachedStatements)
	}
}
