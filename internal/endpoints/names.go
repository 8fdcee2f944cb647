package endpoints

import (
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"

	"github.com/mlfleet/mlfleet/internal/inference"
)

// SecretName is the name of an endpoint's Secret. Names are lowercased first: endpoint
// names compare case-insensitively, as ARM names do, and Kubernetes names are lowercase.
func SecretName(endpoint string) string {
	return inference.SecretObjectName(strings.ToLower(endpoint))
}

// DeploymentName is the name of a deployment's Deployment, lowercased for the same reason
// as SecretName.
func DeploymentName(endpoint, deployment string) string {
	return inference.DeploymentObjectName(strings.ToLower(endpoint), strings.ToLower(deployment))
}

// InstanceLabels are the labels of a deployment's Deployment and pods, which its
// Deployment's selector matches and the router reads. They carry the endpoint's and the
// deployment's stored names (as created: names are case-insensitive and case-preserving,
// and a write never renames), never a request's spelling of them: a selector cannot change
// after create, and the router pairs the pods with the endpoint's Secret by these names.
func InstanceLabels(endpoint, deployment string) map[string]string {
	return map[string]string{inference.LabelEndpoint: endpoint, inference.LabelDeployment: deployment}
}

// endpointNameOf is the stored name of the endpoint of deployment id, the id's second
// resource name (ids of rows are as created).
func endpointNameOf(deploymentID string) string {
	id, err := arm.ParseID(deploymentID)
	if err != nil || len(id.Names) < 2 {
		return ""
	}
	return id.Names[1]
}
