package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// computeLocation is where a new compute lives: computeLocation, else the body's location,
// else the workspace's.
func computeLocation(w *armapi.Workspace, in armapi.Compute) (string, error) {
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

// CheckName says whether a new compute of the workspace may be called name (S4). Its
// answer is advice for the form (Studio's alert): the name claim that insert writes is
// what enforces uniqueness, so a name free here can still be a 409 on the PUT.
func (s *Service) CheckName(ctx context.Context, sub, rg, ws, name, location string) (*armapi.NameAvailability, error) {
	w, err := s.cfg.Workspaces.Get(ctx, sub, rg, ws)
	if err != nil {
		return nil, err
	}
	if e := ValidateName(name); e != nil {
		return &armapi.NameAvailability{NameAvailable: false, Reason: "Invalid", Message: e.Message}, nil
	}
	if _, err := s.cfg.Store.GetResource(ctx, ID(sub, rg, w.Name, name)); err == nil {
		return &armapi.NameAvailability{Reason: "AlreadyExists", Message: fmt.Sprintf("Workspace '%s' already has a compute named '%s'.", w.Name, name)}, nil
	}
	loc, err := computeLocation(w, armapi.Compute{Location: location})
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Store.GetResource(ctx, nameClaimID(loc, name)); err == nil {
		return &armapi.NameAvailability{Reason: "AlreadyExists", Message: s.nameTaken(ctx, loc, name).(*arm.Error).Message}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("check name %s: %w", name, err)
	}
	return &armapi.NameAvailability{NameAvailable: true}, nil
}
