package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Get returns a compute, or a 404.
func (s *Service) Get(ctx context.Context, sub, rg, ws, name string) (*armapi.Compute, error) {
	r, err := s.getResource(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	return decode(r)
}

// getResource reads the compute's row first: a compute exists only under its workspace
// and group (a delete removes the deepest rows first), so one read answers when it is
// there; only a miss reads the workspace, for the 404 that names what is missing.
func (s *Service) getResource(ctx context.Context, sub, rg, ws, name string) (*store.Resource, error) {
	r, err := s.cfg.Store.GetResource(ctx, ID(sub, rg, ws, name))
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get compute %s: %w", name, err)
	}
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	return nil, arm.NotFound(arm.CodeResourceNotFound, "Workspace '%s' has no compute named '%s'.", w.Name, name)
}

// GetJSON returns a compute as GET serves it, and its ETag: what Get returns, encoded,
// from a cache of views of unchanged rows.
func (s *Service) GetJSON(ctx context.Context, sub, rg, ws, name string) (json.RawMessage, string, error) {
	r, err := s.getResource(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, "", err
	}
	wire, err := s.views.of(r)
	return wire, arm.ETag(r.Version), err
}

// ListJSON returns a page of a workspace's computes as a list serves them (see List and
// GetJSON), and where the next page starts (see resources.ListPage).
func (s *Service) ListJSON(ctx context.Context, sub, rg, ws string, p resources.Page) ([]json.RawMessage, string, error) {
	rows, next, err := s.listRows(ctx, sub, rg, ws, p)
	if err != nil {
		return nil, "", err
	}
	out, err := resources.DecodeRows(rows, s.views.of)
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// List returns a page of the computes of a workspace, and where the next page starts (see
// resources.ListPage). Computes found prove their workspace exists (see getResource); an empty page reads the
// workspace, for its 404.
func (s *Service) List(ctx context.Context, sub, rg, ws string, p resources.Page) ([]*armapi.Compute, string, error) {
	rows, next, err := s.listRows(ctx, sub, rg, ws, p)
	if err != nil {
		return nil, "", err
	}
	out, err := resources.DecodeRows(rows, decode)
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

func (s *Service) listRows(ctx context.Context, sub, rg, ws string, p resources.Page) ([]*store.Resource, string, error) {
	rows, next, err := resources.ListPage(ctx, s.cfg.Store, store.ListOptions{ParentID: workspaces.ID(sub, rg, ws), Type: TypeCompute}, p)
	if err != nil {
		return nil, "", fmt.Errorf("list computes: %w", err)
	}
	if len(rows) == 0 {
		if _, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws); err != nil {
			return nil, "", err
		}
	}
	return rows, next, nil
}

// Keys returns the kubeconfigs of a compute's cluster (listKeys).
func (s *Service) Keys(ctx context.Context, sub, rg, ws, name string) (*armapi.ComputeKeys, error) {
	mc, err := s.clusterOf(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	creds, err := s.cfg.Clusters.AKSCredentials(ctx, mc)
	if err != nil {
		return nil, err
	}
	return &armapi.ComputeKeys{ComputeType: "AKS", UserKubeConfig: string(creds.User), AdminKubeConfig: string(creds.Admin)}, nil
}

// Nodes returns the live nodes of a compute's cluster (listNodes).
func (s *Service) Nodes(ctx context.Context, sub, rg, ws, name string) (*armapi.ComputeNodes, error) {
	mc, err := s.clusterOf(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()
	kc, err := s.cfg.Clusters.Client(ctx, mc)
	if err != nil {
		return nil, unreachable(mc.Name, err)
	}
	nodes, err := kc.Nodes(ctx, s.cfg.Clusters.VMSizes())
	if err != nil {
		return nil, unreachable(mc.Name, err)
	}
	serving, err := kc.NodesServing(ctx)
	if err != nil {
		return nil, unreachable(mc.Name, err)
	}
	out := &armapi.ComputeNodes{Nodes: []armapi.ComputeNode{}}
	for _, n := range nodes {
		// Azure's node states: a node that runs a model's pods is running, as an
		// AmlCompute node running a job is.
		state := "idle"
		switch {
		case !n.Ready:
			state = "unusable"
		case serving[n.Name]:
			state = "running"
		}
		out.Nodes = append(out.Nodes, armapi.ComputeNode{NodeID: n.Name, PrivateIPAddress: nonEmpty(n.InternalIP), PublicIPAddress: nonEmpty(n.ExternalIP), Port: 22, NodeState: state})
	}
	return out, nil
}

// clusterOf returns the cluster of the compute name (attachedCluster).
func (s *Service) clusterOf(ctx context.Context, sub, rg, ws, name string) (*armapi.ManagedCluster, error) {
	c, err := s.Get(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	return s.attachedCluster(ctx, c)
}

// attachedCluster returns the managed cluster of a compute that has one.
func (s *Service) attachedCluster(ctx context.Context, c *armapi.Compute) (*armapi.ManagedCluster, error) {
	if c.Properties.ResourceID == nil || *c.Properties.ResourceID == "" {
		return nil, arm.Conflict("Compute '%s' has no cluster yet (it is %s).", c.Name, strings.ToLower(c.Properties.ProvisioningState))
	}
	mc, err := s.cfg.Clusters.GetByID(ctx, *c.Properties.ResourceID)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, arm.Conflict("The cluster of compute '%s' (%s) no longer exists; detach the compute.", c.Name, *c.Properties.ResourceID)
	}
	return mc, err
}

func unreachable(cluster string, err error) error {
	return arm.Errorf(http.StatusConflict, "ClusterUnreachable", "Cluster '%s' cannot be reached: %v", cluster, err)
}
