package endpoints

import (
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
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

// The wire types are the SDK's, so that server and clients agree by construction.
type (
	Endpoint             = mlfleet.OnlineEndpoint
	EndpointProperties   = mlfleet.OnlineEndpointProperties
	Identity             = mlfleet.EndpointIdentity
	EndpointStatus       = mlfleet.OnlineEndpointMlfleet
	Keys                 = mlfleet.EndpointKeys
	Token                = mlfleet.EndpointToken
	Deployment           = mlfleet.OnlineDeployment
	Sku                  = mlfleet.DeploymentSku
	DeploymentProperties = mlfleet.OnlineDeploymentProperties
	CodeConfiguration    = mlfleet.CodeConfiguration
	ScaleSettings        = mlfleet.ScaleSettings
	RequestSettings      = mlfleet.RequestSettings
	ProbeSettings        = mlfleet.ProbeSettings
	DeploymentStatus     = mlfleet.OnlineDeploymentMlfleet
)
