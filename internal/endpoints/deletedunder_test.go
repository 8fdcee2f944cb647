package endpoints

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestEndpointDeletedUnderDeploymentCreate: deleting an endpoint while one of its
// deployments is being created removes the deployment with it, and the create's operation
// ends Failed with a 409 that says the endpoint was deleted, not an InternalServerError
// "deployment … disappeared from the cluster" (QA9 #11). The operations run on the real
// engine over a real SQLite store; the cluster is client-go's fake clientset (a fake, so
// named), with no deployment controller, so the create waits for its instances for good.
func TestEndpointDeletedUnderDeploymentCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000e7", "rg", "wsgone"
	f := newClusterFixture(t, sub, rg, ws, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kube.Namespace}})
	stack, eps, cluster := f.stack, f.eps, f.cluster
	// An endpoint of its own, with its keys (raceRows's has none).
	if _, err := eps.PutEndpoint(ctx, sub, rg, ws, "epg", armapi.OnlineEndpoint{Properties: armapi.OnlineEndpointProperties{AuthMode: AuthKey}}, Options{}); err != nil {
		t.Fatal(err)
	}
	stack.Engine.Start(ctx)
	t.Cleanup(func() { _ = stack.Engine.Close(context.Background()) })

	in := armapi.OnlineDeployment{Location: "westus", Properties: armapi.OnlineDeploymentProperties{Compute: "azureml:infr", EnvironmentID: f.envID}}
	res, err := eps.PutDeployment(ctx, sub, rg, ws, "epg", "slow", in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the deployment's instances in the cluster", func() (bool, string) {
		_, err := cluster.AppsV1().Deployments(kube.Namespace).Get(ctx, DeploymentName("epg", "slow"), metav1.GetOptions{})
		return err == nil, ""
	})
	del, err := eps.DeleteEndpoint(ctx, sub, rg, ws, "EPG", arm.Preconditions{})
	if err != nil || del == nil {
		t.Fatalf("delete the endpoint: %v %v", del, err)
	}
	var op *store.Operation
	testutil.WaitFor(t, 30*time.Second, "the deployment's operation to end", func() (bool, string) {
		op, err = stack.Store.GetOperation(ctx, res.Operation.ID)
		if err != nil {
			t.Fatal(err)
		}
		return op.Status == store.StatusSucceeded || op.Status == store.StatusFailed || op.Status == store.StatusCanceled, op.Status
	})
	if op.Status != store.StatusFailed || !strings.Contains(string(op.Error), `"code":"Conflict"`) ||
		!strings.Contains(string(op.Error), "Online endpoint 'epg' was deleted while deployment 'slow' was being created") {
		t.Errorf("deployment operation %s: %s", op.Status, op.Error)
	}
	testutil.WaitFor(t, 30*time.Second, "the endpoint's delete to end", func() (bool, string) {
		op, err := stack.Store.GetOperation(ctx, del.ID)
		if err != nil {
			t.Fatal(err)
		}
		return op.Status == store.StatusSucceeded, op.Status + " " + string(op.Error)
	})
}
