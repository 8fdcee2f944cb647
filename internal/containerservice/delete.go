package containerservice

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Delete starts deleting a cluster; nil, nil when it does not exist (ARM answers a DELETE
// of a missing resource with 204, unless If-Match asked for one to exist).
func (s *Service) Delete(ctx context.Context, sub, rg, name string, pre arm.Preconditions) (*store.Operation, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Code == arm.CodeResourceNotFound {
		if err := pre.CheckIfMatch(fmt.Sprintf("Managed cluster '%s'", name), false, ""); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var op *store.Operation
	// The etag is checked in the transaction that starts the delete, so that a change
	// committed between the check and the delete cannot slip under If-Match; the guard
	// too, so that what it refuses for cannot appear between its check and the delete.
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		r, err := tx.GetResource(ctx, mc.ID)
		if err != nil {
			return err
		}
		if guard := s.cfg.DeleteGuard; guard != nil {
			if err := guard(ctx, tx, mc); err != nil {
				return err
			}
		}
		if err := pre.CheckIfMatch(fmt.Sprintf("Managed cluster '%s'", name), true, arm.ETag(r.Version)); err != nil {
			return err
		}
		op, err = s.cfg.Resources.StartDeleteIn(ctx, tx, mc.ID, sub)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Engine.Wake()
	return op, nil
}

// DeleteFor starts deleting the cluster clusterID on behalf of compute computeID, only if
// that compute created it (CreatedFor). It returns nil, nil when the cluster is gone or is
// not the compute's to delete: a cluster mlfleet did not create for that compute is never
// deleted by it (S3, N7).
func (s *Service) DeleteFor(ctx context.Context, clusterID, computeID string) (*store.Operation, error) {
	var op *store.Operation
	err := s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		r, mc, err := stored(ctx, tx, clusterID)
		if err != nil || mc == nil {
			return err
		}
		if !strings.EqualFold(mc.Properties.Mlfleet.CreatedFor, computeID) {
			s.log.Info("cluster not deleted: the compute did not create it", "cluster", clusterID, "compute", computeID, "createdFor", mc.Properties.Mlfleet.CreatedFor)
			return nil
		}
		op, err = s.cfg.Resources.StartDeleteIn(ctx, tx, clusterID, r.SubscriptionID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if op != nil {
		s.cfg.Engine.Wake()
	}
	return op, nil
}

// Disown makes a cluster that compute computeID created the user's: the compute is going
// away without it (detach). Nothing when the compute did not create it. st may be a
// transaction.
//
// A detach must not delete the cluster (S3), but createdFor left in place would let a
// later compute of the same id (the user re-creates "myaks") delete a cluster it never
// made; clearing it makes the cluster like any the user created with az aks.
func (s *Service) Disown(ctx context.Context, st store.Store, clusterID, computeID string) error {
	_, err := store.Modify(ctx, st, clusterID, func(r *store.Resource) error {
		mc, err := decode(r)
		if err != nil {
			return err
		}
		if !strings.EqualFold(mc.Properties.Mlfleet.CreatedFor, computeID) {
			return errNoChange
		}
		mc.Properties.Mlfleet.CreatedFor = ""
		r.Body = clusterRecord.Encode(mc)
		return nil
	})
	if errors.Is(err, errNoChange) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// errNoChange stops a store.Modify that has nothing to write.
var errNoChange = errors.New("no change")

// deleteCluster is the cascade deleter of managed clusters: the provider destroys (or
// forgets) the cluster, then the resource goes.
func (s *Service) deleteCluster(ctx context.Context, run *operations.Run, r *store.Resource) error {
	mc, err := decode(r)
	if err != nil {
		return err
	}
	if prov, err := s.provider(mc.Properties.Mlfleet.Provider); err == nil {
		// Under the cluster's lock, so that a resume of it cannot start it again meanwhile.
		unlock := s.locks.lock(r.ID)
		err := prov.Delete(ctx, mc.Properties.Mlfleet.ClusterID)
		unlock()
		s.clients.Forget(mc.Properties.Mlfleet.ClusterID)
		if err != nil {
			return providerError("delete cluster "+mc.Name, err)
		}
	}
	// The cluster's rows (its sealed kubeconfig, its attachment claim) go with it, together.
	// Unconditionally (version 0): the cascading delete holds the row Deleting, nobody
	// else writes it now, and a rerun after a crash must find nothing left to fail on.
	return s.cfg.Store.InTx(ctx, func(tx store.Store) error { return removeRows(ctx, tx, r, 0) })
}
