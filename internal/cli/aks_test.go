package cli

import (
	"encoding/json"
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

// TestVersionsTable: get-versions' table has a row per orchestrator, preview versions
// marked, and is empty, not null, for a catalog without orchestrators.
func TestVersionsTable(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want string
	}{
		{name: "orchestrators", in: map[string]any{"orchestrators": []any{
			map[string]any{"orchestratorVersion": "1.31.2", "isPreview": true},
			map[string]any{"orchestratorVersion": "1.30.6", "upgrades": []any{map[string]any{"orchestratorVersion": "1.31.2", "isPreview": true}}},
		}}, want: `[{"KubernetesVersion":"1.31.2(preview)","Upgrades":"None available"},{"KubernetesVersion":"1.30.6","Upgrades":"1.31.2(preview)"}]`},
		{name: "none", in: map[string]any{}, want: `[]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.Marshal(versionsTable(c.in))
			if err != nil || string(got) != c.want {
				t.Errorf("versions table: %s, %v; want %s", got, err, c.want)
			}
		})
	}
}
