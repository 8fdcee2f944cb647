package compute

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Defaults of a cluster created from the workspace (S1).
const (
	DefaultAgentCount   = 3
	DefaultVMSize       = "Standard_D3_v2"
	DefaultPurpose      = "FastProd"
	DefaultLoadBalancer = "PublicIp"
	DefaultLBSubnet     = "aks-subnet"
	// ProductionMinCores is the vCPU floor of FastProd and DenseProd clusters (S5).
	ProductionMinCores = 12
	// FastProdMinNodes is the node floor of FastProd clusters (S5).
	FastProdMinNodes = 3
	// DevTestRecommendedCores is below what a DevTest cluster gets a warning (S5).
	DevTestRecommendedCores = 2
)

var (
	computeName   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)
	reservedNames = []string{"amlcompute", "local", "containerinstance"}
	dnsLabel      = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// subnetName is Azure's rule for a virtual network's subnet names: 1 to 80 letters,
	// digits, '_', '.' or '-', starting with a letter or digit, ending with one or '_'.
	subnetName  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,78}[a-zA-Z0-9_])?$`)
	cidrPattern = regexp.MustCompile(`^([0-9]{1,3}\.){3}[0-9]{1,3}(/([0-9]|[1-2][0-9]|3[0-2]))?$`)
)

// ValidateName checks the compute naming rules of S4 (not uniqueness).
func ValidateName(name string) *arm.Error {
	if slices.Contains(reservedNames, strings.ToLower(name)) {
		return arm.BadRequest(arm.CodeInvalidResourceName, "Compute name '%s' is reserved; choose another name.", name).WithTarget("name")
	}
	if !computeName.MatchString(name) {
		return arm.BadRequest(arm.CodeInvalidResourceName,
			"Compute name '%s' is invalid: use 3 to 24 letters, digits or '-', starting with a letter and ending with a letter or digit.", name).WithTarget("name")
	}
	return nil
}

// settings are the normalized settings of an AKS compute: what a PUT asks for, with the
// defaults applied (create) or the current values kept (update).
type settings struct {
	AgentCount int
	VMSize     string
	Purpose    string
	LB         string
	Subnet     string
	SSL        sslSettings
	Network    *armapi.AKSNetworkingConfiguration
}

type sslSettings struct {
	Status    string // Disabled, Enabled or Auto
	Cert, Key string // PEM (Enabled)
	CName     string
	Leaf      string // Auto
	Overwrite bool
	Renew     bool
}

// normalizePurpose returns the canonical spelling of a cluster purpose, or "".
func normalizePurpose(s string) string {
	for _, p := range []string{"FastProd", "DenseProd", "DevTest"} {
		if strings.EqualFold(s, p) {
			return p
		}
	}
	return ""
}

func normalizeLB(s string) string {
	for _, p := range []string{"PublicIp", "InternalLoadBalancer"} {
		if strings.EqualFold(s, p) {
			return p
		}
	}
	return ""
}

// readSettings applies the AKS properties of a request over base (defaults or current
// values) and checks each of them, adding failures to errs.
func readSettings(in *armapi.AKSProperties, base settings, sizes *catalog.VMSizes, creating bool, errs *arm.Problems) settings {
	s := base
	if in == nil {
		return s
	}
	const t = "properties.properties."
	if in.AgentCount != nil {
		if *in.AgentCount < 1 || *in.AgentCount > 100 {
			errs.Add(arm.CodeUserError, t+"agentCount", "Agent count %d is invalid: it must be a positive integer (1 to 100).", *in.AgentCount)
		} else {
			s.AgentCount = *in.AgentCount
		}
	}
	if in.AgentVMSize != nil && *in.AgentVMSize != "" {
		if vm, ok := sizes.Get(*in.AgentVMSize); !ok {
			errs.Add(arm.CodeUserError, t+"agentVmSize", "VM size '%s' is not available; use one of %s.", *in.AgentVMSize, strings.Join(sizes.Names(), ", "))
		} else {
			s.VMSize = vm.Name
		}
	}
	if in.ClusterPurpose != nil && *in.ClusterPurpose != "" {
		if p := normalizePurpose(*in.ClusterPurpose); p == "" {
			errs.Add(arm.CodeUserError, t+"clusterPurpose", "Cluster purpose '%s' is invalid: use FastProd, DenseProd or DevTest.", *in.ClusterPurpose)
		} else {
			s.Purpose = p
		}
	}
	lbGiven := in.LoadBalancerType != nil && *in.LoadBalancerType != ""
	if lbGiven {
		if lb := normalizeLB(*in.LoadBalancerType); lb == "" {
			errs.Add(arm.CodeUserError, t+"loadBalancerType", "Load balancer type '%s' is invalid: use PublicIp or InternalLoadBalancer.", *in.LoadBalancerType)
		} else {
			if lb != s.LB {
				s.Subnet = ""
			}
			s.LB = lb
		}
	}
	if in.LoadBalancerSubnet != nil && *in.LoadBalancerSubnet != "" {
		switch {
		case s.LB != "InternalLoadBalancer":
			errs.Add(arm.CodeUserError, t+"loadBalancerSubnet", "A load balancer subnet ('%s') can only be given with load balancer type InternalLoadBalancer.", *in.LoadBalancerSubnet)
		case !subnetName.MatchString(*in.LoadBalancerSubnet):
			errs.Add(arm.CodeUserError, t+"loadBalancerSubnet", "Load balancer subnet '%s' is not a subnet name: use 1 to 80 letters, digits, '_', '.' or '-', starting with a letter or digit and ending with one or '_'.", *in.LoadBalancerSubnet)
		default:
			s.Subnet = *in.LoadBalancerSubnet
		}
	}
	if s.LB == "InternalLoadBalancer" && s.Subnet == "" {
		s.Subnet = DefaultLBSubnet
	}
	if s.LB != "InternalLoadBalancer" {
		s.Subnet = ""
	}
	if in.SSLConfiguration != nil {
		s.SSL = readSSL(in.SSLConfiguration, s.SSL, errs)
	}
	if in.AKSNetworkingConfiguration != nil {
		if !creating {
			if base.Network == nil || *base.Network != *in.AKSNetworkingConfiguration {
				errs.Add(arm.CodeUserError, t+"aksNetworkingConfiguration", "The virtual network of a cluster cannot be changed after it is created.")
			}
		} else if n := in.AKSNetworkingConfiguration; *n != (armapi.AKSNetworkingConfiguration{}) {
			checkNetwork(n, errs)
			c := *n
			s.Network = &c
		}
	}
	return s
}

// readSSL checks a TLS configuration (S13).
func readSSL(in *armapi.SSLConfiguration, cur sslSettings, errs *arm.Problems) sslSettings {
	const t = "properties.properties.sslConfiguration"
	status := in.Status
	switch {
	case status == "" && (in.Cert != "" || in.Key != "" || in.Cname != ""):
		status = "Enabled"
	case status == "" && in.LeafDomainLabel != "":
		status = "Auto"
	case status == "":
		status = "Disabled"
	}
	switch strings.ToLower(status) {
	case "disabled":
		return sslSettings{Status: "Disabled"}
	case "enabled":
		out := sslSettings{Status: "Enabled", Cert: in.Cert, Key: in.Key, CName: in.Cname, Renew: in.Renew}
		if in.LeafDomainLabel != "" || in.OverwriteExistingDomain {
			errs.Add(arm.CodeUserError, t, "TLS with your own certificate takes cname, cert and key; leafDomainLabel and overwriteExistingDomain belong to status Auto.")
		}
		// An update may leave the key out to keep the stored one for the same certificate.
		if out.Key == "" && cur.Status == "Enabled" && cur.Cert == out.Cert {
			out.Key = cur.Key
		}
		if out.Cert == "" || out.Key == "" || out.CName == "" {
			errs.Add(arm.CodeUserError, t, "TLS status Enabled needs cname, cert and key together (missing: %s).", missing(map[string]string{"cname": out.CName, "cert": out.Cert, "key": out.Key}))
			return out
		}
		if err := checkCertificate(out.Cert, out.Key, out.CName, time.Now()); err != nil {
			errs.Add(arm.CodeUserError, t, "%s", err)
		}
		return out
	case "auto":
		out := sslSettings{Status: "Auto", Leaf: strings.ToLower(in.LeafDomainLabel), Overwrite: in.OverwriteExistingDomain, Renew: in.Renew}
		if in.Cert != "" || in.Key != "" || in.Cname != "" {
			errs.Add(arm.CodeUserError, t, "TLS status Auto takes a leafDomainLabel only; cname, cert and key belong to status Enabled.")
		}
		if out.Leaf == "" {
			errs.Add(arm.CodeUserError, t+".leafDomainLabel", "TLS status Auto needs a leafDomainLabel: mlfleet issues a certificate for it.")
		} else if !dnsLabel.MatchString(out.Leaf) {
			errs.Add(arm.CodeUserError, t+".leafDomainLabel", "Leaf domain label '%s' is invalid: use up to 63 lowercase letters, digits or '-', starting with a letter.", in.LeafDomainLabel)
		}
		return out
	default:
		errs.Add(arm.CodeUserError, t+".status", "TLS status '%s' is invalid: use Disabled, Enabled or Auto.", in.Status)
		return cur
	}
}

func missing(fields map[string]string) string {
	var out []string
	for _, k := range []string{"cname", "cert", "key"} {
		if fields[k] == "" {
			out = append(out, k)
		}
	}
	return strings.Join(out, ", ")
}

// checkCertificate checks that cert and key are a matching PEM pair, that the certificate is
// valid now, and that it covers cname.
func checkCertificate(certPEM, keyPEM, cname string, now time.Time) error {
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		block, _ := pem.Decode([]byte(certPEM))
		if block == nil {
			return fmt.Errorf("TLS cert is not a PEM certificate: give the file content, beginning with -----BEGIN CERTIFICATE-----")
		}
		return fmt.Errorf("TLS cert and key do not form a pair: %v", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("TLS cert cannot be read: %v", err)
	}
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("TLS cert expired on %s: give a valid certificate", leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("TLS cert is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if err := leaf.VerifyHostname(cname); err != nil {
		return fmt.Errorf("TLS cert does not cover cname '%s' (it covers %s)", cname, strings.Join(append(leaf.DNSNames, leaf.Subject.CommonName), ", "))
	}
	return nil
}

// checkNetwork checks a custom virtual network (S26), every rule at once.
func checkNetwork(n *armapi.AKSNetworkingConfiguration, errs *arm.Problems) {
	const t = "properties.properties.aksNetworkingConfiguration."
	var absent []string
	for _, f := range []struct{ name, v string }{{"subnetId", n.SubnetID}, {"serviceCidr", n.ServiceCidr}, {"dnsServiceIP", n.DNSServiceIP}, {"dockerBridgeCidr", n.DockerBridgeCidr}} {
		if f.v == "" {
			absent = append(absent, f.name)
		}
	}
	if len(absent) > 0 {
		errs.Add(arm.CodeUserError, strings.TrimSuffix(t, "."), "A custom virtual network needs the subnet (vnet resource group, vnet name and subnet name), service CIDR, DNS service IP and docker bridge CIDR together; missing: %s.", strings.Join(absent, ", "))
	}
	if n.SubnetID != "" {
		id, err := arm.ParseID(n.SubnetID)
		if err != nil || !strings.EqualFold(id.Namespace, "Microsoft.Network") || !strings.EqualFold(id.Type(), "Microsoft.Network/virtualNetworks/subnets") {
			errs.Add(arm.CodeUserError, t+"subnetId", "Subnet id '%s' is invalid: use /subscriptions/{sub}/resourceGroups/{vnetGroup}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}.", n.SubnetID)
		}
	}
	parse := func(field, v string) (netip.Prefix, bool) {
		if v == "" {
			return netip.Prefix{}, false
		}
		p, err := netip.ParsePrefix(v)
		if !cidrPattern.MatchString(v) || err != nil {
			errs.Add(arm.CodeUserError, t+field, "%s '%s' is not a valid IPv4 CIDR such as 10.0.0.0/16.", field, v)
			return netip.Prefix{}, false
		}
		return p, true
	}
	svc, svcOK := parse("serviceCidr", n.ServiceCidr)
	bridge, bridgeOK := parse("dockerBridgeCidr", n.DockerBridgeCidr)
	if svcOK && bridgeOK && svc.Overlaps(bridge) {
		errs.Add(arm.CodeUserError, t+"dockerBridgeCidr", "Docker bridge CIDR %s overlaps service CIDR %s: choose ranges that do not overlap.", n.DockerBridgeCidr, n.ServiceCidr)
	}
	if n.DNSServiceIP != "" {
		dns, err := netip.ParseAddr(n.DNSServiceIP)
		switch {
		case err != nil || !dns.Is4():
			errs.Add(arm.CodeUserError, t+"dnsServiceIP", "DNS service IP '%s' is not an IPv4 address.", n.DNSServiceIP)
		case svcOK && !svc.Contains(dns):
			errs.Add(arm.CodeUserError, t+"dnsServiceIP", "DNS service IP %s is outside the service CIDR %s: pick an address inside it.", n.DNSServiceIP, n.ServiceCidr)
		case svcOK && dns == svc.Masked().Addr():
			errs.Add(arm.CodeUserError, t+"dnsServiceIP", "DNS service IP %s is the first address of the service CIDR %s, which Kubernetes reserves: use another (such as the .10 address).", n.DNSServiceIP, n.ServiceCidr)
		}
	}
}

// capacity is the check of S5 on a cluster of nodes × cores. It returns the failures and the
// warnings.
func capacity(purpose string, nodes, cores int, where string) (fails []string, warnings []string) {
	switch purpose {
	case "FastProd", "DenseProd":
		if cores < ProductionMinCores {
			fails = append(fails, fmt.Sprintf("A %s (production) cluster needs at least %d vCPUs; %s has %d (%s). Add nodes, use a larger VM size, or use cluster purpose DevTest.",
				purpose, ProductionMinCores, where, cores, count(nodes, "node")))
		}
		if purpose == "FastProd" && nodes < FastProdMinNodes {
			fails = append(fails, fmt.Sprintf("A FastProd cluster needs at least %d nodes; %s has %d. Add nodes, or use cluster purpose DevTest.", FastProdMinNodes, where, nodes))
		}
	case "DevTest":
		if cores < DevTestRecommendedCores {
			warnings = append(warnings, fmt.Sprintf("%s has %d vCPUs; at least %d are recommended for a DevTest cluster.", where, cores, DevTestRecommendedCores))
		}
	}
	return fails, warnings
}

// count renders "1 node", "3 nodes".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
