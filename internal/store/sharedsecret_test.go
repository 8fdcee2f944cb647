package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// testSharedSecrets: the first value stored under a name wins, also when several
// processes (connection pools) race to store theirs, and every racer reads the winner's.
func testSharedSecrets(t *testing.T, open func() Store) {
	ctx := context.Background()
	s := open()
	if _, err := s.GetSharedSecret(ctx, "ca"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetSharedSecret of a missing name: %v, want ErrNotFound", err)
	}
	if _, err := s.EnsureSharedSecret(ctx, "", []byte("x")); err == nil {
		t.Fatal("EnsureSharedSecret accepted an empty name")
	}
	got, err := s.EnsureSharedSecret(ctx, "ca", []byte("first"))
	if err != nil || string(got) != "first" {
		t.Fatalf("first EnsureSharedSecret = %q, %v", got, err)
	}
	got, err = open().EnsureSharedSecret(ctx, "ca", []byte("second"))
	if err != nil || string(got) != "first" {
		t.Fatalf("second EnsureSharedSecret = %q, %v; want the first value", got, err)
	}

	const racers = 8
	stores := make([]Store, racers)
	for i := range stores {
		stores[i] = open()
	}
	results := make([][]byte, racers)
	testutil.Race(t, racers, func(i int) (err error) {
		if results[i], err = stores[i].EnsureSharedSecret(ctx, "race", fmt.Appendf(nil, "value-%d", i)); err != nil {
			return fmt.Errorf("racer %d: %w", i, err)
		}
		return nil
	})
	for i := range racers {
		if !bytes.Equal(results[i], results[0]) {
			t.Fatalf("racer %d got %q, racer 0 got %q", i, results[i], results[0])
		}
	}
	stored, err := s.GetSharedSecret(ctx, "race")
	if err != nil || !bytes.Equal(stored, results[0]) {
		t.Fatalf("stored %q (%v), racers got %q", stored, err, results[0])
	}
}

// testDeleteSharedSecret: a deleted name reads ErrNotFound and can be stored again;
// deleting a missing name is not an error.
func testDeleteSharedSecret(t *testing.T, open func() Store) {
	ctx := context.Background()
	s := open()
	if err := s.DeleteSharedSecret(ctx, "cluster-identity/none"); err != nil {
		t.Fatalf("delete of a missing name: %v", err)
	}
	if _, err := s.EnsureSharedSecret(ctx, "cluster-identity/c1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSharedSecret(ctx, "cluster-identity/c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSharedSecret(ctx, "cluster-identity/c1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	if got, err := s.EnsureSharedSecret(ctx, "cluster-identity/c1", []byte("two")); err != nil || string(got) != "two" {
		t.Fatalf("store again after delete = %q, %v", got, err)
	}
}
