package workspaces

import "github.com/mlfleet/mlfleet/internal/record"

// schema is the version of the stored workspace's format (see package record). Raise it,
// and teach readRecord the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
const schema = 1

// workspaceRecord is the format of the row of a workspace.
var workspaceRecord = record.Kind[Workspace]{Name: "workspace", Schema: schema}

// encode returns the row body of ws.
func encode(ws *Workspace) []byte { return workspaceRecord.Encode(ws) }

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*Workspace, error) { return workspaceRecord.Read(id, body) }
