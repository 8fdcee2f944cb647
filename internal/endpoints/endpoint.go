package endpoints

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Result is the answer of a write that started an operation. ETag is read after the
// write's transaction, since the row's version is only known once it is stored.
type Result[T any] struct {
	Value     *T
	Created   bool
	ETag      string
	Operation *store.Operation
}

// PutEndpoint creates or updates an endpoint (traffic, auth mode, description, compute)
// and starts the operation that writes its Secret into the clusters.
func (s *Service) PutEndpoint(ctx context.Context, sub, rg, ws, name string, in armapi.OnlineEndpoint, opts Options) (*Result[armapi.OnlineEndpoint], error) {
	w, err := s.cfg.Workspaces.Writable(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("Online endpoint '%s'", name)
	exists := arm.Conflict("%s already exists in workspace '%s'; use 'mlfleet ml online-endpoint update' to change it, or choose another name.", what, w.Name)
	existing, prev, err := replaced(ctx, s.cfg.Store, EndpointID(sub, rg, w.Name, name), what, opts.Preconditions, exists, func(ep *armapi.OnlineEndpoint) string { return ep.Properties.ProvisioningState })
	if err != nil {
		return nil, err
	}
	// Names are case-insensitive and case-preserving (A1): an existing endpoint keeps the id
	// and name it was created with, however this request cases them; a new one is named
	// as the request names it, under its workspace's stored id.
	id := arm.ChildID(w.ID, "onlineEndpoints", name)
	if existing != nil {
		id, name = existing.ID, existing.Name
		what = fmt.Sprintf("Online endpoint '%s'", name)
	}
	// An endpoint is in its workspace's location (Azure ML), and an update keeps the one
	// it has, as a workspace's does (a 409: the request conflicts with what exists).
	loc, locErr := endpointLocation(in.Location, w, prev)
	if locErr != nil && locErr.Status == http.StatusConflict {
		return nil, locErr
	}
	// Traffic may only name deployments the endpoint has; a new endpoint has none yet, so
	// a create with traffic is refused (deployments come first, then the traffic).
	var deployments []string
	var ds []*armapi.OnlineDeployment
	if prev != nil {
		ds, err = s.deploymentsOf(ctx, s.cfg.Store, id)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			deployments = append(deployments, d.Name)
		}
	}
	// Every problem of the request is collected and answered in one 400 (as B1 asks of
	// attach), so that a user fixes them all in one round.
	p := in.Properties
	verr := validateEndpoint(name, &p, deployments)
	var problems mlassets.Problems
	if verr != nil {
		problems = append(problems, verr.(*arm.Error).Details...)
	}
	if verr == nil {
		asked := &armapi.OnlineEndpoint{Name: name, Properties: p}
		if e := checkOneRouter(asked, ds); e != nil {
			problems = append(problems, e)
		}
		if e := checkFailedTargets(asked, prev, ds); e != nil {
			problems = append(problems, e)
		}
	}
	if locErr != nil {
		problems = append(problems, locErr)
	}
	if p.AuthMode == AuthAMLToken && s.cfg.SigningKey == nil {
		problems = append(problems, arm.BadRequest(arm.CodeUserError, "This server has no token signing key; use authMode Key.").WithTarget("properties.authMode"))
	}
	if p.Compute != "" {
		c, err := s.computeOf(ctx, w, p.Compute, "properties.compute")
		var ae *arm.Error
		switch {
		case errors.As(err, &ae) && ae.Status == 400:
			problems = append(problems, ae)
		case err != nil:
			return nil, err
		default:
			// Stored as the compute's full id, however the request named it, so that
			// later comparisons (ComputeUsers, computesOf) need no resolving.
			p.Compute = c.ID
		}
	}
	if err := problems.Err(what); err != nil {
		return nil, err
	}
	// Keys given in the body are sealed into their own row, never kept in the endpoint's
	// (A7: GET never returns secrets); the read-only fields a client may echo back from a
	// GET are the server's to set.
	keys := p.Keys
	p.Keys, p.ScoringURI, p.SwaggerURI, p.Mlfleet = nil, "", "", nil
	ep := &armapi.OnlineEndpoint{ID: id, Name: name, Type: TypeEndpoint, Location: loc, Tags: in.Tags, Kind: in.Kind, Identity: in.Identity, Properties: p}
	if ep.Kind == "" {
		ep.Kind = "K8S"
	}
	if err := failpoint.Hit("endpoints/put endpoint/checked"); err != nil {
		return nil, err
	}
	op, err := s.submit(ctx, change{kind: KindEndpointPut, sub: sub, id: id, what: what, retry: retryRead}, func(tx store.Store) error {
		// The endpoint's compute is checked above for the answer to list every problem,
		// and again here under its use lock, which a detach or delete of the compute and
		// a delete of its cluster take too (compute.Service.UseIn): a delete committed
		// since is seen here, and one that comes after sees this endpoint (ComputeUsers).
		if err := s.useCompute(ctx, tx, p.Compute); err != nil {
			return err
		}
		if prev == nil {
			ep.Properties.ProvisioningState = armapi.StateCreating
			ep.SystemData = resources.Touch(ctx, nil, s.now())
			body := encode(ep)
			group := arm.GroupOf(w.ID)
			if err := tx.CreateResource(ctx, &store.Resource{ID: id, ParentID: w.ID, Type: TypeEndpoint, Name: name, SubscriptionID: sub, ResourceGroup: group, Location: ep.Location, Body: body}); err != nil {
				return err
			}
			if keys == nil {
				keys = &armapi.EndpointKeys{PrimaryKey: generateKey(), SecondaryKey: generateKey()}
			}
			return tx.CreateResource(ctx, &store.Resource{ID: keysID(id), ParentID: id, Type: typeKeys, Name: "keys", SubscriptionID: sub, ResourceGroup: group, OwnerID: id, Body: s.sealKeys(keys)})
		}
		// An update keeps what the operations found (scoring URI, the computes that hold
		// the Secret): the Secret must still be removed from a compute the endpoint leaves.
		ep.Properties.ScoringURI, ep.Properties.SwaggerURI, ep.Properties.Mlfleet = prev.Properties.ScoringURI, prev.Properties.SwaggerURI, prev.Properties.Mlfleet
		ep.Properties.ProvisioningState = armapi.StateUpdating
		ep.SystemData = resources.Touch(ctx, prev.SystemData, s.now())
		existing.Location = ep.Location
		if err := update(ctx, tx, existing, ep); err != nil {
			return err
		}
		// Without keys in the body the endpoint keeps its keys; a PUT does not rotate
		// them (RegenerateKeys does).
		if keys == nil {
			return nil
		}
		return s.saveKeys(ctx, tx, id, keys)
	})
	if err != nil {
		return nil, err
	}
	return &Result[armapi.OnlineEndpoint]{Value: ep, Created: prev == nil, ETag: s.etagOf(ctx, id), Operation: op}, nil
}

// saveKeys replaces an endpoint's sealed keys inside the transaction tx, at the version
// read there, so that a concurrent change of the keys fails the transaction.
func (s *Service) saveKeys(ctx context.Context, tx store.Store, endpointID string, k *armapi.EndpointKeys) error {
	r, err := tx.GetResource(ctx, keysID(endpointID))
	if err != nil {
		return err
	}
	r.Body = s.sealKeys(k)
	return tx.UpdateResource(ctx, r)
}

// GetEndpoint returns an endpoint and its etag.
func (s *Service) GetEndpoint(ctx context.Context, sub, rg, ws, name string) (*armapi.OnlineEndpoint, string, error) {
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, "", err
	}
	r, ep, err := s.endpointRow(ctx, s.cfg.Store, EndpointID(sub, rg, w.Name, name), name, w.Name)
	if err != nil {
		return nil, "", err
	}
	return ep, arm.ETag(r.Version), nil
}

// ListEndpoints returns a page of a workspace's endpoints, and where the next page starts
// (see resources.ListPage).
func (s *Service) ListEndpoints(ctx context.Context, sub, rg, ws string, p resources.Page) ([]json.RawMessage, string, error) {
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, "", err
	}
	return resources.ListBodies(ctx, s.cfg.Store, store.ListOptions{ParentID: w.ID, Type: TypeEndpoint}, p)
}

// DeleteEndpoint starts deleting an endpoint with its deployments (nil, nil when there is
// none).
func (s *Service) DeleteEndpoint(ctx context.Context, sub, rg, ws, name string, pre arm.Preconditions) (*store.Operation, error) {
	w, err := s.cfg.Workspaces.Writable(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("Online endpoint '%s'", name)
	r, ep, err := s.endpointRow(ctx, s.cfg.Store, EndpointID(sub, rg, w.Name, name), name, w.Name)
	// Deleting what is not there succeeds (nil operation: 204), unless If-Match asked
	// for a particular version of it.
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Status == 404 {
		return nil, pre.CheckIfMatch(what, false, "")
	}
	if err != nil {
		return nil, err
	}
	c := change{kind: KindEndpointDelete, sub: sub, id: r.ID, what: fmt.Sprintf("Online endpoint '%s'", r.Name), retry: retryOnly}
	return s.startDelete(ctx, c, pre, r, ep.Properties.ProvisioningState, func(tx store.Store) error {
		ep.Properties.ProvisioningState = armapi.StateDeleting
		return update(ctx, tx, r, ep)
	})
}

// ListKeys returns an endpoint's keys (authMode Key).
func (s *Service) ListKeys(ctx context.Context, sub, rg, ws, name string) (*armapi.EndpointKeys, error) {
	ep, _, err := s.GetEndpoint(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	if ep.Properties.AuthMode != AuthKey {
		return nil, arm.BadRequest(arm.CodeUserError, "Online endpoint '%s' uses authMode %s, which has no keys; get a token instead (POST …/token, or 'mlfleet ml online-endpoint get-credentials').", name, ep.Properties.AuthMode)
	}
	return s.loadKeys(ctx, s.cfg.Store, ep.ID)
}

// RegenerateKeys replaces the primary or secondary key (keyValue "" = a random one) and
// starts the operation that rewrites the endpoint's Secret.
func (s *Service) RegenerateKeys(ctx context.Context, sub, rg, ws, name, keyType, keyValue string) (*store.Operation, error) {
	w, err := s.cfg.Workspaces.Writable(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	var problems mlassets.Problems
	if !strings.EqualFold(keyType, "Primary") && !strings.EqualFold(keyType, "Secondary") {
		problems = append(problems, arm.BadRequest(arm.CodeUserError, "keyType '%s' is not Primary or Secondary.", keyType).WithTarget("keyType"))
	}
	if keyValue != "" && len(keyValue) < 16 {
		problems = append(problems, arm.BadRequest(arm.CodeUserError, "keyValue must have at least 16 characters (or leave it out for a random key).").WithTarget("keyValue"))
	}
	if err := problems.Err("Regenerate keys"); err != nil {
		return nil, err
	}
	if keyValue == "" {
		keyValue = generateKey()
	}
	// The operation is recorded on the endpoint's stored id, not on the request's
	// spelling of it (A1); the row is read again in the transaction below.
	r, _, err := s.endpointRow(ctx, s.cfg.Store, EndpointID(sub, rg, w.Name, name), name, w.Name)
	if err != nil {
		return nil, err
	}
	id, name := r.ID, r.Name
	what := fmt.Sprintf("Online endpoint '%s'", name)
	return s.submit(ctx, change{kind: KindEndpointPut, sub: sub, id: id, what: what, retry: retryOnly}, func(tx store.Store) error {
		r, ep, err := s.endpointRow(ctx, tx, id, name, w.Name)
		if err != nil {
			return err
		}
		// The endpoint is read inside the transaction: a check before it could pass, and
		// another write start an operation, before this one commits.
		if inProgress(ep.Properties.ProvisioningState) {
			return busy(what, ep.Properties.ProvisioningState)
		}
		if ep.Properties.AuthMode != AuthKey {
			return arm.BadRequest(arm.CodeUserError, "Online endpoint '%s' uses authMode %s, which has no keys.", name, ep.Properties.AuthMode)
		}
		k, err := s.loadKeys(ctx, tx, id)
		if err != nil {
			return err
		}
		if strings.EqualFold(keyType, "Primary") {
			k.PrimaryKey = keyValue
		} else {
			k.SecondaryKey = keyValue
		}
		if err := s.saveKeys(ctx, tx, id, k); err != nil {
			return err
		}
		ep.Properties.ProvisioningState = armapi.StateUpdating
		return update(ctx, tx, r, ep)
	})
}

// Token mints an AMLToken for an endpoint whose authMode is AMLToken. It is valid for
// TokenLifetime, to be refreshed after half of it (refreshAfterTimeUtc). The router
// verifies it with the public key in the endpoint's Secret and checks its aud claim, its
// endpoint claim (the endpoint's name) and its endpointId claim (its ARM id: names repeat
// across workspaces, the signing key does not change).
func (s *Service) Token(ctx context.Context, sub, rg, ws, name string) (*armapi.EndpointToken, error) {
	ep, _, err := s.GetEndpoint(ctx, sub, rg, ws, name)
	if err != nil {
		return nil, err
	}
	if ep.Properties.AuthMode != AuthAMLToken || s.cfg.SigningKey == nil {
		return nil, arm.BadRequest(arm.CodeUserError, "Online endpoint '%s' uses authMode %s; tokens are for authMode AMLToken. Use its keys (listKeys).", name, ep.Properties.AuthMode)
	}
	now := s.now()
	exp := now.Add(s.cfg.TokenLifetime)
	tok, err := s.cfg.SigningKey.Sign(map[string]any{"aud": inference.TokenAudience, "endpoint": ep.Name, "endpointId": ep.ID, "iat": now.Unix(), "exp": exp.Unix()})
	if err != nil {
		return nil, err
	}
	return &armapi.EndpointToken{AccessToken: tok, TokenType: "Bearer", ExpiryTimeUTC: exp.Unix(), RefreshAfterTimeUTC: now.Add(s.cfg.TokenLifetime / 2).Unix()}, nil
}

// endpointLocation is the location an endpoint PUT stores: its workspace's, as in Azure
// ML, where an online endpoint and its workspace share a region. loc "" means the
// workspace's. A region other than the workspace's (or none that exists) is a 400 naming
// the workspace's location; on an update (prev not nil) a location other than the stored
// one is a 409, as for a workspace, since a location never changes. An endpoint stored in
// another location by an older server keeps it while requests name that one.
func endpointLocation(loc string, w *armapi.Workspace, prev *armapi.OnlineEndpoint) (string, *arm.Error) {
	if strings.TrimSpace(loc) == "" {
		if prev != nil {
			return prev.Location, nil
		}
		return w.Location, nil
	}
	norm, known := arm.NormalizeLocation(loc)
	if prev != nil && (strings.EqualFold(loc, prev.Location) || known && strings.EqualFold(norm, prev.Location)) {
		return prev.Location, nil
	}
	if prev != nil {
		return "", arm.Conflict("Online endpoint '%s' already exists in location '%s'; its location cannot be changed.", prev.Name, prev.Location).WithTarget("location")
	}
	if !known || !strings.EqualFold(norm, w.Location) {
		return "", arm.BadRequest(arm.CodeInvalidLocation, "The location '%s' is not the location of workspace '%s'; an online endpoint is in its workspace's location: use \"location\": \"%s\" (or leave it out).", loc, w.Name, w.Location).WithTarget("location")
	}
	return w.Location, nil
}
