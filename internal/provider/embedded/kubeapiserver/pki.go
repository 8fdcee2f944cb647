package kubeapiserver

import (
	"crypto/x509"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"k8s.io/client-go/util/cert"

	mlpki "github.com/mlfleet/mlfleet/internal/pki"
)

// leafValidity is how long the serving and client certificates are issued for; they are
// renewed on a start within 30 days of expiry.
const leafValidity = 365 * 24 * time.Hour

// Client identities written into the kubeconfigs. See doc.go for what they may do.
const (
	adminName  = "mlfleet-admin"
	adminGroup = "system:masters"
	userName   = "clusterUser"
	userGroup  = "mlfleet:cluster-users"
)

// pki is the certificate material of one cluster, kept under <DataDir>/pki by package
// internal/pki (imported as mlpki: the name pki is this type's).
type pki struct {
	dir   string
	caPEM []byte

	admin keyPair
	user  keyPair
}

// keyPair is a PEM certificate and its PEM private key.
type keyPair struct {
	cert []byte
	key  []byte
}

// Paths of the files the apiserver reads itself.
func (p *pki) caFile() string          { return filepath.Join(p.dir, mlpki.CACertFile) }
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
// kubeconfig and token handed out; a CA key without its certificate is reported, not
// replaced); leaf certificates are reissued from the CA when they are missing, unreadable,
// not signed by the CA, close to expiry, or (serving certificate) do not cover names.
// Every file, certificates included, is readable by its owner only.
func loadOrCreatePKI(dir, clusterID string, names servingNames, now time.Time) (*pki, error) {
	ca, err := mlpki.EnsureCA(dir, clusterID+"-ca", mlpki.PrivateCertificates(), mlpki.RefuseOrphanKey())
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", clusterID, err)
	}
	p := &pki{dir: dir, caPEM: ca.CertPEM}
	if err := mlpki.EnsureSigningKey(p.saKeyFile(), p.saPubFile()); err != nil {
		return nil, fmt.Errorf("cluster %s service account key: %w", clusterID, err)
	}
	leaves := []struct {
		leaf mlpki.Leaf
		into *keyPair
	}{
		{leaf: mlpki.Leaf{Name: "apiserver", Config: cert.Config{
			CommonName: "kube-apiserver",
			AltNames:   cert.AltNames{DNSNames: names.dns, IPs: names.ips},
			Usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}}},
		{leaf: mlpki.Leaf{Name: "admin", Config: cert.Config{
			CommonName:   adminName,
			Organization: []string{adminGroup},
			Usages:       []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}}, into: &p.admin},
		{leaf: mlpki.Leaf{Name: "user", Config: cert.Config{
			CommonName:   userName,
			Organization: []string{userGroup},
			Usages:       []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}}, into: &p.user},
	}
	for _, l := range leaves {
		l.leaf.Validity = leafValidity
		certPEM, keyPEM, err := ca.LoadOrIssue(dir, l.leaf, now, mlpki.PrivateCertificates())
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", clusterID, err)
		}
		if l.into != nil {
			*l.into = keyPair{cert: certPEM, key: keyPEM}
		}
	}
	return p, nil
}
