package secrets

import (
	"bytes"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	b, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal([]byte("kubeconfig"))
	if bytes.Contains(sealed, []byte("kubeconfig")) {
		t.Fatal("sealed text contains the plaintext")
	}
	again, err := LoadOrCreate(path) // the same key is read back
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.Open(sealed)
	if err != nil || string(got) != "kubeconfig" {
		t.Fatalf("open: %q, %v", got, err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := again.Open(sealed); err == nil {
		t.Fatal("tampered secret opened")
	}
}
