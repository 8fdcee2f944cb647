package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mlfleet/mlfleet/internal/output"
)

// The expected values are what az 2.x (Debian's azure-cli) printed for the same objects
// served by mlfleet.
func TestAZShape(t *testing.T) {
	cluster := `{
		"id": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1",
		"name": "c1", "type": "Microsoft.ContainerService/ManagedClusters", "location": "westus",
		"systemData": {"createdAt": "2026-11-30T11:26:43.876093149Z", "lastModifiedAt": "2026-11-30T11:30:26Z", "createdBy": "u"},
		"tags": {"enableRBAC": "a tag keeps its name"},
		"properties": {
			"provisioningState": "Succeeded", "enableRBAC": true, "privateFQDN": "p.example",
			"apiServerAccessProfile": {"authorizedIPRanges": ["8.8.8.8/32"], "enablePrivateCluster": false},
			"networkProfile": {"dnsServiceIP": "10.0.0.10", "podCidr": "10.244.0.0/16"},
			"agentPoolProfiles": [{"name": "nodepool1", "count": 1, "type": "VirtualMachineScaleSets", "vnetSubnetID": "/x"}],
			"autoScalerProfile": {"scan-interval": "30s", "expander": "random", "daemonset-eviction-for-empty-nodes": false},
			"mlfleet": {"provider": "embedded"}
		}
	}`
	wantCluster := map[string]any{
		"id":                "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1",
		"name":              "c1",
		"type":              "Microsoft.ContainerService/ManagedClusters",
		"location":          "westus",
		"resourceGroup":     "rg1",
		"systemData":        map[string]any{"createdAt": "2026-11-30T11:26:43.876093+00:00", "lastModifiedAt": "2026-11-30T11:30:26+00:00", "createdBy": "u"},
		"tags":              map[string]any{"enableRBAC": "a tag keeps its name"},
		"provisioningState": "Succeeded", "enableRbac": true, "privateFqdn": "p.example",
		"apiServerAccessProfile": map[string]any{"authorizedIpRanges": []any{"8.8.8.8/32"}, "enablePrivateCluster": false},
		"networkProfile":         map[string]any{"dnsServiceIp": "10.0.0.10", "podCidr": "10.244.0.0/16"},
		"agentPoolProfiles":      []any{map[string]any{"name": "nodepool1", "count": 1.0, "type": "VirtualMachineScaleSets", "vnetSubnetId": "/x"}},
		"autoScalerProfile":      map[string]any{"scanInterval": "30s", "expander": "random", "daemonset-eviction-for-empty-nodes": false},
		"mlfleet":                map[string]any{"provider": "embedded"},
	}
	pool := `{
		"id": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/nodepool1",
		"name": "nodepool1", "type": "Microsoft.ContainerService/managedClusters/agentPools",
		"properties": {"count": 1, "type": "VirtualMachineScaleSets", "provisioningState": "Succeeded",
			"osSKU": "Ubuntu", "osDiskType": "Managed", "enableNodePublicIP": false, "enableEncryptionAtHost": false}
	}`
	wantPool := map[string]any{
		"id":                 "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/nodepool1",
		"name":               "nodepool1",
		"type":               "Microsoft.ContainerService/managedClusters/agentPools",
		"resourceGroup":      "rg1",
		"count":              1.0,
		"typePropertiesType": "VirtualMachineScaleSets",
		"provisioningState":  "Succeeded",
		"osSku":              "Ubuntu", "osDiskType": "Managed", "enableNodePublicIp": false, "enableEncryptionAtHost": false,
	}

	for _, tc := range []struct {
		name  string
		shape func(any) (any, error)
		in    string
		want  any
	}{
		{"cluster", azClusters, cluster, wantCluster},
		{"list of clusters", azClusters, "[" + cluster + "," + cluster + "]", []any{wantCluster, wantCluster}},
		{"agent pool", azPools, pool, wantPool},
		{"no properties", azClusters, `{"name": "x"}`, map[string]any{"name": "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.shape(json.RawMessage(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			// The nulls of the attributes the server left out are TestAZShapeTSV's.
			if got = withoutNulls(got); !reflect.DeepEqual(got, tc.want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				t.Errorf("got\n%s", g)
			}
		})
	}
}

// TestAZShapeTSV: -o tsv of a cluster and of an agent pool has az's columns, a field for
// every attribute of az's SDK model even when the server did not send it, and none for
// mlfleet's own additions. The .json files are what mlfleet served, the .az.tsv files what
// az 2.45 printed for them (az aks show, az aks nodepool show).
func TestAZShapeTSV(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape func(any) (any, error)
		list  bool
	}{
		{"cluster", azClusters, false},
		{"cluster", azClusters, true},
		{"agentpool", azPools, false},
		{"agentpool", azPools, true},
	} {
		t.Run(fmt.Sprintf("%s list=%v", tc.name, tc.list), func(t *testing.T) {
			served, err := os.ReadFile(filepath.Join("testdata", "azshape", tc.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "azshape", tc.name+".az.tsv"))
			if err != nil {
				t.Fatal(err)
			}
			in := json.RawMessage(served)
			if tc.list {
				in = json.RawMessage("[" + string(served) + "," + string(served) + "]")
				want = append(want, want...)
			}
			shaped, err := tc.shape(in)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := output.Print(&got, shaped, output.Options{Format: "tsv", Extensions: azExtensions}); err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("mlfleet printed\n%q\naz printed\n%q", got.String(), want)
			}
		})
	}
}

// withoutNulls returns v without the null members of its objects.
func withoutNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			if x != nil {
				out[k] = withoutNulls(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = withoutNulls(x)
		}
		return out
	}
	return v
}
