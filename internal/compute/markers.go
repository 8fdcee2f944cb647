package compute

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// SweepMarkers removes, from every running cluster this server knows, an attachment marker
// (and the components labelled with its attachment) whose compute this server no longer
// has: what a compute deleted while its cluster could not be reached leaves behind, and
// what would otherwise keep the cluster "attached by another control plane" forever. A
// marker of a compute of another server (a subscription this one does not have) is left
// alone, as is any cluster on which an operation runs. Returns how many it removed; a
// cluster that cannot be reached is skipped until the next sweep.
func (s *Service) SweepMarkers(ctx context.Context) (int, error) {
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Type: containerservice.TypeManagedCluster})
	if err != nil {
		return 0, fmt.Errorf("list clusters: %w", err)
	}
	removed := 0
	for _, r := range rows {
		if ctx.Err() != nil {
			return removed, ctx.Err()
		}
		mc, err := s.cfg.Clusters.GetByID(ctx, r.ID)
		if err != nil || mc.Properties.ProvisioningState != armapi.StateSucceeded {
			continue
		}
		n, err := s.sweepMarker(ctx, mc)
		if err != nil {
			s.log.Debug("marker sweep skipped a cluster", "cluster", mc.ID, "err", err)
			continue
		}
		removed += n
	}
	return removed, nil
}

func (s *Service) sweepMarker(ctx context.Context, mc *armapi.ManagedCluster) (int, error) {
	if busy, err := s.operationsOn(ctx, mc.ID); err != nil || busy {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()
	kc, err := s.cfg.Clusters.Client(ctx, mc)
	if err != nil {
		return 0, err
	}
	m, err := kc.Marker(ctx)
	if err != nil || m == nil || m.ComputeID == "" {
		return 0, err
	}
	orphan, err := s.orphanMarker(ctx, mc, m)
	if err != nil || !orphan {
		return 0, err
	}
	if err := kc.Remove(ctx, m.AttachmentID); err != nil {
		return 0, err
	}
	s.log.Info("removed an orphaned attachment from a cluster", "cluster", mc.ID, "attachment", m.AttachmentID, "compute", m.ComputeID)
	return 1, nil
}

// orphanMarker says whether marker m in cluster mc belongs to a compute of this server that
// no longer holds the cluster.
func (s *Service) orphanMarker(ctx context.Context, mc *armapi.ManagedCluster, m *kube.Marker) (bool, error) {
	id, err := arm.ParseID(m.ComputeID)
	if err != nil {
		return false, nil
	}
	if _, err := s.cfg.Store.GetResource(ctx, arm.SubscriptionPath(id.SubscriptionID)); errors.Is(err, store.ErrNotFound) {
		return false, nil // another control plane's
	} else if err != nil {
		return false, err
	}
	holder, err := s.attachmentHolder(ctx, mc.ID)
	if err != nil {
		return false, err
	}
	if holder != "" {
		if hr, err := s.cfg.Store.GetResource(ctx, holder); err == nil {
			if c, err := decode(hr); err == nil && c.Properties.Mlfleet.AttachmentID == m.AttachmentID {
				return false, nil
			}
		}
	}
	r, err := s.cfg.Store.GetResource(ctx, m.ComputeID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	c, err := decode(r)
	if err != nil {
		return false, err
	}
	return !holdsMarker(c, mc, m), nil
}

// holdsMarker says whether compute c, which exists, is the attachment marker m in cluster
// mc stands for: the same attachment, on the same cluster. The same cluster is the one
// with the same kube-system UID when both records have it, since one API server may be
// registered under two ids (created, and imported by its kubeconfig) and its compute
// attached through either: comparing ids would sweep a live attachment through the other
// registration. Only records from before the UID was kept are compared by id.
func holdsMarker(c *armapi.Compute, mc *armapi.ManagedCluster, m *kube.Marker) bool {
	if c.Properties.Mlfleet == nil || c.Properties.Mlfleet.AttachmentID != m.AttachmentID {
		return false
	}
	if uid := c.Properties.Mlfleet.ClusterUID; uid != "" && m.ClusterUID != "" {
		return uid == m.ClusterUID
	}
	return strings.EqualFold(deref(c.Properties.ResourceID), mc.ID)
}

// operationsOn reports whether an operation runs on the resource id.
func (s *Service) operationsOn(ctx context.Context, id string) (bool, error) {
	ops, err := running(ctx, s.cfg.Store, id)
	return len(ops) > 0, err
}
