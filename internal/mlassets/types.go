package mlassets

import (
	"github.com/mlfleet/mlfleet/internal/resources"
)

// Namespace is the provider namespace of the assets.
const Namespace = "Microsoft.MachineLearningServices"

// Kind is a type of asset: its collection name in the path.
type Kind string

// The asset kinds.
const (
	Models       Kind = "models"
	Codes        Kind = "codes"
	Environments Kind = "environments"
)

// Kinds lists every asset kind.
var Kinds = []Kind{Models, Codes, Environments}

// ContainerType returns the ARM type of a kind's containers, e.g.
// Microsoft.MachineLearningServices/workspaces/models.
func (k Kind) ContainerType() string { return Namespace + "/workspaces/" + string(k) }

// VersionType returns the ARM type of a kind's versions.
func (k Kind) VersionType() string { return k.ContainerType() + "/versions" }

// singular names one asset of the kind in messages.
func (k Kind) singular() string {
	switch k {
	case Models:
		return "Model"
	case Codes:
		return "Code"
	}
	return "Environment"
}

// Model types Azure ML knows.
const (
	ModelTypeCustom = "custom_model"
	ModelTypeMLflow = "mlflow_model"
	ModelTypeTriton = "triton_model"
)

// State values of provisioningState.
const StateSucceeded = "Succeeded"

// Version is a model, code or environment version as ARM serves it.
type Version struct {
	ID         string                `json:"id"`
	Name       string                `json:"name"`
	Type       string                `json:"type"`
	Properties VersionProperties     `json:"properties"`
	SystemData *resources.SystemData `json:"systemData,omitempty"`
}

// VersionProperties are the properties of every kind; the fields of the other kinds stay
// empty (and are refused when sent).
type VersionProperties struct {
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Properties  map[string]string `json:"properties,omitempty"`
	IsArchived  bool              `json:"isArchived"`
	IsAnonymous bool              `json:"isAnonymous"`

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
	LivenessRoute  *Route `json:"livenessRoute,omitempty"`
	ReadinessRoute *Route `json:"readinessRoute,omitempty"`
	ScoringRoute   *Route `json:"scoringRoute,omitempty"`
}

// Route is a path and port.
type Route struct {
	Path string `json:"path"`
	Port int    `json:"port"`
}

// Container is a model, code or environment container (the versions' parent).
type Container struct {
	ID         string                `json:"id"`
	Name       string                `json:"name"`
	Type       string                `json:"type"`
	Properties ContainerProperties   `json:"properties"`
	SystemData *resources.SystemData `json:"systemData,omitempty"`
}

// ContainerProperties are a container's properties.
type ContainerProperties struct {
	Description       string            `json:"description,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	Properties        map[string]string `json:"properties,omitempty"`
	IsArchived        bool              `json:"isArchived"`
	LatestVersion     string            `json:"latestVersion,omitempty"`
	NextVersion       string            `json:"nextVersion,omitempty"`
	ProvisioningState string            `json:"provisioningState"`
}
