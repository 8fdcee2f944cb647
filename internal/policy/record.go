package policy

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// assignmentRecord is the format of the row of a policy assignment (see package record).
// Raise its Schema, and teach readRecord the version before, when a change of the wire
// type changes what encode writes; TestRecord fails until then.
var assignmentRecord = record.Kind[armapi.PolicyAssignment]{Name: "policy assignment", Schema: 1}

// encode returns the row body of a.
func encode(a *armapi.PolicyAssignment) []byte { return assignmentRecord.Encode(a) }

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*armapi.PolicyAssignment, error) {
	return assignmentRecord.Read(id, body)
}
