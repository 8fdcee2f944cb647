package secrets

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mlfleet/mlfleet/internal/store"
)

// ErrKeyMismatch means the replica key opens none of the shared secrets: this replica was
// given another key than the one the first replica created them with.
var ErrKeyMismatch = errors.New("the secret key does not match the one the shared secrets in the store were created with; give every replica the same --secret-key-file or MLFLEET_SECRET_KEY")

// MinReplicaKeyLen is the shortest replica key accepted, in bytes (after trimming white
// space): as long as a base64-encoded 24-byte random key.
const MinReplicaKeyLen = 32

// ReplicaKeyEnv is the environment variable that may hold the replica key.
const ReplicaKeyEnv = "MLFLEET_SECRET_KEY"

// LoadReplicaKey returns the key that wraps the secrets replicas share, from file (when
// not empty) else from $MLFLEET_SECRET_KEY. ok is false when neither is set.
func LoadReplicaKey(file string) (key *Box, ok bool, err error) {
	var text []byte
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, false, fmt.Errorf("read --secret-key-file: %w", err)
		}
		text = b
	case os.Getenv(ReplicaKeyEnv) != "":
		text = []byte(os.Getenv(ReplicaKeyEnv))
	default:
		return nil, false, nil
	}
	box, err := ReplicaKey(text)
	return box, err == nil, err
}

// ReplicaKey returns the Box that wraps shared secrets for the replica key text: any
// string of at least MinReplicaKeyLen bytes (surrounding white space ignored), for
// instance the output of `openssl rand -base64 32`. The AES key is derived from it with
// HKDF-SHA256.
func ReplicaKey(text []byte) (*Box, error) {
	t := strings.TrimSpace(string(text))
	if len(t) < MinReplicaKeyLen {
		return nil, fmt.Errorf("the secret key must be at least %d characters (got %d); make one with 'openssl rand -base64 32'", MinReplicaKeyLen, len(t))
	}
	key, err := hkdf.Key(sha256.New, []byte(t), nil, "mlfleet shared secrets v1", 32)
	if err != nil {
		return nil, err
	}
	return New(key)
}

// SharedStore is the part of the store that holds shared secrets.
type SharedStore interface {
	EnsureSharedSecret(ctx context.Context, name string, value []byte) ([]byte, error)
	GetSharedSecret(ctx context.Context, name string) ([]byte, error)
}

// EnsureShared returns the plaintext of the shared secret name, creating it when the store
// has none: create makes the value, which is stored wrapped by wrap. When several
// replicas start at once, the first to store wins and every one returns its value. A value
// that wrap cannot open yields ErrKeyMismatch.
func EnsureShared(ctx context.Context, st SharedStore, wrap *Box, name string, create func() ([]byte, error)) ([]byte, error) {
	sealed, err := st.GetSharedSecret(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		value, err := create()
		if err != nil {
			return nil, fmt.Errorf("create shared secret %s: %w", name, err)
		}
		if sealed, err = st.EnsureSharedSecret(ctx, name, wrap.seal(value, []byte(name))); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	value, err := wrap.open(sealed, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("open shared secret %s: %w", name, ErrKeyMismatch)
	}
	return value, nil
}

// NewKey returns a fresh 32-byte key for New.
func NewKey() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := randRead(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	return key, nil
}

// ReadKeyFile returns the key in a key file written by LoadOrCreate, or nil when there is
// none: a home that served alone before keeps its key when it becomes the first replica.
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("secret key %s must be 32 bytes, not %d", path, len(b))
	}
	return bytes.Clone(b), nil
}
