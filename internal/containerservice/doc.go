// Package containerservice implements Microsoft.ContainerService/managedClusters: the
// Kubernetes clusters that computes create or attach, run by a provider (embedded or
// external). A request goes through the same pipeline as a compute's:
//
//   - validate.go checks a PUT's body against the version and VM size catalogs, the
//     provider, the network and authorized ranges, the public-IP policy, the autoscaler
//     fields (autoscale.go) and the pools' node settings (poolsettings.go: labels, taints,
//     maxPods, OS disk, tags), refuses what mlfleet cannot honour (identity.go,
//     unsupported.go: Entra, automatic upgrades, paid tiers, zones, OS SKUs, ephemeral
//     disks, node public IPs, encryption at host, load balancer outbound settings) and a
//     change of a cluster's or a pool's version (versionchange.go: a version is kept as
//     asked, major.minor too, and compared by the patch that runs, currentVersion), and
//     reports every
//     problem together as one 400. catalogversions.go words the refusals of a version
//     the catalog or the provider lacks.
//   - put.go stores a new cluster Creating (Insert, in the caller's transaction, with the
//     quota check of its subscription and region, quota.go) or an update Updating, and
//     submits the operation; If-Match/If-None-Match are the API's.
//   - flows.go runs the operations: create asks the provider to Ensure the cluster and
//     records its live facts (version, pools, address); update applies a changed spec in
//     place; a failed one is cleaned up by its OnFailure. Resume brings the created clusters
//     back after a restart.
//   - pools.go serves agentPools; delete.go the cascading delete of a cluster, DeleteFor
//     (only a cluster created for that compute) and Disown (a detach hands it to the user);
//     credentials.go the kubeconfigs, sealed at rest for registered clusters.
//
// The store is the source of truth; a provider is told the desired state (Ensure) and
// reports what runs (Status). What this process does to one cluster's provider (start,
// delete) is serialised by a per-cluster lock (locks.go).
//
// This package is the only one that talks to providers: compute reaches a cluster through
// Client and ClusterCredentials, and creates or deletes one through Prepare/Insert,
// DeleteFor and Disown, never through a provider.Provider of its own. It owns the
// managedClusters rows and the rows under them (the sealed kubeconfig; the attachment
// claim is compute's, but goes with the cluster's rows when the cluster is deleted).
//
// What it must not do: know about computes beyond the opaque createdFor id (whether a
// cluster is attached is compute's business; Resume only peeks at the attachment claims
// to order its starts), install anything into a cluster (that is compute's, through
// kube), or let a request-path change of several rows out of one transaction (N7): a
// create's row, its quota count, its sealed kubeconfig and its operation commit together
// or not at all, so there is no undo code on the request path.
package containerservice
