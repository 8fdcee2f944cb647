package compute

import (
	"encoding/json"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/record"
)

// schema is the version of the stored compute's format (see package record). Raise it,
// and teach readRecord the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
const schema = 1

// storedCompute is a compute as its row holds it.
type storedCompute struct {
	record.Header
	*Compute
}

// encode returns the row body of c.
func encode(c *Compute) []byte {
	b, _ := json.Marshal(storedCompute{Header: record.Header{Schema: schema}, Compute: c})
	return b
}

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*Compute, error) {
	rec := storedCompute{Compute: &Compute{}}
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, fmt.Errorf("decode compute %s: %w", id, err)
	}
	if err := rec.Check("compute", schema); err != nil {
		return nil, fmt.Errorf("decode compute %s: %w", id, err)
	}
	return rec.Compute, nil
}
