package kubeapiserver

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// TestIdentityMovesWithTheCluster: the identity made for a cluster on one host, installed in
// another host's empty data directory, gives that host the same CA, service account key and
// client certificates (a kubeconfig from the first stays valid), while each host keeps its
// own serving certificate; kubeconfigs rendered from the identity alone carry the same CA and
// client certificate, with the front door as server and the FQDN as TLS server name.
func TestIdentityMovesWithTheCluster(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	id, err := LoadOrCreateIdentity(first, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if err := id.Install(second); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a, err := loadOrCreatePKI(filepath.Join(first, "pki"), "c1", servingNames{dns: []string{"c1.example"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadOrCreatePKI(filepath.Join(second, "pki"), "c1", servingNames{dns: []string{"c1.example"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.caPEM, b.caPEM) || !bytes.Equal(a.admin.cert, b.admin.cert) || !bytes.Equal(a.user.key, b.user.key) {
		t.Fatal("the second host has another CA or other client certificates than the first")
	}
	again, err := LoadOrCreateIdentity(second, "c1")
	if err != nil {
		t.Fatal(err)
	}
	for name := range id {
		if !bytes.Equal(id[name], again[name]) {
			t.Errorf("%s changed on the second host", name)
		}
	}
	admin, _, err := id.Kubeconfigs("c1", "127.0.0.1:8443", "c1.example")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(admin)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Clusters["c1"]
	if c == nil || c.Server != "https://127.0.0.1:8443" || c.TLSServerName != "c1.example" || !bytes.Equal(c.CertificateAuthorityData, a.caPEM) {
		t.Errorf("kubeconfig from the identity: cluster %+v", c)
	}
	if u := cfg.AuthInfos["clusterAdmin_c1"]; u == nil || !bytes.Equal(u.ClientCertificateData, a.admin.cert) {
		t.Error("kubeconfig from the identity: not the admin certificate the host hands out")
	}
	delete(id, "ca.key")
	if err := id.Install(t.TempDir()); err == nil {
		t.Error("an identity without the CA key was installed")
	}
}
