// Package endpoints serves Azure ML v2 online endpoints and their deployments on the AKS
// computes of a workspace (…/workspaces/{ws}/onlineEndpoints/{ep}[/deployments/{d}]).
//
// The store keeps the ARM resources; everything that reaches a cluster goes through
// Kubernetes objects in the compute's cluster (namespace azureml), so embedded and external
// clusters look the same from here:
//
//   - an endpoint is a Secret azureml-endpoint-<ep> whose endpoint.json (inference.EndpointConfig)
//     tells the in-cluster router the auth mode, keys, token key, traffic and the
//     deployments' request settings. It goes into the cluster of every compute the endpoint
//     or one of its deployments runs on, and is rewritten whenever any of that changes
//     (traffic, keys, a deployment added or removed);
//   - a deployment is an apps/v1 Deployment <ep>-<d> whose pods carry the runtime
//     annotations (model and code directories materialized from the blob store on this
//     host, scoring script) and the resources of the instance type.
//
// Every write checks the request's preconditions against the row it changes, then changes
// the rows and submits its operation in one transaction (write.go).
//
// Creates, updates and deletes are durable operations (internal/operations) with recorded
// steps: a deployment materializes its model and code, applies its Deployment, rewrites
// the endpoint's Secret and waits for its instances to be Ready (a crash-looping container
// fails it with the container's last message). The scoring URI comes from the azureml-fe
// Service the router serves behind, on the compute the endpoint's deployments run on (a
// router reaches only its own cluster's instances), not necessarily the endpoint's own. Keys are generated at create and kept sealed in the
// store (internal/secrets); AMLToken tokens are ES256 JWTs signed with the server's key.
//
// The parts: service.go (Config, the cluster connection, keys), endpoint.go and
// deployment.go (the requests), write.go (the shape every write shares), validate.go
// (fields and defaults), capacity.go (do the instances fit), flows.go and deployflow.go
// (the operations), materialize.go (blobs to directories), logs.go and score.go (reading
// from a running deployment), monitor.go (between operations, each deployment's ready
// instances and why some are not, read from its cluster every MonitorInterval).
//
// What it must not do: speak HTTP to clients (package api does; Score is a client of the
// router, not a server), change the rows of computes, clusters or assets (it reads them
// through their services, takes their use locks in the transaction that stores a
// deployment or an endpoint (compute.Service.UseIn, mlassets.Service.UseIn), and answers
// their question of what a deployment or an endpoint uses, so that it is not deleted:
// assetUser, ComputeUsers), or reach
// a cluster other than through package kube (and a provider's PodLogReader for logs). Keys
// leave the store unsealed only in ListKeys's answer, in the endpoint's Secret in the
// cluster, and in Score's request to the router.
package endpoints
