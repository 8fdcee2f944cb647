package endpoints

import (
	"strings"

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
