package kube

import (
	"testing"
)

// FuzzConnect feeds Connect the kubeconfigs that `aks import` and compute attach send:
// a bad one is an error, never a panic, and Connect never contacts the cluster.
// Run with: go test -run='^$' -fuzz='^FuzzConnect$' -fuzztime=60s ./internal/kube
func FuzzConnect(f *testing.F) {
	valid := "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}\n" +
		"users:\n- name: u1\n  user: {token: t}\ncontexts:\n- name: c1\n  context: {cluster: c1, user: u1, namespace: ns}\n" +
		"current-context: c1\n"
	for _, c := range []struct{ kc, ctx string }{
		{valid, ""}, {valid, "c1"}, {valid, "missing"}, {"", ""}, {"{}", ""}, {"- a\n", ""},
		{"contexts: [{name: c1, context: {cluster: nowhere, user: nobody}}]\ncurrent-context: c1\n", ""},
		{"clusters: [{name: c1, cluster: {server: '://bad'}}]\ncontexts: [{name: c1, context: {cluster: c1}}]\ncurrent-context: c1\n", ""},
		{"clusters: [{name: c1, cluster: {server: 'https://x', certificate-authority-data: 'bm90IGEgY2VydA=='}}]\n" +
			"contexts: [{name: c1, context: {cluster: c1}}]\ncurrent-context: c1\n", ""},
		{"users: [{name: u, user: {client-certificate-data: 'eA==', client-key-data: 'eA=='}}]\n" +
			"clusters: [{name: c, cluster: {server: 'https://x'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n", ""},
		{"apiVersion: v2\nkind: Pod\n", ""},
	} {
		f.Add([]byte(c.kc), c.ctx)
	}
	f.Fuzz(func(t *testing.T, kc []byte, context string) {
		c, err := Connect(kc, context)
		if err != nil {
			return
		}
		if c.Config.Host == "" || c.Client == nil {
			t.Fatalf("Connect(%q, %q) = a cluster without a host or a client", kc, context)
		}
	})
}
