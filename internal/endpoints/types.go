package endpoints

// Namespace is the provider namespace; the ARM types follow.
const (
	Namespace      = "Microsoft.MachineLearningServices"
	TypeEndpoint   = Namespace + "/workspaces/onlineEndpoints"
	TypeDeployment = TypeEndpoint + "/deployments"
	typeKeys       = TypeEndpoint + "/mlfleetSecrets"
)

// Auth modes of an endpoint.
const (
	AuthKey      = "Key"
	AuthAMLToken = "AMLToken"
)
