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
// Nothing above this package handles apimachinery errors: they are translated here into
// [ErrUnreachable], [ErrForbidden], [ErrAttached] or a plain message saying what was refused.
package kube
