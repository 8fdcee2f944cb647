package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

func TestReplicaKey(t *testing.T) {
	if _, err := ReplicaKey([]byte("  too short \n")); err == nil {
		t.Fatal("a short replica key was accepted")
	}
	a, err := ReplicaKey([]byte("0123456789abcdef0123456789abcdef\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReplicaKey([]byte("  0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Open(a.Seal([]byte("x"))); err != nil || string(got) != "x" {
		t.Fatalf("the same key text around other white space does not open: %q, %v", got, err)
	}
	c, _ := ReplicaKey([]byte("0123456789abcdef0123456789abcdeX"))
	if _, err := c.Open(a.Seal([]byte("x"))); err == nil {
		t.Fatal("another key text opened a sealed value")
	}
}

func TestLoadReplicaKey(t *testing.T) {
	t.Setenv(ReplicaKeyEnv, "")
	if _, ok, err := LoadReplicaKey(""); ok || err != nil {
		t.Fatalf("no file and no env: ok=%v err=%v", ok, err)
	}
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, ok, err := LoadReplicaKey(path)
	if !ok || err != nil {
		t.Fatalf("file: ok=%v err=%v", ok, err)
	}
	t.Setenv(ReplicaKeyEnv, "0123456789abcdef0123456789abcdef")
	fromEnv, ok, err := LoadReplicaKey("")
	if !ok || err != nil {
		t.Fatalf("env: ok=%v err=%v", ok, err)
	}
	if _, err := fromEnv.Open(fromFile.Seal([]byte("x"))); err != nil {
		t.Fatalf("the same key from the file and the environment differ: %v", err)
	}
	if _, _, err := LoadReplicaKey(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing key file was accepted")
	}
}

func TestEnsureShared(t *testing.T) {
	t.Parallel()
	for name, newDB := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testEnsureShared(t, newDB(t))
		})
	}
}

// testEnsureShared: replicas racing to create a shared secret all get the winner's; a
// replica with another key gets ErrKeyMismatch and never replaces the value.
func testEnsureShared(t *testing.T, open func() store.Store) {
	ctx := context.Background()
	wrap, err := ReplicaKey([]byte("the replica key shared by all replicas"))
	if err != nil {
		t.Fatal(err)
	}
	const replicas = 6
	stores := make([]store.Store, replicas)
	for i := range stores {
		stores[i] = open()
	}
	got := make([][]byte, replicas)
	testutil.Race(t, replicas, func(i int) (err error) {
		got[i], err = EnsureShared(ctx, stores[i], wrap, "data-key", func() ([]byte, error) {
			return fmt.Appendf(nil, "key of replica %d", i), nil
		})
		if err != nil {
			return fmt.Errorf("replica %d: %w", i, err)
		}
		return nil
	})
	for i := range replicas {
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("replica %d got %q, replica 0 %q", i, got[i], got[0])
		}
	}
	sealed, err := stores[0].GetSharedSecret(ctx, "data-key")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, got[0]) {
		t.Fatal("the shared secret is stored in clear")
	}

	wrong, _ := ReplicaKey([]byte("another key, not the replicas' one"))
	created := false
	_, err = EnsureShared(ctx, open(), wrong, "data-key", func() ([]byte, error) { created = true; return []byte("x"), nil })
	if !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("wrong key: %v, want ErrKeyMismatch", err)
	}
	if created {
		t.Fatal("a replica with the wrong key created a value")
	}
	// A value is bound to its name: another name's row does not open as this one.
	if _, err := wrap.open(sealed, []byte("ca")); err == nil {
		t.Fatal("a sealed value opened under another name")
	}
	again, err := EnsureShared(ctx, open(), wrap, "data-key", func() ([]byte, error) { return nil, errors.New("must not create") })
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("after the wrong key: %q, %v", again, err)
	}
}
