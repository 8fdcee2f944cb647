package containerservice

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/quota"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Quotas are counted here, where the clusters are: a cluster uses one managed cluster and,
// per agent pool, nodes × the vCPUs of its VM size, under the regional total and its VM
// family. What counts is what this server runs: every cluster of an embedded-like provider
// (one that creates clusters) in the subscription and region, including those being created,
// updated (at the larger of the old and the new node count) or deleted (their API server
// runs until the delete finishes). A cluster whose create failed counts for nothing: its
// cleanup destroyed what was made. Registered clusters (provider external) run elsewhere and
// count toward no quota.
//
// A create or scale counts and writes in one store transaction, after Store.Lock of the
// subscription and region: concurrent requests then check one after the other, each seeing
// what the previous one wrote, so together they never go past a limit.

// Usages returns the quotas of subscription sub in location (a region name) with their use,
// as GET …/providers/Microsoft.Compute/locations/{loc}/usages answers.
func (s *Service) Usages(ctx context.Context, sub, location string) ([]armapi.Usage, error) {
	use, err := s.usage(ctx, s.cfg.Store, sub, location, "")
	if err != nil {
		return nil, err
	}
	return quota.Usages(s.cfg.Quotas.For(sub, location), use, s.cfg.VMSizes.Families()), nil
}

// CheckScale tells, without writing anything, whether setting the node count of pool to
// count keeps cluster mc within its quotas: nil, or the 400 QuotaExceeded the scale would
// get. The scale itself checks again, atomically.
func (s *Service) CheckScale(ctx context.Context, mc *armapi.ManagedCluster, pool string, count int) error {
	id, err := arm.ParseID(mc.ID)
	if err != nil {
		return fmt.Errorf("parse cluster id %s: %w", mc.ID, err)
	}
	return s.checkQuota(ctx, s.cfg.Store, id.SubscriptionID, mc.Location, s.scaleRequest(mc, map[string]int{pool: count}), "")
}

// quotaLock names the store lock that serialises the quota checks of subscription sub in
// location.
func quotaLock(sub, location string) string {
	return "quota/" + strings.ToLower(sub) + "/" + location
}

// reserve checks, inside transaction tx, that request fits in the quotas of subscription
// sub in location besides what is used there, leaving out the cluster with id exclude (the
// one being created, already written in tx). It holds the quota lock until tx ends, so the
// write tx makes for request is in every later count. A request that adds nothing is not
// checked: a scale-down must go through even in a region already over a quota that was
// lowered since, since it is the way back under it.
func (s *Service) reserve(ctx context.Context, tx store.Store, sub, location string, request quota.Amount, exclude string) error {
	if !raises(request) {
		return nil
	}
	if err := tx.Lock(ctx, quotaLock(sub, location)); err != nil {
		return err
	}
	return s.checkQuota(ctx, tx, sub, location, request, exclude)
}

// checkQuota compares request with the quotas of sub in location and what is used there,
// read through st.
func (s *Service) checkQuota(ctx context.Context, st store.Store, sub, location string, request quota.Amount, exclude string) error {
	if !raises(request) {
		return nil
	}
	use, err := s.usage(ctx, st, sub, location, exclude)
	if err != nil {
		return err
	}
	return quota.Check(s.cfg.Quotas.For(sub, location), location, use, request)
}

func raises(a quota.Amount) bool {
	for _, n := range a {
		if n > 0 {
			return true
		}
	}
	return false
}

// usage counts what the clusters of subscription sub in location use of the quotas, read
// through st, leaving out the cluster with id exclude ("" = none).
func (s *Service) usage(ctx context.Context, st store.Store, sub, location, exclude string) (quota.Amount, error) {
	rows, err := st.ListResources(ctx, store.ListOptions{Scope: arm.SubscriptionPath(sub), Type: TypeManagedCluster})
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	use := quota.Amount{}
	for _, r := range rows {
		if r.Location != location || strings.EqualFold(r.ID, exclude) {
			continue
		}
		mc, err := decode(r)
		if err != nil {
			return nil, err
		}
		if !s.counted(mc) {
			continue
		}
		var pending map[string]int
		if mc.Properties.ProvisioningState == armapi.StateUpdating {
			if pending, err = s.pendingCounts(ctx, st, r.ID); err != nil {
				return nil, err
			}
		}
		s.add(use, mc, pending)
	}
	return use, nil
}

// counted says whether a cluster counts toward the quotas (see the top of this file).
func (s *Service) counted(mc *armapi.ManagedCluster) bool {
	return s.providerInfo(mc.Properties.Mlfleet.Provider).CanCreate && mc.Properties.ProvisioningState != armapi.StateFailed
}

// add counts cluster mc into a, each pool at the larger of its count and its pending
// count (a scale under way).
func (s *Service) add(a quota.Amount, mc *armapi.ManagedCluster, pending map[string]int) {
	a.AddCluster()
	for _, p := range mc.Properties.AgentPoolProfiles {
		if vm, ok := s.cfg.VMSizes.Get(p.VMSize); ok {
			a.AddVCPUs(vm.Family, max(p.Count, pending[p.Name])*vm.Cores)
		}
	}
}

// createRequest is what creating cluster mc asks of the quotas; nothing for a cluster
// that is not counted.
func (s *Service) createRequest(mc *armapi.ManagedCluster) quota.Amount {
	a := quota.Amount{}
	if s.counted(mc) {
		s.add(a, mc, nil)
	}
	return a
}

// scaleRequest is what setting the node counts of mc's pools to counts (by pool name)
// asks of the quotas: the vCPUs of the nodes added, less those removed.
func (s *Service) scaleRequest(mc *armapi.ManagedCluster, counts map[string]int) quota.Amount {
	a := quota.Amount{}
	if !s.counted(mc) {
		return a
	}
	for _, p := range mc.Properties.AgentPoolProfiles {
		n, ok := counts[p.Name]
		if !ok {
			continue
		}
		if vm, ok := s.cfg.VMSizes.Get(p.VMSize); ok {
			a.AddVCPUs(vm.Family, (n-p.Count)*vm.Cores)
		}
	}
	return a
}

// pendingCounts returns the node counts the update operation running on cluster id is
// taking its pools to (none when no update runs).
func (s *Service) pendingCounts(ctx context.Context, st store.Store, id string) (map[string]int, error) {
	ops, err := st.ListOperations(ctx, store.OperationFilter{ResourceID: id, Status: store.StatusInProgress})
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	for _, op := range ops {
		if op.Kind != KindUpdate {
			continue
		}
		var in updateOp
		if err := json.Unmarshal(op.Input, &in); err != nil {
			return nil, fmt.Errorf("decode operation %s: %w", op.ID, err)
		}
		return in.Counts, nil
	}
	return nil, nil
}

// QuotaRoom returns what the quotas of cluster mc's subscription and region still leave
// for nodes to be added (by its autoscaler): nil, leaving everything, when mc counts
// toward no quota (a registered cluster). Read-only; the scale itself checks again.
func (s *Service) QuotaRoom(ctx context.Context, mc *armapi.ManagedCluster) (*quota.Room, error) {
	if !s.counted(mc) {
		return nil, nil
	}
	id, err := arm.ParseID(mc.ID)
	if err != nil {
		return nil, fmt.Errorf("parse cluster id %s: %w", mc.ID, err)
	}
	use, err := s.usage(ctx, s.cfg.Store, id.SubscriptionID, mc.Location, "")
	if err != nil {
		return nil, err
	}
	return quota.NewRoom(s.cfg.Quotas.For(id.SubscriptionID, mc.Location), use), nil
}
