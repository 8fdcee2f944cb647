// Package containerservice implements Microsoft.ContainerService/managedClusters: the
// Kubernetes clusters that computes create or attach, run by a provider (embedded or
// external). A request goes through the same pipeline as a compute's:
//
//   - validate.go checks a PUT's body against the version and VM size catalogs, the
//     provider, the network and authorized ranges, the public-IP policy and the autoscaler
//     fields (autoscale.go), and reports every problem together as one 400.
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
package containerservice
