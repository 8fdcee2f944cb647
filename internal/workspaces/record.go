package workspaces

import (
	"encoding/json"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/record"
)

// schema is the version of the stored workspace's format (see package record). Raise it,
// and teach readRecord the version before, when a change of the wire type changes what
// encode writes; TestRecord fails until then.
const schema = 1

// storedWorkspace is a workspace as its row holds it.
type storedWorkspace struct {
	record.Header
	*Workspace
}

// encode returns the row body of ws.
func encode(ws *Workspace) []byte {
	b, _ := json.Marshal(storedWorkspace{Header: record.Header{Schema: schema}, Workspace: ws})
	return b
}

// readRecord reads a row body written by encode, or before record versions.
func readRecord(id string, body []byte) (*Workspace, error) {
	rec := storedWorkspace{Workspace: &Workspace{}}
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, fmt.Errorf("decode workspace %s: %w", id, err)
	}
	if err := rec.Check("workspace", schema); err != nil {
		return nil, fmt.Errorf("decode workspace %s: %w", id, err)
	}
	return rec.Workspace, nil
}
