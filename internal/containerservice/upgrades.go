package containerservice

import (
	"context"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// UpgradeProfileName is the name of a cluster's only upgrade profile.
const UpgradeProfileName = "default"

// UpgradeProfile returns the versions a cluster's control plane and agent pools can
// upgrade to: none, with the lists az expects left empty, since mlfleet refuses a change
// of a cluster's version (Put), and az aks upgrade sends whichever version get-upgrades
// offered. A 404 for a profile other than "default".
func (s *Service) UpgradeProfile(ctx context.Context, sub, rg, name, profile string) (*armapi.UpgradeProfile, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(profile, UpgradeProfileName) {
		return nil, arm.NotFound(arm.CodeResourceNotFound, "Cluster '%s' has no upgrade profile '%s'; its only one is 'default'.", name, profile)
	}
	// What runs (major.minor.patch), not the version as asked, which may be major.minor.
	version := currentVersion(mc)
	out := &armapi.UpgradeProfile{ID: mc.ID + "/upgradeProfiles/" + UpgradeProfileName, Name: UpgradeProfileName, Type: TypeManagedCluster + "/upgradeProfiles",
		Properties: armapi.UpgradeProfileProperties{
			ControlPlaneProfile: armapi.PoolUpgradeProfile{KubernetesVersion: version, OSType: "Linux", Upgrades: []armapi.VersionUpgrade{}},
			AgentPoolProfiles:   []armapi.PoolUpgradeProfile{},
		}}
	for _, ap := range mc.Properties.AgentPoolProfiles {
		out.Properties.AgentPoolProfiles = append(out.Properties.AgentPoolProfiles,
			armapi.PoolUpgradeProfile{Name: ap.Name, KubernetesVersion: orDefault(ap.CurrentOrchestratorVersion, version), OSType: orDefault(ap.OSType, "Linux"), Upgrades: []armapi.VersionUpgrade{}})
	}
	return out, nil
}

// PoolUpgradeProfile returns what an agent pool can upgrade to
// (agentPools/{pool}/upgradeProfiles/default, az aks nodepool get-upgrades): the version
// its nodes run and no upgrades, as UpgradeProfile says for the cluster. A 404 for a
// missing cluster or pool, or a profile other than "default".
func (s *Service) PoolUpgradeProfile(ctx context.Context, sub, rg, name, pool, profile string) (*armapi.AgentPoolUpgradeProfile, error) {
	ap, err := s.GetPool(ctx, sub, rg, name, pool)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(profile, UpgradeProfileName) {
		return nil, arm.NotFound(arm.CodeResourceNotFound, "Agent pool '%s' has no upgrade profile '%s'; its only one is 'default'.", pool, profile)
	}
	out := &armapi.AgentPoolUpgradeProfile{ID: ap.ID + "/upgradeProfiles/" + UpgradeProfileName, Name: UpgradeProfileName, Type: TypeManagedCluster + "/agentPools/upgradeProfiles"}
	out.Properties.KubernetesVersion = orDefault(ap.Properties.CurrentOrchestratorVersion, ap.Properties.OrchestratorVersion)
	out.Properties.OSType = orDefault(ap.Properties.OSType, "Linux")
	out.Properties.Upgrades = []armapi.VersionUpgrade{}
	return out, nil
}

// AvailablePoolVersions returns the Kubernetes versions an agent pool of the cluster can
// run (availableAgentPoolVersions): the cluster's own version only, as the default, since
// mlfleet runs every pool at its cluster's version (a pool with another is refused). A
// 404 for a missing cluster.
func (s *Service) AvailablePoolVersions(ctx context.Context, sub, rg, name string) (*armapi.AgentPoolAvailableVersions, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	out := &armapi.AgentPoolAvailableVersions{ID: mc.ID + "/availableAgentPoolVersions", Name: UpgradeProfileName, Type: TypeManagedCluster + "/availableAgentPoolVersions"}
	out.Properties.AgentPoolVersions = []armapi.AgentPoolVersion{{Default: true,
		KubernetesVersion: currentVersion(mc)}}
	return out, nil
}
