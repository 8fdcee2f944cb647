package compute

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestComponentsUnreachable: a detach that cannot reach its cluster says why when the
// cluster's authorized IP ranges leave out the address the control plane connects from,
// with the range to add and the command that adds it, instead of a bare EOF; otherwise it
// keeps the general advice.
func TestComponentsUnreachable(t *testing.T) {
	t.Parallel()
	eof := errors.New(`get namespace azureml: cluster unreachable: Get "https://127.0.0.1:6443/api/v1/namespaces/azureml": EOF`)
	cluster := func(ranges ...string) *armapi.ManagedCluster {
		mc := &armapi.ManagedCluster{ID: "/subscriptions/0d000000-0000-4000-8000-000000000003/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aksx", Name: "aksx"}
		mc.Properties.Mlfleet.APIServerURL = "https://127.0.0.1:6443"
		if ranges != nil {
			mc.Properties.APIServerAccessProfile = &armapi.APIServerAccessProfile{AuthorizedIPRanges: ranges}
		}
		return mc
	}
	for _, tc := range []struct {
		name     string
		mc       *armapi.ManagedCluster
		want     []string
		wantNone []string
	}{
		{name: "ranges leave the control plane out", mc: cluster("203.0.113.0/24"),
			want: []string{"EOF", "accepts API server connections only from 203.0.113.0/24", "connects from 127.0.0.1", "Add 127.0.0.1/32",
				"mlfleet aks update -n aksx -g rg1 --api-server-authorized-ip-ranges 203.0.113.0/24,127.0.0.1/32", "retry the detach"},
			wantNone: []string{"aks delete"}},
		{name: "ranges let the control plane in", mc: cluster("203.0.113.0/24", "127.0.0.1/32"),
			want: []string{"EOF", "Make the cluster reachable and retry"}, wantNone: []string{"Add 127.0.0.1/32"}},
		{name: "no ranges", mc: cluster(),
			want: []string{"EOF", "Make the cluster reachable and retry"}, wantNone: []string{"authorized IP ranges"}},
	} {
		ae := armError(t, componentsUnreachable(tc.mc, eof))
		if ae.Status != http.StatusConflict || ae.Code != "ClusterUnreachable" {
			t.Errorf("%s: %d %s, want 409 ClusterUnreachable", tc.name, ae.Status, ae.Code)
		}
		for _, w := range tc.want {
			if !strings.Contains(ae.Message, w) {
				t.Errorf("%s: %q lacks %q", tc.name, ae.Message, w)
			}
		}
		for _, w := range tc.wantNone {
			if strings.Contains(ae.Message, w) {
				t.Errorf("%s: %q has %q", tc.name, ae.Message, w)
			}
		}
	}
}
