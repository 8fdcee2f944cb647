package compute

import (
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
)

// Operation kinds run by this package.
const (
	KindCreate = "computes.create"
	KindAttach = "computes.attach"
	KindUpdate = "computes.update"
	KindDelete = "computes.delete"
)

// Config wires a Service. Zero durations mean the documented defaults.
type Config struct {
	Store      store.Store
	Engine     *operations.Engine
	Resources  *resources.Service
	Workspaces *workspaces.Service
	Clusters   *containerservice.Service
	Secrets    *secrets.Box
	// CA issues the certificates of TLS status Auto.
	CA *pki.CA
	// MonitorInterval is how often the health monitor looks at every attached compute;
	// default 30s.
	MonitorInterval time.Duration
	// CheckTimeout bounds the live checks of one cluster (reachability and the rest);
	// default 10s.
	CheckTimeout time.Duration
	// ReadyTimeout bounds how long an operation waits for the installed components to be
	// ready; default 3m.
	ReadyTimeout time.Duration
	Logger       *slog.Logger
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
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "compute"), now: time.Now}
	s.register(cfg.Engine)
	cfg.Resources.RegisterDeleter(TypeCompute, s.cascadeDelete)
	return s
}

// ID returns a compute's ARM id.
func ID(sub, rg, ws, name string) string {
	return arm.ResourcePath(sub, rg, Namespace, "workspaces", ws, "computes", name)
}

// attachmentID labels what mlfleet installs in a cluster for one compute: a DNS label,
// stable for the compute id.
func attachmentID(computeID string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(computeID)))
	return "a" + hex.EncodeToString(sum[:])[:15]
}

// nameClaimID is the row that reserves a compute name in a region (S4).
func nameClaimID(location, name string) string {
	return "/providers/" + Namespace + "/locations/" + location + "/computeNames/" + strings.ToLower(name)
}

// attachmentClaimID is the row that records the compute attached to a cluster (S11).
func attachmentClaimID(clusterID string) string { return clusterID + "/mlfleetAttachments/current" }

func tlsSecretID(computeID string) string { return computeID + "/mlfleetSecrets/tls" }

// claim is the body of name and attachment claims.
type claim struct {
	ComputeID string `json:"computeId"`
}

// Result is the answer of a PUT.
type Result struct {
	// Compute is the compute as stored (nil for a dry run).
	Compute *Compute
	// Created is true when the PUT made a new compute.
	Created bool
	// Operation follows the work (always set unless dry run).
	Operation *store.Operation
	// Validation is the answer of a dry run.
	Validation *ComputeValidation
	// Warnings are things to tell the user that did not stop the request.
	Warnings []string
}

// Put creates, attaches or updates a compute, or with opts.ValidateOnly only checks that it
// could. Every failed check is reported together in one 400 UserError (B1).
func (s *Service) Put(ctx context.Context, sub, rg, ws, name string, in Compute, opts Options) (*Result, error) {
	if _, err := s.cfg.Resources.WritableGroup(ctx, sub, rg); err != nil {
		return nil, err
	}
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(in.Properties.ComputeType, "AKS") {
		if in.Properties.ComputeType == "" {
			return nil, arm.BadRequest(arm.CodeUserError, "properties.computeType is required; mlfleet serves computes of type AKS.").WithTarget("properties.computeType")
		}
		return nil, arm.BadRequest(arm.CodeUserError, "Compute type '%s' is not supported: mlfleet serves computes of type AKS (inference clusters).", in.Properties.ComputeType).WithTarget("properties.computeType")
	}
	id := ID(sub, rg, w.Name, name)
	what := fmt.Sprintf("Compute '%s'", name)
	existing, err := s.cfg.Store.GetResource(ctx, id)
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
				return nil, s.exists(existing, w)
			}
			return s.update(ctx, w, existing, in, opts)
		}
		// A compute whose create or attach failed is replaced by a new create or attach.
		opts.replace = existing
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
	if in.Properties.ResourceID != nil && *in.Properties.ResourceID != "" {
		return s.attach(ctx, w, id, name, in, opts)
	}
	return s.create(ctx, w, id, name, in, opts)
}

// exists is the 409 of a create or attach (If-None-Match: *) on an existing compute.
func (s *Service) exists(r *store.Resource, w *workspaces.Workspace) error {
	return arm.Conflict("Compute '%s' already exists in workspace '%s' (resource group '%s'); use 'mlfleet ml computetarget update' to change it, or choose another name.", r.Name, w.Name, r.ResourceGroup)
}

// replaceable says whether a stored compute is what a failed create or attach left: Failed,
// not attached, with no operation running. A new create or attach of its name replaces it.
func (s *Service) replaceable(ctx context.Context, r *store.Resource) (bool, error) {
	c, err := decode(r)
	if err != nil {
		return false, err
	}
	if c.Properties.ProvisioningState != StateFailed || c.Properties.Mlfleet.Attached {
		return false, nil
	}
	ops, err := s.cfg.Store.ListOperations(ctx, store.OperationFilter{ResourceID: r.ID, Status: store.StatusInProgress})
	if err != nil {
		return false, fmt.Errorf("list operations: %w", err)
	}
	return len(ops) == 0, nil
}

// computeLocation is where a new compute lives: computeLocation, else the body's location,
// else the workspace's.
func computeLocation(w *workspaces.Workspace, in Compute) (string, error) {
	loc := in.Properties.ComputeLocation
	if loc == "" {
		loc = in.Location
	}
	if loc == "" {
		loc = w.Location
	}
	norm, ok := arm.NormalizeLocation(loc)
	if !ok {
		return "", resources.InvalidLocation(loc)
	}
	return norm, nil
}

// Conflicts insert reports, so that the caller can say which name is taken.
var (
	errNameTaken     = errors.New("compute name taken in the region")
	errComputeExists = errors.New("compute exists")
)

// insert saves a new compute in one transaction with everything it needs: its region name
// claim, its TLS label claim and sealed secret, what also adds (the cluster a create makes,
// the attachment claim of an attach) and its operation. Either all of it commits or none
// does. opts.replace, when set, is the failed compute of the same name it replaces.
func (s *Service) insert(ctx context.Context, w *workspaces.Workspace, c *Compute, st settings, kind string, input any, opts Options, also func(tx store.Store) error) (*store.Operation, error) {
	location := c.Properties.ComputeLocation
	claimBody, _ := json.Marshal(claim{ComputeID: c.ID})
	parsed, _ := arm.ParseID(c.ID)
	body, _ := json.Marshal(c)
	var op *store.Operation
	err := s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if old := opts.replace; old != nil {
			if err := s.forgetIn(ctx, tx, old, old.Version); err != nil {
				return err
			}
		}
		nameClaim := &store.Resource{ID: nameClaimID(location, c.Name), Type: typeNameClaim, Name: strings.ToLower(c.Name), Location: location, Body: claimBody, OwnerID: c.ID}
		if err := tx.CreateResource(ctx, nameClaim); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w: %w", errNameTaken, err)
			}
			return fmt.Errorf("claim compute name %s: %w", c.Name, err)
		}
		if err := s.claimLeaf(ctx, tx, location, c.ID, st.SSL); err != nil {
			return err
		}
		r := &store.Resource{ID: c.ID, ParentID: w.ID, Type: TypeCompute, Name: c.Name, SubscriptionID: parsed.SubscriptionID,
			ResourceGroup: parsed.ResourceGroup, Location: location, Body: body}
		if err := tx.CreateResource(ctx, r); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w: %w", errComputeExists, err)
			}
			return fmt.Errorf("create compute %s: %w", c.Name, err)
		}
		if err := s.saveTLS(ctx, tx, r.ID, st.SSL); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		var err error
		op, err = s.cfg.Engine.SubmitIn(ctx, tx, kind, c.ID, parsed.SubscriptionID, input)
		return err
	})
	switch {
	case errors.Is(err, errNameTaken):
		return nil, s.nameTaken(ctx, location, c.Name)
	case errors.Is(err, errComputeExists):
		if opts.Preconditions.IfNoneMatch {
			if r, gerr := s.cfg.Store.GetResource(ctx, c.ID); gerr == nil {
				return nil, s.exists(r, w)
			}
		}
		return nil, arm.Conflict("Compute '%s' is being created in workspace '%s' by another request; wait for it, then retry.", c.Name, w.Name)
	case err != nil:
		return nil, err
	}
	s.cfg.Engine.Wake()
	c.ETag = arm.ETag(1)
	return op, nil
}

// nameTaken is the 409 for a compute name used elsewhere in the region.
func (s *Service) nameTaken(ctx context.Context, location, name string) error {
	owner := "another workspace"
	if r, err := s.cfg.Store.GetResource(ctx, nameClaimID(location, name)); err == nil {
		var c claim
		if json.Unmarshal(r.Body, &c) == nil {
			if id, err := arm.ParseID(c.ComputeID); err == nil && len(id.Names) > 0 {
				owner = fmt.Sprintf("workspace '%s' (resource group '%s')", id.Names[0], id.ResourceGroup)
			}
		}
	}
	return arm.Conflict("Compute name '%s' is already used in region %s by %s: compute names are unique per region. Choose another name.", name, location, owner)
}

// CheckName says whether a new compute of the workspace may be called name (S4).
func (s *Service) CheckName(ctx context.Context, sub, rg, ws, name, location string) (*NameAvailability, error) {
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	if e := ValidateName(name); e != nil {
		return &NameAvailability{NameAvailable: false, Reason: "Invalid", Message: e.Message}, nil
	}
	if _, err := s.cfg.Store.GetResource(ctx, ID(sub, rg, w.Name, name)); err == nil {
		return &NameAvailability{Reason: "AlreadyExists", Message: fmt.Sprintf("Workspace '%s' already has a compute named '%s'.", w.Name, name)}, nil
	}
	loc, err := computeLocation(w, Compute{Location: location})
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.GetResource(ctx, nameClaimID(loc, name)); err == nil {
		return &NameAvailability{Reason: "AlreadyExists", Message: s.nameTaken(ctx, loc, name).(*arm.Error).Message}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("check name %s: %w", name, err)
	}
	return &NameAvailability{NameAvailable: true}, nil
}

// Get returns a compute, or a 404.
func (s *Service) Get(ctx context.Context, sub, rg, ws, name string) (*Compute, error) {
	r, err := s.getResource(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	return decode(r)
}

// getResource reads the compute's row first: a compute exists only under its workspace
// and group (a delete removes the deepest rows first), so one read answers when it is
// there; only a miss reads the workspace, for the 404 that names what is missing.
func (s *Service) getResource(ctx context.Context, sub, rg, ws, name string) (*store.Resource, error) {
	r, err := s.cfg.Store.GetResource(ctx, ID(sub, rg, ws, name))
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get compute %s: %w", name, err)
	}
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	return nil, arm.NotFound(arm.CodeResourceNotFound, "Workspace '%s' has no compute named '%s'.", w.Name, name)
}

// List returns a page of the computes of a workspace.
// GetJSON returns a compute as GET serves it, and its ETag: what Get returns, encoded,
// from a cache of views of unchanged rows.
func (s *Service) GetJSON(ctx context.Context, sub, rg, ws, name string) (json.RawMessage, string, error) {
	r, err := s.getResource(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, "", err
	}
	wire, err := s.views.of(r)
	return wire, arm.ETag(r.Version), err
}

// ListJSON returns a page of a workspace's computes as a list serves them (see List and
// GetJSON).
func (s *Service) ListJSON(ctx context.Context, sub, rg, ws string, p resources.Page) ([]json.RawMessage, bool, error) {
	rows, more, err := s.listRows(ctx, sub, rg, ws, p)
	if err != nil {
		return nil, false, err
	}
	out := make([]json.RawMessage, 0, len(rows))
	for _, r := range rows {
		wire, err := s.views.of(r)
		if err != nil {
			return nil, false, err
		}
		out = append(out, wire)
	}
	return out, more, nil
}

// Computes found prove their workspace exists (see getResource); an empty page reads the
// workspace, for its 404.
func (s *Service) List(ctx context.Context, sub, rg, ws string, p resources.Page) ([]*Compute, bool, error) {
	rows, more, err := s.listRows(ctx, sub, rg, ws, p)
	if err != nil {
		return nil, false, err
	}
	out := make([]*Compute, 0, len(rows))
	for _, r := range rows {
		c, err := decode(r)
		if err != nil {
			return nil, false, err
		}
		out = append(out, c)
	}
	return out, more, nil
}

func (s *Service) listRows(ctx context.Context, sub, rg, ws string, p resources.Page) ([]*store.Resource, bool, error) {
	rows, more, err := resources.ListPage(ctx, s.cfg.Store, store.ListOptions{ParentID: workspaces.ID(sub, rg, ws), Type: TypeCompute}, p)
	if err != nil {
		return nil, false, fmt.Errorf("list computes: %w", err)
	}
	if len(rows) == 0 {
		if _, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws); err != nil {
			return nil, false, err
		}
	}
	return rows, more, nil
}

// Delete starts detaching (action Detach) or deleting (action Delete) a compute. It returns
// nil, nil when the compute does not exist.
func (s *Service) Delete(ctx context.Context, sub, rg, ws, name, action string, pre arm.Preconditions) (*store.Operation, error) {
	what := fmt.Sprintf("Compute '%s'", name)
	switch {
	case action == "":
		return nil, arm.BadRequest(arm.CodeUserError, "The underlyingResourceAction query parameter is required: Detach keeps the cluster, Delete also deletes a cluster the compute created.").WithTarget("underlyingResourceAction")
	case strings.EqualFold(action, "detach"):
		action = "Detach"
	case strings.EqualFold(action, "delete"):
		action = "Delete"
	default:
		return nil, arm.BadRequest(arm.CodeUserError, "underlyingResourceAction '%s' is invalid: use Detach or Delete.", action).WithTarget("underlyingResourceAction")
	}
	r, err := s.getResource(ctx, sub, rg, ws, name)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Code == arm.CodeResourceNotFound {
		return nil, pre.CheckIfMatch(what, false, "")
	}
	if err != nil {
		return nil, err
	}
	c, err := decode(r)
	if err != nil {
		return nil, err
	}
	if action == "Delete" && c.Properties.IsAttachedCompute {
		return nil, arm.BadRequest(arm.CodeUserError,
			"Compute '%s' is attached to cluster %s, which it did not create, so underlyingResourceAction=Delete would delete a cluster mlfleet does not own. Detach it instead ('mlfleet ml computetarget detach -n %s'), then delete the cluster on its own ('mlfleet aks delete') if you mean to.",
			name, deref(c.Properties.ResourceID), name).WithTarget("underlyingResourceAction")
	}
	// The state and the operation commit together, checked against what runs now.
	var op *store.Operation
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		cur, err := tx.GetResource(ctx, r.ID)
		if errors.Is(err, store.ErrNotFound) {
			return pre.CheckIfMatch(what, false, "")
		}
		if err != nil {
			return err
		}
		if err := pre.CheckIfMatch(what, true, arm.ETag(cur.Version)); err != nil {
			return err
		}
		ops, err := tx.ListOperations(ctx, store.OperationFilter{ResourceID: r.ID, Status: store.StatusInProgress})
		if err != nil {
			return fmt.Errorf("list operations: %w", err)
		}
		for _, o := range ops {
			if o.Kind == KindDelete {
				op = o
				return nil
			}
		}
		if len(ops) > 0 {
			return arm.Errorf(http.StatusConflict, arm.CodeOperationInProgress,
				"Compute '%s' is %s (operation %s); wait for it to finish, then retry.", name, strings.ToLower(c.Properties.ProvisioningState), ops[0].ID)
		}
		if err := s.modifyIn(ctx, tx, r.ID, func(c *Compute) { c.Properties.ProvisioningState = StateDeleting }); err != nil {
			return err
		}
		op, err = s.cfg.Engine.SubmitIn(ctx, tx, KindDelete, r.ID, r.SubscriptionID, deleteInput{ID: r.ID, Action: action})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Engine.Wake()
	return op, nil
}

// Keys returns the kubeconfigs of a compute's cluster (listKeys).
func (s *Service) Keys(ctx context.Context, sub, rg, ws, name string) (*ComputeKeys, error) {
	c, err := s.Get(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	mc, err := s.attachedCluster(ctx, c)
	if err != nil {
		return nil, err
	}
	creds, err := s.cfg.Clusters.ClusterCredentials(ctx, mc)
	if err != nil {
		return nil, err
	}
	return &ComputeKeys{ComputeType: "AKS", UserKubeConfig: string(creds.User), AdminKubeConfig: string(creds.Admin)}, nil
}

// Nodes returns the live nodes of a compute's cluster (listNodes).
func (s *Service) Nodes(ctx context.Context, sub, rg, ws, name string) (*ComputeNodes, error) {
	c, err := s.Get(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	mc, err := s.attachedCluster(ctx, c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()
	kc, err := s.cfg.Clusters.Client(ctx, mc)
	if err != nil {
		return nil, unreachable(mc.Name, err)
	}
	nodes, err := kc.Nodes(ctx, s.cfg.Clusters.VMSizes())
	if err != nil {
		return nil, unreachable(mc.Name, err)
	}
	out := &ComputeNodes{Nodes: []ComputeNode{}}
	for _, n := range nodes {
		state := "idle"
		if !n.Ready {
			state = "unusable"
		}
		out.Nodes = append(out.Nodes, ComputeNode{NodeID: n.Name, PrivateIPAddress: nonEmpty(n.InternalIP), PublicIPAddress: nonEmpty(n.ExternalIP), Port: 22, NodeState: state})
	}
	return out, nil
}

// attachedCluster returns the managed cluster of a compute that has one.
func (s *Service) attachedCluster(ctx context.Context, c *Compute) (*containerservice.ManagedCluster, error) {
	if c.Properties.ResourceID == nil || *c.Properties.ResourceID == "" {
		return nil, arm.Conflict("Compute '%s' has no cluster yet (it is %s).", c.Name, strings.ToLower(c.Properties.ProvisioningState))
	}
	mc, err := s.cfg.Clusters.GetByID(ctx, *c.Properties.ResourceID)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, arm.Conflict("The cluster of compute '%s' (%s) no longer exists; detach the compute.", c.Name, *c.Properties.ResourceID)
	}
	return mc, err
}

func unreachable(cluster string, err error) error {
	return arm.Errorf(http.StatusConflict, "ClusterUnreachable", "Cluster '%s' cannot be reached: %v", cluster, err)
}

// modify applies fn to the stored compute, retrying (bounded) on concurrent updates.
func (s *Service) modify(ctx context.Context, id string, fn func(*Compute)) error {
	return s.modifyIn(ctx, s.cfg.Store, id, fn)
}

// modifyIn is modify through st, which may be a transaction.
func (s *Service) modifyIn(ctx context.Context, st store.Store, id string, fn func(*Compute)) error {
	_, err := store.Modify(ctx, st, id, func(r *store.Resource) error {
		c, err := decode(r)
		if err != nil {
			return err
		}
		fn(c)
		c.Properties.ModifiedOn = ptr(s.now().UTC())
		c.ETag = ""
		r.Body, _ = json.Marshal(c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("update compute %s: %w", id, err)
	}
	return nil
}

func decode(r *store.Resource) (*Compute, error) {
	var c Compute
	if err := json.Unmarshal(r.Body, &c); err != nil {
		return nil, fmt.Errorf("decode compute %s: %w", r.ID, err)
	}
	if c.Properties.Mlfleet == nil {
		c.Properties.Mlfleet = &ComputeMlfleet{}
	}
	if c.Properties.Mlfleet.Conditions == nil {
		c.Properties.Mlfleet.Conditions = []Condition{}
	}
	if c.Properties.Properties == nil {
		c.Properties.Properties = &AKSProperties{}
	}
	if c.Properties.Properties.SystemServices == nil {
		c.Properties.Properties.SystemServices = []SystemService{}
	}
	if ssl := c.Properties.Properties.SSLConfiguration; ssl != nil {
		ssl.Key = "" // write-only (A7)
	}
	c.ETag = arm.ETag(r.Version)
	return &c, nil
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
