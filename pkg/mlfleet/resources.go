package mlfleet

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Workspace is a Machine Learning workspace. A Workspace returned by the Client's
// GetWorkspace, CreateWorkspace or ListWorkspaces is bound to that client: its methods
// (workspace.go) create, attach and find the workspace's inference clusters, as
// azureml-core's Workspace object does.
type Workspace struct {
	armapi.Workspace

	c     *Client
	group string
}

func (c *Client) subPath() string { return "/subscriptions/" + url.PathEscape(c.subscription) }

func (c *Client) groupPath(name string) string {
	return c.subPath() + "/resourceGroups/" + url.PathEscape(name)
}

func (c *Client) workspacePath(group, name string) string {
	return c.groupPath(group) + "/providers/Microsoft.MachineLearningServices/workspaces/" + url.PathEscape(name)
}

// Subscription returns the client's subscription.
func (c *Client) Subscription(ctx context.Context) (*Subscription, error) {
	var s Subscription
	_, err := c.do(ctx, request{method: http.MethodGet, path: c.subPath(), apiVersion: ResourcesAPIVersion}, &s)
	return &s, err
}

// ListSubscriptions returns the subscriptions the caller may read.
func (c *Client) ListSubscriptions(ctx context.Context) ([]*Subscription, error) {
	return listAll[Subscription](ctx, c, "/subscriptions", ResourcesAPIVersion)
}

// TenantID returns the tenant id from the local configuration ("" when unknown).
func (c *Client) TenantID() string { return c.tenant }

// MintToken asks the server for a new token with role ("" = the caller's role) valid for ttl
// (0 = the server's default lifetime; a negative ttl is sent, and refused by the server).
func (c *Client) MintToken(ctx context.Context, role string, ttl time.Duration) (*AccessToken, error) {
	var t AccessToken
	body := map[string]any{"role": role}
	if ttl != 0 {
		body["expiresInSeconds"] = int64(ttl / time.Second)
	}
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/mlfleet/v1/tokens", body: body}, &t)
	return &t, err
}

// CreateResourceGroup creates or updates a resource group.
func (c *Client) CreateResourceGroup(ctx context.Context, name, location string, tags map[string]string) (*ResourceGroup, error) {
	var rg ResourceGroup
	body := map[string]any{"location": location, "tags": tags}
	_, err := c.do(ctx, request{method: http.MethodPut, path: c.groupPath(name), apiVersion: ResourcesAPIVersion, body: body}, &rg)
	return &rg, err
}

// GetResourceGroup returns a resource group.
func (c *Client) GetResourceGroup(ctx context.Context, name string) (*ResourceGroup, error) {
	var rg ResourceGroup
	_, err := c.do(ctx, request{method: http.MethodGet, path: c.groupPath(name), apiVersion: ResourcesAPIVersion}, &rg)
	return &rg, err
}

// ListResourceGroups returns every resource group of the subscription, following pages.
func (c *Client) ListResourceGroups(ctx context.Context) ([]*ResourceGroup, error) {
	return listAll[ResourceGroup](ctx, c, c.subPath()+"/resourceGroups", ResourcesAPIVersion)
}

// ListResourceGroupsByTag returns the resource groups that have the tag name, with the
// value value unless value is "" (any value), following pages. It sends ARM's $filter
// as az group list --tag does.
func (c *Client) ListResourceGroupsByTag(ctx context.Context, name, value string) ([]*ResourceGroup, error) {
	filter := "tagname eq " + odataString(name)
	if value != "" {
		filter += " and tagvalue eq " + odataString(value)
	}
	return listAllQuery[ResourceGroup](ctx, c, c.subPath()+"/resourceGroups", ResourcesAPIVersion, url.Values{"$filter": {filter}})
}

// odataString quotes s as an OData string literal: in single quotes, a quote doubled.
func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// BeginDeleteResourceGroup starts deleting a resource group and everything in it.
func (c *Client) BeginDeleteResourceGroup(ctx context.Context, name string) (*Poller, error) {
	return c.operation(ctx, request{method: http.MethodDelete, path: c.groupPath(name), apiVersion: ResourcesAPIVersion})
}

// GetProvider returns a resource provider namespace (Microsoft.ContainerService, …) and
// the resource types it serves.
func (c *Client) GetProvider(ctx context.Context, namespace string) (*Provider, error) {
	return call[Provider](ctx, c, request{method: http.MethodGet, path: c.subPath() + "/providers/" + url.PathEscape(namespace), apiVersion: ResourcesAPIVersion})
}

// ListProviders returns the resource provider namespaces the server serves.
func (c *Client) ListProviders(ctx context.Context) ([]*Provider, error) {
	return listAll[Provider](ctx, c, c.subPath()+"/providers", ResourcesAPIVersion)
}

// ListResources returns the resources of a resource group, or of the subscription when
// group is "", whatever their type, with their creation and change times and
// provisioning state (as az resource list asks for them).
func (c *Client) ListResources(ctx context.Context, group string) ([]*GenericResource, error) {
	p := c.subPath() + "/resources"
	if group != "" {
		p = c.groupPath(group) + "/resources"
	}
	return listAllQuery[GenericResource](ctx, c, p, ResourcesAPIVersion, url.Values{"$expand": {"createdTime,changedTime,provisioningState"}})
}

// CreateWorkspace creates or updates a workspace; location "" means the group's location.
func (c *Client) CreateWorkspace(ctx context.Context, group, name, location string) (*Workspace, error) {
	if location == "" {
		rg, err := c.GetResourceGroup(ctx, group)
		if err != nil {
			return nil, err
		}
		location = rg.Location
	}
	ws := Workspace{c: c, group: group}
	body := map[string]any{"location": location}
	_, err := c.do(ctx, request{method: http.MethodPut, path: c.workspacePath(group, name), apiVersion: MachineLearningAPIVersion, body: body}, &ws)
	return &ws, err
}

// GetWorkspace returns a workspace, bound to c: azureml-core's Workspace.get.
func (c *Client) GetWorkspace(ctx context.Context, group, name string) (*Workspace, error) {
	ws := Workspace{c: c, group: group}
	_, err := c.do(ctx, request{method: http.MethodGet, path: c.workspacePath(group, name), apiVersion: MachineLearningAPIVersion}, &ws)
	return &ws, err
}

// ListWorkspaces returns the workspaces of a resource group, or of the subscription when
// group is "".
func (c *Client) ListWorkspaces(ctx context.Context, group string) ([]*Workspace, error) {
	p := c.subPath() + "/providers/Microsoft.MachineLearningServices/workspaces"
	if group != "" {
		p = c.groupPath(group) + "/providers/Microsoft.MachineLearningServices/workspaces"
	}
	list, err := listAll[Workspace](ctx, c, p, MachineLearningAPIVersion)
	for _, ws := range list {
		ws.c, ws.group = c, resourceGroupOf(ws.ID)
	}
	return list, err
}

// BeginDeleteWorkspace starts deleting a workspace with everything in it. The poller is nil
// when there was nothing to delete.
func (c *Client) BeginDeleteWorkspace(ctx context.Context, group, name string) (*Poller, error) {
	return c.operation(ctx, request{method: http.MethodDelete, path: c.workspacePath(group, name), apiVersion: MachineLearningAPIVersion})
}

// listAll follows nextLink until the last page.
func listAll[T any](ctx context.Context, c *Client, path, apiVersion string) ([]*T, error) {
	return listAllQuery[T](ctx, c, path, apiVersion, nil)
}

// listAllQuery is listAll with query parameters for the first page (the next links carry
// their own).
func listAllQuery[T any](ctx context.Context, c *Client, path, apiVersion string, query url.Values) ([]*T, error) {
	var all []*T
	req := request{method: http.MethodGet, path: path, apiVersion: apiVersion, query: query}
	for req.path != "" {
		var page List[*T]
		if _, err := c.do(ctx, req, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		req = request{method: http.MethodGet, path: page.NextLink, apiVersion: apiVersion}
	}
	if all == nil {
		all = []*T{}
	}
	return all, nil
}
