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
)

// checkUnsupportedPoolSettings refuses the node settings of a pool (created or updated)
// that mlfleet cannot honour, rather than accept and drop them: availability zones, an OS
// other than Ubuntu, ephemeral OS disks, node public IPs and encryption at host. The
// values AKS would use anyway (no zones, Ubuntu, Managed, false) pass, as az aks create
// sends enableNodePublicIP and enableEncryptionAtHost false when their flags are absent.
func checkUnsupportedPoolSettings(target, pool string, in armapi.AgentPoolSettings, errs *arm.Problems) {
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
