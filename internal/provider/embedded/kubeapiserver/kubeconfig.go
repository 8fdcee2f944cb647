package kubeapiserver

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeEndpoint is where kubeconfigs send clients: server, and the TLS server name to ask
// for ("" = the server's host).
type kubeEndpoint struct {
	server     string
	serverName string
}

// kubeconfig renders a kubeconfig with one cluster, one user (a client certificate) and one
// context, current, in the format kubectl reads.
func kubeconfig(cluster, context, user string, at kubeEndpoint, caPEM []byte, cred keyPair) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[cluster] = &clientcmdapi.Cluster{Server: at.server, TLSServerName: at.serverName, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cred.cert, ClientKeyData: cred.key}
	cfg.Contexts[context] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: user}
	cfg.CurrentContext = context
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("write kubeconfig %s: %w", context, err)
	}
	return out, nil
}
