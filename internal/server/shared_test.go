package server

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlfleet/mlfleet/internal/pki"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// TestSharedKeys: a home that served alone hands its keys over when it is the first
// replica on a shared store (what it sealed still opens, its clients' CA stays); a second
// home gets the same keys and the shared CA in its pki directory; another replica key is
// refused.
func TestSharedKeys(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	wrap, err := secrets.ReplicaKey([]byte("the key every replica of this store is given"))
	if err != nil {
		t.Fatal(err)
	}

	first := t.TempDir()
	alone, err := homeKeys(first) // as a single server made them
	if err != nil {
		t.Fatal(err)
	}
	sealed := alone.box.Seal([]byte("a kubeconfig"))
	// join makes home a replica on the store: it must open what the home sealed alone and
	// hold that home's CA and signing key.
	join := func(replica, home string) *keys {
		t.Helper()
		k, err := sharedKeys(ctx, st, wrap, home)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := k.box.Open(sealed); err != nil || string(got) != "a kubeconfig" {
			t.Fatalf("the %s replica cannot open what the home sealed alone: %v", replica, err)
		}
		if !k.ca.Cert.Equal(alone.ca.Cert) || k.signing.ID != alone.signing.ID {
			t.Fatalf("the %s replica does not hold the CA and signing key of the home that served alone", replica)
		}
		return k
	}
	a := join("first", first)
	second := t.TempDir()
	b := join("second", second)
	caFile, err := os.ReadFile(filepath.Join(second, pkiDir, pki.CACertFile))
	if err != nil || !bytes.Equal(caFile, a.ca.CertPEM) {
		t.Fatalf("the second home's CA file is not the shared CA (%v)", err)
	}
	token, err := a.signing.Sign(map[string]any{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.signing.Verify(token); err != nil {
		t.Fatalf("an ID token signed on one replica does not verify on the other: %v", err)
	}

	wrong, _ := secrets.ReplicaKey([]byte("a key the other replicas were not given"))
	if _, err := sharedKeys(ctx, st, wrong, t.TempDir()); !errors.Is(err, secrets.ErrKeyMismatch) {
		t.Fatalf("wrong replica key: %v, want ErrKeyMismatch", err)
	}
}
