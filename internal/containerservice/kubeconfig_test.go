package containerservice

import (
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// registered is a kubeconfig as a user registers it: several contexts, the one to use not
// current.
const registered = `apiVersion: v1
kind: Config
clusters:
- name: kind-a
  cluster:
    server: https://a.example:6443
- name: kind-b
  cluster:
    server: https://b.example:6443
users:
- name: admin-a
  user:
    token: ta
- name: admin-b
  user:
    token: tb
contexts:
- name: a
  context:
    cluster: kind-a
    user: admin-a
- name: b
  context:
    cluster: kind-b
    user: admin-b
    namespace: ml
current-context: a
`

func TestAKSKubeconfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                        string
		context                     string
		admin                       bool
		wantUser, wantServer, token string
		wantNamespace               string
	}{
		{name: "user, current context", wantUser: "clusterUser_rg1_aks1", wantServer: "https://a.example:6443", token: "ta"},
		{name: "admin, current context", admin: true, wantUser: "clusterAdmin_rg1_aks1", wantServer: "https://a.example:6443", token: "ta"},
		{name: "admin, registered context", context: "b", admin: true, wantUser: "clusterAdmin_rg1_aks1", wantServer: "https://b.example:6443", token: "tb", wantNamespace: "ml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := aksKubeconfig([]byte(registered), tt.context, "rg1", "aks1", tt.admin)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := clientcmd.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Clusters) != 1 || len(cfg.AuthInfos) != 1 || len(cfg.Contexts) != 1 || cfg.CurrentContext != "aks1" {
				t.Fatalf("want one cluster, user and context 'aks1', got:\n%s", out)
			}
			ctx := cfg.Contexts["aks1"]
			if ctx == nil || ctx.Cluster != "aks1" || ctx.AuthInfo != tt.wantUser || ctx.Namespace != tt.wantNamespace {
				t.Errorf("context: %+v", ctx)
			}
			if c := cfg.Clusters["aks1"]; c == nil || c.Server != tt.wantServer {
				t.Errorf("cluster: %+v", c)
			}
			if u := cfg.AuthInfos[tt.wantUser]; u == nil || u.Token != tt.token {
				t.Errorf("user: %+v", u)
			}
		})
	}
	if _, err := aksKubeconfig([]byte(registered), "nope", "rg1", "aks1", false); err == nil {
		t.Error("a missing context is an error")
	}
}
