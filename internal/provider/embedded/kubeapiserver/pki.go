package kubeapiserver

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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// renewBefore is how close to expiry a leaf certificate is renewed on start.
	renewBefore = 30 * 24 * time.Hour
	// clockSkew backdates certificates so that clients with a slightly late clock accept them.
	clockSkew = time.Hour
)

// Client identities written into the kubeconfigs. See doc.go for what they may do.
const (
	adminName  = "mlfleet-admin"
	adminGroup = "system:masters"
	userName   = "clusterUser"
	userGroup  = "mlfleet:cluster-users"
)

// pki is the certificate material of one cluster, kept under <DataDir>/pki.
type pki struct {
	dir string

	caCert *x509.Certificate
	caKey  crypto.Signer
	caPEM  []byte

	admin keyPair
	user  keyPair
}

// keyPair is a PEM certificate and its PEM private key.
type keyPair struct {
	cert []byte
	key  []byte
}

// Paths of the files the apiserver reads itself.
func (p *pki) caFile() string          { return filepath.Join(p.dir, "ca.crt") }
func (p *pki) servingCertFile() string { return filepath.Join(p.dir, "apiserver.crt") }
func (p *pki) servingKeyFile() string  { return filepath.Join(p.dir, "apiserver.key") }
func (p *pki) saKeyFile() string       { return filepath.Join(p.dir, "sa.key") }
func (p *pki) saPubFile() string       { return filepath.Join(p.dir, "sa.pub") }

// servingNames are the names and addresses the serving certificate must be valid for.
type servingNames struct {
	dns []string
	ips []net.IP
}

// loadOrCreatePKI loads the PKI in dir, creating what is missing. The CA and the service
// account key are created once and never replaced (replacing them would invalidate every
// kubeconfig and token handed out); leaf certificates are reissued from the CA when they are
// missing, unreadable, not signed by the CA, close to expiry, or (serving certificate) do not
// cover names.
func loadOrCreatePKI(dir, clusterID string, names servingNames, now time.Time) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create pki directory: %w", err)
	}
	p := &pki{dir: dir}
	if err := p.loadOrCreateCA(clusterID, now); err != nil {
		return nil, err
	}
	if err := p.loadOrCreateServiceAccountKey(); err != nil {
		return nil, err
	}

	serving := leafSpec{
		file:    "apiserver",
		subject: pkix.Name{CommonName: "kube-apiserver"},
		usage:   x509.ExtKeyUsageServerAuth,
		dns:     names.dns,
		ips:     names.ips,
	}
	if _, err := p.loadOrIssue(serving, now); err != nil {
		return nil, err
	}
	var err error
	p.admin, err = p.loadOrIssue(leafSpec{
		file:    "admin",
		subject: pkix.Name{CommonName: adminName, Organization: []string{adminGroup}},
		usage:   x509.ExtKeyUsageClientAuth,
	}, now)
	if err != nil {
		return nil, err
	}
	p.user, err = p.loadOrIssue(leafSpec{
		file:    "user",
		subject: pkix.Name{CommonName: userName, Organization: []string{userGroup}},
		usage:   x509.ExtKeyUsageClientAuth,
	}, now)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pki) loadOrCreateCA(clusterID string, now time.Time) error {
	certFile, keyFile := p.caFile(), filepath.Join(p.dir, "ca.key")
	certPEM, certErr := os.ReadFile(certFile)
	keyPEM, keyErr := os.ReadFile(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
		cert, err := parseCertPEM(certPEM)
		if err != nil {
			return fmt.Errorf("load cluster CA: %w", err)
		}
		key, err := parseKeyPEM(keyPEM)
		if err != nil {
			return fmt.Errorf("load cluster CA: %w", err)
		}
		p.caCert, p.caKey, p.caPEM = cert, key, certPEM
		return nil
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		// First start: create below.
	case certErr != nil && !errors.Is(certErr, fs.ErrNotExist):
		return fmt.Errorf("load cluster CA: %w", certErr)
	case keyErr != nil && !errors.Is(keyErr, fs.ErrNotExist):
		return fmt.Errorf("load cluster CA: %w", keyErr)
	default:
		// Half a CA: refuse rather than silently replace the CA that clients trust.
		return fmt.Errorf("load cluster CA: only one of %s and %s exists", certFile, keyFile)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate cluster CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return fmt.Errorf("generate cluster CA: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: clusterID + "-ca", Organization: []string{"mlfleet"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("generate cluster CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("generate cluster CA: %w", err)
	}
	keyPEM, err = encodeKeyPEM(key)
	if err != nil {
		return fmt.Errorf("generate cluster CA: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// Key first: a crash between the two writes leaves a key without a certificate, which
	// the next start reports instead of silently creating a second CA.
	if err := atomicfile.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return fmt.Errorf("write cluster CA: %w", err)
	}
	if err := atomicfile.WriteFile(certFile, certPEM, 0o600); err != nil {
		return fmt.Errorf("write cluster CA: %w", err)
	}
	p.caCert, p.caKey, p.caPEM = cert, key, certPEM
	return nil
}

func (p *pki) loadOrCreateServiceAccountKey() error {
	keyFile, pubFile := p.saKeyFile(), p.saPubFile()
	keyPEM, err := os.ReadFile(keyFile)
	var key crypto.Signer
	switch {
	case err == nil:
		if key, err = parseKeyPEM(keyPEM); err != nil {
			return fmt.Errorf("load service account key: %w", err)
		}
	case errors.Is(err, fs.ErrNotExist):
		ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fmt.Errorf("generate service account key: %w", err)
		}
		if keyPEM, err = encodeKeyPEM(ecKey); err != nil {
			return fmt.Errorf("generate service account key: %w", err)
		}
		if err := atomicfile.WriteFile(keyFile, keyPEM, 0o600); err != nil {
			return fmt.Errorf("write service account key: %w", err)
		}
		key = ecKey
	default:
		return fmt.Errorf("load service account key: %w", err)
	}
	// The public half is derived every time so that it always matches the private key.
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return fmt.Errorf("write service account public key: %w", err)
	}
	if err := atomicfile.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("write service account public key: %w", err)
	}
	return nil
}

// leafSpec describes a certificate issued by the cluster CA.
type leafSpec struct {
	file    string // base name of the .crt and .key files
	subject pkix.Name
	usage   x509.ExtKeyUsage
	dns     []string
	ips     []net.IP
}

// loadOrIssue returns the certificate described by spec, reusing the one on disk when it is
// still good.
func (p *pki) loadOrIssue(spec leafSpec, now time.Time) (keyPair, error) {
	certFile := filepath.Join(p.dir, spec.file+".crt")
	keyFile := filepath.Join(p.dir, spec.file+".key")
	certPEM, certErr := os.ReadFile(certFile)
	keyPEM, keyErr := os.ReadFile(keyFile)
	if certErr == nil && keyErr == nil && p.leafStillGood(spec, certPEM, keyPEM, now) {
		return keyPair{cert: certPEM, key: keyPEM}, nil
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("issue %s certificate: %w", spec.file, err)
	}
	serial, err := newSerial()
	if err != nil {
		return keyPair{}, fmt.Errorf("issue %s certificate: %w", spec.file, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               spec.subject,
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(leafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{spec.usage},
		BasicConstraintsValid: true,
		DNSNames:              spec.dns,
		IPAddresses:           spec.ips,
	}
	if tmpl.NotAfter.After(p.caCert.NotAfter) {
		tmpl.NotAfter = p.caCert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, key.Public(), p.caKey)
	if err != nil {
		return keyPair{}, fmt.Errorf("issue %s certificate: %w", spec.file, err)
	}
	if keyPEM, err = encodeKeyPEM(key); err != nil {
		return keyPair{}, fmt.Errorf("issue %s certificate: %w", spec.file, err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := atomicfile.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return keyPair{}, fmt.Errorf("write %s certificate: %w", spec.file, err)
	}
	if err := atomicfile.WriteFile(certFile, certPEM, 0o600); err != nil {
		return keyPair{}, fmt.Errorf("write %s certificate: %w", spec.file, err)
	}
	return keyPair{cert: certPEM, key: keyPEM}, nil
}

// leafStillGood tells whether an existing certificate can be kept: it parses, matches its
// key, was signed by the current CA, is not close to expiry and has the wanted subject and
// names.
func (p *pki) leafStillGood(spec leafSpec, certPEM, keyPEM []byte, now time.Time) bool {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return false
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return false
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return false
	}
	if cert.CheckSignatureFrom(p.caCert) != nil {
		return false
	}
	if now.Add(renewBefore).After(cert.NotAfter) || now.Before(cert.NotBefore) {
		return false
	}
	if cert.Subject.CommonName != spec.subject.CommonName ||
		!slices.Equal(cert.Subject.Organization, spec.subject.Organization) {
		return false
	}
	for _, name := range spec.dns {
		if !slices.Contains(cert.DNSNames, name) {
			return false
		}
	}
	for _, ip := range spec.ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	return serial.Add(serial, big.NewInt(1)), nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM PKCS#8 private key")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", key)
	}
	return signer, nil
}

func encodeKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
