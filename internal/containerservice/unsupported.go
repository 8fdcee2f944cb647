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
