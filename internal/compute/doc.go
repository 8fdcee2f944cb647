// Package compute manages the inference computes of workspaces
// (Microsoft.MachineLearningServices/workspaces/computes of computeType AKS): creating a
// cluster from the workspace (S1), attaching an existing managed cluster (S2), updating it
// in place (S12), scaling it (S20), and detaching or deleting it (S3).
//
// A PUT is checked in full before anything changes: the shape of the request (names, TLS,
// load balancer, virtual network, cluster purpose) and, for an attach, every precondition
// on the live cluster (reachability, permissions, version, capacity, existing attachment,
// authorized IP ranges). All failures come back together in one 400 UserError (B1). The work
// itself runs as durable operations whose steps are idempotent, so a restarted server
// resumes them: create → wait for the cluster → attach; attach → claim the cluster →
// install the components → wait until they are ready; detach → remove exactly what was
// installed.
//
// Two rules are enforced by the store under concurrency, as rows whose ids collide: a
// compute name is used once per region (a name claim), and a cluster is attached once (an
// attachment claim under the cluster). Inside the cluster the attachment is recorded by a
// marker that carries the cluster's identity (the kube-system namespace uid), so the same
// cluster registered twice is still attached once.
//
// A health monitor keeps each attached compute's conditions (Reachable, VersionSupported,
// CapacitySufficient, ComponentsReady) fresh; the provisioning state is derived from them.
package compute
