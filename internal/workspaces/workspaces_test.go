package workspaces

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// newService returns a workspace Service over a new SQLite store, with subscription sub and
// its resource group rg in westus. The operation engine is never started, so a delete
// leaves what it marked Deleting.
func newService(t *testing.T, sub, rg string) (*Service, *resources.Service) {
	t.Helper()
	st := storetest.OpenSQLite(t)
	rs := resources.New(st, operations.New(st, operations.Config{}))
	ctx := context.Background()
	if _, err := rs.EnsureSubscription(ctx, sub, "test", "tenant"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rs.PutGroup(ctx, sub, rg, armapi.GroupInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
	return New(st, rs), rs
}

// wantConflict fails t unless err is a 409 with code and message.
func wantConflict(t *testing.T, what string, err error, code, message string) {
	t.Helper()
	var ae *arm.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Code != code || ae.Message != message {
		t.Errorf("%s: err = %v, want 409 %s %q", what, err, code, message)
	}
}

func TestAWorkspaceBeingDeletedIsNotChanged(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, "s1", "rg1")
	if _, _, err := s.Put(ctx, "s1", "rg1", "ws1", armapi.WorkspaceInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "s1", "rg1", "ws1"); err != nil {
		t.Fatal(err)
	}
	const message = "Workspace 'ws1' is being deleted; wait for the delete to finish, then create it again."
	_, _, err := s.Put(ctx, "s1", "rg1", "ws1", armapi.WorkspaceInput{Location: "westus"})
	wantConflict(t, "Put", err, arm.CodeConflict, message)
	_, err = s.Patch(ctx, "s1", "rg1", "ws1", armapi.WorkspacePatch{Tags: map[string]string{"a": "b"}}, arm.Preconditions{})
	wantConflict(t, "Patch", err, arm.CodeConflict, message)
}

func TestWritableRefusesAGroupBeingDeleted(t *testing.T) {
	ctx := context.Background()
	s, rs := newService(t, "s1", "rg1")
	if _, _, err := s.Put(ctx, "s1", "rg1", "ws1", armapi.WorkspaceInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
	if w, err := s.Writable(ctx, "s1", "rg1", "ws1"); err != nil || w.Name != "ws1" {
		t.Fatalf("Writable = %v, %v; want workspace ws1", w, err)
	}
	if _, err := s.Writable(ctx, "s1", "rg1", "nope"); !isNotFound(err, arm.CodeWorkspaceNotFound) {
		t.Errorf("Writable of a missing workspace: err = %v, want 404 %s", err, arm.CodeWorkspaceNotFound)
	}
	if _, err := rs.DeleteGroup(ctx, "s1", "rg1"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Writable(ctx, "s1", "rg1", "ws1")
	wantConflict(t, "Writable", err, arm.CodeResourceGroupBeingDeleted,
		"Resource group 'rg1' is being deleted; wait for the delete to finish, then create it again.")
}

// isNotFound says whether err is a 404 with code.
func isNotFound(err error, code string) bool {
	var ae *arm.Error
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Code == code
}
