package mlfleet

import (
	"context"
	"net/http"
	"net/url"
)

// ListUsages returns the quotas of the client's subscription in location (a region name
// such as westus) with the use of each: total regional vCPUs, vCPUs of each VM family and
// managed clusters.
func (c *Client) ListUsages(ctx context.Context, location string) ([]Usage, error) {
	var out UsageList
	_, err := c.do(ctx, request{method: http.MethodGet, path: c.subPath() + "/providers/Microsoft.Compute/locations/" + url.PathEscape(location) + "/usages",
		apiVersion: "2024-07-01"}, &out)
	if err != nil {
		return nil, err
	}
	return out.Value, nil
}
