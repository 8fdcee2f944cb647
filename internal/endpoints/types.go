package endpoints

import (
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
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

// The wire types are package armapi's, which the SDK and the CLI read too.
type (
	Endpoint             = armapi.OnlineEndpoint
	EndpointProperties   = armapi.OnlineEndpointProperties
	Identity             = armapi.EndpointIdentity
	EndpointStatus       = armapi.OnlineEndpointMlfleet
	Keys                 = armapi.EndpointKeys
	Token                = armapi.EndpointToken
	Deployment           = armapi.OnlineDeployment
	Sku                  = armapi.DeploymentSku
	DeploymentProperties = armapi.OnlineDeploymentProperties
	CodeConfiguration    = armapi.CodeConfiguration
	ScaleSettings        = armapi.ScaleSettings
	RequestSettings      = armapi.RequestSettings
	ProbeSettings        = armapi.ProbeSettings
	DeploymentStatus     = armapi.OnlineDeploymentMlfleet
)
