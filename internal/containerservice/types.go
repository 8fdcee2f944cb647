package containerservice

import "github.com/mlfleet/mlfleet/pkg/mlfleet"

// Namespace is the ARM provider namespace of managed clusters.
const Namespace = "Microsoft.ContainerService"

// TypeManagedCluster is the ARM type of a managed cluster.
const TypeManagedCluster = Namespace + "/managedClusters"

// The wire types are the SDK's, so that server and clients agree by construction.
type (
	ManagedCluster           = mlfleet.ManagedCluster
	SKU                      = mlfleet.SKU
	ClusterProperties        = mlfleet.ClusterProperties
	PowerState               = mlfleet.PowerState
	AgentPoolProfile         = mlfleet.AgentPoolProfile
	AutoScalerProfile        = mlfleet.AutoScalerProfile
	NetworkProfile           = mlfleet.NetworkProfile
	APIServerAccessProfile   = mlfleet.APIServerAccessProfile
	MlfleetProperties        = mlfleet.MlfleetProperties
	ClusterInput             = mlfleet.ClusterInput
	AgentPoolInput           = mlfleet.AgentPoolInput
	AgentPool                = mlfleet.AgentPool
	AgentPoolProperties      = mlfleet.AgentPoolProperties
	AgentPoolPut             = mlfleet.AgentPoolPut
	CredentialResults        = mlfleet.CredentialResults
	CredentialResult         = mlfleet.CredentialResult
	ClusterIdentity          = mlfleet.ClusterIdentity
	UserAssignedIdentityRef  = mlfleet.UserAssignedIdentityRef
	UserAssignedIdentity     = mlfleet.UserAssignedIdentity
	ServicePrincipalProfile  = mlfleet.ServicePrincipalProfile
	LinuxProfile             = mlfleet.LinuxProfile
	SSHConfiguration         = mlfleet.SSHConfiguration
	SSHPublicKey             = mlfleet.SSHPublicKey
	AddonProfile             = mlfleet.AddonProfile
	UpgradeProfile           = mlfleet.UpgradeProfile
	UpgradeProfileProperties = mlfleet.UpgradeProfileProperties
	PoolUpgradeProfile       = mlfleet.PoolUpgradeProfile
	VersionUpgrade           = mlfleet.VersionUpgrade
)
