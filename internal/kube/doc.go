// Package kube is everything mlfleet does inside a Kubernetes cluster, through client-go,
// whatever provider the cluster comes from.
//
// kube.go connects from a kubeconfig, reads the version (GET /version) and the nodes, and
// summarises the nodes as pools with their VM size.
//
// components.go installs, reads and removes what an attachment puts into the cluster
// (SPEC §3): the namespace azureml, the front-end azureml-fe (ServiceAccount, RBAC,
// Deployment, LoadBalancer Service) and its TLS Secret. [Cluster.Apply] uses server-side
// apply under one field manager, so it is idempotent and a field left out of a later apply
// (a load balancer annotation, the TLS port) is removed from the cluster. Every object
// carries [LabelAttachment]; [Cluster.Remove] deletes exactly what carries the label of
// one attachment and nothing else.
//
// marker.go records the attachment inside the cluster (S11): a ConfigMap in kube-system,
// created with Create so that of two concurrent attaches exactly one wins, and the UID of
// the kube-system namespace as the cluster's identity.
//
// access.go asks the API server, with SelfSubjectAccessReviews, whether the credentials
// may do what Apply and Remove do, so that an attach can refuse before installing anything.
//
// cache.go keeps one client per cluster ([Cache]) with a /readyz probe, so that the
// operations and the health monitor reaching the same cluster share connections, and a
// client whose API server went away is rebuilt rather than reused (STYLE 15).
//
// A request flows in here from above: compute's checks and steps, and containerservice's
// live facts, get a [*Cluster] (from [Connect], [FromConfig] or [Cache.Get]), call one
// method per step and receive either a result or one of the errors below.
//
// What this package must not do: it knows nothing of ARM (no resource ids beyond the
// opaque strings it is handed to write into labels and the marker, no arm.Error, no HTTP
// status of the ARM API), nothing of the store or of providers, and it decides no policy
// (which version is supported, how many vCPUs a purpose needs): it reports what the
// cluster says and its callers judge. It never deletes what does not carry an
// attachment's label, so a detach cannot touch the user's workloads (SPEC §3, S3).
//
// Nothing above this package handles apimachinery errors: they are translated here into
// [ErrUnreachable], [ErrForbidden], [ErrAttached] or a plain message saying what was refused
// (STYLE 11), so that compute can map them to ARM codes with errors.Is alone.
package kube
