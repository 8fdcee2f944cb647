package containerservice

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// aksKubeconfig returns the kubeconfig kc as AKS names its entries, so that az aks
// get-credentials merges it as it merges an AKS one: the cluster and the context named
// after the cluster, the user clusterAdmin_{group}_{name} or clusterUser_{group}_{name}
// (az appends "-admin" to the context of a clusterAdmin user). Only the context kc uses
// (contextName, or its current one) is kept, with its cluster and user.
func aksKubeconfig(kc []byte, contextName, group, name string, admin bool) ([]byte, error) {
	cfg, err := clientcmd.Load(kc)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig of cluster %s: %w", name, err)
	}
	if contextName == "" {
		contextName = cfg.CurrentContext
	}
	ctx, ok := cfg.Contexts[contextName]
	if !ok {
		return nil, fmt.Errorf("kubeconfig of cluster %s has no context %q", name, contextName)
	}
	cluster, ok := cfg.Clusters[ctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("kubeconfig of cluster %s: context %q names no cluster", name, contextName)
	}
	user, ok := cfg.AuthInfos[ctx.AuthInfo]
	if !ok {
		return nil, fmt.Errorf("kubeconfig of cluster %s: context %q names no user", name, contextName)
	}
	userName := "clusterUser_" + group + "_" + name
	if admin {
		userName = "clusterAdmin_" + group + "_" + name
	}
	out := clientcmdapi.NewConfig()
	out.Clusters[name] = cluster
	out.AuthInfos[userName] = user
	out.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: userName, Namespace: ctx.Namespace}
	out.CurrentContext = name
	b, err := clientcmd.Write(*out)
	if err != nil {
		return nil, fmt.Errorf("write kubeconfig of cluster %s: %w", name, err)
	}
	return b, nil
}
