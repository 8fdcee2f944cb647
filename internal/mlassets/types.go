package mlassets

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
