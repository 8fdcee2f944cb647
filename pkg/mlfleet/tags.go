package mlfleet

import (
	"context"
	"net/http"
	"strings"
)

// tagsPath is the Tags API's path for the resource or resource group id.
func tagsPath(id string) string {
	return "/" + strings.Trim(id, "/") + "/providers/Microsoft.Resources/tags/default"
}

// GetTags returns the tags of the resource or resource group id (az tag list
// --resource-id).
func (c *Client) GetTags(ctx context.Context, id string) (*Tags, error) {
	return call[Tags](ctx, c, request{method: http.MethodGet, path: tagsPath(id), apiVersion: ResourcesAPIVersion})
}

// SetTags replaces the tags of id by tags (az tag create --resource-id).
func (c *Client) SetTags(ctx context.Context, id string, tags map[string]string) (*Tags, error) {
	body := Tags{Properties: TagsProperties{Tags: orNoTags(tags)}}
	return call[Tags](ctx, c, request{method: http.MethodPut, path: tagsPath(id), apiVersion: ResourcesAPIVersion, body: body})
}

// UpdateTags changes the tags of id (az tag update --resource-id): operation Merge adds
// or replaces tags, Replace sets exactly them, Delete removes them (by name, or by name
// and value when a value is given).
func (c *Client) UpdateTags(ctx context.Context, id, operation string, tags map[string]string) (*Tags, error) {
	body := TagsPatch{Operation: operation, Properties: TagsProperties{Tags: orNoTags(tags)}}
	return call[Tags](ctx, c, request{method: http.MethodPatch, path: tagsPath(id), apiVersion: ResourcesAPIVersion, body: body})
}

// DeleteTags removes every tag of id (az tag delete --resource-id).
func (c *Client) DeleteTags(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: tagsPath(id), apiVersion: ResourcesAPIVersion}, nil)
	return err
}

// orNoTags sends no tags as {}, which the Tags API reads as no tags, not as null.
func orNoTags(tags map[string]string) map[string]string {
	if tags == nil {
		return map[string]string{}
	}
	return tags
}
