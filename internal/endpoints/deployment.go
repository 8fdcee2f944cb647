package endpoints

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// PutDeployment creates or updates a deployment after checking everything it refers to
// (compute, model, code, environment) and that its instances fit the compute, and starts
// the operation that deploys it.
func (s *Service) PutDeployment(ctx context.Context, sub, rg, ws, endpoint, name string, in armapi.OnlineDeployment, opts Options) (*Result[armapi.OnlineDeployment], error) {
	w, err := s.cfg.Workspaces.Writable(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	epRow, ep, err := s.endpointRow(ctx, s.cfg.Store, EndpointID(sub, rg, w.Name, endpoint), endpoint, w.Name)
	if err != nil {
		return nil, err
	}
	// The endpoint as stored names the deployment's parent: its id and name keep the case
	// they were created with, whatever this request's path spells (A1).
	epID, endpoint := epRow.ID, epRow.Name
	// Only a deleting endpoint refuses deployments. An endpoint's own operation and a
	// deployment's may run together: each writes the endpoint's Secret from the rows as
	// they are when it runs.
	if ep.Properties.ProvisioningState == armapi.StateDeleting {
		return nil, busy(fmt.Sprintf("Online endpoint '%s'", endpoint), armapi.StateDeleting)
	}
	what := fmt.Sprintf("Deployment '%s' of endpoint '%s'", name, endpoint)
	exists := arm.Conflict("%s already exists; use 'mlfleet ml online-deployment update' to change it, or choose another name.", what)
	existing, prev, err := replaced(ctx, s.cfg.Store, arm.ChildID(epID, "deployments", name), what, opts.Preconditions, exists, func(d *armapi.OnlineDeployment) string { return d.Properties.ProvisioningState })
	if err != nil {
		return nil, err
	}
	// An existing deployment keeps the id and name it was created with (A1: an update
	// never renames); a new one is named as the request names it.
	id := arm.ChildID(epID, "deployments", name)
	if existing != nil {
		id, name = existing.ID, existing.Name
		what = fmt.Sprintf("Deployment '%s' of endpoint '%s'", name, endpoint)
	}

	// The checks below all run and report together; only an error that is not the
	// request's fault (a 5xx, the store failing) stops them at once.
	d := in
	if prev != nil && prev.Sku != nil && prev.Sku.Capacity != nil {
		preferChangedCount(&d, *prev.Sku.Capacity)
	}
	n, verr := validateDeployment(name, &d)
	var problems mlassets.Problems
	if verr != nil {
		problems = append(problems, verr.(*arm.Error).Details...)
	}
	p := &d.Properties
	// collect keeps a client error as one of the problems and reports whether checking
	// may go on.
	collect := func(err error) bool {
		var ae *arm.Error
		if errors.As(err, &ae) && ae.Status < 500 {
			problems = append(problems, ae)
			return true
		}
		return err == nil
	}
	// A deployment without a compute of its own runs on its endpoint's; the message
	// names which field the compute came from.
	ref := p.Compute
	field := "properties.compute"
	if ref == "" {
		ref, field = ep.Properties.Compute, "properties.compute (the endpoint's)"
	}
	var c *armapi.Compute
	if ref == "" {
		problems = append(problems, arm.BadRequest(arm.CodeUserError, "The deployment needs a compute: set properties.compute (compute: azureml:<name> in the YAML) to an AKS compute of the workspace, or set it on the endpoint.").WithTarget("properties.compute"))
	} else if cur, err := s.computeOf(ctx, w, ref, field); isStatus(err, http.StatusConflict) || !collect(err) {
		// A compute on its way out (a 409) is no mistake in the request: it comes alone.
		return nil, err
	} else if err == nil {
		c, p.Compute = cur, cur.ID
	}
	// The assets must be the workspace's own: the caller's rights were checked on this
	// workspace only, and a model of another one would be copied into the deployment
	// unseen by whoever may read it there (and deleted there while in use here).
	resolve := func(k mlassets.Kind, ref, field string) error {
		if _, err := s.cfg.Assets.Resolve(ctx, k, ref, field); err != nil {
			return err
		}
		if !strings.HasPrefix(strings.ToLower(ref), strings.ToLower(w.ID)+"/") {
			return arm.BadRequest(arm.CodeUserError, "%s '%s' is in another workspace; a deployment uses the models, code and environments of its own workspace ('%s'). Register it there.", field, ref, w.Name).WithTarget(field)
		}
		return nil
	}
	if p.Model != "" {
		if err := resolve(mlassets.Models, p.Model, "properties.model"); !collect(err) {
			return nil, err
		}
	}
	if c := p.CodeConfiguration; c != nil && c.CodeID != "" {
		if err := resolve(mlassets.Codes, c.CodeID, "properties.codeConfiguration.codeId"); !collect(err) {
			return nil, err
		}
	}
	if p.EnvironmentID != "" {
		if err := resolve(mlassets.Environments, p.EnvironmentID, "properties.environmentId"); !collect(err) {
			return nil, err
		}
	}
	// A deployment that moves to another compute must not leave the endpoint's traffic
	// split across two computes' routers (checkOneRouter).
	if prev != nil && c != nil && !strings.EqualFold(prev.Properties.Compute, c.ID) {
		ds, err := s.deploymentsOf(ctx, s.cfg.Store, epID)
		if err != nil {
			return nil, err
		}
		moved := slices.Clone(ds)
		for i, x := range moved {
			if strings.EqualFold(x.Name, name) {
				y := *x
				y.Properties.Compute = c.ID
				moved[i] = &y
			}
		}
		if e := checkOneRouter(ep, moved); e != nil {
			problems = append(problems, e)
		}
	}
	// Capacity is asked of the cluster only when the compute and the instance settings
	// are valid: the question needs both.
	if c != nil && verr == nil {
		if err := s.checkCapacity(ctx, c, endpoint, name, n); !collect(err) {
			return nil, err
		}
	}
	if err := problems.Err(what); err != nil {
		return nil, err
	}

	d.ID, d.Name, d.Type = id, name, TypeDeployment
	if d.Location == "" {
		d.Location = ep.Location
	}
	if d.Kind == "" {
		d.Kind = "Kubernetes"
	}
	// The status is the server's: whatever the body's mlfleet block said is replaced.
	p.Mlfleet = &armapi.OnlineDeploymentMlfleet{InstanceCount: n.InstanceCount}
	if err := failpoint.Hit("endpoints/put deployment/checked"); err != nil {
		return nil, err
	}
	op, err := s.submit(ctx, change{kind: KindDeploymentPut, sub: sub, id: id, what: what, retry: retryRead}, func(tx store.Store) error {
		// What the deployment uses is checked above for the answer to list every problem,
		// and again here under the use locks of the compute and the versions, which their
		// deletes take too: a delete committed since is seen here, and one that comes
		// after sees this deployment.
		if err := s.use(ctx, tx, &d); err != nil {
			return err
		}
		if prev != nil {
			p.ProvisioningState = armapi.StateUpdating
			// The old instances serve until they are replaced; their count stays shown
			// until the operation sees the new ones.
			if prev.Properties.Mlfleet != nil {
				p.Mlfleet.ReadyInstances = prev.Properties.Mlfleet.ReadyInstances
			}
			// Recorded with the row, not in the operation, so that whatever runs next
			// (this update resumed after a crash, a later update after this one failed,
			// a delete) still removes the instances from the compute it moves off.
			p.Mlfleet.FormerComputes = formerComputes(prev, p.Compute)
			d.SystemData = resources.Touch(ctx, prev.SystemData, s.now())
			return update(ctx, tx, existing, &d)
		}
		p.ProvisioningState = armapi.StateCreating
		d.SystemData = resources.Touch(ctx, nil, s.now())
		body := encode(&d)
		return tx.CreateResource(ctx, &store.Resource{ID: id, ParentID: epID, Type: TypeDeployment, Name: name, SubscriptionID: sub, ResourceGroup: arm.GroupOf(w.ID), Location: d.Location, Body: body})
	})
	if err != nil {
		return nil, err
	}
	return &Result[armapi.OnlineDeployment]{Value: &d, Created: prev == nil, ETag: s.etagOf(ctx, id), Operation: op}, nil
}

// use takes, in tx, the use locks of the compute and the asset versions deployment d runs
// on, and checks again, under them, that they are still there and usable: a compute or a
// version a concurrent delete took away meanwhile is refused, as PutDeployment's checks
// before the transaction would have refused it. The locks are taken in one order, the
// compute's first, then model, code, environment, so that two deployments cannot wait for
// each other.
func (s *Service) use(ctx context.Context, tx store.Store, d *armapi.OnlineDeployment) error {
	p := &d.Properties
	if err := s.useCompute(ctx, tx, p.Compute); err != nil {
		return err
	}
	type assetRef struct {
		kind       mlassets.Kind
		ref, field string
	}
	refs := []assetRef{{mlassets.Models, p.Model, "properties.model"}}
	if cc := p.CodeConfiguration; cc != nil {
		refs = append(refs, assetRef{mlassets.Codes, cc.CodeID, "properties.codeConfiguration.codeId"})
	}
	refs = append(refs, assetRef{mlassets.Environments, p.EnvironmentID, "properties.environmentId"})
	for _, r := range refs {
		if r.ref == "" {
			continue
		}
		if _, err := s.cfg.Assets.UseIn(ctx, tx, r.kind, r.ref, r.field); err != nil {
			return err
		}
	}
	return nil
}

// useCompute takes, in tx, the use lock of the compute computeID that a deployment or an
// endpoint is stored on, and checks under it that the compute is still there and
// Succeeded (compute.Service.UseIn); an endpoint on no compute ("") takes nothing.
func (s *Service) useCompute(ctx context.Context, tx store.Store, computeID string) error {
	if computeID == "" {
		return nil
	}
	c, err := s.cfg.Computes.UseIn(ctx, tx, computeID)
	if err != nil {
		return err
	}
	if c.Properties.ProvisioningState != armapi.StateSucceeded || c.Properties.ResourceID == nil {
		return arm.Conflict("Compute '%s' became %s meanwhile; wait for it (or fix it), then retry.", c.Name, c.Properties.ProvisioningState).WithTarget("properties.compute")
	}
	return nil
}

// isStatus reports whether err is an ARM error of this HTTP status.
func isStatus(err error, status int) bool {
	var ae *arm.Error
	return errors.As(err, &ae) && ae.Status == status
}

// formerComputes returns the computes whose clusters may still hold the instances of
// prev once it runs on compute: those it was moved off before and not yet cleaned up, and
// its compute until now, but compute itself.
func formerComputes(prev *armapi.OnlineDeployment, compute string) []string {
	var former []string
	if prev.Properties.Mlfleet != nil {
		former = append(former, prev.Properties.Mlfleet.FormerComputes...)
	}
	former = append(former, prev.Properties.Compute)
	var out []string
	for _, c := range former {
		if c != "" && !strings.EqualFold(c, compute) && !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, c) }) {
			out = append(out, c)
		}
	}
	return out
}

// deploymentRow reads a deployment, 404 when missing. When the deployment is missing
// because its endpoint is, the 404 says so (the endpoint's message), not that the
// endpoint lacks the deployment.
func (s *Service) deploymentRow(ctx context.Context, sub, rg, ws, endpoint, name string) (*store.Resource, *armapi.OnlineDeployment, error) {
	r, d, err := s.findDeployment(ctx, sub, rg, ws, endpoint, name)
	if err == nil && r == nil {
		return nil, nil, arm.NotFound(arm.CodeResourceNotFound, "Deployment '%s' could not be found in online endpoint '%s'.", name, endpoint)
	}
	return r, d, err
}

// findDeployment is deploymentRow where a deployment missing from an existing endpoint is
// no error but nil, nil, nil; a missing workspace or endpoint is still their 404.
func (s *Service) findDeployment(ctx context.Context, sub, rg, ws, endpoint, name string) (*store.Resource, *armapi.OnlineDeployment, error) {
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, nil, err
	}
	return getRow[armapi.OnlineDeployment](ctx, s.cfg.Store, DeploymentID(sub, rg, w.Name, endpoint, name), func() error {
		_, _, err := s.endpointRow(ctx, s.cfg.Store, EndpointID(sub, rg, w.Name, endpoint), endpoint, w.Name)
		return err
	})
}

// GetDeployment returns a deployment and its etag.
func (s *Service) GetDeployment(ctx context.Context, sub, rg, ws, endpoint, name string) (*armapi.OnlineDeployment, string, error) {
	r, d, err := s.deploymentRow(ctx, sub, rg, ws, endpoint, name)
	if err != nil {
		return nil, "", err
	}
	return d, arm.ETag(r.Version), nil
}

// ListDeployments returns a page of an endpoint's deployments, and where the next page
// starts (see resources.ListPage).
func (s *Service) ListDeployments(ctx context.Context, sub, rg, ws, endpoint string, p resources.Page) ([]json.RawMessage, string, error) {
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, "", err
	}
	epID := EndpointID(sub, rg, w.Name, endpoint)
	if _, _, err := s.endpointRow(ctx, s.cfg.Store, epID, endpoint, w.Name); err != nil {
		return nil, "", err
	}
	return resources.ListBodies(ctx, s.cfg.Store, store.ListOptions{ParentID: epID, Type: TypeDeployment}, p)
}

// DeleteDeployment starts deleting a deployment (nil, nil when there is none). A
// deployment that still gets traffic is refused: route its traffic elsewhere first.
func (s *Service) DeleteDeployment(ctx context.Context, sub, rg, ws, endpoint, name string, pre arm.Preconditions) (*store.Operation, error) {
	if _, err := s.cfg.Resources.WritableGroup(ctx, sub, rg); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("Deployment '%s' of endpoint '%s'", name, endpoint)
	// A missing deployment of an existing endpoint succeeds (204); a missing endpoint or
	// workspace stays a 404.
	r, d, err := s.findDeployment(ctx, sub, rg, ws, endpoint, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, pre.CheckIfMatch(what, false, "")
	}
	c := change{kind: KindDeploymentDelete, sub: sub, id: r.ID, what: what, retry: retryOnly}
	return s.startDelete(ctx, c, pre, r, d.Properties.ProvisioningState, func(tx store.Store) error {
		// Traffic is read in the transaction that marks the deployment Deleting, so that a
		// traffic change committed meanwhile is seen: the router would otherwise keep
		// sending a share of requests to instances that are going away.
		_, ep, err := s.endpointRow(ctx, tx, r.ParentID, endpoint, ws)
		if err != nil {
			return err
		}
		for dep, w := range ep.Properties.Traffic {
			if strings.EqualFold(dep, name) && w > 0 {
				return arm.Conflict("%s still gets %d%% of the endpoint's traffic; route it elsewhere first (mlfleet ml online-endpoint update -n %s --traffic \"...\").", what, w, endpoint)
			}
		}
		d.Properties.ProvisioningState = armapi.StateDeleting
		return update(ctx, tx, r, d)
	})
}

// SkuCapacity is one entry of GET …/deployments/{d}/skus.
type SkuCapacity struct {
	ResourceType string               `json:"resourceType"`
	Sku          armapi.DeploymentSku `json:"sku"`
	Capacity     SkuSettings          `json:"capacity"`
}

// SkuSettings are the instance counts a deployment may have.
type SkuSettings struct {
	Minimum   int    `json:"minimum"`
	Maximum   int    `json:"maximum"`
	Default   int    `json:"default"`
	ScaleType string `json:"scaleType"`
}

// Skus lists the instance counts a deployment may scale to (az ml online-deployment
// list-skus): 1 to 100, the bounds validateDeployment enforces, scaled by hand.
func (s *Service) Skus(ctx context.Context, sub, rg, ws, endpoint, name string) ([]SkuCapacity, error) {
	if _, _, err := s.deploymentRow(ctx, sub, rg, ws, endpoint, name); err != nil {
		return nil, err
	}
	return []SkuCapacity{{ResourceType: TypeDeployment, Sku: armapi.DeploymentSku{Name: "Default", Tier: "Standard"},
		Capacity: SkuSettings{Minimum: 1, Maximum: 100, Default: 1, ScaleType: "Manual"}}}, nil
}
