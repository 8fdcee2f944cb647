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
// upgrade to, from the version catalog of its location; a 404 for a profile other than
// "default". A version missing from the catalog (a registered cluster's) has no upgrades.
func (s *Service) UpgradeProfile(ctx context.Context, sub, rg, name, profile string) (*armapi.UpgradeProfile, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(profile, UpgradeProfileName) {
		return nil, arm.NotFound(arm.CodeResourceNotFound, "Cluster '%s' has no upgrade profile '%s'; its only one is 'default'.", name, profile)
	}
	version := mc.Properties.CurrentKubernetesVersion
	if version == "" {
		version = mc.Properties.KubernetesVersion
	}
	out := &armapi.UpgradeProfile{ID: mc.ID + "/upgradeProfiles/" + UpgradeProfileName, Name: UpgradeProfileName, Type: TypeManagedCluster + "/upgradeProfiles",
		Properties: armapi.UpgradeProfileProperties{
			ControlPlaneProfile: armapi.PoolUpgradeProfile{KubernetesVersion: version, OSType: "Linux", Upgrades: s.upgrades(mc.Location, version)},
			AgentPoolProfiles:   []armapi.PoolUpgradeProfile{},
		}}
	for _, ap := range mc.Properties.AgentPoolProfiles {
		v := orDefault(ap.OrchestratorVersion, version)
		out.Properties.AgentPoolProfiles = append(out.Properties.AgentPoolProfiles,
			armapi.PoolUpgradeProfile{Name: ap.Name, KubernetesVersion: v, OSType: orDefault(ap.OSType, "Linux"), Upgrades: s.upgrades(mc.Location, v)})
	}
	return out, nil
}

func (s *Service) upgrades(location, version string) []armapi.VersionUpgrade {
	out := []armapi.VersionUpgrade{}
	for _, v := range s.cfg.Versions.UpgradesOf(location, version) {
		u := armapi.VersionUpgrade{KubernetesVersion: v.Version}
		if v.Preview {
			preview := true
			u.IsPreview = &preview
		}
		out = append(out, u)
	}
	return out
}
