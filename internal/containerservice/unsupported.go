package containerservice

import (
	"fmt"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// What every node of an mlfleet pool is, in AKS's terms: the values of the pool settings
// below that pass, since they describe it.
const (
	nodeOSSKU      = "Ubuntu"
	nodeOSDiskType = "Managed"
	// scaleSetPriority and scaleSetEvictionPolicy are AKS's defaults (az sends them
	// without --priority and --eviction-policy); the policy only acts on Spot pools.
	scaleSetPriority       = "Regular"
	scaleSetEvictionPolicy = "Delete"
	// spotMaxPriceDefault is AKS's "no max price" (pay up to the on-demand price), which
	// az sends without --spot-max-price.
	spotMaxPriceDefault = -1.0
	// poolType and scaleDownMode are AKS's defaults, which az sends without --vm-set-type
	// and --scale-down-mode: a pool of a VM scale set whose scale-down deletes nodes.
	poolType      = "VirtualMachineScaleSets"
	scaleDownMode = "Delete"
)

// checkUnsupportedPoolSettings refuses the node settings of a pool (created or updated)
// that mlfleet cannot honour, rather than accept and drop them: availability zones, an OS
// other than Ubuntu, ephemeral OS disks, node public IPs, encryption at host, FIPS node
// images, Spot priority (and its max price and eviction policy) and Ultra SSD. The values
// AKS would use anyway (no zones, Ubuntu, Managed, false, Regular, Delete, -1) pass, as
// az aks create (2.45) sends enableNodePublicIP, enableEncryptionAtHost, enableUltraSSD and
// enableFIPS false, scaleSetPriority Regular, scaleSetEvictionPolicy Delete and
// spotMaxPrice -1 when their flags are absent.
func checkUnsupportedPoolSettings(target, pool string, in armapi.AgentPoolSettings, errs *arm.Problems) {
	checkNodeSettings(target, pool, in, errs)
	checkScaleSetSettings(target, pool, in, errs)
	checkPoolShape(target, pool, in, errs)
}

// checkPoolShape is checkUnsupportedPoolSettings for how AKS lays out and changes a pool:
// its VM set type, proximity placement group, scale-down mode and upgrade settings. az
// sends type VirtualMachineScaleSets and an empty upgradeSettings without the flags (and
// scaleDownMode Delete on az aks nodepool add); those pass.
func checkPoolShape(target, pool string, in armapi.AgentPoolSettings, errs *arm.Problems) {
	if t := in.Type; t != "" && !strings.EqualFold(t, poolType) {
		errs.Add("InvalidParameter", target+".type", "VM set type '%s' is not available for agent pool '%s': mlfleet's pools are %s, whose nodes it simulates. Leave out --vm-set-type, or use --vm-set-type %s.", t, pool, poolType, poolType)
	}
	if g := in.ProximityPlacementGroupID; g != "" {
		errs.Add("InvalidParameter", target+".proximityPlacementGroupID", "Proximity placement group '%s' is not available for agent pool '%s': mlfleet's nodes are simulated by its server on one machine, with no VMs to place. Leave out --ppg.", g, pool)
	}
	if m := in.ScaleDownMode; m != "" && !strings.EqualFold(m, scaleDownMode) {
		errs.Add("InvalidParameter", target+".scaleDownMode", "Scale-down mode '%s' is not available for agent pool '%s': mlfleet deletes the nodes a scale-down removes, and creates new ones on a scale-up. Leave out --scale-down-mode, or use --scale-down-mode %s.", m, pool, scaleDownMode)
	}
	if u := in.UpgradeSettings; u != nil {
		if u.MaxSurge != "" {
			errs.Add("InvalidParameter", target+".upgradeSettings.maxSurge", "Max surge '%s' is not available for agent pool '%s': mlfleet upgrades no nodes (a pool runs its cluster's Kubernetes version for its whole life), so there are no surge nodes to add. Leave out --max-surge.", u.MaxSurge, pool)
		}
		if u.DrainTimeoutInMinutes != nil || u.NodeSoakDurationInMinutes != nil {
			errs.Add("InvalidParameter", target+".upgradeSettings", "Upgrade drain timeout and node soak duration are not available for agent pool '%s': mlfleet upgrades no nodes. Leave out --drain-timeout and --node-soak-duration.", pool)
		}
	}
}

// checkScaleSetSettings is checkUnsupportedPoolSettings for what AKS sets on a pool's VM
// scale set: FIPS node images, Spot priority, its max price and eviction policy, Ultra SSD.
func checkScaleSetSettings(target, pool string, in armapi.AgentPoolSettings, errs *arm.Problems) {
	if f := in.EnableFIPS; f != nil && *f {
		errs.Add("InvalidParameter", target+".enableFIPS", "FIPS-enabled node images are not available for agent pool '%s': mlfleet's nodes run no AKS node image, their Kubernetes components run in its server's own process, which uses no FIPS 140 validated modules. Leave out --enable-fips-image.", pool)
	}
	if p := in.ScaleSetPriority; p != "" && !strings.EqualFold(p, scaleSetPriority) {
		errs.Add("InvalidParameter", target+".scaleSetPriority", "Scale set priority '%s' is not available for agent pool '%s': mlfleet's nodes are simulated by its server and never evicted, so its pools are %s. Leave out --priority, or use --priority %s.", p, pool, scaleSetPriority, scaleSetPriority)
	}
	if m := in.SpotMaxPrice; m != nil && *m != spotMaxPriceDefault {
		errs.Add("InvalidParameter", target+".spotMaxPrice", "A Spot max price (%v) is not available for agent pool '%s': it applies to Spot pools only, and mlfleet's pools are %s, with no price. Leave out --spot-max-price.", *m, pool, scaleSetPriority)
	}
	if e := in.ScaleSetEvictionPolicy; e != "" && !strings.EqualFold(e, scaleSetEvictionPolicy) {
		errs.Add("InvalidParameter", target+".scaleSetEvictionPolicy", "Eviction policy '%s' is not available for agent pool '%s': it applies to Spot pools only, and mlfleet's pools are %s, never evicted. Leave out --eviction-policy.", e, pool, scaleSetPriority)
	}
	if u := in.EnableUltraSSD; u != nil && *u {
		errs.Add("InvalidParameter", target+".enableUltraSSD", "Ultra SSD is not available for agent pool '%s': mlfleet's nodes have no Azure disks to attach; a persistent volume is a directory of the machine its server runs on. Leave out --enable-ultra-ssd.", pool)
	}
}

// checkNodeSettings is checkUnsupportedPoolSettings for what a node is: zones, OS, OS
// disk, public IP, encryption at host.
func checkNodeSettings(target, pool string, in armapi.AgentPoolSettings, errs *arm.Problems) {
	if len(in.AvailabilityZones) > 0 {
		errs.Add("InvalidParameter", target+".availabilityZones", "Availability zones (%s) are not available for agent pool '%s': mlfleet's nodes are simulated by its server, in no zone (their topology.kubernetes.io/zone label is 0, as on an AKS pool without zones). Leave out --zones.", strings.Join(in.AvailabilityZones, ", "), pool)
	}
	if in.OSSKU != "" && !strings.EqualFold(in.OSSKU, nodeOSSKU) {
		errs.Add("InvalidParameter", target+".osSKU", "OS SKU '%s' is not available for agent pool '%s': mlfleet's nodes run %s. Leave out --os-sku, or use --os-sku %s.", in.OSSKU, pool, nodeOSSKU, nodeOSSKU)
	}
	if in.OSDiskType != "" && !strings.EqualFold(in.OSDiskType, nodeOSDiskType) {
		errs.Add("InvalidParameter", target+".osDiskType", "OS disk type '%s' is not available for agent pool '%s': mlfleet's nodes have a %s OS disk of osDiskSizeGB (--node-osdisk-size). Leave out --node-osdisk-type, or use --node-osdisk-type %s.", in.OSDiskType, pool, nodeOSDiskType, nodeOSDiskType)
	}
	if p := in.EnableNodePublicIP; p != nil && *p {
		errs.Add("InvalidParameter", target+".enableNodePublicIP", "Node public IPs are not available for agent pool '%s': mlfleet's nodes get no public IP address of their own; reach a workload through a Service of type LoadBalancer, or through the API server (kubectl port-forward). Leave out --enable-node-public-ip.", pool)
	}
	if e := in.EnableEncryptionAtHost; e != nil && *e {
		errs.Add("InvalidParameter", target+".enableEncryptionAtHost", "Encryption at host is not available for agent pool '%s': mlfleet's nodes have no VM disks or caches of their own to encrypt; what the server stores is on the disks of the machine it runs on. Leave out --enable-encryption-at-host.", pool)
	}
}

// checkClusterShape refuses the cluster settings of a create or update that describe a
// cluster mlfleet does not make: RBAC off, an OIDC issuer, a network policy engine, a
// network plugin other than kubenet, a node resource group of the user's choosing. p is
// the cluster as it will be (its node resource group already set, its network profile the
// stored one on an update, empty on a create). What az aks create (2.45) sends without the
// flags (enableRBAC true, no oidcIssuerProfile, networkPlugin kubenet, no networkPolicy or
// nodeResourceGroup) and what an update sends back as read pass.
func checkClusterShape(in armapi.ClusterInput, p *armapi.ClusterProperties, errs *arm.Problems) {
	ip := in.Properties
	// A row that says false (written without it) takes its own value back.
	if r := ip.EnableRBAC; r != nil && !*r && p.EnableRBAC {
		errs.Add("InvalidParameter", "properties.enableRBAC", "Clusters without Kubernetes RBAC are not available: mlfleet's API servers always authorize with RBAC (the kubeconfig of 'az aks get-credentials --admin' is cluster-admin). Leave out --disable-rbac.")
	}
	if o := ip.OIDCIssuerProfile; o != nil && o.Enabled != nil && *o.Enabled {
		errs.Add("InvalidParameter", "properties.oidcIssuerProfile.enabled", "An OIDC issuer is not available: the service account tokens of mlfleet's clusters are issued by https://kubernetes.default.svc.cluster.local, whose discovery document is not published, so workload identity federation cannot trust it. Leave out --enable-oidc-issuer.")
	}
	if g := ip.NodeResourceGroup; g != "" && !strings.EqualFold(g, p.NodeResourceGroup) {
		errs.Add("InvalidParameter", "properties.nodeResourceGroup", "Node resource group '%s' is not available: mlfleet's nodes are simulated by its server and have no Azure resources; the cluster's node resource group is named %s. Leave out --node-resource-group.", g, p.NodeResourceGroup)
	}
	np := ip.NetworkProfile
	if np == nil {
		return
	}
	if pol := np.NetworkPolicy; pol != "" && !strings.EqualFold(pol, "none") {
		errs.Add("InvalidParameter", "properties.networkProfile.networkPolicy", "Network policy '%s' is not available: mlfleet's clusters run no network policy engine, so the NetworkPolicies applied to them would not be enforced. Leave out --network-policy.", pol)
	}
	// A cluster stored with another plugin (a compute's of an earlier mlfleet) takes it back.
	if pl := np.NetworkPlugin; pl != "" && !strings.EqualFold(pl, networkPlugin) && !strings.EqualFold(pl, p.NetworkProfile.NetworkPlugin) {
		errs.Add("InvalidParameter", "properties.networkProfile.networkPlugin", "Network plugin '%s' is not available: mlfleet's pods get their addresses from the cluster's podCidr, a /24 per node, as with %s; none come from a virtual network's subnet. Leave out --network-plugin, or use --network-plugin %s.", pl, networkPlugin, networkPlugin)
	}
}

// networkPlugin is how the pods of mlfleet's clusters get their addresses, in AKS's terms.
const networkPlugin = "kubenet"

// checkLoadBalancerProfile refuses outbound settings of the load balancer (networkProfile.
// loadBalancerProfile) that mlfleet cannot honour: its nodes' outbound traffic leaves from
// the machine the server runs on, with no outbound IPs, ports or idle timeout of their
// own. AKS's defaults (one managed outbound IP, ports allocated automatically (0), a 30
// minute idle timeout), which az sends back from a GET or fills in, pass.
func checkLoadBalancerProfile(lb *armapi.LoadBalancerProfile, errs *arm.Problems) {
	if lb == nil {
		return
	}
	var set []string
	if m := lb.ManagedOutboundIPs; m != nil {
		if m.Count != nil && *m.Count != 1 {
			set = append(set, fmt.Sprintf("managedOutboundIPs.count %d (--load-balancer-managed-outbound-ip-count)", *m.Count))
		}
		if m.CountIPv6 != nil && *m.CountIPv6 != 0 {
			set = append(set, fmt.Sprintf("managedOutboundIPs.countIPv6 %d", *m.CountIPv6))
		}
	}
	if o := lb.OutboundIPs; o != nil && len(o.PublicIPs) > 0 {
		set = append(set, "outboundIPs (--load-balancer-outbound-ips)")
	}
	if o := lb.OutboundIPPrefixes; o != nil && len(o.PublicIPPrefixes) > 0 {
		set = append(set, "outboundIPPrefixes (--load-balancer-outbound-ip-prefixes)")
	}
	if p := lb.AllocatedOutboundPorts; p != nil && *p != 0 {
		set = append(set, fmt.Sprintf("allocatedOutboundPorts %d (--load-balancer-outbound-ports)", *p))
	}
	if t := lb.IdleTimeoutInMinutes; t != nil && *t != defaultIdleTimeout {
		set = append(set, fmt.Sprintf("idleTimeoutInMinutes %d (--load-balancer-idle-timeout)", *t))
	}
	if m := lb.EnableMultipleStandardLoadBalancers; m != nil && *m {
		set = append(set, "enableMultipleStandardLoadBalancers")
	}
	if len(set) == 0 {
		return
	}
	errs.Add("InvalidParameter", "properties.networkProfile.loadBalancerProfile", "Load balancer outbound settings are not available: %s. mlfleet's nodes send outbound traffic from the address of the machine its server runs on, with no managed or own outbound IPs, allocated ports or idle timeout to set. Leave those flags out.", strings.Join(set, "; "))
}

// defaultIdleTimeout is AKS's outbound idle timeout, in minutes.
const defaultIdleTimeout = 30

// defaultLoadBalancerProfile is the load balancer profile AKS serves for a cluster with a
// standard load balancer and outbound type loadBalancer (nil otherwise): one managed
// outbound IP. Served so that az aks update's load balancer flags, which change the
// profile a GET returned and send nothing when there is none, reach the server and are
// refused rather than lost in az.
func defaultLoadBalancerProfile(np armapi.NetworkProfile) *armapi.LoadBalancerProfile {
	if !strings.EqualFold(np.LoadBalancerSku, "standard") || !strings.EqualFold(np.OutboundType, "loadBalancer") {
		return nil
	}
	one := 1
	return &armapi.LoadBalancerProfile{ManagedOutboundIPs: &armapi.ManagedOutboundIPs{Count: &one}}
}

// setNodeFacts sets on an embedded cluster's pool what its nodes are in AKS's terms (OS
// SKU, OS disk type, no public IP, no encryption at host), where the pool lacks them: az
// prints them, and sends them back on an update, where they pass as AKS's defaults.
func setNodeFacts(p *armapi.AgentPoolProfile) {
	p.OSSKU = orDefault(p.OSSKU, nodeOSSKU)
	p.OSDiskType = orDefault(p.OSDiskType, nodeOSDiskType)
	if p.EnableNodePublicIP == nil {
		p.EnableNodePublicIP = new(bool)
	}
	if p.EnableEncryptionAtHost == nil {
		p.EnableEncryptionAtHost = new(bool)
	}
}
