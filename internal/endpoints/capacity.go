package endpoints

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/quota"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// fit places count instances of t on the nodes, first fit, and returns how many fit. It
// is an estimate of what the scheduler will do, not a copy of it: first fit may place
// fewer than a better packing would.
func fit(rooms []kube.NodeRoom, t InstanceType, count int) int {
	return place(append([]kube.NodeRoom(nil), rooms...), t, count)
}

// place is fit that takes the room of the instances it places from rooms, so that the
// instances of several deployments can be placed in turn.
func place(rooms []kube.NodeRoom, t InstanceType, count int) int {
	placed := 0
	for range count {
		i := slices.IndexFunc(rooms, func(r kube.NodeRoom) bool { return r.MilliCPU >= t.MilliCPU && r.MemoryMiB >= t.MemoryMiB })
		if i < 0 {
			break
		}
		rooms[i].MilliCPU -= t.MilliCPU
		rooms[i].MemoryMiB -= t.MemoryMiB
		placed++
	}
	return placed
}

// checkCapacity answers a 400 naming the shortfall when the deployment's instances fit
// neither the compute's nodes as they are nor the nodes its autoscaled pools may add.
func (s *Service) checkCapacity(ctx context.Context, c *armapi.Compute, endpoint, name string, n normalized) error {
	computeID := c.ID
	kc, err := s.connect(ctx, computeID)
	if err != nil {
		return err
	}
	// The deployment's own pods are not counted as using room (Room leaves out pods with
	// these labels): an update replaces them, so their room is the new instances'.
	rooms, err := kc.Room(ctx, InstanceLabels(endpoint, name))
	// An unreachable cluster is a 409 the caller may retry, not a 400: nothing in the
	// request is wrong.
	if err != nil {
		return arm.Errorf(409, arm.CodeConflict, "The cluster of compute '%s' could not be asked for its capacity (%v); retry when it is reachable.", lastSegment(computeID), err)
	}
	if fit(rooms, n.InstanceType, n.InstanceCount) == n.InstanceCount {
		return nil
	}
	// Nodes the autoscaler may add count as room: instances left pending make it scale up.
	mc, err := s.cfg.Clusters.GetByID(ctx, *c.Properties.ResourceID)
	if err != nil {
		return err
	}
	// The autoscaler adds nodes only within the subscription's vCPU quotas in the region:
	// growth beyond them would leave the instances Pending until the wait times out.
	room, err := s.cfg.Clusters.QuotaRoom(ctx, mc)
	if err != nil {
		return err
	}
	return capacityRefusal(rooms, mc, s.cfg.Clusters.VMSizes(), room, n, lastSegment(computeID))
}

// capacityRefusal answers nil when the instances fit rooms and the nodes mc's autoscaled
// pools may still add, else a 400 naming the shortfall and what the user can change.
// Pools grow only as far as the subscription's vCPU quotas in the region leave room
// (quotas; nil leaves everything), as the autoscaler does (QA9 #8): nodes the quota
// stops would leave the instances Pending until the deployment's wait times out.
// A node the autoscaler may add is sized by what it will have allocatable, as the
// cluster autoscaler sizes it from its node template (the VM size less AKS's
// reservations), not by the VM's full cores and memory.
func capacityRefusal(rooms []kube.NodeRoom, mc *armapi.ManagedCluster, sizes *catalog.VMSizes, quotas *quota.Room, n normalized, compute string) error {
	grown := append([]kube.NodeRoom(nil), rooms...)
	var autoscaled, blocked, capped []string
	for _, p := range mc.Properties.AgentPoolProfiles {
		if !p.EnableAutoScaling || p.MaxCount == nil {
			continue
		}
		if *p.MaxCount <= p.Count {
			autoscaled = append(autoscaled, fmt.Sprintf("%s is at its maximum of %d nodes", p.Name, *p.MaxCount))
			continue
		}
		// Instances tolerate no taint: nodes the pool adds would not take them.
		if taint := blockingTaint(p.NodeTaints); taint != "" {
			blocked = append(blocked, fmt.Sprintf("%s (taint %s)", p.Name, taint))
			continue
		}
		// A pool of a size the catalog does not know (a registered cluster's own
		// labels) cannot be sized, so its new nodes are not counted.
		size, ok := sizes.Get(p.VMSize)
		if !ok {
			continue
		}
		version := cmp.Or(p.CurrentOrchestratorVersion, p.OrchestratorVersion, mc.Properties.CurrentKubernetesVersion, mc.Properties.KubernetesVersion)
		milliCPU, memMiB := size.Allocatable(p.MaxPods, version)
		added := 0
		for range *p.MaxCount - p.Count {
			if !quotas.Take(size.Family, size.Cores) {
				break
			}
			grown = append(grown, kube.NodeRoom{Name: p.Name + " (new node)", MilliCPU: milliCPU, MemoryMiB: memMiB})
			added++
		}
		if added < *p.MaxCount-p.Count {
			capped = append(capped, fmt.Sprintf("%s may grow to %d nodes, but the vCPU quota leaves room for %d more (%s)", p.Name, *p.MaxCount, added, quotas.Describe(size.Family)))
			continue
		}
		autoscaled = append(autoscaled, fmt.Sprintf("%s may grow to %d nodes", p.Name, *p.MaxCount))
	}
	placed := fit(grown, n.InstanceType, n.InstanceCount)
	if placed == n.InstanceCount {
		return nil
	}
	short := n.InstanceCount - placed
	var free []string
	for _, r := range rooms {
		free = append(free, fmt.Sprintf("%s %s CPU/%s", r.Name, cpuString(max(r.MilliCPU, 0)), memString(max(r.MemoryMiB, 0))))
	}
	where := "no Ready node"
	if len(free) > 0 {
		where = "free: " + strings.Join(free, ", ")
	}
	scale := "scale its node pool (mlfleet aks nodepool scale) or enable its autoscaler (mlfleet aks nodepool update --enable-cluster-autoscaler)"
	if len(autoscaled) > 0 {
		scale = "raise the autoscaler's maximum (mlfleet aks nodepool update --update-cluster-autoscaler --max-count; " + strings.Join(autoscaled, ", ") + ")"
	}
	if len(capped) > 0 {
		scale = "raise the subscription's vCPU quota in " + mc.Location + " (mlfleet serve --quota-file; 'mlfleet vm list-usage -l " + mc.Location + " -o table' shows the use) or free vCPUs there: " + strings.Join(capped, ", ")
		if len(autoscaled) > 0 {
			scale += "; or raise the autoscaler's maximum (mlfleet aks nodepool update --update-cluster-autoscaler --max-count; " + strings.Join(autoscaled, ", ") + ")"
		}
	}
	if len(blocked) > 0 {
		scale += ". Instances tolerate no taint, so the autoscaled pool " + strings.Join(blocked, ", ") + " adds no room for them"
	}
	return arm.BadRequest(arm.CodeUserError,
		"%d instances of %s do not fit compute '%s': only %d fit (%s); short by %d instances (%s CPU, %s memory). Lower the instance count, pick a smaller instanceType, or %s.",
		n.InstanceCount, n.InstanceType, compute, placed, where, short,
		cpuString(int64(short)*n.InstanceType.MilliCPU), memString(int64(short)*n.InstanceType.MemoryMiB), scale).WithTarget("sku.capacity")
}

// blockingTaint returns the first of a pool's taints ("key=value:Effect", as AKS writes
// them) that keeps pods without tolerations off its nodes (NoSchedule, NoExecute), or "".
func blockingTaint(taints []string) string {
	for _, t := range taints {
		if strings.HasSuffix(t, ":NoSchedule") || strings.HasSuffix(t, ":NoExecute") {
			return t
		}
	}
	return ""
}

func lastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }
