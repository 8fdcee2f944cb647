package workspaces

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// exampleWorkspace sets every field of a workspace, so that the goldens show each of them.
func exampleWorkspace() *Workspace {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	return &Workspace{
		ID:       "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1",
		Name:     "ws1",
		Type:     "Microsoft.MachineLearningServices/workspaces",
		Location: "westus",
		Tags:     map[string]string{"team": "ml"},
		SystemData: &armapi.SystemData{CreatedAt: at, CreatedBy: "alice", CreatedByType: "User",
			LastModifiedAt: at.Add(time.Hour), LastModifiedBy: "bob", LastModifiedByType: "User"},
		Properties: Properties{ProvisioningState: "Succeeded", FriendlyName: "Workspace 1", Description: "inference",
			WorkspaceID: "6f1c3c7e-0000-4000-8000-000000000001", CreationTime: at.Format(time.RFC3339Nano)},
	}
}

// TestRecordGolden pins what a workspace's row holds, so that a change of the wire type
// cannot change the database's format unnoticed.
func TestRecordGolden(t *testing.T) {
	ws := exampleWorkspace()
	recordtest.AllSet(t, ws)
	recordtest.Golden(t, "testdata/record/workspace.v1.json", encode(ws))
}

// TestRecordReadsEveryVersion reads rows of every format a server wrote: v0 is what servers
// before record versions wrote (the wire body alone).
func TestRecordReadsEveryVersion(t *testing.T) {
	for _, file := range []string{"workspace.v0.json", "workspace.v1.json"} {
		t.Run(file, func(t *testing.T) {
			body, err := os.ReadFile("testdata/record/" + file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readRecord("ws1", body)
			if err != nil {
				t.Fatal(err)
			}
			if want := exampleWorkspace(); !reflect.DeepEqual(got, want) {
				t.Errorf("read %s:\n got %+v\nwant %+v", file, got, want)
			}
		})
	}
}

func TestRecordNewerVersionRefused(t *testing.T) {
	_, err := readRecord("ws1", []byte(`{"schemaVersion":2,"name":"ws1"}`))
	if !errors.Is(err, record.ErrNewerSchema) {
		t.Errorf("read a version 2 row: %v; want ErrNewerSchema", err)
	}
}
