package cli

import (
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// TestAKSCredentialsMerge: the user's and the admin's kubeconfig, both named after the
// cluster by the server, end up as two contexts, the admin's with "-admin" as az names it.
func TestAKSCredentialsMerge(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config")
	for _, user := range []string{"clusterUser_rg1_aks1", "clusterAdmin_rg1_aks1"} {
		renamed, err := adminContext(testKubeconfig("aks1", "https://a.example", user))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mergeKubeconfig(file, renamed); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := clientcmd.LoadFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "aks1-admin" || cfg.Contexts["aks1"].AuthInfo != "clusterUser_rg1_aks1" || cfg.Contexts["aks1-admin"].AuthInfo != "clusterAdmin_rg1_aks1" {
		t.Errorf("current %q, contexts %v", cfg.CurrentContext, cfg.Contexts)
	}
}

// testKubeconfig is a kubeconfig as the server gives it: one cluster, user and context, the
// cluster and the context both named name.
func testKubeconfig(name, server, user string) []byte {
	return []byte(`apiVersion: v1
kind: Config
clusters:
- name: ` + name + `
  cluster:
    server: ` + server + `
users:
- name: ` + user + `
  user:
    token: t
contexts:
- name: ` + name + `
  context:
    cluster: ` + name + `
    user: ` + user + `
current-context: ` + name + `
`)
}
