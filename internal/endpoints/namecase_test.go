package endpoints

import (
	"context"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestEndpointAndDeploymentKeepTheirCase: names are case-insensitive and case-preserving
// (A1). An endpoint created through a path that cases its group and workspace otherwise
// than they were created gets an id built on the workspace's own id; a deployment's id is
// built on its endpoint's. Updates through other casings (a PUT, as PATCH and az ml's
// update send) rename neither: ids, names and the rows' resource group stay as created,
// and a body renamed by an update before this was fixed is named as created again.
func TestEndpointAndDeploymentKeepTheirCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000c5", "rg", "wscase"
	f := newClusterFixture(t, sub, rg, ws)
	eps, w, st, computeID := f.eps, f.w, f.stack.Store, f.computeID
	// succeeded leaves row id as its operation does when it ends.
	succeeded := func(id string, isDeployment bool) {
		t.Helper()
		var err error
		if isDeployment {
			err = modify(ctx, st, id, func(d *armapi.OnlineDeployment) error {
				d.Properties.ProvisioningState = armapi.StateSucceeded
				return nil
			})
		} else {
			err = modify(ctx, st, id, func(ep *armapi.OnlineEndpoint) error {
				ep.Properties.ProvisioningState = armapi.StateSucceeded
				return nil
			})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// asCreated checks the id, name and stored row of what a write answered.
	asCreated := func(what, gotID, gotName, wantID, wantName string) {
		t.Helper()
		if gotID != wantID || gotName != wantName {
			t.Errorf("%s: id %s name %s, want %s, %s", what, gotID, gotName, wantID, wantName)
		}
		r, err := st.GetResource(ctx, wantID)
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != wantID || r.Name != wantName || r.ResourceGroup != rg {
			t.Errorf("%s: row %s named %s in group %s, want %s, %s in %s", what, r.ID, r.Name, r.ResourceGroup, wantID, wantName, rg)
		}
	}

	epID := arm.ChildID(w.ID, "onlineEndpoints", "EpTwo")
	key := armapi.OnlineEndpoint{Location: "westus", Properties: armapi.OnlineEndpointProperties{AuthMode: AuthKey}}
	res, err := eps.PutEndpoint(ctx, sub, "RG", "WSCASE", "EpTwo", key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	asCreated("endpoint create through RG/WSCASE", res.Value.ID, res.Value.Name, epID, "EpTwo")
	succeeded(epID, false)
	// A body an update renamed before updates kept names (the row's own id and name never
	// changed) is named as created again by the next write.
	if err := modify(ctx, st, epID, func(ep *armapi.OnlineEndpoint) error {
		ep.ID, ep.Name = EndpointID(sub, "RG", ws, "eptwo"), "eptwo"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, path := range [][3]string{{"rg", "wscase", "eptwo"}, {"Rg", "WsCase", "EPTWO"}} {
		res, err := eps.PutEndpoint(ctx, sub, path[0], path[1], path[2], key, Options{})
		if err != nil {
			t.Fatal(err)
		}
		asCreated("endpoint update through "+path[2], res.Value.ID, res.Value.Name, epID, "EpTwo")
		succeeded(epID, false)
		ep, _, err := eps.GetEndpoint(ctx, sub, path[0], path[1], path[2])
		if err != nil {
			t.Fatal(err)
		}
		asCreated("endpoint read through "+path[2], ep.ID, ep.Name, epID, "EpTwo")
	}

	dID := arm.ChildID(epID, "deployments", "D-One")
	d := armapi.OnlineDeployment{Location: "westus", Properties: armapi.OnlineDeploymentProperties{Compute: "azureml:INFR", EnvironmentID: f.envID}}
	dres, err := eps.PutDeployment(ctx, sub, "RG", "WSCASE", "EPTWO", "D-One", d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	asCreated("deployment create under EPTWO", dres.Value.ID, dres.Value.Name, dID, "D-One")
	if dres.Value.Properties.Compute != computeID {
		t.Errorf("deployment's compute %s, want the compute's own id %s", dres.Value.Properties.Compute, computeID)
	}
	succeeded(dID, true)
	dres, err = eps.PutDeployment(ctx, sub, "rG", "wsCase", "eptwo", "d-one", d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	asCreated("deployment update through d-one", dres.Value.ID, dres.Value.Name, dID, "D-One")
	got, _, err := eps.GetDeployment(ctx, sub, rg, ws, "EpTwo", "D-ONE")
	if err != nil {
		t.Fatal(err)
	}
	asCreated("deployment read through D-ONE", got.ID, got.Name, dID, "D-One")
}
