package mlassets

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The examples set every field, so that the goldens show each of them (a version has the
// fields of every kind here, which the API never accepts together).

const exampleContainerID = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/models/m1"

func exampleBase() armapi.AssetBase {
	return armapi.AssetBase{Description: "model", Tags: map[string]string{"a": "b"}, Properties: map[string]string{"c": "d"}, IsArchived: true}
}

func exampleVersion() *armapi.AssetVersion {
	route := func(p string) *armapi.InferenceRoute { return &armapi.InferenceRoute{Path: p, Port: 5001} }
	return &armapi.AssetVersion{ID: exampleContainerID + "/versions/1", Name: "1", Type: Models.VersionType(),
		Properties: armapi.AssetVersionProperties{AssetBase: exampleBase(), IsAnonymous: true, ModelType: ModelTypeCustom, ModelURI: "azureml://blobs/sha256/0a1b",
			CodeURI: "azureml://blobs/sha256/2c3d", Image: "python:3.12", EnvironmentType: "UserCreated", OSType: "Linux",
			CondaFile:       "name: env",
			InferenceConfig: &armapi.InferenceConfig{LivenessRoute: route("/live"), ReadinessRoute: route("/ready"), ScoringRoute: route("/score")},
			Build:           map[string]any{"path": "docker"}, ProvisioningState: armapi.StateSucceeded},
		SystemData: recordtest.SystemData()}
}

func exampleContainer() *armapi.AssetContainer {
	return &armapi.AssetContainer{ID: exampleContainerID, Name: "m1", Type: Models.ContainerType(),
		Properties: armapi.AssetContainerProperties{AssetBase: exampleBase(), LatestVersion: "1", NextVersion: "2", ProvisioningState: armapi.StateSucceeded},
		SystemData: recordtest.SystemData()}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[armapi.AssetVersion]{
		Name: "assetversion", Schema: versionRecord.Schema, Example: exampleVersion, Encode: encode[armapi.AssetVersion], Read: read[armapi.AssetVersion],
		// Lists serve a row of every version as the wire body alone.
		Served: func(t *testing.T, file string, body []byte) {
			var v0 bytes.Buffer
			if err := json.Compact(&v0, testutil.ReadFile(t, "testdata/record/assetversion.v0.json")); err != nil {
				t.Fatal(err)
			}
			if w, err := wire[armapi.AssetVersion](&store.Resource{ID: file, Body: body}); err != nil || !bytes.Equal(w, v0.Bytes()) {
				t.Errorf("list serves %s as %s (%v); want %s", file, w, err, v0.Bytes())
			}
		},
	})
	recordtest.Run(t, recordtest.Kind[armapi.AssetContainer]{
		Name: "assetcontainer", Schema: containerRecord.Schema, Example: exampleContainer, Encode: encode[armapi.AssetContainer], Read: read[armapi.AssetContainer]})
}

// read reads a row body into a new T.
func read[T row](body []byte) (*T, error) {
	v := new(T)
	return v, decode(&store.Resource{ID: "row", Body: body}, v)
}
