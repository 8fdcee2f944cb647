package endpoints

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestScoringURIFollowsDeployments: an endpoint's scoringUri names the router of the
// compute its deployments run on, since a router forwards only to the instances in its
// own cluster. An endpoint whose own compute is set keeps that compute's URI while its
// deployments run there, and gets the other compute's once they move off it; with
// deployments on two computes, the URI follows the traffic. The clusters are fakes whose
// azureml-fe Service carries the router's address, as the embedded router writes it.
func TestScoringURIFollowsDeployments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMonitorFixture(t, "00000000-0000-0000-0000-0000000000d5")
	routers := map[string]string{"infa": "127.0.0.1:4001", "infb": "127.0.0.1:4002"}
	for name, addr := range routers {
		f.clusters[name] = fake.NewClientset(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: kube.FrontEndName, Namespace: kube.Namespace,
			Annotations: map[string]string{inference.AnnotationLocalAddress: addr}}})
	}
	epID := EndpointID(f.sub, f.rg, f.ws, "ep")
	setEndpoint := func(traffic map[string]int) {
		t.Helper()
		if err := modify(ctx, f.st, epID, func(ep *armapi.OnlineEndpoint) error {
			ep.Properties.Compute, ep.Properties.Traffic = compute.ID(f.sub, f.rg, f.ws, "infa"), traffic
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	moveDeployment := func(id, computeName string) {
		t.Helper()
		if err := modify(ctx, f.st, id, func(d *armapi.OnlineDeployment) error {
			d.Properties.Compute = compute.ID(f.sub, f.rg, f.ws, computeName)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step, router string) {
		t.Helper()
		if err := f.eps.refreshScoringURI(ctx, epID); err != nil {
			t.Fatal(err)
		}
		r, err := f.st.GetResource(ctx, epID)
		if err != nil {
			t.Fatal(err)
		}
		ep, err := decodeRow[armapi.OnlineEndpoint](r)
		if err != nil {
			t.Fatal(err)
		}
		want := "http://" + routers[router] + "/api/v1/endpoint/ep/score"
		if got := ep.Properties.ScoringURI; got != want {
			t.Errorf("%s: scoringUri %q, want %q (the router of %s); message %+v", step, got, want, router, ep.Properties.Mlfleet)
		}
	}

	setEndpoint(map[string]int{"blue": 100})
	check("no deployment yet", "infa")
	blue := f.deployment(t, "blue", "infa", armapi.StateSucceeded, 1, 1, "")
	check("blue on the endpoint's compute", "infa")
	moveDeployment(blue, "infb")
	check("blue moved off the endpoint's compute", "infb")
	green := f.deployment(t, "green", "infa", armapi.StateSucceeded, 1, 1, "")
	setEndpoint(map[string]int{"blue": 30, "green": 70})
	check("most traffic on the endpoint's compute", "infa")
	setEndpoint(map[string]int{"blue": 70, "green": 30})
	check("most traffic on the other compute", "infb")
	moveDeployment(green, "infb")
	setEndpoint(map[string]int{"blue": 0, "green": 0})
	check("no traffic, every deployment on the other compute", "infb")
}
