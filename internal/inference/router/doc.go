// Package router is mlfleet's inference router, the role azureml-fe plays in an Azure ML
// Kubernetes cluster: it serves POST /api/v1/endpoint/{endpoint}/score, checks the
// caller's key or AMLToken, picks one of the endpoint's deployments by its traffic
// weights (or the one the azureml-model-deployment header names), forwards the request
// to one of that deployment's Ready instances (round robin, skipping instances already
// serving their maxConcurrentRequestsPerInstance, or, when all are, waiting for a slot up
// to the deployment's maxQueueWait, first come first served) and answers 401, 404, 429,
// 502, 503 or 504 itself when it cannot. GET /api/v1/endpoint/{endpoint}/swagger.json describes the
// scoring API (same auth). GET /metrics exposes per endpoint and deployment request
// counts, errors and latencies in the Prometheus text format.
//
// [Handler] is the HTTP side, fed whole snapshots of the endpoints and their instances
// through [Handler.Update]. [Server] feeds it from a cluster: it watches the namespace
// azureml for endpoint configuration Secrets (label ml.mlfleet.io/endpoint-config) and the
// Ready pods of the deployments, and while the Service azureml/azureml-fe exists listens on
// 127.0.0.1 (TLS with the azureml-fe-tls Secret when there is one) and writes its address
// into the Service's annotations ml.mlfleet.io/local-address and ml.mlfleet.io/local-scheme.
package router
