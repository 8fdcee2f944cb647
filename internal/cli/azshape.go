package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// az does not print a managed cluster or an agent pool as the API returns it, but as its
// Python SDK model: the ARM "properties" are lifted to the top level, names are the
// SDK's attribute names camel-cased again (enableRBAC becomes enableRbac, and an agent
// pool's properties.type, which would collide with the resource type, becomes
// typePropertiesType), and resourceGroup is added from the id. The aks commands print
// that shape too, so that a --query written for az (`--query provisioningState`,
// `--query apiServerAccessProfile.authorizedIpRanges`) works unchanged.
//
// The renames below are the keys mlfleet sends whose SDK spelling differs; maps whose
// keys are the user's (tags, node labels, addon and identity maps) are left alone.
var (
	// azClusterKeys renames keys of the flattened cluster, by the object they are in.
	azClusterKeys = map[string]map[string]string{
		"":                       {"enableRBAC": "enableRbac", "privateFQDN": "privateFqdn"},
		"apiServerAccessProfile": {"authorizedIPRanges": "authorizedIpRanges"},
		"networkProfile":         {"dnsServiceIP": "dnsServiceIp"},
		"agentPoolProfiles":      azPoolKeys,
		"autoScalerProfile":      azAutoscalerKeys,
	}
	// azPoolKeys renames keys of a flattened agent pool.
	azPoolKeys = map[string]string{"vnetSubnetID": "vnetSubnetId", "osDiskSizeGB": "osDiskSizeGb", "osSKU": "osSku", "enableNodePublicIP": "enableNodePublicIp"}

	// azClusterAttrs and azPoolAttrs are the attributes of az's SDK models (ManagedCluster
	// and AgentPool of azure-mgmt-containerservice 2022-11-01, which az 2.45 uses), camel-
	// cased as az prints them. az prints every one, null when the server did not set it, so
	// that -o tsv rows of clusters always have the same columns; mlfleet adds the ones the
	// server left out as null for the same reason.
	azClusterAttrs = strings.Fields(`id name type systemData tags location sku extendedLocation identity
		provisioningState powerState maxAgentPools kubernetesVersion currentKubernetesVersion dnsPrefix
		fqdnSubdomain fqdn privateFqdn azurePortalFqdn agentPoolProfiles linuxProfile windowsProfile
		servicePrincipalProfile addonProfiles podIdentityProfile oidcIssuerProfile nodeResourceGroup
		enableRbac enablePodSecurityPolicy networkProfile aadProfile autoUpgradeProfile autoScalerProfile
		apiServerAccessProfile diskEncryptionSetId identityProfile privateLinkResources disableLocalAccounts
		httpProxyConfig securityProfile storageProfile publicNetworkAccess workloadAutoScalerProfile`)
	azPoolAttrs = strings.Fields(`id name type count vmSize osDiskSizeGb osDiskType kubeletDiskType
		workloadRuntime vnetSubnetId podSubnetId maxPods osType osSku maxCount minCount enableAutoScaling
		scaleDownMode typePropertiesType mode orchestratorVersion currentOrchestratorVersion
		nodeImageVersion upgradeSettings provisioningState powerState availabilityZones enableNodePublicIp
		nodePublicIpPrefixId scaleSetPriority scaleSetEvictionPolicy spotMaxPrice tags nodeLabels nodeTaints
		proximityPlacementGroupId kubeletConfig linuxOsConfig enableEncryptionAtHost enableUltraSsd
		enableFips gpuInstanceProfile creationData hostGroupId`)

	// azExtensions are the keys of az's shapes that are mlfleet's own (a cluster's
	// properties.mlfleet, lifted): az's SDK drops them, and -o tsv leaves them out so that
	// its columns are az's.
	azExtensions = []string{"mlfleet"}

	// azAutoscalerKeys are the cluster autoscaler settings az's SDK models as attributes;
	// the settings it does not know (daemonset-eviction-for-empty-nodes, ...) it prints
	// with their hyphenated API names, and so does mlfleet.
	azAutoscalerKeys = map[string]string{
		"balance-similar-node-groups":      "balanceSimilarNodeGroups",
		"max-empty-bulk-delete":            "maxEmptyBulkDelete",
		"max-graceful-termination-sec":     "maxGracefulTerminationSec",
		"max-node-provision-time":          "maxNodeProvisionTime",
		"max-total-unready-percentage":     "maxTotalUnreadyPercentage",
		"new-pod-scale-up-delay":           "newPodScaleUpDelay",
		"ok-total-unready-count":           "okTotalUnreadyCount",
		"scale-down-delay-after-add":       "scaleDownDelayAfterAdd",
		"scale-down-delay-after-delete":    "scaleDownDelayAfterDelete",
		"scale-down-delay-after-failure":   "scaleDownDelayAfterFailure",
		"scale-down-unneeded-time":         "scaleDownUnneededTime",
		"scale-down-unready-time":          "scaleDownUnreadyTime",
		"scale-down-utilization-threshold": "scaleDownUtilizationThreshold",
		"scan-interval":                    "scanInterval",
		"skip-nodes-with-local-storage":    "skipNodesWithLocalStorage",
		"skip-nodes-with-system-pods":      "skipNodesWithSystemPods",
	}
)

// azClusters returns v, a cluster or a list of clusters, in az's shape.
func azClusters(v any) (any, error) {
	return azShape(v, func(m map[string]any) {
		flatten(m)
		renameKeys(m, azClusterKeys[""])
		for obj, keys := range azClusterKeys {
			if obj == "" {
				continue
			}
			switch inner := m[obj].(type) {
			case map[string]any:
				renameKeys(inner, keys)
			case []any:
				for _, item := range inner {
					if im, ok := item.(map[string]any); ok {
						renameKeys(im, keys)
					}
				}
			}
		}
		withNulls(m, azClusterAttrs)
	})
}

// azPools returns v, an agent pool or a list of them, in az's shape.
func azPools(v any) (any, error) {
	return azShape(v, func(m map[string]any) {
		flatten(m)
		// az 2.45's AgentPool model has no eTag, and a key it does not model under the
		// flattened properties is dropped (az aks nodepool show prints none); a cluster's
		// agentPoolProfiles items keep theirs, as az aks show does.
		delete(m, "eTag")
		renameKeys(m, azPoolKeys)
		withNulls(m, azPoolAttrs)
	})
}

// azFlat returns v, an ARM resource or a list of them, with its properties lifted and its
// resourceGroup added, as az prints the resources its SDK models flatten.
func azFlat(v any) (any, error) {
	return azShape(v, flatten)
}

// azGenericResources returns v, a list of resources of any type (resource list), as az
// prints it: with resourceGroup, and its times as Python datetimes.
func azGenericResources(v any) (any, error) {
	return azShape(v, func(m map[string]any) { pythonTimes(m, "createdTime", "changedTime") })
}

// azShape turns v into its JSON value and reshapes each object of it (v itself, or the
// items of a list) with reshape, then adds resourceGroup from its id. The JSON round trip
// turns every SDK type into generic maps, so that one set of renames serves them all.
// systemData is in every ARM resource, so its times are rewritten whatever the shape.
func azShape(v any, reshape func(map[string]any)) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	objects := []any{out}
	if list, ok := out.([]any); ok {
		objects = list
	}
	for _, o := range objects {
		if m, ok := o.(map[string]any); ok {
			reshape(m)
			pythonTimes(m["systemData"], "createdAt", "lastModifiedAt")
			if id, ok := m["id"].(string); ok && m["resourceGroup"] == nil {
				if g := groupOf(id); g != "" {
					m["resourceGroup"] = g
				}
			}
		}
	}
	return out, nil
}

// flatten moves the keys of m["properties"] to m. A key that m has already (an agent
// pool's properties.type next to the resource's type) is renamed as the Python SDK's
// generator does: type becomes typePropertiesType.
func flatten(m map[string]any) {
	props, ok := m["properties"].(map[string]any)
	if !ok {
		return
	}
	delete(m, "properties")
	for k, v := range props {
		if _, taken := m[k]; taken && k != "" {
			// The k != "" test is what keeps k[:1] in range.
			k += "Properties" + strings.ToUpper(k[:1]) + k[1:]
		}
		m[k] = v
	}
}

// pythonTimes rewrites the RFC 3339 times at keys of v, an object, as az prints the
// datetimes its SDK parsed them into: Python's isoformat, microseconds at most.
func pythonTimes(v any, keys ...string) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, k := range keys {
		s, _ := m[k].(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			continue
		}
		// isoformat prints microseconds only when there are some, and the offset always
		// (+00:00, never Z).
		layout := "2006-01-02T15:04:05.000000-07:00"
		if t.Nanosecond()/1000 == 0 {
			layout = "2006-01-02T15:04:05-07:00"
		}
		m[k] = t.Truncate(time.Microsecond).Format(layout)
	}
}

// renameKeys renames the keys of m that names lists.
func renameKeys(m map[string]any, names map[string]string) {
	for from, to := range names {
		if v, ok := m[from]; ok {
			delete(m, from)
			m[to] = v
		}
	}
}

// withNulls sets the keys of m that attrs lists and m lacks to null.
func withNulls(m map[string]any, attrs []string) {
	for _, k := range attrs {
		if _, ok := m[k]; !ok {
			m[k] = nil
		}
	}
}
