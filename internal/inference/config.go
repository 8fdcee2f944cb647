package inference

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Names of the objects and their labels and annotations, shared by the API side (which
// writes them) and the runtime side (which reads them).
const (
	// Namespace is where the endpoints' objects live in a compute's cluster.
	Namespace = "azureml"

	// LabelEndpoint carries the endpoint name on a deployment's objects and on the
	// endpoint's Secret.
	LabelEndpoint = "ml.mlfleet.io/endpoint"
	// LabelDeployment carries the deployment name on a deployment's objects and pods.
	LabelDeployment = "ml.mlfleet.io/deployment"
	// LabelEndpointConfig, set to "true", marks the Secret holding an EndpointConfig.
	LabelEndpointConfig = "ml.mlfleet.io/endpoint-config"

	// AnnotationRuntime on a pod template names the runtime that runs its pods on
	// embedded clusters; RuntimePython is the only one.
	AnnotationRuntime = "ml.mlfleet.io/runtime"
	// RuntimePython runs a pod as mlfleet's Python inference server.
	RuntimePython = "python-inference"
	// AnnotationFiles on a pod template is a digest of the model, code and scoring script
	// its pods run, so that a change of them rolls the pods out. The files themselves are
	// never named on a pod (see FilesResolver).
	AnnotationFiles = "ml.mlfleet.io/files"
	// AnnotationLocalAddress is the host:port on the mlfleet machine where a pod's
	// process, or the router of the azureml-fe Service, listens.
	AnnotationLocalAddress = "ml.mlfleet.io/local-address"
	// AnnotationLocalScheme is "https" or "http": how the router of the azureml-fe Service
	// is reached at its local address.
	AnnotationLocalScheme = "ml.mlfleet.io/local-scheme"

	// SecretKeyConfig is the data key of the EndpointConfig JSON in an endpoint's Secret.
	SecretKeyConfig = "endpoint.json"

	// ContainerName is the name of the one container of a deployment's pods.
	ContainerName = "inference-server"
	// DefaultImage is the image of a deployment without an environment image.
	DefaultImage = "mlfleet/inference-server:python"
	// Port is the port the inference server listens on in a pod.
	Port = 5001

	// FrontEndService is the Service (in Namespace) of the router.
	FrontEndService = "azureml-fe"
	// FrontEndTLSSecret is the Secret (in Namespace) with the router's certificate and key
	// (tls.crt, tls.key); without it the router serves plain HTTP.
	FrontEndTLSSecret = "azureml-fe-tls"

	// HeaderDeployment pins a scoring request to a deployment.
	HeaderDeployment = "azureml-model-deployment"

	// TokenAudience is the aud claim of AMLToken JWTs; the endpoint claim names the endpoint.
	TokenAudience = "mlfleet-endpoint"

	// AuthKey and AuthAMLToken are the endpoint auth modes.
	AuthKey      = "Key"
	AuthAMLToken = "AMLToken"
)

// Defaults of DeploymentRouting.
const (
	DefaultRequestTimeout                   = 5 * time.Second
	DefaultMaxConcurrentRequestsPerInstance = 1
	// DefaultMaxQueueWait is Azure's default requestSettings.maxQueueWait.
	DefaultMaxQueueWait = 500 * time.Millisecond
)

// ErrInvalidConfig means an EndpointConfig cannot be used; the message says why.
var ErrInvalidConfig = errors.New("invalid endpoint configuration")

// EndpointConfig is what the router needs to know about an endpoint, written by the API
// side as JSON into the endpoint's Secret.
type EndpointConfig struct {
	Name string `json:"name"`
	// ID is the endpoint's ARM id. Endpoint names are unique only in their workspace, and
	// every AMLToken is signed with the server's one key, so a token names the endpoint by
	// its id too and the router checks it: a token minted for 'ep' of one workspace is no
	// good for 'ep' of another. Empty in the Secrets of older servers, which check the name
	// alone.
	ID       string `json:"id,omitempty"`
	AuthMode string `json:"authMode"` // AuthKey | AuthAMLToken
	// Keys are the primary and secondary keys (AuthKey).
	Keys []string `json:"keys,omitempty"`
	// TokenKeyPEM is the PEM public key (ECDSA P-256) verifying AMLToken JWTs (ES256).
	TokenKeyPEM string `json:"tokenKeyPem,omitempty"`
	// Traffic maps deployments to percents summing to 100, or to 0 (no traffic).
	Traffic map[string]int `json:"traffic"`
	// MirrorTraffic maps deployments to the percent of requests copied to them.
	MirrorTraffic map[string]int               `json:"mirrorTraffic,omitempty"`
	Deployments   map[string]DeploymentRouting `json:"deployments"`
}

// DeploymentRouting are a deployment's request settings.
type DeploymentRouting struct {
	// RequestTimeoutMS bounds a scoring request; zero means 5000.
	RequestTimeoutMS int `json:"requestTimeoutMs"`
	// MaxConcurrentRequestsPerInstance bounds the requests an instance serves at once;
	// zero means 1.
	MaxConcurrentRequestsPerInstance int `json:"maxConcurrentRequestsPerInstance"`
	// MaxQueueWaitMS is how long a request waits for a free instance when every instance
	// serves its MaxConcurrentRequestsPerInstance, before the router answers 429; zero
	// means it does not wait. nil means 500, the deployment's default, which is what the
	// Secrets of older servers (without the field) get too.
	MaxQueueWaitMS *int `json:"maxQueueWaitMs,omitempty"`
	// Compute names the compute the deployment runs on. A router reaches only the
	// instances of its own cluster: one answering for a deployment without instances
	// there says where it runs.
	Compute string `json:"compute,omitempty"`
}

// QueueWait is how long a request waits for a free instance, with its default; zero
// means not at all.
func (d DeploymentRouting) QueueWait() time.Duration {
	if d.MaxQueueWaitMS == nil {
		return DefaultMaxQueueWait
	}
	return time.Duration(max(*d.MaxQueueWaitMS, 0)) * time.Millisecond
}

// Timeout is the request timeout, with its default.
func (d DeploymentRouting) Timeout() time.Duration {
	if d.RequestTimeoutMS <= 0 {
		return DefaultRequestTimeout
	}
	return time.Duration(d.RequestTimeoutMS) * time.Millisecond
}

// Concurrency is the per-instance concurrency, with its default.
func (d DeploymentRouting) Concurrency() int {
	if d.MaxConcurrentRequestsPerInstance <= 0 {
		return DefaultMaxConcurrentRequestsPerInstance
	}
	return d.MaxConcurrentRequestsPerInstance
}

// ParseEndpointConfig decodes and checks the JSON of an EndpointConfig.
func ParseEndpointConfig(b []byte) (*EndpointConfig, error) {
	var c EndpointConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	var errs []error
	if c.Name == "" {
		errs = append(errs, fmt.Errorf("%w: no name", ErrInvalidConfig))
	}
	switch c.AuthMode {
	case AuthKey:
		if len(c.Keys) == 0 {
			errs = append(errs, fmt.Errorf("%w: endpoint %s: auth mode Key without keys", ErrInvalidConfig, c.Name))
		}
	case AuthAMLToken:
		if c.TokenKeyPEM == "" {
			errs = append(errs, fmt.Errorf("%w: endpoint %s: auth mode AMLToken without tokenKeyPem", ErrInvalidConfig, c.Name))
		}
	default:
		errs = append(errs, fmt.Errorf("%w: endpoint %s: auth mode %q is neither Key nor AMLToken", ErrInvalidConfig, c.Name, c.AuthMode))
	}
	sum := 0
	for d, pct := range c.Traffic {
		if pct < 0 || pct > 100 {
			errs = append(errs, fmt.Errorf("%w: endpoint %s: traffic of %s is %d%%", ErrInvalidConfig, c.Name, d, pct))
		}
		sum += pct
	}
	if sum != 0 && sum != 100 {
		errs = append(errs, fmt.Errorf("%w: endpoint %s: traffic sums to %d, not 100 or 0", ErrInvalidConfig, c.Name, sum))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &c, nil
}

// maxNameLength is the longest Kubernetes object name the API side uses (a DNS label).
const maxNameLength = 63

// ObjectName returns name if it fits a DNS label, else its first 54 characters, "-" and 8
// hex digits of its sha256, so that long names stay distinct.
func ObjectName(name string) string {
	if len(name) <= maxNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:maxNameLength-9] + "-" + hex.EncodeToString(sum[:4])
}

// DeploymentObjectName is the name of the apps/v1 Deployment of an online deployment.
func DeploymentObjectName(endpoint, deployment string) string {
	return ObjectName(endpoint + "-" + deployment)
}

// SecretObjectName is the name of an endpoint's configuration Secret.
func SecretObjectName(endpoint string) string {
	return ObjectName("azureml-endpoint-" + endpoint)
}
