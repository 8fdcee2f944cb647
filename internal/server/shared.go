package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/pki"
	"github.com/mlfleet/mlfleet/internal/secrets"
)

// Names of the secrets replicas share in the store.
const (
	sharedDataKey    = "data-key"
	sharedCA         = "ca"
	sharedSigningKey = "token-signing-key"
)

// keys are the secrets a server signs and seals with.
type keys struct {
	box     *secrets.Box
	ca      *pki.CA
	signing *auth.SigningKey
}

// homeKeys loads the keys from the home directory, creating them on first start (the
// SQLite store, one server per home).
func homeKeys(home string) (*keys, error) {
	ca, err := pki.EnsureCA(filepath.Join(home, pkiDir), "mlfleet CA")
	if err != nil {
		return nil, err
	}
	box, err := secrets.LoadOrCreate(filepath.Join(home, secretKeyFile))
	if err != nil {
		return nil, err
	}
	signing, err := auth.LoadOrCreateSigningKey(filepath.Join(home, pkiDir, tokenKeyFile))
	if err != nil {
		return nil, err
	}
	return &keys{box: box, ca: ca, signing: signing}, nil
}

// sharedKeys loads the keys every replica of a shared store uses from the store, wrapped
// by the replica key; the first replica creates them. A home that served alone before
// hands its own keys over when it is the first, so that what it sealed and the CA its
// clients trust stay valid. The CA certificate is written to the home, where the CLI
// configuration points.
func sharedKeys(ctx context.Context, st secrets.SharedStore, wrap *secrets.Box, home string) (*keys, error) {
	dir := filepath.Join(home, pkiDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create pki dir: %w", err)
	}
	dataKey, err := secrets.EnsureShared(ctx, st, wrap, sharedDataKey, func() ([]byte, error) {
		if k, err := secrets.ReadKeyFile(filepath.Join(home, secretKeyFile)); err != nil || k != nil {
			return k, err
		}
		return secrets.NewKey()
	})
	if err != nil {
		return nil, err
	}
	box, err := secrets.New(dataKey)
	if err != nil {
		return nil, err
	}
	caBundle, err := secrets.EnsureShared(ctx, st, wrap, sharedCA, func() ([]byte, error) {
		certPEM, certErr := os.ReadFile(filepath.Join(dir, pki.CACertFile))
		keyPEM, keyErr := os.ReadFile(filepath.Join(dir, pki.CAKeyFile))
		if certErr == nil && keyErr == nil {
			if _, err := pki.ParseCA(certPEM, keyPEM); err == nil {
				return append(certPEM, keyPEM...), nil
			}
		}
		certPEM, keyPEM, err := pki.NewCAPEM("mlfleet CA")
		return append(certPEM, keyPEM...), err
	})
	if err != nil {
		return nil, err
	}
	ca, err := pki.ParseCA(caBundle, caBundle)
	if err != nil {
		return nil, fmt.Errorf("shared CA: %w", err)
	}
	if err := writeIfChanged(filepath.Join(dir, pki.CACertFile), ca.CertPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write CA certificate: %w", err)
	}
	signingPEM, err := secrets.EnsureShared(ctx, st, wrap, sharedSigningKey, func() ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, tokenKeyFile))
		if err == nil {
			if _, err := auth.ParseSigningKey(b); err == nil {
				return b, nil
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return auth.NewSigningKeyPEM()
	})
	if err != nil {
		return nil, err
	}
	signing, err := auth.ParseSigningKey(signingPEM)
	if err != nil {
		return nil, fmt.Errorf("shared token signing key: %w", err)
	}
	return &keys{box: box, ca: ca, signing: signing}, nil
}

// writeIfChanged writes data to path unless the file holds it already, through a temporary
// file and a rename: clients reading the file while a restarted server writes it never see
// it empty or half written.
func writeIfChanged(path string, data []byte, perm os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return atomicfile.WriteFile(path, data, perm)
}
