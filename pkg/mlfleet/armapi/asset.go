package armapi

// Blob is the answer of an upload to a workspace's blob store (PUT …/workspaces/{name}/blobs).
type Blob struct {
	// URI is mlfleet://blobs/<sha256>, what modelUri and codeUri take (add /<file name>
	// for a single file; without it the blob must be a tar archive of a directory).
	URI string `json:"uri"`
	// Digest is the lowercase hex SHA-256 of the content.
	Digest string `json:"digest"`
	// Size is the content's length in bytes.
	Size int64 `json:"size"`
}

// AssetVersion is a model, code or environment version as ARM serves it.
type AssetVersion struct {
	ID         string                 `json:"id"`
	Name       string                 `json:"name"`
	Type       string                 `json:"type"`
	Properties AssetVersionProperties `json:"properties"`
	SystemData *SystemData            `json:"systemData,omitempty"`
}

// AssetBase is what the properties of asset versions and containers begin with.
type AssetBase struct {
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
	IsArchived  bool              `json:"isArchived"`
}

// AssetVersionProperties are the properties of every kind; the fields of the other kinds stay
// empty (and are refused when sent).
type AssetVersionProperties struct {
	AssetBase
	IsAnonymous bool `json:"isAnonymous"`

	// ModelType and ModelURI are a model's.
	ModelType string `json:"modelType,omitempty"`
	ModelURI  string `json:"modelUri,omitempty"`
	// CodeURI is a code's.
	CodeURI string `json:"codeUri,omitempty"`
	// Image, EnvironmentType, OSType, CondaFile and InferenceConfig are an environment's.
	Image           string           `json:"image,omitempty"`
	EnvironmentType string           `json:"environmentType,omitempty"`
	OSType          string           `json:"osType,omitempty"`
	CondaFile       string           `json:"condaFile,omitempty"`
	InferenceConfig *InferenceConfig `json:"inferenceConfig,omitempty"`
	Build           any              `json:"build,omitempty"`

	ProvisioningState string `json:"provisioningState"`
}

// InferenceConfig names the routes of an environment's inference server.
type InferenceConfig struct {
	LivenessRoute  *InferenceRoute `json:"livenessRoute,omitempty"`
	ReadinessRoute *InferenceRoute `json:"readinessRoute,omitempty"`
	ScoringRoute   *InferenceRoute `json:"scoringRoute,omitempty"`
}

// InferenceRoute is a path and port.
type InferenceRoute struct {
	Path string `json:"path"`
	Port int    `json:"port"`
}

// AssetContainer is a model, code or environment container (the versions' parent).
type AssetContainer struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties AssetContainerProperties `json:"properties"`
	SystemData *SystemData              `json:"systemData,omitempty"`
}

// AssetContainerProperties are a container's properties.
type AssetContainerProperties struct {
	AssetBase
	LatestVersion     string `json:"latestVersion,omitempty"`
	NextVersion       string `json:"nextVersion,omitempty"`
	ProvisioningState string `json:"provisioningState"`
}
