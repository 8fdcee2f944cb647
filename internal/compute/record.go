package compute

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// computeRecord is the format of the row of a compute (see package record). Raise its
// Schema, and teach readRecord the version before, when a change of the wire type changes
// what encode writes; TestRecord fails until then.
var computeRecord = record.Kind[armapi.Compute]{Name: "compute", Schema: 1}

// encode returns the row body of c.
func encode(c *armapi.Compute) []byte { return computeRecord.Encode(c) }

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*armapi.Compute, error) { return computeRecord.Read(id, body) }
