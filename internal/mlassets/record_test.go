package mlassets

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The examples set every field, so that the goldens show each of them (a version has the
// fields of every kind here, which the API never accepts together).

func exampleSystemData() *armapi.SystemData {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	return &armapi.SystemData{CreatedAt: at, CreatedBy: "alice", CreatedByType: "User",
		LastModifiedAt: at.Add(time.Hour), LastModifiedBy: "bob", LastModifiedByType: "User"}
}

const exampleContainerID = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1/models/m1"

func exampleVersion() *Version {
	route := func(p string) *Route { return &Route{Path: p, Port: 5001} }
	return &Version{ID: exampleContainerID + "/versions/1", Name: "1", Type: Models.VersionType(),
		Properties: VersionProperties{Description: "model", Tags: map[string]string{"a": "b"}, Properties: map[string]string{"c": "d"},
			IsArchived: true, IsAnonymous: true, ModelType: ModelTypeCustom, ModelURI: "azureml://blobs/sha256/0a1b",
			CodeURI: "azureml://blobs/sha256/2c3d", Image: "python:3.12", EnvironmentType: "UserCreated", OSType: "Linux",
			CondaFile:       "name: env",
			InferenceConfig: &InferenceConfig{LivenessRoute: route("/live"), ReadinessRoute: route("/ready"), ScoringRoute: route("/score")},
			Build:           map[string]any{"path": "docker"}, ProvisioningState: StateSucceeded},
		SystemData: exampleSystemData()}
}

func exampleContainer() *Container {
	return &Container{ID: exampleContainerID, Name: "m1", Type: Models.ContainerType(),
		Properties: ContainerProperties{Description: "model", Tags: map[string]string{"a": "b"}, Properties: map[string]string{"c": "d"},
			IsArchived: true, LatestVersion: "1", NextVersion: "2", ProvisioningState: StateSucceeded},
		SystemData: exampleSystemData()}
}

// TestRecordGolden pins what the rows of asset versions and containers hold, so that a
// change of the wire types cannot change the database's format unnoticed.
func TestRecordGolden(t *testing.T) {
	v, c := exampleVersion(), exampleContainer()
	recordtest.AllSet(t, v)
	recordtest.AllSet(t, c)
	recordtest.Golden(t, "testdata/record/assetversion.v1.json", encode(v))
	recordtest.Golden(t, "testdata/record/assetcontainer.v1.json", encode(c))
}

// TestRecordReadsEveryVersion reads rows of every format a server wrote (v0 is what servers
// before record versions wrote: the wire body alone), and lists serve them as that.
func TestRecordReadsEveryVersion(t *testing.T) {
	for _, v := range []string{"v0", "v1"} {
		t.Run(v, func(t *testing.T) {
			vr := readRow(t, "testdata/record/assetversion."+v+".json")
			var got Version
			if err := decode(vr, &got); err != nil {
				t.Fatal(err)
			}
			if want := exampleVersion(); !reflect.DeepEqual(&got, want) {
				t.Errorf("read version %s:\n got %+v\nwant %+v", v, got, want)
			}
			cr := readRow(t, "testdata/record/assetcontainer."+v+".json")
			var c Container
			if err := decode(cr, &c); err != nil {
				t.Fatal(err)
			}
			if want := exampleContainer(); !reflect.DeepEqual(&c, want) {
				t.Errorf("read container %s:\n got %+v\nwant %+v", v, c, want)
			}
			v0 := compact(t, "testdata/record/assetversion.v0.json")
			if w, err := wire[Version](vr); err != nil || !bytes.Equal(w, v0) {
				t.Errorf("list serves version %s as %s (%v); want %s", v, w, err, v0)
			}
		})
	}
}

func TestRecordNewerVersionRefused(t *testing.T) {
	r := &store.Resource{ID: "m1", Body: []byte(`{"schemaVersion":2,"name":"x"}`)}
	if err := decode(r, &Version{}); !errors.Is(err, record.ErrNewerSchema) {
		t.Errorf("read a version 2 asset version: %v; want ErrNewerSchema", err)
	}
	if err := decode(r, &Container{}); !errors.Is(err, record.ErrNewerSchema) {
		t.Errorf("read a version 2 asset container: %v; want ErrNewerSchema", err)
	}
}

func readRow(t *testing.T, path string) *store.Resource {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &store.Resource{ID: path, Body: b}
}

func compact(t *testing.T, path string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, readRow(t, path).Body); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
