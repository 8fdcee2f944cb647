package mlfleet

import (
	"context"
	"net/http"
	"net/url"
)

// ComputeOptions change how a compute PUT is handled.
type ComputeOptions struct {
	// Force lets an attach take a cluster that is attached elsewhere: the previous
	// attachment is detached first (S11). REST: query force=true.
	Force bool
	// IfMatch, when set, makes the PUT change the compute only if its etag is still this
	// one (Compute.ETag, as last read): if somebody changed the compute since, the server
	// answers 412 PreconditionFailed and changes nothing. "*" means only if the compute
	// exists. REST: header If-Match.
	IfMatch string
	// IfNoneMatch makes the PUT create only: if the compute exists, the server answers 409
	// Conflict and changes nothing. Workspace.CreateAKS and AttachAKS set it. REST: header
	// If-None-Match: *.
	IfNoneMatch bool
}

func (c *Client) computePath(group, workspace, name string) string {
	return c.workspacePath(group, workspace) + "/computes/" + url.PathEscape(name)
}

func (o *ComputeOptions) header() http.Header {
	if o == nil {
		return nil
	}
	return conditionHeader(o.IfMatch, o.IfNoneMatch)
}

func (o *ComputeOptions) query(validate bool) url.Values {
	q := url.Values{}
	if o != nil && o.Force {
		q.Set("force", "true")
	}
	if validate {
		q.Set("validateOnly", "true")
	}
	return q
}

// BeginCreateOrUpdateCompute creates (no resourceId), attaches (resourceId of a managed
// cluster) or updates a compute: with nil opts, whichever the compute's existence makes
// it; opts.IfNoneMatch makes it create or attach only, opts.IfMatch update only a compute
// nobody changed since it was read. It returns the compute as accepted, with any warnings
// in Properties.Mlfleet.Warnings, and a poller for the operation.
func (c *Client) BeginCreateOrUpdateCompute(ctx context.Context, group, workspace, name string, in *Compute, opts *ComputeOptions) (*Compute, *Poller, error) {
	return callOperation[Compute](ctx, c, request{method: http.MethodPut, path: c.computePath(group, workspace, name), apiVersion: MachineLearningAPIVersion,
		query: opts.query(false), header: opts.header(), body: in})
}

// ValidateCompute runs every check of a create or attach without changing anything
// (validateOnly, B1). Failed checks come back as an *Error with one detail per failure.
func (c *Client) ValidateCompute(ctx context.Context, group, workspace, name string, in *Compute, opts *ComputeOptions) (*ComputeValidation, error) {
	return call[ComputeValidation](ctx, c, request{method: http.MethodPut, path: c.computePath(group, workspace, name), apiVersion: MachineLearningAPIVersion,
		query: opts.query(true), header: opts.header(), body: in})
}

// GetCompute returns a compute.
func (c *Client) GetCompute(ctx context.Context, group, workspace, name string) (*Compute, error) {
	return call[Compute](ctx, c, request{method: http.MethodGet, path: c.computePath(group, workspace, name), apiVersion: MachineLearningAPIVersion})
}

// ListComputes returns every compute of a workspace.
func (c *Client) ListComputes(ctx context.Context, group, workspace string) ([]*Compute, error) {
	return listAll[Compute](ctx, c, c.workspacePath(group, workspace)+"/computes", MachineLearningAPIVersion)
}

// BeginDeleteCompute detaches (ActionDetach) or deletes (ActionDelete) a compute. The
// poller is nil when the compute did not exist.
func (c *Client) BeginDeleteCompute(ctx context.Context, group, workspace, name, action string) (*Poller, error) {
	return c.operation(ctx, request{method: http.MethodDelete, path: c.computePath(group, workspace, name), apiVersion: MachineLearningAPIVersion,
		query: url.Values{"underlyingResourceAction": {action}}})
}

// ComputeKeys returns the kubeconfigs of a compute's cluster.
func (c *Client) ComputeKeys(ctx context.Context, group, workspace, name string) (*ComputeKeys, error) {
	return call[ComputeKeys](ctx, c, request{method: http.MethodPost, path: c.computePath(group, workspace, name) + "/listKeys", apiVersion: MachineLearningAPIVersion})
}

// ComputeNodes returns the nodes of a compute's cluster.
func (c *Client) ComputeNodes(ctx context.Context, group, workspace, name string) ([]ComputeNode, error) {
	var out ComputeNodes
	_, err := c.do(ctx, request{method: http.MethodPost, path: c.computePath(group, workspace, name) + "/listNodes", apiVersion: MachineLearningAPIVersion}, &out)
	if err != nil {
		return nil, err
	}
	return out.Nodes, nil
}

// CheckComputeName says whether name can be used for a new compute of the workspace: it
// follows the naming rules and is taken neither in the workspace nor in the region (S4).
func (c *Client) CheckComputeName(ctx context.Context, group, workspace, name string) (*NameAvailability, error) {
	body := map[string]string{"name": name, "type": "Microsoft.MachineLearningServices/workspaces/computes"}
	return call[NameAvailability](ctx, c, request{method: http.MethodPost, path: c.workspacePath(group, workspace) + "/checkComputeNameAvailability",
		apiVersion: MachineLearningAPIVersion, body: body})
}

// AKSResourceID returns the ARM id of a managed cluster of this client's subscription.
func (c *Client) AKSResourceID(group, cluster string) string {
	return "/subscriptions/" + c.subscription + "/resourceGroups/" + group + "/providers/Microsoft.ContainerService/managedClusters/" + cluster
}
