package containerservice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/quota"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Operation kinds run by this package.
const (
	KindCreate = "managedclusters.create"
	KindUpdate = "managedclusters.update"
)

// CodeClusterNotRunning is the error code of a cluster whose provider has not brought it up
// (yet): right after a restart, the embedded clusters start in the background. It is a
// 409, not a 404: the resource exists, and the same request succeeds once the start
// finished.
const CodeClusterNotRunning = "ClusterNotRunning"

// CodeOperationNotSupported is the error code of a 400 for an AKS operation mlfleet does
// not run (adding an agent pool, stopping a cluster): the message says what it runs instead.
const CodeOperationNotSupported = arm.CodeOperationNotSupported

// What every mlfleet cluster is: of the Base SKU in the Free tier (no uptime SLA), with
// its pools running (mlfleet stops neither clusters nor pools).
const (
	SKUName      = "Base"
	SKUTierFree  = "Free"
	PowerRunning = "Running"
)

// Defaults applied when a PUT leaves them out (az aks create's defaults). They differ
// from a workspace's create (S1: 3 × Standard_D3_v2), which compute fills in itself
// before it calls Prepare, as Azure ML does.
const (
	DefaultPoolName  = "nodepool1"
	DefaultNodeCount = 3
	DefaultVMSize    = "Standard_DS2_v2"
	DefaultService   = "10.0.0.0/16"
	DefaultDNSIP     = "10.0.0.10"
	DefaultPodCIDR   = "10.244.0.0/16"
)

// Config wires a Service.
//
// Every field without a stated default is required.
type Config struct {
	// Store holds the clusters and their operations.
	Store store.Store
	// Engine runs the create and update operations; New registers their handlers.
	Engine *operations.Engine
	// Resources owns the resource groups and the cascading delete that deletes clusters.
	Resources *resources.Service
	// Versions is the catalog of Kubernetes versions per location (S7, S8).
	Versions *catalog.Versions
	// VMSizes is the catalog of VM sizes (S18), for validation and quotas.
	VMSizes *catalog.VMSizes
	// Secrets seals the kubeconfigs of registered clusters at rest.
	Secrets *secrets.Box
	// Providers by name; "embedded" is the default for new clusters.
	Providers map[string]provider.Provider
	// Policy reports whether public IPs are forbidden in a subscription (S16); nil = never.
	PublicIPsForbidden func(ctx context.Context, sub string) (bool, string, error)
	// ChangeGuard, when set, may refuse a change of a cluster's node counts, autoscaling or
	// authorized IP ranges with the error to answer; next is the cluster as the change
	// would leave it. The compute service's ClusterChangeAllowed checks the purpose of an
	// attached compute (S5) and that the new ranges still let the control plane in (S15).
	ChangeGuard func(ctx context.Context, next *armapi.ManagedCluster) error
	// DeleteGuard, when set, may refuse a user's delete of a cluster with the error to
	// answer. It is called in tx, the transaction that marks the cluster Deleting, and
	// reads through it only (on SQLite another read would wait for the transaction's
	// connection forever), so that what it checks holds when the delete commits. The
	// compute service's ClusterDeleteAllowed refuses while online deployments run on the
	// cluster through an attached compute, as a detach of that compute is.
	DeleteGuard func(ctx context.Context, tx store.Store, mc *armapi.ManagedCluster) error
	// Changed, when set, is called once an update operation (aks scale, aks update, a node
	// pool's scale) has changed a running cluster, with the cluster's id. The compute
	// service's RefreshCluster re-reads the compute attached to it at once, so that its
	// node count does not lag until the next health pass. Its errors are its own to log.
	Changed func(ctx context.Context, clusterID string)
	// Autoscaled, when set, is called once the cluster autoscaler has changed a pool of a
	// running cluster, with the cluster's id. It is called from the autoscaler, inside the
	// cluster's runtime, and must return at once: the compute service's
	// RefreshClusterSoon queues the same refresh as Changed's.
	Autoscaled func(clusterID string)
	// Quotas limit the clusters and vCPUs of each subscription in each region; nil means
	// quota.Defaults().
	Quotas *quota.Quotas
	// Logger is where the service logs; nil means slog.Default().
	Logger *slog.Logger
	// ResumeParallelism is how many clusters Resume starts at once (0: one more than the
	// cores).
	ResumeParallelism int
}

// Service manages managed clusters.
type Service struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	// locks serialise what this process does to one cluster's provider: bringing it up
	// (create, resume after restart) and deleting it, so a delete never races a start.
	locks *keyedMutex
	// clients are the clients of the clusters, for this process (Client).
	clients *kube.Cache
}

// New returns a Service, registering its operation handlers and its cascade deleter.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Quotas == nil {
		cfg.Quotas = quota.Defaults()
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "containerservice"), now: time.Now, locks: newKeyedMutex(), clients: kube.NewCache()}
	// A provider that trusts its kubeconfigs' exec plugins (serve --allow-kubeconfig-exec)
	// needs the shared clients to trust them too; the embedded provider's are inline.
	for _, p := range cfg.Providers {
		s.clients.Local = s.clients.Local || p.Info().LocalCredentials
	}
	cfg.Engine.Register(KindCreate, s.runCreate)
	cfg.Engine.OnFailure(KindCreate, s.failedCreate)
	cfg.Engine.Register(KindUpdate, s.runUpdate)
	cfg.Engine.OnFailure(KindUpdate, s.failedUpdate)
	// A create or update whose cleanup was given up leaves the cluster Failed: it may run
	// or not, and the operation's error says why; deleting the cluster removes what is left.
	giveUp := func(ctx context.Context, run *operations.Run, _ error) error {
		var in clusterOp // an updateOp's id too
		if err := run.Input(&in); err != nil {
			return err
		}
		return s.markFailed(ctx, in.ID)
	}
	cfg.Engine.OnGiveUp(KindCreate, giveUp)
	cfg.Engine.OnGiveUp(KindUpdate, giveUp)
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
// It hashes the lower-cased id because ARM names are case-insensitive (A1), so the same
// cluster always has the same data directory and fqdn suffix however a request spells
// it; the leading letter keeps the label valid where it must not start with a digit.
func ClusterID(armID string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(armID)))
	return "c" + hex.EncodeToString(sum[:])[:15]
}

// AKS's own name rules, so that a name mlfleet accepts is one Azure would accept too.
var (
	// clusterName: 1 to 63 characters, letters, digits, '-' and '_', alphanumeric ends.
	clusterName = regexp.MustCompile(`^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$`)
	// poolName: a Linux pool's name, lower case, at most 12 characters.
	poolName = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)
	// dnsPrefixPattern: 1 to 54 characters, letters, digits and '-', alphanumeric ends; the
	// first label of the cluster's fqdn, so nothing a URL or DNS would refuse.
	dnsPrefixPattern = regexp.MustCompile(`^[a-zA-Z0-9]$|^[a-zA-Z0-9][-a-zA-Z0-9]{0,52}[a-zA-Z0-9]$`)
)

// Get returns a cluster, or a 404.
func (s *Service) Get(ctx context.Context, sub, rg, name string) (*armapi.ManagedCluster, error) {
	if _, err := s.cfg.Resources.GetGroup(ctx, sub, rg); err != nil {
		return nil, err
	}
	return s.GetByID(ctx, ID(sub, rg, name))
}

// GetByID returns the cluster with this ARM id, or a 404 ResourceNotFound.
func (s *Service) GetByID(ctx context.Context, id string) (*armapi.ManagedCluster, error) {
	return s.GetByIDIn(ctx, s.cfg.Store, id)
}

// GetByIDIn is GetByID reading through st, which may be a transaction.
func (s *Service) GetByIDIn(ctx context.Context, st store.Store, id string) (*armapi.ManagedCluster, error) {
	r, err := st.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		parsed, _ := arm.ParseID(id)
		return nil, arm.NotFound(arm.CodeResourceNotFound, "The managed cluster '%s' could not be found in resource group '%s'.", parsed.Name(), parsed.ResourceGroup)
	}
	if err != nil {
		return nil, fmt.Errorf("get cluster %s: %w", id, err)
	}
	return decode(r)
}

// List returns a page of clusters of a resource group, or of the subscription when rg is "",
// and where the next page starts (see resources.ListPage).
func (s *Service) List(ctx context.Context, sub, rg string, p resources.Page) ([]*armapi.ManagedCluster, string, error) {
	opts := store.ListOptions{Type: TypeManagedCluster}
	if rg == "" {
		if _, err := s.cfg.Resources.GetSubscription(ctx, sub); err != nil {
			return nil, "", err
		}
		opts.Scope = arm.SubscriptionPath(sub)
	} else {
		if _, err := s.cfg.Resources.GetGroup(ctx, sub, rg); err != nil {
			return nil, "", err
		}
		opts.ParentID = arm.ResourceGroupPath(sub, rg)
	}
	rows, next, err := resources.ListPage(ctx, s.cfg.Store, opts, p)
	if err != nil {
		return nil, "", fmt.Errorf("list clusters: %w", err)
	}
	out, err := resources.DecodeRows(rows, decode)
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// modify applies fn to the stored cluster, retrying (bounded) on concurrent updates.
// Operations write through it, not through a plain update, because the request path and
// the autoscaler may change the same row meanwhile: a lost update would undo a scale.
func (s *Service) modify(ctx context.Context, id string, fn func(*armapi.ManagedCluster)) error {
	_, err := store.Modify(ctx, s.cfg.Store, id, func(r *store.Resource) error {
		mc, err := decode(r)
		if err != nil {
			return err
		}
		fn(mc)
		setETag(mc, "")
		r.Body = clusterRecord.Encode(mc)
		return nil
	})
	if err != nil {
		return fmt.Errorf("update cluster %s: %w", id, err)
	}
	return nil
}

// markFailed leaves a cluster Failed, with its pools. A cluster deleted meanwhile is not
// an error: the cleanup that calls it must be able to run again after a crash.
func (s *Service) markFailed(ctx context.Context, id string) error {
	err := s.modify(ctx, id, func(mc *armapi.ManagedCluster) {
		mc.Properties.ProvisioningState = armapi.StateFailed
		for i := range mc.Properties.AgentPoolProfiles {
			mc.Properties.AgentPoolProfiles[i].ProvisioningState = armapi.StateFailed
		}
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
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
func (s *Service) ProviderInfo(mc *armapi.ManagedCluster) provider.Info {
	return s.providerInfo(mc.Properties.Mlfleet.Provider)
}

func (s *Service) providerInfo(name string) provider.Info {
	if p, ok := s.cfg.Providers[name]; ok {
		return p.Info()
	}
	return provider.Info{Name: name}
}

// providerError keeps *arm.Error values from providers and wraps the rest. What a provider
// fails to do after validation passed is not the user's doing, so it is a 500 with a
// stable code; it ends up on the operation, not on the PUT's answer. A scale-down whose
// drain failed is the user's to fix (drainFailure).
func providerError(what string, err error) error {
	var ae *arm.Error
	if errors.As(err, &ae) {
		return err
	}
	var de *provider.DrainError
	if errors.As(err, &de) {
		return drainFailure(what, de)
	}
	// Kept as they are rather than quoted, so that the operation's error shows only what
	// the engine lets through (operations.Run.asARM): a store that cannot take writes is
	// the operator's to fix (503 ServiceUnavailable saying so, without the store's path);
	// a file-system error names the server's paths (a 500 naming the operation, whose id
	// finds the error in the server log).
	if errors.Is(err, store.ErrUnavailable) || errors.As(err, new(*fs.PathError)) || errors.As(err, new(*os.LinkError)) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return arm.Errorf(http.StatusInternalServerError, "ClusterOperationFailed", "%s: %v", what, err)
}

// drainFailure is the 400 PodDrainFailure of a scale-down whose drain failed, worded
// after AKS's ("Drain node … failed when evicting pod … This is often caused by a
// restrictive Pod Disruption Budget (PDB) policy"), with what to do.
func drainFailure(what string, de *provider.DrainError) error {
	var fix string
	if de.Budget != "" {
		fix = fmt.Sprintf("The eviction was refused by PodDisruptionBudget '%s', which allows no disruption now. "+
			"Relax it (lower minAvailable, raise maxUnavailable, or run more replicas on the nodes that stay), then scale again.", de.Budget)
	} else {
		fix = fmt.Sprintf("Check why pod '%s' does not leave (a refused eviction, or a long termination), then scale again.", de.Pod)
	}
	return arm.Errorf(http.StatusBadRequest, "PodDrainFailure",
		"%s: drain of node '%s' failed when evicting pod '%s': %v. The node was kept and made schedulable again, and the agent pool keeps its node count. %s "+
			"See http://aka.ms/aks/debugdrainfailures.", what, de.Node, de.Pod, de.Err, fix)
}

// stored reads the cluster id from st, which may be a transaction: its row and the cluster,
// or all nil when it is gone.
func stored(ctx context.Context, st store.Store, id string) (*store.Resource, *armapi.ManagedCluster, error) {
	r, err := st.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	mc, err := decode(r)
	if err != nil {
		return nil, nil, err
	}
	return r, mc, nil
}

// decode reads a stored cluster. It blanks the kubeconfig (a secret is never returned by
// GET, A7: only listClusterUserCredential hands it out) and sets the etag from the row
// version, which is what If-Match is checked against.
func decode(r *store.Resource) (*armapi.ManagedCluster, error) {
	mc, err := clusterRecord.Read(r.ID, r.Body)
	if err != nil {
		return nil, err
	}
	mc.Properties.Mlfleet.Kubeconfig = ""
	setETag(mc, arm.ETag(r.Version))
	withDefaults(mc)
	return mc, nil
}

// setETag sets the eTag of mc and of each of its pools: a pool changes only through its
// cluster's update, which If-Match is checked in, so its eTag is the cluster's. "" clears
// them before a row is written (the etag is the row's version, set on every read).
func setETag(mc *armapi.ManagedCluster, etag string) {
	mc.ETag = etag
	for i := range mc.Properties.AgentPoolProfiles {
		mc.Properties.AgentPoolProfiles[i].ETag = etag
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
