package containerservice

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// clusterRecord is the format of the row of a managed cluster (see package record). When a
// change of the wire type changes what Encode writes, raise its Schema and wrap Read to read
// the version before; TestRecord fails until then.
var clusterRecord = record.Kind[armapi.ManagedCluster]{Name: "managed cluster", Schema: 1}
