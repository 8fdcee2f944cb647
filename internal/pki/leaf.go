package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/client-go/util/cert"

	"github.com/mlfleet/mlfleet/internal/atomicfile"
)

// renewBefore is how close to expiry LoadOrIssue replaces a certificate.
const renewBefore = 30 * 24 * time.Hour

// serverCertValidity is how long the home's server certificate is issued for.
const serverCertValidity = 2 * 365 * 24 * time.Hour

// Leaf describes a certificate a CA issues and LoadOrIssue keeps in a directory.
type Leaf struct {
	// Name is the base name of the files: Name.crt and Name.key.
	Name string
	// Config is the subject (Organization is what Kubernetes reads as groups), the extended
	// key usages and the names a serving certificate is valid for.
	Config cert.Config
	// Validity is how long a new certificate is valid; never past the CA's own expiry.
	Validity time.Duration
}

// AltNames sorts hosts (DNS names or IP addresses) into a certificate's alternative names.
func AltNames(hosts []string) cert.AltNames {
	var names cert.AltNames
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			names.IPs = append(names.IPs, ip)
		} else {
			names.DNSNames = append(names.DNSNames, h)
		}
	}
	return names
}

// Issue signs a certificate for commonName. hosts (DNS names or IP addresses) make it a
// server certificate; organizations become the subject's O (Kubernetes reads them as groups).
func (ca *CA) Issue(commonName string, organizations, hosts []string, validFor time.Duration) (certPEM, keyPEM []byte, err error) {
	cfg := cert.Config{CommonName: commonName, Organization: organizations, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if len(hosts) > 0 {
		cfg.AltNames = AltNames(hosts)
		cfg.Usages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	return ca.issue(cfg, time.Now(), validFor)
}

// issue signs a new key's certificate described by cfg, valid from now (less the clock
// skew) for validFor or until the CA expires, whichever comes first.
func (ca *CA) issue(cfg cert.Config, now time.Time, validFor time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key for %s: %w", cfg.CommonName, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial for %s: %w", cfg.CommonName, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               subject(cfg),
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           cfg.Usages,
		BasicConstraintsValid: true,
		DNSNames:              cfg.AltNames.DNSNames,
		IPAddresses:           cfg.AltNames.IPs,
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate %s: %w", cfg.CommonName, err)
	}
	if keyPEM, err = encodeKeyPEM(key); err != nil {
		return nil, nil, fmt.Errorf("encode key for %s: %w", cfg.CommonName, err)
	}
	return encodeDERPEM(der), keyPEM, nil
}

// LoadOrIssue returns leaf's certificate and key in PEM form from dir, issuing and writing
// new ones when the files are missing, unreadable, do not match, were not signed by ca, are
// not valid at now or expire within 30 days, or name another subject or fewer names than
// leaf. Idempotent.
func (ca *CA) LoadOrIssue(dir string, leaf Leaf, now time.Time, opts ...Option) (certPEM, keyPEM []byte, err error) {
	o := newOptions(opts)
	certPath, keyPath := filepath.Join(dir, leaf.Name+".crt"), filepath.Join(dir, leaf.Name+".key")
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	if certErr == nil && keyErr == nil && ca.stillGood(leaf.Config, certPEM, keyPEM, now) {
		return certPEM, keyPEM, nil
	}
	if certPEM, keyPEM, err = ca.issue(leaf.Config, now, leaf.Validity); err != nil {
		return nil, nil, err
	}
	if err := atomicfile.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, nil, fmt.Errorf("write %s key: %w", leaf.Name, err)
	}
	if err := atomicfile.WriteFile(certPath, certPEM, o.certMode); err != nil {
		return nil, nil, fmt.Errorf("write %s certificate: %w", leaf.Name, err)
	}
	return certPEM, keyPEM, nil
}

// stillGood tells whether an existing certificate can be kept (see LoadOrIssue).
func (ca *CA) stillGood(cfg cert.Config, certPEM, keyPEM []byte, now time.Time) bool {
	c, err := parseCertPEM(certPEM)
	if err != nil {
		return false
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil || !keyMatches(key, c) {
		return false
	}
	if c.CheckSignatureFrom(ca.Cert) != nil {
		return false
	}
	if now.Add(renewBefore).After(c.NotAfter) || now.Before(c.NotBefore) {
		return false
	}
	if c.Subject.CommonName != cfg.CommonName || !slices.Equal(c.Subject.Organization, cfg.Organization) {
		return false
	}
	for _, name := range cfg.AltNames.DNSNames {
		if !slices.Contains(c.DNSNames, name) {
			return false
		}
	}
	for _, ip := range cfg.AltNames.IPs {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// EnsureServerCert loads dir's server certificate, or issues one for hosts when it is
// missing, expires within a month, or does not cover every host (see LoadOrIssue).
func EnsureServerCert(ca *CA, dir string, hosts []string) (tls.Certificate, error) {
	return ensureServerCert(ca, dir, hosts, time.Now())
}

func ensureServerCert(ca *CA, dir string, hosts []string, now time.Time) (tls.Certificate, error) {
	certPEM, keyPEM, err := ca.LoadOrIssue(dir, Leaf{
		Name: "server",
		Config: cert.Config{
			CommonName: "mlfleet",
			AltNames:   AltNames(hosts),
			Usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		},
		Validity: serverCertValidity,
	}, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}
