package endpoints

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

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
	assets := mlassets.New(mlassets.Config{Store: stack.Store, Resources: stack.Resources, Workspaces: stack.Workspaces})
	computes := compute.New(compute.Config{Store: stack.Store, Engine: stack.Engine, Resources: stack.Resources, Workspaces: stack.Workspaces, Clusters: stack.Clusters, Secrets: stack.Secrets})
	eps := New(Config{Store: stack.Store, Engine: stack.Engine, Resources: stack.Resources, Workspaces: stack.Workspaces, Computes: computes,
		Clusters: stack.Clusters, Assets: assets, Secrets: stack.Secrets, Home: t.TempDir()})
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
