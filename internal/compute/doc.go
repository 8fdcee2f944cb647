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
// CapacitySufficient, ComponentsReady) fresh; the provisioning state is derived from them
// (VersionSupported only warns: a cluster out of support keeps running, as on AKS).
//
// The files follow a request: service.go (Put, insert) and put.go (create, attach, update
// on the request path, each ending in one transaction), validate.go, checks.go, names.go
// and tls.go (what is checked and claimed), create.go, attach.go, update.go, delete.go
// (the operations' steps), use.go (what runs on a compute against what takes it away),
// cleanup.go (what a failed create or attach undoes), monitor.go,
// markers.go (orphaned markers), read.go and views.go (GET and list).
//
// This package owns the compute rows and the rows that only exist for a compute: the
// region name claim, the attachment claim under the cluster, the TLS leaf label claim and
// the sealed TLS secret. Each records the compute as its owner, so the sweeper can remove
// what a lost compute leaves behind.
//
// What it must not do: talk to a provider (clusters are created, reached and deleted only
// through containerservice: Prepare/Insert, Client, DeleteFor, Disown), touch a cluster
// outside package kube (no client-go here), delete a cluster it did not create (S3, N7:
// the check is containerservice.DeleteFor's, on the cluster's createdFor), or write
// several rows on the request path outside one store transaction (N7).
package compute
