package mlassets

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestVersionsKeepTheirParentsCase: names are case-insensitive and case-preserving (A1). A
// version registered through a path that cases its group, workspace or asset name
// otherwise than they were created gets an id built on its container's stored id: version
// 2 of model m1 registered as M1 under RG1/Ws1 is …/rg1/…/ws1/models/m1/versions/2, and
// the container keeps its name. A new asset's container is named as the request names it,
// under the workspace's own id. Every kind builds its ids alike; models and environments
// are checked.
func TestVersionsKeepTheirParentsCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stack, assets, uploads := assetStack(t)
	stack.Group(t, "rg1")
	w := stack.Workspace(t, "rg1", "ws1")
	uri := upload(t, uploads, w, "a model")
	model := func(rg, ws, name, version string) *armapi.AssetVersion {
		t.Helper()
		in := armapi.AssetVersion{Properties: armapi.AssetVersionProperties{ModelURI: uri}}
		v, _, err := assets.Put(ctx, Models, testSub, rg, ws, name, version, in, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// asCreated checks a version's id and its row (id, parent, resource group).
	asCreated := func(what string, v *armapi.AssetVersion, wantID string) {
		t.Helper()
		if v.ID != wantID {
			t.Errorf("%s: id %s, want %s", what, v.ID, wantID)
		}
		r, err := stack.Store.GetResource(ctx, wantID)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := arm.ParseID(wantID)
		if r.ID != wantID || r.ParentID != id.Parent() || r.ResourceGroup != "rg1" {
			t.Errorf("%s: row %s under %s in group %s, want %s under %s in rg1", what, r.ID, r.ParentID, r.ResourceGroup, wantID, id.Parent())
		}
	}

	m1 := arm.ChildID(w.ID, "models", "m1")
	asCreated("m1:1", model("rg1", "ws1", "m1", "1"), m1+"/versions/1")
	asCreated("M1:2 through RG1/Ws1", model("RG1", "Ws1", "M1", "2"), m1+"/versions/2")
	got, _, err := assets.Get(ctx, Models, testSub, "Rg1", "WS1", "M1", "2")
	if err != nil {
		t.Fatal(err)
	}
	asCreated("M1:2 read through Rg1/WS1", got, m1+"/versions/2")
	c, err := assets.GetContainer(ctx, Models, testSub, "RG1", "WS1", "M1")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != m1 || c.Name != "m1" || c.Properties.LatestVersion != "2" {
		t.Errorf("container: id %s name %s latest %s, want %s, m1, 2", c.ID, c.Name, c.Properties.LatestVersion, m1)
	}
	page, _, err := assets.List(ctx, Models, testSub, "RG1", "WS1", "M1", resources.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range page {
		var v armapi.AssetVersion
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		if id, _ := arm.ParseID(v.ID); id.Parent() != m1 {
			t.Errorf("listed version %s is not under %s", v.ID, m1)
		}
	}

	env, _, err := assets.Put(ctx, Environments, testSub, "RG1", "WS1", "Env", "v1",
		armapi.AssetVersion{Properties: armapi.AssetVersionProperties{Image: "python:3.12"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	asCreated("a new environment Env through RG1/WS1", env, arm.ChildID(w.ID, "environments", "Env", "versions", "v1"))
}
