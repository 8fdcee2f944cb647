package pki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// copyDir copies the files of testdata/name into a new temporary directory.
func copyDir(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", name, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestHomeV1Loads proves that a home written before client-go's cert and keyutil were used
// still works: the CA and the server certificate are loaded, not replaced, and what the CA
// issues now verifies against the CA its clients already trust.
func TestHomeV1Loads(t *testing.T) {
	dir := copyDir(t, "home-v1")
	caPEM, serverPEM := testutil.ReadFile(t, filepath.Join(dir, CACertFile)), testutil.ReadFile(t, filepath.Join(dir, ServerCertFile))

	ca, err := EnsureCA(dir, "mlfleet CA")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca.CertPEM, caPEM) || !bytes.Equal(testutil.ReadFile(t, filepath.Join(dir, CACertFile)), caPEM) {
		t.Fatal("the CA of an existing home was replaced")
	}
	server, err := parseCertPEM(serverPEM)
	if err != nil {
		t.Fatal(err)
	}
	// A moment the fixture's server certificate is valid at, whatever today's date.
	now := server.NotBefore.Add(2 * time.Hour)
	if _, err := ensureServerCert(ca, dir, []string{"localhost", "127.0.0.1"}, now); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(testutil.ReadFile(t, filepath.Join(dir, ServerCertFile)), serverPEM) {
		t.Error("a server certificate that still fits was reissued")
	}

	if _, err := ensureServerCert(ca, dir, []string{"localhost", "127.0.0.1", "mlfleet.example"}, now); err != nil {
		t.Fatal(err)
	}
	reissued, err := parseCertPEM(testutil.ReadFile(t, filepath.Join(dir, ServerCertFile)))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	if _, err := reissued.Verify(x509.VerifyOptions{DNSName: "mlfleet.example", Roots: roots, CurrentTime: now}); err != nil {
		t.Errorf("server certificate for a new host does not verify against the old CA: %v", err)
	}
}

func TestEnsureCA(t *testing.T) {
	tests := []struct {
		name         string
		opts         []Option
		wantCertMode os.FileMode
	}{
		{name: "home", wantCertMode: 0o644},
		{name: "private certificates", opts: []Option{PrivateCertificates()}, wantCertMode: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			first, err := EnsureCA(dir, "test CA", tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !first.Cert.IsCA || first.Cert.Subject.CommonName != "test CA" {
				t.Errorf("CA certificate: IsCA=%v subject=%v", first.Cert.IsCA, first.Cert.Subject)
			}
			for file, want := range map[string]os.FileMode{CAKeyFile: 0o600, CACertFile: tt.wantCertMode} {
				info, err := os.Stat(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if info.Mode().Perm() != want {
					t.Errorf("%s has mode %v, want %v", file, info.Mode().Perm(), want)
				}
			}
			if block := testutil.ReadFile(t, filepath.Join(dir, CAKeyFile)); !bytes.HasPrefix(block, []byte("-----BEGIN PRIVATE KEY-----")) {
				t.Errorf("CA key is not PKCS#8: %.40s", block)
			}
			again, err := EnsureCA(dir, "test CA", tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.CertPEM, first.CertPEM) {
				t.Error("a second EnsureCA replaced the CA")
			}
		})
	}
}

func TestEnsureCAOrphanKey(t *testing.T) {
	dir := t.TempDir()
	first, err := EnsureCA(dir, "test CA")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, CACertFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureCA(dir, "test CA", RefuseOrphanKey()); err == nil {
		t.Error("RefuseOrphanKey: a CA key without its certificate was replaced")
	}
	second, err := EnsureCA(dir, "test CA")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(second.CertPEM, first.CertPEM) {
		t.Error("without RefuseOrphanKey, the orphan key was not replaced by a new CA")
	}
}

func TestParseCA(t *testing.T) {
	certPEM, keyPEM, err := NewCAPEM("test CA")
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := NewCAPEM("other CA")
	if err != nil {
		t.Fatal(err)
	}
	bundle := append(append([]byte(nil), certPEM...), keyPEM...)
	tests := []struct {
		name         string
		certPEM, key []byte
		wantErr      bool
	}{
		{name: "separate", certPEM: certPEM, key: keyPEM},
		{name: "bundle", certPEM: bundle, key: bundle},
		{name: "key of another CA", certPEM: certPEM, key: otherKey, wantErr: true},
		{name: "no certificate", certPEM: keyPEM, key: keyPEM, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, err := ParseCA(tt.certPEM, tt.key)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseCA: err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !bytes.Equal(ca.CertPEM, certPEM) {
				t.Error("CertPEM is not the CA certificate alone")
			}
		})
	}
}

func TestLoadOrIssue(t *testing.T) {
	ca, err := EnsureCA(t.TempDir(), "test CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := EnsureCA(t.TempDir(), "other CA")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	leaf := Leaf{
		Name: "apiserver",
		Config: cert.Config{
			CommonName: "kube-apiserver",
			AltNames:   AltNames([]string{"localhost", "127.0.0.1"}),
			Usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		},
		Validity: 365 * 24 * time.Hour,
	}
	moreNames := leaf
	moreNames.Config.AltNames = AltNames([]string{"localhost", "127.0.0.1", "192.0.2.10"})
	otherSubject := leaf
	otherSubject.Config.Organization = []string{"system:masters"}

	tests := []struct {
		name       string
		by         *CA
		leaf       Leaf
		at         time.Time
		wantReused bool
	}{
		{name: "still good", by: ca, leaf: leaf, at: now.Add(time.Hour), wantReused: true},
		{name: "close to expiry", by: ca, leaf: leaf, at: now.Add(leaf.Validity - renewBefore/2)},
		{name: "new name", by: ca, leaf: moreNames, at: now},
		{name: "other subject", by: ca, leaf: otherSubject, at: now},
		{name: "other CA", by: other, leaf: leaf, at: now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			first, _, err := ca.LoadOrIssue(dir, leaf, now)
			if err != nil {
				t.Fatal(err)
			}
			certPEM, keyPEM, err := tt.by.LoadOrIssue(dir, tt.leaf, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if reused := bytes.Equal(certPEM, first); reused != tt.wantReused {
				t.Fatalf("certificate reused = %v, want %v", reused, tt.wantReused)
			}
			if !bytes.Equal(testutil.ReadFile(t, filepath.Join(dir, "apiserver.crt")), certPEM) ||
				!bytes.Equal(testutil.ReadFile(t, filepath.Join(dir, "apiserver.key")), keyPEM) {
				t.Error("the files do not hold the certificate returned")
			}
			c, err := parseCertPEM(certPEM)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := keyutil.ParsePrivateKeyPEM(keyPEM); err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(tt.by.CertPEM)
			for _, host := range append(tt.leaf.Config.AltNames.DNSNames, "127.0.0.1") {
				if _, err := c.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: tt.at}); err != nil {
					t.Errorf("certificate for %s: %v", host, err)
				}
			}
		})
	}
}

func TestIssueNeverOutlivesTheCA(t *testing.T) {
	ca, err := EnsureCA(t.TempDir(), "test CA")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _, err := ca.Issue("client", []string{"group"}, nil, 20*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCertPEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if c.NotAfter.After(ca.Cert.NotAfter) {
		t.Errorf("certificate expires %v, after its CA (%v)", c.NotAfter, ca.Cert.NotAfter)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("certificate without hosts has usages %v, want client auth", c.ExtKeyUsage)
	}
}

func TestEnsureSigningKey(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := EnsureSigningKey(keyPath, pubPath); err != nil {
		t.Fatal(err)
	}
	key := testutil.ReadFile(t, keyPath)
	if err := os.Remove(pubPath); err != nil {
		t.Fatal(err)
	}
	if err := EnsureSigningKey(keyPath, pubPath); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(testutil.ReadFile(t, keyPath), key) {
		t.Error("an existing signing key was replaced")
	}
	priv, err := parseKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	pubs, err := keyutil.ParsePublicKeysPEM(testutil.ReadFile(t, pubPath))
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || len(pubs) != 1 || !pub.Equal(pubs[0]) {
		t.Error("the public key file does not match the private key")
	}
}
