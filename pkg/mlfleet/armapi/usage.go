package armapi

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
