package cli

import (
	"encoding/json"
	"testing"
)

// TestAssetTable: az ml's shape (azmlAssets) of a version's row names the asset from its id and the version from its
// name; a container's row (model list, environment list) names the asset and its latest
// version.
func TestAssetTable(t *testing.T) {
	const ws = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"model containers", []any{
			map[string]any{"id": ws + "/models/m1", "name": "m1", "properties": map[string]any{"latestVersion": "3"}},
			map[string]any{"id": ws + "/models/m2", "name": "m2", "properties": map[string]any{"latestVersion": "1"}},
		}, `[{"Name":"m1","Version":"3","Type":null,"Uri":null},{"Name":"m2","Version":"1","Type":null,"Uri":null}]`},
		{"environment container", map[string]any{"id": ws + "/environments/e1", "name": "e1", "properties": map[string]any{"latestVersion": "2"}},
			`[{"Name":"e1","Version":"2","Type":null,"Uri":null}]`},
		{"model version", map[string]any{"id": ws + "/models/m1/versions/3", "name": "3",
			"properties": map[string]any{"modelType": "custom_model", "modelUri": "mlfleet://blobs/abc"}},
			`[{"Name":"m1","Version":"3","Type":"custom_model","Uri":"mlfleet://blobs/abc"}]`},
		{"environment version", map[string]any{"id": ws + "/environments/e1/versions/2", "name": "2", "properties": map[string]any{"image": "python:3.12"}},
			`[{"Name":"e1","Version":"2","Type":null,"Uri":"python:3.12"}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			shaped, err := azmlAssets(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(assetTable(shaped))
			if err != nil || string(got) != tc.want {
				t.Errorf("got %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}
