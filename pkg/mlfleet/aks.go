package mlfleet

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
)

func (c *Client) clusterPath(group, name string) string {
	return c.groupPath(group) + "/providers/Microsoft.ContainerService/managedClusters/" + url.PathEscape(name)
}

// ClusterOptions make a managed cluster PUT conditional.
type ClusterOptions struct {
	// IfMatch, when set, makes the PUT change the cluster only if its etag is still this
	// one (ManagedCluster.ETag, as last read); otherwise the server answers 412
	// PreconditionFailed and changes nothing. "*" means only if the cluster exists. REST:
	// header If-Match.
	IfMatch string
	// IfNoneMatch makes the PUT create only: if the cluster exists, the server answers 409
	// Conflict and changes nothing (`mlfleet aks create` sets it). REST: header
	// If-None-Match: *.
	IfNoneMatch bool
}

func (o *ClusterOptions) header() http.Header {
	if o == nil {
		return nil
	}
	return conditionHeader(o.IfMatch, o.IfNoneMatch)
}

// BeginCreateManagedCluster creates a managed cluster or changes an existing one:
// BeginCreateOrUpdateManagedCluster without options.
func (c *Client) BeginCreateManagedCluster(ctx context.Context, group, name string, in *ClusterInput) (*ManagedCluster, *Poller, error) {
	return c.BeginCreateOrUpdateManagedCluster(ctx, group, name, in, nil)
}

// BeginCreateOrUpdateManagedCluster creates a managed cluster or changes an existing one:
// with nil opts, whichever the cluster's existence makes it; opts.IfNoneMatch makes it
// create only, opts.IfMatch change only a cluster nobody changed since it was read. It
// returns the cluster as accepted and a poller for the operation (nil when nothing runs).
func (c *Client) BeginCreateOrUpdateManagedCluster(ctx context.Context, group, name string, in *ClusterInput, opts *ClusterOptions) (*ManagedCluster, *Poller, error) {
	return callOperation[ManagedCluster](ctx, c, request{method: http.MethodPut, path: c.clusterPath(group, name), apiVersion: ContainerServiceAPIVersion,
		header: opts.header(), body: in})
}

// BeginImportManagedCluster registers an existing cluster from its kubeconfig (provider
// external); kubeContext "" means the kubeconfig's current context.
func (c *Client) BeginImportManagedCluster(ctx context.Context, group, name, location string, kubeconfig []byte, kubeContext string) (*ManagedCluster, *Poller, error) {
	in := &ClusterInput{Location: location}
	in.Properties.Mlfleet = &MlfleetProperties{Provider: "external", Kubeconfig: base64.StdEncoding.EncodeToString(kubeconfig), Context: kubeContext}
	return c.BeginCreateManagedCluster(ctx, group, name, in)
}

// GetManagedCluster returns a managed cluster.
func (c *Client) GetManagedCluster(ctx context.Context, group, name string) (*ManagedCluster, error) {
	var mc ManagedCluster
	_, err := c.do(ctx, request{method: http.MethodGet, path: c.clusterPath(group, name), apiVersion: ContainerServiceAPIVersion}, &mc)
	return &mc, err
}

// GetAgentPool returns one agent pool of a cluster.
func (c *Client) GetAgentPool(ctx context.Context, group, name, pool string) (*AgentPool, error) {
	var ap AgentPool
	_, err := c.do(ctx, request{method: http.MethodGet, path: c.clusterPath(group, name) + "/agentPools/" + url.PathEscape(pool),
		apiVersion: ContainerServiceAPIVersion}, &ap)
	return &ap, err
}

// GetUpgradeProfile returns the versions a cluster's control plane and agent pools can
// upgrade to.
func (c *Client) GetUpgradeProfile(ctx context.Context, group, name string) (*UpgradeProfile, error) {
	var up UpgradeProfile
	_, err := c.do(ctx, request{method: http.MethodGet, path: c.clusterPath(group, name) + "/upgradeProfiles/default",
		apiVersion: ContainerServiceAPIVersion}, &up)
	return &up, err
}

// ListAgentPools returns the agent pools of a cluster.
func (c *Client) ListAgentPools(ctx context.Context, group, name string) ([]*AgentPool, error) {
	return listAll[AgentPool](ctx, c, c.clusterPath(group, name)+"/agentPools", ContainerServiceAPIVersion)
}

// ListManagedClusters returns the clusters of a group, or of the subscription when group is "".
func (c *Client) ListManagedClusters(ctx context.Context, group string) ([]*ManagedCluster, error) {
	p := c.subPath() + "/providers/Microsoft.ContainerService/managedClusters"
	if group != "" {
		p = c.groupPath(group) + "/providers/Microsoft.ContainerService/managedClusters"
	}
	return listAll[ManagedCluster](ctx, c, p, ContainerServiceAPIVersion)
}

// BeginDeleteManagedCluster starts deleting a cluster; the poller is nil when it did not exist.
func (c *Client) BeginDeleteManagedCluster(ctx context.Context, group, name string) (*Poller, error) {
	return c.operation(ctx, request{method: http.MethodDelete, path: c.clusterPath(group, name), apiVersion: ContainerServiceAPIVersion})
}

// BeginScaleAgentPool sets the node count of a pool.
func (c *Client) BeginScaleAgentPool(ctx context.Context, group, name, pool string, count int) (*AgentPool, *Poller, error) {
	var body AgentPoolPut
	body.Properties.Count = &count
	return c.BeginUpdateAgentPool(ctx, group, name, pool, body)
}

// BeginUpdateAgentPool changes one agent pool as the body says (count, autoscaling and its
// bounds). The poller is nil when nothing had to run in the background.
func (c *Client) BeginUpdateAgentPool(ctx context.Context, group, name, pool string, body AgentPoolPut) (*AgentPool, *Poller, error) {
	return callOperation[AgentPool](ctx, c, request{method: http.MethodPut, path: c.clusterPath(group, name) + "/agentPools/" + url.PathEscape(pool),
		apiVersion: ContainerServiceAPIVersion, body: body})
}

// ClusterCredentials returns the cluster's kubeconfig: cluster-admin when admin, else the
// cluster user's.
func (c *Client) ClusterCredentials(ctx context.Context, group, name string, admin bool) ([]byte, error) {
	action := "/listClusterUserCredential"
	if admin {
		action = "/listClusterAdminCredential"
	}
	var res CredentialResults
	if _, err := c.do(ctx, request{method: http.MethodPost, path: c.clusterPath(group, name) + action, apiVersion: ContainerServiceAPIVersion}, &res); err != nil {
		return nil, err
	}
	if len(res.Kubeconfigs) == 0 {
		return nil, &Error{Code: "NoCredentials", Message: "the server returned no kubeconfig"}
	}
	return res.Kubeconfigs[0].Value, nil
}

// KubernetesVersions returns the Kubernetes versions of a location (newest first).
func (c *Client) KubernetesVersions(ctx context.Context, location string) (*Orchestrators, error) {
	var o Orchestrators
	_, err := c.do(ctx, request{method: http.MethodGet, path: c.subPath() + "/providers/Microsoft.ContainerService/locations/" + url.PathEscape(location) + "/orchestrators",
		apiVersion: "2019-08-01", query: url.Values{"resource-type": {"managedClusters"}}}, &o)
	return &o, err
}

func (c *Client) policyPath(name string) string {
	return c.subPath() + "/providers/Microsoft.Authorization/policyAssignments/" + url.PathEscape(name)
}

// CreatePolicyAssignment assigns a policy definition to the subscription.
func (c *Client) CreatePolicyAssignment(ctx context.Context, name, definition, displayName string, parameters map[string]any) (*PolicyAssignment, error) {
	body := map[string]any{"properties": map[string]any{"policyDefinitionId": definition, "displayName": displayName, "parameters": parameters}}
	var a PolicyAssignment
	_, err := c.do(ctx, request{method: http.MethodPut, path: c.policyPath(name), apiVersion: "2022-06-01", body: body}, &a)
	return &a, err
}

// ListPolicyAssignments lists the subscription's policy assignments.
func (c *Client) ListPolicyAssignments(ctx context.Context) ([]*PolicyAssignment, error) {
	return listAll[PolicyAssignment](ctx, c, c.subPath()+"/providers/Microsoft.Authorization/policyAssignments", "2022-06-01")
}

// DeletePolicyAssignment removes a policy assignment.
func (c *Client) DeletePolicyAssignment(ctx context.Context, name string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: c.policyPath(name), apiVersion: "2022-06-01"}, nil)
	return err
}
