package containerservice

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// ScalePool changes one agent pool (PUT agentPools/{pool}): its node count, autoscaling,
// node labels and taints, and tags; maxPods, osDiskSizeGB and vmSize may only be repeated.
// pre is the request's If-Match/If-None-Match, checked against the pool's eTag, which is
// its cluster's (a pool changes through its cluster's update), in the update's transaction.
func (s *Service) ScalePool(ctx context.Context, sub, rg, name, pool string, in armapi.AgentPoolPut, pre arm.Preconditions) (*armapi.AgentPool, *store.Operation, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, nil, err
	}
	idx := poolIndex(mc, pool)
	if idx < 0 {
		// A PUT of a pool the cluster lacks is az aks nodepool add: a 400 that says why,
		// not a 404 that reads as a missing cluster. A scale or an update of a pool that
		// does not exist reads the pool first (az and mlfleet's CLI do), and gets GetPool's
		// 404.
		return nil, nil, arm.BadRequest(CodeOperationNotSupported,
			"Cluster '%s' has no agent pool '%s', and adding agent pools is not supported by mlfleet. Scale or update an existing pool (%s) with 'az aks nodepool scale' or 'az aks nodepool update', or create a cluster with the pool you need.",
			mc.Name, pool, poolNames(mc))
	}
	pool = mc.Properties.AgentPoolProfiles[idx].Name
	ip := in.Properties
	if cur := mc.Properties.AgentPoolProfiles[idx]; ip.Mode != "" && !strings.EqualFold(ip.Mode, orDefault(cur.Mode, "System")) {
		return nil, nil, modeChange(cur).WithTarget("properties.mode")
	}
	var ci armapi.ClusterInput
	ci.Properties.AgentPoolProfiles = []armapi.AgentPoolInput{{Name: pool, Count: ip.Count, VMSize: ip.VMSize,
		EnableAutoScaling: ip.EnableAutoScaling, MinCount: ip.MinCount, MaxCount: ip.MaxCount, PowerState: ip.PowerState,
		OrchestratorVersion: ip.OrchestratorVersion, AgentPoolSettings: ip.AgentPoolSettings}}
	updated, _, op, err := s.Put(ctx, sub, rg, name, ci, pre)
	if err != nil {
		return nil, nil, asPoolError(err)
	}
	ap := agentPool(updated, updated.Properties.AgentPoolProfiles[idx])
	if op != nil {
		if ip.Count != nil && !ap.Properties.EnableAutoScaling {
			ap.Properties.Count = *ip.Count
		}
		if ap.Properties.ProvisioningState != armapi.StateScaling {
			ap.Properties.ProvisioningState = armapi.StateUpdating
		}
	}
	return ap, op, nil
}

// poolTarget is the target prefix of the one pool a pool PUT sends through the cluster's
// update; in the agentPools API its fields sit directly under properties.
const poolTarget = "properties.agentPoolProfiles[0]"

// asPoolError turns a refusal of the cluster update a pool PUT runs into the agentPools
// API's terms, as AKS answers az aks nodepool: targets name properties.vmSize, not
// properties.agentPoolProfiles[0].vmSize, and several failures are "The agent pool
// request". Other errors pass as they are.
func asPoolError(err error) error {
	var e *arm.Error
	if !errors.As(err, &e) {
		return err
	}
	out := poolTargets(e)
	if len(out.Details) > 0 {
		// Only arm.Problems.Err reports details here: build the whole again for the pool.
		if whole, ok := arm.Problems(out.Details).Err(out.Code, "The agent pool request").(*arm.Error); ok {
			whole.Status = out.Status
			return whole
		}
	}
	return out
}

// poolTargets returns a copy of e and its details with the pool's targets moved from the
// cluster body's paths to the agent pool body's.
func poolTargets(e *arm.Error) *arm.Error {
	out := *e
	switch {
	case out.Target == poolTarget:
		out.Target = "properties"
	case strings.HasPrefix(out.Target, poolTarget+"."):
		out.Target = "properties." + strings.TrimPrefix(out.Target, poolTarget+".")
	}
	if e.Details != nil {
		out.Details = make([]*arm.Error, len(e.Details))
		for i, d := range e.Details {
			out.Details[i] = poolTargets(d)
		}
	}
	return &out
}

// GetPool returns one agent pool as a child resource.
func (s *Service) GetPool(ctx context.Context, sub, rg, name, pool string) (*armapi.AgentPool, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	if idx := poolIndex(mc, pool); idx >= 0 {
		return agentPool(mc, mc.Properties.AgentPoolProfiles[idx]), nil
	}
	return nil, arm.NotFound(arm.CodeResourceNotFound, "Cluster '%s' has no agent pool '%s'; its agent pools are: %s.", mc.Name, pool, poolNames(mc))
}

// poolIndex returns the index of the agent pool of mc called name, or -1. Names are
// compared without case, as ARM compares every resource name (a pool created as
// nodepool1 is also NODEPOOL1), the way clusters and groups are found.
func poolIndex(mc *armapi.ManagedCluster, name string) int {
	return slices.IndexFunc(mc.Properties.AgentPoolProfiles, func(x armapi.AgentPoolProfile) bool { return strings.EqualFold(x.Name, name) })
}

// poolNames lists the names of mc's agent pools, for a message about a pool it lacks.
func poolNames(mc *armapi.ManagedCluster) string {
	names := make([]string, 0, len(mc.Properties.AgentPoolProfiles))
	for _, p := range mc.Properties.AgentPoolProfiles {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
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

// modeChange is the 400 for a request that changes a pool's mode: mlfleet keeps the mode
// a pool was created with (a cluster needs its System pool, and it cannot add another).
func modeChange(cur armapi.AgentPoolProfile) *arm.Error {
	mode := orDefault(cur.Mode, "System")
	return arm.BadRequest("InvalidParameter",
		"Agent pool '%s' is a %s pool, and changing an agent pool's mode is not supported by mlfleet; leave its mode out or send %s.", cur.Name, mode, mode)
}

// RefuseAction answers a cluster action mlfleet does not run (POST .../stop, .../start):
// a 404 when the cluster does not exist, else a 400 CodeOperationNotSupported that says
// what to do instead. It changes nothing.
func (s *Service) RefuseAction(ctx context.Context, sub, rg, name, action string) error {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return err
	}
	switch action {
	case "stop":
		return arm.BadRequest(CodeOperationNotSupported,
			"Stopping a managed cluster is not supported by mlfleet: cluster '%s' runs until it is deleted. To use fewer nodes, scale its agent pools down ('az aks scale' or 'az aks nodepool scale', to 1 node at least); to free everything, delete it ('az aks delete').", mc.Name)
	case "start":
		return arm.BadRequest(CodeOperationNotSupported,
			"Starting a managed cluster is not supported by mlfleet: its clusters are never stopped, so cluster '%s' needs no start.", mc.Name)
	case "rotateClusterCertificates":
		return arm.BadRequest(CodeOperationNotSupported,
			"Rotating cluster certificates is not supported by mlfleet: the certificates of cluster '%s' are issued by mlfleet's own CA and stay valid while it exists. To stop a kubeconfig's access, delete the cluster; 'az aks get-credentials' writes the current ones.", mc.Name)
	case "runCommand":
		return arm.BadRequest(CodeOperationNotSupported,
			"Running commands through the API (az aks command invoke) is not supported by mlfleet: reach cluster '%s' directly with kubectl and the kubeconfig 'az aks get-credentials' writes.", mc.Name)
	case "commandResults":
		return arm.BadRequest(CodeOperationNotSupported,
			"Running commands through the API (az aks command invoke) is not supported by mlfleet, so cluster '%s' has no command results to read: reach it directly with kubectl and the kubeconfig 'az aks get-credentials' writes.", mc.Name)
	case "listClusterMonitoringUserCredential":
		return arm.BadRequest(CodeOperationNotSupported,
			"Monitoring user credentials are not available: cluster '%s' runs no Azure Monitor add-on, and has no Microsoft Entra integration for a monitoring user. Read it with the kubeconfig of 'az aks get-credentials' (listClusterUserCredential) instead.", mc.Name)
	default:
		return arm.BadRequest(CodeOperationNotSupported, "The action '%s' on managed cluster '%s' is not supported by mlfleet.", action, mc.Name)
	}
}

// RefuseNodeImageUpgrade answers POST agentPools/{pool}/upgradeNodeImageVersion (az aks
// upgrade --node-image-only, az aks nodepool upgrade --node-image-only): a 404 when the
// cluster or the pool does not exist, else a 400 CodeOperationNotSupported that says
// what mlfleet changes on a pool instead. It changes nothing.
func (s *Service) RefuseNodeImageUpgrade(ctx context.Context, sub, rg, name, pool string) error {
	ap, err := s.GetPool(ctx, sub, rg, name, pool)
	if err != nil {
		return err
	}
	pool = ap.Name
	return arm.BadRequest(CodeOperationNotSupported,
		"Upgrading node images is not supported by mlfleet: it does not manage the node image of agent pool '%s' of cluster '%s', so there is none to upgrade. What mlfleet changes on a pool is its node count ('az aks nodepool scale'), its autoscaler, node labels, node taints and tags ('az aks nodepool update').", pool, name)
}

// RefusePoolDelete answers DELETE agentPools/{pool} (az aks nodepool delete): a 404 when the
// cluster or the pool does not exist, else a 400 CodeOperationNotSupported, since a
// cluster keeps the pools it was created with. It changes nothing.
func (s *Service) RefusePoolDelete(ctx context.Context, sub, rg, name, pool string) error {
	ap, err := s.GetPool(ctx, sub, rg, name, pool)
	if err != nil {
		return err
	}
	pool = ap.Name
	return arm.BadRequest(CodeOperationNotSupported,
		"Deleting agent pools is not supported by mlfleet: cluster '%s' keeps the pools it was created with. Scale agent pool '%s' down instead ('az aks nodepool scale', to 1 node at least), or delete the cluster.", name, pool)
}
