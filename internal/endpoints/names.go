package endpoints

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Names shared with the in-cluster runtime (internal/inference defines the same; the
// objects below are the contract between the two sides).
const (
	// LabelEndpoint carries the endpoint name on every object of an endpoint.
	LabelEndpoint = "ml.mlfleet.io/endpoint"
	// LabelDeployment carries the deployment name on a deployment's objects.
	LabelDeployment = "ml.mlfleet.io/deployment"
	// LabelEndpointConfig marks the Secret holding an endpoint's EndpointConfig.
	LabelEndpointConfig = "ml.mlfleet.io/endpoint-config"
	// AnnotationRuntime on a pod template asks the embedded pod stand-in to run the pod as a
	// local process of RuntimePython.
	AnnotationRuntime = "ml.mlfleet.io/runtime"
	// RuntimePython is mlfleet's Python inference server.
	RuntimePython = "python-inference"
	// AnnotationModelDir, AnnotationCodeDir and AnnotationScoringScript tell it where the
	// model and code are on the mlfleet host and which script to load.
	AnnotationModelDir      = "ml.mlfleet.io/model-dir"
	AnnotationCodeDir       = "ml.mlfleet.io/code-dir"
	AnnotationScoringScript = "ml.mlfleet.io/scoring-script"
	// AnnotationLocalAddress and AnnotationLocalScheme on the azureml-fe Service say where
	// an embedded cluster's router listens on this host.
	AnnotationLocalAddress = "ml.mlfleet.io/local-address"
	AnnotationLocalScheme  = "ml.mlfleet.io/local-scheme"
	// ConfigKey is the Secret's data key holding EndpointConfig JSON.
	ConfigKey = "endpoint.json"
	// ContainerName is the inference container of a deployment's pods.
	ContainerName = "inference-server"
	// DefaultImage is the image of a deployment without an environment.
	DefaultImage = "mlfleet/inference-server:python"
	// ServerPort is where the inference server listens in its container.
	ServerPort = 5001
	// TokenAudience is the aud claim of AMLToken tokens.
	TokenAudience = "mlfleet-endpoint"
)

// EndpointConfig is the endpoint.json of an endpoint's Secret: what the router needs.
type EndpointConfig struct {
	Name          string                       `json:"name"`
	AuthMode      string                       `json:"authMode"`
	Keys          []string                     `json:"keys,omitempty"`
	TokenKeyPEM   string                       `json:"tokenKeyPem,omitempty"`
	Traffic       map[string]int               `json:"traffic"`
	MirrorTraffic map[string]int               `json:"mirrorTraffic,omitempty"`
	Deployments   map[string]DeploymentRouting `json:"deployments"`
}

// DeploymentRouting is how the router treats one deployment's requests.
type DeploymentRouting struct {
	RequestTimeoutMS                 int `json:"requestTimeoutMs"`
	MaxConcurrentRequestsPerInstance int `json:"maxConcurrentRequestsPerInstance"`
}

// objectName lowercases a Kubernetes name (endpoint names compare case-insensitively, as
// ARM names do) and keeps it within 63 characters: a longer one is cut and ends
// in 8 hex digits of its SHA-256, so that distinct names stay distinct.
func objectName(name string) string {
	name = strings.ToLower(name)
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:54] + "-" + hex.EncodeToString(sum[:])[:8]
}

// SecretName is the name of an endpoint's Secret.
func SecretName(endpoint string) string { return objectName("azureml-endpoint-" + endpoint) }

// DeploymentName is the name of a deployment's Deployment.
func DeploymentName(endpoint, deployment string) string {
	return objectName(endpoint + "-" + deployment)
}
