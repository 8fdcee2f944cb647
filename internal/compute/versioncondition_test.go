package compute

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestVersionCondition: a cluster whose version left the catalog (serve --versions-file
// with newer versions only) gets VersionSupported False as a warning, OutOfSupport, whose
// message lists the catalog's versions comma-separated; the compute stays Succeeded and
// the warning is no provisioning error. A location the catalog lacks says so.
func TestVersionCondition(t *testing.T) {
	file := filepath.Join(t.TempDir(), "versions.json")
	if err := os.WriteFile(file, []byte(`{"locations": {"westus": [{"version": "1.38.0", "default": true}, {"version": "1.39.1", "preview": true}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	versions, err := catalog.LoadVersions(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		location, version string
		ok                bool
		reason, text      string
	}{
		{"westus", "1.38.0", true, "Supported", "Kubernetes 1.38.0 is supported in westus"},
		{"westus", "1.39.1", true, "Preview", "supported"},
		{"westus", "1.37.2", false, "OutOfSupport", "Kubernetes 1.37.2 is out of support in westus (supported: 1.38.0, 1.39.1 (preview)). The cluster keeps running"},
		{"eastus", "1.37.2", false, "OutOfSupport", "the version catalog lists no versions for eastus"},
	} {
		ok, reason, msg := versionCondition(versions, tc.location, tc.version)
		if ok != tc.ok || reason != tc.reason || !strings.Contains(msg, tc.text) || strings.Contains(msg, "[") {
			t.Errorf("%s in %s: %v %s %q; want %v %s saying %q", tc.version, tc.location, ok, reason, msg, tc.ok, tc.reason, tc.text)
		}
	}

	// What the health monitor records for such a cluster, running and with its front-end.
	stack := servicetest.New(t, testSub, func(cfg *containerservice.Config) { cfg.Versions = versions })
	s := New(Config{Store: stack.Store, Engine: stack.Engine, Resources: stack.Resources, Clusters: stack.Clusters})
	c := armapi.Compute{Properties: armapi.ComputeProperties{Properties: &armapi.AKSProperties{ClusterPurpose: ptr("DevTest")}, Mlfleet: &armapi.ComputeMlfleet{}}}
	s.apply(&c, &observation{Cluster: &armapi.ManagedCluster{Name: "aks1", Location: "westus"}, Version: "1.37.2",
		Nodes: []kube.Node{{Name: "n1", VMSize: "Standard_D3_v2", Cores: 4, MemoryMiB: 14336}}, FrontEnd: &kube.FrontEnd{ReadyReplicas: 1}})
	conds := c.Properties.Mlfleet.Conditions
	i := slices.IndexFunc(conds, func(x armapi.Condition) bool { return x.Type == armapi.ConditionVersionSupported })
	if i < 0 || conds[i].Status != "False" || conds[i].Reason != "OutOfSupport" {
		t.Fatalf("conditions %+v, want VersionSupported False OutOfSupport", conds)
	}
	if state := derivedState(conds); state != armapi.StateSucceeded || len(c.Properties.ProvisioningErrors) != 0 {
		t.Errorf("compute on a version out of support: %s, provisioning errors %+v; want Succeeded and none (conditions %+v)", state, c.Properties.ProvisioningErrors, conds)
	}
}
