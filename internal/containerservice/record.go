package containerservice

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// clusterRecord is the format of the row of a managed cluster (see package record). Raise
// its Schema, and teach readRecord the version before, when a change of the wire type
// changes what encode writes; TestRecord fails until then.
var clusterRecord = record.Kind[armapi.ManagedCluster]{Name: "managed cluster", Schema: 1}

// encode returns the row body of mc.
func encode(mc *armapi.ManagedCluster) []byte { return clusterRecord.Encode(mc) }

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*armapi.ManagedCluster, error) {
	return clusterRecord.Read(id, body)
}
