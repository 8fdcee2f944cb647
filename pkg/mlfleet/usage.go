package mlfleet

import (
	"context"
	"net/http"
	"net/url"
)

// Usage is one quota of a subscription in a location with what is in use of it, as
// Microsoft.Compute lists them (GET …/providers/Microsoft.Compute/locations/{loc}/usages,
// `mlfleet vm list-usage`).
type Usage struct {
	// CurrentValue is what the subscription's clusters in the location use: vCPUs, or
	// clusters for the managedClusters quota.
	CurrentValue int `json:"currentValue"`
	// Limit is the most they may use; a create or scale past it fails with 400
	// QuotaExceeded.
	Limit int `json:"limit"`
	// Name names the quota.
	Name UsageName `json:"name"`
	// Unit is "Count".
	Unit string `json:"unit"`
}

// UsageName names a quota: Value is stable ("cores", "standardDv2Family",
// "managedClusters"), LocalizedValue is for people ("Total Regional vCPUs").
type UsageName struct {
	Value          string `json:"value"`
	LocalizedValue string `json:"localizedValue"`
}

// UsageList is the answer of ListUsages.
type UsageList struct {
	Value []Usage `json:"value"`
}

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
