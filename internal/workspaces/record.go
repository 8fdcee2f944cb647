package workspaces

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// workspaceRecord is the format of the row of a workspace (see package record). Raise its
// Schema, and teach readRecord the version before, when a change of the wire type changes
// what encode writes; TestRecord fails until then.
var workspaceRecord = record.Kind[armapi.Workspace]{Name: "workspace", Schema: 1}

// encode returns the row body of ws.
func encode(ws *armapi.Workspace) []byte { return workspaceRecord.Encode(ws) }

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*armapi.Workspace, error) {
	return workspaceRecord.Read(id, body)
}
