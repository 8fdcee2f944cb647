package endpoints

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Operation kinds run by this package.
const (
	KindEndpointPut      = "onlineendpoints.put"
	KindEndpointDelete   = "onlineendpoints.delete"
	KindDeploymentPut    = "onlinedeployments.put"
	KindDeploymentDelete = "onlinedeployments.delete"
)

// Config wires a Service. Zero durations mean the documented defaults.
type Config struct {
	Store      store.Store
	Engine     *operations.Engine
	Resources  *resources.Service
	Workspaces *workspaces.Service
	Computes   *compute.Service
	Clusters   *containerservice.Service
	Assets     *mlassets.Service
	Blobs      blobs.Store
	Secrets    *secrets.Box
	// SigningKey signs AMLToken tokens; nil refuses endpoints with authMode AMLToken.
	SigningKey *auth.SigningKey
	// Providers by name, to read pod logs through a provider that can (PodLogReader).
	Providers map[string]provider.Provider
	// ScoreRoots are the certificates Score trusts for scoring URIs (the server's CA, which
	// signs the routers' certificates of TLS Auto computes); nil means the system's.
	ScoreRoots *x509.CertPool
	// Home is the data directory; models and code are materialized under Home/inference.
	Home string
	// ReadyTimeout bounds the wait for a deployment's instances; default 10m.
	ReadyTimeout time.Duration
	// TokenLifetime is how long an AMLToken lives; default 1h.
	TokenLifetime time.Duration
	// MonitorInterval is how often the deployment monitor (Start) reads every deployment's
	// instances in its cluster; default 30s, the compute health monitor's.
	MonitorInterval time.Duration
	// Monitors, when set, tells whether this server's deployment monitor looks after the
	// deployments of a compute (by its id), as compute.Config.Monitors does for the health
	// monitor; nil means every compute.
	Monitors func(computeID string) bool
	Logger   *slog.Logger
}

// Service manages online endpoints and deployments.
type Service struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	// scoreClient sends Score's requests (newScoreClient).
	scoreClient *http.Client
	// connect reaches the cluster of a compute once, with no wait for a cluster that is
	// not up. The deployment monitor and the capacity check call it, and clusterReady
	// retries it (a test puts fake clusters here).
	connect func(ctx context.Context, computeID string) (*kube.Cluster, error)
	// monitor is the deployment monitor's state (monitor.go).
	monitor struct {
		once sync.Once
		stop context.CancelFunc
		done chan struct{}
		// mu guards unreachable: the computes whose cluster the last observation could not
		// read, so that this is logged once, not on every tick.
		mu          sync.Mutex
		unreachable map[string]bool
	}
}

// New returns a Service, registering its operations, its cascade deleters and the check
// that keeps assets in use from being deleted.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Minute
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = time.Hour
	}
	if cfg.MonitorInterval <= 0 {
		cfg.MonitorInterval = 30 * time.Second
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "endpoints"), now: time.Now, scoreClient: newScoreClient(cfg.ScoreRoots)}
	s.connect = func(ctx context.Context, computeID string) (*kube.Cluster, error) {
		kc, _, err := s.cluster(ctx, computeID)
		return kc, err
	}
	s.monitor.unreachable = map[string]bool{}
	s.register(cfg.Engine)
	cfg.Resources.RegisterDeleter(TypeDeployment, s.cascadeDeleteDeployment)
	cfg.Resources.RegisterDeleter(TypeEndpoint, s.cascadeDeleteEndpoint)
	// An endpoint's Secret is reached through the computes it is on, which a workspace's
	// cascade would otherwise delete first (computes sort before onlineEndpoints).
	cfg.Resources.DeleteBefore(TypeEndpoint, compute.TypeCompute)
	if cfg.Assets != nil {
		cfg.Assets.SetInUse(s.assetUser)
	}
	return s
}

// EndpointID returns the id that finds an endpoint as a request's path names it (ids
// compare without case); a new endpoint's own id is built on its workspace's stored id
// (arm.ChildID), so that it keeps the case its parents were created with.
func EndpointID(sub, rg, ws, name string) string {
	return arm.ResourcePath(sub, rg, Namespace, "workspaces", ws, "onlineEndpoints", name)
}

// DeploymentID returns the id that finds a deployment as a request's path names it; a new
// deployment's own id is built on its endpoint's stored id.
func DeploymentID(sub, rg, ws, endpoint, name string) string {
	return arm.ResourcePath(sub, rg, Namespace, "workspaces", ws, "onlineEndpoints", endpoint, "deployments", name)
}

// keysID is the row of an endpoint's sealed keys, a child of the endpoint owned by it (its
// OwnerID), so that the sweeper removes keys whose endpoint is gone. Its type,
// mlfleetSecrets, is no tracked type, so the generic resource list never shows it.
func keysID(endpointID string) string { return endpointID + "/mlfleetSecrets/keys" }

func (s *Service) inferenceDir() string { return filepath.Join(s.cfg.Home, "inference") }

// Options are a write's preconditions.
type Options struct {
	Preconditions arm.Preconditions
}

// busy is the 409 of a write while an operation runs on the resource. Writes are refused
// rather than queued, so that one operation at a time carries a row into the clusters.
func busy(what, state string) error {
	return arm.Errorf(409, arm.CodeOperationInProgress, "%s is %s; wait for that operation to finish, then retry.", what, strings.ToLower(state))
}

// inProgress reports whether state is one an operation sets and ends: a row in it has an
// operation running (or one that will be resumed after a restart).
func inProgress(state string) bool {
	return state == armapi.StateCreating || state == armapi.StateUpdating || state == armapi.StateDeleting
}

// generateKey returns a random key of 32 bytes, base64url.
func generateKey() string {
	b := make([]byte, 32)
	// crypto/rand's Read never returns an error: since Go 1.24 it crashes the program
	// instead.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// computeOf resolves a compute reference (an id or a name) of the workspace and checks
// that a deployment can run on it: an AKS compute of the same workspace, Succeeded.
//
// A reference is what the az ml YAML holds (azureml:<name>), a bare name, or a full id. A
// compute of another workspace is refused: ComputeUsers, which keeps a compute that
// deployments run on from being detached, looks for them in the compute's own workspace
// only. Every problem is a 400 with field as its target, so that PutDeployment can report
// it with the others, but a compute being detached or deleted, or whose cluster is being
// deleted: that is a 409 (compute.Service.Leaving).
func (s *Service) computeOf(ctx context.Context, w *armapi.Workspace, ref, field string) (*armapi.Compute, error) {
	parsed, _ := arm.ParseID(w.ID)
	name := strings.TrimPrefix(ref, "azureml:")
	if strings.HasPrefix(ref, "/") {
		id, err := arm.ParseID(ref)
		if err != nil || !strings.EqualFold(id.Type(), compute.TypeCompute) {
			return nil, arm.BadRequest(arm.CodeUserError, "%s '%s' is not the id of a compute (…/workspaces/{ws}/computes/{name}).", field, ref).WithTarget(field)
		}
		if !strings.EqualFold(id.SubscriptionID, parsed.SubscriptionID) || !strings.EqualFold(id.ResourceGroup, parsed.ResourceGroup) || !strings.EqualFold(id.Names[0], w.Name) {
			return nil, arm.BadRequest(arm.CodeUserError, "%s '%s' is a compute of another workspace; use a compute of workspace '%s'.", field, ref, w.Name).WithTarget(field)
		}
		name = id.Name()
	}
	c, err := s.cfg.Computes.Get(ctx, parsed.SubscriptionID, parsed.ResourceGroup, w.Name, name)
	// A missing compute is a mistake in the request's body, not a missing resource at its
	// path: 400 naming the field, not the 404 Computes.Get answers.
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Status == 404 {
		return nil, arm.BadRequest(arm.CodeUserError, "%s: compute '%s' does not exist in workspace '%s'; create or attach it first (mlfleet ml computetarget create).", field, name, w.Name).WithTarget(field)
	}
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(c.Properties.ComputeType, "AKS") {
		return nil, arm.BadRequest(arm.CodeUserError, "%s: compute '%s' is of type %s; deployments run on AKS computes.", field, name, c.Properties.ComputeType).WithTarget(field)
	}
	// A compute on its way out is a 409 of its own, not one of the request's problems.
	if err := s.cfg.Computes.Leaving(ctx, c); err != nil {
		return nil, err
	}
	// A compute still being created or attached has no cluster to deploy to yet, and a
	// Failed one may have none at all.
	if c.Properties.ProvisioningState != armapi.StateSucceeded || c.Properties.ResourceID == nil {
		return nil, arm.BadRequest(arm.CodeUserError, "%s: compute '%s' is %s, not Succeeded; wait for it (or fix it) before deploying to it.", field, name, c.Properties.ProvisioningState).WithTarget(field)
	}
	return c, nil
}

// cluster connects to the cluster of a compute, with the cluster's admin credentials.
// The client is the one containerservice shares with every caller in the process
// (kube.Cache): built once per cluster and kubeconfig, so that each poll of an operation
// does not build a new one, dropped when the cluster is deleted or stops answering probes.
func (s *Service) cluster(ctx context.Context, computeID string) (*kube.Cluster, *armapi.ManagedCluster, error) {
	mc, err := s.clusterOf(ctx, computeID)
	if err != nil {
		return nil, nil, err
	}
	kc, err := s.cfg.Clusters.Client(ctx, mc)
	if err != nil {
		return nil, nil, err
	}
	return kc, mc, nil
}

// clusterWaitTimeout bounds how long an operation waits for a cluster that is not running
// yet (after a restart of mlfleet, clusters come back in the background).
const clusterWaitTimeout = 3 * time.Minute

// clusterReady is connect for operations: a cluster that is not running yet, or not
// reachable for a moment, is waited for rather than failing the operation.
func (s *Service) clusterReady(ctx context.Context, computeID string) (*kube.Cluster, error) {
	deadline := time.Now().Add(clusterWaitTimeout)
	var kc *kube.Cluster
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var err error
		kc, err = s.connect(ctx, computeID)
		// GET /version proves the apiserver answers: a cached client says nothing about
		// whether its cluster is up now.
		if err == nil {
			if _, err = kc.Version(ctx); err == nil {
				return true, nil
			}
		}
		// Only a cluster that is not running yet or not reachable is waited for; any
		// other error (the compute or cluster is gone, bad credentials) will not pass by
		// waiting and fails at once.
		var ae *arm.Error
		transient := errors.As(err, &ae) && ae.Code == containerservice.CodeClusterNotRunning || errors.Is(err, kube.ErrUnreachable)
		if !transient || time.Now().After(deadline) {
			return false, err
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return kc, nil
}

// tokenKeyPEM is the PEM of the public key that verifies AMLToken tokens, for the
// endpoint's Secret: the router verifies tokens offline with it and never calls back into
// mlfleet. It is rebuilt from the signing key's JWKS, the one public form SigningKey
// exposes. No signing key means no AMLToken endpoints (PutEndpoint refuses them), so "".
func (s *Service) tokenKeyPEM() (string, error) {
	if s.cfg.SigningKey == nil {
		return "", nil
	}
	keys, _ := s.cfg.SigningKey.JWKS()["keys"].([]map[string]string)
	if len(keys) == 0 {
		return "", fmt.Errorf("token signing key has no public key")
	}
	x, err1 := base64.RawURLEncoding.DecodeString(keys[0]["x"])
	y, err2 := base64.RawURLEncoding.DecodeString(keys[0]["y"])
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("decode token signing key")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return "", fmt.Errorf("token signing key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// loadKeys reads an endpoint's sealed keys.
func (s *Service) loadKeys(ctx context.Context, st store.Store, endpointID string) (*armapi.EndpointKeys, error) {
	r, err := st.GetResource(ctx, keysID(endpointID))
	if err != nil {
		return nil, fmt.Errorf("get keys of %s: %w", endpointID, err)
	}
	plain, err := s.cfg.Secrets.Open(r.Body)
	if err != nil {
		return nil, fmt.Errorf("open keys of %s: %w", endpointID, err)
	}
	var k armapi.EndpointKeys
	if err := json.Unmarshal(plain, &k); err != nil {
		return nil, fmt.Errorf("decode keys of %s: %w", endpointID, err)
	}
	return &k, nil
}

func (s *Service) sealKeys(k *armapi.EndpointKeys) []byte {
	b, _ := json.Marshal(k)
	return s.cfg.Secrets.Seal(b)
}

// modify applies fn to a stored endpoint or deployment (read, change, write at version).
// Operations change their row only through it: a request may write the row meanwhile (a
// PATCH of traffic), and a write at a stale version would undo that change. store.Modify
// reads again and retries on a version conflict.
func modify[T row](ctx context.Context, st store.Store, id string, fn func(v *T) error) error {
	_, err := store.Modify(ctx, st, id, func(r *store.Resource) error {
		var v T
		if err := decode(r, &v); err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return err
		}
		r.Body = encode(&v)
		return nil
	})
	return err
}

// endpointRow reads an endpoint, 404 when missing.
func (s *Service) endpointRow(ctx context.Context, st store.Store, id, name, ws string) (*store.Resource, *armapi.OnlineEndpoint, error) {
	return getRow[armapi.OnlineEndpoint](ctx, st, id, func() error {
		return arm.NotFound(arm.CodeResourceNotFound, "Online endpoint '%s' could not be found in workspace '%s'; create it with 'mlfleet ml online-endpoint create -n %s'.", name, ws, name)
	})
}

// getRow reads the row id and what it holds; missing returns the error when there is no
// such row.
func getRow[T row](ctx context.Context, st store.Store, id string, missing func() error) (*store.Resource, *T, error) {
	r, err := st.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, missing()
	}
	if err != nil {
		return nil, nil, err
	}
	v, err := decodeRow[T](r)
	if err != nil {
		return nil, nil, err
	}
	return r, v, nil
}

// deploymentsOf lists an endpoint's deployments.
func (s *Service) deploymentsOf(ctx context.Context, st store.Store, endpointID string) ([]*armapi.OnlineDeployment, error) {
	rows, err := st.ListResources(ctx, store.ListOptions{ParentID: endpointID, Type: TypeDeployment})
	if err != nil {
		return nil, err
	}
	return resources.DecodeRows(rows, decodeRow[armapi.OnlineDeployment])
}

// ComputeUsers lists the online deployments that run on the compute computeID and the
// online endpoints whose own compute (properties.compute) it is, read through st (the
// transaction of the compute's detach or delete: compute.Config.InUse), each as
// "deployment 'blue' of endpoint 'ep'" or "online endpoint 'ep'", sorted; none is an
// empty list. A deployment or an endpoint names its compute by id, always one of its own
// workspace. A deployment moved off the compute counts until its old instances there are
// removed: detached first, the compute would no longer lead to them. An endpoint counts
// even with no deployments: its scoring URI and Secret live on the compute's cluster, and
// its next deployment goes there by default.
func (s *Service) ComputeUsers(ctx context.Context, st store.Store, computeID string) ([]string, error) {
	id, err := arm.ParseID(computeID)
	if err != nil || len(id.Names) == 0 {
		return nil, nil
	}
	ws := arm.ResourcePath(id.SubscriptionID, id.ResourceGroup, Namespace, "workspaces", id.Names[0])
	rows, err := st.ListResources(ctx, store.ListOptions{Scope: ws, Type: TypeDeployment})
	if err != nil {
		return nil, fmt.Errorf("list deployments of workspace %s: %w", id.Names[0], err)
	}
	var users []string
	for _, r := range rows {
		var d armapi.OnlineDeployment
		if decode(r, &d) != nil || !slices.ContainsFunc(instanceComputes(&d), func(c string) bool { return strings.EqualFold(c, computeID) }) {
			continue
		}
		did, _ := arm.ParseID(r.ID)
		users = append(users, fmt.Sprintf("deployment '%s' of endpoint '%s'", did.Name(), did.Names[1]))
	}
	rows, err = st.ListResources(ctx, store.ListOptions{Scope: ws, Type: TypeEndpoint})
	if err != nil {
		return nil, fmt.Errorf("list endpoints of workspace %s: %w", id.Names[0], err)
	}
	for _, r := range rows {
		var ep armapi.OnlineEndpoint
		if decode(r, &ep) != nil || !strings.EqualFold(ep.Properties.Compute, computeID) {
			continue
		}
		users = append(users, fmt.Sprintf("online endpoint '%s'", r.Name))
	}
	slices.Sort(users)
	return users, nil
}

// assetUser names the deployment that uses an asset version, if any, read through st
// (the transaction of the version's delete): mlassets refuses to delete a version a
// deployment still names, since its operation (and a resumed one after a restart)
// resolves the model, code and environment again.
func (s *Service) assetUser(ctx context.Context, st store.Store, versionID string) (string, error) {
	id, err := arm.ParseID(versionID)
	if err != nil {
		return "", nil
	}
	ws := arm.ResourcePath(id.SubscriptionID, id.ResourceGroup, Namespace, "workspaces", id.Names[0])
	rows, err := st.ListResources(ctx, store.ListOptions{Scope: ws, Type: TypeDeployment})
	if err != nil {
		return "", err
	}
	for _, r := range rows {
		var d armapi.OnlineDeployment
		if decode(r, &d) != nil {
			continue
		}
		p := d.Properties
		refs := []string{p.Model, p.EnvironmentID}
		if p.CodeConfiguration != nil {
			refs = append(refs, p.CodeConfiguration.CodeID)
		}
		for _, ref := range refs {
			if strings.EqualFold(ref, versionID) {
				did, _ := arm.ParseID(r.ID)
				return fmt.Sprintf("deployment '%s' of endpoint '%s'", did.Name(), did.Names[1]), nil
			}
		}
	}
	return "", nil
}
