// Package secrets encrypts what mlfleet keeps at rest and must not store in clear
// (kubeconfigs of registered clusters, TLS keys): AES-256-GCM with a key file in the home
// directory, created on first use. With a shared store (PostgreSQL) the key, like the CA
// and the token-signing key, lives in the store instead, wrapped by a replica key that
// every replica is given (EnsureShared).
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
)

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// LoadOrCreate reads the 32-byte key at path, creating it (mode 0600) when missing.
func LoadOrCreate(path string) (*Box, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate secret key: %w", err)
		}
		if err := atomicfile.WriteFile(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("write secret key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	return New(key)
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext; the result carries its nonce.
func (b *Box) Seal(plaintext []byte) []byte { return b.seal(plaintext, nil) }

// Open decrypts what Seal returned.
func (b *Box) Open(sealed []byte) ([]byte, error) { return b.open(sealed, nil) }

// randRead fills p with random bytes.
var randRead = rand.Read

// seal encrypts plaintext bound to aad (additional data that open must be given again).
func (b *Box) seal(plaintext, aad []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, plaintext, aad)
}

func (b *Box) open(sealed, aad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("open secret: too short")
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("open secret: %w", err)
	}
	return out, nil
}
