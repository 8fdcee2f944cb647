package mlfleet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// DeploymentLogsRequest is the body of getLogs.
type DeploymentLogsRequest struct {
	// ContainerType is InferenceServer (default) or StorageInitializer.
	ContainerType string `json:"containerType,omitempty"`
	// Tail is the number of lines from the end; nil means all.
	Tail *int `json:"tail,omitempty"`
}

// DeploymentLogs is the answer of getLogs.
type DeploymentLogs struct {
	Content string `json:"content"`
}

func (c *Client) endpointPath(group, workspace, name string) string {
	return c.workspacePath(group, workspace) + "/onlineEndpoints/" + url.PathEscape(name)
}

func (c *Client) deploymentPath(group, workspace, endpoint, name string) string {
	return c.endpointPath(group, workspace, endpoint) + "/deployments/" + url.PathEscape(name)
}

// ComputeID returns the ARM id of a compute of a workspace.
func (c *Client) ComputeID(group, workspace, name string) string {
	return c.computePath(group, workspace, name)
}

// BeginCreateOrUpdateOnlineEndpoint creates or updates an online endpoint; ifNoneMatch
// makes it create only. The poller follows the operation that writes the endpoint into
// its clusters.
func (c *Client) BeginCreateOrUpdateOnlineEndpoint(ctx context.Context, group, workspace, name string, in *OnlineEndpoint, ifNoneMatch bool) (*OnlineEndpoint, *Poller, error) {
	return callOperation[OnlineEndpoint](ctx, c, request{method: http.MethodPut, path: c.endpointPath(group, workspace, name), apiVersion: MachineLearningAPIVersion,
		header: conditionHeader("", ifNoneMatch), body: in})
}

// BeginUpdateOnlineEndpointTraffic sets the traffic split of an endpoint (deployment →
// percent, adding up to 100 or 0), with PATCH.
func (c *Client) BeginUpdateOnlineEndpointTraffic(ctx context.Context, group, workspace, name string, traffic map[string]int) (*Poller, error) {
	body := map[string]any{"properties": map[string]any{"traffic": traffic}}
	return c.operation(ctx, request{method: http.MethodPatch, path: c.endpointPath(group, workspace, name), apiVersion: MachineLearningAPIVersion, body: body})
}

// GetOnlineEndpoint returns an endpoint.
func (c *Client) GetOnlineEndpoint(ctx context.Context, group, workspace, name string) (*OnlineEndpoint, error) {
	return call[OnlineEndpoint](ctx, c, request{method: http.MethodGet, path: c.endpointPath(group, workspace, name), apiVersion: MachineLearningAPIVersion})
}

// ListOnlineEndpoints returns a workspace's endpoints.
func (c *Client) ListOnlineEndpoints(ctx context.Context, group, workspace string) ([]*OnlineEndpoint, error) {
	return listAll[OnlineEndpoint](ctx, c, c.workspacePath(group, workspace)+"/onlineEndpoints", MachineLearningAPIVersion)
}

// BeginDeleteOnlineEndpoint deletes an endpoint with its deployments; the poller is nil
// when there was none.
func (c *Client) BeginDeleteOnlineEndpoint(ctx context.Context, group, workspace, name string) (*Poller, error) {
	return c.operation(ctx, request{method: http.MethodDelete, path: c.endpointPath(group, workspace, name), apiVersion: MachineLearningAPIVersion})
}

// OnlineEndpointKeys returns the keys of an endpoint with authMode Key.
func (c *Client) OnlineEndpointKeys(ctx context.Context, group, workspace, name string) (*EndpointKeys, error) {
	return call[EndpointKeys](ctx, c, request{method: http.MethodPost, path: c.endpointPath(group, workspace, name) + "/listKeys", apiVersion: MachineLearningAPIVersion})
}

// BeginRegenerateOnlineEndpointKeys replaces the Primary or Secondary key (value "" for a
// random one).
func (c *Client) BeginRegenerateOnlineEndpointKeys(ctx context.Context, group, workspace, name, keyType, value string) (*Poller, error) {
	body := map[string]string{"keyType": keyType}
	if value != "" {
		body["keyValue"] = value
	}
	return c.operation(ctx, request{method: http.MethodPost, path: c.endpointPath(group, workspace, name) + "/regenerateKeys", apiVersion: MachineLearningAPIVersion, body: body})
}

// OnlineEndpointToken returns an access token of an endpoint with authMode AMLToken.
func (c *Client) OnlineEndpointToken(ctx context.Context, group, workspace, name string) (*EndpointToken, error) {
	return call[EndpointToken](ctx, c, request{method: http.MethodPost, path: c.endpointPath(group, workspace, name) + "/token", apiVersion: MachineLearningAPIVersion})
}

// BeginCreateOrUpdateOnlineDeployment creates or updates a deployment of an endpoint;
// ifNoneMatch makes it create only. The poller ends when its instances are Ready (or it
// failed).
func (c *Client) BeginCreateOrUpdateOnlineDeployment(ctx context.Context, group, workspace, endpoint, name string, in *OnlineDeployment, ifNoneMatch bool) (*OnlineDeployment, *Poller, error) {
	return callOperation[OnlineDeployment](ctx, c, request{method: http.MethodPut, path: c.deploymentPath(group, workspace, endpoint, name), apiVersion: MachineLearningAPIVersion,
		header: conditionHeader("", ifNoneMatch), body: in})
}

// GetOnlineDeployment returns a deployment.
func (c *Client) GetOnlineDeployment(ctx context.Context, group, workspace, endpoint, name string) (*OnlineDeployment, error) {
	return call[OnlineDeployment](ctx, c, request{method: http.MethodGet, path: c.deploymentPath(group, workspace, endpoint, name), apiVersion: MachineLearningAPIVersion})
}

// ListOnlineDeployments returns an endpoint's deployments.
func (c *Client) ListOnlineDeployments(ctx context.Context, group, workspace, endpoint string) ([]*OnlineDeployment, error) {
	return listAll[OnlineDeployment](ctx, c, c.endpointPath(group, workspace, endpoint)+"/deployments", MachineLearningAPIVersion)
}

// BeginDeleteOnlineDeployment deletes a deployment (refused while it gets traffic); the
// poller is nil when there was none.
func (c *Client) BeginDeleteOnlineDeployment(ctx context.Context, group, workspace, endpoint, name string) (*Poller, error) {
	return c.operation(ctx, request{method: http.MethodDelete, path: c.deploymentPath(group, workspace, endpoint, name), apiVersion: MachineLearningAPIVersion})
}

// OnlineDeploymentLogs returns the inference server's log of a deployment's instances.
func (c *Client) OnlineDeploymentLogs(ctx context.Context, group, workspace, endpoint, name string, in *DeploymentLogsRequest) (*DeploymentLogs, error) {
	if in == nil {
		in = &DeploymentLogsRequest{}
	}
	return call[DeploymentLogs](ctx, c, request{method: http.MethodPost, path: c.deploymentPath(group, workspace, endpoint, name) + "/getLogs", apiVersion: MachineLearningAPIVersion, body: in})
}

// InvokeResult is the answer of a scoring request.
type InvokeResult struct {
	StatusCode int
	Body       []byte
	// Deployment is the deployment that answered (the router's azureml-model-deployment
	// header), "" when the router did not say.
	Deployment string
}

// InvokeOnlineEndpoint posts body (JSON) to an endpoint's scoring URI with its key or
// token; deployment, when set, pins the request to that deployment
// (azureml-model-deployment). It trusts the server's CA, which signs the routers'
// certificates of TLS Auto computes. A non-2xx answer is returned, not an error.
func (c *Client) InvokeOnlineEndpoint(ctx context.Context, scoringURI, credential, deployment string, body []byte) (*InvokeResult, error) {
	if scoringURI == "" {
		return nil, fmt.Errorf("the endpoint has no scoring URI yet (see its properties.mlfleet.message)")
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, scoringURI, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+credential)
	if deployment != "" {
		hr.Header.Set("azureml-model-deployment", deployment)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", scoringURI, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return &InvokeResult{StatusCode: resp.StatusCode, Body: data, Deployment: resp.Header.Get("azureml-model-deployment")}, nil
}
