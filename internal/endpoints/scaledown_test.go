package endpoints

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestScaleDownKeepsDeploymentsRoom: a scale-down of a compute (computetarget scale) or of
// its cluster (aks scale, aks nodepool scale/update) after which the nodes could no longer
// hold the online deployments running on the compute is a 400 InsufficientCapacity naming
// them and what they need, and saying to scale them down or delete them first (QA9 #9);
// a change that leaves room, counting what the autoscaler may add, passes. The services are
// wired as the server wires them, over a real SQLite store; the rows are stored as their
// operations leave them (the engine never starts).
func TestScaleDownKeepsDeploymentsRoom(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000f8", "rg", "wsdown"
	stack, w := workspaceStack(t, sub, rg, ws)
	computes, _, _ := wire(t, stack)
	computeID, clusterID := compute.ID(sub, rg, ws, "cmpa"), containerservice.ID(sub, rg, "aksa")

	// Cluster aksa of the embedded provider, 2 nodes of Standard_D3_v2 (4 cores), with
	// compute cmpa (DevTest: the purpose rules allow 1 node) attached, and deployment
	// dlarge of endpoint eptwo with 2 instances of 2 CPUs on it.
	cluster := func(count int, autoscaleTo int) *armapi.ManagedCluster {
		mc := &armapi.ManagedCluster{ID: clusterID, Name: "aksa", Type: containerservice.TypeManagedCluster, Location: "westus"}
		mc.Properties.ProvisioningState, mc.Properties.KubernetesVersion = armapi.StateSucceeded, "1.36.3"
		mc.Properties.AgentPoolProfiles = []armapi.AgentPoolProfile{{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Count: count,
			VMSize: "Standard_D3_v2", Mode: "System", OSType: "Linux", OrchestratorVersion: "1.36.3", ProvisioningState: armapi.StateSucceeded}}}
		if autoscaleTo > 0 {
			p := &mc.Properties.AgentPoolProfiles[0]
			p.EnableAutoScaling, p.MinCount, p.MaxCount = true, &count, &autoscaleTo
		}
		mc.Properties.Mlfleet.Provider = "embedded"
		return mc
	}
	clusterBody, _ := json.Marshal(cluster(2, 0))
	two, size, purpose := 2, "Standard_D3_v2", "DevTest"
	c := armapi.Compute{ID: computeID, Name: "cmpa", Type: compute.TypeCompute, Location: "westus", Properties: armapi.ComputeProperties{
		ComputeType: "AKS", ComputeLocation: "westus", ProvisioningState: armapi.StateSucceeded, ResourceID: &clusterID,
		Properties: &armapi.AKSProperties{AgentCount: &two, AgentVMSize: &size, ClusterPurpose: &purpose},
		Mlfleet:    &armapi.ComputeMlfleet{Conditions: []armapi.Condition{}, Attached: true, CreatedCluster: true}}}
	computeBody, _ := json.Marshal(c)
	epID := EndpointID(sub, rg, ws, "eptwo")
	dID := DeploymentID(sub, rg, ws, "eptwo", "dlarge")
	for _, r := range []*store.Resource{
		{ID: clusterID, ParentID: arm.ResourceGroupPath(sub, rg), Type: containerservice.TypeManagedCluster, Name: "aksa", Body: clusterBody},
		{ID: clusterID + "/mlfleetAttachments/current", ParentID: clusterID, Type: containerservice.TypeManagedCluster + "/mlfleetAttachments",
			Name: "current", Body: []byte(`{"computeId":"` + computeID + `"}`), OwnerID: computeID},
		{ID: computeID, ParentID: w.ID, Type: compute.TypeCompute, Name: "cmpa", Body: computeBody},
		{ID: epID, ParentID: w.ID, Type: TypeEndpoint, Name: "eptwo", Body: encode(&armapi.OnlineEndpoint{ID: epID, Name: "eptwo", Type: TypeEndpoint,
			Location: "westus", Properties: armapi.OnlineEndpointProperties{AuthMode: AuthKey, Compute: computeID, ProvisioningState: armapi.StateSucceeded}})},
		{ID: dID, ParentID: epID, Type: TypeDeployment, Name: "dlarge", Body: encode(&armapi.OnlineDeployment{ID: dID, Name: "dlarge", Type: TypeDeployment,
			Location: "westus", Sku: &armapi.DeploymentSku{Name: "Default", Capacity: &two}, Properties: armapi.OnlineDeploymentProperties{
				Compute: computeID, Model: "azureml:m:1", InstanceType: "largeinstancetype", ProvisioningState: armapi.StateSucceeded,
				Mlfleet: &armapi.OnlineDeploymentMlfleet{InstanceCount: 2, ReadyInstances: 2}}})},
	} {
		r.SubscriptionID, r.ResourceGroup, r.Location = sub, rg, "westus"
		if err := stack.Store.CreateResource(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"deployment 'dlarge' of endpoint 'eptwo' (2 × largeinstancetype)", "need 4 CPU", "hold only 1 of the instances", "Scale the deployments down", "delete them first"}
	refused := func(name string, err error, target string) {
		t.Helper()
		var ae *arm.Error
		if !errors.As(err, &ae) || ae.Status != 400 {
			t.Fatalf("%s: %v; want a 400", name, err)
		}
		msg, targets := ae.Message, ae.Target
		for _, d := range ae.Details {
			msg, targets = msg+" "+d.Message, targets+" "+d.Target
			if d.Code != "InsufficientCapacity" {
				t.Errorf("%s: detail code %s; want InsufficientCapacity", name, d.Code)
			}
		}
		for _, part := range want {
			if !strings.Contains(msg, part) {
				t.Errorf("%s: %q; want it to hold %q", name, msg, part)
			}
		}
		if !strings.Contains(targets, target) {
			t.Errorf("%s: targets %q; want %s", name, targets, target)
		}
	}

	// A change made to the cluster itself (its ChangeGuard).
	refused("aks scale to 1 node", computes.ClusterChangeAllowed(ctx, cluster(1, 0)), "properties.agentPoolProfiles")
	for name, next := range map[string]*armapi.ManagedCluster{
		"nodes kept":                       cluster(2, 0),
		"1 node, autoscaler up to 2 nodes": cluster(1, 2),
	} {
		if err := computes.ClusterChangeAllowed(ctx, next); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// The compute's scale (computetarget scale --agent-count), validated only.
	scale := func(n int) error {
		in := c
		in.Properties.Properties = &armapi.AKSProperties{AgentCount: &n, AgentVMSize: &size, ClusterPurpose: &purpose}
		in.Properties.Mlfleet = nil
		_, err := computes.Put(ctx, sub, rg, ws, "cmpa", in, compute.Options{ValidateOnly: true})
		return err
	}
	refused("computetarget scale to 1 node", scale(1), "properties.properties.agentCount")
	if err := scale(3); err != nil {
		t.Errorf("computetarget scale to 3 nodes: %v", err)
	}
}
