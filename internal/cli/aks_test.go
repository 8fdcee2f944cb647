package cli

import (
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// TestAKSCredentialsMerge: the user's and the admin's kubeconfig, both named after the
// cluster by the server, end up as two contexts, the admin's with "-admin" as az names it.
func TestAKSCredentialsMerge(t *testing.T) {
	kc := func(user string) []byte {
		return []byte(`apiVersion: v1
kind: Config
clusters:
- name: aks1
  cluster:
    server: https://a.example
users:
- name: ` + user + `
  user:
    token: t
contexts:
- name: aks1
  context:
    cluster: aks1
    user: ` + user + `
current-context: aks1
`)
	}
	file := filepath.Join(t.TempDir(), "config")
	for _, user := range []string{"clusterUser_rg1_aks1", "clusterAdmin_rg1_aks1"} {
		renamed, err := adminContext(kc(user))
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
