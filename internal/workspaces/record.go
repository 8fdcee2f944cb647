package workspaces

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// workspaceRecord is the format of the row of a workspace (see package record). When a change
// of the wire type changes what Encode writes, raise its Schema and wrap Read to read the
// version before; TestRecord fails until then.
var workspaceRecord = record.Kind[armapi.Workspace]{Name: "workspace", Schema: 1}
