package containerservice

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// loadCatalog returns the version catalog of a --versions-file holding body.
func loadCatalog(t *testing.T, body string) *catalog.Versions {
	t.Helper()
	file := filepath.Join(t.TempDir(), "versions.json")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := catalog.LoadVersions(file)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCatalogWithoutProviderVersion: with a --versions-file, a create's hint names only a
// version the same server then accepts, and only a flag the command has (a compute's
// create has no --kubernetes-version); with no such version it says no cluster can be
// created there; a location the catalog lacks is named as such, not as the empty version
// of an empty list.
func TestCatalogWithoutProviderVersion(t *testing.T) {
	s := newService(t, storetest.OpenSQLite(t), `{}`)
	ctx := context.Background()
	for _, tc := range []struct {
		name, catalog, version, createdFor string
		want, never                        []string // in the error, and not in it ("" want: accepted)
		target                             string
	}{
		{name: "newer versions only", catalog: `{"locations": {"westus": [{"version": "1.38.0", "default": true}, {"version": "1.39.1", "preview": true}]}}`,
			want: []string{"Kubernetes 1.38.0, the default version of westus, is supported there, but the embedded provider runs only 1.37.2, which the version catalog of this server does not list in westus, so no embedded cluster can be created there",
				"mlfleet serve --versions-file"},
			never: []string{"--kubernetes-version"}, target: "properties.kubernetesVersion"},
		{name: "newer versions only, from a compute", catalog: `{"locations": {"westus": [{"version": "1.38.0", "default": true}]}}`, createdFor: "compute",
			want:  []string{"so no embedded cluster can be created there", "attach it ('mlfleet ml computetarget attach aks')"},
			never: []string{"--kubernetes-version"}, target: "properties.kubernetesVersion"},
		{name: "the version it runs, not listed", catalog: `{"locations": {"westus": [{"version": "1.38.0", "default": true}, {"version": "1.39.1", "preview": true}]}}`, version: "1.37.2",
			want: []string{"Kubernetes version 1.37.2 is not supported in westus. Supported versions: 1.38.0, 1.39.1 (preview)."}, target: "properties.kubernetesVersion"},
		{name: "listed but not the default", catalog: `{"locations": {"westus": [{"version": "1.37.2"}, {"version": "1.38.0", "default": true}]}}`,
			want:   []string{"Kubernetes 1.38.0, the default version of westus, is supported there, but the embedded provider runs only 1.37.2; create the cluster with --kubernetes-version 1.37.2"},
			target: "properties.kubernetesVersion"},
		{name: "listed but not the default, from a compute", catalog: `{"locations": {"westus": [{"version": "1.37.2"}, {"version": "1.38.0", "default": true}]}}`, createdFor: "compute",
			want:  []string{"a compute's cluster gets the default version. Create the cluster with 'mlfleet aks create --kubernetes-version 1.37.2' (or az aks create), then attach it with 'mlfleet ml computetarget attach aks'"},
			never: []string{"; create the cluster with --kubernetes-version"}, target: "properties.kubernetesVersion"},
		{name: "the hinted version", catalog: `{"locations": {"westus": [{"version": "1.37.2"}, {"version": "1.38.0", "default": true}]}}`, version: "1.37.2"},
		{name: "no versions for the location", catalog: `{"locations": {"eastus": [{"version": "1.37.2", "default": true}], "northeurope": [{"version": "1.37.2", "default": true}]}}`,
			want:  []string{"The version catalog of this mlfleet server lists no Kubernetes versions for westus, so no cluster can be created there. Create it in a location the catalog lists (eastus, northeurope)"},
			never: []string{"version  is", "versions: ."}, target: "location"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.cfg.Versions = loadCatalog(t, tc.catalog)
			in := clusterInput(1, "Standard_D3_v2")
			in.Properties.KubernetesVersion = tc.version
			_, err := s.Validate(ctx, testSub, testRG, "cat1", in, tc.createdFor)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantBadRequest(t, err, "UnsupportedKubernetesVersion", []string{tc.target}, tc.want[0])
			for _, w := range tc.want[1:] {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q says %q", err, n)
				}
			}
		})
	}
}
