package compute

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// computeRecord is the format of the row of a compute (see package record). When a change of
// the wire type changes what Encode writes, raise its Schema and wrap Read to read the version
// before; TestRecord fails until then.
var computeRecord = record.Kind[armapi.Compute]{Name: "compute", Schema: 1}
