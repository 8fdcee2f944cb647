package endpoints

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestPodFiles: a cluster's inference pod gets the files of the online deployment its
// labels name only when that deployment runs on the same cluster (its compute's cluster is
// the one asking), in the namespace mlfleet writes; the names compare without case, as
// ARM names do. Anything else is no deployment of the cluster: a user who may write pods
// in one cluster runs nothing of another's.
func TestPodFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000dd", "rg", "wsfiles"
	stack, w := workspaceStack(t, sub, rg, ws)
	_, eps, _ := wire(t, stack)
	computeID, clusterID := compute.ID(sub, rg, ws, "infr"), containerservice.ID(sub, rg, "aksr")
	raceRows(t, stack.Store, sub, rg, w.ID, computeID, clusterID)
	// The cluster as the provider knows it.
	r, err := stack.Store.GetResource(ctx, clusterID)
	if err != nil {
		t.Fatal(err)
	}
	var mc armapi.ManagedCluster
	if err := json.Unmarshal(r.Body, &mc); err != nil {
		t.Fatal(err)
	}
	mc.Properties.Mlfleet.ClusterID = "cluster-1"
	r.Body, _ = json.Marshal(mc)
	if err := stack.Store.UpdateResource(ctx, r); err != nil {
		t.Fatal(err)
	}
	epID := EndpointID(sub, rg, ws, "epr")
	id := DeploymentID(sub, rg, ws, "epr", "Blue")
	d := &armapi.OnlineDeployment{ID: id, Name: "Blue", Type: TypeDeployment, Location: "westus", Properties: armapi.OnlineDeploymentProperties{
		ProvisioningState: armapi.StateSucceeded, Compute: computeID,
		CodeConfiguration: &armapi.CodeConfiguration{ScoringScript: "src/score.py"}}}
	if err := stack.Store.CreateResource(ctx, &store.Resource{ID: id, ParentID: epID, Type: TypeDeployment, Name: "Blue", SubscriptionID: sub,
		ResourceGroup: rg, Location: "westus", Body: encode(d)}); err != nil {
		t.Fatal(err)
	}

	labels := func(ep, dep string) map[string]string {
		return map[string]string{inference.LabelEndpoint: ep, inference.LabelDeployment: dep}
	}
	files, err := eps.PodFiles(ctx, "cluster-1", inference.Namespace, labels("EPR", "blue"))
	if err != nil || files != (inference.PodFiles{ScoringScript: "src/score.py"}) {
		t.Fatalf("PodFiles of the deployment's own cluster = %+v, %v", files, err)
	}
	for name, c := range map[string]struct {
		cluster, namespace string
		labels             map[string]string
	}{
		"another cluster":    {"cluster-2", inference.Namespace, labels("epr", "Blue")},
		"another namespace":  {"cluster-1", "default", labels("epr", "Blue")},
		"another endpoint":   {"cluster-1", inference.Namespace, labels("other", "Blue")},
		"another deployment": {"cluster-1", inference.Namespace, labels("epr", "green")},
		"no labels":          {"cluster-1", inference.Namespace, nil},
	} {
		if files, err := eps.PodFiles(ctx, c.cluster, c.namespace, c.labels); !errors.Is(err, errNotAnInstance) {
			t.Errorf("%s: PodFiles = %+v, %v; want errNotAnInstance", name, files, err)
		}
	}
}
