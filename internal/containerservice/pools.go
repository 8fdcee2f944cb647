package containerservice

import (
	"context"
	"slices"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// ScalePool sets the node count of one agent pool (PUT agentPools/{pool}).
func (s *Service) ScalePool(ctx context.Context, sub, rg, name, pool string, in armapi.AgentPoolPut) (*armapi.AgentPool, *store.Operation, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, nil, err
	}
	idx := slices.IndexFunc(mc.Properties.AgentPoolProfiles, func(x armapi.AgentPoolProfile) bool { return x.Name == pool })
	if idx < 0 {
		return nil, nil, arm.NotFound(arm.CodeResourceNotFound, "Cluster '%s' has no agent pool '%s'; adding pools is not supported.", name, pool)
	}
	ip := in.Properties
	if ip.Count == nil && ip.EnableAutoScaling == nil && ip.MinCount == nil && ip.MaxCount == nil {
		return nil, nil, arm.BadRequest("InvalidParameter", "properties.count is required to scale agent pool '%s'.", pool).WithTarget("properties.count")
	}
	var ci armapi.ClusterInput
	ci.Properties.AgentPoolProfiles = []armapi.AgentPoolInput{{Name: pool, Count: ip.Count, VMSize: ip.VMSize,
		EnableAutoScaling: ip.EnableAutoScaling, MinCount: ip.MinCount, MaxCount: ip.MaxCount}}
	updated, _, op, err := s.Put(ctx, sub, rg, name, ci, arm.Preconditions{})
	if err != nil {
		return nil, nil, err
	}
	ap := agentPool(updated, updated.Properties.AgentPoolProfiles[idx])
	if op != nil {
		if ip.Count != nil && !ap.Properties.EnableAutoScaling {
			ap.Properties.Count = *ip.Count
		}
		ap.Properties.ProvisioningState = armapi.StateUpdating
	}
	return ap, op, nil
}

// GetPool returns one agent pool as a child resource.
func (s *Service) GetPool(ctx context.Context, sub, rg, name, pool string) (*armapi.AgentPool, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	for _, p := range mc.Properties.AgentPoolProfiles {
		if p.Name == pool {
			return agentPool(mc, p), nil
		}
	}
	return nil, arm.NotFound(arm.CodeResourceNotFound, "Cluster '%s' has no agent pool '%s'.", name, pool)
}

// ListPools returns the agent pools of a cluster.
func (s *Service) ListPools(ctx context.Context, sub, rg, name string) ([]*armapi.AgentPool, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	out := []*armapi.AgentPool{}
	for _, p := range mc.Properties.AgentPoolProfiles {
		out = append(out, agentPool(mc, p))
	}
	return out, nil
}

func agentPool(mc *armapi.ManagedCluster, p armapi.AgentPoolProfile) *armapi.AgentPool {
	return &armapi.AgentPool{ID: mc.ID + "/agentPools/" + p.Name, Name: p.Name, Type: TypeManagedCluster + "/agentPools",
		Properties: p.AgentPoolProperties}
}
