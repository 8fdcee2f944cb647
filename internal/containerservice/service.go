package containerservice

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/quota"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Operation kinds run by this package.
const (
	KindCreate = "managedclusters.create"
	KindUpdate = "managedclusters.update"
)

// Provisioning states of clusters.
const (
	StateCreating  = "Creating"
	StateUpdating  = "Updating"
	StateSucceeded = "Succeeded"
	StateFailed    = "Failed"
)

// CodeClusterNotRunning is the error code of a cluster whose provider has not brought it up
// (yet): right after a restart, the embedded clusters start in the background.
const CodeClusterNotRunning = "ClusterNotRunning"

// Defaults applied when a PUT leaves them out (az aks create's defaults).
const (
	DefaultPoolName  = "nodepool1"
	DefaultNodeCount = 3
	DefaultVMSize    = "Standard_DS2_v2"
	DefaultService   = "10.0.0.0/16"
	DefaultDNSIP     = "10.0.0.10"
	DefaultPodCIDR   = "10.244.0.0/16"
)

// Config wires a Service.
type Config struct {
	Store     store.Store
	Engine    *operations.Engine
	Resources *resources.Service
	Versions  *catalog.Versions
	VMSizes   *catalog.VMSizes
	Secrets   *secrets.Box
	// Providers by name; "embedded" is the default for new clusters.
	Providers map[string]provider.Provider
	// Policy reports whether public IPs are forbidden in a subscription (S16); nil = never.
	PublicIPsForbidden func(ctx context.Context, sub string) (bool, string, error)
	// Quotas limit the clusters and vCPUs of each subscription in each region; nil means
	// quota.Defaults().
	Quotas *quota.Quotas
	Logger *slog.Logger
}

// Service manages managed clusters.
type Service struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	// locks serialise what this process does to one cluster's provider: bringing it up
	// (create, resume after restart) and deleting it, so a delete never races a start.
	locks *keyedMutex
}

// New returns a Service, registering its operation handlers and its cascade deleter.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Quotas == nil {
		cfg.Quotas = quota.Defaults()
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "containerservice"), now: time.Now, locks: newKeyedMutex()}
	cfg.Engine.Register(KindCreate, s.runCreate)
	cfg.Engine.OnFailure(KindCreate, s.failedCreate)
	cfg.Engine.Register(KindUpdate, s.runUpdate)
	cfg.Engine.OnFailure(KindUpdate, s.failedUpdate)
	cfg.Resources.RegisterDeleter(TypeManagedCluster, s.deleteCluster)
	return s
}

// Versions returns the version catalog.
func (s *Service) Versions() *catalog.Versions { return s.cfg.Versions }

// VMSizes returns the VM size catalog.
func (s *Service) VMSizes() *catalog.VMSizes { return s.cfg.VMSizes }

// ID returns a managed cluster's ARM id.
func ID(sub, rg, name string) string {
	return arm.ResourcePath(sub, rg, Namespace, "managedClusters", name)
}

// ClusterID is the provider id of the cluster with this ARM id: a stable DNS label.
func ClusterID(armID string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(armID)))
	return "c" + hex.EncodeToString(sum[:])[:15]
}

var (
	clusterName = regexp.MustCompile(`^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$`)
	poolName    = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)
)

// fieldErrors collects validation failures to report them together.
type fieldErrors []*arm.Error

func (f *fieldErrors) add(code, target, format string, args ...any) {
	*f = append(*f, arm.BadRequest(code, format, args...).WithTarget(target))
}

func (f fieldErrors) err() error {
	switch len(f) {
	case 0:
		return nil
	case 1:
		return f[0]
	}
	msgs := make([]string, len(f))
	for i, e := range f {
		msgs[i] = e.Message
	}
	e := arm.BadRequest("InvalidParameter", "%d problems with the request: %s", len(f), strings.Join(msgs, " "))
	e.Details = f
	return e
}

// Put creates a cluster, or changes an existing one (node counts, authorized IP ranges,
// tags). It returns the cluster as stored, whether it is new, and the operation when work
// runs in the background (nil when nothing had to change). With If-None-Match: * it only
// creates: an existing cluster is a 409 that says how to change it.
func (s *Service) Put(ctx context.Context, sub, rg, name string, in ClusterInput, pre arm.Preconditions) (*ManagedCluster, bool, *store.Operation, error) {
	group, err := s.cfg.Resources.WritableGroup(ctx, sub, rg)
	if err != nil {
		return nil, false, nil, err
	}
	if !clusterName.MatchString(name) {
		return nil, false, nil, arm.BadRequest(arm.CodeInvalidResourceName,
			"Cluster name '%s' is invalid: use 1 to 63 letters, digits, '-' or '_', starting and ending with a letter or digit.", name).WithTarget("resourceName")
	}
	id := ID(sub, group.Name, name)
	what := fmt.Sprintf("Managed cluster '%s'", name)
	existing, err := s.cfg.Store.GetResource(ctx, id)
	var failed *store.Resource
	switch {
	case err == nil:
		if err := pre.CheckIfMatch(what, true, arm.ETag(existing.Version)); err != nil {
			return nil, false, nil, err
		}
		if failed, err = s.failedLeftover(ctx, existing); err != nil {
			return nil, false, nil, err
		}
		if failed == nil {
			if pre.IfNoneMatch {
				return nil, false, nil, s.exists(existing)
			}
			return s.update(ctx, existing, in, pre)
		}
		// A cluster whose create failed is created again, as ARM re-runs a failed PUT.
	case !errors.Is(err, store.ErrNotFound):
		return nil, false, nil, fmt.Errorf("get cluster %s: %w", name, err)
	default:
		if err := pre.CheckIfMatch(what, false, ""); err != nil {
			return nil, false, nil, err
		}
	}
	nc, err := s.Prepare(ctx, sub, group.Name, name, in, "")
	if err != nil {
		return nil, false, nil, err
	}
	var op *store.Operation
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if failed != nil {
			if err := removeRows(ctx, tx, failed, failed.Version); err != nil {
				return err
			}
		}
		op, err = s.Insert(ctx, tx, nc)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		if pre.IfNoneMatch {
			if r, gerr := s.cfg.Store.GetResource(ctx, id); gerr == nil {
				return nil, false, nil, s.exists(r)
			}
		}
		return nil, false, nil, arm.Conflict("Cluster '%s' is being created by another request; wait for it, then retry.", name)
	}
	if err != nil {
		return nil, false, nil, err
	}
	s.cfg.Engine.Wake()
	nc.cluster.ETag = arm.ETag(1)
	return nc.cluster, true, op, nil
}

// failedLeftover returns r when it is a cluster whose create failed and on which nothing
// runs: a new PUT creates it again. nil otherwise.
func (s *Service) failedLeftover(ctx context.Context, r *store.Resource) (*store.Resource, error) {
	mc, err := decode(r)
	if err != nil || mc.Properties.ProvisioningState != StateFailed {
		return nil, err
	}
	ops, err := s.cfg.Store.ListOperations(ctx, store.OperationFilter{ResourceID: r.ID, Status: store.StatusInProgress})
	if err != nil || len(ops) > 0 {
		return nil, err
	}
	return r, nil
}

// removeRows deletes a cluster's row (only at version ifVersion when that is set) and the
// rows under it, through tx.
func removeRows(ctx context.Context, tx store.Store, r *store.Resource, ifVersion int64) error {
	children, err := tx.ListResources(ctx, store.ListOptions{Scope: r.ID})
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := tx.DeleteResource(ctx, c.ID, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err := tx.DeleteResource(ctx, r.ID, ifVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete cluster %s: %w", r.Name, err)
	}
	return nil
}

// exists is the 409 of a create (If-None-Match: *) on an existing cluster.
func (s *Service) exists(r *store.Resource) error {
	return arm.Conflict("Managed cluster '%s' already exists in resource group '%s'; use 'mlfleet aks update' or 'mlfleet aks scale' to change it, or choose another name.", r.Name, r.ResourceGroup)
}

// NewCluster is a validated request to create a cluster, ready to Insert.
type NewCluster struct {
	resource   *store.Resource
	cluster    *ManagedCluster
	kubeconfig []byte
}

// ID returns the new cluster's ARM id.
func (nc *NewCluster) ID() string { return nc.resource.ID }

// Prepare validates a request to create cluster name in resource group rg (every problem
// together, policy included) and returns it ready to Insert. createdFor, when set, is the
// id of the compute that creates the cluster from its workspace: the cluster records it,
// and only that compute may delete it. Prepare writes nothing.
func (s *Service) Prepare(ctx context.Context, sub, rg, name string, in ClusterInput, createdFor string) (*NewCluster, error) {
	group, err := s.cfg.Resources.WritableGroup(ctx, sub, rg)
	if err != nil {
		return nil, err
	}
	mc, kubeconfig, err := s.validateNew(ctx, sub, group, name, in)
	if err != nil {
		return nil, err
	}
	id := ID(sub, group.Name, name)
	mc.ID = id
	mc.Properties.Mlfleet.ClusterID = ClusterID(id)
	mc.Properties.Mlfleet.CreatedFor = createdFor
	mc.SystemData = resources.Touch(ctx, nil, s.now())
	body, _ := json.Marshal(mc)
	r := &store.Resource{ID: id, ParentID: group.ID, Type: TypeManagedCluster, Name: name, SubscriptionID: sub,
		ResourceGroup: group.Name, Location: mc.Location, Body: body}
	return &NewCluster{resource: r, cluster: mc, kubeconfig: kubeconfig}, nil
}

// Insert writes a prepared cluster, its sealed kubeconfig and its create operation through
// tx, a transaction of the store; the caller wakes the engine once it committed. Returns
// an error wrapping store.ErrConflict when a cluster of that name exists, and a 400
// QuotaExceeded when the cluster does not fit in its subscription's quotas in its region,
// counted in tx (see quota.go).
func (s *Service) Insert(ctx context.Context, tx store.Store, nc *NewCluster) (*store.Operation, error) {
	r := *nc.resource
	// Written first, so that a cluster of that name is a conflict whatever the quotas.
	if err := tx.CreateResource(ctx, &r); err != nil {
		return nil, fmt.Errorf("create cluster %s: %w", r.Name, err)
	}
	if err := s.reserve(ctx, tx, r.SubscriptionID, r.Location, s.createRequest(nc.cluster), r.ID); err != nil {
		return nil, err
	}
	if nc.kubeconfig != nil {
		if err := s.saveKubeconfig(ctx, tx, &r, nc.kubeconfig); err != nil {
			return nil, err
		}
	}
	return s.cfg.Engine.SubmitIn(ctx, tx, KindCreate, r.ID, r.SubscriptionID, clusterOp{ID: r.ID})
}

// Validate checks a request to create a new cluster without creating it: the same checks,
// policy and quotas included, and the same errors as Put. A cluster of that name must not
// exist. It returns the cluster ready to Insert, recording createdFor as Prepare does; the
// quotas are checked again, atomically, by Insert.
func (s *Service) Validate(ctx context.Context, sub, rg, name string, in ClusterInput, createdFor string) (*NewCluster, error) {
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
func (s *Service) validateNew(ctx context.Context, sub string, group *resources.ResourceGroup, name string, in ClusterInput) (*ManagedCluster, []byte, error) {
	var errs fieldErrors
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
	mc := &ManagedCluster{Name: name, Type: TypeManagedCluster, Location: location, Tags: in.Tags,
		SKU: SKU{Name: "Base", Tier: "Free"}}
	if mc.Tags == nil {
		mc.Tags = map[string]string{}
	}
	props := &mc.Properties
	props.ProvisioningState = StateCreating
	props.PowerState = PowerState{Code: "Running"}
	props.EnableRBAC = true
	props.DNSPrefix = p.DNSPrefix
	if props.DNSPrefix == "" {
		props.DNSPrefix = dnsPrefix(name, group.Name, sub)
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
			errs.add("InvalidParameter", "properties.mlfleet.kubeconfig", "Registering a cluster with provider '%s' needs properties.mlfleet.kubeconfig (the kubeconfig file, plain or base64).", info.Name)
		} else {
			kubeconfig = decodeMaybeBase64(p.Mlfleet.Kubeconfig)
			props.Mlfleet.Context = p.Mlfleet.Context
		}
		props.NetworkProfile = NetworkProfile{NetworkPlugin: "kubenet", LoadBalancerSku: "standard", OutboundType: "loadBalancer"}
		props.AgentPoolProfiles = []AgentPoolProfile{}
		return mc, kubeconfig, errs.err()
	}

	// Kubernetes version: the location's default, or a supported one this provider runs.
	version := p.KubernetesVersion
	if version == "" {
		version = s.cfg.Versions.Default(location).Version
	}
	if v, ok := s.cfg.Versions.Find(location, version); !ok {
		errs = append(errs, unsupportedVersion(version, location, s.cfg.Versions))
	} else if !slices.Contains(info.Versions, v.Version) {
		e := arm.BadRequest(arm.CodeUnsupportedKubernetesVersion,
			"Kubernetes version %s is supported in %s but the %s provider runs only %s; create the cluster with --kubernetes-version %s, or register a cluster of that version from its kubeconfig ('mlfleet aks import').",
			v.Version, location, info.Name, strings.Join(info.Versions, ", "), info.Versions[0]).WithTarget("properties.kubernetesVersion")
		errs = append(errs, e)
	} else {
		props.KubernetesVersion = v.Version
		props.CurrentKubernetesVersion = v.Version
	}

	pools := p.AgentPoolProfiles
	if len(pools) == 0 {
		pools = []AgentPoolInput{{Name: DefaultPoolName}}
	}
	seen := map[string]bool{}
	autoscaled := false
	for i, ap := range pools {
		target := fmt.Sprintf("properties.agentPoolProfiles[%d]", i)
		if ap.Name == "" {
			ap.Name = DefaultPoolName
		}
		if !poolName.MatchString(ap.Name) {
			errs.add("InvalidParameter", target+".name", "Agent pool name '%s' is invalid: 1 to 12 lowercase letters and digits, starting with a letter.", ap.Name)
		}
		if seen[ap.Name] {
			errs.add("InvalidParameter", target+".name", "Agent pool name '%s' is used twice.", ap.Name)
		}
		seen[ap.Name] = true
		count := DefaultNodeCount
		if ap.Count != nil {
			count = *ap.Count
		}
		if count < 1 || count > 100 {
			errs.add("InvalidParameter", target+".count", "Agent pool '%s' node count %d is out of range: use 1 to 100.", ap.Name, count)
		}
		size := ap.VMSize
		if size == "" {
			size = DefaultVMSize
		}
		vm, ok := s.cfg.VMSizes.Get(size)
		if !ok {
			errs.add("InvalidParameter", target+".vmSize", "VM size '%s' is not available; use one of %s.", size, strings.Join(s.cfg.VMSizes.Names(), ", "))
		} else {
			size = vm.Name
		}
		mode := ap.Mode
		if mode == "" {
			mode = "System"
		}
		if mode != "System" && mode != "User" {
			errs.add("InvalidParameter", target+".mode", "Agent pool mode '%s' is invalid: use System or User.", mode)
		}
		pool := AgentPoolProfile{Name: ap.Name, Count: count, VMSize: size,
			Mode: mode, OSType: "Linux", Type: "VirtualMachineScaleSets", OrchestratorVersion: props.KubernetesVersion, ProvisioningState: StateCreating}
		pool.Count = poolScaling(target, ap, &pool, ap.Count != nil, false, &errs)
		autoscaled = autoscaled || pool.EnableAutoScaling
		props.AgentPoolProfiles = append(props.AgentPoolProfiles, pool)
	}
	if autoscaled || p.AutoScalerProfile != nil {
		props.AutoScalerProfile = mergeProfile(p.AutoScalerProfile, nil, &errs)
	}

	np := NetworkProfile{}
	if p.NetworkProfile != nil {
		np = *p.NetworkProfile
	}
	np.NetworkPlugin = orDefault(np.NetworkPlugin, "kubenet")
	np.LoadBalancerSku = strings.ToLower(orDefault(np.LoadBalancerSku, "standard"))
	if np.LoadBalancerSku != "standard" && np.LoadBalancerSku != "basic" {
		errs.add("InvalidParameter", "properties.networkProfile.loadBalancerSku", "Load balancer SKU '%s' is invalid: use standard or basic.", np.LoadBalancerSku)
	}
	np.OutboundType = orDefault(np.OutboundType, "loadBalancer")
	switch strings.ToLower(np.OutboundType) {
	case "loadbalancer":
		np.OutboundType = "loadBalancer"
	case "userdefinedrouting":
		np.OutboundType = "userDefinedRouting"
	default:
		errs.add("InvalidParameter", "properties.networkProfile.outboundType", "Outbound type '%s' is invalid: use loadBalancer or userDefinedRouting.", np.OutboundType)
	}
	np.ServiceCidr = orDefault(np.ServiceCidr, DefaultService)
	np.DNSServiceIP = orDefault(np.DNSServiceIP, DefaultDNSIP)
	np.PodCidr = orDefault(np.PodCidr, DefaultPodCIDR)
	svc, err := netip.ParsePrefix(np.ServiceCidr)
	if err != nil {
		errs.add("InvalidParameter", "properties.networkProfile.serviceCidr", "Service CIDR '%s' is not a valid CIDR such as 10.0.0.0/16.", np.ServiceCidr)
	} else if dns, err := netip.ParseAddr(np.DNSServiceIP); err != nil || !svc.Contains(dns) || dns == svc.Masked().Addr() {
		errs.add("InvalidParameter", "properties.networkProfile.dnsServiceIP", "DNS service IP '%s' must be an address inside the service CIDR %s other than its first.", np.DNSServiceIP, np.ServiceCidr)
	}
	if _, err := netip.ParsePrefix(np.PodCidr); err != nil {
		errs.add("InvalidParameter", "properties.networkProfile.podCidr", "Pod CIDR '%s' is not a valid CIDR such as 10.244.0.0/16.", np.PodCidr)
	}
	props.NetworkProfile = np

	if ap := p.APIServerAccessProfile; ap != nil {
		props.APIServerAccessProfile = &APIServerAccessProfile{EnablePrivateCluster: ap.EnablePrivateCluster}
		for _, r := range ap.AuthorizedIPRanges {
			if _, err := parseRange(r); err != nil {
				errs.add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "Authorized IP range '%s' is not an IP address or CIDR.", r)
				continue
			}
			props.APIServerAccessProfile.AuthorizedIPRanges = append(props.APIServerAccessProfile.AuthorizedIPRanges, r)
		}
		if len(ap.AuthorizedIPRanges) > 0 && np.LoadBalancerSku == "basic" {
			errs.add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "API server authorized IP ranges need a standard load balancer; create the cluster with --load-balancer-sku standard.")
		}
		if len(ap.AuthorizedIPRanges) > 0 && ap.EnablePrivateCluster {
			errs.add("InvalidParameter", "properties.apiServerAccessProfile", "A private cluster cannot also have authorized IP ranges: its API server has no public endpoint.")
		}
		if len(ap.AuthorizedIPRanges) > 0 && !info.EnforcesAuthorizedIPRanges {
			errs.add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "The %s provider cannot enforce authorized IP ranges.", info.Name)
		}
	}
	fqdn := fmt.Sprintf("%s.hcp.%s.mlfleet.local", props.DNSPrefix, location)
	if props.APIServerAccessProfile != nil && props.APIServerAccessProfile.EnablePrivateCluster {
		private := fmt.Sprintf("%s.privatelink.%s.mlfleet.local", props.DNSPrefix, location)
		props.PrivateFQDN = &private
	} else {
		props.FQDN = &fqdn
	}
	if err := errs.err(); err != nil {
		return nil, nil, err
	}

	// S16: a policy that forbids public IPs refuses clusters whose outbound traffic needs one.
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

// update changes an existing cluster in place: node counts of existing pools, authorized
// IP ranges and tags. Anything else is refused with the reason.
func (s *Service) update(ctx context.Context, r *store.Resource, in ClusterInput, pre arm.Preconditions) (*ManagedCluster, bool, *store.Operation, error) {
	var mc ManagedCluster
	if err := json.Unmarshal(r.Body, &mc); err != nil {
		return nil, false, nil, fmt.Errorf("decode cluster %s: %w", r.ID, err)
	}
	withDefaults(&mc)
	cur := mc
	cur.Properties.AgentPoolProfiles = slices.Clone(mc.Properties.AgentPoolProfiles)
	if err := s.idle(ctx, s.cfg.Store, r.ID, &mc); err != nil {
		return nil, false, nil, err
	}
	var errs fieldErrors
	p := in.Properties
	if in.Location != "" {
		if loc, _ := arm.NormalizeLocation(in.Location); loc != mc.Location {
			errs.add("InvalidParameter", "location", "Cluster '%s' is in %s; its location cannot be changed.", mc.Name, mc.Location)
		}
	}
	if p.KubernetesVersion != "" && strings.TrimPrefix(p.KubernetesVersion, "v") != mc.Properties.KubernetesVersion &&
		!strings.HasPrefix(mc.Properties.KubernetesVersion, strings.TrimPrefix(p.KubernetesVersion, "v")+".") {
		errs.add("InvalidParameter", "properties.kubernetesVersion", "Cluster '%s' runs Kubernetes %s; upgrades are not supported by mlfleet yet.", mc.Name, mc.Properties.KubernetesVersion)
	}
	checkIdentityUnchanged(in, &mc, &errs)
	checkProfiles(in, &mc.Properties, &cur.Properties, &errs)
	want := updateOp{ID: r.ID, Counts: map[string]int{}}
	info := s.providerInfo(mc.Properties.Mlfleet.Provider)
	autoscaled := slices.ContainsFunc(mc.Properties.AgentPoolProfiles, func(x AgentPoolProfile) bool { return x.EnableAutoScaling })
	for i, ap := range p.AgentPoolProfiles {
		target := fmt.Sprintf("properties.agentPoolProfiles[%d]", i)
		idx := slices.IndexFunc(mc.Properties.AgentPoolProfiles, func(x AgentPoolProfile) bool { return x.Name == orDefault(ap.Name, DefaultPoolName) })
		if idx < 0 {
			errs.add("InvalidParameter", target+".name", "Cluster '%s' has no agent pool '%s'; adding pools is not supported.", mc.Name, ap.Name)
			continue
		}
		cur := mc.Properties.AgentPoolProfiles[idx]
		if ap.VMSize != "" && !strings.EqualFold(ap.VMSize, cur.VMSize) {
			errs.add("InvalidParameter", target+".vmSize", "The VM size of agent pool '%s' is %s and cannot be changed; create a new cluster with the size you need.", cur.Name, cur.VMSize)
		}
		next := cur
		count := poolScaling(target, ap, &next, ap.Count != nil, true, &errs)
		if next.EnableAutoScaling != cur.EnableAutoScaling || !slices.Equal(ptrs(next.MinCount, next.MaxCount), ptrs(cur.MinCount, cur.MaxCount)) {
			if !info.CanScale {
				errs.add("InvalidParameter", target+".enableAutoScaling", "Clusters of the %s provider are scaled where they run: their autoscaling cannot be changed through mlfleet.", info.Name)
				continue
			}
			pool := &mc.Properties.AgentPoolProfiles[idx]
			pool.EnableAutoScaling, pool.MinCount, pool.MaxCount = next.EnableAutoScaling, next.MinCount, next.MaxCount
		}
		autoscaled = autoscaled || next.EnableAutoScaling
		if next.EnableAutoScaling || cur.EnableAutoScaling {
			if count != cur.Count {
				want.Counts[cur.Name] = count
			}
		} else if ap.Count != nil && *ap.Count != cur.Count {
			if !info.CanScale {
				errs.add("InvalidParameter", target+".count", "Clusters of the %s provider are scaled where they run, not through mlfleet.", info.Name)
			} else if *ap.Count < 1 || *ap.Count > 100 {
				errs.add("InvalidParameter", target+".count", "Agent pool '%s' node count %d is out of range: use 1 to 100.", cur.Name, *ap.Count)
			} else {
				want.Counts[cur.Name] = *ap.Count
			}
		}
	}
	if autoscaled || p.AutoScalerProfile != nil {
		mc.Properties.AutoScalerProfile = mergeProfile(p.AutoScalerProfile, cur.Properties.AutoScalerProfile, &errs)
	}
	if ap := p.APIServerAccessProfile; ap != nil {
		cur := mc.Properties.APIServerAccessProfile
		if cur == nil {
			cur = &APIServerAccessProfile{}
		}
		if ap.EnablePrivateCluster != cur.EnablePrivateCluster {
			errs.add("InvalidParameter", "properties.apiServerAccessProfile.enablePrivateCluster", "A cluster cannot be made private or public after creation.")
		}
		if cur.EnablePrivateCluster && len(ap.AuthorizedIPRanges) > 0 {
			errs.add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "A private cluster cannot have authorized IP ranges: its API server has no public endpoint.")
		}
		for _, x := range ap.AuthorizedIPRanges {
			if _, err := parseRange(x); err != nil {
				errs.add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "Authorized IP range '%s' is not an IP address or CIDR.", x)
			}
		}
		if !slices.Equal(ap.AuthorizedIPRanges, cur.AuthorizedIPRanges) {
			switch {
			case len(ap.AuthorizedIPRanges) > 0 && mc.Properties.NetworkProfile.LoadBalancerSku == "basic":
				errs.add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "API server authorized IP ranges need a standard load balancer; this cluster has a basic one.")
			case !info.EnforcesAuthorizedIPRanges:
				errs.add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "The %s provider cannot enforce authorized IP ranges.", info.Name)
			default:
				ranges := append([]string{}, ap.AuthorizedIPRanges...)
				want.Ranges = &ranges
			}
		}
	}
	if err := errs.err(); err != nil {
		return nil, false, nil, err
	}
	if in.Tags != nil {
		mc.Tags = in.Tags
	}
	mc.SystemData = resources.Touch(ctx, mc.SystemData, s.now())
	var op *store.Operation
	request := s.scaleRequest(&mc, want.Counts)
	// A change of the autoscaler runs as an operation too: it reconfigures the provider.
	want.Autoscale = autoscaleChanged(&cur, &mc)
	if len(want.Counts) > 0 || want.Ranges != nil || want.Autoscale {
		mc.Properties.ProvisioningState = StateUpdating
	}
	r.Body, _ = json.Marshal(&mc)
	// The change and its operation commit together; the version read above guards against
	// a concurrent change (which gets the 409 below instead of being overwritten), the
	// quota lock against concurrent creates and scales in the region.
	err := s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if err := s.idle(ctx, tx, r.ID, &mc); err != nil {
			return err
		}
		if err := s.reserve(ctx, tx, r.SubscriptionID, mc.Location, request, ""); err != nil {
			return err
		}
		w := *r
		if err := tx.UpdateResource(ctx, &w); err != nil {
			return fmt.Errorf("update cluster %s: %w", mc.Name, err)
		}
		r.Version = w.Version
		op = nil
		if mc.Properties.ProvisioningState == StateUpdating {
			var err error
			op, err = s.cfg.Engine.SubmitIn(ctx, tx, KindUpdate, r.ID, r.SubscriptionID, want)
			return err
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, false, nil, arm.Errorf(http.StatusConflict, arm.CodeOperationInProgress,
			"Cluster '%s' was changed by another request at the same time; read it again and retry.", mc.Name)
	}
	if err != nil {
		return nil, false, nil, err
	}
	if op != nil {
		s.cfg.Engine.Wake()
	}
	mc.ETag = arm.ETag(r.Version)
	return &mc, false, op, nil
}

// idle refuses a change while another operation runs on the cluster.
func (s *Service) idle(ctx context.Context, st store.Store, id string, mc *ManagedCluster) error {
	ops, err := st.ListOperations(ctx, store.OperationFilter{ResourceID: id, Status: store.StatusInProgress})
	if err != nil {
		return fmt.Errorf("list operations: %w", err)
	}
	if len(ops) > 0 {
		return arm.Errorf(http.StatusConflict, arm.CodeOperationInProgress,
			"Cluster '%s' is %s (operation %s); wait for it to finish, then retry.", mc.Name, strings.ToLower(mc.Properties.ProvisioningState), ops[0].ID)
	}
	return nil
}

// ScalePool sets the node count of one agent pool (PUT agentPools/{pool}).
func (s *Service) ScalePool(ctx context.Context, sub, rg, name, pool string, in AgentPoolPut) (*AgentPool, *store.Operation, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, nil, err
	}
	idx := slices.IndexFunc(mc.Properties.AgentPoolProfiles, func(x AgentPoolProfile) bool { return x.Name == pool })
	if idx < 0 {
		return nil, nil, arm.NotFound(arm.CodeResourceNotFound, "Cluster '%s' has no agent pool '%s'; adding pools is not supported.", name, pool)
	}
	ip := in.Properties
	if ip.Count == nil && ip.EnableAutoScaling == nil && ip.MinCount == nil && ip.MaxCount == nil {
		return nil, nil, arm.BadRequest("InvalidParameter", "properties.count is required to scale agent pool '%s'.", pool).WithTarget("properties.count")
	}
	var ci ClusterInput
	ci.Properties.AgentPoolProfiles = []AgentPoolInput{{Name: pool, Count: ip.Count, VMSize: ip.VMSize,
		EnableAutoScaling: ip.EnableAutoScaling, MinCount: ip.MinCount, MaxCount: ip.MaxCount}}
	updated, _, op, err := s.Put(ctx, sub, rg, name, ci, arm.Preconditions{})
	if err != nil {
		return nil, nil, err
	}
	ap := agentPool(updated, updated.Properties.AgentPoolProfiles[idx])
	if op != nil {
		if ip.Count != nil && !ap.Properties.EnableAutoScaling {
			ap.Properties.Count = *ip.Count
		}
		ap.Properties.ProvisioningState = StateUpdating
	}
	return ap, op, nil
}

// GetPool returns one agent pool as a child resource.
func (s *Service) GetPool(ctx context.Context, sub, rg, name, pool string) (*AgentPool, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	for _, p := range mc.Properties.AgentPoolProfiles {
		if p.Name == pool {
			return agentPool(mc, p), nil
		}
	}
	return nil, arm.NotFound(arm.CodeResourceNotFound, "Cluster '%s' has no agent pool '%s'.", name, pool)
}

// ListPools returns the agent pools of a cluster.
func (s *Service) ListPools(ctx context.Context, sub, rg, name string) ([]*AgentPool, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	out := []*AgentPool{}
	for _, p := range mc.Properties.AgentPoolProfiles {
		out = append(out, agentPool(mc, p))
	}
	return out, nil
}

func agentPool(mc *ManagedCluster, p AgentPoolProfile) *AgentPool {
	return &AgentPool{ID: mc.ID + "/agentPools/" + p.Name, Name: p.Name, Type: TypeManagedCluster + "/agentPools",
		Properties: AgentPoolProperties{Count: p.Count, VMSize: p.VMSize, Mode: p.Mode, OSType: p.OSType, Type: p.Type,
			OrchestratorVersion: p.OrchestratorVersion, ProvisioningState: p.ProvisioningState,
			EnableAutoScaling: p.EnableAutoScaling, MinCount: p.MinCount, MaxCount: p.MaxCount}}
}

// Get returns a cluster, or a 404.
func (s *Service) Get(ctx context.Context, sub, rg, name string) (*ManagedCluster, error) {
	if _, err := s.cfg.Resources.GetGroup(ctx, sub, rg); err != nil {
		return nil, err
	}
	return s.GetByID(ctx, ID(sub, rg, name))
}

// GetByID returns the cluster with this ARM id, or a 404 ResourceNotFound.
func (s *Service) GetByID(ctx context.Context, id string) (*ManagedCluster, error) {
	r, err := s.cfg.Store.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		parsed, _ := arm.ParseID(id)
		return nil, arm.NotFound(arm.CodeResourceNotFound, "The managed cluster '%s' could not be found in resource group '%s'.", parsed.Name(), parsed.ResourceGroup)
	}
	if err != nil {
		return nil, fmt.Errorf("get cluster %s: %w", id, err)
	}
	return decode(r)
}

// List returns a page of clusters of a resource group, or of the subscription when rg is "".
func (s *Service) List(ctx context.Context, sub, rg string, p resources.Page) ([]*ManagedCluster, bool, error) {
	opts := store.ListOptions{Type: TypeManagedCluster}
	if rg == "" {
		if _, err := s.cfg.Resources.GetSubscription(ctx, sub); err != nil {
			return nil, false, err
		}
		opts.Scope = arm.SubscriptionPath(sub)
	} else {
		if _, err := s.cfg.Resources.GetGroup(ctx, sub, rg); err != nil {
			return nil, false, err
		}
		opts.ParentID = arm.ResourceGroupPath(sub, rg)
	}
	rows, more, err := resources.ListPage(ctx, s.cfg.Store, opts, p)
	if err != nil {
		return nil, false, fmt.Errorf("list clusters: %w", err)
	}
	out := make([]*ManagedCluster, 0, len(rows))
	for _, r := range rows {
		mc, err := decode(r)
		if err != nil {
			return nil, false, err
		}
		out = append(out, mc)
	}
	return out, more, nil
}

// Delete starts deleting a cluster; nil, nil when it does not exist.
func (s *Service) Delete(ctx context.Context, sub, rg, name string, pre arm.Preconditions) (*store.Operation, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Code == arm.CodeResourceNotFound {
		if err := pre.CheckIfMatch(fmt.Sprintf("Managed cluster '%s'", name), false, ""); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var op *store.Operation
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		r, err := tx.GetResource(ctx, mc.ID)
		if err != nil {
			return err
		}
		if err := pre.CheckIfMatch(fmt.Sprintf("Managed cluster '%s'", name), true, arm.ETag(r.Version)); err != nil {
			return err
		}
		op, err = s.cfg.Resources.StartDeleteIn(ctx, tx, mc.ID, sub)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Engine.Wake()
	return op, nil
}

// DeleteFor starts deleting the cluster clusterID on behalf of compute computeID, only if
// that compute created it (CreatedFor). It returns nil, nil when the cluster is gone or is
// not the compute's to delete: a cluster mlfleet did not create for that compute is never
// deleted by it.
func (s *Service) DeleteFor(ctx context.Context, clusterID, computeID string) (*store.Operation, error) {
	var op *store.Operation
	err := s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		r, err := tx.GetResource(ctx, clusterID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		mc, err := decode(r)
		if err != nil {
			return err
		}
		if !strings.EqualFold(mc.Properties.Mlfleet.CreatedFor, computeID) {
			s.log.Info("cluster not deleted: the compute did not create it", "cluster", clusterID, "compute", computeID, "createdFor", mc.Properties.Mlfleet.CreatedFor)
			return nil
		}
		op, err = s.cfg.Resources.StartDeleteIn(ctx, tx, clusterID, r.SubscriptionID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if op != nil {
		s.cfg.Engine.Wake()
	}
	return op, nil
}

// Disown makes a cluster that compute computeID created the user's: the compute is going
// away without it (detach). Nothing when the compute did not create it. st may be a
// transaction.
func (s *Service) Disown(ctx context.Context, st store.Store, clusterID, computeID string) error {
	_, err := store.Modify(ctx, st, clusterID, func(r *store.Resource) error {
		mc, err := decode(r)
		if err != nil {
			return err
		}
		if !strings.EqualFold(mc.Properties.Mlfleet.CreatedFor, computeID) {
			return errNoChange
		}
		mc.Properties.Mlfleet.CreatedFor = ""
		r.Body, _ = json.Marshal(mc)
		return nil
	})
	if errors.Is(err, errNoChange) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// errNoChange stops a store.Modify that has nothing to write.
var errNoChange = errors.New("no change")

// Credentials returns the cluster's admin or user kubeconfig.
func (s *Service) Credentials(ctx context.Context, sub, rg, name string, admin bool) (*CredentialResults, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	if mc.Properties.ProvisioningState == StateCreating || mc.Properties.ProvisioningState == StateFailed {
		return nil, arm.Conflict("Cluster '%s' is %s; credentials exist once it has been created.", name, strings.ToLower(mc.Properties.ProvisioningState))
	}
	creds, err := s.ClusterCredentials(ctx, mc)
	if err != nil {
		return nil, err
	}
	kc, kind := creds.User, "clusterUser"
	if admin {
		kc, kind = creds.Admin, "clusterAdmin"
	}
	parsed, err := arm.ParseID(mc.ID)
	if err != nil {
		return nil, fmt.Errorf("credentials of cluster %s: %w", mc.Name, err)
	}
	if kc, err = aksKubeconfig(kc, mc.Properties.Mlfleet.Context, parsed.ResourceGroup, mc.Name, admin); err != nil {
		return nil, err
	}
	return &CredentialResults{Kubeconfigs: []CredentialResult{{Name: kind, Value: kc}}}, nil
}

// ClusterCredentials returns the kubeconfigs of a cluster from its provider.
func (s *Service) ClusterCredentials(ctx context.Context, mc *ManagedCluster) (*provider.Credentials, error) {
	prov, err := s.provider(mc.Properties.Mlfleet.Provider)
	if err != nil {
		return nil, err
	}
	creds, err := prov.Credentials(ctx, mc.Properties.Mlfleet.ClusterID)
	if errors.Is(err, provider.ErrNotFound) {
		return nil, arm.Errorf(http.StatusConflict, CodeClusterNotRunning, "Cluster '%s' is not running on this server right now; retry in a moment.", mc.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("credentials of cluster %s: %w", mc.Name, err)
	}
	return creds, nil
}

// Resume brings every created cluster up again after a restart (in the background). A
// cluster being created is left to its create operation; one being deleted is never
// started again (its delete operation resumes and finishes the job).
func (s *Service) Resume(ctx context.Context) error {
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Type: TypeManagedCluster})
	if err != nil {
		return fmt.Errorf("list clusters: %w", err)
	}
	for _, r := range rows {
		mc, err := decode(r)
		if err != nil {
			return err
		}
		if !resumable(mc) {
			continue
		}
		go func() {
			if err := s.resume(ctx, r.ID); err != nil && ctx.Err() == nil {
				s.log.Error("resume cluster", "cluster", r.ID, "err", err)
			}
		}()
	}
	return nil
}

// resumable says whether Resume brings a stored cluster up: not while its create or update
// operation does (with the state it is going to), not once it failed, not while it is being
// deleted.
func resumable(mc *ManagedCluster) bool {
	switch mc.Properties.ProvisioningState {
	case StateCreating, StateUpdating, StateFailed, resources.StateDeleting:
		return false
	}
	return true
}

// resume brings one cluster up, under its lock, if it is still there and still resumable
// once the lock is held (a delete may have started since Resume listed it).
func (s *Service) resume(ctx context.Context, id string) error {
	unlock := s.locks.lock(id)
	defer unlock()
	r, err := s.cfg.Store.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	mc, err := decode(r)
	if err != nil || !resumable(mc) {
		return err
	}
	spec, err := s.spec(ctx, r, mc)
	if err != nil {
		return err
	}
	prov, err := s.provider(mc.Properties.Mlfleet.Provider)
	if err != nil {
		return err
	}
	_, err = prov.Ensure(ctx, spec)
	return err
}

type clusterOp struct {
	ID string `json:"id"`
}

type updateOp struct {
	ID     string         `json:"id"`
	Counts map[string]int `json:"counts,omitempty"`
	Ranges *[]string      `json:"ranges,omitempty"`
	// Autoscale says the autoscaler's settings changed (they are stored with the cluster).
	Autoscale bool `json:"autoscale,omitempty"`
}

// runCreate brings a new cluster up and records its live facts.
func (s *Service) runCreate(ctx context.Context, run *operations.Run) error {
	var in clusterOp
	if err := run.Input(&in); err != nil {
		return err
	}
	return s.create(ctx, run, in.ID)
}

// failedCreate is the cleanup of a failed create: the provider's cluster, if it was made,
// is destroyed, and the resource is left Failed with the reason on its operation.
func (s *Service) failedCreate(ctx context.Context, run *operations.Run, _ error) error {
	var in clusterOp
	if err := run.Input(&in); err != nil {
		return err
	}
	r, err := s.cfg.Store.GetResource(ctx, in.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	mc, err := decode(r)
	if err != nil {
		return err
	}
	if prov, err := s.provider(mc.Properties.Mlfleet.Provider); err == nil && prov.Info().DeleteDestroys {
		unlock := s.locks.lock(in.ID)
		err := prov.Delete(ctx, mc.Properties.Mlfleet.ClusterID)
		unlock()
		if err != nil {
			return providerError("clean up cluster "+mc.Name, err)
		}
	}
	return s.markFailed(ctx, in.ID)
}

func (s *Service) create(ctx context.Context, run *operations.Run, id string) error {
	r, err := s.cfg.Store.GetResource(ctx, id)
	if err != nil {
		return fmt.Errorf("get cluster %s: %w", id, err)
	}
	mc, err := decode(r)
	if err != nil {
		return err
	}
	prov, err := s.provider(mc.Properties.Mlfleet.Provider)
	if err != nil {
		return err
	}
	spec, err := s.spec(ctx, r, mc)
	if err != nil {
		return err
	}
	// On every attempt: after a restart, the cluster is down until its operation brings it
	// up (Resume leaves clusters being created to their operation).
	var st *provider.Status
	err = run.Always(ctx, "ensure cluster", func(ctx context.Context) error {
		unlock := s.locks.lock(id)
		defer unlock()
		st, err = prov.Ensure(ctx, spec)
		return err
	})
	if err != nil {
		return providerError("create cluster "+mc.Name, err)
	}
	return s.record(ctx, id, st)
}

// record saves the live facts of a cluster and marks it Succeeded.
func (s *Service) record(ctx context.Context, id string, st *provider.Status) error {
	return s.modify(ctx, id, func(mc *ManagedCluster) {
		p := &mc.Properties
		p.ProvisioningState = StateSucceeded
		p.PowerState.Code = "Running"
		if st.KubernetesVersion != "" {
			p.CurrentKubernetesVersion = st.KubernetesVersion
			if p.KubernetesVersion == "" {
				p.KubernetesVersion = st.KubernetesVersion
			}
		}
		p.Mlfleet.APIServerURL = st.Server
		if p.Mlfleet.Provider != "embedded" && len(st.Pools) > 0 {
			p.AgentPoolProfiles = nil
			for _, lp := range st.Pools {
				p.AgentPoolProfiles = append(p.AgentPoolProfiles, AgentPoolProfile{Name: lp.Name, Count: lp.Count, VMSize: lp.VMSize,
					Mode: orDefault(lp.Mode, "System"), OSType: "Linux", Type: "VirtualMachineScaleSets", OrchestratorVersion: st.KubernetesVersion})
			}
		}
		if p.Mlfleet.Provider != "embedded" && st.Server != "" {
			if u, err := url.Parse(st.Server); err == nil {
				host := u.Hostname()
				p.FQDN = &host
			}
		}
		for i := range p.AgentPoolProfiles {
			p.AgentPoolProfiles[i].ProvisioningState = StateSucceeded
		}
	})
}

func (s *Service) runUpdate(ctx context.Context, run *operations.Run) error {
	var in updateOp
	if err := run.Input(&in); err != nil {
		return err
	}
	return s.applyUpdate(ctx, run, in)
}

// failedUpdate is the cleanup of a failed update: the cluster still runs, so it is
// Succeeded again; the failure is on the operation.
func (s *Service) failedUpdate(ctx context.Context, run *operations.Run, _ error) error {
	var in updateOp
	if err := run.Input(&in); err != nil {
		return err
	}
	err := s.modify(ctx, in.ID, func(mc *ManagedCluster) { mc.Properties.ProvisioningState = StateSucceeded })
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// Resume skipped it while it was Updating: make sure it runs, as it is stored.
	return s.resume(ctx, in.ID)
}

func (s *Service) applyUpdate(ctx context.Context, run *operations.Run, in updateOp) error {
	r, err := s.cfg.Store.GetResource(ctx, in.ID)
	if err != nil {
		return fmt.Errorf("get cluster %s: %w", in.ID, err)
	}
	mc, err := decode(r)
	if err != nil {
		return err
	}
	prov, err := s.provider(mc.Properties.Mlfleet.Provider)
	if err != nil {
		return err
	}
	// Bring the cluster to the wanted state on every attempt: Ensure with the new counts
	// scales it, and after a restart also brings it up (Resume leaves clusters being updated
	// to their operation, so that it never starts them with the old counts).
	spec, err := s.spec(ctx, r, mc)
	if err != nil {
		return err
	}
	for i, p := range spec.Pools {
		if count, ok := in.Counts[p.Name]; ok {
			spec.Pools[i].Count = count
		}
	}
	if in.Ranges != nil {
		spec.AuthorizedIPRanges = *in.Ranges
	}
	var st *provider.Status
	if err := run.Always(ctx, "ensure cluster", func(ctx context.Context) error {
		unlock := s.locks.lock(in.ID)
		defer unlock()
		if !prov.Info().CanCreate {
			st, err = prov.Status(ctx, spec.ID)
			return err
		}
		if st, err = prov.Ensure(ctx, spec); err != nil {
			return err
		}
		if in.Ranges != nil {
			return prov.SetAuthorizedIPRanges(ctx, spec.ID, *in.Ranges)
		}
		return nil
	}); err != nil {
		return providerError("update cluster "+mc.Name, err)
	}
	return s.modify(ctx, in.ID, func(mc *ManagedCluster) {
		for i, p := range mc.Properties.AgentPoolProfiles {
			if c, ok := in.Counts[p.Name]; ok {
				mc.Properties.AgentPoolProfiles[i].Count = c
			}
		}
		if in.Ranges != nil {
			if mc.Properties.APIServerAccessProfile == nil {
				mc.Properties.APIServerAccessProfile = &APIServerAccessProfile{}
			}
			mc.Properties.APIServerAccessProfile.AuthorizedIPRanges = *in.Ranges
		}
		mc.Properties.ProvisioningState = StateSucceeded
		mc.Properties.CurrentKubernetesVersion = st.KubernetesVersion
	})
}

// deleteCluster is the cascade deleter of managed clusters: the provider destroys (or
// forgets) the cluster, then the resource goes.
func (s *Service) deleteCluster(ctx context.Context, run *operations.Run, r *store.Resource) error {
	mc, err := decode(r)
	if err != nil {
		return err
	}
	if prov, err := s.provider(mc.Properties.Mlfleet.Provider); err == nil {
		// Under the cluster's lock, so that a resume of it cannot start it again meanwhile.
		unlock := s.locks.lock(r.ID)
		err := prov.Delete(ctx, mc.Properties.Mlfleet.ClusterID)
		unlock()
		if err != nil {
			return providerError("delete cluster "+mc.Name, err)
		}
	}
	// The cluster's rows (its sealed kubeconfig, its attachment claim) go with it, together.
	return s.cfg.Store.InTx(ctx, func(tx store.Store) error { return removeRows(ctx, tx, r, 0) })
}

// spec builds the provider's view of a stored cluster.
func (s *Service) spec(ctx context.Context, r *store.Resource, mc *ManagedCluster) (provider.ClusterSpec, error) {
	p := mc.Properties
	spec := provider.ClusterSpec{ID: p.Mlfleet.ClusterID, Name: mc.Name, Location: mc.Location, KubernetesVersion: p.KubernetesVersion,
		ServiceCIDR: p.NetworkProfile.ServiceCidr, DNSServiceIP: p.NetworkProfile.DNSServiceIP, Context: p.Mlfleet.Context}
	for _, ap := range p.AgentPoolProfiles {
		pool := provider.NodePool{Name: ap.Name, Count: ap.Count, VMSize: ap.VMSize, Mode: ap.Mode}
		if ap.EnableAutoScaling && ap.MinCount != nil && ap.MaxCount != nil {
			pool.Autoscale = &provider.PoolBounds{Min: *ap.MinCount, Max: *ap.MaxCount}
			if spec.Autoscaler == nil {
				spec.Autoscaler = s.autoscaler(r.ID, p.AutoScalerProfile)
			}
		}
		spec.Pools = append(spec.Pools, pool)
	}
	if p.APIServerAccessProfile != nil {
		spec.AuthorizedIPRanges = p.APIServerAccessProfile.AuthorizedIPRanges
	}
	if p.Mlfleet.Provider != "embedded" {
		kc, err := s.loadKubeconfig(ctx, r)
		if err != nil {
			return spec, err
		}
		spec.Kubeconfig = kc
	}
	return spec, nil
}

// modify applies fn to the stored cluster, retrying (bounded) on concurrent updates.
func (s *Service) modify(ctx context.Context, id string, fn func(*ManagedCluster)) error {
	_, err := store.Modify(ctx, s.cfg.Store, id, func(r *store.Resource) error {
		mc, err := decode(r)
		if err != nil {
			return err
		}
		fn(mc)
		mc.ETag = ""
		r.Body, _ = json.Marshal(mc)
		return nil
	})
	if err != nil {
		return fmt.Errorf("update cluster %s: %w", id, err)
	}
	return nil
}

func (s *Service) markFailed(ctx context.Context, id string) error {
	err := s.modify(ctx, id, func(mc *ManagedCluster) {
		mc.Properties.ProvisioningState = StateFailed
		for i := range mc.Properties.AgentPoolProfiles {
			mc.Properties.AgentPoolProfiles[i].ProvisioningState = StateFailed
		}
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

const kubeconfigSecret = "/mlfleetSecrets/kubeconfig"

func (s *Service) saveKubeconfig(ctx context.Context, tx store.Store, r *store.Resource, kubeconfig []byte) error {
	body, _ := json.Marshal(map[string][]byte{"sealed": s.cfg.Secrets.Seal(kubeconfig)})
	err := tx.CreateResource(ctx, &store.Resource{ID: r.ID + kubeconfigSecret, ParentID: r.ID, Type: TypeManagedCluster + "/mlfleetSecrets",
		Name: "kubeconfig", SubscriptionID: r.SubscriptionID, ResourceGroup: r.ResourceGroup, Body: body, OwnerID: r.ID})
	if err != nil {
		return fmt.Errorf("save kubeconfig: %w", err)
	}
	return nil
}

func (s *Service) loadKubeconfig(ctx context.Context, r *store.Resource) ([]byte, error) {
	sr, err := s.cfg.Store.GetResource(ctx, r.ID+kubeconfigSecret)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig of %s: %w", r.ID, err)
	}
	var body map[string][]byte
	if err := json.Unmarshal(sr.Body, &body); err != nil {
		return nil, fmt.Errorf("decode kubeconfig of %s: %w", r.ID, err)
	}
	return s.cfg.Secrets.Open(body["sealed"])
}

func (s *Service) provider(name string) (provider.Provider, error) {
	p, ok := s.cfg.Providers[name]
	if !ok {
		return nil, fmt.Errorf("no provider %q on this server", name)
	}
	return p, nil
}

// ProviderInfo says what the provider of mc can do, e.g. whether its clusters serve online
// endpoints and with which router image.
func (s *Service) ProviderInfo(mc *ManagedCluster) provider.Info {
	return s.providerInfo(mc.Properties.Mlfleet.Provider)
}

func (s *Service) providerInfo(name string) provider.Info {
	if p, ok := s.cfg.Providers[name]; ok {
		return p.Info()
	}
	return provider.Info{Name: name}
}

// providerError keeps *arm.Error values from providers and wraps the rest.
func providerError(what string, err error) error {
	var ae *arm.Error
	if errors.As(err, &ae) {
		return err
	}
	return arm.Errorf(http.StatusInternalServerError, "ClusterOperationFailed", "%s: %v", what, err)
}

func unsupportedVersion(version, location string, v *catalog.Versions) *arm.Error {
	return arm.BadRequest(arm.CodeUnsupportedKubernetesVersion,
		"Kubernetes version %s is not supported in %s. Supported versions: %s.", version, location, strings.Join(v.Names(location), ", ")).WithTarget("properties.kubernetesVersion")
}

func decode(r *store.Resource) (*ManagedCluster, error) {
	var mc ManagedCluster
	if err := json.Unmarshal(r.Body, &mc); err != nil {
		return nil, fmt.Errorf("decode cluster %s: %w", r.ID, err)
	}
	mc.Properties.Mlfleet.Kubeconfig = ""
	mc.ETag = arm.ETag(r.Version)
	withDefaults(&mc)
	return &mc, nil
}

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

func decodeMaybeBase64(s string) []byte {
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
		return b
	}
	return []byte(s)
}

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

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
