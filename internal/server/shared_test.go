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
	a, err := sharedKeys(ctx, st, wrap, first)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.box.Open(sealed); err != nil || string(got) != "a kubeconfig" {
		t.Fatalf("what the home sealed alone does not open with the shared key: %v", err)
	}
	if !a.ca.Cert.Equal(alone.ca.Cert) || a.signing.ID != alone.signing.ID {
		t.Fatal("the first replica did not hand its CA and signing key over")
	}

	second := t.TempDir()
	b, err := sharedKeys(ctx, st, wrap, second)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.box.Open(sealed); err != nil || string(got) != "a kubeconfig" {
		t.Fatalf("the second replica cannot open what the first sealed: %v", err)
	}
	if !b.ca.Cert.Equal(a.ca.Cert) || b.signing.ID != a.signing.ID {
		t.Fatal("the replicas have different CAs or signing keys")
	}
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
