package policy

import "github.com/mlfleet/mlfleet/internal/record"

// schema is the version of the stored assignment's format (see package record). Raise it,
// and teach readRecord the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
const schema = 1

// assignmentRecord is the format of the row of a policy assignment.
var assignmentRecord = record.Kind[Assignment]{Name: "policy assignment", Schema: schema}

// encode returns the row body of a.
func encode(a *Assignment) []byte { return assignmentRecord.Encode(a) }

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*Assignment, error) { return assignmentRecord.Read(id, body) }
