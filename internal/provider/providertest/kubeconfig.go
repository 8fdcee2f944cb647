package providertest

import "fmt"

// Kubeconfig returns a kubeconfig of one cluster at the URL server, reached with a token,
// for the providers that take a user's kubeconfig.
func Kubeconfig(server string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: k
  cluster:
    server: %s
users:
- name: u
  user:
    token: t
contexts:
- name: k
  context: {cluster: k, user: u}
current-context: k
`, server)
}
