package containerservice

import "github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"

// Namespace is the ARM provider namespace of managed clusters.
const Namespace = "Microsoft.ContainerService"

// TypeManagedCluster is the ARM type of a managed cluster.
const TypeManagedCluster = Namespace + "/managedClusters"

// The wire types are package armapi's, which the SDK and the CLI read too.
type (
	ManagedCluster           = armapi.ManagedCluster
	SKU                      = armapi.SKU
	ClusterProperties        = armapi.ClusterProperties
	PowerState               = armapi.PowerState
	AgentPoolProfile         = armapi.AgentPoolProfile
	AutoScalerProfile        = armapi.AutoScalerProfile
	NetworkProfile           = armapi.NetworkProfile
	APIServerAccessProfile   = armapi.APIServerAccessProfile
	MlfleetProperties        = armapi.MlfleetProperties
	ClusterInput             = armapi.ClusterInput
	AgentPoolInput           = armapi.AgentPoolInput
	AgentPool                = armapi.AgentPool
	AgentPoolProperties      = armapi.AgentPoolProperties
	AgentPoolPut             = armapi.AgentPoolPut
	CredentialResults        = armapi.CredentialResults
	CredentialResult         = armapi.CredentialResult
	ClusterIdentity          = armapi.ClusterIdentity
	UserAssignedIdentityRef  = armapi.UserAssignedIdentityRef
	UserAssignedIdentity     = armapi.UserAssignedIdentity
	ServicePrincipalProfile  = armapi.ServicePrincipalProfile
	LinuxProfile             = armapi.LinuxProfile
	SSHConfiguration         = armapi.SSHConfiguration
	SSHPublicKey             = armapi.SSHPublicKey
	AddonProfile             = armapi.AddonProfile
	UpgradeProfile           = armapi.UpgradeProfile
	UpgradeProfileProperties = armapi.UpgradeProfileProperties
	PoolUpgradeProfile       = armapi.PoolUpgradeProfile
	VersionUpgrade           = armapi.VersionUpgrade
)
