package mlassets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/blobs"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Config wires a Service.
type Config struct {
	Store      store.Store
	Resources  *resources.Service
	Workspaces *workspaces.Service
	// Blobs is asked whether the blobs that URIs name were uploaded to the version's
	// workspace; nil refuses model and code versions.
	Blobs *blobs.Uploads
}

// Service manages model, code and environment versions.
type Service struct {
	cfg Config
	now func() time.Time
	// inUse, when set, names what still uses a version (a deployment), to refuse its delete;
	// it reads through st, the delete's transaction.
	inUse func(ctx context.Context, st store.Store, versionID string) (string, error)
}

// New returns a Service.
func New(cfg Config) *Service { return &Service{cfg: cfg, now: time.Now} }

// SetInUse sets the check that refuses to delete a version something still uses: it
// returns what uses it ("" for nothing). It is called in the transaction of the delete,
// which holds the version's use lock (UseIn), and must read through st only (on SQLite
// another read would wait for the transaction's connection forever).
func (s *Service) SetInUse(f func(ctx context.Context, st store.Store, versionID string) (string, error)) {
	s.inUse = f
}

// ContainerID returns the id that finds an asset container as a request's path names it
// (ids compare without case); a new container's own id is built on its workspace's stored
// id (arm.ChildID).
func ContainerID(sub, rg, ws string, k Kind, name string) string {
	return arm.ResourcePath(sub, rg, Namespace, "workspaces", ws, string(k), name)
}

// VersionID returns the id that finds an asset version as a request's path names it; a new
// version's own id is built on its container's stored id.
func VersionID(sub, rg, ws string, k Kind, name, version string) string {
	return arm.ResourcePath(sub, rg, Namespace, "workspaces", ws, string(k), name, "versions", version)
}

// Options are the request's preconditions.
type Options struct {
	Preconditions arm.Preconditions
}

// Put creates a version, or changes the mutable fields (description, tags, properties,
// isArchived) of an existing one. It returns the version and whether it was created.
func (s *Service) Put(ctx context.Context, k Kind, sub, rg, ws, name, version string, in armapi.AssetVersion, opts Options) (*armapi.AssetVersion, bool, error) {
	w, err := s.cfg.Workspaces.Writable(ctx, sub, rg, ws)
	if err != nil {
		return nil, false, err
	}
	what := fmt.Sprintf("%s version %s:%s", k.singular(), name, version)
	existing, err := s.cfg.Store.GetResource(ctx, VersionID(sub, rg, w.Name, k, name, version))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, fmt.Errorf("get %s: %w", what, err)
	}
	// Only a new version's blobs are checked: an existing one's were when it was created
	// (or it predates the check, and keeps working), and its content cannot change.
	var uploads *uploadCheck
	if existing == nil {
		uploads = &uploadCheck{workspace: w.Name}
		if s.cfg.Blobs != nil {
			uploads.blobs = s.cfg.Blobs.In(w.ID)
		}
	}
	p := in.Properties
	if err := validate(ctx, k, name, version, &p, uploads); err != nil {
		return nil, false, err
	}
	if existing != nil {
		if err := opts.Preconditions.CheckIfMatch(what, true, arm.ETag(existing.Version)); err != nil {
			return nil, false, err
		}
		if opts.Preconditions.IfNoneMatch {
			return nil, false, arm.Conflict("%s already exists in workspace '%s'; versions cannot be replaced: register the new content as another version (e.g. --version %s).", what, w.Name, nextVersion(version))
		}
		v, err := s.update(ctx, k, existing, p, what)
		return v, false, err
	}
	if err := opts.Preconditions.CheckIfMatch(what, false, ""); err != nil {
		return nil, false, err
	}
	p.ProvisioningState = armapi.StateSucceeded
	var v *armapi.AssetVersion
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		// The version's id is built on its container's stored id, which keeps the case
		// the container was created with (A1): version 2 of model m1 is …/models/m1/
		// versions/2 however this request cases the name.
		cid, err := s.touchContainer(ctx, tx, k, w, name, version)
		if err != nil {
			return err
		}
		id := arm.ChildID(cid, "versions", version)
		v = &armapi.AssetVersion{ID: id, Name: version, Type: k.VersionType(), Properties: p, SystemData: resources.Touch(ctx, nil, s.now())}
		return tx.CreateResource(ctx, &store.Resource{ID: id, ParentID: cid, Type: k.VersionType(), Name: version,
			SubscriptionID: sub, ResourceGroup: arm.GroupOf(w.ID), Body: encode(v)})
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, false, arm.Conflict("%s is being created by another request; retry to update it.", what)
	}
	if err != nil {
		return nil, false, fmt.Errorf("create %s: %w", what, err)
	}
	return v, true, nil
}

// touchContainer creates the container name of a new version in workspace w, or records
// the version as its latest, through tx. It returns the container's stored id: a new
// container's is built on the workspace's stored id, an existing one keeps its own.
func (s *Service) touchContainer(ctx context.Context, tx store.Store, k Kind, w *armapi.Workspace, name, version string) (string, error) {
	parsed, _ := arm.ParseID(w.ID)
	r, err := tx.GetResource(ctx, ContainerID(parsed.SubscriptionID, parsed.ResourceGroup, w.Name, k, name))
	if errors.Is(err, store.ErrNotFound) {
		cid := arm.ChildID(w.ID, string(k), name)
		c := &armapi.AssetContainer{ID: cid, Name: name, Type: k.ContainerType(), SystemData: resources.Touch(ctx, nil, s.now()),
			Properties: armapi.AssetContainerProperties{LatestVersion: version, ProvisioningState: armapi.StateSucceeded}}
		body := encode(c)
		return cid, tx.CreateResource(ctx, &store.Resource{ID: cid, ParentID: w.ID, Type: k.ContainerType(), Name: name,
			SubscriptionID: parsed.SubscriptionID, ResourceGroup: parsed.ResourceGroup, Body: body})
	}
	if err != nil {
		return "", err
	}
	var c armapi.AssetContainer
	if err := decode(r, &c); err != nil {
		return "", err
	}
	c.Properties.LatestVersion = version
	c.SystemData = resources.Touch(ctx, c.SystemData, s.now())
	r.Body = encode(&c)
	return r.ID, tx.UpdateResource(ctx, r)
}

// update changes the mutable fields of an existing version; a change of its content is a
// 409 that says to register a new version.
func (s *Service) update(ctx context.Context, k Kind, r *store.Resource, p armapi.AssetVersionProperties, what string) (*armapi.AssetVersion, error) {
	var v armapi.AssetVersion
	if err := decode(r, &v); err != nil {
		return nil, err
	}
	cur := v.Properties
	var changed []string
	for field, pair := range map[string][2]any{
		"modelUri": {cur.ModelURI, p.ModelURI}, "modelType": {cur.ModelType, p.ModelType}, "codeUri": {cur.CodeURI, p.CodeURI},
		"image": {cur.Image, p.Image}, "inferenceConfig": {cur.InferenceConfig, p.InferenceConfig}, "condaFile": {cur.CondaFile, p.CondaFile},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			changed = append(changed, "properties."+field)
		}
	}
	if len(changed) > 0 {
		return nil, arm.Conflict("%s exists with other content (%s differ); a version's content cannot change: register it as a new version (e.g. --version %s).",
			what, strings.Join(changed, ", "), nextVersion(v.Name))
	}
	// The mutable fields are the ones every asset has.
	v.Properties.AssetBase = p.AssetBase
	v.SystemData = resources.Touch(ctx, v.SystemData, s.now())
	r.Body = encode(&v)
	if err := s.cfg.Store.UpdateResource(ctx, r); errors.Is(err, store.ErrConflict) {
		return nil, arm.Conflict("%s was changed by another request; read it again and retry.", what)
	} else if err != nil {
		return nil, fmt.Errorf("update %s: %w", what, err)
	}
	return &v, nil
}

// nextVersion suggests the version after v: v+1 for a number, else v.2.
func nextVersion(v string) string {
	if n, err := strconv.Atoi(v); err == nil {
		return strconv.Itoa(n + 1)
	}
	return v + ".2"
}

// notFound is the 404 of a missing version.
func notFound(k Kind, name, version, ws string) error {
	return arm.NotFound(arm.CodeResourceNotFound, "%s version %s:%s could not be found in workspace '%s'; list them with 'mlfleet ml %s list'.",
		k.singular(), name, version, ws, strings.ToLower(k.singular()))
}

// Get returns a version.
func (s *Service) Get(ctx context.Context, k Kind, sub, rg, ws, name, version string) (*armapi.AssetVersion, string, error) {
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, "", err
	}
	r, err := s.cfg.Store.GetResource(ctx, VersionID(sub, rg, w.Name, k, name, version))
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", notFound(k, name, version, w.Name)
	}
	if err != nil {
		return nil, "", err
	}
	var v armapi.AssetVersion
	if err := decode(r, &v); err != nil {
		return nil, "", err
	}
	return &v, arm.ETag(r.Version), nil
}

// Resolve returns the version an ARM id names, checking its kind; a 400 naming field when
// the id is not one, a 404 when it does not exist.
func (s *Service) Resolve(ctx context.Context, k Kind, id, field string) (*armapi.AssetVersion, error) {
	return resolve(ctx, s.cfg.Store, k, id, field)
}

// useLock names the lock (store.Store.Lock) that makes starting to use a version and
// deleting it one after the other: a new deployment takes it in the transaction that
// stores it (UseIn), Delete before it asks what uses the version. Without it, on
// PostgreSQL each would read the other's rows as they were before both and both commit.
func useLock(versionID string) string { return "asset.use/" + strings.ToLower(versionID) }

// UseIn is Resolve for a new user of a version (an online deployment), in the transaction
// tx that stores the user, before it writes: it takes the version's use lock (useLock)
// and reads the version under it, so that a delete of the version either sees the user or
// has removed the version, which is then the 400 Resolve answers for a missing one.
func (s *Service) UseIn(ctx context.Context, tx store.Store, k Kind, id, field string) (*armapi.AssetVersion, error) {
	if err := tx.Lock(ctx, useLock(id)); err != nil {
		return nil, err
	}
	return resolve(ctx, tx, k, id, field)
}

// resolve is Resolve reading through st.
func resolve(ctx context.Context, st store.Store, k Kind, id, field string) (*armapi.AssetVersion, error) {
	parsed, err := arm.ParseID(id)
	if err != nil || !strings.EqualFold(parsed.Type(), k.VersionType()) || len(parsed.Names) != 3 {
		return nil, arm.BadRequest(arm.CodeUserError, "%s '%s' is not the id of a %s version (…/workspaces/{ws}/%s/{name}/versions/{version}).", field, id, strings.ToLower(k.singular()), k).WithTarget(field)
	}
	r, err := st.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		e := notFound(k, parsed.Names[1], parsed.Names[2], parsed.Names[0]).(*arm.Error)
		e.Status, e.Target = 400, field
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	var v armapi.AssetVersion
	if err := decode(r, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// List returns a page of the versions of one asset, or of the containers of a kind when
// name is "", and where the next page starts (see resources.ListPage).
func (s *Service) List(ctx context.Context, k Kind, sub, rg, ws, name string, p resources.Page) ([]json.RawMessage, string, error) {
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, "", err
	}
	opts := store.ListOptions{ParentID: w.ID, Type: k.ContainerType()}
	if name != "" {
		opts = store.ListOptions{ParentID: ContainerID(sub, rg, w.Name, k, name), Type: k.VersionType()}
	}
	return resources.ListBodies(ctx, s.cfg.Store, opts, p)
}

// GetContainer returns an asset container.
func (s *Service) GetContainer(ctx context.Context, k Kind, sub, rg, ws, name string) (*armapi.AssetContainer, error) {
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	r, err := s.cfg.Store.GetResource(ctx, ContainerID(sub, rg, w.Name, k, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.NotFound(arm.CodeResourceNotFound, "%s '%s' could not be found in workspace '%s'.", k.singular(), name, w.Name)
	}
	if err != nil {
		return nil, err
	}
	var c armapi.AssetContainer
	if err := decode(r, &c); err != nil {
		return nil, err
	}
	if c.Properties.LatestVersion != "" {
		c.Properties.NextVersion = nextVersion(c.Properties.LatestVersion)
	}
	return &c, nil
}

// Delete removes a version, unless a deployment still uses it. It returns whether there
// was one to delete.
func (s *Service) Delete(ctx context.Context, k Kind, sub, rg, ws, name, version string, pre arm.Preconditions) (bool, error) {
	w, err := s.cfg.Workspaces.Writable(ctx, sub, rg, ws)
	if err != nil {
		return false, err
	}
	id := VersionID(sub, rg, w.Name, k, name, version)
	what := fmt.Sprintf("%s version %s:%s", k.singular(), name, version)
	deleted := false
	// In one transaction under the version's use lock, which a new deployment takes to
	// store itself (UseIn): either it is committed and named here, or it finds the
	// version gone.
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if err := tx.Lock(ctx, useLock(id)); err != nil {
			return err
		}
		r, err := tx.GetResource(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return pre.CheckIfMatch(what, false, "")
		}
		if err != nil {
			return err
		}
		if err := pre.CheckIfMatch(what, true, arm.ETag(r.Version)); err != nil {
			return err
		}
		if s.inUse != nil {
			user, err := s.inUse(ctx, tx, r.ID)
			if err != nil {
				return err
			}
			if user != "" {
				return arm.Conflict("%s is used by %s; delete or change that first.", what, user)
			}
		}
		if err := tx.DeleteResource(ctx, r.ID, r.Version); errors.Is(err, store.ErrConflict) {
			return arm.Conflict("%s was changed by another request; retry.", what)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		deleted = true
		return nil
	})
	return deleted, err
}
