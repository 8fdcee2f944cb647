package compute

import (
	"context"
	"errors"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// fail is the cleanup of a failed create or attach: what was installed is removed, a
// cluster the create made for this compute is deleted (B2), the cluster claim, the region
// name and the TLS label are released, and the compute is Failed with the reason, so that
// a new create or attach of its name replaces it. Idempotent.
func (s *Service) fail(ctx context.Context, id string, cause error, created bool) error {
	// Bounded, so that a cluster that never answers does not keep the operation from
	// ending Failed; the engine logs a cleanup's error and ends the operation anyway.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := s.getByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var ae *arm.Error
	conflict := errors.As(cause, &ae) && ae.Code == arm.CodeConflict
	if !conflict { // never touch a cluster another compute holds
		if err := s.removeComponents(ctx, c, false); err != nil {
			s.log.Warn("clean up failed compute", "compute", id, "err", err)
		}
	}
	clusterID := deref(c.Properties.ResourceID)
	// The cluster before the rows: while its claim is ours nobody else attaches the
	// cluster being deleted, and a crash in between finds the claim still there to release.
	if created {
		if err := s.deleteCluster(ctx, clusterID, id); err != nil {
			return err
		}
	}
	return s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if clusterID != "" {
			if err := releaseClaim(ctx, tx, attachmentClaimID(clusterID), id); err != nil {
				return err
			}
		}
		if ssl := c.Properties.Properties.SSLConfiguration; ssl != nil && ssl.Status == "Auto" {
			if err := s.releaseLeaf(ctx, tx, c.Properties.ComputeLocation, ssl.LeafDomainLabel, id); err != nil {
				return err
			}
		}
		if err := releaseClaim(ctx, tx, nameClaimID(c.Properties.ComputeLocation, c.Name), id); err != nil {
			return err
		}
		if err := tx.DeleteResource(ctx, tlsSecretID(id), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.modifyIn(ctx, tx, id, func(c *armapi.Compute) {
			c.Properties.ProvisioningState = armapi.StateFailed
			c.Properties.ProvisioningErrors = []armapi.ProvisioningError{{Error: errorDetail(cause)}}
			c.Properties.Mlfleet.Attached = false
		})
	})
}
