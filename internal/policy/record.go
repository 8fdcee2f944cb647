package policy

import (
	"encoding/json"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/record"
)

// schema is the version of the stored assignment's format (see package record). Raise it,
// and teach readRecord the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
const schema = 1

// storedAssignment is a policy assignment as its row holds it.
type storedAssignment struct {
	record.Header
	*Assignment
}

// encode returns the row body of a.
func encode(a *Assignment) []byte {
	b, _ := json.Marshal(storedAssignment{Header: record.Header{Schema: schema}, Assignment: a})
	return b
}

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*Assignment, error) {
	rec := storedAssignment{Assignment: &Assignment{}}
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, fmt.Errorf("decode policy assignment %s: %w", id, err)
	}
	if err := rec.Check("policy assignment", schema); err != nil {
		return nil, fmt.Errorf("decode policy assignment %s: %w", id, err)
	}
	return rec.Assignment, nil
}
