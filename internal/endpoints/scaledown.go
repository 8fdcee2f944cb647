package endpoints

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// CodeInsufficientCapacity is the code of a cluster change refused because what runs on
// it would no longer fit (the code compute gives the purpose rules' refusals, S5).
const CodeInsufficientCapacity = "InsufficientCapacity"

// placement is what a deployment asks of a compute's nodes: its instances.
type placement struct {
	what string // "deployment 'blue' of endpoint 'ep' (2 × largeinstancetype)"
	t    InstanceType
	n    int
}

// ComputeFits refuses a change of the cluster of compute computeID (a scale-down, a lower
// autoscaler maximum, the autoscaler turned off) after which the cluster's nodes, as next
// describes them, could no longer hold the instances of the online deployments running on
// the compute: they would be left Pending while the deployments go on saying Succeeded
// (QA9 #9). compute calls it (its Config.DeploymentsFit) for a compute's scale and for a
// change made to its cluster (aks scale, aks nodepool scale/update). nil when they fit or
// when no deployment runs there; else a 400 InsufficientCapacity naming them.
//
// Nodes are counted at their allocatable CPU and memory (the VM size less AKS's
// reservations), an autoscaled pool at its maxCount as the deployment capacity check does,
// and instances are placed first fit, biggest first: an estimate that errs on the side of
// accepting, since the other pods of the nodes are not counted.
func (s *Service) ComputeFits(ctx context.Context, computeID string, next *armapi.ManagedCluster) error {
	need, err := s.placementsOn(ctx, computeID)
	if err != nil || len(need) == 0 {
		return err
	}
	rooms := nodeRooms(next, s.cfg.Clusters.VMSizes())
	var milliCPU, memMiB, haveCPU int64
	placed, total := 0, 0
	var names []string
	for _, p := range need {
		placed += place(rooms, p.t, p.n)
		total += p.n
		milliCPU += int64(p.n) * p.t.MilliCPU
		memMiB += int64(p.n) * p.t.MemoryMiB
		names = append(names, p.what)
	}
	if placed == total {
		return nil
	}
	for _, r := range nodeRooms(next, s.cfg.Clusters.VMSizes()) {
		haveCPU += r.MilliCPU
	}
	return arm.Errorf(http.StatusBadRequest, CodeInsufficientCapacity,
		"The online deployments on compute '%s', %s, need %s CPU and %s memory in %d instances; after this change the nodes of cluster '%s' have %s CPU allocatable in %d nodes, which hold only %d of the instances. Scale the deployments down (mlfleet ml online-deployment update --instance-count) or delete them first, or keep more nodes.",
		lastSegment(computeID), strings.Join(names, ", "), cpuString(milliCPU), memString(memMiB), total,
		next.Name, cpuString(haveCPU), len(rooms), placed)
}

// placementsOn lists what the online deployments running on compute computeID ask of its
// nodes, biggest instances first. Deployments it was moved off (formerComputes) do not
// count: their instances there are on their way out.
func (s *Service) placementsOn(ctx context.Context, computeID string) ([]placement, error) {
	id, err := arm.ParseID(computeID)
	if err != nil || len(id.Names) == 0 {
		return nil, nil
	}
	ws := arm.ResourcePath(id.SubscriptionID, id.ResourceGroup, Namespace, "workspaces", id.Names[0])
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Scope: ws, Type: TypeDeployment})
	if err != nil {
		return nil, fmt.Errorf("list deployments of workspace %s: %w", id.Names[0], err)
	}
	var out []placement
	for _, r := range rows {
		var d armapi.OnlineDeployment
		if decode(r, &d) != nil || !strings.EqualFold(d.Properties.Compute, computeID) {
			continue
		}
		// The stored row was validated at PUT; validating a copy derives its instance
		// type and count.
		n, err := validateDeployment(d.Name, &d)
		if err != nil || n.InstanceCount == 0 {
			continue
		}
		did, _ := arm.ParseID(r.ID)
		out = append(out, placement{what: fmt.Sprintf("deployment '%s' of endpoint '%s' (%d × %s)", did.Name(), did.Names[1], n.InstanceCount, n.InstanceType.Name),
			t: n.InstanceType, n: n.InstanceCount})
	}
	slices.SortStableFunc(out, func(a, b placement) int {
		return cmp.Or(cmp.Compare(b.t.MilliCPU, a.t.MilliCPU), cmp.Compare(b.t.MemoryMiB, a.t.MemoryMiB))
	})
	return out, nil
}

// nodeRooms is the allocatable room of the nodes mc's pools have, an autoscaled pool's
// counted up to its maxCount. A pool of a size the catalog does not know (a registered
// cluster's own labels) cannot be sized and is left out.
func nodeRooms(mc *armapi.ManagedCluster, sizes *catalog.VMSizes) []kube.NodeRoom {
	var rooms []kube.NodeRoom
	for _, p := range mc.Properties.AgentPoolProfiles {
		size, ok := sizes.Get(p.VMSize)
		if !ok {
			continue
		}
		count := p.Count
		if p.EnableAutoScaling && p.MaxCount != nil {
			count = max(count, *p.MaxCount)
		}
		version := cmp.Or(p.CurrentOrchestratorVersion, p.OrchestratorVersion, mc.Properties.CurrentKubernetesVersion, mc.Properties.KubernetesVersion)
		milliCPU, memMiB := size.Allocatable(p.MaxPods, version)
		for i := range count {
			rooms = append(rooms, kube.NodeRoom{Name: fmt.Sprintf("%s-%d", p.Name, i), MilliCPU: milliCPU, MemoryMiB: memMiB})
		}
	}
	return rooms
}
