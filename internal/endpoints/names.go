package endpoints

import (
	"strings"

	"github.com/mlfleet/mlfleet/internal/inference"
)

// Names shared with the in-cluster runtime: the objects below are the contract between
// the two sides, defined once in internal/inference.
const (
	LabelEndpoint           = inference.LabelEndpoint
	LabelDeployment         = inference.LabelDeployment
	LabelEndpointConfig     = inference.LabelEndpointConfig
	AnnotationRuntime       = inference.AnnotationRuntime
	RuntimePython           = inference.RuntimePython
	AnnotationModelDir      = inference.AnnotationModelDir
	AnnotationCodeDir       = inference.AnnotationCodeDir
	AnnotationScoringScript = inference.AnnotationScoringScript
	AnnotationLocalAddress  = inference.AnnotationLocalAddress
	AnnotationLocalScheme   = inference.AnnotationLocalScheme
	ConfigKey               = inference.SecretKeyConfig
	ContainerName           = inference.ContainerName
	DefaultImage            = inference.DefaultImage
	TokenAudience           = inference.TokenAudience
	ServerPort              = inference.Port
)

// EndpointConfig and DeploymentRouting are the endpoint Secret's content.
type (
	EndpointConfig    = inference.EndpointConfig
	DeploymentRouting = inference.DeploymentRouting
)

// SecretName is the name of an endpoint's Secret. Names are lowercased first: endpoint
// names compare case-insensitively, as ARM names do, and Kubernetes names are lowercase.
func SecretName(endpoint string) string {
	return inference.SecretObjectName(strings.ToLower(endpoint))
}

// DeploymentName is the name of a deployment's Deployment.
func DeploymentName(endpoint, deployment string) string {
	return inference.DeploymentObjectName(strings.ToLower(endpoint), strings.ToLower(deployment))
}
