package arm

import (
	"sort"
	"strings"
)

// regions are the Azure region names mlfleet accepts. Every region maps to this machine: the
// name is kept on resources so scripts written for Azure run unchanged.
var regions = []string{
	"australiacentral", "australiaeast", "australiasoutheast", "brazilsouth", "canadacentral",
	"canadaeast", "centralindia", "centralus", "eastasia", "eastus", "eastus2", "francecentral",
	"germanywestcentral", "italynorth", "japaneast", "japanwest", "koreacentral", "northcentralus",
	"northeurope", "norwayeast", "polandcentral", "qatarcentral", "southafricanorth",
	"southcentralus", "southeastasia", "southindia", "swedencentral", "switzerlandnorth",
	"uaenorth", "uksouth", "ukwest", "westcentralus", "westeurope", "westindia", "westus",
	"westus2", "westus3",
}

// NormalizeLocation turns a region's name or display name ("West US", "westus") into the
// canonical lowercase name. ok is false when the region is unknown.
func NormalizeLocation(s string) (name string, ok bool) {
	n := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	i := sort.SearchStrings(regions, n)
	if i < len(regions) && regions[i] == n {
		return n, true
	}
	return "", false
}

// Regions returns the accepted region names, sorted.
func Regions() []string { return append([]string(nil), regions...) }
