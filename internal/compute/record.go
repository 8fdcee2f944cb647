package compute

import "github.com/mlfleet/mlfleet/internal/record"

// schema is the version of the stored compute's format (see package record). Raise it,
// and teach readRecord the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
const schema = 1

// computeRecord is the format of the row of a compute.
var computeRecord = record.Kind[Compute]{Name: "compute", Schema: schema}

// encode returns the row body of c.
func encode(c *Compute) []byte { return computeRecord.Encode(c) }

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*Compute, error) { return computeRecord.Read(id, body) }
