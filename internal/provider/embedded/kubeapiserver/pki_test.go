package kubeapiserver

import (
	"bytes"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
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
	cert, err := parseCertPEM(readServing())
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.VerifyHostname("192.0.2.10"); err != nil {
		t.Errorf("reissued serving certificate: %v", err)
	}

	// Close to expiry, client certificates are renewed; the CA and the SA key are kept.
	late := now.Add(leafValidity - renewBefore/2)
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
	admin, err := parseCertPEM(renewed.admin.cert)
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
