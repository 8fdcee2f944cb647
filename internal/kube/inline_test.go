package kube

import (
	"strings"
	"testing"
)

// TestConnectRefusesLocalCredentials: a kubeconfig whose context would run a program or
// read a file of this machine (the server's, for a kubeconfig a user sent) is refused by
// Connect with a message naming what and how to do without it, and accepted by
// ConnectLocal; other contexts of the file do not matter.
func TestConnectRefusesLocalCredentials(t *testing.T) {
	t.Parallel()
	const head = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
- name: cfile
  cluster: {server: "https://127.0.0.1:1", certificate-authority: /etc/ssl/ca.pem}
contexts:
- name: plain
  context: {cluster: c, user: token}
- name: exec
  context: {cluster: c, user: exec}
- name: provider
  context: {cluster: c, user: provider}
- name: files
  context: {cluster: c, user: files}
- name: ca
  context: {cluster: cfile, user: token}
users:
- name: token
  user: {token: t}
- name: exec
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: touch, args: [/tmp/owned], interactiveMode: Never}
- name: provider
  user:
    auth-provider: {name: oidc, config: {idp-issuer-url: "https://127.0.0.1:2"}}
- name: files
  user: {tokenFile: /etc/shadow, client-key: /root/key.pem}
`
	for _, tc := range []struct {
		context string
		want    []string // in the error; none: accepted
		// local: ConnectLocal accepts it (client-go itself refuses an auth provider it has
		// no plugin for, and reads a CA file at once).
		local bool
	}{
		{context: "plain", local: true},
		{context: "exec", want: []string{`users[exec].user.exec runs "touch"`, "--allow-kubeconfig-exec"}, local: true},
		{context: "provider", want: []string{`auth provider (users[provider].user.auth-provider "oidc")`}},
		{context: "files", want: []string{"users[files].user.tokenFile: /etc/shadow", "users[files].user.client-key: /root/key.pem"}, local: true},
		{context: "ca", want: []string{"clusters[cfile].cluster.certificate-authority: /etc/ssl/ca.pem"}},
	} {
		t.Run(tc.context, func(t *testing.T) {
			_, err := Connect([]byte(head+"current-context: plain\n"), tc.context)
			if len(tc.want) == 0 && err != nil {
				t.Fatalf("Connect: %v", err)
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("Connect = %v, want an error saying %q", err, w)
				}
			}
			// The current context is checked the same way as one named.
			if _, err2 := Connect([]byte(head+"current-context: "+tc.context+"\n"), ""); (err2 == nil) != (err == nil) {
				t.Fatalf("as the current context: %v; named: %v", err2, err)
			}
			if _, err := ConnectLocal([]byte(head+"current-context: plain\n"), tc.context); tc.local && err != nil {
				t.Fatalf("ConnectLocal: %v", err)
			}
		})
	}
}
