package containerservice

import (
	"encoding/json"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/record"
)

// schema is the version of the stored cluster's format (see package record). Raise it,
// and teach readRecord the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
const schema = 1

// storedCluster is a managed cluster as its row holds it.
type storedCluster struct {
	record.Header
	*ManagedCluster
}

// encode returns the row body of mc.
func encode(mc *ManagedCluster) []byte {
	b, _ := json.Marshal(storedCluster{Header: record.Header{Schema: schema}, ManagedCluster: mc})
	return b
}

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*ManagedCluster, error) {
	rec := storedCluster{ManagedCluster: &ManagedCluster{}}
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, fmt.Errorf("decode cluster %s: %w", id, err)
	}
	if err := rec.Check("managed cluster", schema); err != nil {
		return nil, fmt.Errorf("decode cluster %s: %w", id, err)
	}
	return rec.ManagedCluster, nil
}
