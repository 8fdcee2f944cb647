package workspaces

import (
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// exampleWorkspace sets every field of a workspace, so that the goldens show each of them.
func exampleWorkspace() *armapi.Workspace {
	at := recordtest.Time()
	return &armapi.Workspace{
		ID:         "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1",
		Name:       "ws1",
		Type:       "Microsoft.MachineLearningServices/workspaces",
		Location:   "westus",
		Tags:       map[string]string{"team": "ml"},
		SystemData: recordtest.SystemData(),
		Properties: armapi.WorkspaceProperties{ProvisioningState: "Succeeded", FriendlyName: "Workspace 1", Description: "inference",
			WorkspaceID: "6f1c3c7e-0000-4000-8000-000000000001", CreationTime: at.Format(time.RFC3339Nano)},
	}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[armapi.Workspace]{
		Name: "workspace", Schema: workspaceRecord.Schema, Example: exampleWorkspace, Encode: workspaceRecord.Encode,
		Read: func(body []byte) (*armapi.Workspace, error) { return workspaceRecord.Read("ws1", body) },
	})
}
