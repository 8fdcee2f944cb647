package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// What runs on a compute (online deployments, another package's) and what takes the compute
// away (Delete, ClusterDeleteAllowed) meet here: a new user calls UseIn in the transaction
// that stores it, a delete asks Config.InUse in its own, and both hold the compute's use
// lock there, so that one of them always sees the other.

// computeUsers lists, in words, what still runs on the compute computeID (Config.InUse),
// read through st; none when nothing is wired to tell.
func (s *Service) computeUsers(ctx context.Context, st store.Store, computeID string) ([]string, error) {
	if s.cfg.InUse == nil || computeID == "" {
		return nil, nil
	}
	users, err := s.cfg.InUse(ctx, st, computeID)
	if err != nil {
		return nil, fmt.Errorf("list what uses compute %s: %w", computeID, err)
	}
	return users, nil
}

// useLock names the lock (store.Store.Lock) that makes starting to use a compute and
// taking it away one after the other: a new deployment takes it in the transaction that
// stores it (UseIn), a detach or delete of the compute (Delete) and a delete of its
// cluster (ClusterDeleteAllowed) take it before they ask Config.InUse. Without it, on
// PostgreSQL each would read the other's rows as they were before both and both commit.
func useLock(computeID string) string { return "compute.use/" + strings.ToLower(computeID) }

// UseIn is for a new user of the compute computeID (an online deployment), in the
// transaction tx that stores the user, before it writes: it takes the compute's use lock
// (useLock) and reads the compute again under it. A compute gone, being detached or
// deleted, or whose cluster is being deleted is a 409 that says so and what to do
// (Leaving), so that nothing starts to run on a compute that is going away. It returns the
// compute as tx reads it.
func (s *Service) UseIn(ctx context.Context, tx store.Store, computeID string) (*armapi.Compute, error) {
	if err := tx.Lock(ctx, useLock(computeID)); err != nil {
		return nil, err
	}
	r, err := tx.GetResource(ctx, computeID)
	if errors.Is(err, store.ErrNotFound) {
		id, _ := arm.ParseID(computeID)
		return nil, arm.Conflict("Compute '%s' was deleted meanwhile; deploy to another compute of the workspace (compute: azureml:<name> in the deployment's YAML).", id.Name()).WithTarget("properties.compute")
	}
	if err != nil {
		return nil, fmt.Errorf("get compute %s: %w", computeID, err)
	}
	c, err := decode(r)
	if err != nil {
		return nil, err
	}
	return c, s.leaving(ctx, tx, c)
}

// Leaving returns the 409 a new user of compute c gets when c is being detached or
// deleted, or its cluster is being deleted, nil otherwise: what UseIn refuses, for the
// checks made before the transaction that stores the user.
func (s *Service) Leaving(ctx context.Context, c *armapi.Compute) error {
	return s.leaving(ctx, s.cfg.Store, c)
}

// leaving is Leaving reading the cluster through st.
func (s *Service) leaving(ctx context.Context, st store.Store, c *armapi.Compute) error {
	if c.Properties.ProvisioningState == armapi.StateDeleting {
		return arm.Conflict("Compute '%s' is being detached or deleted. Deploy to another compute of the workspace (compute: azureml:<name> in the deployment's YAML), or wait until it is gone and attach its cluster again ('mlfleet ml computetarget attach').", c.Name).WithTarget("properties.compute")
	}
	clusterID := deref(c.Properties.ResourceID)
	if clusterID == "" {
		return nil
	}
	mc, err := s.cfg.Clusters.GetByIDIn(ctx, st, clusterID)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return arm.Conflict("Compute '%s' has lost its cluster (%s no longer exists). Deploy to another compute of the workspace, or detach this one and attach an existing cluster.", c.Name, clusterID).WithTarget("properties.compute")
	}
	if err != nil {
		return err
	}
	if mc.Properties.ProvisioningState == armapi.StateDeleting {
		return arm.Conflict("Cluster '%s' of compute '%s' is being deleted. Deploy to another compute of the workspace (compute: azureml:<name> in the deployment's YAML), or wait until it is gone and attach another cluster.", mc.Name, c.Name).WithTarget("properties.compute")
	}
	return nil
}
