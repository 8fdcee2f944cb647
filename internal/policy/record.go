package policy

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// assignmentRecord is the format of the row of a policy assignment (see package record). When a
// change of the wire type changes what Encode writes, raise its Schema and wrap Read to read
// the version before; TestRecord fails until then.
var assignmentRecord = record.Kind[armapi.PolicyAssignment]{Name: "policy assignment", Schema: 1}
