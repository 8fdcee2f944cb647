package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
)

// EnsureSigningKey loads the private key at keyPath, creating an ECDSA P-256 key on first
// use, and writes its public half to pubPath every time so that the two always match (the
// kube-apiserver's service account key pair). Idempotent; an existing key is never replaced.
func EnsureSigningKey(keyPath, pubPath string) error {
	keyPEM, err := os.ReadFile(keyPath)
	var key crypto.Signer
	switch {
	case err == nil:
		if key, err = parseKeyPEM(keyPEM); err != nil {
			return fmt.Errorf("load %s: %w", keyPath, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fmt.Errorf("generate %s: %w", keyPath, err)
		}
		if keyPEM, err = encodeKeyPEM(ecKey); err != nil {
			return fmt.Errorf("generate %s: %w", keyPath, err)
		}
		if err := atomicfile.WriteFile(keyPath, keyPEM, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", keyPath, err)
		}
		key = ecKey
	default:
		return fmt.Errorf("load %s: %w", keyPath, err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return fmt.Errorf("encode public key of %s: %w", keyPath, err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: keyutil.PublicKeyBlockType, Bytes: der})
	if err := atomicfile.WriteFile(pubPath, pubPEM, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", pubPath, err)
	}
	return nil
}

// subject is the certificate subject cfg describes.
func subject(cfg cert.Config) pkix.Name {
	return pkix.Name{CommonName: cfg.CommonName, Organization: cfg.Organization}
}

// parseCertPEM returns the first certificate in data.
func parseCertPEM(data []byte) (*x509.Certificate, error) {
	certs, err := cert.ParseCertsPEM(data)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// parseKeyPEM returns the first private key in data: PKCS#8 as mlfleet writes them, or the
// PKCS#1 and SEC 1 forms other tools write.
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	key, err := keyutil.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", key)
	}
	return signer, nil
}

// keyMatches tells whether key is the private half of c's public key.
func keyMatches(key crypto.Signer, c *x509.Certificate) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(c.PublicKey)
}

// encodeKeyPEM writes key as a PKCS#8 "PRIVATE KEY" block, the form every earlier version
// of mlfleet reads (keyutil.MarshalPrivateKeyToPEM would write SEC 1, which they do not).
func encodeKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: keyutil.PrivateKeyBlockType, Bytes: der}), nil
}

func encodeCertPEM(c *x509.Certificate) []byte { return encodeDERPEM(c.Raw) }

func encodeDERPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: cert.CertificateBlockType, Bytes: der})
}
