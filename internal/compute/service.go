package compute

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/pki"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Operation kinds run by this package.
const (
	KindCreate = "computes.create"
	KindAttach = "computes.attach"
	KindUpdate = "computes.update"
	KindDelete = "computes.delete"
)

// Config wires a Service. Zero durations mean the documented defaults; every other field
// without a stated default is required.
type Config struct {
	// Store holds the computes, their claims and secrets, and the operations.
	Store store.Store
	// Engine runs the create, attach, update and delete operations.
	Engine *operations.Engine
	// Resources owns resource groups and the cascading delete that reaches computes.
	Resources *resources.Service
	// Workspaces are the computes' parents.
	Workspaces *workspaces.Service
	// Clusters is the only way to the managed clusters and their providers.
	Clusters *containerservice.Service
	// Secrets seals the TLS keys and issued certificates at rest (S13).
	Secrets *secrets.Box
	// CA issues the certificates of TLS status Auto.
	CA *pki.CA
	// MonitorInterval is how often the health monitor looks at every attached compute;
	// default 30s. Each tick makes a few API calls per attached cluster, so the interval
	// trades how fresh the conditions are (B4) against load on the clusters.
	MonitorInterval time.Duration
	// Monitors, when set, tells whether this server's health monitor looks after a compute
	// (by its id): replicas share the computes out (replicas.Heartbeat.Owns) instead of
	// each reading every cluster. nil means every compute.
	Monitors func(computeID string) bool
	// CheckTimeout bounds the live checks of one cluster (reachability and the rest);
	// default 10s. The checks run on the request path of an attach, so an unreachable
	// cluster must become a 400 the user sees, not a request that hangs.
	CheckTimeout time.Duration
	// ReadyTimeout bounds how long an operation waits for the installed components to be
	// ready; default 3m, which leaves room for an image pull on a real cluster (an
	// embedded one is ready in about a second, B3).
	ReadyTimeout time.Duration
	// Logger is where the service logs; nil means slog.Default().
	Logger *slog.Logger
	// InUse lists what still runs on a compute, each in words ("deployment 'blue' of
	// endpoint 'ep'"), so that a detach or delete that would leave it dead is refused; nil
	// means nothing does. It reads through st, the transaction of the detach or delete,
	// which holds the compute's use lock (UseIn), and must not read elsewhere (on SQLite
	// that would wait for the transaction's connection forever). It is a func because
	// what runs on computes (online deployments) lives in a package that imports this one.
	InUse func(ctx context.Context, st store.Store, computeID string) ([]string, error)
	// ServingChanged, when set, is told at the end of an update, which may have turned the
	// compute's TLS on or off or changed its certificate, with whether its router now serves
	// HTTPS: what is served through the compute (online endpoints' scoring URIs) follows.
	// A func for the same reason as InUse.
	ServingChanged func(ctx context.Context, computeID string, https bool) error
	// DeploymentsFit, when set, refuses a change of a compute's cluster (next: the cluster
	// as the change leaves it) whose nodes could no longer hold the online deployments that
	// run on the compute: a 400 InsufficientCapacity naming them; nil when they fit or none
	// runs there. Asked on a compute's scale and on a change made to its cluster
	// (ClusterChangeAllowed). A func for the same reason as InUse.
	DeploymentsFit func(ctx context.Context, computeID string, next *armapi.ManagedCluster) error
	// SideEffect, when set, records in the activity log a write an operation made to
	// another resource than its own, under the caller of the request that started it
	// (origin: operations.Run.Origin): a forced attach's removal of the compute it took
	// the cluster from. activity.Log.SideEffect.
	SideEffect func(ctx context.Context, origin json.RawMessage, method, resourceID string)
}

// Service manages computes.
type Service struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	views views

	monitorOnce sync.Once
	monitorStop context.CancelFunc
	monitorDone chan struct{}
	// soon queues the clusters RefreshClusterSoon was told of for the monitor.
	soon chan string
}

// New returns a Service, registering its operation handlers and its cascade deleter.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MonitorInterval <= 0 {
		cfg.MonitorInterval = 30 * time.Second
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 10 * time.Second
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 3 * time.Minute
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "compute"), now: time.Now, soon: make(chan string, 64)}
	s.register(cfg.Engine)
	cfg.Resources.RegisterDeleter(TypeCompute, s.cascadeDelete)
	return s
}

// ID returns the id that finds a compute, as a request's path names it: ids compare
// without case, so it finds the compute however its segments are cased. A new compute's
// own id is built on its workspace's stored id instead (arm.ChildID).
func ID(sub, rg, ws, name string) string {
	return arm.ResourcePath(sub, rg, Namespace, "workspaces", ws, "computes", name)
}

// attachmentID labels what mlfleet installs in a cluster for one compute: a DNS label,
// stable for the compute id. Derived rather than random, so that a step resumed after a
// crash (or a PUT sent again) labels and finds the same objects and marker (B2); the id
// is lower-cased because ARM ids are case-insensitive (A1).
func attachmentID(computeID string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(computeID)))
	return "a" + hex.EncodeToString(sum[:])[:15]
}

// nameClaimID is the row that reserves a compute name in a region (S4). The name is
// lower-cased so that "MyAks" and "myaks" collide, as names are case-insensitive (A1).
func nameClaimID(location, name string) string {
	return "/providers/" + Namespace + "/locations/" + location + "/computeNames/" + strings.ToLower(name)
}

// attachmentClaimID is the row that records the compute attached to a cluster (S11).
func attachmentClaimID(clusterID string) string { return clusterID + "/mlfleetAttachments/current" }

// tlsSecretID is the row that holds a compute's sealed TLS material, apart from its body
// so that GET never carries it (A7).
func tlsSecretID(computeID string) string { return computeID + "/mlfleetSecrets/tls" }

// claim is the body of name and attachment claims.
type claim struct {
	ComputeID string `json:"computeId"`
}

// Result is the answer of a PUT.
type Result struct {
	// Compute is the compute as stored (nil for a dry run).
	Compute *armapi.Compute
	// Created is true when the PUT made a new compute.
	Created bool
	// Operation follows the work (always set unless dry run).
	Operation *store.Operation
	// Validation is the answer of a dry run.
	Validation *armapi.ComputeValidation
	// Warnings are things to tell the user that did not stop the request.
	Warnings []string
}

// Put creates, attaches or updates a compute, or with opts.ValidateOnly only checks that it
// could. Every failed check is reported together in one 400 UserError (B1).
func (s *Service) Put(ctx context.Context, sub, rg, ws, name string, in armapi.Compute, opts Options) (*Result, error) {
	w, err := s.cfg.Workspaces.Writable(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(in.Properties.ComputeType, "AKS") {
		if in.Properties.ComputeType == "" {
			return nil, arm.BadRequest(arm.CodeUserError, "properties.computeType is required; mlfleet serves computes of type AKS.").WithTarget("properties.computeType")
		}
		return nil, arm.BadRequest(arm.CodeUserError, "Compute type '%s' is not supported: mlfleet serves computes of type AKS (inference clusters).", in.Properties.ComputeType).WithTarget("properties.computeType")
	}
	what := fmt.Sprintf("Compute '%s'", name)
	existing, err := s.cfg.Store.GetResource(ctx, ID(sub, rg, w.Name, name))
	// A new compute's id is built on its workspace's stored id, so that the resource group
	// and workspace keep the case they were created with, whatever this request's path
	// spells (A1); the compute's own name keeps the case it is created with.
	id := arm.ChildID(w.ID, "computes", name)
	switch {
	case err == nil:
		if err := opts.Preconditions.CheckIfMatch(what, true, arm.ETag(existing.Version)); err != nil {
			return nil, err
		}
		replace, err := s.replaceable(ctx, existing)
		if err != nil {
			return nil, err
		}
		if !replace {
			if opts.Preconditions.IfNoneMatch {
				return nil, s.exists(ctx, existing, w)
			}
			return s.update(ctx, w, existing, in, opts)
		}
		// A compute whose create or attach failed is replaced by a new create or attach,
		// as ARM re-runs a failed PUT; the user need not delete it first. The compute
		// exists, so it keeps the name it was created with (A1: a PUT never renames).
		opts.replace = existing
		name = existing.Name
		id = arm.ChildID(w.ID, "computes", name)
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("get compute %s: %w", name, err)
	default:
		if err := opts.Preconditions.CheckIfMatch(what, false, ""); err != nil {
			return nil, err
		}
	}
	if e := ValidateName(name); e != nil {
		return nil, e
	}
	if rid := in.Properties.ResourceID; rid != nil {
		// An empty id is most likely a script's unset variable: taking it as a create would
		// start building a cluster nobody asked for.
		if strings.TrimSpace(*rid) == "" {
			return nil, arm.BadRequest(arm.CodeUserError,
				"properties.resourceId is empty: give the cluster's resource id to attach it, or leave resourceId out to create a new cluster.").WithTarget("properties.resourceId")
		}
		return s.attach(ctx, w, id, name, in, opts)
	}
	return s.create(ctx, w, id, name, in, opts)
}

// Patch changes the fields in sets of an existing compute through the same update as a PUT
// (ARM's PATCH): tags, when sent, replace the whole set; a description or AKS properties
// left out stay as they are. It never creates, attaches or replaces a compute: a missing one
// is a 404. Like an update, it returns the operation that applies the change.
func (s *Service) Patch(ctx context.Context, sub, rg, ws, name string, in armapi.Compute, opts Options) (*Result, error) {
	w, err := s.cfg.Workspaces.Writable(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	existing, err := s.getResource(ctx, sub, rg, w.Name, name)
	if err != nil {
		return nil, err
	}
	if err := opts.Preconditions.CheckIfMatch(fmt.Sprintf("Compute '%s'", name), true, arm.ETag(existing.Version)); err != nil {
		return nil, err
	}
	return s.update(ctx, w, existing, in, opts)
}

// exists is the 409 of a create or attach (If-None-Match: *) on an existing compute. A
// compute being deleted gets the update's answer instead, naming the delete operation: a
// retry once it is done succeeds, while an update, which the plain 409 suggests, cannot.
func (s *Service) exists(ctx context.Context, r *store.Resource, w *armapi.Workspace) error {
	if c, err := decode(r); err == nil && c.Properties.ProvisioningState == armapi.StateDeleting {
		ops, err := running(ctx, s.cfg.Store, r.ID)
		if err != nil {
			return err
		}
		if len(ops) > 0 {
			return operationInProgress(c.Name, c.Properties.ProvisioningState, ops[0])
		}
	}
	return arm.Conflict("Compute '%s' already exists in workspace '%s' (resource group '%s'); use 'mlfleet ml computetarget update' to change it, or choose another name.", r.Name, w.Name, arm.GroupOf(w.ID))
}

// replaceable says whether a stored compute is what a failed create or attach left: Failed,
// not attached, with no operation running. A new create or attach of its name replaces it.
func (s *Service) replaceable(ctx context.Context, r *store.Resource) (bool, error) {
	c, err := decode(r)
	if err != nil {
		return false, err
	}
	if c.Properties.ProvisioningState != armapi.StateFailed || c.Properties.Mlfleet.Attached {
		return false, nil
	}
	ops, err := running(ctx, s.cfg.Store, r.ID)
	if err != nil {
		return false, err
	}
	return len(ops) == 0, nil
}

// running lists the operations in progress on the resource id, through st (the store or a
// transaction).
func running(ctx context.Context, st store.Store, id string) ([]*store.Operation, error) {
	ops, err := st.ListOperations(ctx, store.OperationFilter{ResourceID: id, Status: store.StatusInProgress})
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	return ops, nil
}

// operationInProgress is the 409 of a change to the compute name, in provisioning state
// state, while the operation op runs on it.
func operationInProgress(name, state string, op *store.Operation) error {
	return arm.Errorf(http.StatusConflict, arm.CodeOperationInProgress,
		"Compute '%s' is %s (operation %s); wait for it to finish, then retry.", name, strings.ToLower(state), op.ID)
}

// submit runs fn in one transaction: it stores a change of a compute and submits the
// operation that carries it out, or returns the one already running. The engine is woken
// only once the transaction committed, so that it finds the operation.
func (s *Service) submit(ctx context.Context, fn func(tx store.Store) (*store.Operation, error)) (*store.Operation, error) {
	var op *store.Operation
	err := s.cfg.Store.InTx(ctx, func(tx store.Store) (err error) {
		op, err = fn(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Engine.Wake()
	return op, nil
}

// insert saves a new compute in one transaction with everything it needs: its region name
// claim, its TLS label claim and sealed secret, what also adds (the cluster a create makes,
// the attachment claim of an attach) and its operation. Either all of it commits or none
// does. opts.replace, when set, is the failed compute of the same name it replaces.
func (s *Service) insert(ctx context.Context, w *armapi.Workspace, c *armapi.Compute, st settings, kind string, input any, opts Options, also func(tx store.Store) error) (*store.Operation, error) {
	location := c.Properties.ComputeLocation
	claimBody, _ := json.Marshal(claim{ComputeID: c.ID})
	parsed, _ := arm.ParseID(c.ID)
	body := computeRecord.Encode(c)
	op, err := s.submit(ctx, func(tx store.Store) (*store.Operation, error) {
		if old := opts.replace; old != nil {
			// At the version read: two PUTs replacing the same failed compute must not both
			// win; the second finds the row changed and gets a 409.
			if err := s.forgetIn(ctx, tx, old, old.Version); err != nil {
				return nil, err
			}
		}
		// The claim first: a name taken in the region is the most likely conflict, and it
		// is reported as such (errNameTaken) rather than as whichever row collided later.
		nameClaim := &store.Resource{ID: nameClaimID(location, c.Name), Type: typeNameClaim, Name: strings.ToLower(c.Name), Location: location, Body: claimBody, OwnerID: c.ID}
		if err := tx.CreateResource(ctx, nameClaim); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nil, fmt.Errorf("%w: %w", errNameTaken, err)
			}
			return nil, fmt.Errorf("claim compute name %s: %w", c.Name, err)
		}
		if err := s.claimLeaf(ctx, tx, location, c.ID, st.SSL); err != nil {
			return nil, err
		}
		r := &store.Resource{ID: c.ID, ParentID: w.ID, Type: TypeCompute, Name: c.Name, SubscriptionID: parsed.SubscriptionID,
			ResourceGroup: parsed.ResourceGroup, Location: location, Body: body}
		if err := tx.CreateResource(ctx, r); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nil, fmt.Errorf("%w: %w", errComputeExists, err)
			}
			return nil, fmt.Errorf("create compute %s: %w", c.Name, err)
		}
		if err := s.saveTLS(ctx, tx, r.ID, st.SSL); err != nil {
			return nil, err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return nil, err
			}
		}
		return s.cfg.Engine.SubmitIn(ctx, tx, kind, c.ID, parsed.SubscriptionID, input)
	})
	switch {
	case errors.Is(err, errNameTaken):
		return nil, s.nameTaken(ctx, location, c.Name)
	case errors.Is(err, errComputeExists):
		if opts.Preconditions.IfNoneMatch {
			if r, gerr := s.cfg.Store.GetResource(ctx, c.ID); gerr == nil {
				return nil, s.exists(ctx, r, w)
			}
		}
		return nil, arm.Conflict("Compute '%s' is being created in workspace '%s' by another request; wait for it, then retry.", c.Name, w.Name)
	case err != nil:
		return nil, err
	}
	c.ETag = arm.ETag(1)
	return op, nil
}

// modify applies fn to the stored compute, retrying (bounded) on concurrent updates: the
// health monitor writes the same rows as the operations, and neither may lose the
// other's change.
func (s *Service) modify(ctx context.Context, id string, fn func(*armapi.Compute)) error {
	return s.modifyIn(ctx, s.cfg.Store, id, fn)
}

// modifyIfChanged is modify that writes only when fn changed the compute: an observation
// that finds everything as it was leaves the row, its modifiedOn and its etag alone, so
// that the health monitor does not turn a client's If-Match stale every few seconds.
func (s *Service) modifyIfChanged(ctx context.Context, id string, fn func(*armapi.Compute)) error {
	_, err := store.Modify(ctx, s.cfg.Store, id, func(r *store.Resource) error {
		c, err := decode(r)
		if err != nil {
			return err
		}
		before := computeRecord.Encode(c)
		fn(c)
		if bytes.Equal(computeRecord.Encode(c), before) {
			return errUnchanged
		}
		c.Properties.ModifiedOn = ptr(s.now().UTC())
		c.ETag = ""
		r.Body = computeRecord.Encode(c)
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("update compute %s: %w", id, err)
	}
	return nil
}

// errUnchanged stops a modifyIfChanged that has nothing to write.
var errUnchanged = errors.New("unchanged")

// modifyIn is modify through st, which may be a transaction.
func (s *Service) modifyIn(ctx context.Context, st store.Store, id string, fn func(*armapi.Compute)) error {
	_, err := store.Modify(ctx, st, id, func(r *store.Resource) error {
		c, err := decode(r)
		if err != nil {
			return err
		}
		fn(c)
		c.Properties.ModifiedOn = ptr(s.now().UTC())
		c.ETag = ""
		r.Body = computeRecord.Encode(c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("update compute %s: %w", id, err)
	}
	return nil
}

// decode reads a stored compute, filling the empty lists and objects that the azureml-core
// SDK indexes (A7: present, never missing) and blanking the write-only TLS key.
func decode(r *store.Resource) (*armapi.Compute, error) {
	c, err := computeRecord.Read(r.ID, r.Body)
	if err != nil {
		return nil, err
	}
	if c.Properties.Mlfleet == nil {
		c.Properties.Mlfleet = &armapi.ComputeMlfleet{}
	}
	if c.Properties.Mlfleet.Conditions == nil {
		c.Properties.Mlfleet.Conditions = []armapi.Condition{}
	}
	if c.Properties.Properties == nil {
		c.Properties.Properties = &armapi.AKSProperties{}
	}
	if c.Properties.Properties.SystemServices == nil {
		c.Properties.Properties.SystemServices = []armapi.SystemService{}
	}
	if ssl := c.Properties.Properties.SSLConfiguration; ssl != nil {
		ssl.Key = "" // write-only (A7)
	}
	c.ETag = arm.ETag(r.Version)
	return c, nil
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
