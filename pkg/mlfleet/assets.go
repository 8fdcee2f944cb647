package mlfleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Asset kinds: the collection names of models, code and environments in a workspace.
const (
	AssetModels       = "models"
	AssetCodes        = "codes"
	AssetEnvironments = "environments"
)

// UploadBlob stores r's content in the server's content-addressed blob store, under a
// workspace (which needs write access). The server refuses content over its
// --max-upload-size with 413.
func (c *Client) UploadBlob(ctx context.Context, group, workspace string, r io.Reader) (*Blob, error) {
	u, err := c.resolve(request{path: c.workspacePath(group, workspace) + "/blobs", apiVersion: MachineLearningAPIVersion})
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPut, u, r)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	hr.Header.Set("Authorization", "Bearer "+c.token)
	hr.Header.Set("Content-Type", "application/octet-stream")
	hr.Header.Set("User-Agent", "mlfleet-go-sdk")
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode >= 300 {
		return nil, newError(resp, data)
	}
	var out Blob
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decode upload answer: %w", err)
	}
	return &out, nil
}

func (c *Client) assetPath(group, workspace, kind, name string) string {
	return c.workspacePath(group, workspace) + "/" + kind + "/" + url.PathEscape(name)
}

// AssetVersionID returns the ARM id of a model, code or environment version.
func (c *Client) AssetVersionID(group, workspace, kind, name, version string) string {
	return c.assetPath(group, workspace, kind, name) + "/versions/" + url.PathEscape(version)
}

// CreateOrUpdateAssetVersion creates a version of a model, code or environment (kind is
// AssetModels, AssetCodes or AssetEnvironments); ifNoneMatch makes it create only (409 if
// it exists). A version's content cannot change once created: only its description, tags
// and isArchived.
func (c *Client) CreateOrUpdateAssetVersion(ctx context.Context, group, workspace, kind, name, version string, in *AssetVersion, ifNoneMatch bool) (*AssetVersion, error) {
	return call[AssetVersion](ctx, c, request{method: http.MethodPut, path: c.AssetVersionID(group, workspace, kind, name, version), apiVersion: MachineLearningAPIVersion,
		header: conditionHeader("", ifNoneMatch), body: in})
}

// GetAssetVersion returns a version.
func (c *Client) GetAssetVersion(ctx context.Context, group, workspace, kind, name, version string) (*AssetVersion, error) {
	return call[AssetVersion](ctx, c, request{method: http.MethodGet, path: c.AssetVersionID(group, workspace, kind, name, version), apiVersion: MachineLearningAPIVersion})
}

// ListAssetVersions returns the versions of an asset.
func (c *Client) ListAssetVersions(ctx context.Context, group, workspace, kind, name string) ([]*AssetVersion, error) {
	return listAll[AssetVersion](ctx, c, c.assetPath(group, workspace, kind, name)+"/versions", MachineLearningAPIVersion)
}

// ListAssetContainers returns the assets of a kind in a workspace (each with its latest
// version).
func (c *Client) ListAssetContainers(ctx context.Context, group, workspace, kind string) ([]*AssetContainer, error) {
	return listAll[AssetContainer](ctx, c, c.workspacePath(group, workspace)+"/"+kind, MachineLearningAPIVersion)
}

// GetAssetContainer returns an asset with its latest version.
func (c *Client) GetAssetContainer(ctx context.Context, group, workspace, kind, name string) (*AssetContainer, error) {
	return call[AssetContainer](ctx, c, request{method: http.MethodGet, path: c.assetPath(group, workspace, kind, name), apiVersion: MachineLearningAPIVersion})
}

// DeleteAssetVersion deletes a version; the server refuses (409) while a deployment uses it.
func (c *Client) DeleteAssetVersion(ctx context.Context, group, workspace, kind, name, version string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: c.AssetVersionID(group, workspace, kind, name, version), apiVersion: MachineLearningAPIVersion}, nil)
	return err
}
