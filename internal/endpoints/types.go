package endpoints

import (
	"github.com/mlfleet/mlfleet/internal/resources"
)

// Namespace is the provider namespace; the ARM types follow.
const (
	Namespace      = "Microsoft.MachineLearningServices"
	TypeEndpoint   = Namespace + "/workspaces/onlineEndpoints"
	TypeDeployment = TypeEndpoint + "/deployments"
	typeKeys       = TypeEndpoint + "/mlfleetSecrets"
)

// Provisioning states.
const (
	StateCreating  = "Creating"
	StateUpdating  = "Updating"
	StateDeleting  = "Deleting"
	StateSucceeded = "Succeeded"
	StateFailed    = "Failed"
)

// Auth modes of an endpoint.
const (
	AuthKey      = "Key"
	AuthAMLToken = "AMLToken"
)

// Endpoint is an online endpoint as ARM serves it.
type Endpoint struct {
	ID         string                `json:"id"`
	Name       string                `json:"name"`
	Type       string                `json:"type"`
	Location   string                `json:"location"`
	Tags       map[string]string     `json:"tags,omitempty"`
	Kind       string                `json:"kind,omitempty"`
	Identity   *Identity             `json:"identity,omitempty"`
	Properties EndpointProperties    `json:"properties"`
	SystemData *resources.SystemData `json:"systemData,omitempty"`
}

// Identity is the endpoint's managed identity; mlfleet keeps what it is sent.
type Identity struct {
	Type string `json:"type"`
}

// EndpointProperties are an endpoint's properties.
type EndpointProperties struct {
	AuthMode    string            `json:"authMode"`
	Description string            `json:"description,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
	// Compute is the id of the AKS compute the endpoint's deployments run on by default.
	Compute             string         `json:"compute,omitempty"`
	Traffic             map[string]int `json:"traffic"`
	MirrorTraffic       map[string]int `json:"mirrorTraffic"`
	PublicNetworkAccess string         `json:"publicNetworkAccess,omitempty"`
	ScoringURI          string         `json:"scoringUri,omitempty"`
	SwaggerURI          string         `json:"swaggerUri,omitempty"`
	ProvisioningState   string         `json:"provisioningState"`
	// Keys may be sent on create to set the keys; they are never returned (listKeys).
	Keys *Keys `json:"keys,omitempty"`
	// Mlfleet says why the endpoint cannot serve yet, when it cannot.
	Mlfleet *EndpointStatus `json:"mlfleet,omitempty"`
}

// EndpointStatus is mlfleet's extension of an endpoint's properties.
type EndpointStatus struct {
	// Message explains a missing scoringUri (no router, no compute yet).
	Message string `json:"message,omitempty"`
}

// Keys are an endpoint's keys (listKeys).
type Keys struct {
	PrimaryKey   string `json:"primaryKey"`
	SecondaryKey string `json:"secondaryKey"`
}

// Token is the answer of POST …/token.
type Token struct {
	AccessToken         string `json:"accessToken"`
	TokenType           string `json:"tokenType"`
	ExpiryTimeUTC       int64  `json:"expiryTimeUtc"`
	RefreshAfterTimeUTC int64  `json:"refreshAfterTimeUtc"`
}

// Deployment is an online deployment as ARM serves it.
type Deployment struct {
	ID         string                `json:"id"`
	Name       string                `json:"name"`
	Type       string                `json:"type"`
	Location   string                `json:"location"`
	Tags       map[string]string     `json:"tags,omitempty"`
	Kind       string                `json:"kind,omitempty"`
	Sku        *Sku                  `json:"sku,omitempty"`
	Properties DeploymentProperties  `json:"properties"`
	SystemData *resources.SystemData `json:"systemData,omitempty"`
}

// Sku carries a deployment's instance count in capacity, as az ml sets it.
type Sku struct {
	Name     string `json:"name,omitempty"`
	Tier     string `json:"tier,omitempty"`
	Capacity *int   `json:"capacity,omitempty"`
}

// DeploymentProperties are a deployment's properties (KubernetesOnlineDeployment).
type DeploymentProperties struct {
	EndpointComputeType string `json:"endpointComputeType"`
	// Compute is the id of the AKS compute the deployment runs on; "" means the endpoint's.
	Compute              string             `json:"compute,omitempty"`
	Model                string             `json:"model,omitempty"`
	CodeConfiguration    *CodeConfiguration `json:"codeConfiguration,omitempty"`
	EnvironmentID        string             `json:"environmentId,omitempty"`
	EnvironmentVariables map[string]string  `json:"environmentVariables,omitempty"`
	Description          string             `json:"description,omitempty"`
	Properties           map[string]string  `json:"properties,omitempty"`
	InstanceType         string             `json:"instanceType,omitempty"`
	ScaleSettings        *ScaleSettings     `json:"scaleSettings,omitempty"`
	RequestSettings      *RequestSettings   `json:"requestSettings,omitempty"`
	LivenessProbe        *ProbeSettings     `json:"livenessProbe,omitempty"`
	ReadinessProbe       *ProbeSettings     `json:"readinessProbe,omitempty"`
	AppInsightsEnabled   bool               `json:"appInsightsEnabled"`
	EgressPublicNetwork  string             `json:"egressPublicNetworkAccess,omitempty"`
	ModelMountPath       string             `json:"modelMountPath,omitempty"`
	ContainerResources   map[string]any     `json:"containerResourceRequirements,omitempty"`
	ProvisioningState    string             `json:"provisioningState"`
	Mlfleet              *DeploymentStatus  `json:"mlfleet,omitempty"`
}

// CodeConfiguration names the code version and the scoring script in it.
type CodeConfiguration struct {
	CodeID        string `json:"codeId,omitempty"`
	ScoringScript string `json:"scoringScript"`
}

// ScaleSettings is scaleType Default (a fixed instance count).
type ScaleSettings struct {
	ScaleType string `json:"scaleType"`
	// InstanceCount is mlfleet's spelling of sku.capacity, accepted either way.
	InstanceCount *int `json:"instanceCount,omitempty"`
}

// RequestSettings bound a request (ISO 8601 durations, e.g. PT5S).
type RequestSettings struct {
	RequestTimeout                   string `json:"requestTimeout,omitempty"`
	MaxConcurrentRequestsPerInstance int    `json:"maxConcurrentRequestsPerInstance,omitempty"`
	MaxQueueWait                     string `json:"maxQueueWait,omitempty"`
}

// ProbeSettings configure a probe (ISO 8601 durations).
type ProbeSettings struct {
	FailureThreshold int    `json:"failureThreshold,omitempty"`
	SuccessThreshold int    `json:"successThreshold,omitempty"`
	InitialDelay     string `json:"initialDelay,omitempty"`
	Period           string `json:"period,omitempty"`
	Timeout          string `json:"timeout,omitempty"`
}

// DeploymentStatus is mlfleet's extension of a deployment's properties: its live state.
type DeploymentStatus struct {
	// InstanceCount is the number of instances asked for; ReadyInstances how many are Ready.
	InstanceCount  int `json:"instanceCount"`
	ReadyInstances int `json:"readyInstances"`
	// Message says why instances are pending or failing.
	Message string `json:"message,omitempty"`
	// ModelDir and CodeDir are where the model and code were materialized on this host.
	ModelDir string `json:"modelDir,omitempty"`
	CodeDir  string `json:"codeDir,omitempty"`
}
