package kubeapiserver

import (
	"bytes"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	certutil "k8s.io/client-go/util/cert"
)

func TestPKIIsReusedAndRenewed(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	names := servingNames{dns: []string{"localhost"}, ips: []net.IP{net.IPv4(127, 0, 0, 1)}}

	first, err := loadOrCreatePKI(dir, "c1", names, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ca.key", "apiserver.key", "sa.key", "admin.key", "user.key"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, info.Mode().Perm())
		}
	}
	readServing := func() []byte {
		b, err := os.ReadFile(first.servingCertFile())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	serving := readServing()
	saKey, _ := os.ReadFile(first.saKeyFile())

	again, err := loadOrCreatePKI(dir, "c1", names, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.caPEM, first.caPEM) || !bytes.Equal(again.admin.cert, first.admin.cert) || !bytes.Equal(readServing(), serving) {
		t.Error("a second load within validity changed the CA or the certificates")
	}

	// A new name for the serving certificate reissues it from the same CA.
	more := servingNames{dns: names.dns, ips: append(names.ips, net.IPv4(192, 0, 2, 10))}
	if _, err := loadOrCreatePKI(dir, "c1", more, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	cert, err := firstCert(readServing())
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.VerifyHostname("192.0.2.10"); err != nil {
		t.Errorf("reissued serving certificate: %v", err)
	}

	// Close to expiry, client certificates are renewed; the CA and the SA key are kept.
	late := now.Add(leafValidity - 15*24*time.Hour) // within the 30 days before expiry
	renewed, err := loadOrCreatePKI(dir, "c1", more, late)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(renewed.caPEM, first.caPEM) {
		t.Error("CA replaced")
	}
	if bytes.Equal(renewed.admin.cert, first.admin.cert) {
		t.Error("admin certificate close to expiry was not renewed")
	}
	if sa2, _ := os.ReadFile(first.saKeyFile()); !bytes.Equal(sa2, saKey) {
		t.Error("service account key replaced")
	}
	admin, err := firstCert(renewed.admin.cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(first.caPEM)
	if _, err := admin.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: late, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("renewed admin certificate does not verify: %v", err)
	}
	if admin.Subject.CommonName != adminName || len(admin.Subject.Organization) != 1 || admin.Subject.Organization[0] != adminGroup {
		t.Errorf("admin subject = %v", admin.Subject)
	}
}

func TestPKIRefusesHalfACA(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadOrCreatePKI(dir, "c1", servingNames{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "ca.crt")); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreatePKI(dir, "c1", servingNames{}, time.Now()); err == nil {
		t.Error("a CA key without its certificate was silently replaced")
	}
}

// TestPKIV1Loads proves that a cluster directory written before the PKI code moved to
// internal/pki (testdata/pki-v1) is loaded as it is: same CA, same service account key, same
// serving and client certificates, and the kubeconfigs built from it are unchanged.
func TestPKIV1Loads(t *testing.T) {
	dir := t.TempDir()
	fixture := filepath.Join("testdata", "pki-v1")
	entries, err := os.ReadDir(fixture)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(fixture, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		before[e.Name()] = b
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	serving, err := firstCert(before["apiserver.crt"])
	if err != nil {
		t.Fatal(err)
	}
	// A moment the fixture's certificates are valid at, whatever today's date.
	now := serving.NotBefore.Add(2 * time.Hour)
	names := servingNames{dns: []string{"localhost"}, ips: []net.IP{net.IPv4(127, 0, 0, 1)}}

	p, err := loadOrCreatePKI(dir, "c1", names, now)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range before {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s was rewritten (err %v)", name, err)
		}
	}
	if !bytes.Equal(p.caPEM, before["ca.crt"]) || !bytes.Equal(p.admin.cert, before["admin.crt"]) ||
		!bytes.Equal(p.admin.key, before["admin.key"]) || !bytes.Equal(p.user.cert, before["user.crt"]) {
		t.Error("the loaded PKI differs from the files on disk")
	}
}

func firstCert(pemData []byte) (*x509.Certificate, error) {
	certs, err := certutil.ParseCertsPEM(pemData)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}
