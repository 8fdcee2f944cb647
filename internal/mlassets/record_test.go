package mlassets

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// The examples set every field, so that the goldens show each of them (a version has the
// fields of every kind here, which the API never accepts together).

const exampleContainerID = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/models/m1"

func exampleBase() AssetBase {
	return AssetBase{Description: "model", Tags: map[string]string{"a": "b"}, Properties: map[string]string{"c": "d"}, IsArchived: true}
}

func exampleVersion() *Version {
	route := func(p string) *Route { return &Route{Path: p, Port: 5001} }
	return &Version{ID: exampleContainerID + "/versions/1", Name: "1", Type: Models.VersionType(),
		Properties: VersionProperties{AssetBase: exampleBase(), IsAnonymous: true, ModelType: ModelTypeCustom, ModelURI: "azureml://blobs/sha256/0a1b",
			CodeURI: "azureml://blobs/sha256/2c3d", Image: "python:3.12", EnvironmentType: "UserCreated", OSType: "Linux",
			CondaFile:       "name: env",
			InferenceConfig: &InferenceConfig{LivenessRoute: route("/live"), ReadinessRoute: route("/ready"), ScoringRoute: route("/score")},
			Build:           map[string]any{"path": "docker"}, ProvisioningState: StateSucceeded},
		SystemData: recordtest.SystemData()}
}

func exampleContainer() *Container {
	return &Container{ID: exampleContainerID, Name: "m1", Type: Models.ContainerType(),
		Properties: ContainerProperties{AssetBase: exampleBase(), LatestVersion: "1", NextVersion: "2", ProvisioningState: StateSucceeded},
		SystemData: recordtest.SystemData()}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[Version]{
		Name: "assetversion", Schema: versionRecord.Schema, Example: exampleVersion, Encode: encode[Version], Read: read[Version],
		// Lists serve a row of every version as the wire body alone.
		Served: func(t *testing.T, file string, body []byte) {
			var v0 bytes.Buffer
			if err := json.Compact(&v0, testutil.ReadFile(t, "testdata/record/assetversion.v0.json")); err != nil {
				t.Fatal(err)
			}
			if w, err := wire[Version](&store.Resource{ID: file, Body: body}); err != nil || !bytes.Equal(w, v0.Bytes()) {
				t.Errorf("list serves %s as %s (%v); want %s", file, w, err, v0.Bytes())
			}
		},
	})
	recordtest.Run(t, recordtest.Kind[Container]{
		Name: "assetcontainer", Schema: containerRecord.Schema, Example: exampleContainer, Encode: encode[Container], Read: read[Container]})
}

// read reads a row body into a new T.
func read[T row](body []byte) (*T, error) {
	v := new(T)
	return v, decode(&store.Resource{ID: "row", Body: body}, v)
}
