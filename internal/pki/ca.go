package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/util/cert"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
)

// CA is a certificate authority whose key is at hand.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CertPEM is Cert in PEM form, what clients put in their trust store.
	CertPEM []byte
}

// Files under a PKI directory.
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
)

// clockSkew backdates certificates so that clients with a slightly late clock accept them.
const clockSkew = time.Hour

// An Option changes how certificates are kept on disk.
type Option func(*options)

type options struct {
	certMode        fs.FileMode
	refuseOrphanKey bool
}

func newOptions(opts []Option) options {
	o := options{certMode: 0o644}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// PrivateCertificates writes certificate files readable by their owner only (0600), like the
// keys. Without it they are 0644, so that others on the machine can read what they trust.
func PrivateCertificates() Option {
	return func(o *options) { o.certMode = 0o600 }
}

// RefuseOrphanKey makes EnsureCA report a CA key whose certificate is missing instead of
// creating a new CA over it, for a CA that clients may already trust. Without it the
// orphan key, which only a crash between the two writes of a new CA leaves, is replaced.
func RefuseOrphanKey() Option {
	return func(o *options) { o.refuseOrphanKey = true }
}

// EnsureCA loads the CA from dir's ca.crt and ca.key, creating both (and dir) on first use.
// Idempotent; an existing CA is never replaced.
func EnsureCA(dir, commonName string, opts ...Option) (*CA, error) {
	o := newOptions(opts)
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case certErr == nil:
		return LoadCA(certPath, keyPath)
	case !errors.Is(certErr, fs.ErrNotExist):
		return nil, fmt.Errorf("load ca: %w", certErr)
	case keyErr == nil && o.refuseOrphanKey:
		return nil, fmt.Errorf("load ca: %s exists without %s", keyPath, certPath)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create pki dir: %w", err)
	}
	certPEM, keyPEM, err := NewCAPEM(commonName)
	if err != nil {
		return nil, err
	}
	// Key first: a crash between the two writes leaves a key without a certificate, which
	// the next start replaces or reports (RefuseOrphanKey) but never loads as a CA.
	if err := atomicfile.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("write ca key: %w", err)
	}
	if err := atomicfile.WriteFile(certPath, certPEM, o.certMode); err != nil {
		return nil, fmt.Errorf("write ca certificate: %w", err)
	}
	return LoadCA(certPath, keyPath)
}

// NewCAPEM creates a CA valid for ten years and returns its certificate and key in PEM form.
func NewCAPEM(commonName string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate ca key: %w", err)
	}
	ca, err := cert.NewSelfSignedCACert(cert.Config{
		CommonName:   commonName,
		Organization: []string{"mlfleet"},
		NotBefore:    time.Now().Add(-clockSkew),
	}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign ca certificate: %w", err)
	}
	if keyPEM, err = encodeKeyPEM(key); err != nil {
		return nil, nil, fmt.Errorf("encode ca key: %w", err)
	}
	return encodeCertPEM(ca), keyPEM, nil
}

// ParseCA returns the CA whose certificate and key are in PEM form (they may be the same
// bundle).
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	ca, err := parseCA(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	ca.CertPEM = encodeCertPEM(ca.Cert)
	return ca, nil
}

// LoadCA reads a CA certificate and key from PEM files.
func LoadCA(certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	ca, err := parseCA(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	ca.CertPEM = certPEM
	return ca, nil
}

// parseCA returns the CA of the first certificate in certPEM and the first key in keyPEM.
func parseCA(certPEM, keyPEM []byte) (*CA, error) {
	c, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	if !keyMatches(key, c) {
		return nil, errors.New("load ca: private key does not match the certificate")
	}
	return &CA{Cert: c, Key: key}, nil
}
