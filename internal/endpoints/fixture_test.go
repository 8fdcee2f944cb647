package endpoints

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// clusterFixture is workspace ws of a stack with the services wired as the server wires
// them, compute infr on cluster aksr and endpoint epr as their operations leave them
// (raceRows), environment version env 1, and client-go's fake clientset (a fake, so named)
// with one Ready node of 8 CPUs as the cluster of every compute.
type clusterFixture struct {
	stack     *servicetest.Stack
	w         *armapi.Workspace
	eps       *Service
	computeID string
	envID     string
	cluster   *fake.Clientset
}

// newClusterFixture makes a clusterFixture; objs are more objects in the cluster.
func newClusterFixture(t *testing.T, sub, rg, ws string, objs ...runtime.Object) *clusterFixture {
	t.Helper()
	f := &clusterFixture{computeID: compute.ID(sub, rg, ws, "infr")}
	f.stack, f.w = workspaceStack(t, sub, rg, ws)
	var assets *mlassets.Service
	_, f.eps, assets = wire(t, f.stack)
	raceRows(t, f.stack.Store, sub, rg, f.w.ID, f.computeID, containerservice.ID(sub, rg, "aksr"))
	env, _, err := assets.Put(context.Background(), mlassets.Environments, sub, rg, ws, "env", "1",
		armapi.AssetVersion{Properties: armapi.AssetVersionProperties{Image: "python:3.12"}}, mlassets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.envID = env.ID
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}, Status: corev1.NodeStatus{
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi")},
		Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	f.cluster = fake.NewClientset(append(objs, node)...)
	f.eps.connect = func(context.Context, string) (*kube.Cluster, error) { return &kube.Cluster{Client: f.cluster}, nil }
	return f
}
