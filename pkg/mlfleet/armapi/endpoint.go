package armapi

// OnlineEndpoint is an online endpoint as ARM serves it.
type OnlineEndpoint struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Location   string                   `json:"location"`
	Tags       map[string]string        `json:"tags,omitempty"`
	Kind       string                   `json:"kind,omitempty"`
	Identity   *EndpointIdentity        `json:"identity,omitempty"`
	Properties OnlineEndpointProperties `json:"properties"`
	SystemData *SystemData              `json:"systemData,omitempty"`
}

// EndpointIdentity is the endpoint's managed identity; mlfleet keeps what it is sent.
type EndpointIdentity struct {
	Type string `json:"type"`
}

// OnlineEndpointProperties are an endpoint's properties.
type OnlineEndpointProperties struct {
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
	Keys *EndpointKeys `json:"keys,omitempty"`
	// Mlfleet says why the endpoint cannot serve yet, when it cannot.
	Mlfleet *OnlineEndpointMlfleet `json:"mlfleet,omitempty"`
}

// OnlineEndpointMlfleet is mlfleet's extension of an endpoint's properties.
type OnlineEndpointMlfleet struct {
	// Message explains a missing scoringUri (no router, no compute yet).
	Message string `json:"message,omitempty"`
	// SecretComputes are the computes whose clusters hold the endpoint's Secret.
	SecretComputes []string `json:"secretComputes,omitempty"`
}

// EndpointKeys are an endpoint's keys (listKeys).
type EndpointKeys struct {
	PrimaryKey   string `json:"primaryKey"`
	SecondaryKey string `json:"secondaryKey"`
}

// EndpointToken is the answer of POST …/token.
type EndpointToken struct {
	AccessToken         string `json:"accessToken"`
	TokenType           string `json:"tokenType"`
	ExpiryTimeUTC       int64  `json:"expiryTimeUtc"`
	RefreshAfterTimeUTC int64  `json:"refreshAfterTimeUtc"`
}

// OnlineDeployment is an online deployment as ARM serves it.
type OnlineDeployment struct {
	ID         string                     `json:"id"`
	Name       string                     `json:"name"`
	Type       string                     `json:"type"`
	Location   string                     `json:"location"`
	Tags       map[string]string          `json:"tags,omitempty"`
	Kind       string                     `json:"kind,omitempty"`
	Sku        *DeploymentSku             `json:"sku,omitempty"`
	Properties OnlineDeploymentProperties `json:"properties"`
	SystemData *SystemData                `json:"systemData,omitempty"`
}

// DeploymentSku carries a deployment's instance count in capacity, as az ml sets it.
type DeploymentSku struct {
	Name     string `json:"name,omitempty"`
	Tier     string `json:"tier,omitempty"`
	Capacity *int   `json:"capacity,omitempty"`
}

// OnlineDeploymentProperties are a deployment's properties (KubernetesOnlineDeployment).
type OnlineDeploymentProperties struct {
	EndpointComputeType string `json:"endpointComputeType"`
	// Compute is the id of the AKS compute the deployment runs on; "" means the endpoint's.
	Compute              string                   `json:"compute,omitempty"`
	Model                string                   `json:"model,omitempty"`
	CodeConfiguration    *CodeConfiguration       `json:"codeConfiguration,omitempty"`
	EnvironmentID        string                   `json:"environmentId,omitempty"`
	EnvironmentVariables map[string]string        `json:"environmentVariables,omitempty"`
	Description          string                   `json:"description,omitempty"`
	Properties           map[string]string        `json:"properties,omitempty"`
	InstanceType         string                   `json:"instanceType,omitempty"`
	ScaleSettings        *ScaleSettings           `json:"scaleSettings,omitempty"`
	RequestSettings      *RequestSettings         `json:"requestSettings,omitempty"`
	LivenessProbe        *ProbeSettings           `json:"livenessProbe,omitempty"`
	ReadinessProbe       *ProbeSettings           `json:"readinessProbe,omitempty"`
	AppInsightsEnabled   bool                     `json:"appInsightsEnabled"`
	EgressPublicNetwork  string                   `json:"egressPublicNetworkAccess,omitempty"`
	ModelMountPath       string                   `json:"modelMountPath,omitempty"`
	ContainerResources   map[string]any           `json:"containerResourceRequirements,omitempty"`
	ProvisioningState    string                   `json:"provisioningState"`
	Mlfleet              *OnlineDeploymentMlfleet `json:"mlfleet,omitempty"`
}

// CodeConfiguration names the code version and the scoring script in it.
type CodeConfiguration struct {
	CodeID        string `json:"codeId,omitempty"`
	ScoringScript string `json:"scoringScript"`
}

// ScaleSettings is scaleType Default (a fixed instance count).
type ScaleSettings struct {
	ScaleType string `json:"scaleType"`
	// InstanceCount is older mlfleet's spelling of sku.capacity, still accepted in a
	// request; answers carry the count in sku.capacity only, as Azure's
	// DefaultScaleSettings has only scaleType.
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

// OnlineDeploymentMlfleet is mlfleet's extension of a deployment's properties: its live state.
type OnlineDeploymentMlfleet struct {
	// InstanceCount is the number of instances asked for; ReadyInstances how many are Ready,
	// as the last operation saw them and, after it, as the deployment monitor reads them
	// from the cluster every health interval.
	InstanceCount  int `json:"instanceCount"`
	ReadyInstances int `json:"readyInstances"`
	// Message says why instances are pending or failing, why the last operation failed, or
	// that the cluster cannot be read; empty when every instance is Ready.
	Message string `json:"message,omitempty"`
	// ModelDir and CodeDir name the unpacked model and code, <content key>/model and
	// <content key>/code, in the inference directory of the replica that runs the
	// instances (older rows hold the whole path).
	ModelDir string `json:"modelDir,omitempty"`
	CodeDir  string `json:"codeDir,omitempty"`
	// FormerComputes are computes the deployment was moved off whose clusters may still
	// run its old instances: its update removes them there once it runs on the new one.
	FormerComputes []string `json:"formerComputes,omitempty"`
}
