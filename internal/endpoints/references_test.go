package endpoints

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// wire makes the compute, endpoint and asset services over stack as the server wires them,
// computes asking the endpoints what runs on them. The engine is never started: operations
// stay as submitted.
func wire(t *testing.T, stack *servicetest.Stack) (*compute.Service, *Service, *mlassets.Service) {
	var eps *Service
	computes := compute.New(compute.Config{Store: stack.Store, Engine: stack.Engine, Resources: stack.Resources, Workspaces: stack.Workspaces,
		Clusters: stack.Clusters, Secrets: stack.Secrets,
		InUse: func(ctx context.Context, id string) ([]string, error) { return eps.ComputeUsers(ctx, id) }})
	assets := mlassets.New(mlassets.Config{Store: stack.Store, Resources: stack.Resources, Workspaces: stack.Workspaces})
	eps = New(Config{Store: stack.Store, Engine: stack.Engine, Resources: stack.Resources, Workspaces: stack.Workspaces, Computes: computes,
		Clusters: stack.Clusters, Assets: assets, Secrets: stack.Secrets, Home: t.TempDir()})
	return computes, eps, assets
}

// TestComputeInUseRefusesDetach: detaching or deleting a compute that online deployments
// run on is a 409 naming them, and the compute stays as it was; once they are gone, or for
// a compute nothing runs on, the detach starts. The services are wired as the server wires
// them, over a real SQLite store; the compute, endpoint and deployment are stored as their
// operations leave them (the engine never starts).
func TestComputeInUseRefusesDetach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000bb", "rg", "wsqa"
	stack := servicetest.New(t, sub, nil)
	stack.Group(t, rg)
	w := stack.Workspace(t, rg, ws)
	st := stack.Store
	computes, _, _ := wire(t, stack)

	row := func(id, parent, typ, name string, body []byte) {
		t.Helper()
		if err := st.CreateResource(ctx, &store.Resource{ID: id, ParentID: parent, Type: typ, Name: name, SubscriptionID: sub, ResourceGroup: rg,
			Location: "westus", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	addCompute := func(name string) string {
		id := compute.ID(sub, rg, ws, name)
		c := armapi.Compute{ID: id, Name: name, Type: compute.TypeCompute, Location: "westus", Properties: armapi.ComputeProperties{
			ComputeType: "AKS", ComputeLocation: "westus", ProvisioningState: armapi.StateSucceeded,
			Mlfleet: &armapi.ComputeMlfleet{Conditions: []armapi.Condition{}, Attached: true, CreatedCluster: true}}}
		body, _ := json.Marshal(c)
		row(id, w.ID, compute.TypeCompute, name, body)
		return id
	}
	infq := addCompute("infq")
	addCompute("other")
	epID := EndpointID(sub, rg, ws, "ep-qa")
	row(epID, w.ID, TypeEndpoint, "ep-qa", encode(&armapi.OnlineEndpoint{ID: epID, Name: "ep-qa", Type: TypeEndpoint, Location: "westus",
		Properties: armapi.OnlineEndpointProperties{Compute: infq, ProvisioningState: armapi.StateSucceeded}}))
	for _, name := range []string{"blue", "green"} {
		id := DeploymentID(sub, rg, ws, "ep-qa", name)
		row(id, epID, TypeDeployment, name, encode(&armapi.OnlineDeployment{ID: id, Name: name, Type: TypeDeployment, Location: "westus",
			Properties: armapi.OnlineDeploymentProperties{Compute: infq, ProvisioningState: armapi.StateSucceeded}}))
	}

	for _, action := range []string{"Detach", "Delete"} {
		op, err := computes.Delete(ctx, sub, rg, ws, "infq", action, arm.Preconditions{})
		var ae *arm.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusConflict || !strings.Contains(ae.Message, "deployment 'blue' of endpoint 'ep-qa', deployment 'green' of endpoint 'ep-qa'") ||
			!strings.Contains(ae.Message, "Delete them, or move them to another compute") {
			t.Fatalf("%s of a compute in use started an operation (%v) or answered %v; want 409 naming its deployments", action, op != nil, err)
		}
	}
	if c, err := computes.Get(ctx, sub, rg, ws, "infq"); err != nil || c.Properties.ProvisioningState != armapi.StateSucceeded {
		t.Fatalf("compute after the refused detach: %+v, %v; want it Succeeded", c, err)
	}
	if op, err := computes.Delete(ctx, sub, rg, ws, "other", "Detach", arm.Preconditions{}); err != nil || op == nil {
		t.Fatalf("detach of a compute nothing runs on = %v, %v; want an operation", op, err)
	}
	for _, name := range []string{"blue", "green"} {
		if err := st.DeleteResource(ctx, DeploymentID(sub, rg, ws, "ep-qa", name), 0); err != nil {
			t.Fatal(err)
		}
	}
	if op, err := computes.Delete(ctx, sub, rg, ws, "infq", "Detach", arm.Preconditions{}); err != nil || op == nil {
		t.Fatalf("detach once its deployments are gone = %v, %v; want an operation", op, err)
	}
}

// TestDeploymentAssetsOfItsWorkspace: a deployment refers to the environment (model, code)
// of its own workspace; one of another workspace, which the caller's rights on this one do
// not cover, is a 400 naming the field, while the same asset registered here passes that
// check.
func TestDeploymentAssetsOfItsWorkspace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg = "00000000-0000-0000-0000-0000000000cc", "rg"
	stack := servicetest.New(t, sub, nil)
	stack.Group(t, rg)
	stack.Workspace(t, rg, "wsa")
	stack.Workspace(t, rg, "wsb")
	_, eps, assets := wire(t, stack)
	env := armapi.AssetVersion{Properties: armapi.AssetVersionProperties{Image: "python:3.12"}}
	for _, ws := range []string{"wsa", "wsb"} {
		if _, _, err := assets.Put(ctx, mlassets.Environments, sub, rg, ws, "env", "1", env, mlassets.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eps.PutEndpoint(ctx, sub, rg, "wsb", "ep-b", armapi.OnlineEndpoint{Location: "westus"}, Options{}); err != nil {
		t.Fatal(err)
	}
	problem := func(envWorkspace string) *arm.Error {
		t.Helper()
		in := armapi.OnlineDeployment{Location: "westus", Properties: armapi.OnlineDeploymentProperties{
			EnvironmentID: mlassets.VersionID(sub, rg, envWorkspace, mlassets.Environments, "env", "1")}}
		_, err := eps.PutDeployment(ctx, sub, rg, "wsb", "ep-b", "blue", in, Options{})
		var ae *arm.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			t.Fatalf("deployment with the environment of %s: %v, want a 400 (it has no compute either)", envWorkspace, err)
		}
		for _, d := range ae.Details {
			if d.Target == "properties.environmentId" {
				return d
			}
		}
		return nil
	}
	if d := problem("wsa"); d == nil || !strings.Contains(d.Message, "another workspace") {
		t.Errorf("environment of another workspace: %v, want a problem on properties.environmentId saying so", d)
	}
	if d := problem("wsb"); d != nil {
		t.Errorf("environment of its own workspace: %v, want no problem on it", d)
	}
}

// TestComputeUsersCountsFormerComputes: a deployment moved off a compute still uses it
// until its update removed the old instances there (formerComputes), so that a detach
// does not cut the way to them; the compute it runs on is used too, and one it never ran
// on is not.
func TestComputeUsersCountsFormerComputes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000dd", "rg", "wsmove"
	stack := servicetest.New(t, sub, nil)
	stack.Group(t, rg)
	w := stack.Workspace(t, rg, ws)
	_, eps, _ := wire(t, stack)
	fp1, cff, idle := compute.ID(sub, rg, ws, "fp1"), compute.ID(sub, rg, ws, "cff"), compute.ID(sub, rg, ws, "idle")
	epID := EndpointID(sub, rg, ws, "epm")
	id := DeploymentID(sub, rg, ws, "epm", "blue")
	for _, r := range []*store.Resource{
		{ID: epID, ParentID: w.ID, Type: TypeEndpoint, Name: "epm", Body: encode(&armapi.OnlineEndpoint{ID: epID, Name: "epm", Type: TypeEndpoint})},
		{ID: id, ParentID: epID, Type: TypeDeployment, Name: "blue", Body: encode(&armapi.OnlineDeployment{ID: id, Name: "blue", Type: TypeDeployment,
			Properties: armapi.OnlineDeploymentProperties{Compute: cff, ProvisioningState: armapi.StateUpdating,
				Mlfleet: &armapi.OnlineDeploymentMlfleet{FormerComputes: []string{strings.ToUpper(fp1)}}}})},
	} {
		r.SubscriptionID, r.ResourceGroup, r.Location = sub, rg, "westus"
		if err := stack.Store.CreateResource(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		compute string
		want    string
	}{
		{fp1, "deployment 'blue' of endpoint 'epm'"},
		{cff, "deployment 'blue' of endpoint 'epm'"},
		{idle, ""},
	} {
		users, err := eps.ComputeUsers(ctx, tc.compute)
		if err != nil || strings.Join(users, ", ") != tc.want {
			t.Errorf("ComputeUsers(%s) = %q, %v; want %q", tc.compute, users, err, tc.want)
		}
	}
}
