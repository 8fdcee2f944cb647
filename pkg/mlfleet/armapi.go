package mlfleet

import "github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"

// The bodies the client sends and receives are the types of package armapi, which the server
// serves from too; these aliases let programs use them under the SDK's name.
type (
	AKSNetworkingConfiguration      = armapi.AKSNetworkingConfiguration
	AKSProperties                   = armapi.AKSProperties
	APIServerAccessProfile          = armapi.APIServerAccessProfile
	AccessToken                     = armapi.AccessToken
	AddonProfile                    = armapi.AddonProfile
	AgentPool                       = armapi.AgentPool
	AgentPoolInput                  = armapi.AgentPoolInput
	AgentPoolProfile                = armapi.AgentPoolProfile
	AgentPoolProperties             = armapi.AgentPoolProperties
	AgentPoolPut                    = armapi.AgentPoolPut
	AssetBase                       = armapi.AssetBase
	AssetContainer                  = armapi.AssetContainer
	AssetContainerProperties        = armapi.AssetContainerProperties
	AssetVersion                    = armapi.AssetVersion
	AssetVersionProperties          = armapi.AssetVersionProperties
	AutoScalerProfile               = armapi.AutoScalerProfile
	Blob                            = armapi.Blob
	Check                           = armapi.Check
	ClusterIdentity                 = armapi.ClusterIdentity
	ClusterInput                    = armapi.ClusterInput
	ClusterProperties               = armapi.ClusterProperties
	CodeConfiguration               = armapi.CodeConfiguration
	Compute                         = armapi.Compute
	ComputeAutoscale                = armapi.ComputeAutoscale
	ComputeKeys                     = armapi.ComputeKeys
	ComputeMlfleet                  = armapi.ComputeMlfleet
	ComputeNode                     = armapi.ComputeNode
	ComputeNodes                    = armapi.ComputeNodes
	ComputeProperties               = armapi.ComputeProperties
	ComputeValidation               = armapi.ComputeValidation
	Condition                       = armapi.Condition
	CredentialResult                = armapi.CredentialResult
	CredentialResults               = armapi.CredentialResults
	DeploymentSku                   = armapi.DeploymentSku
	EndpointIdentity                = armapi.EndpointIdentity
	EndpointKeys                    = armapi.EndpointKeys
	EndpointToken                   = armapi.EndpointToken
	ErrorDetail                     = armapi.ErrorDetail
	EventAuthorization              = armapi.EventAuthorization
	EventData                       = armapi.EventData
	EventHTTPRequest                = armapi.EventHTTPRequest
	GenericResource                 = armapi.GenericResource
	GroupInput                      = armapi.GroupInput
	GroupProperties                 = armapi.GroupProperties
	InferenceConfig                 = armapi.InferenceConfig
	InferenceRoute                  = armapi.InferenceRoute
	LinuxProfile                    = armapi.LinuxProfile
	LocalizableString               = armapi.LocalizableString
	ManagedCluster                  = armapi.ManagedCluster
	MlfleetProperties               = armapi.MlfleetProperties
	NameAvailability                = armapi.NameAvailability
	NetworkProfile                  = armapi.NetworkProfile
	NetworkProfileInput             = armapi.NetworkProfileInput
	OnlineDeployment                = armapi.OnlineDeployment
	OnlineDeploymentMlfleet         = armapi.OnlineDeploymentMlfleet
	OnlineDeploymentProperties      = armapi.OnlineDeploymentProperties
	OnlineEndpoint                  = armapi.OnlineEndpoint
	OnlineEndpointMlfleet           = armapi.OnlineEndpointMlfleet
	OnlineEndpointProperties        = armapi.OnlineEndpointProperties
	OperationStatusBase             = armapi.OperationStatusBase
	Orchestrator                    = armapi.Orchestrator
	OrchestratorUpgrade             = armapi.OrchestratorUpgrade
	Orchestrators                   = armapi.Orchestrators
	PolicyAssignment                = armapi.PolicyAssignment
	PolicyAssignmentInput           = armapi.PolicyAssignmentInput
	PolicyAssignmentInputProperties = armapi.PolicyAssignmentInputProperties
	PolicyAssignmentProperties      = armapi.PolicyAssignmentProperties
	PolicyParameterValue            = armapi.PolicyParameterValue
	PoolUpgradeProfile              = armapi.PoolUpgradeProfile
	PowerState                      = armapi.PowerState
	ProbeSettings                   = armapi.ProbeSettings
	Provider                        = armapi.Provider
	ProviderResourceType            = armapi.ProviderResourceType
	ProvisioningError               = armapi.ProvisioningError
	Replica                         = armapi.Replica
	RequestSettings                 = armapi.RequestSettings
	ResourceGroup                   = armapi.ResourceGroup
	SKU                             = armapi.SKU
	SSHConfiguration                = armapi.SSHConfiguration
	SSHPublicKey                    = armapi.SSHPublicKey
	SSLConfiguration                = armapi.SSLConfiguration
	ScaleSettings                   = armapi.ScaleSettings
	ServicePrincipalProfile         = armapi.ServicePrincipalProfile
	Subscription                    = armapi.Subscription
	SystemData                      = armapi.SystemData
	Tags                            = armapi.Tags
	TagsPatch                       = armapi.TagsPatch
	TagsProperties                  = armapi.TagsProperties
	SystemService                   = armapi.SystemService
	UpgradeProfile                  = armapi.UpgradeProfile
	UpgradeProfileProperties        = armapi.UpgradeProfileProperties
	Usage                           = armapi.Usage
	UsageList                       = armapi.UsageList
	UsageName                       = armapi.UsageName
	UserAssignedIdentity            = armapi.UserAssignedIdentity
	UserAssignedIdentityRef         = armapi.UserAssignedIdentityRef
	VersionUpgrade                  = armapi.VersionUpgrade
	WorkspaceInput                  = armapi.WorkspaceInput
	WorkspaceInputProperties        = armapi.WorkspaceInputProperties
	WorkspaceProperties             = armapi.WorkspaceProperties
)

// List is one page of an ARM list (see armapi.List).
type List[T any] = armapi.List[T]

// Values of the wire types' fields, as Azure spells them (see package armapi).
const (
	ComputeTypeAKS              = armapi.ComputeTypeAKS
	PurposeFastProd             = armapi.PurposeFastProd
	PurposeDenseProd            = armapi.PurposeDenseProd
	PurposeDevTest              = armapi.PurposeDevTest
	LoadBalancerPublicIP        = armapi.LoadBalancerPublicIP
	LoadBalancerInternal        = armapi.LoadBalancerInternal
	SSLDisabled                 = armapi.SSLDisabled
	SSLEnabled                  = armapi.SSLEnabled
	SSLAuto                     = armapi.SSLAuto
	ActionDetach                = armapi.ActionDetach
	ActionDelete                = armapi.ActionDelete
	ConditionReachable          = armapi.ConditionReachable
	ConditionVersionSupported   = armapi.ConditionVersionSupported
	ConditionCapacitySufficient = armapi.ConditionCapacitySufficient
	ConditionComponentsReady    = armapi.ConditionComponentsReady
	StatusInProgress            = armapi.StatusInProgress
	StatusSucceeded             = armapi.StatusSucceeded
	StatusFailed                = armapi.StatusFailed
	StatusCanceled              = armapi.StatusCanceled
)
