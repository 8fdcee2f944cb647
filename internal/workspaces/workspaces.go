package workspaces

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Namespace is the ARM provider namespace of workspaces.
const Namespace = "Microsoft.MachineLearningServices"

// Service manages workspaces.
type Service struct {
	store     store.Store
	resources *resources.Service
	now       func() time.Time
}

// New returns a workspace Service.
func New(s store.Store, rs *resources.Service) *Service {
	return &Service{store: s, resources: rs, now: time.Now}
}

// namePattern is A6's rule for workspace names (Azure ML's: 3 to 33 characters).
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$`)

// ValidateName returns a 400 InvalidResourceName when name breaks the workspace name rule.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return arm.BadRequest(arm.CodeInvalidResourceName,
			"Workspace name '%s' is invalid: use 3 to 33 letters, digits, '-' or '_', starting with a letter or digit.", name).WithTarget("workspaceName")
	}
	return nil
}

// ID returns the id of a workspace.
func ID(sub, rg, name string) string {
	return arm.ResourcePath(sub, rg, Namespace, "workspaces", name)
}

// Put creates or updates a workspace; created is true when it is new.
func (s *Service) Put(ctx context.Context, sub, rg, name string, in armapi.WorkspaceInput) (ws *armapi.Workspace, created bool, err error) {
	group, err := s.resources.WritableGroup(ctx, sub, rg)
	if err != nil {
		return nil, false, err
	}
	if err := ValidateName(name); err != nil {
		return nil, false, err
	}
	if strings.TrimSpace(in.Location) == "" {
		return nil, false, arm.BadRequest(arm.CodeLocationRequired, "The location of workspace '%s' is required, e.g. \"location\": \"%s\".", name, group.Location).WithTarget("location")
	}
	loc, ok := arm.NormalizeLocation(in.Location)
	if !ok {
		return nil, false, resources.InvalidLocation(in.Location)
	}
	id := ID(sub, group.Name, name)
	now := s.now()
	created, err = resources.Upsert(ctx, s.store, "workspace "+name, id, func() *store.Resource {
		ws = &armapi.Workspace{ID: id, Name: name, Type: arm.TypeWorkspace, Location: loc, Tags: tags(in.Tags),
			SystemData: resources.Touch(ctx, nil, now),
			Properties: armapi.WorkspaceProperties{ProvisioningState: armapi.StateSucceeded, FriendlyName: in.Properties.FriendlyName,
				Description: in.Properties.Description, WorkspaceID: uuid.NewString(), CreationTime: now.UTC().Format(time.RFC3339Nano)}}
		if ws.Properties.FriendlyName == "" {
			ws.Properties.FriendlyName = name
		}
		return &store.Resource{ID: id, ParentID: group.ID, Type: arm.TypeWorkspace, Name: name,
			SubscriptionID: sub, ResourceGroup: group.Name, Location: loc, Body: workspaceRecord.Encode(ws)}
	}, func(existing *store.Resource) error {
		var err error
		if ws, err = readLive(name, existing); err != nil {
			return err
		}
		// A 409 as for a resource group: the request is well formed, it conflicts with the
		// workspace that exists elsewhere.
		if ws.Location != loc {
			return arm.Conflict("Workspace '%s' already exists in location '%s'; its location cannot be changed.", ws.Name, ws.Location).WithTarget("location")
		}
		ws.Tags = tags(in.Tags)
		if in.Properties.FriendlyName != "" {
			ws.Properties.FriendlyName = in.Properties.FriendlyName
		}
		ws.Properties.Description = in.Properties.Description
		ws.SystemData = resources.Touch(ctx, ws.SystemData, now)
		existing.Body = workspaceRecord.Encode(ws)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return ws, created, nil
}

// Get returns a workspace, or a 404 (ResourceGroupNotFound or WorkspaceNotFound).
func (s *Service) Get(ctx context.Context, sub, rg, name string) (*armapi.Workspace, error) {
	group, err := s.resources.GetGroup(ctx, sub, rg)
	if err != nil {
		return nil, err
	}
	r, err := s.store.GetResource(ctx, ID(sub, rg, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.NotFound(arm.CodeWorkspaceNotFound, "Workspace '%s' could not be found in resource group '%s'. Create it with 'mlfleet ml workspace create -n %s -g %s'.", name, group.Name, name, group.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("get workspace %s: %w", name, err)
	}
	return workspaceRecord.Read(name, r.Body)
}

// Writable returns the workspace that a write goes into or under, after checking that its
// resource group takes writes (resources.Service.WritableGroup): 404 when the group or the
// workspace does not exist, 409 ResourceGroupBeingDeleted while the group is being deleted.
func (s *Service) Writable(ctx context.Context, sub, rg, name string) (*armapi.Workspace, error) {
	if _, err := s.resources.WritableGroup(ctx, sub, rg); err != nil {
		return nil, err
	}
	return s.Get(ctx, sub, rg, name)
}

// readLive reads the stored workspace r for a change: a workspace being deleted is a 409.
func readLive(name string, r *store.Resource) (*armapi.Workspace, error) {
	ws, err := workspaceRecord.Read(name, r.Body)
	if err != nil {
		return nil, err
	}
	if ws.Properties.ProvisioningState == armapi.StateDeleting {
		return nil, arm.Conflict("Workspace '%s' is being deleted; wait for the delete to finish, then create it again.", ws.Name)
	}
	return ws, nil
}

// Patch changes the fields in sets of an existing workspace (ARM's PATCH): tags, when sent,
// replace the whole set; a friendly name or description changes when sent (an empty
// friendly name keeps the current one, as a PUT does). A missing workspace is a 404: PATCH
// never creates. A workspace has no etag, so If-Match holds only as *.
func (s *Service) Patch(ctx context.Context, sub, rg, name string, in armapi.WorkspacePatch, pre arm.Preconditions) (*armapi.Workspace, error) {
	if _, err := s.Writable(ctx, sub, rg, name); err != nil {
		return nil, err
	}
	if err := pre.CheckIfMatchUntagged(fmt.Sprintf("Workspace '%s'", name)); err != nil {
		return nil, err
	}
	now := s.now()
	var ws *armapi.Workspace
	_, err := store.Modify(ctx, s.store, ID(sub, rg, name), func(r *store.Resource) error {
		var err error
		if ws, err = readLive(name, r); err != nil {
			return err
		}
		if in.Tags != nil {
			ws.Tags = in.Tags
		}
		if p := in.Properties; p != nil {
			if p.FriendlyName != nil && *p.FriendlyName != "" {
				ws.Properties.FriendlyName = *p.FriendlyName
			}
			if p.Description != nil {
				ws.Properties.Description = *p.Description
			}
		}
		ws.SystemData = resources.Touch(ctx, ws.SystemData, now)
		r.Body = workspaceRecord.Encode(ws)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		// Deleted since it was read above: the same 404 (or, if made again meanwhile, a
		// conflict the caller can retry).
		if _, gerr := s.Get(ctx, sub, rg, name); gerr != nil {
			return nil, gerr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("patch workspace %s: %w", name, err)
	}
	return ws, nil
}

// List returns a page of workspaces of a resource group, or of the whole subscription when
// rg is "", and where the next page starts (see resources.ListPage).
func (s *Service) List(ctx context.Context, sub, rg string, p resources.Page) (list []*armapi.Workspace, next string, err error) {
	opts := store.ListOptions{Type: arm.TypeWorkspace}
	if rg == "" {
		if _, err := s.resources.GetSubscription(ctx, sub); err != nil {
			return nil, "", err
		}
		opts.Scope = arm.SubscriptionPath(sub)
	} else {
		if _, err := s.resources.GetGroup(ctx, sub, rg); err != nil {
			return nil, "", err
		}
		opts.ParentID = arm.ResourceGroupPath(sub, rg)
	}
	rows, next, err := resources.ListPage(ctx, s.store, opts, p)
	if err != nil {
		return nil, "", fmt.Errorf("list workspaces: %w", err)
	}
	list, err = resources.DecodeRows(rows, func(r *store.Resource) (*armapi.Workspace, error) { return workspaceRecord.Read(r.ID, r.Body) })
	if err != nil {
		return nil, "", err
	}
	return list, next, nil
}

// Delete starts deleting a workspace with everything in it. It returns nil, nil when the
// workspace does not exist (ARM's 204 for a DELETE of nothing).
func (s *Service) Delete(ctx context.Context, sub, rg, name string) (*store.Operation, error) {
	ws, err := s.Get(ctx, sub, rg, name)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Code == arm.CodeWorkspaceNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.resources.StartDelete(ctx, ws.ID, sub)
}

// tags returns t, or an empty map: ARM bodies carry "tags": {} rather than null.
func tags(t map[string]string) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return t
}
