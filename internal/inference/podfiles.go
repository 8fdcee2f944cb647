package inference

import "context"

// PodFiles are what the process of an inference pod runs with: the local directories of
// its deployment's model and code, and the scoring script's path in the code directory.
type PodFiles struct {
	ModelDir      string
	CodeDir       string
	ScoringScript string
}

// FilesResolver finds the files of an inference pod of the cluster clusterID (the provider's
// id of the cluster) from the pod's namespace and labels ([LabelEndpoint],
// [LabelDeployment]), in mlfleet's records of the online deployments on that cluster, and
// unpacks them on this host when they are not here yet (the replica hosting a cluster need
// not be the one that ran the deployment's operation).
//
// Nothing the pod itself says names a host path: whoever holds the cluster's kubeconfig
// can write pods, and a path taken from them would let such a user run a script with any
// directory of the mlfleet host, its home among them, mounted into the sandbox. A pod
// that names no online deployment on its own cluster gets an error, and no process.
type FilesResolver func(ctx context.Context, clusterID, namespace string, labels map[string]string) (PodFiles, error)
