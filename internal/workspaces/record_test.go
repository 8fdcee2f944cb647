package workspaces

import (
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
)

// exampleWorkspace sets every field of a workspace, so that the goldens show each of them.
func exampleWorkspace() *Workspace {
	at := recordtest.Time()
	return &Workspace{
		ID:         "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1",
		Name:       "ws1",
		Type:       "Microsoft.MachineLearningServices/workspaces",
		Location:   "westus",
		Tags:       map[string]string{"team": "ml"},
		SystemData: recordtest.SystemData(),
		Properties: Properties{ProvisioningState: "Succeeded", FriendlyName: "Workspace 1", Description: "inference",
			WorkspaceID: "6f1c3c7e-0000-4000-8000-000000000001", CreationTime: at.Format(time.RFC3339Nano)},
	}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[Workspace]{
		Name: "workspace", Schema: workspaceRecord.Schema, Example: exampleWorkspace, Encode: encode,
		Read: func(body []byte) (*Workspace, error) { return readRecord("ws1", body) },
	})
}
