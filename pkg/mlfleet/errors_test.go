package mlfleet_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestHasCode checks that HasCode finds a code at the top, in a detail, in a detail's
// detail, in any case, through wrapping, and nowhere else.
func TestHasCode(t *testing.T) {
	nested := &mlfleet.Error{StatusCode: 400, Code: "UserError", Details: []*mlfleet.Error{
		{Code: "Conflict"},
		{Code: "UserError", Details: []*mlfleet.Error{{Code: "InsufficientCapacity"}}},
	}}
	tests := []struct {
		name string
		err  error
		code string
		want bool
	}{
		{"top level", nested, "UserError", true},
		{"detail", nested, "Conflict", true},
		{"detail of a detail", nested, "InsufficientCapacity", true},
		{"other case", nested, "insufficientcapacity", true},
		{"wrapped", fmt.Errorf("create: %w", nested), "InsufficientCapacity", true},
		{"absent", nested, "NotFound", false},
		{"not an *Error", errors.New("InsufficientCapacity"), "InsufficientCapacity", false},
		{"nil", nil, "UserError", false},
		{"validation error", &mlfleet.ValidationError{What: "x"}, "UserError", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mlfleet.HasCode(tt.err, tt.code); got != tt.want {
				t.Errorf("HasCode(%v, %q) = %v, want %v", tt.err, tt.code, got, tt.want)
			}
		})
	}
}

// TestHasCodeServerError checks HasCode on what the server answers: attaching a cluster of
// another subscription is a UserError whose detail says why.
func TestHasCodeServerError(t *testing.T) {
	ctx := context.Background()
	_, ws := myWorkspace(ctx)
	_, err := ws.AttachAKS(ctx, "hascodeatt", mlfleet.AKSAttachConfig{
		ResourceID: "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
	})
	var e *mlfleet.Error
	if !errors.As(err, &e) {
		t.Fatalf("AttachAKS = %v, want an *Error", err)
	}
	if !mlfleet.HasCode(err, "ClusterInAnotherSubscription") || e.Code == "ClusterInAnotherSubscription" {
		t.Errorf("AttachAKS = %v (details %v): want ClusterInAnotherSubscription among the details, found by HasCode", err, e.Details)
	}
}

// TestEmptyNameSaysWhich: a name left empty is refused before anything is sent, with a
// message that says which name it is.
func TestEmptyNameSaysWhich(t *testing.T) {
	ctx := context.Background()
	client, ws := myWorkspace(ctx)
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"compute", func() error { _, err := ws.Compute(ctx, ""); return err }, "invalid request: the compute name is empty; give one"},
		{"workspace", func() error { _, err := client.GetWorkspace(ctx, fixtureGroup, ""); return err }, "invalid request: the workspace name is empty; give one"},
		{"resource group", func() error { _, err := client.GetWorkspace(ctx, "", fixtureWorkspace); return err }, "invalid request: the resource group name is empty; give one"},
		{"location", func() error { _, err := client.ListUsages(ctx, ""); return err }, "invalid request: the location is empty; give one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ve *mlfleet.ValidationError
			if !errors.As(err, &ve) || err.Error() != tc.want {
				t.Errorf("got %T %v, want a *ValidationError %q", err, err, tc.want)
			}
		})
	}
}

// TestDetachStateAndGone: after Detach and WaitForCompletion the handle says Succeeded,
// not Deleting; a second Detach of the compute, now gone, is the server's 404, with its
// request id.
func TestDetachStateAndGone(t *testing.T) {
	ctx := context.Background()
	_, ws := myWorkspace(ctx)
	aks, err := ws.AttachAKS(ctx, "detachstate", mlfleet.AKSAttachConfig{ResourceGroup: fixtureGroup, ClusterName: fixtureCluster, ClusterPurpose: mlfleet.PurposeDevTest})
	if err != nil {
		t.Fatal(err)
	}
	if err := aks.WaitForCompletion(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := aks.Detach(ctx); err != nil {
		t.Fatal(err)
	}
	if got := aks.ProvisioningState(); got != "Deleting" {
		t.Errorf("state while detaching = %q, want Deleting", got)
	}
	if err := aks.WaitForCompletion(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := aks.ProvisioningState(); got != "Succeeded" {
		t.Errorf("state after the detach = %q, want Succeeded", got)
	}
	err = aks.Detach(ctx)
	var e *mlfleet.Error
	if !errors.As(err, &e) || !mlfleet.IsNotFound(err) || e.RequestID == "" || !strings.Contains(e.Message, "detachstate") {
		t.Errorf("second Detach = %#v, want the server's 404 naming the compute, with a request id", err)
	}
}
