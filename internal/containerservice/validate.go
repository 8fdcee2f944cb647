package containerservice

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Validate checks a request to create a new cluster without creating it: the same checks,
// policy and quotas included, and the same errors as Put. A cluster of that name must not
// exist. It returns the cluster ready to Insert, recording createdFor as Prepare does; the
// quotas are checked again, atomically, by Insert.
func (s *Service) Validate(ctx context.Context, sub, rg, name string, in armapi.ClusterInput, createdFor string) (*NewCluster, error) {
	group, err := s.cfg.Resources.WritableGroup(ctx, sub, rg)
	if err != nil {
		return nil, err
	}
	if !clusterName.MatchString(name) {
		return nil, arm.BadRequest(arm.CodeInvalidResourceName,
			"Cluster name '%s' is invalid: use 1 to 63 letters, digits, '-' or '_', starting and ending with a letter or digit.", name).WithTarget("resourceName")
	}
	if _, err := s.cfg.Store.GetResource(ctx, ID(sub, group.Name, name)); err == nil {
		return nil, arm.Conflict("A managed cluster named '%s' already exists in resource group '%s'.", name, group.Name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get cluster %s: %w", name, err)
	}
	nc, err := s.Prepare(ctx, sub, group.Name, name, in, createdFor)
	if err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, s.cfg.Store, sub, nc.cluster.Location, s.createRequest(nc.cluster), ""); err != nil {
		return nil, err
	}
	return nc, nil
}

// validateNew checks a create request, reporting every problem together, and returns the
// cluster to store with defaults applied (and the kubeconfig of an external cluster).
// fromCompute says the cluster is created for a compute (ml computetarget create aks), whose
// request chooses no version.
func (s *Service) validateNew(ctx context.Context, sub string, group *armapi.ResourceGroup, name string, in armapi.ClusterInput, fromCompute bool) (*armapi.ManagedCluster, []byte, error) {
	var errs arm.Problems
	p := in.Properties
	providerName := "embedded"
	var kubeconfig []byte
	if p.Mlfleet != nil && p.Mlfleet.Provider != "" {
		providerName = strings.ToLower(p.Mlfleet.Provider)
	}
	prov, ok := s.cfg.Providers[providerName]
	if !ok {
		names := make([]string, 0, len(s.cfg.Providers))
		for n := range s.cfg.Providers {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, nil, arm.BadRequest("InvalidParameter", "Unknown cluster provider '%s'; use one of %s.", providerName, strings.Join(names, ", ")).WithTarget("properties.mlfleet.provider")
	}
	info := prov.Info()

	loc := in.Location
	if loc == "" {
		loc = group.Location
	}
	location, ok := arm.NormalizeLocation(loc)
	if !ok {
		return nil, nil, resources.InvalidLocation(loc)
	}
	mc := &armapi.ManagedCluster{Name: name, Type: TypeManagedCluster, Location: location, Tags: in.Tags,
		SKU: armapi.SKU{Name: SKUName, Tier: SKUTierFree}}
	if mc.Tags == nil {
		mc.Tags = map[string]string{}
	}
	props := &mc.Properties
	props.ProvisioningState = armapi.StateCreating
	props.PowerState = armapi.PowerState{Code: PowerRunning}
	props.EnableRBAC = true
	props.DNSPrefix = p.DNSPrefix
	if props.DNSPrefix == "" {
		props.DNSPrefix = dnsPrefix(name, group.Name, sub)
	} else if !dnsPrefixPattern.MatchString(props.DNSPrefix) {
		errs.Add("InvalidParameter", "properties.dnsPrefix", "DNS prefix '%s' is invalid: use 1 to 54 letters, digits and '-', starting and ending with a letter or digit.", props.DNSPrefix)
	}
	props.NodeResourceGroup = fmt.Sprintf("MC_%s_%s_%s", group.Name, name, location)
	props.Mlfleet.Provider = info.Name
	if err := s.setIdentity(ctx, sub, mc, in, &errs); err != nil {
		return nil, nil, err
	}
	checkProfiles(in, props, nil, &errs)

	if !info.CanCreate {
		// A registered cluster: its facts come from the live cluster.
		if p.Mlfleet == nil || strings.TrimSpace(p.Mlfleet.Kubeconfig) == "" {
			errs.Add("InvalidParameter", "properties.mlfleet.kubeconfig", "Registering a cluster with provider '%s' needs properties.mlfleet.kubeconfig (the kubeconfig file, plain or base64).", info.Name)
		} else {
			kubeconfig = decodeMaybeBase64(p.Mlfleet.Kubeconfig)
			props.Mlfleet.Context = p.Mlfleet.Context
			// Read now, not first in the operation, so that a file that is not a kubeconfig,
			// lacks the context named or would run a program here is a 400 that says so (no
			// cluster is contacted).
			connect := kube.Connect
			if info.LocalCredentials {
				connect = kube.ConnectLocal
			}
			var local *kube.LocalCredentialsError
			if _, err := connect(kubeconfig, p.Mlfleet.Context); errors.As(err, &local) {
				errs.Add("InvalidParameter", "properties.mlfleet.kubeconfig", "The kubeconfig cannot be used: %v.", err)
			} else if err != nil {
				errs.Add("InvalidParameter", "properties.mlfleet.kubeconfig", "The kubeconfig cannot be used: %v. Send the cluster's kubeconfig file (plain or base64), and in properties.mlfleet.context one of its contexts or none for its current one.", err)
			}
		}
		props.NetworkProfile = armapi.NetworkProfile{NetworkPlugin: "kubenet", LoadBalancerSku: "standard", OutboundType: "loadBalancer"}
		props.AgentPoolProfiles = []armapi.AgentPoolProfile{}
		return mc, kubeconfig, errs.Err("", "The cluster request")
	}

	// Kubernetes version: the location's default, or a supported one this provider runs.
	// The cluster keeps the version as asked, major.minor too, and runs the catalog's patch
	// of it, which currentKubernetesVersion says, as AKS reports an alias ("If
	// kubernetesVersion was <major.minor>, this field will contain the full
	// <major.minor.patch> version being used"): a template that says 1.37 reads 1.37 back.
	version := p.KubernetesVersion
	if version == "" {
		version = s.cfg.Versions.Default(location).Version
	}
	if v, ok := s.cfg.Versions.Find(location, version); !ok {
		errs = append(errs, unsupportedVersion(version, location, s.cfg.Versions))
	} else if !slices.Contains(info.Versions, v.Version) {
		// The catalog says what Azure offers; the provider what it can run. A version in
		// the first and not the second is refused rather than created with another, since
		// a cluster never reports a version it does not run (S8).
		errs = append(errs, notRunnable(v.Version, p.KubernetesVersion != "", location, info, s.cfg.Versions, fromCompute))
	} else {
		props.KubernetesVersion = orDefault(requestedVersion(p.KubernetesVersion), v.Version)
		props.CurrentKubernetesVersion = v.Version
	}

	pools := p.AgentPoolProfiles
	if len(pools) == 0 {
		pools = []armapi.AgentPoolInput{{Name: DefaultPoolName}}
	}
	seen := map[string]bool{}
	autoscaled := false
	for i, ap := range pools {
		target := fmt.Sprintf("properties.agentPoolProfiles[%d]", i)
		if ap.Name == "" {
			ap.Name = DefaultPoolName
		}
		if !poolName.MatchString(ap.Name) {
			errs.Add("InvalidParameter", target+".name", "Agent pool name '%s' is invalid: 1 to 12 lowercase letters and digits, starting with a letter.", ap.Name)
		}
		if seen[ap.Name] {
			errs.Add("InvalidParameter", target+".name", "Agent pool name '%s' is used twice.", ap.Name)
		}
		seen[ap.Name] = true
		count := DefaultNodeCount
		if ap.Count != nil {
			count = *ap.Count
		}
		if count < 1 || count > 100 {
			errs.Add("InvalidParameter", target+".count", "Agent pool '%s' node count %d is out of range: use 1 to 100.", ap.Name, count)
		}
		size := ap.VMSize
		if size == "" {
			size = DefaultVMSize
		}
		vm, ok := s.cfg.VMSizes.Get(size)
		if !ok {
			errs.Add("InvalidParameter", target+".vmSize", "VM size '%s' is not available; use one of %s.", size, strings.Join(s.cfg.VMSizes.Names(), ", "))
		} else {
			size = vm.Name
		}
		mode := ap.Mode
		if mode == "" {
			mode = "System"
		}
		if mode != "System" && mode != "User" {
			errs.Add("InvalidParameter", target+".mode", "Agent pool mode '%s' is invalid: use System or User.", mode)
		}
		// A pool keeps its orchestratorVersion as asked too (else the cluster's), and runs
		// the cluster's patch (currentOrchestratorVersion).
		pool := armapi.AgentPoolProfile{Name: ap.Name, AgentPoolProperties: armapi.AgentPoolProperties{Count: count, VMSize: size,
			Mode: mode, OSType: "Linux", Type: "VirtualMachineScaleSets", ProvisioningState: armapi.StateCreating,
			OrchestratorVersion: orDefault(requestedVersion(ap.OrchestratorVersion), props.KubernetesVersion), CurrentOrchestratorVersion: props.CurrentKubernetesVersion}}
		pool.Count = poolScaling(target, ap, &pool, ap.Count != nil, false, &errs)
		checkPowerState(target, ap.PowerState, ap.Name, &errs)
		checkNewPoolVersion(target+".orchestratorVersion", ap.Name, ap.OrchestratorVersion, props.CurrentKubernetesVersion, &errs)
		newPoolSettings(target, ap.AgentPoolSettings, &pool, &errs)
		checkUnsupportedPoolSettings(target, ap.Name, ap.AgentPoolSettings, &errs)
		setNodeFacts(&pool)
		autoscaled = autoscaled || pool.EnableAutoScaling
		props.AgentPoolProfiles = append(props.AgentPoolProfiles, pool)
	}
	if autoscaled || p.AutoScalerProfile != nil {
		props.AutoScalerProfile = mergeProfile(p.AutoScalerProfile, nil, &errs)
	}

	np := armapi.NetworkProfile{}
	if p.NetworkProfile != nil {
		np = p.NetworkProfile.NetworkProfile
	}
	np.NetworkPlugin = orDefault(np.NetworkPlugin, networkPlugin)
	np.LoadBalancerSku = strings.ToLower(orDefault(np.LoadBalancerSku, "standard"))
	if np.LoadBalancerSku != "standard" && np.LoadBalancerSku != "basic" {
		errs.Add("InvalidParameter", "properties.networkProfile.loadBalancerSku", "Load balancer SKU '%s' is invalid: use standard or basic.", np.LoadBalancerSku)
	}
	np.OutboundType = orDefault(np.OutboundType, "loadBalancer")
	switch strings.ToLower(np.OutboundType) {
	case "loadbalancer":
		np.OutboundType = "loadBalancer"
	case "userdefinedrouting":
		np.OutboundType = "userDefinedRouting"
	default:
		errs.Add("InvalidParameter", "properties.networkProfile.outboundType", "Outbound type '%s' is invalid: use loadBalancer or userDefinedRouting.", np.OutboundType)
	}
	np.ServiceCidr = orDefault(np.ServiceCidr, DefaultService)
	np.DNSServiceIP = orDefault(np.DNSServiceIP, DefaultDNSIP)
	np.PodCidr = orDefault(np.PodCidr, DefaultPodCIDR)
	svc, err := netip.ParsePrefix(np.ServiceCidr)
	if err != nil {
		errs.Add("InvalidParameter", "properties.networkProfile.serviceCidr", "Service CIDR '%s' is not a valid CIDR such as 10.0.0.0/16.", np.ServiceCidr)
	} else if dns, err := netip.ParseAddr(np.DNSServiceIP); err != nil || !svc.Contains(dns) || dns == svc.Masked().Addr() {
		errs.Add("InvalidParameter", "properties.networkProfile.dnsServiceIP", "DNS service IP '%s' must be an address inside the service CIDR %s other than its first.", np.DNSServiceIP, np.ServiceCidr)
	}
	if _, err := netip.ParsePrefix(np.PodCidr); err != nil {
		errs.Add("InvalidParameter", "properties.networkProfile.podCidr", "Pod CIDR '%s' is not a valid CIDR such as 10.244.0.0/16.", np.PodCidr)
	}
	// Checked with the other unsupported settings (checkProfiles); what passed is AKS's default.
	np.LoadBalancerProfile = defaultLoadBalancerProfile(np)
	props.NetworkProfile = np

	if ap := p.APIServerAccessProfile; ap != nil {
		props.APIServerAccessProfile = &armapi.APIServerAccessProfile{EnablePrivateCluster: ap.EnablePrivateCluster}
		for _, r := range ap.AuthorizedIPRanges {
			if _, err := parseRange(r); err != nil {
				errs.Add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "Authorized IP range '%s' is not an IP address or CIDR.", r)
				continue
			}
			props.APIServerAccessProfile.AuthorizedIPRanges = append(props.APIServerAccessProfile.AuthorizedIPRanges, r)
		}
		if len(ap.AuthorizedIPRanges) > 0 && np.LoadBalancerSku == "basic" {
			errs.Add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "API server authorized IP ranges need a standard load balancer; create the cluster with --load-balancer-sku standard.")
		}
		if len(ap.AuthorizedIPRanges) > 0 && ap.EnablePrivateCluster {
			errs.Add("InvalidParameter", "properties.apiServerAccessProfile", "A private cluster cannot also have authorized IP ranges: its API server has no public endpoint.")
		}
		if len(ap.AuthorizedIPRanges) > 0 && !info.EnforcesAuthorizedIPRanges {
			errs.Add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "The %s provider cannot enforce authorized IP ranges.", info.Name)
		}
	}
	fqdn := fmt.Sprintf("%s.hcp.%s.mlfleet.local", props.DNSPrefix, location)
	if props.APIServerAccessProfile != nil && props.APIServerAccessProfile.EnablePrivateCluster {
		private := fmt.Sprintf("%s.privatelink.%s.mlfleet.local", props.DNSPrefix, location)
		props.PrivateFQDN = &private
	} else {
		props.FQDN = &fqdn
	}
	if err := errs.Err("", "The cluster request"); err != nil {
		return nil, nil, err
	}

	// S16: a policy that forbids public IPs refuses clusters whose outbound traffic needs one.
	// Apart from the other problems and last, because ARM reports a policy refusal as a 403
	// RequestDisallowedByPolicy of its own, not as one detail of a 400; it is answered
	// only for a request that would otherwise be created.
	if np.OutboundType == "loadBalancer" && s.cfg.PublicIPsForbidden != nil {
		forbidden, assignment, err := s.cfg.PublicIPsForbidden(ctx, sub)
		if err != nil {
			return nil, nil, err
		}
		if forbidden {
			return nil, nil, arm.Errorf(http.StatusForbidden, arm.CodeRequestDisallowedByPolicy,
				"Resource '%s' was disallowed by policy assignment '%s': public IP addresses are not allowed in this subscription, and outbound type loadBalancer needs one. Create the cluster with --outbound-type userDefinedRouting.", name, assignment)
		}
	}
	return mc, nil, nil
}

// dnsPrefix is az aks create's default DNS prefix: the name and group cut short, and the
// start of the subscription id, so that it is a valid DNS label however long the names.
func dnsPrefix(name, rg, sub string) string {
	clean := func(s string, n int) string {
		var b strings.Builder
		for _, c := range s {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
				b.WriteRune(c)
			}
		}
		out := b.String()
		if len(out) > n {
			out = out[:n]
		}
		return strings.Trim(out, "-")
	}
	return fmt.Sprintf("%s-%s-%s", clean(name, 10), clean(rg, 16), sub[:6])
}

// decodeMaybeBase64 accepts a kubeconfig plain or base64-encoded: a kubeconfig's YAML
// holds ':' and spaces, which base64 never does, so the two cannot be mistaken.
func decodeMaybeBase64(s string) []byte {
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
		return b
	}
	return []byte(s)
}

// parseRange reads an authorized IP range, a CIDR or a bare address (as az accepts both),
// masked so that 10.0.0.1/8 and 10.0.0.0/8 compare equal.
func parseRange(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
